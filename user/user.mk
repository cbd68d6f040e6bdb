# SPDX-License-Identifier: GPL-2.0
#
# rxdpctl, the loader, and bench-xdp.  Included by the top Makefile after
# bpf/bpf.mk (for the skeletons); the top Makefile provides BUILD, CC,
# CFLAGS, Q and msg.
#
# Provides:
#   rxdpctl		$(BUILD)/rxdpctl, part of "build"
#   bench-xdp		$(BUILD)/bench-xdp (scripts/bench-xdp runs it)

RXDPCTL_SRCS := user/rxdpctl.c user/attach.c user/pins.c user/rdma_nl.c
USER_HDRS := $(wildcard user/*.h) $(wildcard include/uapi/*.h)
USER_LIBS := $(or $(shell pkg-config --libs libxdp libbpf 2>/dev/null),-lxdp -lbpf -lelf -lz)

$(BUILD)/rxdpctl: $(RXDPCTL_SRCS) $(USER_HDRS) $(BUILD)/rxdp.skel.h $(BUILD)/bind.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Iuser -o $@ $(RXDPCTL_SRCS) $(USER_LIBS)

$(BUILD)/bench-xdp: user/bench_xdp.c $(USER_HDRS) $(BUILD)/rxdp.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(USER_LIBS)

.PHONY: rxdpctl bench-xdp
rxdpctl: $(BUILD)/rxdpctl
bench-xdp: $(BUILD)/bench-xdp
build: rxdpctl bench-xdp

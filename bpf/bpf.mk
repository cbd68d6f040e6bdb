# SPDX-License-Identifier: GPL-2.0
#
# The XDP program: vmlinux.h, the BPF objects and their skeletons.
# Included by the top Makefile, which provides TOP, BUILD, KDIR, CC, CLANG,
# BPFTOOL, Q and msg.  Everything goes under $(BUILD).
#
# Provides:
#   BPF_SKELS	the skeleton headers ($(BUILD)/<name>.skel.h); users of a
#		skeleton depend on them and have -I$(BUILD)
#   BPF_LIBS	what a program using a skeleton links with
#
# VMLINUX_H=path uses that vmlinux.h instead of generating one from the
# BTF of $(KDIR)/vmlinux (or of the running kernel when KDIR has none).

VMLINUX_BTF ?= $(firstword $(wildcard $(KDIR)/vmlinux) /sys/kernel/btf/vmlinux)

# bpf/ has the programs rxdp ships, selftests/bpf/ those only tests load
BPF_SRCS  := $(wildcard bpf/*.bpf.c selftests/bpf/*.bpf.c)
BPF_HDRS  := $(wildcard bpf/*.h include/*.h include/uapi/*.h)
BPF_OBJS  := $(patsubst %.bpf.c,$(BUILD)/bpf/%.bpf.o,$(notdir $(BPF_SRCS)))
BPF_SKELS := $(patsubst %.bpf.c,$(BUILD)/%.skel.h,$(notdir $(BPF_SRCS)))
BPF_LIBS  := $(or $(shell pkg-config --libs libbpf 2>/dev/null),-lbpf -lelf -lz)

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 \
	-Wall -Wextra -Werror \
	-I$(BUILD) -I$(BUILD)/bpf -I$(TOP)/include -I$(TOP)/bpf

# vmlinux.h depends on the kernel, not on the tree: never committed.
$(BUILD)/vmlinux.h: $(if $(VMLINUX_H),$(VMLINUX_H),$(VMLINUX_BTF))
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
ifneq ($(VMLINUX_H),)
	$(Q)cp $(VMLINUX_H) $@
else
	$(Q)$(BPFTOOL) btf dump file $< format c > $@
endif

# The CRC-32 tables of the ICRC, computed by a host program.
$(BUILD)/bpf/gen_crc32table: bpf/gen_crc32table.c
	$(call msg,HOSTCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -Wall -Wextra -Werror -o $@ $<

$(BUILD)/bpf/crc32table.h: $(BUILD)/bpf/gen_crc32table
	$(call msg,GEN,$@)
	$(Q)$< > $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(BUILD)/vmlinux.h \
		$(BUILD)/bpf/crc32table.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%.bpf.o: selftests/bpf/%.bpf.c $(BPF_HDRS) $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

.PHONY: bpf-progs
bpf-progs: $(BPF_SKELS)

# Reached only through the pattern rules, but worth keeping: not intermediate.
.SECONDARY: $(BPF_OBJS)

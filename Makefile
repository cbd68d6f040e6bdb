# SPDX-License-Identifier: GPL-2.0
#
# rxdp: build the module, the XDP programs, rxdpctl and the selftests;
# run the demo and the tests.  V=1 shows full commands.

.DELETE_ON_ERROR:
.DEFAULT_GOAL := all

TOP	:= $(CURDIR)
BUILD	:= $(TOP)/build

# The kernel the module is built for: the running one when its headers are
# installed, else Debian's generic 6.12 (which the VM boots).
DEBIAN_KDIR := $(lastword $(sort $(wildcard /usr/src/linux-headers-6.12.*-amd64)))
RUNNING_KDIR := /lib/modules/$(shell uname -r)/build
KDIR	?= $(if $(wildcard $(RUNNING_KDIR)/Makefile),$(RUNNING_KDIR),$(DEBIAN_KDIR))
KVER	:= $(patsubst linux-headers-%,%,$(notdir $(realpath $(KDIR))))

# native: run module tests on this machine; vm: under QEMU; auto: native
# when this kernel can load modules and KDIR is its own.
RUN	?= auto

ifeq ($(V),1)
Q	:=
msg	:=
else
Q	:= @
msg	= @printf '  %-8s %s\n' '$(1)' '$(patsubst $(TOP)/%,%,$(2))';
endif

CC	:= gcc
CLANG	?= clang
BPFTOOL	?= bpftool
CFLAGS	:= -std=gnu11 -O2 -g -Wall -Wextra -Werror -I$(TOP)/include -I$(BUILD)
LDLIBS_BPF := $(shell pkg-config --libs libbpf libxdp 2>/dev/null)

# --- kernel module --------------------------------------------------------
KMOD_SRCS := $(wildcard kmod/*.c kmod/*.h kmod/Kbuild include/*.h include/uapi/*.h)
ULP_SRCS := $(wildcard selftests/kmod/*.c selftests/kmod/Kbuild)
ULP_KO	:= $(BUILD)/ulp/$(KVER)/rxdp_ulp_test.ko

kmod/rxdp.ko: $(KMOD_SRCS)
	$(call msg,KMOD,$@ [$(KVER)])
	$(Q)$(MAKE) -C $(KDIR) M=$(TOP)/kmod W=1 $(if $(V),,-s) modules

# The same module for the test bed's debug kernel, built from a copy of
# the sources (an external module build writes next to them), against the
# tree scripts/debug-kernel builds or finds in its cache.
DEBUG_KMOD := $(BUILD)/debug/kmod

kmod-debug: $(KMOD_SRCS) $(ULP_SRCS)
	$(Q)tree=$$(scripts/debug-kernel) && \
	mkdir -p $(DEBUG_KMOD) $(BUILD)/debug/include/uapi && \
	cp -p kmod/*.c kmod/*.h kmod/Kbuild $(DEBUG_KMOD)/ && \
	cp -p include/*.h $(BUILD)/debug/include/ && \
	cp -p include/uapi/*.h $(BUILD)/debug/include/uapi/ && \
	if [ "$$(cat $(DEBUG_KMOD)/.tree 2>/dev/null)" != "$$tree" ]; then \
		rm -f $(DEBUG_KMOD)/rxdp.ko; echo "$$tree" >$(DEBUG_KMOD)/.tree; fi && \
	printf '  %-8s %s\n' KMOD "build/debug/kmod/rxdp.ko [$$(cat $$tree/.release)]" && \
	$(MAKE) -C $$tree M=$(DEBUG_KMOD) W=1 $(if $(V),,-s) modules && \
	ulp=$(BUILD)/ulp/$$(cat $$tree/.release) && mkdir -p $$ulp && \
	cp -p $(ULP_SRCS) $$ulp/ && \
	$(MAKE) -C $$tree M=$$ulp W=1 $(if $(V),,-s) modules

# The selftests' kernel ULP (selftests/kmod), built per kernel into
# build/ulp/<release>/ from a copy of its sources, as vm_ulp looks for it;
# kmod-debug builds the debug kernel's.
$(ULP_KO): $(ULP_SRCS)
	$(call msg,KMOD,$@ [$(KVER)])
	$(Q)mkdir -p $(@D) && cp -p $(ULP_SRCS) $(@D)/
	$(Q)$(MAKE) -C $(KDIR) M=$(@D) W=1 $(if $(V),,-s) modules

# --- kselftest harness, taken from Debian's linux-source ------------------
KSRC_TAR ?= $(lastword $(sort $(wildcard /usr/src/linux-source-6.12*.tar.xz)))
KSFT	:= $(BUILD)/ksft
# -Wextra trips over the harness itself: it setjmp()s around fixtures, has
# unused handler arguments, and compares whatever types a test hands it
KSFT_CFLAGS := -Wno-clobbered -Wno-unused-parameter -Wno-sign-compare

$(KSFT)/kselftest_harness.h: $(KSRC_TAR)
	$(call msg,EXTRACT,$@)
	$(Q)mkdir -p $(KSFT)
	$(Q)tar -xJf $< -C $(KSFT) --strip-components=4 \
		--wildcards '*/tools/testing/selftests/kselftest.h' \
		'*/tools/testing/selftests/kselftest_harness.h'
	$(Q)touch $@

# --- selftests -------------------------------------------------------------
# vm_*: need the module (run in the VM or natively); host_*: run here.
VM_TESTS   := $(patsubst selftests/%.c,$(BUILD)/selftests/%,$(wildcard selftests/vm_*.c))
HOST_TESTS := $(patsubst selftests/%.c,$(BUILD)/selftests/%,$(wildcard selftests/host_*.c)) \
	      $(patsubst selftests/%.sh,$(BUILD)/selftests/%,$(wildcard selftests/host_*.sh))
TEST_LIB   := $(wildcard selftests/lib/*.c)
TEST_HDRS  := $(wildcard selftests/lib/*.h include/uapi/*.h) user/roce_frame.h \
	      user/qp_maps.h

# The XDP program and the loader (they use the variables above).
include bpf/bpf.mk
include user/user.mk

$(BUILD)/selftests/%: selftests/%.c $(TEST_LIB) $(TEST_HDRS) \
		$(KSFT)/kselftest_harness.h $(BPF_SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(KSFT_CFLAGS) -I$(KSFT) -Iselftests/lib -Iuser -o $@ $< $(TEST_LIB) \
		-libverbs -lpthread $(BPF_LIBS)

$(BUILD)/selftests/%: selftests/%.sh
	$(call msg,INSTALL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)install -m 755 $< $@

# --- top-level targets -----------------------------------------------------
.PHONY: all deps build kmod kmod-debug selftests check demo bench clean

# The packages come first: KDIR and the harness are looked up after them.
all check demo bench: deps
	$(Q)$(MAKE) --no-print-directory _$@

deps:
	$(Q)scripts/deps.sh

.PHONY: _all _check _demo _bench
_all: build
build: kmod bpf-progs selftests
kmod: kmod/rxdp.ko
selftests: $(VM_TESTS) $(HOST_TESTS) $(ULP_KO)

_check: build
	$(Q)KDIR=$(KDIR) KVER=$(KVER) RUN=$(RUN) scripts/check

_demo: build
	$(Q)KDIR=$(KDIR) KVER=$(KVER) RUN=$(RUN) scripts/demo

_bench: build
	$(Q)KDIR=$(KDIR) KVER=$(KVER) RUN=$(RUN) scripts/bench

clean:
	$(Q)$(MAKE) -C $(KDIR) M=$(TOP)/kmod -s clean 2>/dev/null || true
	$(Q)rm -rf $(BUILD)

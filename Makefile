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
# tree scripts/debug-kernel builds or finds in its cache; with the test
# ULP, added to the installed collection (modules/<release>/) when there is one.
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
	$(MAKE) -C $$tree M=$$ulp W=1 $(if $(V),,-s) modules && \
	if [ -d $(KSFT_INSTALL)/rxdp ]; then $(MAKE) --no-print-directory \
		$(if $(V),,-s) -C selftests install INSTALL_PATH=$(KSFT_INSTALL); fi

# The selftests' kernel ULP (selftests/kmod), built per kernel into
# build/ulp/<release>/ from a copy of its sources (installed beside the
# tests in modules/<release>/); kmod-debug builds the debug kernel's.
$(ULP_KO): $(ULP_SRCS)
	$(call msg,KMOD,$@ [$(KVER)])
	$(Q)mkdir -p $(@D) && cp -p $(ULP_SRCS) $(@D)/
	$(Q)$(MAKE) -C $(KDIR) M=$(@D) W=1 $(if $(V),,-s) modules

# --- kselftest harness, taken from Debian's linux-source ------------------
KSRC_TAR ?= $(lastword $(sort $(wildcard /usr/src/linux-source-6.12*.tar.xz)))
KSFT	:= $(BUILD)/ksft
# The harness headers, lib.mk (selftests/Makefile includes it) and the
# runner that the kernel's selftests install puts around a collection.
KSFT_FILES := kselftest.h kselftest_harness.h lib.mk run_kselftest.sh \
	$(addprefix kselftest/,runner.sh prefix.pl module.sh ktap_helpers.sh ksft.py)

$(addprefix $(KSFT)/,$(KSFT_FILES)) &: $(KSRC_TAR)
	$(call msg,EXTRACT,$(KSFT))
	$(Q)mkdir -p $(KSFT)
	$(Q)tar -xJf $< -C $(KSFT) --strip-components=4 --wildcards \
		$(patsubst %,'*/tools/testing/selftests/%',$(KSFT_FILES))
	$(Q)cd $(KSFT) && touch $(KSFT_FILES)

# --- selftests -------------------------------------------------------------
# selftests/Makefile is a kselftest collection: built into build/selftests
# and installed, with the kernel's runner, into build/kselftest_install,
# from where "make check" runs it.
KSFT_INSTALL := $(BUILD)/kselftest_install

# The XDP program and the loader (they use the variables above).
include bpf/bpf.mk
include user/user.mk

# What the tests need besides themselves (selftests/Makefile on its own
# has them built through this target).
selftests-deps: $(addprefix $(KSFT)/,$(KSFT_FILES)) $(BPF_SKELS) \
		$(BUILD)/rxdpctl kmod/rxdp.ko $(ULP_KO)

# --- top-level targets -----------------------------------------------------
.PHONY: all deps build kmod kmod-debug selftests selftests-deps check demo bench clean

# The packages come first: KDIR and the harness are looked up after them.
all check demo bench: deps
	$(Q)$(MAKE) --no-print-directory _$@

deps:
	$(Q)scripts/deps.sh

.PHONY: _all _check _demo _bench
_all: build
build: kmod bpf-progs selftests
kmod: kmod/rxdp.ko
# (-s: lib.mk's install shows its rsync commands)
selftests: selftests-deps
	$(Q)$(MAKE) --no-print-directory $(if $(V),,-s) -C selftests install \
		INSTALL_PATH=$(KSFT_INSTALL)

_check: build
	$(Q)KDIR=$(KDIR) KVER=$(KVER) RUN=$(RUN) scripts/check

_demo: build
	$(Q)KDIR=$(KDIR) KVER=$(KVER) RUN=$(RUN) scripts/demo

_bench: build
	$(Q)KDIR=$(KDIR) KVER=$(KVER) RUN=$(RUN) scripts/bench

clean:
	$(Q)$(MAKE) -C $(KDIR) M=$(TOP)/kmod -s clean 2>/dev/null || true
	$(Q)rm -rf $(BUILD)

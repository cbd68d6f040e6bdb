#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test bed's own judges, on known input: kconfig-check (the debug
# kernel's configuration is what kernel/debug.config asks), kmemleak-ours
# (which leaks are rxdp's) and kmsg-scan (which kernel log lines fail a
# run, the debug kernel's reports among them).  KTAP on stdout.
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ -x "$here/kmsg-scan" ]; then
	# installed: the judges and the fragment are beside this script
	judges=$here fix=$here/fixtures frag=$here/debug.config
else
	# in the tree, this is selftests/host_scripts.sh
	judges=$here/../scripts fix=$here/fixtures frag=$here/../kernel/debug.config
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0

ok() { # NAME COMMAND...: the command must succeed
	local name=$1
	shift
	n=$((n + 1))
	if "$@" >"$tmp/out" 2>&1; then
		echo "ok $n $name"
	else
		echo "not ok $n $name"
		sed 's/^/# /' "$tmp/out"
		fails=$((fails + 1))
	fi
}
fails_with() { # NAME PATTERN COMMAND...: must fail, saying PATTERN
	local name=$1 pat=$2
	shift 2
	n=$((n + 1))
	if ! "$@" >"$tmp/out" 2>&1 && grep -qE -- "$pat" "$tmp/out"; then
		echo "ok $n $name"
	else
		echo "not ok $n $name"
		sed 's/^/# /' "$tmp/out"
		fails=$((fails + 1))
	fi
}
count_is() { # NAME WANT COMMAND...: the command prints WANT
	local name=$1 want=$2 got
	shift 2
	n=$((n + 1))
	got=$("$@" 2>&1)
	if [ "$got" = "$want" ]; then
		echo "ok $n $name"
	else
		echo "not ok $n $name"
		echo "# want '$want', got '$got'"
		fails=$((fails + 1))
	fi
}

# --- kconfig-check ---
kc=$judges/kconfig-check
cat >"$tmp/frag" <<'F'
# a comment
CONFIG_A=y
CONFIG_NAME="-x"
CONFIG_N=16000
# CONFIG_B is not set
F
printf 'CONFIG_A=y\nCONFIG_NAME="-x"\nCONFIG_N=16000\n# CONFIG_B is not set\nCONFIG_C=y\n' >"$tmp/good"
printf 'CONFIG_NAME="-x"\nCONFIG_N=16000\n' >"$tmp/noA"
printf 'CONFIG_A=m\nCONFIG_NAME="-x"\nCONFIG_N=16000\n' >"$tmp/Am"
printf 'CONFIG_A=y\nCONFIG_NAME="-x"\nCONFIG_N=16000\nCONFIG_B=y\n' >"$tmp/By"
printf 'CONFIG_A=y\nCONFIG_NAME="-y"\nCONFIG_N=1600\n' >"$tmp/vals"
printf 'CONFIG_AB=y\nCONFIG_NAME="-x"\nCONFIG_N=16000\n' >"$tmp/prefix"
ok "kconfig_check.all_as_asked" "$kc" "$tmp/frag" "$tmp/good"
fails_with "kconfig_check.names_a_dropped_option" "CONFIG_A=y.*absent" "$kc" "$tmp/frag" "$tmp/noA"
fails_with "kconfig_check.module_is_not_built_in" "CONFIG_A=y.*CONFIG_A=m" "$kc" "$tmp/frag" "$tmp/Am"
fails_with "kconfig_check.names_an_option_that_should_be_off" "CONFIG_B is not set.*CONFIG_B=y" "$kc" "$tmp/frag" "$tmp/By"
fails_with "kconfig_check.values_must_match" "CONFIG_NAME=.*CONFIG_N=16000" bash -c "'$kc' '$tmp/frag' '$tmp/vals' 2>&1 | tr '\n' ' '; exit \${PIPESTATUS[0]}"
fails_with "kconfig_check.a_longer_name_is_another_option" "CONFIG_A=y.*absent" "$kc" "$tmp/frag" "$tmp/prefix"
printf 'CONFIG_A=y\nCONFIG_B=y' >"$tmp/nonl"
fails_with "kconfig_check.last_line_without_newline" "asks for 'CONFIG_B=y'" "$kc" "$tmp/nonl" "$tmp/good"
printf '# CONFIG_C is not set \n' >"$tmp/trailing"
fails_with "kconfig_check.refuses_what_it_cannot_read" "not an option line" "$kc" "$tmp/trailing" "$tmp/good"
printf 'CONFIG_A=y\r\n' >"$tmp/crlf"
ok "kconfig_check.crlf_lines" "$kc" "$tmp/crlf" "$tmp/good"
# the real fragment: every line is one it checks, and a config of its own
# option lines passes it
grep -E '^CONFIG_|^# CONFIG_' "$frag" >"$tmp/own"
ok "kconfig_check.debug_fragment_is_all_options" "$kc" "$frag" "$tmp/own"
# the collection's config (beside this script, in the tree too): the
# debug kernel builds in every option it asks for, as a module or not
sed -n 's/^\(CONFIG_[A-Z0-9_]*\)=[ym]$/\1=y/p' "$here/config" >"$tmp/want"
ok "kconfig_check.debug_kernel_has_the_config_options" \
	bash -c "[ -s '$tmp/want' ] && '$kc' '$tmp/want' '$frag'"

# --- kmemleak-ours ---
km=$judges/kmemleak-ours
objects() { "$km" "$@" | grep -c '^unreferenced object'; }
count_is "kmemleak_ours.rxdp_frames_and_unloaded_text" 2 objects "$fix/kmemleak/rxdp-and-others.txt"
count_is "kmemleak_ours.hex_dump_and_like_names_are_not_ours" 0 objects "$fix/kmemleak/others-only.txt"
count_is "kmemleak_ours.empty_report" 0 objects /dev/null
n=$((n + 1))
if "$km" "$fix/kmemleak/rxdp-and-others.txt" | grep -q acpi_os_allocate; then
	echo "not ok $n kmemleak_ours.prints_only_ours"
	fails=$((fails + 1))
else
	echo "ok $n kmemleak_ours.prints_only_ours"
fi

# --- kmsg-scan ---
ks=$judges/kmsg-scan
# Each report class the debug kernel adds fails a run...
while IFS='|' read -r name line; do
	printf '[   12.345678] rxdp: device rxdp0 up\n[   12.400001] %s\n' "$line" >"$tmp/log"
	fails_with "kmsg_scan.finds_$name" "splat" "$ks" "$tmp/log"
done <<'L'
kasan_uaf|BUG: KASAN: slab-use-after-free in rxdp_rx_enqueue+0x1ce/0x7a0 [rxdp]
kasan_wild|BUG: KASAN: wild-memory-access in do_raw_spin_lock+0x6f/0x250
circular_locking|WARNING: possible circular locking dependency detected
recursive_locking|WARNING: possible recursive locking detected
inconsistent_lock_state|WARNING: inconsistent lock state
suspicious_rcu|WARNING: suspicious RCU usage
ubsan|UBSAN: array-index-out-of-bounds in kmod/rxdp_resp.c:120:9
atomic_sleep|BUG: sleeping function called from invalid context at kernel/locking/mutex.c:585
soft_lockup|watchdog: BUG: soft lockup - CPU#1 stuck for 26s! [kworker/1:2:77]
hard_lockup|watchdog: CPU1: Watchdog detected hard LOCKUP on cpu 1
rcu_stall|rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:
rcu_expedited_stall|rcu: INFO: rcu_preempt detected expedited stalls on CPUs/tasks: { 1-... } 21004 jiffies s: 333 root: 0x2/.
kmemleak_off|kmemleak: Kernel memory leak detector disabled
kmemleak_pool|kmemleak: Memory pool empty, consider increasing CONFIG_DEBUG_KMEMLEAK_MEM_POOL_SIZE
lockdep_off|turning off the locking correctness validator.
kfence|BUG: KFENCE: out-of-bounds read in rxdp_icrc_ok+0x41/0x90 [rxdp]
L
# ... and what it prints at every boot does not.
cat >"$tmp/boot" <<'B'
[    0.000000] Command line: console=ttyS0 slub_debug=FZP;FZPU,kmalloc-* kfence.sample_interval=1
[    0.000000] kasan: KernelAddressSanitizer initialized
[    0.012345] Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar
[    0.012346] ... MAX_LOCKDEP_SUBCLASSES:  8
[    0.012347] ... MAX_LOCK_DEPTH:          48
[    0.012348] ... MAX_LOCKDEP_KEYS:        8192
[    0.012349]  memory used by lock dependency info: 6429 kB
[    0.300000] kfence: initialized - using 2097152 bytes for 255 objects at 0x(____ptrval____)-0x(____ptrval____)
[    1.200000] kmemleak: Kernel memory leak detector initialized (mem pool free: 15871)
[    1.200001] kmemleak: Automatic memory scanning thread ended
[    2.500000] rxdp: loading out-of-tree module taints kernel.
[   30.000000] kmemleak: 3 new suspected memory leaks (see /sys/kernel/debug/kmemleak)
B
ok "kmsg_scan.debug_boot_is_clean" "$ks" "$tmp/boot"

echo "1..$n"
[ "$fails" -eq 0 ]

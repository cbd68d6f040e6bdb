// SPDX-License-Identifier: GPL-2.0
/*
 * A program that hands the steer kfunc whatever info user space put in
 * its .bss, which user space may rewrite while the program runs: the
 * module must read that argument once (vm_xdp's steer tests).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include <uapi/rxdp.h>

extern int rxdp_xdp_steer(struct xdp_md *ctx, struct rxdp_rx_info *info,
			  __u32 info__sz) __ksym;

struct rxdp_rx_info info;
int last_err;

SEC("xdp")
int steer_any(struct xdp_md *ctx)
{
	last_err = rxdp_xdp_steer(ctx, &info, sizeof(info));
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

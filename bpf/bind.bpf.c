// SPDX-License-Identifier: GPL-2.0
/*
 * Map handover: gives the module the qp_table of an interface.
 *
 * rxdpctl attach loads this once the rxdp device exists, with qp_table
 * pointing at the pinned map of the interface (bpf_map__reuse_fd before
 * load), and runs it once with BPF_PROG_TEST_RUN.  The module's kfunc
 * takes its own reference to the map (bpf_map_inc) and from then on
 * writes an entry per QP; the program and its fd can go.
 *
 * The program's return value is the kfunc's: 0, -ENODEV when the
 * interface (in the caller's network namespace) has no rxdp device,
 * -EINVAL for a map of another layout.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include <uapi/rxdp.h>

/*
 * Only a placeholder of the right kind: the loader replaces it with the
 * pinned qp_table (the XDP program's) before load.
 */
#include "qp_table.h"

/* Set by the loader before load: the interface the table belongs to. */
const volatile __u32 ifindex;

/* kmod/rxdp_kfunc.c, registered for BPF_PROG_TYPE_SYSCALL (sleepable). */
extern int rxdp_bind_qp_table(__u32 ifindex, void *qp_table__map) __ksym;

SEC("syscall")
int rxdp_bind(void *ctx __attribute__((unused)))
{
	return rxdp_bind_qp_table(ifindex, &qp_table);
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * Map handover: gives the module the QP table (qp_table and qp_slots) of
 * an interface.
 *
 * rxdpctl attach loads this once the rxdp device exists, with both maps
 * pointing at the pinned maps of the interface (bpf_map__reuse_fd before
 * load), and runs it once with BPF_PROG_TEST_RUN.  The module's kfuncs,
 * one a map, take their own reference to each (bpf_map_inc) and from
 * then on write an entry per QP in both; the program and its fd can go.
 *
 * The program's return value is the first error of the kfuncs, or 0:
 * -ENODEV when the interface (in the caller's network namespace) has no
 * rxdp device, -EINVAL for a map of another layout, -EBUSY for a map
 * another device has.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include <uapi/rxdp.h>

/*
 * Only placeholders of the right kind: the loader replaces them with the
 * pinned maps (the XDP program's) before load.
 */
#include "qp_table.h"

/* Set by the loader before load: the interface the table belongs to. */
const volatile __u32 ifindex;

/* kmod/rxdp_kfunc.c, registered for BPF_PROG_TYPE_SYSCALL (sleepable). */
extern int rxdp_bind_qp_table(__u32 ifindex, void *qp_table__map) __ksym;
extern int rxdp_bind_qp_slots(__u32 ifindex, void *qp_slots__map) __ksym;
extern int rxdp_bind_gid_table(__u32 ifindex, void *gid_table__map) __ksym;

SEC("syscall")
int rxdp_bind(void *ctx __attribute__((unused)))
{
	int err;

	/* qp_slots first: it is what the XDP program reads */
	err = rxdp_bind_qp_slots(ifindex, &qp_slots);
	if (!err)
		err = rxdp_bind_qp_table(ifindex, &qp_table);
	return err ? err : rxdp_bind_gid_table(ifindex, &gid_table);
}

char LICENSE[] SEC("license") = "GPL";

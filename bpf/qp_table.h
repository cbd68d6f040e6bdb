/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The QP table, as both BPF objects declare it: the XDP program reads it
 * (maps.h), the loader's bind program hands it to the module (bind.bpf.c).
 * It is two maps, with the device's GIDs beside them, all written by the
 * module, laid out in include/uapi/rxdp.h.
 */
#ifndef RXDP_BPF_QP_TABLE_H
#define RXDP_BPF_QP_TABLE_H

#include <bpf/bpf_helpers.h>

#include <uapi/rxdp.h>

/*
 * QPN -> QP state, every field.  Writer: the module (entries, lifecycle
 * fields and the receive totals); the XDP program only adds to rx_drops.
 * Reader: rxdpctl and bpftool, for display.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RXDP_QP_TABLE_SIZE);
	__type(key, __u32);
	__type(value, struct rxdp_qp_entry);
} qp_table SEC(".maps");

/*
 * Slot of a QPN -> what the XDP program checks of that QP.  Writer: the
 * module alone.  Reader: the XDP program on every RoCE packet.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RXDP_QP_SLOTS);
	__type(key, __u32);
	__type(value, struct rxdp_qp_slot);
} qp_slots SEC(".maps");

/*
 * The device's RoCEv2 GIDs: the destinations that are rxdp's.  Writer:
 * the module alone.  Reader: the XDP program on every RoCE packet.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RXDP_GID_MAP_SIZE);
	__type(key, struct rxdp_gid_key);
	__type(value, struct rxdp_gid_entry);
} gid_table SEC(".maps");

#endif /* RXDP_BPF_QP_TABLE_H */

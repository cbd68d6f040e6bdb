/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The maps of the XDP program.  The loader (rxdpctl) creates them, pins
 * the first three under RXDP_PIN_DIR/<ifname>/ and hands them to the
 * module; their layouts are in include/uapi/rxdp.h.  Each map has one
 * writer.
 */
#ifndef RXDP_BPF_MAPS_H
#define RXDP_BPF_MAPS_H

#include <bpf/bpf_helpers.h>

#include <uapi/rxdp.h>

#include "parse.h"
#include "qp_table.h"

/*
 * The device the program serves: P_Key table, flags.  Writer: the loader
 * (rxdpctl attach).  Reader: the XDP program on every packet.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rxdp_dev_config);
} dev_config SEC(".maps");

/*
 * Per-CPU packet counters, enum rxdp_counter.  Writer: the XDP program,
 * exactly one increment per packet.  Reader: rxdpctl, the tests.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RXDP_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} rx_counters SEC(".maps");

/*
 * Scratch space for the ICRC: the bytes after the BTH, copied out of the
 * (possibly multi-buffer) frame in one go, too many for the 512-byte BPF
 * stack.  Writer and reader: the XDP program alone (icrc.h), per CPU; XDP
 * runs with migration off, so a packet has it to itself.  Not pinned:
 * nothing outside the program has any business with it.
 */
struct rxdp_crc_scratch {
	__u64	w[RXDP_MAX_FRAME / 8 + 1];	/* + crc32_buf()'s tail */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rxdp_crc_scratch);
} crc_scratch SEC(".maps");

#endif /* RXDP_BPF_MAPS_H */

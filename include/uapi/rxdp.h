/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause */
/*
 * rxdp: what the kernel module, the XDP program and user space share.
 *
 * Map key and value layouts, counter indexes and constants.  Everything
 * here is fixed-width with explicit padding so that the three sides agree
 * on every byte; the structs are also what BTF (and so
 * "bpftool map dump") shows.
 *
 * The XDP program includes this after vmlinux.h, which already defines
 * the __u8 ... __u64 types; everyone else gets them from <linux/types.h>.
 */
#ifndef _UAPI_RXDP_H
#define _UAPI_RXDP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* RoCEv2: the IANA UDP destination port of every RoCEv2 packet. */
#define RXDP_ROCE_PORT		4791

/*
 * Maps are pinned by the loader under RXDP_PIN_DIR/<ifname>/<map name>.
 * Kernel map names are at most 15 characters.
 */
#define RXDP_PIN_DIR		"/sys/fs/bpf/rxdp"
#define RXDP_MAP_QP_TABLE	"qp_table"
#define RXDP_MAP_QP_SLOTS	"qp_slots"
#define RXDP_MAP_DEV_CONFIG	"dev_config"
#define RXDP_MAP_COUNTERS	"rx_counters"
#define RXDP_MAP_GID_TABLE	"gid_table"

#define RXDP_QP_TABLE_SIZE	65536	/* max entries of qp_table */

/*
 * Every live QP of a device has a slot of its own: the low 16 bits of its
 * QPN, which the module hands out so that no two live QPs share them.
 * qp_slots has one entry per slot; slot 0 (QP0, which RoCE has not) stays
 * empty and slot 1 is the GSI QP's.
 */
#define RXDP_QP_SLOTS		65536
#define RXDP_QP_SLOT(qpn)	((qpn) & (RXDP_QP_SLOTS - 1))
/* the destination QPN of a multicast datagram, which no QP has */
#define RXDP_MCAST_QPN		0xffffffu

/* QP states, numbered as enum ib_qp_state. */
enum rxdp_qp_state {
	RXDP_QPS_RESET	= 0,
	RXDP_QPS_INIT	= 1,
	RXDP_QPS_RTR	= 2,
	RXDP_QPS_RTS	= 3,
	RXDP_QPS_SQD	= 4,
	RXDP_QPS_SQE	= 5,
	RXDP_QPS_ERR	= 6,
};

/*
 * The states in which a QP's receive side accepts packets: from RTR on,
 * until an error.  SQE is a send queue error of a UC or UD QP; its receive
 * queue goes on working (IBA 10.3.1), so SQE receives as well.  A QP in
 * ERR gets nothing: the module flushes its receive queue itself.
 */
#define RXDP_QPS_RX_MASK	((1u << RXDP_QPS_RTR) | (1u << RXDP_QPS_RTS) | \
				 (1u << RXDP_QPS_SQD) | (1u << RXDP_QPS_SQE))

/* QP types, numbered as enum ib_qp_type. */
enum rxdp_qp_type {
	RXDP_QPT_GSI	= 1,
	RXDP_QPT_RC	= 2,
	RXDP_QPT_UC	= 3,
	RXDP_QPT_UD	= 4,
};

/* P_Key: the membership bit and the key proper (IBA 10.9.1). */
#define RXDP_PKEY_FULL		0x8000
#define RXDP_PKEY_KEY_MASK	0x7fff
#define RXDP_PKEY_DEFAULT	0xffff	/* full member of the default partition */
#define RXDP_PKEY_TBL_LEN	16

/* The Q_Key every GSI (QP1) packet carries. */
#define RXDP_GSI_QKEY		0x80010000u

/*
 * qp_table: key is the __u32 QPN (24 bits used), value this struct.
 *
 * The module creates an entry (BPF_NOEXIST) when the QP gets its number,
 * changes the lifecycle fields in place as the QP moves through its
 * states, and deletes the entry when the QP is destroyed.  It is the only
 * writer of the lifecycle fields; it must not replace a live entry
 * wholesale, which would lose rx_drops.  The XDP program only adds to
 * rx_drops, atomically, for a packet it drops once its QP is known; the
 * fields it checks on every packet it reads from qp_slots.  User space
 * only reads.
 *
 * rx_packets and rx_bytes count what the module's responder took off the
 * QP's receive queue; the module stores its running totals there after
 * each batch, so the XDP program does no shared-cache-line atomics for a
 * delivered packet (the module counts it anyway).
 *
 * 96 bytes: the lifecycle fields fill the first cache line, the counters
 * the second.
 */
struct rxdp_qp_entry {
	/* written by the module */
	__u32	qpn;		/* the key again, for dumps */
	__u8	state;		/* enum rxdp_qp_state */
	__u8	type;		/* enum rxdp_qp_type */
	__u8	port;		/* port number, 1 */
	__u8	pad0;
	__u16	pkey_index;	/* index of the QP's P_Key in dev_config */
	__u16	pad1;
	__u32	dest_qpn;	/* RC/UC: the remote QP; 0 for UD */
	__u32	epsn;		/* next expected PSN; informational for XDP,
				 * the responder judges sequence itself */
	__u32	qkey;		/* UD/GSI: the Q_Key packets must carry */
	__u32	dev_index;	/* ib_device index of the owning device */
	__u32	slot;		/* RXDP_QP_SLOT(qpn): its entry in qp_slots */
	__u64	reserved[4];	/* zero; room for the module */

	/* written by the module: its totals, stored after each batch */
	__u64	rx_packets;	/* packets the responder took */
	__u64	rx_bytes;	/* their transport bytes, BTH to ICRC */
	/* written by the XDP program, atomic adds only */
	__u64	rx_drops;	/* packets for the QP dropped after lookup */
	__u64	reserved_cnt[1];
};

/*
 * qp_slots: an array map indexed by RXDP_QP_SLOT(QPN), value this struct:
 * what the XDP program checks of the QP a packet is for, in one array
 * look-up.  qp_table, keyed by QPN, is the QP table users read; a hash
 * look-up in it costs more than the rest of the program's fast path, so
 * the program reads this copy of its receive fields instead (and
 * qp_table only to count a drop).
 *
 * Written by the module alone, in the same place and order as qp_table:
 * a QP's entry is filled when it gets its number and follows its state;
 * type is written last when a slot is taken and cleared first when it is
 * given up.  An entry is the packet's QP when type is not 0 and qpn is
 * the packet's; anything else is an unknown QP.  The module checks the
 * QPN again when it takes the packet.
 */
struct rxdp_qp_slot {
	__u32	qpn;		/* the QP in the slot */
	__u8	state;		/* enum rxdp_qp_state */
	__u8	type;		/* enum rxdp_qp_type; 0: the slot is free */
	__u16	pkey_index;	/* index of the QP's P_Key in dev_config */
	__u32	qkey;		/* UD/GSI: the Q_Key packets must carry */
	__u32	dev_index;	/* ib_device index of the owning device */
};

/*
 * rx_counters: a per-CPU array indexed by enum rxdp_counter, one __u64
 * per index and CPU.  Written by the XDP program; read (summed over the
 * CPUs) by rxdpctl and the tests.  Every packet the program sees moves
 * exactly one of them.
 */
enum rxdp_counter {
	RXDP_CNT_DELIVERED,	/* steered to a QP */
	RXDP_CNT_PASSED,	/* not RoCEv2 for rxdp's GIDs: XDP_PASS */
	RXDP_CNT_BAD_LEN,	/* truncated, or IP/UDP/BTH lengths disagree */
	RXDP_CNT_BAD_TVER,	/* BTH transport version not 0 */
	RXDP_CNT_BAD_ICRC,	/* invariant CRC mismatch */
	RXDP_CNT_BAD_PKEY,	/* P_Key does not match the QP's partition */
	RXDP_CNT_BAD_QKEY,	/* UD/GSI: DETH Q_Key is not the QP's */
	RXDP_CNT_UNKNOWN_QP,	/* no such QPN in qp_table */
	RXDP_CNT_BAD_STATE,	/* QP not in a receiving state */
	RXDP_CNT_BAD_OPCODE,	/* unknown opcode, or not for the QP's type */
	RXDP_CNT_BAD_PAD,	/* BTH pad count larger than the payload */
	RXDP_CNT_QUEUE_FULL,	/* the QP's receive queue had no room */
	RXDP_CNT_WRONG_DEV,	/* QP belongs to another rxdp device */
	RXDP_CNT_STEER_ERR,	/* the steer kfunc failed otherwise */
	RXDP_CNT_MAX
};

/* Counter names for tools: static const char *n[] = RXDP_COUNTER_NAMES; */
#define RXDP_COUNTER_NAMES {					\
	[RXDP_CNT_DELIVERED]	= "delivered",			\
	[RXDP_CNT_PASSED]	= "passed",			\
	[RXDP_CNT_BAD_LEN]	= "drop_bad_length",		\
	[RXDP_CNT_BAD_TVER]	= "drop_bad_tver",		\
	[RXDP_CNT_BAD_ICRC]	= "drop_bad_icrc",		\
	[RXDP_CNT_BAD_PKEY]	= "drop_bad_pkey",		\
	[RXDP_CNT_BAD_QKEY]	= "drop_bad_qkey",		\
	[RXDP_CNT_UNKNOWN_QP]	= "drop_unknown_qp",		\
	[RXDP_CNT_BAD_STATE]	= "drop_qp_state",		\
	[RXDP_CNT_BAD_OPCODE]	= "drop_bad_opcode",		\
	[RXDP_CNT_BAD_PAD]	= "drop_bad_pad",		\
	[RXDP_CNT_QUEUE_FULL]	= "drop_queue_full",		\
	[RXDP_CNT_WRONG_DEV]	= "drop_wrong_device",		\
	[RXDP_CNT_STEER_ERR]	= "drop_steer_error",		\
}

/* dev_config.flags */
enum {
	/*
	 * The device is bound: without it the program passes everything,
	 * so attaching before the module is wired up breaks nothing.
	 */
	RXDP_CFG_F_ACTIVE	= 1u << 0,
	/*
	 * Check the ICRC of every RoCE packet: the module does, on its copy
	 * of the packet, where it is loaded (RXDP_RX_F_ICRC_CHECK); else
	 * the XDP program.
	 */
	RXDP_CFG_F_ICRC		= 1u << 1,
};

/*
 * dev_config: an array map of one entry (key 0).  Written by the loader
 * (rxdpctl attach) with what the module reports for the device, before
 * it sets RXDP_CFG_F_ACTIVE; read by the XDP program on every packet.
 */
struct rxdp_dev_config {
	__u32	ifindex;	/* the netdev the program is attached to */
	__u32	dev_index;	/* ib_device index of the rxdp device on it */
	__u32	flags;		/* RXDP_CFG_F_* */
	__u32	mtu;		/* largest payload accepted, bytes; 0: any */
	__u16	pkey_tbl_len;	/* valid entries in pkey[], at most 16 */
	__u16	pad0;
	__u32	pad1;
	__u16	pkey[RXDP_PKEY_TBL_LEN];	/* entry 0: RXDP_PKEY_DEFAULT */
	__u64	reserved[4];
};

/*
 * gid_table: a hash map keyed by a GID of the device (an IPv4 address as
 * the GID ::ffff:a.b.c.d), value this struct.  Written by the module
 * alone: an entry for each RoCEv2 GID in the device's GID table, made and
 * deleted as the RDMA core adds and deletes them (as addresses come and
 * go on the netdev).  The XDP program passes a RoCEv2 packet whose
 * destination address is not a key: it is for another endpoint on the
 * same link (a macvlan, a bridge port, promiscuous mode).
 */
#define RXDP_GID_TABLE_SIZE	1024	/* the device's GID table length */
#define RXDP_MAX_MCAST_GRP	1024	/* the multicast groups it joins */
/* gid_table's least max_entries: room for every GID and every group */
#define RXDP_GID_MAP_SIZE	(RXDP_GID_TABLE_SIZE + RXDP_MAX_MCAST_GRP)

struct rxdp_gid_key {
	__u8	raw[16];
};

struct rxdp_gid_entry {
	__u32	gid_index;	/* in the device's GID table, or: */
	__u32	dev_index;	/* ib_device index of the device */
};

/*
 * gid_index of a multicast group's GID, which is in gid_table while a QP
 * of the device is attached to the group: the program steers datagrams
 * to QPN 0xFFFFFF there, and the module hands them to the group's QPs.
 */
#define RXDP_GID_INDEX_MCAST	0xffffffffu

/* rxdp_rx_info.flags */
enum {
	RXDP_RX_F_IPV6		= 1u << 0,	/* else IPv4 */
	RXDP_RX_F_ICRC_OK	= 1u << 1,	/* ICRC checked and good */
	RXDP_RX_F_ICRC_CHECK	= 1u << 2,	/* the module is to check it */
};

/*
 * What the XDP program hands the module's steer kfunc together with the
 * packet: the result of parsing and validation, so that the module does
 * not parse again.  Offsets count from the start of the frame.
 */
struct rxdp_rx_info {
	__u32	qpn;		/* destination QP */
	__u32	slot;		/* RXDP_QP_SLOT(qpn) */
	__u32	psn;		/* BTH PSN */
	__u32	flags;		/* RXDP_RX_F_* */
	__u16	l3_off;		/* IP header */
	__u16	bth_off;	/* BTH */
	__u16	payload_off;	/* first byte after the extension headers */
	__u16	payload_len;	/* payload bytes, without pad and ICRC */
	__u8	opcode;		/* BTH opcode */
	__u8	pad;		/* BTH pad count */
	__u16	hdr_len;	/* BTH and extension headers */
	__u32	reserved;
};

#endif /* _UAPI_RXDP_H */

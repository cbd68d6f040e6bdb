/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Wire formats the XDP program reads, and named accessors for their
 * fields: Ethernet, 802.1Q/802.1ad tags, IPv4, IPv6, UDP and the
 * InfiniBand Base Transport Header (IBA 9.2) as RoCEv2 carries it.
 *
 * These are our own definitions rather than vmlinux.h's: a wire format
 * does not depend on the kernel, so nothing here may be CO-RE relocated.
 * Multi-byte fields are big-endian on the wire; the accessors return host
 * order.
 */
#ifndef RXDP_BPF_PARSE_H
#define RXDP_BPF_PARSE_H

#include <bpf/bpf_endian.h>

/* EtherTypes and IP protocol numbers rxdp looks at */
#define RXDP_ETH_P_IPV4		0x0800
#define RXDP_ETH_P_IPV6		0x86dd
#define RXDP_ETH_P_8021Q	0x8100
#define RXDP_ETH_P_8021AD	0x88a8
#define RXDP_IPPROTO_UDP	17

/* At most this many VLAN tags (QinQ) before the IP header. */
#define RXDP_MAX_VLAN_TAGS	2

/*
 * No frame is longer (a 9000-byte MTU fits); it bounds the offsets the
 * verifier has to reason about and the ICRC's loop.
 */
#define RXDP_MAX_FRAME		16384

struct rxdp_eth_hdr {
	__u8	dst[6];
	__u8	src[6];
	__be16	proto;
};

struct rxdp_vlan_hdr {
	__be16	tci;
	__be16	proto;		/* of what follows the tag */
};

struct rxdp_ipv4_hdr {
	__u8	ver_ihl;	/* version:4, header length in words:4 */
	__u8	tos;		/* DSCP and ECN: variant, masked in the ICRC */
	__be16	tot_len;	/* header and payload */
	__be16	id;
	__be16	frag_off;	/* flags:3, fragment offset in 8 bytes:13 */
	__u8	ttl;		/* variant */
	__u8	protocol;
	__be16	check;		/* variant */
	__be32	saddr;
	__be32	daddr;
};

#define RXDP_IPV4_MIN_HLEN	sizeof(struct rxdp_ipv4_hdr)
#define RXDP_IPV4_MF		0x2000	/* more fragments */
#define RXDP_IPV4_OFFSET_MASK	0x1fff

static __always_inline __u8 ipv4_version(const struct rxdp_ipv4_hdr *ip)
{
	return ip->ver_ihl >> 4;
}

/* Header length in bytes, options included. */
static __always_inline __u32 ipv4_hlen(const struct rxdp_ipv4_hdr *ip)
{
	return (ip->ver_ihl & 0x0f) * 4;
}

/* Any fragment, the first one included: none of them is a whole packet. */
static __always_inline bool ipv4_is_fragment(const struct rxdp_ipv4_hdr *ip)
{
	return ip->frag_off & bpf_htons(RXDP_IPV4_MF | RXDP_IPV4_OFFSET_MASK);
}

struct rxdp_ipv6_hdr {
	__be32	ver_tc_flow;	/* version:4, traffic class:8, flow label:20;
				 * class and label are variant */
	__be16	payload_len;	/* everything after this header */
	__u8	nexthdr;
	__u8	hop_limit;	/* variant */
	__u8	saddr[16];
	__u8	daddr[16];
};

static __always_inline __u8 ipv6_version(const struct rxdp_ipv6_hdr *ip6)
{
	return bpf_ntohl(ip6->ver_tc_flow) >> 28;
}

struct rxdp_udp_hdr {
	__be16	source;
	__be16	dest;
	__be16	len;		/* header and payload */
	__be16	check;		/* variant: masked in the ICRC */
};

/*
 * Base Transport Header.  The byte after the P_Key is resv8a on the wire
 * model of IBA, which RoCEv2 uses for FECN/BECN; it is variant, masked to
 * ones in the ICRC.  It shares a 32-bit word with the destination QP.
 */
struct rxdp_bth {
	__u8	opcode;
	__u8	flags;		/* SE:1, MigReq:1, PadCnt:2, TVer:4 */
	__be16	pkey;
	__be32	qpn;		/* resv8a (FECN, BECN, 6 reserved):8, DestQP:24 */
	__be32	apsn;		/* AckReq:1, reserved:7, PSN:24 */
};

#define RXDP_BTH_SE		0x80
#define RXDP_BTH_MIG		0x40
#define RXDP_BTH_PAD_MASK	0x30
#define RXDP_BTH_PAD_SHIFT	4
#define RXDP_BTH_TVER_MASK	0x0f
#define RXDP_BTH_QPN_MASK	0x00ffffff
#define RXDP_BTH_PSN_MASK	0x00ffffff
#define RXDP_BTH_RESV8A_OFF	4	/* byte offset of resv8a in the BTH */
#define RXDP_BTH_TVER		0	/* the only transport version */

static __always_inline __u8 bth_tver(const struct rxdp_bth *bth)
{
	return bth->flags & RXDP_BTH_TVER_MASK;
}

/* Bytes of padding before the ICRC that align the payload to 4. */
static __always_inline __u8 bth_pad(const struct rxdp_bth *bth)
{
	return (bth->flags & RXDP_BTH_PAD_MASK) >> RXDP_BTH_PAD_SHIFT;
}

static __always_inline __u16 bth_pkey(const struct rxdp_bth *bth)
{
	return bpf_ntohs(bth->pkey);
}

static __always_inline __u32 bth_qpn(const struct rxdp_bth *bth)
{
	return bpf_ntohl(bth->qpn) & RXDP_BTH_QPN_MASK;
}

static __always_inline __u32 bth_psn(const struct rxdp_bth *bth)
{
	return bpf_ntohl(bth->apsn) & RXDP_BTH_PSN_MASK;
}

/*
 * Extension headers.  Only the DETH's Q_Key is read here; the others are
 * only sized (see include/rxdp_opcode.h) and left to the module.
 */
struct rxdp_deth {
	__be32	qkey;
	__be32	sqp;		/* reserved:8, source QP:24 */
};

static __always_inline __u32 deth_qkey(const struct rxdp_deth *deth)
{
	return bpf_ntohl(deth->qkey);
}

/* The invariant CRC that ends every RoCEv2 packet (after the pad). */
#define RXDP_ICRC_LEN		4

/*
 * Everything the stages of the program learn about a packet, handed
 * from one stage to the next.  Offsets count from the start of the frame.
 *
 * Offsets and lengths are 64-bit although they fit in 16: the verifier
 * keeps the bounds of a scalar stored to the stack only for 8-byte
 * stores, and needs them when an offset is added to a packet pointer.
 */
struct rxdp_pkt {
	__u64	l3_off;		/* IP header */
	__u64	l3_hlen;	/* IPv4: with options; IPv6: 40 */
	__u64	ip_len;		/* IP header and payload, as IP says */
	__u64	l4_off;		/* UDP header */
	__u64	udp_len;	/* UDP header and payload, as UDP says */
	__u64	bth_off;	/* BTH */
	__u64	tp_len;		/* UDP payload: BTH through ICRC */
	__u64	hdr_len;	/* BTH and extension headers */
	__u64	payload_len;	/* without pad and ICRC */
	struct rxdp_gid_key dgid;	/* the destination address, as a GID */
	__u32	qpn;
	__u32	psn;
	__u32	qkey;		/* DETH Q_Key; UD opcodes only */
	__u16	pkey;
	__u8	opcode;
	__u8	op_qp_types;	/* from the opcode table */
	__u8	op_ext;		/* from the opcode table */
	__u8	pad;
	bool	ipv6;
	bool	to_group;	/* dgid is a multicast group's */
	bool	icrc_ok;
	bool	icrc_module;	/* the module is to check the ICRC */
};

#endif /* RXDP_BPF_PARSE_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * rxdp receive fast path: the XDP program on the netdev of an rxdp device.
 *
 * A packet goes through the stages below, top to bottom, each handing the
 * next what it learned in struct rxdp_pkt:
 *
 *   parse_l2_l4	Ethernet, up to two VLAN tags, IPv4 or IPv6, UDP to
 *			port 4791; anything else is not ours: XDP_PASS
 *   check_dest		the destination is one of the device's GIDs
 *			(gid_table); else it is not ours either
 *   check_lengths	IP and UDP lengths against each other and the frame
 *   parse_transport	ICRC, BTH, extension headers, pad, payload size
 *   lookup		the destination QP in qp_slots (in rxdp_rx)
 *   check_qp		whether that QP may have it: device, state, type,
 *			P_Key, Q_Key (check_mcast instead for QPN 0xFFFFFF)
 *   rxdp_steer		hand it to the module (steer.h)
 *
 * Every packet moves exactly one counter of rx_counters: "passed" for
 * XDP_PASS, "delivered" or a drop reason for XDP_DROP.  A packet dropped
 * once its QP is known moves that QP's rx_drops in qp_table too; the
 * module counts the packets it is handed itself.
 *
 * The QP is found in qp_slots, an array indexed by the low bits of the
 * QPN, which the module keeps unique among live QPs; the entry must name
 * the packet's QPN.  qp_table, the hash keyed by QPN that users read,
 * is looked up only to count a drop.
 *
 * Cost: this runs for every frame the NIC receives, so the fast path is
 * kept short (build/bench-xdp measures it against a bare XDP_DROP); a
 * hash look-up alone would cost more than all of it.
 *
 * Rules for what is RoCEv2 for rxdp, and so what may be dropped:
 *   - a packet is ours once a complete UDP header to port 4791 is in view
 *     behind Ethernet, at most two 802.1Q/802.1ad tags and an IP header;
 *     a frame that ends before that is passed, malformed or not;
 *   - IPv4 fragments (the first one too) are passed: RoCEv2 is never
 *     fragmented, and reassembly is the stack's business;
 *   - IPv6 with any extension header (next header not UDP) is passed:
 *     RoCEv2 senders do not add them, and rxe computes the ICRC as if UDP
 *     always followed the fixed header;
 *   - IPv4 options are accepted, and covered by the ICRC like the rest
 *     of the header (rxe never sends options);
 *   - Ethernet padding after the IP packet is allowed;
 *   - the headers up to the end of the extension headers must be in the
 *     linear part of a multi-buffer frame (drivers put them there); a
 *     frame where they are not is passed.  Payload, pad and ICRC may be in
 *     fragments;
 *   - the IPv4 header checksum and the UDP checksum are not checked: the
 *     ICRC covers all they do but the fields it masks, none of which
 *     matters for delivery.  With the ICRC check off only the link's FCS
 *     guards a packet.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <uapi/rxdp.h>

#include "parse.h"
#include <rxdp_opcode.h>
#include "maps.h"
#include "icrc.h"
#include "steer.h"

/* A stage's "go on": not a counter. */
#define RXDP_NEXT	RXDP_CNT_MAX

static __always_inline int parse_l2_l4(struct xdp_md *ctx, struct rxdp_pkt *pkt)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct rxdp_eth_hdr *eth = data;
	struct rxdp_udp_hdr *udp;
	__u32 off = sizeof(*eth);
	__be16 proto;
	int i;

	if ((void *)(eth + 1) > data_end)
		return RXDP_CNT_PASSED;
	proto = eth->proto;

#pragma unroll
	for (i = 0; i < RXDP_MAX_VLAN_TAGS; i++) {
		struct rxdp_vlan_hdr *vlan = data + off;

		if (proto != bpf_htons(RXDP_ETH_P_8021Q) &&
		    proto != bpf_htons(RXDP_ETH_P_8021AD))
			break;
		if ((void *)(vlan + 1) > data_end)
			return RXDP_CNT_PASSED;
		proto = vlan->proto;
		off += sizeof(*vlan);
	}
	pkt->l3_off = off;

	if (proto == bpf_htons(RXDP_ETH_P_IPV4)) {
		struct rxdp_ipv4_hdr *ip = data + off;

		if ((void *)(ip + 1) > data_end)
			return RXDP_CNT_PASSED;
		if (ipv4_version(ip) != 4 || ipv4_hlen(ip) < sizeof(*ip) ||
		    ipv4_is_fragment(ip) || ip->protocol != RXDP_IPPROTO_UDP)
			return RXDP_CNT_PASSED;
		pkt->l3_hlen = ipv4_hlen(ip);
		pkt->ip_len = bpf_ntohs(ip->tot_len);
		/* ::ffff:a.b.c.d */
		pkt->dgid.raw[10] = 0xff;
		pkt->dgid.raw[11] = 0xff;
		__builtin_memcpy(&pkt->dgid.raw[12], &ip->daddr, 4);
	} else if (proto == bpf_htons(RXDP_ETH_P_IPV6)) {
		struct rxdp_ipv6_hdr *ip6 = data + off;

		if ((void *)(ip6 + 1) > data_end)
			return RXDP_CNT_PASSED;
		if (ipv6_version(ip6) != 6 || ip6->nexthdr != RXDP_IPPROTO_UDP)
			return RXDP_CNT_PASSED;
		pkt->l3_hlen = sizeof(*ip6);
		pkt->ip_len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
		__builtin_memcpy(pkt->dgid.raw, ip6->daddr, 16);
		pkt->ipv6 = true;
	} else {
		return RXDP_CNT_PASSED;
	}

	pkt->l4_off = off + pkt->l3_hlen;
	udp = data + pkt->l4_off;
	if ((void *)(udp + 1) > data_end)
		return RXDP_CNT_PASSED;
	if (udp->dest != bpf_htons(RXDP_ROCE_PORT))
		return RXDP_CNT_PASSED;
	pkt->udp_len = bpf_ntohs(udp->len);
	return RXDP_NEXT;
}

/*
 * RoCEv2 for another endpoint on the link (rdma_rxe on a macvlan of this
 * netdev, a VM behind a bridge port, anything promiscuous mode brings) is
 * not rxdp's to judge, let alone to deliver to a QP that happens to have
 * the number: only a destination among the device's GIDs is.
 */
static __always_inline int check_dest(struct rxdp_pkt *pkt)
{
	const struct rxdp_gid_entry *e;

	e = bpf_map_lookup_elem(&gid_table, &pkt->dgid);
	if (!e)
		return RXDP_CNT_PASSED;
	pkt->to_group = e->gid_index == RXDP_GID_INDEX_MCAST;
	return RXDP_NEXT;
}

/*
 * The IP length says where the packet ends (anything after it in the
 * frame is Ethernet padding); UDP must fill the IP payload exactly and
 * hold at least a BTH and the ICRC.  The frame's full length, fragments
 * included, costs a helper call, made only when the linear part is too
 * short to settle it.
 */
static __always_inline int check_lengths(struct xdp_md *ctx,
					 struct rxdp_pkt *pkt)
{
	__u64 end = pkt->l3_off + pkt->ip_len;

	if (pkt->ip_len < pkt->l3_hlen + sizeof(struct rxdp_udp_hdr))
		return RXDP_CNT_BAD_LEN;
	if (end > ctx->data_end - ctx->data && end > bpf_xdp_get_buff_len(ctx))
		return RXDP_CNT_BAD_LEN;
	if (pkt->udp_len != pkt->ip_len - pkt->l3_hlen)
		return RXDP_CNT_BAD_LEN;
	pkt->tp_len = pkt->udp_len - sizeof(struct rxdp_udp_hdr);
	if (pkt->tp_len < sizeof(struct rxdp_bth) + RXDP_ICRC_LEN)
		return RXDP_CNT_BAD_LEN;
	pkt->bth_off = pkt->l4_off + sizeof(struct rxdp_udp_hdr);
	return RXDP_NEXT;
}

/*
 * The ICRC first, when it is on: it covers every field looked at after
 * it, so a corrupted packet is counted as that and not as whatever its
 * damaged opcode or length would suggest.
 *
 * Where the module is loaded it checks the ICRC instead, in place on the
 * frame, with the kernel's accelerated CRC-32: a fraction of what the
 * loop here costs per byte.  A corrupted packet may then be
 * counted under another reason, if one applies before the hand-over;
 * it is dropped all the same.
 */
static __always_inline int parse_transport(struct xdp_md *ctx,
					   struct rxdp_pkt *pkt,
					   const struct rxdp_dev_config *cfg)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	const struct rxdp_opcode_info *op;
	struct rxdp_bth *bth;
	__u64 rest;	/* 64-bit: no zero extensions after the subtractions */
	int ret;

	if (pkt->bth_off > RXDP_MAX_FRAME)
		return RXDP_CNT_BAD_LEN;
	bth = data + pkt->bth_off;
	if ((void *)(bth + 1) > data_end)
		return RXDP_CNT_PASSED;		/* not in the linear part */

	if ((cfg->flags & RXDP_CFG_F_ICRC) && rxdp_module_loaded()) {
		pkt->icrc_module = true;
	} else if (cfg->flags & RXDP_CFG_F_ICRC) {
		ret = rxdp_icrc_check(ctx, pkt);
		if (ret < 0)
			return RXDP_CNT_BAD_LEN;
		if (!ret)
			return RXDP_CNT_BAD_ICRC;
		pkt->icrc_ok = true;
	}

	if (bth_tver(bth) != RXDP_BTH_TVER)
		return RXDP_CNT_BAD_TVER;

	pkt->opcode = bth->opcode;
	op = &rxdp_opcodes[pkt->opcode];
	if (!op->qp_types)
		return RXDP_CNT_BAD_OPCODE;
	pkt->op_qp_types = op->qp_types;
	pkt->op_ext = op->ext;

	pkt->hdr_len = sizeof(*bth) + op->ext_len;
	if (pkt->tp_len < pkt->hdr_len + RXDP_ICRC_LEN)
		return RXDP_CNT_BAD_LEN;
	rest = pkt->tp_len - pkt->hdr_len - RXDP_ICRC_LEN;
	pkt->pad = bth_pad(bth);
	if (pkt->pad > rest)
		return RXDP_CNT_BAD_PAD;
	if (!(op->flags & RXDP_OPF_PAYLOAD) && rest)
		return RXDP_CNT_BAD_LEN;
	pkt->payload_len = rest - pkt->pad;
	if (cfg->mtu && pkt->payload_len > cfg->mtu)
		return RXDP_CNT_BAD_LEN;

	if ((void *)(bth + 1) + op->ext_len > data_end)
		return RXDP_CNT_PASSED;		/* not in the linear part */
	if (op->ext & RXDP_EXT_DETH) {
		struct rxdp_deth *deth = (void *)(bth + 1) +
			RXDP_EXT_OFF(op->ext, RXDP_EXT_DETH);

		if ((void *)(deth + 1) > data_end)
			return RXDP_CNT_PASSED;
		pkt->qkey = deth_qkey(deth);
	}

	pkt->pkey = bth_pkey(bth);
	pkt->qpn = bth_qpn(bth);
	pkt->psn = bth_psn(bth);
	return RXDP_NEXT;
}

/* The one place that says which QP states receive. */
static __always_inline bool qp_state_receives(__u8 state)
{
	return state < 32 && (RXDP_QPS_RX_MASK & (1u << state));
}

/*
 * IBA 10.9.1.2: the key parts must be equal and valid (not zero), and at
 * least one side a full member: two limited members cannot talk.
 */
static __always_inline bool pkey_match(__u16 a, __u16 b)
{
	return (a & RXDP_PKEY_KEY_MASK) &&
	       (a & RXDP_PKEY_KEY_MASK) == (b & RXDP_PKEY_KEY_MASK) &&
	       ((a | b) & RXDP_PKEY_FULL);
}

/*
 * A QP checks the P_Key against the one at its own pkey_index; the GSI
 * QP answers for every partition of the port, so any entry will do.
 */
static __always_inline bool pkey_ok(const struct rxdp_dev_config *cfg,
				    const struct rxdp_qp_slot *qp, __u16 pkey)
{
	__u32 i, idx = qp->pkey_index;

	if (qp->type == RXDP_QPT_GSI) {
		for (i = 0; i < RXDP_PKEY_TBL_LEN; i++)
			if (i < cfg->pkey_tbl_len && pkey_match(pkey, cfg->pkey[i]))
				return true;
		return false;
	}
	if (idx >= cfg->pkey_tbl_len || idx >= RXDP_PKEY_TBL_LEN)
		return false;
	return pkey_match(pkey, cfg->pkey[idx]);
}

/* Whether QP qp may receive the packet: device, state, type, keys. */
static __always_inline int check_qp(const struct rxdp_pkt *pkt,
				    const struct rxdp_dev_config *cfg,
				    const struct rxdp_qp_slot *qp)
{
	if (qp->dev_index != cfg->dev_index)
		return RXDP_CNT_WRONG_DEV;
	/* a group's datagrams go to QPN 0xFFFFFF alone */
	if (pkt->to_group)
		return RXDP_CNT_UNKNOWN_QP;
	if (!qp_state_receives(qp->state))
		return RXDP_CNT_BAD_STATE;
	if (qp->type >= 8 || !(pkt->op_qp_types & RXDP_QPT_BIT(qp->type)))
		return RXDP_CNT_BAD_OPCODE;
	if (!pkey_ok(cfg, qp, pkt->pkey))
		return RXDP_CNT_BAD_PKEY;
	if ((pkt->op_ext & RXDP_EXT_DETH) && pkt->qkey != qp->qkey)
		return RXDP_CNT_BAD_QKEY;
	return RXDP_NEXT;
}

/*
 * QPN 0xFFFFFF: a UD datagram to a multicast group, whose GID is in
 * gid_table while a QP of the device is attached to it.  The module hands
 * it to each of the group's QPs and checks their keys and states; here
 * only that it is a multicast datagram.
 */
static __always_inline int check_mcast(const struct rxdp_pkt *pkt)
{
	bool group = pkt->ipv6 ? pkt->dgid.raw[0] == 0xff :
				 (pkt->dgid.raw[12] & 0xf0) == 0xe0;

	if (!group)
		return RXDP_CNT_UNKNOWN_QP;
	if (!(pkt->op_qp_types & RXDP_QPT_BIT(RXDP_QPT_UD)))
		return RXDP_CNT_BAD_OPCODE;
	return RXDP_NEXT;
}

/* Move the packet's counter of rx_counters; its verdict follows from it. */
static __always_inline int account(int cnt)
{
	__u32 key = cnt;
	__u64 *val;

	val = bpf_map_lookup_elem(&rx_counters, &key);
	if (val)
		*val += 1;
	return cnt == RXDP_CNT_PASSED ? XDP_PASS : XDP_DROP;
}

/*
 * The same for a packet whose QP is known: a drop moves the QP's rx_drops
 * in qp_table too (the entry may be gone with a QP destroyed meanwhile).
 * A delivered packet moves nothing of the QP's: the module counts what it
 * gets, and two atomic adds on a line every CPU writes would cost more
 * than the rest of the lookup.
 */
static __always_inline int account_qp(int cnt, __u32 qpn)
{
	struct rxdp_qp_entry *e;

	if (cnt != RXDP_CNT_DELIVERED) {
		e = bpf_map_lookup_elem(&qp_table, &qpn);
		if (e)
			__sync_fetch_and_add(&e->rx_drops, 1);
	}
	return account(cnt);
}

/*
 * xdp.frags: RoCE at an IB MTU of 4096 needs jumbo frames, which drivers
 * only hand to programs that take multi-buffer frames.
 *
 * The stages before the QP lookup end in account() and those after it in
 * account_qp(): with a single exit that takes a QP pointer, which is NULL
 * on the early exits, clang sets both the counter and the pointer in
 * front of every check on the way.
 */
SEC("xdp.frags")
int rxdp_rx(struct xdp_md *ctx)
{
	const struct rxdp_dev_config *cfg;
	const struct rxdp_qp_slot *qp;
	struct rxdp_pkt pkt = {};
	__u32 zero = 0, slot;
	int cnt;

	cfg = bpf_map_lookup_elem(&dev_config, &zero);
	if (!cfg || !(cfg->flags & RXDP_CFG_F_ACTIVE))
		return account(RXDP_CNT_PASSED);

	cnt = parse_l2_l4(ctx, &pkt);
	if (cnt == RXDP_NEXT)
		cnt = check_dest(&pkt);
	if (cnt == RXDP_NEXT)
		cnt = check_lengths(ctx, &pkt);
	if (cnt == RXDP_NEXT)
		cnt = parse_transport(ctx, &pkt, cfg);
	if (cnt != RXDP_NEXT)
		return account(cnt);

	slot = RXDP_QP_SLOT(pkt.qpn);
	qp = bpf_map_lookup_elem(&qp_slots, &slot);
	if (!qp || !qp->type || qp->qpn != pkt.qpn) {
		/* no QP has the multicast QPN: off the fast path */
		if (pkt.qpn != RXDP_MCAST_QPN)
			return account(RXDP_CNT_UNKNOWN_QP);
		cnt = check_mcast(&pkt);
		if (cnt == RXDP_NEXT)
			cnt = rxdp_steer(ctx, &pkt);
		return account(cnt);
	}
	cnt = check_qp(&pkt, cfg, qp);
	if (cnt == RXDP_NEXT)
		cnt = rxdp_steer(ctx, &pkt);
	return account_qp(cnt, pkt.qpn);
}

char LICENSE[] SEC("license") = "GPL";

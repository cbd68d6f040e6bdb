// SPDX-License-Identifier: GPL-2.0
/*
 * The receive queue of a QP: packets the XDP program steered to it, copied
 * out of the frame, waiting for the responder.  Bounded: a full queue
 * refuses the packet (the XDP program counts it) and the sender's
 * retransmission recovers it.
 *
 * The queue's work hands each packet to the responder, in order, and
 * frees it.
 */
#include <linux/ipv6.h>
#include <linux/ptr_ring.h>
#include <linux/udp.h>
#include <net/xdp.h>
#include <rdma/ib_pack.h>

#include "rxdp.h"

#define RXDP_RX_DEPTH	256

/* What qp_table's rx_bytes counts of a packet: BTH through ICRC. */
static u32 rxdp_rx_tp_len(const struct rxdp_rx_info *info)
{
	return info->hdr_len + info->payload_len + info->pad + IB_ICRC_BYTES;
}

static void rxdp_rx_work(struct work_struct *work)
{
	struct rxdp_qp *qp = container_of(work, struct rxdp_qp, rx_work);
	struct rxdp_rx_pkt *pkt;
	bool any = false;

	while ((pkt = ptr_ring_consume_bh(&qp->rx_ring))) {
		atomic64_add(rxdp_rx_tp_len(&pkt->info), &qp->rx_bytes);
		rxdp_resp_packet(qp, pkt);
		atomic64_inc(&qp->rx_consumed);
		kfree(pkt);
		any = true;
		cond_resched();
	}
	if (any)
		rxdp_maps_qp_counters(qp);
}

static void rxdp_rx_pkt_free(void *pkt)
{
	kfree(pkt);
}

int rxdp_rx_init(struct rxdp_qp *qp)
{
	INIT_WORK(&qp->rx_work, rxdp_rx_work);
	return ptr_ring_init(&qp->rx_ring, RXDP_RX_DEPTH,
			     qp->is_user ? GFP_KERNEL_ACCOUNT : GFP_KERNEL);
}

/* RESET: drop what was queued for the previous connection. */
void rxdp_rx_drain(struct rxdp_qp *qp)
{
	struct rxdp_rx_pkt *pkt;

	cancel_work_sync(&qp->rx_work);
	while ((pkt = ptr_ring_consume_bh(&qp->rx_ring)))
		kfree(pkt);
}

/* Destroy: nothing produces any more (no reference left). */
void rxdp_rx_cleanup(struct rxdp_qp *qp)
{
	cancel_work_sync(&qp->rx_work);
	ptr_ring_cleanup(&qp->rx_ring, rxdp_rx_pkt_free);
}

/*
 * Where the packet ends (BTH through ICRC, without the Ethernet padding a
 * short frame has), if @info describes a RoCEv2 packet that fits in a
 * frame of @len bytes; 0 if not.  The XDP program checked all this; the
 * module relies on it, so it checks again.
 */
static u32 rxdp_rx_check(const struct rxdp_rx_info *info, u32 len)
{
	u32 ip_min = info->flags & RXDP_RX_F_IPV6 ? sizeof(struct ipv6hdr) :
						    sizeof(struct iphdr);
	u32 end = (u32)info->payload_off + info->payload_len + info->pad +
		  IB_ICRC_BYTES;

	if ((u32)info->l3_off + ip_min + sizeof(struct udphdr) >
	    info->bth_off ||
	    info->hdr_len < IB_BTH_BYTES || info->pad > 3 ||
	    (u32)info->bth_off + info->hdr_len != info->payload_off ||
	    end > len)
		return 0;
	return end;
}

/* Copy the first len bytes of the frame, fragments included, to dst. */
static void rxdp_rx_copy(u8 *dst, struct xdp_buff *xdp, u32 len)
{
	u32 n = min_t(u32, len, xdp->data_end - xdp->data), i;
	struct skb_shared_info *sinfo;

	memcpy(dst, xdp->data, n);
	if (n == len)
		return;
	/* a jumbo frame's payload continues in fragments */
	sinfo = xdp_get_shared_info_from_buff(xdp);
	for (i = 0; i < sinfo->nr_frags && n < len; i++) {
		const skb_frag_t *frag = &sinfo->frags[i];
		u32 k = min_t(u32, len - n, skb_frag_size(frag));

		memcpy(dst + n, skb_frag_address(frag), k);
		n += k;
	}
}

/**
 * rxdp_rx_enqueue - queue a packet for a QP
 * @qp: the QP, referenced
 * @xdp: the frame
 * @info: what the XDP program found in it, in kernel memory that nothing
 *	else writes (the steer kfunc's copy)
 *
 * Context: softirq (XDP).
 * Return: 0, -ENOSPC when the queue is full, -EBADMSG for a bad ICRC when
 * @info asks the module to check it, -EINVAL for a frame that does not
 * hold what @info says, -ENOMEM.
 */
int rxdp_rx_enqueue(struct rxdp_qp *qp, struct xdp_buff *xdp,
		    const struct rxdp_rx_info *info)
{
	u32 len = rxdp_rx_check(info, xdp_get_buff_len(xdp)), gen;
	struct rxdp_rx_pkt *pkt;

	if (!len)
		return -EINVAL;
	/*
	 * The module, not the map, is the authority on the QP's state.  A
	 * RESET may come between this check and the ring, and its drain
	 * before the packet: the incarnation read first tells the
	 * responder the packet is not the next connection's.
	 */
	gen = READ_ONCE(qp->rx_gen);
	/* the incarnation before the state; pairs with rxdp_qp_reset() */
	smp_rmb();
	if (!(RXDP_QPS_RX_MASK & BIT(READ_ONCE(qp->state))))
		return -EINVAL;
	if (ptr_ring_full(&qp->rx_ring)) {
		atomic64_inc(&qp->rx_full);
		return -ENOSPC;
	}
	/* a remote sender must not fill the log: the sender retransmits */
	pkt = kmalloc(struct_size(pkt, data, len), GFP_ATOMIC | __GFP_NOWARN);
	if (!pkt)
		return -ENOMEM;
	pkt->info = *info;
	pkt->gen = gen;
	pkt->len = len;
	rxdp_rx_copy(pkt->data, xdp, len);
	if ((info->flags & RXDP_RX_F_ICRC_CHECK) &&
	    !rxdp_icrc_ok(pkt->data, len, info)) {
		kfree(pkt);
		return -EBADMSG;
	}
	if (ptr_ring_produce(&qp->rx_ring, pkt)) {
		kfree(pkt);
		atomic64_inc(&qp->rx_full);
		return -ENOSPC;
	}
	atomic64_inc(&qp->rx_packets);
	queue_work(system_wq, &qp->rx_work);
	return 0;
}

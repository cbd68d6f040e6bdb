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
#include <linux/ptr_ring.h>
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

/**
 * rxdp_rx_enqueue - queue a packet for a QP
 * @qp: the QP, referenced
 * @xdp: the frame
 * @info: what the XDP program found in it
 *
 * Context: softirq (XDP).
 * Return: 0, -ENOSPC when the queue is full, -EBADMSG for a bad ICRC when
 * @info asks the module to check it, -EINVAL for a frame that does not
 * hold what @info says, -ENOMEM.
 */
int rxdp_rx_enqueue(struct rxdp_qp *qp, struct xdp_buff *xdp,
		    const struct rxdp_rx_info *info)
{
	u32 len = xdp_get_buff_len(xdp), head = xdp->data_end - xdp->data;
	struct rxdp_rx_pkt *pkt;
	u32 i;

	/* the program checked these; the module does not trust it blindly */
	if ((u32)info->bth_off + info->hdr_len > head ||
	    info->payload_off < (u32)info->bth_off + info->hdr_len ||
	    (u32)info->payload_off + info->payload_len > len)
		return -EINVAL;
	/* the module, not the map, is the authority on the QP's state */
	if (!(RXDP_QPS_RX_MASK & BIT(READ_ONCE(qp->state))))
		return -EINVAL;
	if (ptr_ring_full(&qp->rx_ring)) {
		atomic64_inc(&qp->rx_full);
		return -ENOSPC;
	}
	pkt = kmalloc(struct_size(pkt, data, len), GFP_ATOMIC);
	if (!pkt)
		return -ENOMEM;
	pkt->info = *info;
	pkt->len = len;
	memcpy(pkt->data, xdp->data, head);
	/* a jumbo frame's payload continues in fragments */
	if (xdp_buff_has_frags(xdp)) {
		struct skb_shared_info *sinfo;

		sinfo = xdp_get_shared_info_from_buff(xdp);
		for (i = 0; i < sinfo->nr_frags; i++) {
			const skb_frag_t *frag = &sinfo->frags[i];

			memcpy(pkt->data + head, skb_frag_address(frag),
			       skb_frag_size(frag));
			head += skb_frag_size(frag);
		}
	}
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
	rxdp_qp_comm_est(qp);
	queue_work(system_wq, &qp->rx_work);
	return 0;
}

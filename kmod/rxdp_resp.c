// SPDX-License-Identifier: GPL-2.0
/*
 * The responder: what a QP does with the packets XDP steered to it, one
 * at a time, in arrival order, straight from the frame in the steering
 * kfunc or from the QP's receive queue (see rxdp_rx.c).
 *
 * A UD SEND takes the receive WQE at the head of the QP's receive queue
 * or of its SRQ.  The WQE's buffers get a 40-byte GRH (the IPv6 header,
 * or 20 zero bytes and the IPv4 header) followed by the payload, and the
 * WQE completes on the receive CQ.  A message that finds no WQE, or one
 * too small for it, is dropped and the WQE stays where it is: UD is
 * unreliable, and the next message may fit.  On an SRQ a WQE too small
 * completes in error instead, and the QP goes to the error state.  A WQE the responder cannot
 * use (too many SGEs, a key it may not write through) completes in error
 * and the QP goes to the error state, as does a QP whose receive CQ
 * overflowed.
 *
 * Taking a WQE from an SRQ raises IB_EVENT_SRQ_LIMIT_REACHED, once, when
 * it leaves fewer WQEs than an armed limit; the event disarms the limit.
 *
 * RC and UC requests go to rxdp_resp_rc.c, the answers to an RC QP's own
 * requests to the completer.
 */
#include <linux/unaligned.h>
#include <rdma/ib_pack.h>

#include "rxdp.h"
#include "rxdp_hdr.h"

#define RXDP_IMMDT_BYTES	4
#define RXDP_DETH_SRC_QP_MASK	0xffffffu
#define RXDP_BTH_SOLICITED	0x80	/* BTH byte 1: solicited event */

/* Why a message did not take a WQE. */
enum {
	RXDP_RECV_NO_WQE = -1,
	RXDP_RECV_TOO_LONG = -2,
	RXDP_RECV_NOT_READY = -3,
};

/* A UD message: the GRH the responder made, then the packet's payload. */
struct rxdp_ud_msg {
	const u8		*grh;
	const struct rxdp_pkt	*pkt;
	u32			len;		/* both */
};

/* Write bytes [off, off + n) of the message to the MR at addr. */
static void rxdp_ud_msg_write(struct rxdp_mr *mr, u64 addr,
			      const struct rxdp_ud_msg *m, u32 off, u32 n)
{
	const u32 glen = sizeof(union rdma_network_hdr);

	if (off < glen) {
		u32 k = min(n, glen - off);

		rxdp_mr_write(mr, addr, m->grh + off, k);
		addr += k;
		off += k;
		n -= k;
	}
	/* within the payload: the message's length is the packet's */
	if (n)
		rxdp_pkt_write_mr(mr, addr, m->pkt, off - glen, n);
}

/*
 * Scatter the message over the WQE at the head of @q.  A user WQE may change
 * under us: its SGEs are copied once, and the message checked against that
 * copy before a byte is written.  A message too long for the WQE of a QP
 * is dropped and leaves the WQE for the next one; on an SRQ, which other
 * QPs share, the WQE completes in error (as rxe's class E error does).
 *
 * Return: an ib_wc_status when the WQE was used (successfully or not),
 * else RXDP_RECV_NO_WQE or RXDP_RECV_TOO_LONG.
 * Context: the queue's lock held.
 */
static int rxdp_recv_scatter(struct rxdp_qp *qp, struct ib_pd *pd,
			     struct rxdp_queue *q, u32 max_sge,
			     const struct rxdp_ud_msg *m, u64 *wr_id)
{
	struct rxe_sge sge[RXDP_MAX_SGE];	/* 512 bytes of stack */
	u32 num_sge, i, len = m->len, off = 0;
	struct rxe_recv_wqe *wqe;
	u64 room = 0;

	if (q->cons == rxdp_queue_load_prod(q))
		return RXDP_RECV_NO_WQE;
	wqe = rxdp_queue_addr(q, q->cons);
	*wr_id = READ_ONCE(wqe->wr_id);
	num_sge = READ_ONCE(wqe->dma.num_sge);
	if (num_sge > max_sge || num_sge > ARRAY_SIZE(sge))
		return IB_WC_LOC_QP_OP_ERR;
	memcpy(sge, wqe->dma.sge, num_sge * sizeof(*sge));
	barrier();
	for (i = 0; i < num_sge; i++)
		room += sge[i].length;
	if (room < len)
		return qp->srq ? IB_WC_REM_INV_REQ_ERR : RXDP_RECV_TOO_LONG;

	for (i = 0; i < num_sge && len; i++) {
		u32 n = min(sge[i].length, len);
		struct rxdp_mr *mr;

		if (!n)
			continue;
		mr = rxdp_mr_get(qp->rdev, pd, sge[i].lkey, sge[i].addr, n,
				 IB_ACCESS_LOCAL_WRITE);
		if (!mr)
			return IB_WC_LOC_PROT_ERR;
		rxdp_ud_msg_write(mr, sge[i].addr, m, off, n);
		rxdp_mr_put(mr);
		off += n;
		len -= n;
	}
	return IB_WC_SUCCESS;
}

/*
 * Deliver a message into the next receive WQE and complete it in @wc.
 * Return: as rxdp_recv_scatter, or RXDP_RECV_NOT_READY.
 */
static int rxdp_recv_message(struct rxdp_qp *qp, const struct rxdp_ud_msg *m,
			     struct ib_wc *wc, bool solicited)
{
	struct rxdp_srq *srq = qp->srq;
	bool limit_event = false, overflow = false;
	struct rxdp_queue *q;
	unsigned long flags;
	u32 gen;
	int ret;

	spin_lock_irqsave(&qp->rq.lock, flags);
	/* the state cannot change while rq.lock is held */
	if (!(RXDP_QPS_RX_MASK & BIT(qp->state))) {
		spin_unlock_irqrestore(&qp->rq.lock, flags);
		return RXDP_RECV_NOT_READY;
	}
	if (srq) {
		spin_lock(&srq->lock);
		q = &srq->q;
		ret = rxdp_recv_scatter(qp, srq->ibsrq.pd, q, srq->max_sge,
					m, &wc->wr_id);
	} else {
		q = &qp->rq.q;
		ret = rxdp_recv_scatter(qp, qp->ibqp.pd, q, qp->rq.max_sge,
					m, &wc->wr_id);
	}
	if (ret >= 0) {
		rxdp_queue_advance_cons(q);
		if (srq && srq->limit &&
		    rxdp_queue_count(q, rxdp_queue_load_prod(q), q->cons) <
		    srq->limit) {
			srq->limit = 0;
			limit_event = true;
		}
		wc->status = ret;
		if (ret != IB_WC_SUCCESS) {
			wc->byte_len = 0;
			wc->wc_flags = 0;
		} else {
			rxdp_stat_inc(qp->rdev, RXDP_CNT_RECVS_DONE);
		}
		overflow = rxdp_cq_post(qp->rcq, wc, solicited) != 0;
	}
	if (srq)
		spin_unlock(&srq->lock);
	gen = qp->rx_gen;
	spin_unlock_irqrestore(&qp->rq.lock, flags);

	if (limit_event && srq->ibsrq.event_handler) {
		struct ib_event ev = {
			.device = srq->ibsrq.device,
			.element.srq = &srq->ibsrq,
			.event = IB_EVENT_SRQ_LIMIT_REACHED,
		};

		srq->ibsrq.event_handler(&ev, srq->ibsrq.srq_context);
	}
	/* a WQE that completed in error, or a lost completion */
	if (ret > 0 || overflow)
		rxdp_qp_error_gen(qp, gen);
	return ret;
}

/* A UD or GSI QP receives a datagram.  Return: it landed in a WQE. */
static bool rxdp_resp_ud(struct rxdp_qp *qp, const struct rxdp_pkt *pkt)
{
	const struct rxdp_rx_info *info = pkt->info;
	const u8 *frame = pkt->fr->data, *bth = pkt->bth;
	const u8 *deth = bth + IB_BTH_BYTES;
	union rdma_network_hdr grh = {};
	struct ib_wc wc = {
		.opcode = IB_WC_RECV,
		.qp = &qp->ibqp,
		.port_num = RXDP_PORT,
		.pkey_index = qp->attr.pkey_index,
		.wc_flags = IB_WC_GRH | IB_WC_WITH_NETWORK_HDR_TYPE,
	};
	u32 hdr_len = IB_BTH_BYTES + IB_DETH_BYTES;
	struct rxdp_ud_msg m = { .grh = (const u8 *)&grh };

	/* the BTH's opcode, which hdr_len was checked against */
	switch (pkt->opcode) {
	case IB_OPCODE_UD_SEND_ONLY:
		break;
	case IB_OPCODE_UD_SEND_ONLY_WITH_IMMEDIATE:
		wc.wc_flags |= IB_WC_WITH_IMM;
		wc.ex.imm_data = get_unaligned((const __be32 *)(deth +
							      IB_DETH_BYTES));
		hdr_len += RXDP_IMMDT_BYTES;
		break;
	default:
		return false;
	}
	/* what XDP checked, checked again where the module relies on it */
	if (info->hdr_len != hdr_len ||
	    get_unaligned_be32(deth) != READ_ONCE(qp->attr.qkey))
		return false;
	wc.src_qp = get_unaligned_be32(deth + 4) & RXDP_DETH_SRC_QP_MASK;

	if (info->flags & RXDP_RX_F_IPV6) {
		if (info->l3_off + sizeof(grh.ibgrh) > info->bth_off)
			return false;
		memcpy(&grh.ibgrh, frame + info->l3_off,
		       sizeof(grh.ibgrh));
		wc.network_hdr_type = RDMA_NETWORK_IPV6;
	} else {
		if (info->l3_off + sizeof(grh.roce4grh) > info->bth_off)
			return false;
		memcpy(&grh.roce4grh, frame + info->l3_off,
		       sizeof(grh.roce4grh));
		wc.network_hdr_type = RDMA_NETWORK_IPV4;
	}
	/* the message is the GRH and the payload; the frame stays as it is */
	m.pkt = pkt;
	m.len = sizeof(grh) + pkt->paylen;
	wc.byte_len = m.len;

	return rxdp_recv_message(qp, &m, &wc,
				 bth[1] & RXDP_BTH_SOLICITED) >= 0;
}

/* Is the opcode one of the peer's answers to this QP's requests? */
static bool rxdp_resp_is_answer(u8 opcode)
{
	return opcode >= IB_OPCODE_RC_RDMA_READ_RESPONSE_FIRST &&
	       opcode <= IB_OPCODE_RC_ATOMIC_ACKNOWLEDGE;
}

/**
 * rxdp_resp_packet - act on one packet for a QP
 * @qp: the QP
 * @info: where the packet's headers are, in memory nothing else writes
 * @fr: the packet, its ICRC checked: the XDP frame itself, or the copy
 *	on the QP's receive queue; it is only read.  Its headers through
 *	the extension headers are in its first piece.
 * @gen: the QP's rx_gen when the packet came
 *
 * What XDP found is checked again where the module relies on it: the
 * opcode (from the BTH copy) for the QP's type, its headers' length, the
 * destination QP.
 * Context: BH disabled (softirq, or the sender of a frame of the device
 * to itself, in its own context), the QP's rx_lock held.
 */
void rxdp_resp_packet(struct rxdp_qp *qp, const struct rxdp_rx_info *info,
		      const struct rxdp_frame *fr, u32 gen)
{
	const u8 *bth = fr->data + info->bth_off;
	const struct rxdp_opcode_info *oi;
	struct rxdp_pkt pkt;
	bool used = false;

	/*
	 * A packet steered before a RESET is not for this incarnation.  A
	 * RESET from now on sets the state that the receive paths check,
	 * and its drain waits for this work before the QP can be used again.
	 */
	if (gen != READ_ONCE(qp->rx_gen) || info->payload_off > fr->head)
		goto drop;
	/*
	 * Nor is one queued while the QP went to the error state (a READ or
	 * FLUSH it was behind refused): the acquire pairs with the modify's
	 * release, and with the end of the READ's service.
	 */
	if (!(RXDP_QPS_RX_MASK & BIT(smp_load_acquire(&qp->state))))
		goto drop;
	pkt.opcode = rxdp_bth_opcode(bth);
	oi = &rxdp_opcodes[pkt.opcode];
	if (!(oi->qp_types & RXDP_QPT_BIT(qp->ibqp.qp_type)) ||
	    info->hdr_len != rxdp_hdr_len(pkt.opcode) ||
	    (info->payload_len && !(oi->flags & RXDP_OPF_PAYLOAD)) ||
	    (rxdp_bth_qpn(bth) != qp->ibqp.qp_num &&
	     !(rxdp_bth_qpn(bth) == IB_MULTICAST_QPN &&
	       (info->flags & RXDP_RX_F_MCAST))))
		goto drop;
	pkt.info = info;
	pkt.fr = fr;
	pkt.bth = bth;
	pkt.paylen = info->payload_len;
	pkt.psn = rxdp_bth_psn(bth);

	switch (qp->ibqp.qp_type) {
	case IB_QPT_UD:
	case IB_QPT_GSI:
		used = rxdp_resp_ud(qp, &pkt);
		break;
	case IB_QPT_RC:
		if (rxdp_resp_is_answer(pkt.opcode)) {
			rxdp_comp_packet(qp, &pkt);
			return;
		}
		fallthrough;
	case IB_QPT_UC:
		used = rxdp_resp_rc(qp, &pkt, gen);
		break;
	default:
		break;
	}
	if (!used)
		goto drop;
	/* the transport took a packet of the connection: it is up */
	rxdp_qp_comm_est(qp);
	return;
drop:
	atomic64_inc(&qp->rx_dropped);
}

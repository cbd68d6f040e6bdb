// SPDX-License-Identifier: GPL-2.0
/*
 * The completer of an RC QP: what the peer's responder answers.
 *
 * An ACK of PSN p acknowledges every packet up to p: the WQEs whose last
 * packet that covers complete, in order.  A READ's data come in its
 * response packets, which are written into the WQE's buffers as they
 * arrive in sequence; the READ completes with its last one.  An ACK that
 * covers a READ whose responses did not all come implies they were lost.
 *
 * Recovery is go-back-N: on a sequence NAK, a lost READ response, or the
 * retransmit timer, the requester goes back to the oldest PSN the peer
 * has not acknowledged and sends everything again from there, reading the
 * WQE's memory again.  An RNR NAK does the same after its timer.  Each
 * such retry uses up one of retry_cnt (rnr_retry for RNR, 7 meaning no
 * limit); progress gives them all back.  A NAK for an invalid request, a
 * remote access or operational error completes the WQE with that error
 * and moves the QP to the error state, which flushes the rest.  An
 * atomic's original value comes in its acknowledgment.
 *
 * Context: the QP's receive path (packets), its timers (retries).  The
 * requester's state that changes here is under sq.lock.
 */
#include "rxdp.h"
#include "rxdp_hdr.h"

u32 rxdp_qp_mtu(const struct rxdp_qp *qp)
{
	return ib_mtu_enum_to_int(qp->attr.path_mtu);
}

/*
 * Does the WQE wait for an answer of the responder's own (READ response,
 * atomic ACK), counted in max_rd_atomic?  An ATOMIC WRITE is answered by
 * a READ response without data, and so is a FLUSH.
 */
bool rxdp_wqe_is_rd_atomic(const struct rxe_send_wqe *wqe)
{
	switch (wqe->wr.opcode) {
	case IB_WR_RDMA_READ:
	case IB_WR_ATOMIC_CMP_AND_SWP:
	case IB_WR_ATOMIC_FETCH_AND_ADD:
	case IB_WR_ATOMIC_WRITE:
	case IB_WR_FLUSH:
		return true;
	default:
		return false;
	}
}

/* Is the WQE one that an RDMA READ response with no data answers? */
static bool rxdp_wqe_is_read_acked(const struct rxe_send_wqe *wqe)
{
	return wqe->wr.opcode == IB_WR_ATOMIC_WRITE ||
	       wqe->wr.opcode == IB_WR_FLUSH;
}

/* The oldest WQE in flight complete, with status.  Context: sq.lock. */
static void rxdp_comp_first(struct rxdp_qp *qp, enum ib_wc_status status)
{
	struct rxe_send_wqe *wqe = rxdp_sq_wqe(qp, qp->sq.q.cons);

	if (rxdp_wqe_is_rd_atomic(wqe) && qp->sq.q.cons != qp->sq.next &&
	    qp->req_rd_atomic)
		qp->req_rd_atomic--;
	rxdp_sq_complete_first(qp, status);
}

/*
 * Has the WQE at idx been sent, in part at least (its PSNs are set)?  Those
 * from the oldest on are, up to the furthest the requester got: after it
 * went back, that is beyond sq.next.  Context: sq.lock.
 */
static bool rxdp_comp_started(struct rxdp_qp *qp, u32 idx)
{
	return idx != qp->sq.seen &&
	       (rxdp_sq_wqe(qp, idx)->state & RXDP_WQE_STARTED);
}

/*
 * The requester went back to the oldest WQE, and an ACK (late for what
 * it sent before) covers part of what it is sending again: it goes on
 * after that part.  Context: sq.lock.
 */
static void rxdp_comp_skip_acked(struct rxdp_qp *qp)
{
	struct rxe_send_wqe *wqe;
	u32 mtu = rxdp_qp_mtu(qp);
	s32 k;

	if (qp->sq.next != qp->sq.q.cons ||
	    !rxdp_comp_started(qp, qp->sq.next))
		return;
	wqe = rxdp_sq_wqe(qp, qp->sq.next);
	if (rxdp_wqe_is_rd_atomic(wqe) ||
	    rxdp_psn_diff(qp->comp_psn, wqe->last_psn) > 0)
		return;
	k = rxdp_psn_diff(qp->comp_psn, wqe->first_psn);
	if (k <= 0 || (u64)k * mtu <= qp->req_offset)
		return;
	qp->req_offset = min_t(u64, (u64)k * mtu, wqe->dma.length);
	qp->req_psn = qp->comp_psn;
	qp->req_gen++;
}

/*
 * Progress: everything before psn was answered.  The retries are given
 * back, the window grows by what was acknowledged (at most doubling per
 * answer: a late ACK for much does not reopen it at once), and the
 * retransmit timer runs on while packets are in flight.
 * Context: sq.lock.
 */
static void rxdp_comp_advance(struct rxdp_qp *qp, u32 psn)
{
	s32 n = rxdp_psn_diff(psn, qp->comp_psn);

	if (n <= 0)
		return;
	qp->comp_psn = psn;
	rxdp_comp_skip_acked(qp);
	qp->req_window = min_t(u32, qp->req_window +
				    min_t(u32, n, qp->req_window),
			       RXDP_MAX_UNACKED_PSNS);
	qp->retries_left = qp->attr.retry_cnt;
	qp->rnr_left = qp->attr.rnr_retry;
	qp->comp_has_rewound = false;
	rxdp_retry_timer_restart(qp);
}

/**
 * rxdp_comp_rewind - send again from a PSN
 * @qp: an RC QP
 * @psn: the first PSN to send again
 *
 * The requester goes back to the WQE that holds @psn, into its message
 * where @psn is: a READ asks again for what is left of its data.
 * Context: sq.lock held.
 */
void rxdp_comp_rewind(struct rxdp_qp *qp, u32 psn)
{
	struct rxdp_queue *q = &qp->sq.q;
	struct rxe_send_wqe *wqe;
	u32 idx, i;
	s32 k;

	for (idx = q->cons; idx != qp->sq.next;
	     idx = (idx + 1) & q->index_mask)
		if (rxdp_psn_diff(psn, rxdp_sq_wqe(qp, idx)->last_psn) <= 0)
			break;
	/* at sq.next, only a message sent in part can be sent again */
	if (idx == qp->sq.next && !qp->req_offset)
		return;
	for (i = idx; i != qp->sq.next; i = (i + 1) & q->index_mask)
		if (rxdp_wqe_is_rd_atomic(rxdp_sq_wqe(qp, i)) &&
		    qp->req_rd_atomic)
			qp->req_rd_atomic--;
	wqe = rxdp_sq_wqe(qp, idx);
	/* within the message: a PSN past its end is its last packet */
	k = clamp_t(s32, rxdp_psn_diff(psn, wqe->first_psn), 0,
		    rxdp_psn_diff(wqe->last_psn, wqe->first_psn));
	qp->sq.next = idx;
	qp->req_offset = min_t(u64, (u64)k * rxdp_qp_mtu(qp),
			       wqe->dma.length);
	qp->req_psn = rxdp_psn_add(wqe->first_psn, k);
	qp->req_gen++;
	qp->req_noack = 0;
	qp->comp_rewound = qp->comp_psn;
	qp->comp_has_rewound = true;
}

/*
 * Packets up to psn were acknowledged: complete what that finishes.  Any
 * progress gives the retries back.
 * Return: false when a READ or atomic in the way misses its response
 * (the ACK implies it was lost: the responder sends its answers before it
 * acknowledges what follows); comp_psn is then that READ's or atomic's.
 * Context: sq.lock.
 */
static bool rxdp_comp_ack_to(struct rxdp_qp *qp, u32 psn)
{
	struct rxdp_queue *q = &qp->sq.q;

	/* what was sent, even when the requester went back before it */
	while (rxdp_comp_started(qp, q->cons)) {
		struct rxe_send_wqe *wqe = rxdp_sq_wqe(qp, q->cons);

		if (rxdp_psn_diff(psn, wqe->first_psn) < 0)
			break;
		if (rxdp_wqe_is_rd_atomic(wqe)) {
			/* what came before it arrived */
			rxdp_comp_advance(qp, wqe->first_psn);
			return false;
		}
		if (rxdp_psn_diff(psn, wqe->last_psn) < 0)
			break;
		rxdp_comp_first(qp, IB_WC_SUCCESS);
	}
	rxdp_comp_advance(qp, rxdp_psn_add(psn, 1));
	return true;
}

/* Is psn one the requester sent and the peer did not acknowledge yet? */
static bool rxdp_comp_psn_outstanding(struct rxdp_qp *qp, u32 psn)
{
	return rxdp_psn_diff(psn, qp->comp_psn) >= 0 &&
	       rxdp_psn_diff(psn, qp->req_sent_psn) < 0;
}

/* A retry: Return: false when none is left. */
static bool rxdp_comp_use_retry(struct rxdp_qp *qp)
{
	if (!qp->retries_left)
		return false;
	qp->retries_left--;
	rxdp_stat_inc(qp->rdev, RXDP_CNT_COMP_RETRY);
	return true;
}

static enum ib_wc_status rxdp_nak_status(u8 syndrome)
{
	switch (syndrome) {
	case RXDP_AETH_NAK_INV:
		return IB_WC_REM_INV_REQ_ERR;
	case RXDP_AETH_NAK_ACCESS:
		return IB_WC_REM_ACCESS_ERR;
	case RXDP_AETH_NAK_OP:
		return IB_WC_REM_OP_ERR;
	default:
		return IB_WC_REM_INV_RD_REQ_ERR;
	}
}

/*
 * A NAK that ends the connection (not a sequence error): the WQE it is
 * for completes with status.  READs and atomics before it whose answers
 * went missing get none any more (a responder takes nothing after such a
 * NAK), so they, and what follows them up to that WQE, are flushed: the
 * error is the WQE's it was for.  Context: sq.lock.
 */
static void rxdp_comp_nak_fail(struct rxdp_qp *qp, enum ib_wc_status status,
			       u32 psn)
{
	struct rxdp_queue *q = &qp->sq.q;

	while (rxdp_comp_started(qp, q->cons) &&
	       rxdp_psn_diff(psn, rxdp_sq_wqe(qp, q->cons)->last_psn) > 0)
		rxdp_comp_first(qp, IB_WC_WR_FLUSH_ERR);
	if (q->cons != qp->sq.seen)
		rxdp_comp_first(qp, status);
}

/*
 * An ACK or NAK.  Return: what the requester does next: 0 nothing, 1
 * send (more may go, or again), -1 the QP failed.  Context: sq.lock.
 */
static int rxdp_comp_ack(struct rxdp_qp *qp, const struct rxdp_pkt *pkt)
{
	const u8 *aeth = rxdp_ext_c(pkt->bth, pkt->opcode, RXDP_EXT_AETH);
	u8 syn = rxdp_aeth_syndrome(aeth);
	u32 psn = pkt->psn;

	if (!rxdp_comp_psn_outstanding(qp, psn))
		return 0;	/* stale, or for nothing sent */

	switch (RXDP_AETH_TYPE(syn)) {
	case RXDP_AETH_TYPE_ACK:
		if (!rxdp_comp_ack_to(qp, psn)) {
			/* a READ or atomic response went missing */
			if (qp->comp_has_rewound &&
			    qp->comp_rewound == qp->comp_psn)
				return 0;
			if (!rxdp_comp_use_retry(qp))
				goto retry_exceeded;
			rxdp_comp_rewind(qp, qp->comp_psn);
		}
		return 1;
	case RXDP_AETH_TYPE_RNR:
		rxdp_stat_inc(qp->rdev, RXDP_CNT_RCV_RNR);
		if (!rxdp_comp_ack_to(qp, rxdp_psn_add(psn, RXDP_PSN_MASK)))
			return 0;
		if (qp->attr.rnr_retry != 7) {
			if (!qp->rnr_left) {
				rxdp_stat_inc(qp->rdev,
					      RXDP_CNT_RNR_RETRY_EXCEEDED);
				rxdp_comp_first(qp, IB_WC_RNR_RETRY_EXC_ERR);
				return -1;
			}
			qp->rnr_left--;
		}
		rxdp_comp_rewind(qp, psn);
		/* the wait is not a timeout: nothing is in flight meanwhile */
		qp->req_rnr_wait = true;
		timer_delete(&qp->retry_timer);
		rxdp_rnr_timer_start(qp, syn);
		return 0;
	case RXDP_AETH_TYPE_NAK:
		/* everything before the NAKed PSN arrived */
		rxdp_comp_ack_to(qp, rxdp_psn_add(psn, RXDP_PSN_MASK));
		if (syn == RXDP_AETH_NAK_PSN) {
			rxdp_stat_inc(qp->rdev, RXDP_CNT_RCV_SEQ_ERR);
			if (qp->comp_has_rewound &&
			    qp->comp_rewound == qp->comp_psn)
				return 0;
			if (!rxdp_comp_use_retry(qp))
				goto retry_exceeded;
			/* a loss: less in flight for now */
			qp->req_window = max_t(u32, qp->req_window / 2,
					       RXDP_MIN_WINDOW);
			rxdp_comp_rewind(qp, psn);
			return 1;
		}
		rxdp_comp_nak_fail(qp, rxdp_nak_status(syn), psn);
		return -1;
	default:
		return 0;
	}

retry_exceeded:
	rxdp_stat_inc(qp->rdev, RXDP_CNT_RETRY_EXCEEDED);
	rxdp_comp_first(qp, IB_WC_RETRY_EXC_ERR);
	return -1;
}

/*
 * The answer of psn, a READ response or atomic ACK, implies that the WQEs
 * before its request arrived: they complete.  Return: the oldest WQE left,
 * whose answer it may be, or NULL.  Context: sq.lock.
 */
static struct rxe_send_wqe *rxdp_comp_answered(struct rxdp_qp *qp, u32 psn)
{
	struct rxdp_queue *q = &qp->sq.q;
	struct rxe_send_wqe *wqe;

	while (rxdp_comp_started(qp, q->cons)) {
		wqe = rxdp_sq_wqe(qp, q->cons);
		if (rxdp_wqe_is_rd_atomic(wqe) ||
		    rxdp_psn_diff(psn, wqe->last_psn) <= 0)
			return wqe;
		/* the answer acknowledges it: comp_psn goes past it too */
		rxdp_comp_advance(qp, rxdp_psn_add(wqe->last_psn, 1));
		rxdp_comp_first(qp, IB_WC_SUCCESS);
	}
	return NULL;
}

/*
 * A READ response: its data go where the READ WQE at the head wants them.
 * Return: as rxdp_comp_ack().  Context: sq.lock.
 */
static int rxdp_comp_read(struct rxdp_qp *qp, const struct rxdp_pkt *pkt)
{
	u32 mtu = rxdp_qp_mtu(qp), psn = pkt->psn;
	struct rxe_send_wqe *wqe;
	bool last;
	u32 at, k;
	u64 off;

	if (!rxdp_comp_psn_outstanding(qp, psn))
		return 0;
	wqe = rxdp_comp_answered(qp, psn);
	if (!wqe)
		return 0;
	if (rxdp_wqe_is_read_acked(wqe)) {
		if (psn != wqe->first_psn || psn != qp->comp_psn ||
		    pkt->opcode != IB_OPCODE_RC_RDMA_READ_RESPONSE_ONLY ||
		    pkt->paylen)
			return 0;	/* an answer before it is missing */
		rxdp_comp_first(qp, IB_WC_SUCCESS);
		rxdp_comp_advance(qp, rxdp_psn_add(psn, 1));
		return 1;
	}
	if (wqe->wr.opcode != IB_WR_RDMA_READ ||
	    rxdp_psn_diff(psn, wqe->first_psn) < 0 ||
	    rxdp_psn_diff(psn, wqe->last_psn) > 0)
		return 0;
	if (psn != qp->comp_psn) {
		/* one before it was lost: once, go back to it */
		if (rxdp_psn_diff(psn, qp->comp_psn) < 0 ||
		    (qp->comp_has_rewound && qp->comp_rewound == qp->comp_psn))
			return 0;
		if (!rxdp_comp_use_retry(qp)) {
			rxdp_stat_inc(qp->rdev, RXDP_CNT_RETRY_EXCEEDED);
			rxdp_comp_first(qp, IB_WC_RETRY_EXC_ERR);
			return -1;
		}
		rxdp_comp_rewind(qp, qp->comp_psn);
		return 1;
	}
	off = (u64)rxdp_psn_diff(psn, wqe->first_psn) * mtu;
	/*
	 * Every response but the READ's last is a full one (the last of a
	 * request for a part of it too), the last ends it.
	 */
	last = psn == wqe->last_psn;
	if ((!last && pkt->paylen != mtu) || pkt->paylen > mtu ||
	    off + pkt->paylen > wqe->dma.length ||
	    (last && off + pkt->paylen != wqe->dma.length))
		return 0;
	for (at = 0; at < pkt->paylen; at += k) {
		const u8 *p = rxdp_pkt_piece(pkt, at, pkt->paylen - at, &k);

		if (!p)
			return 0;
		if (rxdp_wqe_copy(qp, wqe, off + at, (u8 *)p, k, true) !=
		    IB_WC_SUCCESS) {
			rxdp_comp_first(qp, IB_WC_LOC_PROT_ERR);
			return -1;
		}
	}
	if (last)
		rxdp_comp_first(qp, IB_WC_SUCCESS);
	rxdp_comp_advance(qp, rxdp_psn_add(psn, 1));
	return 1;
}

/*
 * An atomic's acknowledgment: the original value goes where the atomic
 * WQE at the head wants it.  Return: as rxdp_comp_ack().  Context: sq.lock.
 */
static int rxdp_comp_atomic(struct rxdp_qp *qp, const struct rxdp_pkt *pkt)
{
	const u8 *ack = rxdp_ext_c(pkt->bth, pkt->opcode, RXDP_EXT_ATMACK);
	u64 orig = rxdp_atmack_orig(ack);
	struct rxe_send_wqe *wqe;
	u32 psn = pkt->psn;

	if (!rxdp_comp_psn_outstanding(qp, psn))
		return 0;
	wqe = rxdp_comp_answered(qp, psn);
	if (!wqe)
		return 0;
	if ((wqe->wr.opcode != IB_WR_ATOMIC_CMP_AND_SWP &&
	     wqe->wr.opcode != IB_WR_ATOMIC_FETCH_AND_ADD) ||
	    wqe->first_psn != psn)
		return 0;
	if (psn != qp->comp_psn)
		return 0;	/* an answer before it is missing: the timer */
	if (rxdp_wqe_copy(qp, wqe, 0, (u8 *)&orig, sizeof(orig), true) !=
	    IB_WC_SUCCESS) {
		rxdp_comp_first(qp, IB_WC_LOC_PROT_ERR);
		return -1;
	}
	rxdp_comp_first(qp, IB_WC_SUCCESS);
	rxdp_comp_advance(qp, rxdp_psn_add(psn, 1));
	return 1;
}

/**
 * rxdp_comp_packet - act on a response of the peer
 * @qp: an RC QP
 * @pkt: an ACK, NAK or READ response
 */
void rxdp_comp_packet(struct rxdp_qp *qp, const struct rxdp_pkt *pkt)
{
	bool fatal = false, drained = false;
	unsigned long flags;
	int next = 0;

	/* rxe's ack_deferred: every answer its completer is handed */
	rxdp_stat_inc(qp->rdev, RXDP_CNT_ANSWERS);
	spin_lock_irqsave(&qp->sq.lock, flags);
	if (qp->state != IB_QPS_RTS && qp->state != IB_QPS_SQD)
		goto out;
	switch (pkt->opcode) {
	case IB_OPCODE_RC_ACKNOWLEDGE:
		next = rxdp_comp_ack(qp, pkt);
		break;
	case IB_OPCODE_RC_RDMA_READ_RESPONSE_FIRST:
	case IB_OPCODE_RC_RDMA_READ_RESPONSE_MIDDLE:
	case IB_OPCODE_RC_RDMA_READ_RESPONSE_LAST:
	case IB_OPCODE_RC_RDMA_READ_RESPONSE_ONLY:
		next = rxdp_comp_read(qp, pkt);
		break;
	case IB_OPCODE_RC_ATOMIC_ACKNOWLEDGE:
		next = rxdp_comp_atomic(qp, pkt);
		break;
	default:
		break;
	}
	if (next < 0)
		fatal = rxdp_qp_fatal_sq_locked(qp);
	else if (!rxdp_req_in_flight(qp))
		timer_delete(&qp->retry_timer);
	if (!fatal)
		drained = rxdp_sqd_drained_now(qp);
out:
	spin_unlock_irqrestore(&qp->sq.lock, flags);
	if (drained)
		rxdp_qp_event(qp, IB_EVENT_SQ_DRAINED);
	if (fatal)
		rxdp_qp_fatal_done(qp);
	else if (next > 0)
		rxdp_req_kick(qp);
}

/**
 * rxdp_comp_retry - the retransmit timer expired
 * @qp: an RC QP
 *
 * Context: softirq (the timer).
 */
void rxdp_comp_retry(struct rxdp_qp *qp)
{
	unsigned long flags;
	bool fatal = false, send = false;

	spin_lock_irqsave(&qp->sq.lock, flags);
	if ((qp->state != IB_QPS_RTS && qp->state != IB_QPS_SQD) ||
	    !rxdp_req_in_flight(qp))
		goto out;
	rxdp_stat_inc(qp->rdev, RXDP_CNT_ACK_TIMEOUT);
	if (!rxdp_comp_use_retry(qp)) {
		rxdp_stat_inc(qp->rdev, RXDP_CNT_RETRY_EXCEEDED);
		rxdp_comp_first(qp, IB_WC_RETRY_EXC_ERR);
		fatal = rxdp_qp_fatal_sq_locked(qp);
		goto out;
	}
	/*
	 * Nothing heard for a whole timeout: the path or the peer is
	 * overwhelmed, or it was lost.  Going back with a full window would
	 * add to the first; start small and let the ACKs open it.
	 */
	qp->req_window = RXDP_MIN_WINDOW;
	rxdp_comp_rewind(qp, qp->comp_psn);
	rxdp_retry_timer_restart(qp);
	send = true;
out:
	spin_unlock_irqrestore(&qp->sq.lock, flags);
	if (fatal)
		rxdp_qp_fatal_done(qp);
	else if (send)
		rxdp_req_kick(qp);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The responder of a connected QP (RC and UC): requests of the peer, in
 * PSN order.
 *
 * RC: a packet with the expected PSN is executed, and acknowledged when it
 * asks for it (one ACK for the batch of packets the receive queue hands
 * over, carrying the last PSN and the MSN).  A duplicate is acknowledged
 * again; a duplicate READ is served again from its request.  A packet
 * after a gap gets one sequence NAK, until the expected PSN comes.  A SEND
 * that finds no receive WQE gets an RNR NAK with the QP's min_rnr_timer
 * and is not executed.  An invalid request, or a WRITE or READ the memory
 * does not allow, gets its NAK and the QP goes to the error state.
 *
 * UC: no ACKs.  A gap drops the message it falls in, and the responder
 * takes up again with the next FIRST or ONLY packet.
 *
 * A SEND takes its receive WQE with its first packet (a copy: the ring
 * slot is free at once), fills it packet by packet and completes it with
 * the last.  A WRITE checks the R_Key once, for the whole range of its
 * RETH, and again for each packet's piece.  An atomic is executed under
 * one lock for the whole module and its result kept, so that a duplicate
 * is answered with it rather than executed twice.
 *
 * Context: the QP's responder (rx_lock held), one packet at a time.
 */
#include "rxdp.h"
#include "rxdp_hdr.h"

#define OP(o)			IB_OPCODE_##o
#define RXDP_RESP_NONE		0xff	/* between two messages */

static bool rxdp_op_is_send(u8 op)
{
	return op <= OP(SEND_ONLY_WITH_IMMEDIATE) ||
	       op == OP(SEND_LAST_WITH_INVALIDATE) ||
	       op == OP(SEND_ONLY_WITH_INVALIDATE);
}

static bool rxdp_op_is_write(u8 op)
{
	return op >= OP(RDMA_WRITE_FIRST) &&
	       op <= OP(RDMA_WRITE_ONLY_WITH_IMMEDIATE);
}

static bool rxdp_op_first(u8 op)
{
	return op == OP(SEND_FIRST) || op == OP(RDMA_WRITE_FIRST);
}

static bool rxdp_op_middle(u8 op)
{
	return op == OP(SEND_MIDDLE) || op == OP(RDMA_WRITE_MIDDLE);
}

static bool rxdp_op_last(u8 op)
{
	return op == OP(SEND_LAST) || op == OP(SEND_LAST_WITH_IMMEDIATE) ||
	       op == OP(SEND_LAST_WITH_INVALIDATE) ||
	       op == OP(RDMA_WRITE_LAST) ||
	       op == OP(RDMA_WRITE_LAST_WITH_IMMEDIATE);
}

/* A FIRST or ONLY packet: the one a message starts with. */
static bool rxdp_op_starts(u8 op)
{
	return !rxdp_op_middle(op) && !rxdp_op_last(op);
}

static bool rxdp_op_has_imm(u8 op)
{
	return op == OP(SEND_LAST_WITH_IMMEDIATE) ||
	       op == OP(SEND_ONLY_WITH_IMMEDIATE) ||
	       op == OP(RDMA_WRITE_LAST_WITH_IMMEDIATE) ||
	       op == OP(RDMA_WRITE_ONLY_WITH_IMMEDIATE);
}

/* The ImmDt or IETH of a packet. */
static __be32 rxdp_pkt_be32(const struct rxdp_pkt *pkt, u8 h)
{
	return rxdp_be32_get(rxdp_ext_c(pkt->bth, pkt->opcode, h));
}

/* Does op fit after the packets of the message so far? */
static bool rxdp_resp_seq_ok(struct rxdp_qp *qp, u8 op)
{
	u8 prev = qp->resp_op;

	if (prev == RXDP_RESP_NONE || !(rxdp_op_first(prev) ||
					rxdp_op_middle(prev)))
		return !rxdp_op_middle(op) && !rxdp_op_last(op);
	if (rxdp_op_is_send(prev))
		return rxdp_op_is_send(op) &&
		       (rxdp_op_middle(op) || rxdp_op_last(op));
	return rxdp_op_is_write(op) && (rxdp_op_middle(op) || rxdp_op_last(op));
}

/*
 * Send an answer without payload (an ACK, NAK or atomic ACK) of psn, with
 * an MSN; orig is an atomic ACK's original value.
 */
static void rxdp_resp_answer_msn(struct rxdp_qp *qp, u8 opcode, u8 syndrome,
				 u32 psn, u32 msn, u64 orig)
{
	struct rxdp_tx_pkt tp;
	struct rxdp_path path;
	unsigned long flags;

	spin_lock_irqsave(&qp->rq.lock, flags);
	path = qp->path;
	spin_unlock_irqrestore(&qp->rq.lock, flags);
	if (rxdp_tx_alloc(&path, 0, opcode, 0, &tp))
		return;
	rxdp_bth_set(tp.bth, opcode, false, 0, RXDP_PKEY_DEFAULT,
		     qp->attr.dest_qp_num, false, psn);
	rxdp_aeth_set(rxdp_ext(tp.bth, opcode, RXDP_EXT_AETH), syndrome, msn);
	if (rxdp_opcodes[opcode].ext & RXDP_EXT_ATMACK)
		rxdp_atmack_set(rxdp_ext(tp.bth, opcode, RXDP_EXT_ATMACK),
				orig);
	rxdp_tx_send_qp(qp, &tp);
}

/* The same, with the MSN so far.  Context: the responder. */
static void rxdp_resp_answer(struct rxdp_qp *qp, u8 opcode, u8 syndrome,
			     u32 psn, u64 orig)
{
	rxdp_resp_answer_msn(qp, opcode, syndrome, psn, qp->resp_msn, orig);
}

/* Send an ACK or NAK of psn. */
static void rxdp_resp_ack(struct rxdp_qp *qp, u8 syndrome, u32 psn)
{
	rxdp_resp_answer(qp, IB_OPCODE_RC_ACKNOWLEDGE, syndrome, psn, 0);
}

/**
 * rxdp_resp_batch_end - the receive queue handed over a batch
 * @qp: the QP
 *
 * The ACK the batch asked for goes now: one for all of it.  While a READ
 * is served it waits: it would cover the READ, and go before responses
 * the sender has yet to send, which the requester would take for lost.
 * The end of the READ runs the receive work again, which sends it.
 */
void rxdp_resp_batch_end(struct rxdp_qp *qp)
{
	/* pairs with the release that ends rxdp_resp_read_serve() */
	if (!qp->resp_ack_due || smp_load_acquire(&qp->resp_read_pending))
		return;
	/* nothing for a connection that is gone (or not yet there) */
	if (!(RXDP_QPS_RX_MASK & BIT(READ_ONCE(qp->state))))
		return;
	qp->resp_ack_due = false;
	rxdp_resp_ack(qp, RXDP_AETH_ACK,
		      rxdp_psn_add(qp->resp_psn, RXDP_PSN_MASK));
}

/**
 * rxdp_resp_reset - the responder starts over (INIT to RTR)
 * @qp: the QP
 *
 * Context: both work queue locks held; no packet is being handled.
 */
void rxdp_resp_reset(struct rxdp_qp *qp)
{
	qp->resp_psn = qp->attr.rq_psn;
	qp->resp_msn = 0;
	qp->resp_op = RXDP_RESP_NONE;
	qp->resp_nak_sent = false;
	qp->resp_drop = false;
	qp->resp_ack_due = false;
	qp->resp_wqe_held = false;
	qp->resp_recv_off = 0;
	qp->resp_read_pending = false;
	memset(qp->resp_atomic, 0, sizeof(qp->resp_atomic));
}

/*
 * Take the next receive WQE (of the RQ or the SRQ) into resp_wqe.
 * Return: 0, -ENOENT when there is none, -EINVAL when the QP does not
 * receive any more.
 */
static int rxdp_resp_take_wqe(struct rxdp_qp *qp)
{
	struct rxdp_srq *srq = qp->srq;
	struct rxe_recv_wqe *dst = qp->resp_wqe;
	struct rxdp_queue *q;
	unsigned long flags;
	bool limit = false;
	u32 max_sge, n, i;
	u64 len = 0;
	int err = 0;

	spin_lock_irqsave(&qp->rq.lock, flags);
	if (!(RXDP_QPS_RX_MASK & BIT(qp->state))) {
		err = -EINVAL;
		goto out;
	}
	if (srq) {
		spin_lock(&srq->lock);
		q = &srq->q;
		max_sge = srq->max_sge;
	} else {
		q = &qp->rq.q;
		max_sge = qp->rq.max_sge;
	}
	if (q->cons == rxdp_queue_load_prod(q)) {
		err = -ENOENT;
	} else {
		const struct rxe_recv_wqe *src = rxdp_queue_addr(q, q->cons);

		/* a user WQE may change under us: one copy, then checked */
		dst->wr_id = READ_ONCE(src->wr_id);
		n = READ_ONCE(src->dma.num_sge);
		n = min3(n, max_sge, (u32)RXDP_MAX_SGE);
		memcpy(dst->dma.sge, src->dma.sge, n * sizeof(*dst->dma.sge));
		for (i = 0; i < n; i++)
			len += dst->dma.sge[i].length;
		dst->dma.num_sge = n;
		dst->dma.length = min_t(u64, len, RXDP_MAX_MSG_SZ);
		rxdp_queue_advance_cons(q);
		qp->resp_wqe_held = true;
		qp->resp_recv_off = 0;
		if (srq && srq->limit &&
		    rxdp_queue_count(q, rxdp_queue_load_prod(q), q->cons) <
		    srq->limit) {
			srq->limit = 0;
			limit = true;
		}
	}
	if (srq)
		spin_unlock(&srq->lock);
out:
	spin_unlock_irqrestore(&qp->rq.lock, flags);
	if (limit && srq->ibsrq.event_handler) {
		struct ib_event ev = {
			.device = srq->ibsrq.device,
			.element.srq = &srq->ibsrq,
			.event = IB_EVENT_SRQ_LIMIT_REACHED,
		};

		srq->ibsrq.event_handler(&ev, srq->ibsrq.srq_context);
	}
	return err;
}

/* Write len bytes at offset off of the held receive WQE's buffers. */
static enum ib_wc_status rxdp_resp_fill_sges(struct rxdp_qp *qp, u32 off,
					     const struct rxdp_pkt *pkt)
{
	const struct rxe_recv_wqe *wqe = qp->resp_wqe;
	struct ib_pd *pd = qp->srq ? qp->srq->ibsrq.pd : qp->ibqp.pd;
	u32 i, len = pkt->paylen, at = 0;
	int err;

	if ((u64)off + len > wqe->dma.length)
		return IB_WC_LOC_LEN_ERR;
	for (i = 0; i < wqe->dma.num_sge && len; i++) {
		const struct rxe_sge *sge = &wqe->dma.sge[i];
		struct rxdp_mr *mr;
		u32 n;

		if (off >= sge->length) {
			off -= sge->length;
			continue;
		}
		n = min(sge->length - off, len);
		mr = rxdp_mr_get(qp->rdev, pd, sge->lkey, sge->addr + off, n,
				 IB_ACCESS_LOCAL_WRITE);
		if (!mr)
			return IB_WC_LOC_PROT_ERR;
		err = rxdp_pkt_write_mr(mr, sge->addr + off, pkt, at, n);
		rxdp_mr_put(mr);
		if (err)
			return IB_WC_LOC_LEN_ERR;
		at += n;
		len -= n;
		off = 0;
	}
	return IB_WC_SUCCESS;
}

/*
 * Write the packet's payload at offset off of the held receive WQE's
 * buffers.  A flush on another CPU (rxdp_flush_held()) waits until this
 * is done before the buffers are the ULP's again.
 * Return: IB_WC_WR_FLUSH_ERR when the WQE was flushed meanwhile.
 */
static enum ib_wc_status rxdp_resp_fill(struct rxdp_qp *qp, u32 off,
					const struct rxdp_pkt *pkt)
{
	enum ib_wc_status status = IB_WC_WR_FLUSH_ERR;
	unsigned long flags;

	/* no interrupt on this CPU while a flush on another waits for it */
	local_irq_save(flags);
	WRITE_ONCE(qp->rq.busy, 1);
	/* pairs with the barrier in rxdp_flush_held() */
	smp_mb();
	if (READ_ONCE(qp->resp_wqe_held))
		status = rxdp_resp_fill_sges(qp, off, pkt);
	/* the writes done before a flush may see it (rxdp_wq_wait_idle()) */
	smp_store_release(&qp->rq.busy, 0);
	local_irq_restore(flags);
	return status;
}

/*
 * Complete the held receive WQE.  Return: false when its completion was
 * lost (the CQ overflowed) and the QP must go to the error state.
 */
static bool rxdp_resp_complete(struct rxdp_qp *qp, struct ib_wc *wc,
			       bool solicited)
{
	unsigned long flags;
	bool ok = true;

	wc->qp = &qp->ibqp;
	wc->port_num = RXDP_PORT;
	wc->src_qp = qp->attr.dest_qp_num;
	spin_lock_irqsave(&qp->rq.lock, flags);
	/* a move to ERR completes it with a flush error instead */
	if (qp->resp_wqe_held) {
		qp->resp_wqe_held = false;
		wc->wr_id = qp->resp_wqe->wr_id;
		if (wc->status == IB_WC_SUCCESS)
			rxdp_stat_inc(qp->rdev, RXDP_CNT_RECVS_DONE);
		ok = !rxdp_cq_post(qp->rcq, wc, solicited);
	}
	spin_unlock_irqrestore(&qp->rq.lock, flags);
	return ok;
}

/*
 * The responder failed a request: RC NAKs it; the held WQE completes with
 * status (unless IB_WC_SUCCESS), and the QP goes to the error state.
 */
static void rxdp_resp_fail(struct rxdp_qp *qp, u32 gen, u8 nak,
			   enum ib_wc_status status)
{
	if (qp->ibqp.qp_type == IB_QPT_RC)
		rxdp_resp_ack(qp, nak, qp->resp_psn);
	if (status != IB_WC_SUCCESS) {
		struct ib_wc wc = { .status = status, .opcode = IB_WC_RECV };

		rxdp_resp_complete(qp, &wc, false);
	}
	rxdp_qp_error_gen(qp, gen);
}

/* The MR a WRITE, READ or atomic may use for len bytes at va: by key. */
static struct rxdp_mr *rxdp_resp_mr(struct rxdp_qp *qp, u32 rkey, u64 va,
				    u64 len, int access)
{
	if ((qp->attr.qp_access_flags & access) != access)
		return NULL;
	return rxdp_rkey_get(qp, rkey, va, len, access);
}

/*
 * Hand a READ's n responses (or a persistent FLUSH's write-back, then its
 * answer) to the QP's sender.
 */
static void rxdp_resp_serve(struct rxdp_qp *qp, u32 psn, u32 gen, u32 rkey,
			    u64 va, u64 len, u32 n, bool persist)
{
	qp->resp_read.va = va;
	qp->resp_read.rkey = rkey;
	qp->resp_read.persist = persist;
	qp->resp_read.len = len;
	qp->resp_read.off = 0;
	qp->resp_read.psn = psn;
	qp->resp_read.n = n;
	qp->resp_read.i = 0;
	qp->resp_read.msn = qp->resp_msn;
	qp->resp_read.gen = gen;
	/* the request complete before the sender sees it */
	smp_store_release(&qp->resp_read_pending, true);
	rxdp_req_kick(qp);
}

/*
 * Take a READ request: its responses go from the QP's sender, as the QP's
 * frames in the stack allow (rxdp_resp_read_serve()); the responder takes
 * no other packet meanwhile.  Return: a NAK or 0.
 */
static u8 rxdp_resp_read(struct rxdp_qp *qp, const struct rxdp_pkt *pkt,
			 u32 gen, bool dup)
{
	const u8 *reth = rxdp_ext_c(pkt->bth, pkt->opcode, RXDP_EXT_RETH);
	u32 mtu = rxdp_qp_mtu(qp), len = rxdp_reth_len(reth);
	u64 va = rxdp_reth_va(reth);
	struct rxdp_mr *mr;

	if (len > RXDP_MAX_MSG_SZ)
		return RXDP_AETH_NAK_INV;
	if (len) {
		mr = rxdp_resp_mr(qp, rxdp_reth_rkey(reth), va, len,
				  IB_ACCESS_REMOTE_READ);
		if (!mr)
			return RXDP_AETH_NAK_ACCESS;
		rxdp_mr_put(mr);
	}
	qp->resp_read.dup = dup;
	rxdp_resp_serve(qp, pkt->psn, gen, rxdp_reth_rkey(reth), va, len,
			len ? DIV_ROUND_UP(len, mtu) : 1, false);
	return 0;
}

/**
 * rxdp_resp_read_again - count a READ request asked for again
 * @qp: the QP
 * @bth: the BTH of a packet about to be queued, in the module's copy
 *
 * The requester asks again for a READ from the first response it missed,
 * and takes no response past that one until the new ones come: a request
 * for a PSN the responder took before supersedes the responses from that
 * PSN on of the READ being served.  The sender stops serving at that point
 * while the request is queued (rxdp_resp_read_superseded()), and the
 * responder takes it next, instead of sending the rest of the old READ
 * first (each loss would cost the rest of the READ again).  Counted before
 * the packet is queued, uncounted as the responder takes it or it is
 * dropped.  resp_psn is read without rx_lock: a request misjudged at
 * worst stops a READ early, which the requester asks for again.
 * Context: BH disabled.
 * Return: true when the packet was counted in resp_read_again.
 */
bool rxdp_resp_read_again(struct rxdp_qp *qp, const u8 *bth)
{
	u32 psn = rxdp_bth_psn(bth);

	if (qp->ibqp.qp_type != IB_QPT_RC ||
	    rxdp_bth_opcode(bth) != IB_OPCODE_RC_RDMA_READ_REQUEST ||
	    rxdp_psn_diff(psn, READ_ONCE(qp->resp_psn)) >= 0)
		return false;
	WRITE_ONCE(qp->resp_read_again_psn, psn);
	/* the PSN before the count: pairs with rxdp_resp_read_superseded() */
	smp_mb__before_atomic();
	atomic_inc(&qp->resp_read_again);
	return true;
}

/*
 * Does a READ asked for again wait in the queue for psn, the response the
 * sender is about to send, or for one before it?  One for a later PSN (the
 * next part of the READ, asked for again behind this one) does not stop
 * this one: the requester waits for it.
 */
static bool rxdp_resp_read_superseded(struct rxdp_qp *qp, u32 psn)
{
	if (!atomic_read(&qp->resp_read_again))
		return false;
	/* pairs with the barrier in rxdp_resp_read_again() */
	smp_rmb();
	return rxdp_psn_diff(READ_ONCE(qp->resp_read_again_psn), psn) <= 0;
}

/* the write-back of a persistent FLUSH done for each packet of budget */
#define RXDP_PERSIST_CHUNK	SZ_64K

/*
 * The write-back of the persistent FLUSH being served, a chunk for each
 * packet of budget, so that a FLUSH of a large key takes its turn on the
 * CPU as a large READ does.  Return: 0 when done, -EAGAIN when the budget
 * ran out, -ESHUTDOWN when the QP takes no requests any more, another
 * errno when the key no longer allows it.
 */
static int rxdp_resp_persist(struct rxdp_qp *qp, int *budget)
{
	while (qp->resp_read.off < qp->resp_read.len) {
		u64 va = qp->resp_read.va + qp->resp_read.off;
		u64 n = min_t(u64, qp->resp_read.len - qp->resp_read.off,
			      RXDP_PERSIST_CHUNK);
		struct rxdp_mr *mr;
		int err;

		if (!(RXDP_QPS_RX_MASK & BIT(READ_ONCE(qp->state))))
			return -ESHUTDOWN;
		if (!*budget)
			return -EAGAIN;
		mr = rxdp_resp_mr(qp, qp->resp_read.rkey, va, n,
				  IB_ACCESS_FLUSH_PERSISTENT);
		if (!mr)
			return -EACCES;
		err = rxdp_mr_persist(mr, va, n);
		rxdp_mr_put(mr);
		if (err)
			return err;
		rxdp_stat_add(qp->rdev, RXDP_CNT_FLUSH_PERSISTED, n);
		qp->resp_read.off += n;
		(*budget)--;
	}
	return 0;
}

/**
 * rxdp_resp_read_serve - send the responses of the READ being served
 * @qp: an RC QP
 * @budget: packets the sender may still send; decreased
 *
 * A piece of memory the key no longer allows (deregistered, invalidated,
 * its access changed meanwhile) is a remote access error, NAKed at its
 * PSN, and the QP goes to the error state before the responder takes
 * anything that came behind the request (not for a READ asked for again:
 * its NAK may be stale).  A persistent FLUSH is served as a READ of no
 * data, once its write-back is done.
 * Context: the QP's sender (req_lock held).
 * Return: true when the budget ran out with responses left.  When the
 * QP's frames in the stack are at their cap, false with the READ still
 * pending: nothing else may go either, and a frame's release runs the
 * sender again (polling for room here would spin on this CPU).
 */
bool rxdp_resp_read_serve(struct rxdp_qp *qp, int *budget)
{
	u32 mtu = rxdp_qp_mtu(qp);
	struct rxdp_path path;
	unsigned long flags;
	u32 psn;

	/* pairs with the release in rxdp_resp_serve(): the request is in */
	if (!smp_load_acquire(&qp->resp_read_pending))
		return false;
	/* one taken before a RESET, seen after it: not this connection's */
	if (qp->resp_read.gen != READ_ONCE(qp->rx_gen))
		goto end;
	if (qp->resp_read.persist) {
		int err = rxdp_resp_persist(qp, budget);

		psn = qp->resp_read.psn;
		if (err == -EAGAIN)
			return true;
		if (err == -ESHUTDOWN)
			goto end;
		if (err)
			goto refuse;
		/* the writes before it are seen before its answer is */
		wmb();
	}
	spin_lock_irqsave(&qp->rq.lock, flags);
	path = qp->path;
	spin_unlock_irqrestore(&qp->rq.lock, flags);
	while (qp->resp_read.i < qp->resp_read.n) {
		u32 i = qp->resp_read.i, n = qp->resp_read.n;
		u32 plen = min_t(u64, mtu,
				 qp->resp_read.len - qp->resp_read.off);
		u8 op = n == 1 ? OP(RC_RDMA_READ_RESPONSE_ONLY) :
			!i ? OP(RC_RDMA_READ_RESPONSE_FIRST) :
			i == n - 1 ? OP(RC_RDMA_READ_RESPONSE_LAST) :
			OP(RC_RDMA_READ_RESPONSE_MIDDLE);
		u64 va = qp->resp_read.va + qp->resp_read.off;
		struct rxdp_mr *mr = NULL;
		struct rxdp_tx_pkt tp;
		bool put;

		psn = rxdp_psn_add(qp->resp_read.psn, i);
		if (!(RXDP_QPS_RX_MASK & BIT(READ_ONCE(qp->state))) ||
		    rxdp_resp_read_superseded(qp, psn))
			break;
		if (!*budget)
			return true;
		if (!rxdp_tx_may_send(qp))
			return false;
		if (plen) {
			mr = rxdp_resp_mr(qp, qp->resp_read.rkey, va, plen,
					  IB_ACCESS_REMOTE_READ);
			if (!mr)
				goto refuse;
		}
		if (!rxdp_tx_alloc(&path, 0, op, plen, &tp)) {
			rxdp_bth_set(tp.bth, op, false, -plen & 3,
				     RXDP_PKEY_DEFAULT, qp->attr.dest_qp_num,
				     false, psn);
			if (rxdp_opcodes[op].ext & RXDP_EXT_AETH)
				rxdp_aeth_set(rxdp_ext(tp.bth, op,
						       RXDP_EXT_AETH),
					      RXDP_AETH_ACK, qp->resp_read.msn);
			put = !plen || rxdp_tx_put_mr(&tp, mr, va, plen);
			/*
			 * The bytes are in the frame (or it holds a user MR
			 * itself): no reference is held while it is handed
			 * on, which may take other QPs' locks.
			 */
			if (mr)
				rxdp_mr_put(mr);
			mr = NULL;
			if (put)
				rxdp_tx_send_qp(qp, &tp);
			else
				rxdp_tx_free(&tp);
		}
		/* no memory for it: a lost packet, asked for again */
		if (mr)
			rxdp_mr_put(mr);
		qp->resp_read.off += plen;
		qp->resp_read.i++;
		(*budget)--;
	}
	goto end;
refuse:
	/* the MSN before it; one asked for again may be stale (see there) */
	rxdp_resp_answer_msn(qp, IB_OPCODE_RC_ACKNOWLEDGE, RXDP_AETH_NAK_ACCESS,
			     psn, rxdp_psn_add(qp->resp_read.msn,
					       qp->resp_read.persist ?
					       RXDP_PSN_MASK : 0), 0);
	if (!qp->resp_read.dup)
		rxdp_qp_error_gen(qp, qp->resp_read.gen);
end:
	/* done (or ended): the responder goes on */
	smp_store_release(&qp->resp_read_pending, false);
	if (!test_bit(RXDP_QP_DYING, &qp->flags))
		queue_work(system_bh_wq, &qp->rx_work);
	return false;
}

/* Atomics of every rxdp QP are atomic with respect to one another. */
static DEFINE_SPINLOCK(rxdp_atomic_lock);

/* Send the answer to the atomic of psn, with its original value. */
static void rxdp_resp_atomic_ack(struct rxdp_qp *qp, u32 psn, u64 orig)
{
	rxdp_resp_answer(qp, IB_OPCODE_RC_ATOMIC_ACKNOWLEDGE, RXDP_AETH_ACK,
			 psn, orig);
}

/*
 * An atomic, executed once: a duplicate gets the result it had.
 * Return: a NAK or 0.
 */
static u8 rxdp_resp_atomic(struct rxdp_qp *qp, const struct rxdp_pkt *pkt,
			   bool dup)
{
	const u8 *ae = rxdp_ext_c(pkt->bth, pkt->opcode, RXDP_EXT_ATMETH);
	u32 slot = pkt->psn & (RXDP_RESP_ATOMICS - 1);
	u64 va = rxdp_atmeth_va(ae), cur, val;
	struct rxdp_mr *mr;
	unsigned long flags;

	if (dup) {
		if (qp->resp_atomic[slot].valid &&
		    qp->resp_atomic[slot].psn == pkt->psn)
			rxdp_resp_atomic_ack(qp, pkt->psn,
					     qp->resp_atomic[slot].orig);
		return 0;	/* too old to answer: the requester retries */
	}
	if (va & (sizeof(u64) - 1))
		return RXDP_AETH_NAK_INV;
	mr = rxdp_resp_mr(qp, rxdp_atmeth_rkey(ae), va, sizeof(u64),
			  IB_ACCESS_REMOTE_ATOMIC);
	if (!mr)
		return RXDP_AETH_NAK_ACCESS;
	spin_lock_irqsave(&rxdp_atomic_lock, flags);
	rxdp_mr_read(mr, va, &cur, sizeof(cur));
	if ((pkt->opcode & 0x1f) == OP(COMPARE_SWAP))
		val = cur == rxdp_atmeth_compare(ae) ?
		      rxdp_atmeth_swap_add(ae) : cur;
	else
		val = cur + rxdp_atmeth_swap_add(ae);
	rxdp_mr_write(mr, va, &val, sizeof(val));
	spin_unlock_irqrestore(&rxdp_atomic_lock, flags);
	rxdp_mr_put(mr);

	qp->resp_atomic[slot].psn = pkt->psn;
	qp->resp_atomic[slot].orig = cur;
	qp->resp_atomic[slot].valid = true;
	qp->resp_msn = rxdp_psn_add(qp->resp_msn, 1);
	rxdp_resp_atomic_ack(qp, pkt->psn, cur);
	return 0;
}

/* The answer of an ATOMIC WRITE or FLUSH: a READ response without data. */
static void rxdp_resp_read_ack(struct rxdp_qp *qp, u32 psn)
{
	rxdp_resp_answer(qp, IB_OPCODE_RC_RDMA_READ_RESPONSE_ONLY,
			 RXDP_AETH_ACK, psn, 0);
}

/*
 * An ATOMIC WRITE: 8 aligned bytes, written at once with respect to the
 * atomics (IBA oA19-28).  A duplicate is answered, not written again.
 * Return: a NAK or 0.
 */
static u8 rxdp_resp_atomic_write(struct rxdp_qp *qp,
				 const struct rxdp_pkt *pkt)
{
	const u8 *reth = rxdp_ext_c(pkt->bth, pkt->opcode, RXDP_EXT_RETH);
	u64 va = rxdp_reth_va(reth), val;
	struct rxdp_mr *mr;
	unsigned long flags;
	u32 at, k;

	if (rxdp_reth_len(reth) != sizeof(val) || pkt->paylen != sizeof(val) ||
	    (va & (sizeof(val) - 1)))
		return RXDP_AETH_NAK_INV;
	for (at = 0; at < sizeof(val); at += k) {
		const u8 *p = rxdp_pkt_piece(pkt, at, sizeof(val) - at, &k);

		if (!p)
			return RXDP_AETH_NAK_INV;
		memcpy((u8 *)&val + at, p, k);
	}
	mr = rxdp_resp_mr(qp, rxdp_reth_rkey(reth), va, sizeof(val),
			  IB_ACCESS_REMOTE_WRITE);
	if (!mr)
		return RXDP_AETH_NAK_ACCESS;
	spin_lock_irqsave(&rxdp_atomic_lock, flags);
	rxdp_mr_write(mr, va, &val, sizeof(val));
	spin_unlock_irqrestore(&rxdp_atomic_lock, flags);
	rxdp_mr_put(mr);
	qp->resp_msn = rxdp_psn_add(qp->resp_msn, 1);
	rxdp_resp_read_ack(qp, pkt->psn);
	return 0;
}

/*
 * A FLUSH (IBA A19.4): what the QP wrote before it is made globally
 * visible, or persistent, or both, over a range of the key or all of it.
 * The QP and the key must allow each placement asked for.  Answered as an
 * ATOMIC WRITE is, once persistent when asked (by the QP's sender, as a
 * READ is served); a duplicate is answered again.  Return: a NAK or 0.
 */
static u8 rxdp_resp_flush(struct rxdp_qp *qp, const struct rxdp_pkt *pkt,
			  u32 gen)
{
	const u8 *reth = rxdp_ext_c(pkt->bth, pkt->opcode, RXDP_EXT_RETH);
	const u8 *feth = rxdp_ext_c(pkt->bth, pkt->opcode, RXDP_EXT_FETH);
	u32 plt = rxdp_feth_plt(feth), rkey = rxdp_reth_rkey(reth);
	u64 va = rxdp_reth_va(reth), len = rxdp_reth_len(reth);
	struct rxdp_mr *mr;
	int access = 0;

	if (!plt || (plt & ~(IB_FLUSH_GLOBAL | IB_FLUSH_PERSISTENT)) ||
	    rxdp_feth_sel(feth) > IB_FLUSH_MR || pkt->paylen)
		return RXDP_AETH_NAK_INV;
	if (plt & IB_FLUSH_GLOBAL)
		access |= IB_ACCESS_FLUSH_GLOBAL;
	if (plt & IB_FLUSH_PERSISTENT)
		access |= IB_ACCESS_FLUSH_PERSISTENT;
	if (rxdp_feth_sel(feth) == IB_FLUSH_MR &&
	    rxdp_rkey_span(qp, rkey, &va, &len))
		return RXDP_AETH_NAK_ACCESS;
	mr = rxdp_resp_mr(qp, rkey, va, len, access);
	if (!mr)
		return RXDP_AETH_NAK_ACCESS;
	rxdp_mr_put(mr);
	qp->resp_msn = rxdp_psn_add(qp->resp_msn, 1);
	if (plt & IB_FLUSH_PERSISTENT) {
		qp->resp_read.dup = false;
		rxdp_resp_serve(qp, pkt->psn, gen, rkey, va, len, 1, true);
		return 0;
	}
	/* the writes before it are seen before its answer is */
	wmb();
	rxdp_resp_read_ack(qp, pkt->psn);
	return 0;
}

/*
 * The packet of a SEND: its WQE taken with the first packet.
 * Return: a NAK to send, 0, or RXDP_AETH_RNR(0) for an RNR NAK.
 */
static u8 rxdp_resp_send(struct rxdp_qp *qp, const struct rxdp_pkt *pkt,
			 u32 gen, bool *done)
{
	u8 op = pkt->opcode & 0x1f;
	enum ib_wc_status status;

	if (rxdp_op_starts(op) && !qp->resp_wqe_held) {
		int err = rxdp_resp_take_wqe(qp);

		if (err == -ENOENT)
			return RXDP_AETH_RNR(0);
		if (err) {
			*done = true;	/* the QP went to the error state */
			return 0;
		}
	}
	/* a message in sequence holds its WQE, unless a flush took it */
	if (!qp->resp_wqe_held) {
		*done = true;	/* the QP went to the error state */
		return 0;
	}
	status = rxdp_resp_fill(qp, qp->resp_recv_off, pkt);
	if (status == IB_WC_WR_FLUSH_ERR) {
		*done = true;	/* the QP went to the error state */
		return 0;
	}
	if (status != IB_WC_SUCCESS) {
		rxdp_resp_fail(qp, gen, status == IB_WC_LOC_LEN_ERR ?
			       RXDP_AETH_NAK_INV : RXDP_AETH_NAK_OP, status);
		*done = true;
		return 0;
	}
	qp->resp_recv_off += pkt->paylen;
	if (!rxdp_op_first(op) && !rxdp_op_middle(op)) {
		struct ib_wc wc = {
			.status = IB_WC_SUCCESS,
			.opcode = IB_WC_RECV,
			.byte_len = qp->resp_recv_off,
		};

		if (rxdp_op_has_imm(op)) {
			wc.wc_flags |= IB_WC_WITH_IMM;
			wc.ex.imm_data = rxdp_pkt_be32(pkt, RXDP_EXT_IMMDT);
		}
		if (rxdp_opcodes[pkt->opcode].ext & RXDP_EXT_IETH) {
			u32 rkey = be32_to_cpu(rxdp_pkt_be32(pkt, RXDP_EXT_IETH));

			/* invalid before the ULP hears of the message */
			if (rxdp_key_invalidate(qp, rkey, true)) {
				rxdp_resp_fail(qp, gen, RXDP_AETH_NAK_INV,
					       IB_WC_REM_INV_REQ_ERR);
				*done = true;
				return 0;
			}
			wc.wc_flags |= IB_WC_WITH_INVALIDATE;
			wc.ex.invalidate_rkey = rkey;
		}
		qp->resp_recv_off = 0;
		if (!rxdp_resp_complete(qp, &wc, rxdp_bth_se(pkt->bth))) {
			rxdp_qp_error_gen(qp, gen);
			*done = true;
		}
	}
	return 0;
}

/* The packet of a WRITE.  Return: as rxdp_resp_send(). */
static u8 rxdp_resp_write(struct rxdp_qp *qp, const struct rxdp_pkt *pkt,
			  u32 gen, bool *done)
{
	u8 op = pkt->opcode & 0x1f;
	bool first = op == OP(RDMA_WRITE_FIRST) ||
		     op == OP(RDMA_WRITE_ONLY) ||
		     op == OP(RDMA_WRITE_ONLY_WITH_IMMEDIATE);
	bool end = !rxdp_op_first(op) && !rxdp_op_middle(op);
	struct rxdp_mr *mr;

	if (first) {
		const u8 *reth = rxdp_ext_c(pkt->bth, pkt->opcode,
					    RXDP_EXT_RETH);

		qp->resp_write.va = rxdp_reth_va(reth);
		qp->resp_write.rkey = rxdp_reth_rkey(reth);
		qp->resp_write.len = rxdp_reth_len(reth);
		qp->resp_write.resid = qp->resp_write.len;
		if (qp->resp_write.len > RXDP_MAX_MSG_SZ)
			return RXDP_AETH_NAK_INV;
		/* the whole range once; each packet its piece below */
		if (qp->resp_write.len) {
			mr = rxdp_resp_mr(qp, qp->resp_write.rkey,
					  qp->resp_write.va, qp->resp_write.len,
					  IB_ACCESS_REMOTE_WRITE);
			if (!mr)
				return RXDP_AETH_NAK_ACCESS;
			rxdp_mr_put(mr);
		}
	}
	if (pkt->paylen > qp->resp_write.resid ||
	    (end && pkt->paylen != qp->resp_write.resid))
		return RXDP_AETH_NAK_INV;
	/* WRITE with immediate: a receive WQE, or nothing is written */
	if (end && rxdp_op_has_imm(op) && !qp->resp_wqe_held) {
		int err = rxdp_resp_take_wqe(qp);

		if (err == -ENOENT)
			return RXDP_AETH_RNR(0);
		if (err) {
			*done = true;
			return 0;
		}
	}
	if (pkt->paylen) {
		int bad;

		mr = rxdp_resp_mr(qp, qp->resp_write.rkey, qp->resp_write.va,
				  pkt->paylen, IB_ACCESS_REMOTE_WRITE);
		if (!mr)
			return RXDP_AETH_NAK_ACCESS;
		bad = rxdp_pkt_write_mr(mr, qp->resp_write.va, pkt, 0,
					pkt->paylen);
		rxdp_mr_put(mr);
		if (bad)
			return RXDP_AETH_NAK_INV;
		qp->resp_write.va += pkt->paylen;
		qp->resp_write.resid -= pkt->paylen;
	}
	if (end && rxdp_op_has_imm(op)) {
		struct ib_wc wc = {
			.status = IB_WC_SUCCESS,
			.opcode = IB_WC_RECV_RDMA_WITH_IMM,
			.byte_len = qp->resp_write.len,
			.wc_flags = IB_WC_WITH_IMM,
			.ex.imm_data = rxdp_pkt_be32(pkt, RXDP_EXT_IMMDT),
		};

		if (!rxdp_resp_complete(qp, &wc, rxdp_bth_se(pkt->bth))) {
			rxdp_qp_error_gen(qp, gen);
			*done = true;
		}
	}
	return 0;
}

/* Is the payload as long as its place in the message allows? */
static bool rxdp_resp_len_ok(struct rxdp_qp *qp, const struct rxdp_pkt *pkt)
{
	u8 op = pkt->opcode & 0x1f;
	u32 mtu = rxdp_qp_mtu(qp);

	if (rxdp_op_first(op) || rxdp_op_middle(op))
		return pkt->paylen == mtu;
	if (rxdp_op_last(op))
		return pkt->paylen && pkt->paylen <= mtu;
	return pkt->paylen <= mtu;
}

/**
 * rxdp_resp_rc - a request for an RC or UC QP
 * @qp: the QP
 * @pkt: the request
 * @gen: the QP's incarnation the packet came in
 *
 * Return: true when the transport accepted the packet (in sequence, from
 * the peer).
 */
bool rxdp_resp_rc(struct rxdp_qp *qp, const struct rxdp_pkt *pkt, u32 gen)
{
	bool rc = qp->ibqp.qp_type == IB_QPT_RC, done = false;
	u8 op = pkt->opcode & 0x1f, nak = 0;
	s32 d = rxdp_psn_diff(pkt->psn, qp->resp_psn);

	if (!rc) {
		/* a gap: the message is lost, the next one starts anew */
		if (d) {
			if (!rxdp_op_starts(op)) {
				qp->resp_drop = true;
				qp->resp_psn = rxdp_psn_add(pkt->psn, 1);
				return false;
			}
			qp->resp_psn = pkt->psn;
			qp->resp_op = RXDP_RESP_NONE;
			qp->resp_drop = false;
			qp->resp_recv_off = 0;
		}
		if (qp->resp_drop) {
			if (!rxdp_op_starts(op)) {
				qp->resp_psn = rxdp_psn_add(pkt->psn, 1);
				return false;
			}
			qp->resp_drop = false;
			qp->resp_op = RXDP_RESP_NONE;
			qp->resp_recv_off = 0;
		}
	} else if (d < 0) {
		/* a duplicate: acknowledged again, a READ served again */
		rxdp_stat_inc(qp->rdev, RXDP_CNT_DUP_REQ);
		if (op == OP(RDMA_READ_REQUEST))
			nak = rxdp_resp_read(qp, pkt, gen, true);
		else if (op == OP(COMPARE_SWAP) || op == OP(FETCH_ADD))
			rxdp_resp_atomic(qp, pkt, true);
		else if (op == OP(ATOMIC_WRITE) || op == OP(FLUSH))
			rxdp_resp_read_ack(qp, pkt->psn);
		else
			qp->resp_ack_due = true;
		/*
		 * A READ asked for again that its key no longer allows is
		 * NAKed at its PSN, the QP left as it is: the NAK may be
		 * stale, which the requester knows.
		 */
		if (nak)
			rxdp_resp_ack(qp, nak, pkt->psn);
		return false;
	} else if (d > 0) {
		rxdp_stat_inc(qp->rdev, RXDP_CNT_OUT_OF_SEQ_REQ);
		if (!qp->resp_nak_sent) {
			qp->resp_nak_sent = true;
			rxdp_resp_ack(qp, RXDP_AETH_NAK_PSN, qp->resp_psn);
		}
		return false;
	}
	qp->resp_nak_sent = false;

	if (!rxdp_resp_seq_ok(qp, op) || !rxdp_resp_len_ok(qp, pkt)) {
		if (!rc) {
			qp->resp_drop = true;
			qp->resp_psn = rxdp_psn_add(pkt->psn, 1);
			return false;
		}
		rxdp_resp_fail(qp, gen, RXDP_AETH_NAK_INV, IB_WC_SUCCESS);
		return false;
	}

	if (rxdp_op_is_send(op))
		nak = rxdp_resp_send(qp, pkt, gen, &done);
	else if (rxdp_op_is_write(op))
		nak = rxdp_resp_write(qp, pkt, gen, &done);
	else if (op == OP(RDMA_READ_REQUEST) && rc)
		nak = rxdp_resp_read(qp, pkt, gen, false);
	else if ((op == OP(COMPARE_SWAP) || op == OP(FETCH_ADD)) && rc)
		nak = rxdp_resp_atomic(qp, pkt, false);
	else if (op == OP(ATOMIC_WRITE) && rc)
		nak = rxdp_resp_atomic_write(qp, pkt);
	else if (op == OP(FLUSH) && rc)
		nak = rxdp_resp_flush(qp, pkt, gen);
	else
		nak = RXDP_AETH_NAK_INV;
	if (done)
		return false;
	if (rc && RXDP_AETH_TYPE(nak) == RXDP_AETH_TYPE_RNR) {
		/* not executed: the requester sends it again later */
		rxdp_stat_inc(qp->rdev, RXDP_CNT_SND_RNR);
		rxdp_resp_ack(qp, RXDP_AETH_RNR(qp->attr.min_rnr_timer),
			      pkt->psn);
		return false;
	}
	if (nak) {
		if (!rc) {
			qp->resp_drop = true;
			qp->resp_psn = rxdp_psn_add(pkt->psn, 1);
			return false;
		}
		rxdp_resp_fail(qp, gen, nak, IB_WC_SUCCESS);
		return false;
	}

	if (op == OP(COMPARE_SWAP) || op == OP(FETCH_ADD) ||
	    op == OP(ATOMIC_WRITE) || op == OP(FLUSH)) {
		qp->resp_psn = rxdp_psn_add(pkt->psn, 1);
		qp->resp_op = RXDP_RESP_NONE;
		return true;
	}
	if (op == OP(RDMA_READ_REQUEST)) {
		const u8 *reth = rxdp_ext_c(pkt->bth, pkt->opcode,
					    RXDP_EXT_RETH);
		u32 len = rxdp_reth_len(reth), mtu = rxdp_qp_mtu(qp);

		qp->resp_psn = rxdp_psn_add(pkt->psn,
					    len ? DIV_ROUND_UP(len, mtu) : 1);
		qp->resp_msn = rxdp_psn_add(qp->resp_msn, 1);
		qp->resp_op = RXDP_RESP_NONE;
		return true;
	}
	qp->resp_psn = rxdp_psn_add(pkt->psn, 1);
	if (rxdp_op_first(op) || rxdp_op_middle(op)) {
		qp->resp_op = op;
	} else {
		qp->resp_op = RXDP_RESP_NONE;
		qp->resp_msn = rxdp_psn_add(qp->resp_msn, 1);
	}
	if (rc && rxdp_bth_ackreq(pkt->bth))
		qp->resp_ack_due = true;
	return true;
}

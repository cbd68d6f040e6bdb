// SPDX-License-Identifier: GPL-2.0
/*
 * The requester: turns the send WQEs of a QP into packets.
 *
 * One requester runs per QP at a time (req_lock).  It runs in the context
 * of the post when it can: post_send of a kernel QP, or the doorbell of a
 * user QP, for a budget of packets, when the QP's sender is idle and IRQs
 * are on.  The rest, and whatever is posted with IRQs off (ib_mad posts
 * under a spinlock that disables them), goes to the QP's send runner, a
 * BH work item.  Packets never leave with IRQs off.
 *
 * A WQE is read from the checked copy (rxdp_sq_wqe()) into req_wqe under
 * the SQ lock; the packet is built and sent without it.  When the QP was
 * reset or flushed meanwhile, the packet is dropped instead.  While its
 * memory is read, the WQE is marked busy (sq.busy), and a completion of
 * it from elsewhere (an ACK, a flush) waits for the copy to end.
 *
 * UD and GSI: one WQE, one packet, complete once it is sent.  RC and UC:
 * a message is cut into packets of the path MTU (a READ into requests for
 * parts of it, rxdp_req_read_part()), each with the next PSN; UC
 * completes a message once it is sent, RC when the completer hears of
 * it.  No more than req_window PSNs are in flight, and never 2^23 with a
 * long message, where their order would be lost; no more READs than
 * max_rd_atomic, and a fenced WQE waits for the READs before it.
 */
#include "rxdp.h"
#include "rxdp_hdr.h"

/* packets sent inline by a post, and per run of the send runner */
#define RXDP_REQ_INLINE_BUDGET	16
#define RXDP_REQ_RUN_BUDGET	64

#define RXDP_QKEY_PRIVILEGED	0x80000000u

/**
 * rxdp_wqe_walk - the pieces of a send WQE's message
 * @qp: the QP
 * @wqe: a checked WQE (its SGEs or inline data)
 * @off: where in the message
 * @length: how many bytes
 * @access: the access to the SGEs' memory the caller needs
 *	(IB_ACCESS_LOCAL_WRITE, or 0 to read it)
 * @fn: called for each piece in order, with the MR of its SGE referenced
 *	for the call and an address in it, or with NULL and the kernel
 *	address of inline data; its false ends the walk
 * @arg: @fn's
 *
 * Return: IB_WC_SUCCESS, or the status of the WQE's completion in error
 * (an MR deregistered meanwhile, or @fn's refusal).
 */
enum ib_wc_status rxdp_wqe_walk(struct rxdp_qp *qp,
				const struct rxe_send_wqe *wqe, u64 off,
				u32 length, int access, rxdp_wqe_piece_fn fn,
				void *arg)
{
	u32 num_sge = min_t(u32, wqe->dma.num_sge, qp->sq.max_sge), i;

	if (wqe->wr.opcode == IB_WR_ATOMIC_WRITE) {
		/* its value, where inline data go (checked: there is room) */
		if (access || off + length > sizeof(u64))
			return IB_WC_LOC_LEN_ERR;
		return fn(arg, NULL, (uintptr_t)(wqe->dma.atomic_wr + off),
			  length) ? IB_WC_SUCCESS : IB_WC_LOC_QP_OP_ERR;
	}
	if (wqe->wr.send_flags & IB_SEND_INLINE) {
		if (access || off + length > qp->sq.max_inline)
			return IB_WC_LOC_LEN_ERR;
		return fn(arg, NULL, (uintptr_t)(wqe->dma.inline_data + off),
			  length) ? IB_WC_SUCCESS : IB_WC_LOC_QP_OP_ERR;
	}
	for (i = 0; i < num_sge && length; i++) {
		const struct rxe_sge *sge = &wqe->dma.sge[i];
		struct rxdp_mr *mr;
		bool ok;
		u32 n;

		if (off >= sge->length) {
			off -= sge->length;
			continue;
		}
		n = min_t(u64, sge->length - off, length);
		mr = rxdp_mr_get(qp->rdev, qp->ibqp.pd, sge->lkey,
				 sge->addr + off, n, access);
		if (!mr)
			return IB_WC_LOC_PROT_ERR;
		ok = fn(arg, mr, sge->addr + off, n);
		rxdp_mr_put(mr);
		if (!ok)
			return IB_WC_LOC_QP_OP_ERR;
		length -= n;
		off = 0;
	}
	return length ? IB_WC_LOC_LEN_ERR : IB_WC_SUCCESS;
}

struct rxdp_wqe_copy_arg {
	u8	*buf;
	bool	to_wqe;
};

static bool rxdp_wqe_copy_piece(void *arg, struct rxdp_mr *mr, u64 addr,
				u32 n)
{
	struct rxdp_wqe_copy_arg *c = arg;

	if (!mr)
		memcpy(c->buf, (const void *)(uintptr_t)addr, n);
	else if (c->to_wqe)
		rxdp_mr_write(mr, addr, c->buf, n);
	else
		rxdp_mr_read(mr, addr, c->buf, n);
	c->buf += n;
	return true;
}

/**
 * rxdp_wqe_copy - copy between a send WQE's message and a buffer
 * @qp: the QP
 * @wqe: a checked WQE (its SGEs or inline data)
 * @off: where in the message
 * @buf: the buffer
 * @length: how many bytes
 * @to_wqe: write into the WQE's memory (a READ's response), else read it
 *
 * Return: as rxdp_wqe_walk().
 */
enum ib_wc_status rxdp_wqe_copy(struct rxdp_qp *qp,
				const struct rxe_send_wqe *wqe, u64 off,
				u8 *buf, u32 length, bool to_wqe)
{
	struct rxdp_wqe_copy_arg c = { .buf = buf, .to_wqe = to_wqe };

	return rxdp_wqe_walk(qp, wqe, off, length,
			     to_wqe ? IB_ACCESS_LOCAL_WRITE : 0,
			     rxdp_wqe_copy_piece, &c);
}

/* Build the one packet of a UD or GSI send. */
static enum ib_wc_status rxdp_req_ud_build(struct rxdp_qp *qp,
					   const struct rxe_send_wqe *wqe,
					   u32 psn, struct rxdp_tx_pkt *tp)
{
	const struct rxe_send_wr *wr = &wqe->wr;
	bool imm = wr->opcode == IB_WR_SEND_WITH_IMM;
	u8 opcode = imm ? IB_OPCODE_UD_SEND_ONLY_WITH_IMMEDIATE :
			  IB_OPCODE_UD_SEND_ONLY;
	u32 qkey = wr->wr.ud.remote_qkey, len = wqe->dma.length;
	u32 qpn = qp->ibqp.qp_num, dqpn = wr->wr.ud.remote_qpn;
	struct rxdp_path path;
	enum ib_wc_status status;
	u8 *bth;

	if (rxdp_ah_path(qp->rdev, wr->wr.ud.ah_num, qp->ibqp.pd, &path))
		return IB_WC_LOC_QP_OP_ERR;
	if (rxdp_tx_alloc(&path, rdma_get_udp_sport(path.flow_label, qpn, dqpn),
			  opcode, len, tp))
		return IB_WC_LOC_QP_OP_ERR;
	bth = tp->bth;
	/* a privileged Q_Key in the WR means the QP's own (IBA 10.2.4) */
	if (qkey & RXDP_QKEY_PRIVILEGED)
		qkey = qp->attr.qkey;
	rxdp_bth_set(bth, opcode, wr->send_flags & IB_SEND_SOLICITED, -len & 3,
		     RXDP_PKEY_DEFAULT, dqpn, false, psn);
	rxdp_deth_set(rxdp_ext(bth, opcode, RXDP_EXT_DETH), qkey, qpn);
	if (imm)
		rxdp_be32_set(rxdp_ext(bth, opcode, RXDP_EXT_IMMDT),
			      wr->ex.imm_data);
	status = rxdp_tx_put_wqe(qp, tp, wqe, 0, len);
	if (status != IB_WC_SUCCESS)
		rxdp_tx_free(tp);
	return status;
}

/*
 * Is the WQE at idx, taken in incarnation gen, still the next to send?
 * Only the requester moves sq.next on: else a flush or reset came.  A
 * move to SQD meanwhile lets it finish, as it was started.
 */
static bool rxdp_req_ud_current_locked(struct rxdp_qp *qp, u32 gen, u32 idx)
{
	lockdep_assert_held(&qp->sq.lock);
	return qp->rx_gen == gen && qp->sq.next == idx &&
	       (qp->state == IB_QPS_RTS || qp->state == IB_QPS_SQD);
}

static bool rxdp_req_ud_current(struct rxdp_qp *qp, u32 gen, u32 idx)
{
	unsigned long flags;
	bool ret;

	spin_lock_irqsave(&qp->sq.lock, flags);
	ret = rxdp_req_ud_current_locked(qp, gen, idx);
	spin_unlock_irqrestore(&qp->sq.lock, flags);
	return ret;
}

/*
 * Send the next WQE of a UD or GSI QP.  Return: true when one was taken
 * (sent, dropped or completed in error), false when there is nothing to
 * send.
 */
static bool rxdp_req_ud(struct rxdp_qp *qp)
{
	struct rxe_send_wqe *wqe = qp->req_wqe;
	enum ib_wc_status status;
	struct rxdp_tx_pkt tp = {};
	unsigned long flags;
	bool fatal = false, drained = false;
	u32 idx, psn, gen;

	if (!rxdp_tx_may_send(qp))
		return false;
	spin_lock_irqsave(&qp->sq.lock, flags);
	idx = qp->sq.next;
	if (qp->state != IB_QPS_RTS || idx == qp->sq.seen) {
		spin_unlock_irqrestore(&qp->sq.lock, flags);
		return false;
	}
	memcpy(wqe, rxdp_sq_wqe(qp, idx), rxdp_send_wqe_size(&qp->sq));
	/* a move to SQD waits for it to complete */
	rxdp_sq_wqe(qp, idx)->state = RXDP_WQE_STARTED;
	gen = qp->rx_gen;
	psn = qp->req_psn;
	qp->req_psn = rxdp_psn_add(psn, 1);
	/* marked busy: IRQs stay off until the copy is done */
	WRITE_ONCE(qp->sq.busy, idx + 1);
	spin_unlock(&qp->sq.lock);

	status = wqe->status;
	if (status == IB_WC_SUCCESS)
		status = rxdp_req_ud_build(qp, wqe, psn, &tp);
	/* its memory read: a flush may complete it now (rxdp_wq_wait_idle()) */
	smp_store_release(&qp->sq.busy, 0);
	local_irq_restore(flags);

	/*
	 * UD sends complete in order, once they left: a frame to the
	 * device itself reads the WQE's memory as it goes.
	 */
	if (status == IB_WC_SUCCESS) {
		if (!rxdp_req_ud_current(qp, gen, idx)) {
			/* reset or flushed meanwhile: it completed otherwise */
			rxdp_tx_free(&tp);
			return true;
		}
		rxdp_tx_send_qp(qp, &tp);
	}
	spin_lock_irqsave(&qp->sq.lock, flags);
	if (rxdp_req_ud_current_locked(qp, gen, idx)) {
		rxdp_sq_complete_first(qp, status);
		if (status != IB_WC_SUCCESS)
			fatal = rxdp_qp_fatal_sq_locked(qp);
		else
			drained = rxdp_sqd_drained_now(qp);
	}
	spin_unlock_irqrestore(&qp->sq.lock, flags);
	if (drained)
		rxdp_qp_event(qp, IB_EVENT_SQ_DRAINED);
	if (fatal)
		rxdp_qp_fatal_done(qp);
	return true;
}

/* A packet of an RC or UC message, chosen under sq.lock. */
struct rxdp_req_pkt {
	u32			idx;		/* the WQE's slot */
	u32			gen;		/* req_gen when chosen */
	u32			rx_gen;
	u32			psn;
	u32			offset;		/* into the message */
	u32			paylen;
	u32			read_len;	/* a READ request asks for */
	u8			opcode;
	bool			last;		/* of the message */
	bool			ackreq;
	struct rxdp_path	path;
};

/* request an ACK at least this often within a long message */
#define RXDP_ACKREQ_EVERY	32

static u8 rxdp_req_op(u32 wr_opcode, bool first, bool last)
{
	switch (wr_opcode) {
	case IB_WR_SEND:
		return first ? (last ? IB_OPCODE_SEND_ONLY :
				       IB_OPCODE_SEND_FIRST) :
			       (last ? IB_OPCODE_SEND_LAST :
				       IB_OPCODE_SEND_MIDDLE);
	case IB_WR_SEND_WITH_IMM:
		return first ? (last ? IB_OPCODE_SEND_ONLY_WITH_IMMEDIATE :
				       IB_OPCODE_SEND_FIRST) :
			       (last ? IB_OPCODE_SEND_LAST_WITH_IMMEDIATE :
				       IB_OPCODE_SEND_MIDDLE);
	case IB_WR_SEND_WITH_INV:
		return first ? (last ? IB_OPCODE_SEND_ONLY_WITH_INVALIDATE :
				       IB_OPCODE_SEND_FIRST) :
			       (last ? IB_OPCODE_SEND_LAST_WITH_INVALIDATE :
				       IB_OPCODE_SEND_MIDDLE);
	case IB_WR_RDMA_WRITE:
		return first ? (last ? IB_OPCODE_RDMA_WRITE_ONLY :
				       IB_OPCODE_RDMA_WRITE_FIRST) :
			       (last ? IB_OPCODE_RDMA_WRITE_LAST :
				       IB_OPCODE_RDMA_WRITE_MIDDLE);
	case IB_WR_RDMA_WRITE_WITH_IMM:
		return first ? (last ? IB_OPCODE_RDMA_WRITE_ONLY_WITH_IMMEDIATE :
				       IB_OPCODE_RDMA_WRITE_FIRST) :
			       (last ? IB_OPCODE_RDMA_WRITE_LAST_WITH_IMMEDIATE :
				       IB_OPCODE_RDMA_WRITE_MIDDLE);
	case IB_WR_RDMA_READ:
		return IB_OPCODE_RDMA_READ_REQUEST;
	case IB_WR_ATOMIC_CMP_AND_SWP:
		return IB_OPCODE_COMPARE_SWAP;
	case IB_WR_ATOMIC_FETCH_AND_ADD:
		return IB_OPCODE_FETCH_ADD;
	case IB_WR_ATOMIC_WRITE:
		return IB_OPCODE_ATOMIC_WRITE;
	case IB_WR_FLUSH:
		return IB_OPCODE_FLUSH;
	default:
		return 0xff;	/* not one rxdp sends */
	}
}

/* Packets of a message, or of a READ's response. */
static u32 rxdp_npkts(u32 len, u32 mtu)
{
	return len ? DIV_ROUND_UP(len, mtu) : 1;
}

/* the responses of a part of a READ, which a request asks for */
#define RXDP_READ_PART		64

/*
 * A READ is asked for in parts of RXDP_READ_PART responses, counted from
 * its start, one request each; asked for again from a lost response, a
 * part is asked for to its end, so that each request the responder gets
 * again is one it got before (a responder finds what to send again by
 * the request it had).  The next part goes once all but half a part of
 * what came before is answered, or all of it where max_rd_atomic leaves
 * room for one request: the responder never has more READs than that,
 * and a response or request lost costs a part at most, however long the
 * READ.  Return: false when the next part waits.  Context: sq.lock held.
 */
static bool rxdp_req_read_part(struct rxdp_qp *qp,
			       const struct rxe_send_wqe *wqe,
			       struct rxdp_req_pkt *rp, u32 mtu)
{
	u32 left = wqe->dma.length - rp->offset, done = rp->offset / mtu;
	s32 ahead = rxdp_psn_diff(rp->psn, qp->comp_psn);

	if (rp->offset) {
		bool two = qp->req_rd_atomic + 2 <=
			   max_t(u32, qp->attr.max_rd_atomic, 1);

		if (ahead > (two ? RXDP_READ_PART / 2 : 0))
			return false;
	}
	rp->read_len = min((RXDP_READ_PART - done % RXDP_READ_PART) * mtu,
			   left);
	rp->last = rp->read_len == left;
	return true;
}

static bool rxdp_wqe_is_local(const struct rxe_send_wqe *wqe)
{
	return wqe->wr.opcode == IB_WR_LOCAL_INV ||
	       wqe->wr.opcode == IB_WR_BIND_MW ||
	       wqe->wr.opcode == IB_WR_REG_MR;
}

/*
 * Execute a local operation, at its turn in the send queue: it sends
 * nothing, and completes once the WQEs before it did.  Its PSNs are those
 * of the packet before it, so that the completer takes it for acknowledged
 * with that packet (rxdp_sq_complete_first() completes it after the WQE
 * before it).  It is executed once: the requester steps over it when it
 * goes back.  A failure completes it in error once it is the oldest
 * (as any bad WQE) and takes the QP to the error state.
 * Context: sq.lock held; the WQE at sq.next.
 */
static void rxdp_req_local(struct rxdp_qp *qp, struct rxe_send_wqe *wqe,
			   u32 idx)
{
	int err;

	if (!(wqe->state & RXDP_WQE_LOCAL_DONE)) {
		switch (wqe->wr.opcode) {
		case IB_WR_BIND_MW:
			err = rxdp_mw_bind(qp, wqe);
			break;
		case IB_WR_REG_MR:
			err = rxdp_mr_fast_reg(qp, wqe);
			break;
		default:
			err = rxdp_key_invalidate(qp, wqe->wr.ex.invalidate_rkey,
						  false);
			break;
		}
		if (err) {
			wqe->status = wqe->wr.opcode == IB_WR_BIND_MW ?
				      IB_WC_MW_BIND_ERR : IB_WC_LOC_QP_OP_ERR;
			return;
		}
		wqe->state = RXDP_WQE_STARTED | RXDP_WQE_LOCAL_DONE;
		wqe->first_psn = rxdp_psn_add(qp->req_fresh_psn, RXDP_PSN_MASK);
		wqe->last_psn = wqe->first_psn;
	}
	qp->sq.next = (idx + 1) & qp->sq.q.index_mask;
	qp->req_offset = 0;
	if (qp->sq.q.cons == idx)
		rxdp_sq_complete_first(qp, IB_WC_SUCCESS);
}

/* What rxdp_req_rc_pick() found. */
enum rxdp_req_next {
	RXDP_REQ_NONE,		/* nothing to send now */
	RXDP_REQ_PKT,		/* a packet */
	RXDP_REQ_LOCAL,		/* a local operation was taken */
};

/*
 * Choose the next packet of an RC or UC QP.  A bad WQE, or one rxdp does
 * not send, completes in error when it is the oldest.
 * Context: sq.lock held.  Return: RXDP_REQ_PKT with *rp filled.
 */
static enum rxdp_req_next rxdp_req_rc_pick(struct rxdp_qp *qp,
					   struct rxdp_req_pkt *rp,
					   bool *fatal)
{
	bool rc = qp->ibqp.qp_type == IB_QPT_RC;
	u32 mtu = rxdp_qp_mtu(qp), idx = qp->sq.next, len, psn;
	struct rxe_send_wqe *wqe;
	u8 op;

	if (qp->state != IB_QPS_RTS && qp->state != IB_QPS_SQD)
		return RXDP_REQ_NONE;
	if (qp->req_rnr_wait || idx == qp->sq.seen)
		return RXDP_REQ_NONE;
	wqe = rxdp_sq_wqe(qp, idx);
	/* SQD: what was started finishes, and is sent again if need be */
	if (qp->state == IB_QPS_SQD && !(wqe->state & RXDP_WQE_STARTED))
		return RXDP_REQ_NONE;
	op = rxdp_req_op(wqe->wr.opcode, true, true);
	if (wqe->status != IB_WC_SUCCESS ||
	    (op == 0xff && !rxdp_wqe_is_local(wqe))) {
		if (qp->sq.q.cons == idx) {
			rxdp_sq_complete_first(qp, wqe->status ?:
					       IB_WC_LOC_QP_OP_ERR);
			*fatal = true;
		}
		return RXDP_REQ_NONE;
	}
	len = wqe->dma.length;
	if (!qp->req_offset) {
		bool rd = rxdp_wqe_is_rd_atomic(wqe);

		if (rc && (wqe->wr.send_flags & IB_SEND_FENCE) &&
		    qp->req_rd_atomic)
			return RXDP_REQ_NONE;
		if (rd && qp->req_rd_atomic >= max_t(u32,
						     qp->attr.max_rd_atomic, 1))
			return RXDP_REQ_NONE;
	}
	if (rxdp_wqe_is_local(wqe)) {
		rxdp_req_local(qp, wqe, idx);
		return RXDP_REQ_LOCAL;
	}
	/* a WQE's PSNs are its own from its first send on */
	if (!(wqe->state & RXDP_WQE_STARTED)) {
		/* a FLUSH's length is of the range it asks for: one packet */
		u32 n = wqe->wr.opcode == IB_WR_FLUSH ? 1 :
			rxdp_npkts(len, mtu);

		/* its last PSN too must stay within reach of comp_psn */
		if (rc && (rxdp_psn_diff(qp->req_fresh_psn, qp->comp_psn) >=
			   (s32)qp->req_window ||
			   ((qp->req_fresh_psn - qp->comp_psn) & RXDP_PSN_MASK) +
			   n > RXDP_PSN_REACH))
			return RXDP_REQ_NONE;
		wqe->state = RXDP_WQE_STARTED;
		wqe->first_psn = qp->req_fresh_psn;
		wqe->last_psn = rxdp_psn_add(wqe->first_psn, n - 1);
		qp->req_fresh_psn = rxdp_psn_add(wqe->last_psn, 1);
	}
	psn = rxdp_psn_add(wqe->first_psn, qp->req_offset / mtu);
	if (rc && rxdp_psn_diff(psn, qp->comp_psn) >= (s32)qp->req_window)
		return RXDP_REQ_NONE;
	rp->idx = idx;
	rp->gen = qp->req_gen;
	rp->rx_gen = qp->rx_gen;
	rp->psn = psn;
	rp->offset = qp->req_offset;
	rp->path = qp->path;
	rp->read_len = 0;
	if (rxdp_wqe_is_rd_atomic(wqe)) {
		/*
		 * a request; the data come in the answer (an ATOMIC WRITE's
		 * go, a FLUSH has none)
		 */
		rp->paylen = wqe->wr.opcode == IB_WR_ATOMIC_WRITE ? sizeof(u64) :
			     0;
		rp->last = true;
		if (wqe->wr.opcode == IB_WR_RDMA_READ &&
		    !rxdp_req_read_part(qp, wqe, rp, mtu))
			return RXDP_REQ_NONE;
	} else {
		rp->paylen = min(mtu, len - rp->offset);
		rp->last = rp->offset + rp->paylen >= len;
	}
	rp->opcode = (rc ? IB_OPCODE_RC : IB_OPCODE_UC) |
		     rxdp_req_op(wqe->wr.opcode, !rp->offset, rp->last);
	/* and with the last packet the window lets go, so that it opens */
	rp->ackreq = rc && (rp->last || qp->req_noack + 1 >= RXDP_ACKREQ_EVERY ||
			    rxdp_psn_diff(psn, qp->comp_psn) + 1 >=
			    (s32)qp->req_window);
	/* the WQE is copied once per message, and again after a go-back */
	if (qp->req_wqe_idx != idx || qp->req_wqe_gen != qp->req_gen ||
	    !rp->offset) {
		memcpy(qp->req_wqe, wqe, rxdp_send_wqe_size(&qp->sq));
		qp->req_wqe_idx = idx;
		qp->req_wqe_gen = qp->req_gen;
	}
	/* its memory is read without the lock: it completes after that */
	WRITE_ONCE(qp->sq.busy, idx + 1);
	return RXDP_REQ_PKT;
}

/* Build the packet chosen.  Context: req_lock held, not sq.lock. */
static enum ib_wc_status rxdp_req_rc_build(struct rxdp_qp *qp,
					   const struct rxdp_req_pkt *rp,
					   struct rxdp_tx_pkt *tp)
{
	const struct rxe_send_wqe *wqe = qp->req_wqe;
	const struct rxe_send_wr *wr = &wqe->wr;
	u8 ext = rxdp_opcodes[rp->opcode].ext;
	enum ib_wc_status status;
	u8 *bth;

	if (rxdp_tx_alloc(&rp->path, 0, rp->opcode, rp->paylen, tp))
		return IB_WC_SUCCESS;	/* no memory: a lost packet */
	bth = tp->bth;
	rxdp_bth_set(bth, rp->opcode,
		     rp->last && (wr->send_flags & IB_SEND_SOLICITED),
		     -rp->paylen & 3, RXDP_PKEY_DEFAULT, qp->attr.dest_qp_num,
		     rp->ackreq, rp->psn);
	if (ext & RXDP_EXT_RETH) {
		u32 len = wr->opcode == IB_WR_RDMA_READ ? rp->read_len :
			  wqe->dma.length - rp->offset;

		/* a FLUSH's key has its own place in the WQE */
		rxdp_reth_set(rxdp_ext(bth, rp->opcode, RXDP_EXT_RETH),
			      wr->wr.rdma.remote_addr + rp->offset,
			      wr->opcode == IB_WR_FLUSH ? wr->wr.flush.rkey :
							  wr->wr.rdma.rkey,
			      len);
	}
	if (ext & RXDP_EXT_FETH)
		rxdp_feth_set(rxdp_ext(bth, rp->opcode, RXDP_EXT_FETH),
			      wr->wr.flush.type, wr->wr.flush.level);
	if (ext & RXDP_EXT_ATMETH) {
		bool cas = wr->opcode == IB_WR_ATOMIC_CMP_AND_SWP;

		rxdp_atmeth_set(rxdp_ext(bth, rp->opcode, RXDP_EXT_ATMETH),
				wr->wr.atomic.remote_addr, wr->wr.atomic.rkey,
				cas ? wr->wr.atomic.swap :
				      wr->wr.atomic.compare_add,
				cas ? wr->wr.atomic.compare_add : 0);
	}
	if (ext & RXDP_EXT_IMMDT)
		rxdp_be32_set(rxdp_ext(bth, rp->opcode, RXDP_EXT_IMMDT),
			      wr->ex.imm_data);
	if (ext & RXDP_EXT_IETH)
		rxdp_be32_set(rxdp_ext(bth, rp->opcode, RXDP_EXT_IETH),
			      cpu_to_be32(wr->ex.invalidate_rkey));
	if (!rp->paylen)
		return IB_WC_SUCCESS;
	status = rxdp_tx_put_wqe(qp, tp, wqe, rp->offset, rp->paylen);
	if (status != IB_WC_SUCCESS)
		rxdp_tx_free(tp);
	return status;
}

/*
 * UC: a message is done once it is sent; after its last packet left, as
 * a frame to the device itself reads the WQE's memory as it goes.
 */
static void rxdp_req_uc_done(struct rxdp_qp *qp, const struct rxdp_req_pkt *rp)
{
	unsigned long flags;
	bool drained = false;

	spin_lock_irqsave(&qp->sq.lock, flags);
	/* not if a flush or reset completed it meanwhile */
	if (qp->rx_gen == rp->rx_gen && qp->sq.q.cons == rp->idx &&
	    (qp->state == IB_QPS_RTS || qp->state == IB_QPS_SQD)) {
		rxdp_sq_complete_first(qp, IB_WC_SUCCESS);
		drained = rxdp_sqd_drained_now(qp);
	}
	spin_unlock_irqrestore(&qp->sq.lock, flags);
	if (drained)
		rxdp_qp_event(qp, IB_EVENT_SQ_DRAINED);
}

/*
 * Send the next packet of an RC or UC QP.  Return: true when one was
 * taken (sent, lost, or completed in error), false when nothing may be
 * sent now.
 */
static bool rxdp_req_rc(struct rxdp_qp *qp)
{
	struct rxdp_tx_pkt tp = {};
	enum ib_wc_status status;
	enum rxdp_req_next next;
	struct rxdp_req_pkt rp;
	unsigned long flags;
	bool fatal = false, again;

	if (!rxdp_tx_may_send(qp))
		return false;
	spin_lock_irqsave(&qp->sq.lock, flags);
	next = rxdp_req_rc_pick(qp, &rp, &fatal);
	if (next != RXDP_REQ_PKT) {
		bool drained = false;

		if (fatal)
			fatal = rxdp_qp_fatal_sq_locked(qp);
		else if (next == RXDP_REQ_LOCAL)
			drained = rxdp_sqd_drained_now(qp);
		spin_unlock_irqrestore(&qp->sq.lock, flags);
		if (drained)
			rxdp_qp_event(qp, IB_EVENT_SQ_DRAINED);
		if (fatal)
			rxdp_qp_fatal_done(qp);
		return next == RXDP_REQ_LOCAL;
	}
	/* marked busy: IRQs stay off until the copy is done */
	spin_unlock(&qp->sq.lock);
	status = rxdp_req_rc_build(qp, &rp, &tp);
	/* pairs with rxdp_wq_wait_idle(): the copy is done before it is free */
	smp_store_release(&qp->sq.busy, 0);
	local_irq_restore(flags);

	spin_lock_irqsave(&qp->sq.lock, flags);
	if (qp->rx_gen != rp.rx_gen || qp->req_gen != rp.gen ||
	    qp->sq.next != rp.idx || qp->req_offset != rp.offset ||
	    (qp->state != IB_QPS_RTS && qp->state != IB_QPS_SQD)) {
		/* gone back, reset or flushed meanwhile */
		spin_unlock_irqrestore(&qp->sq.lock, flags);
		rxdp_tx_free(&tp);
		return true;
	}
	if (status != IB_WC_SUCCESS) {
		/* the WQEs before it complete first */
		if (qp->sq.q.cons == rp.idx) {
			rxdp_sq_complete_first(qp, status);
			fatal = rxdp_qp_fatal_sq_locked(qp);
		}
		spin_unlock_irqrestore(&qp->sq.lock, flags);
		if (fatal)
			rxdp_qp_fatal_done(qp);
		return fatal;
	}
	if (rxdp_wqe_is_rd_atomic(rxdp_sq_wqe(qp, rp.idx))) {
		if (rp.last) {
			qp->req_psn = rxdp_psn_add(rxdp_sq_wqe(qp,
							       rp.idx)->last_psn,
						   1);
			qp->req_rd_atomic++;
		} else {
			/* a part of a READ: the next one asks from there */
			qp->req_offset += rp.read_len;
			qp->req_psn = rxdp_psn_add(rp.psn, rp.read_len /
						   rxdp_qp_mtu(qp));
		}
	} else {
		qp->req_offset += rp.paylen;
		qp->req_psn = rxdp_psn_add(rp.psn, 1);
	}
	qp->req_noack = rp.ackreq ? 0 : qp->req_noack + 1;
	/* before the furthest it got: sent again, after it went back */
	again = rxdp_psn_diff(rp.psn, qp->req_sent_psn) < 0;
	if (rxdp_psn_diff(qp->req_psn, qp->req_sent_psn) > 0)
		qp->req_sent_psn = qp->req_psn;
	if (rp.last) {
		qp->sq.next = (rp.idx + 1) & qp->sq.q.index_mask;
		qp->req_offset = 0;
	}
	if (qp->ibqp.qp_type == IB_QPT_RC)
		rxdp_retry_timer_arm(qp);
	spin_unlock_irqrestore(&qp->sq.lock, flags);
	if (tp.skb || tp.lo) {
		if (again)
			rxdp_stat_inc(qp->rdev, RXDP_CNT_RESENT_PKTS);
		rxdp_tx_send_qp(qp, &tp);
	}
	if (rp.last && qp->ibqp.qp_type == IB_QPT_UC)
		rxdp_req_uc_done(qp, &rp);
	return true;
}

/**
 * rxdp_req_path - the headers of a connected QP's packets
 * @qp: an RC or UC QP
 * @attr: a modify's attributes, checked, with IB_QP_AV
 * @mask: the modify's mask
 * @path: the path to the peer
 *
 * Return: 0 or -EINVAL.
 */
int rxdp_req_path(struct rxdp_qp *qp, struct ib_qp_attr *attr, int mask,
		  struct rxdp_path *path)
{
	u32 dqpn = mask & IB_QP_DEST_QPN ? attr->dest_qp_num :
					   qp->attr.dest_qp_num;
	struct udphdr *udp;
	int err;

	err = rxdp_path_init(qp->rdev, path, &attr->ah_attr);
	if (err)
		return err;
	udp = (struct udphdr *)(path->hdr + path->len - sizeof(*udp));
	udp->source = htons(rdma_get_udp_sport(path->flow_label,
					       qp->ibqp.qp_num, dqpn));
	return 0;
}

/*
 * Send up to budget packets.  Context: BH disabled, req_lock held.
 * Return: true when there may be more to send.
 */
static bool rxdp_req_run(struct rxdp_qp *qp, int budget)
{
	switch (qp->ibqp.qp_type) {
	case IB_QPT_UD:
	case IB_QPT_GSI:
		while (budget--)
			if (!rxdp_req_ud(qp))
				return false;
		return true;
	default:
		/* the responses of a READ the peer asked for go first */
		if (rxdp_resp_read_serve(qp, &budget))
			return true;
		while (budget--)
			if (!rxdp_req_rc(qp))
				return false;
		return true;
	}
}

static void rxdp_req_work(struct work_struct *work)
{
	struct rxdp_qp *qp = container_of(work, struct rxdp_qp, req_work);
	bool more;

	spin_lock(&qp->req_lock);
	more = rxdp_req_run(qp, RXDP_REQ_RUN_BUDGET);
	spin_unlock(&qp->req_lock);
	/* the others wait their turn on this CPU */
	if (more)
		queue_work(system_bh_wq, &qp->req_work);
}

void rxdp_req_init(struct rxdp_qp *qp)
{
	spin_lock_init(&qp->req_lock);
	INIT_WORK(&qp->req_work, rxdp_req_work);
}

/**
 * rxdp_req_kick - WQEs were posted, or the QP may send again
 * @qp: the QP
 *
 * Sends inline when the context allows and no requester runs; else the
 * send runner does.
 * Context: any; not with the SQ lock held.
 */
void rxdp_req_kick(struct rxdp_qp *qp)
{
	bool more = true;

	if (test_bit(RXDP_QP_DYING, &qp->flags))
		return;
	/* nor from a responder a frame of the device to itself runs */
	if (irqs_disabled() || in_hardirq() || rxdp_rx_in_local()) {
		queue_work(system_bh_wq, &qp->req_work);
		return;
	}
	local_bh_disable();
	if (spin_trylock(&qp->req_lock)) {
		more = rxdp_req_run(qp, RXDP_REQ_INLINE_BUDGET);
		spin_unlock(&qp->req_lock);
	}
	if (more)
		queue_work(system_bh_wq, &qp->req_work);
	local_bh_enable();
}

/**
 * rxdp_req_stop - wait until no requester runs
 * @qp: a QP that was reset or is being destroyed: nothing kicks it
 *
 * Context: process.
 */
void rxdp_req_stop(struct rxdp_qp *qp)
{
	cancel_work_sync(&qp->req_work);
	/* one may still run inline, in a post */
	spin_lock_bh(&qp->req_lock);
	spin_unlock_bh(&qp->req_lock);
}

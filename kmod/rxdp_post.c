// SPDX-License-Identifier: GPL-2.0
/*
 * Posting work requests: post_send, post_recv and the user doorbell, with
 * the checks rdmavt makes of each request, and the flushes of the error
 * state.
 *
 * Kernel QPs post through ib_send_wr/ib_recv_wr: a bad request is refused
 * with bad_wr and nothing after it is posted.  User QPs write WQEs straight
 * into the mapped send queue and ring the doorbell (post_send with no
 * request); those WQEs are checked here, and a bad one completes in error
 * and takes the QP to the error state, as a real HCA does.
 */
#include "rxdp.h"

#define RXDP_SEND_FLAGS	(IB_SEND_FENCE | IB_SEND_SIGNALED | \
			 IB_SEND_SOLICITED | IB_SEND_INLINE)

#define QPT(t)		BIT(IB_QPT_##t)

/* user WQEs checked per doorbell with IRQs off, between reschedules */
#define RXDP_DOORBELL_BATCH	64

/* What each send opcode is allowed on, and what it needs. */
static const struct rxdp_wr_op {
	u32	qpts;		/* QP types it may be posted on */
	u8	wc_opcode;
	bool	atomic;
	bool	local_write;	/* the local buffer is written */
	bool	no_inline;
	bool	local;		/* executed here: no packet, no SGE */
	bool	atomic_write;	/* its 8 bytes in the WQE, not in SGEs */
	bool	flush;		/* a remote range, no local memory */
	bool	kernel_only;	/* names kernel objects by pointer */
} rxdp_wr_ops[] = {
	[IB_WR_RDMA_WRITE] = {
		.qpts = QPT(RC) | QPT(UC), .wc_opcode = IB_WC_RDMA_WRITE,
	},
	[IB_WR_RDMA_WRITE_WITH_IMM] = {
		.qpts = QPT(RC) | QPT(UC), .wc_opcode = IB_WC_RDMA_WRITE,
	},
	[IB_WR_SEND] = {
		.qpts = QPT(RC) | QPT(UC) | QPT(UD) | QPT(GSI),
		.wc_opcode = IB_WC_SEND,
	},
	[IB_WR_SEND_WITH_IMM] = {
		.qpts = QPT(RC) | QPT(UC) | QPT(UD) | QPT(GSI),
		.wc_opcode = IB_WC_SEND,
	},
	[IB_WR_SEND_WITH_INV] = {
		.qpts = QPT(RC), .wc_opcode = IB_WC_SEND,
	},
	[IB_WR_RDMA_READ] = {
		.qpts = QPT(RC), .wc_opcode = IB_WC_RDMA_READ,
		.local_write = true, .no_inline = true,
	},
	[IB_WR_ATOMIC_CMP_AND_SWP] = {
		.qpts = QPT(RC), .wc_opcode = IB_WC_COMP_SWAP,
		.atomic = true, .local_write = true, .no_inline = true,
	},
	[IB_WR_ATOMIC_FETCH_AND_ADD] = {
		.qpts = QPT(RC), .wc_opcode = IB_WC_FETCH_ADD,
		.atomic = true, .local_write = true, .no_inline = true,
	},
	[IB_WR_ATOMIC_WRITE] = {
		.qpts = QPT(RC), .wc_opcode = IB_WC_ATOMIC_WRITE,
		.atomic_write = true, .no_inline = true,
	},
	[IB_WR_FLUSH] = {
		.qpts = QPT(RC), .wc_opcode = IB_WC_FLUSH,
		.flush = true, .no_inline = true,
	},
	[IB_WR_LOCAL_INV] = {
		.qpts = QPT(RC), .wc_opcode = IB_WC_LOCAL_INV,
		.local = true, .no_inline = true,
	},
	[IB_WR_BIND_MW] = {
		.qpts = QPT(RC) | QPT(UC), .wc_opcode = IB_WC_BIND_MW,
		.local = true, .no_inline = true,
	},
	[IB_WR_REG_MR] = {
		.qpts = QPT(RC), .wc_opcode = IB_WC_REG_MR,
		.local = true, .no_inline = true, .kernel_only = true,
	},
};

static const struct rxdp_wr_op *rxdp_wr_op(u32 opcode)
{
	if (opcode >= ARRAY_SIZE(rxdp_wr_ops) || !rxdp_wr_ops[opcode].qpts)
		return NULL;
	return &rxdp_wr_ops[opcode];
}

size_t rxdp_send_wqe_size(const struct rxdp_wq *sq)
{
	return sizeof(struct rxe_send_wqe) +
	       max_t(size_t, sq->max_sge * sizeof(struct rxe_sge),
		     sq->max_inline);
}

/**
 * rxdp_sq_wqe - a send WQE as it was checked
 * @qp: the QP
 * @index: its slot
 *
 * A user QP's is the doorbell's copy; a kernel QP's ring is the kernel's.
 * Stable from the check until the WQE completes.
 */
struct rxe_send_wqe *rxdp_sq_wqe(struct rxdp_qp *qp, u32 index)
{
	struct rxdp_queue *q = &qp->sq.q;

	if (!qp->is_user)
		return rxdp_queue_addr(q, index);
	return qp->sq_shadow + ((size_t)(index & q->index_mask) <<
				q->log2_elem_size);
}

/*
 * A FLUSH names its placement (global visibility, persistence or both)
 * and its selectivity (a range or the whole key) and has no SGEs.
 */
static enum ib_wc_status rxdp_check_flush(const struct rxe_send_wqe *wqe)
{
	u8 type = wqe->wr.wr.flush.type;

	if (!type || (type & ~(IB_FLUSH_GLOBAL | IB_FLUSH_PERSISTENT)) ||
	    wqe->wr.wr.flush.level > IB_FLUSH_MR || wqe->dma.num_sge ||
	    (wqe->wr.send_flags & IB_SEND_INLINE))
		return IB_WC_LOC_QP_OP_ERR;
	return IB_WC_SUCCESS;
}

/**
 * rxdp_check_send_wqe - may this WQE be executed on this QP?
 * @qp: the QP
 * @wqe: a WQE in kernel memory
 *
 * Return: IB_WC_SUCCESS, or the status its completion in error carries.
 */
static enum ib_wc_status rxdp_check_send_wqe(struct rxdp_qp *qp,
					     const struct rxe_send_wqe *wqe)
{
	const struct rxdp_wr_op *op = rxdp_wr_op(wqe->wr.opcode);
	u32 flags = wqe->wr.send_flags, num_sge = wqe->dma.num_sge, i;
	struct rxdp_dev *rdev = qp->rdev;
	u64 len = 0;

	if (!op || !(op->qpts & BIT(qp->ibqp.qp_type)) ||
	    (flags & ~RXDP_SEND_FLAGS) || (op->kernel_only && qp->is_user))
		return IB_WC_LOC_QP_OP_ERR;
	/* what it works on is checked as it is executed; SGEs it has none */
	if (op->local)
		return IB_WC_SUCCESS;
	/* the rxe ABI: the value where inline data go, in the WQE's room */
	if (op->atomic_write)
		return wqe->dma.length != sizeof(u64) ||
		       (wqe->wr.wr.rdma.remote_addr & (sizeof(u64) - 1)) ||
		       rxdp_send_wqe_size(&qp->sq) <
		       sizeof(*wqe) + sizeof(u64) ?
		       IB_WC_LOC_QP_OP_ERR : IB_WC_SUCCESS;
	if (op->flush)
		return rxdp_check_flush(wqe);

	if (flags & IB_SEND_INLINE) {
		if (op->no_inline || wqe->dma.length > qp->sq.max_inline)
			return IB_WC_LOC_QP_OP_ERR;
		len = wqe->dma.length;
	} else {
		if (num_sge > qp->sq.max_sge)
			return IB_WC_LOC_QP_OP_ERR;
		for (i = 0; i < num_sge; i++)
			len += wqe->dma.sge[i].length;
		if (len != wqe->dma.length)
			return IB_WC_LOC_LEN_ERR;
	}
	if (len > RXDP_MAX_MSG_SZ)
		return IB_WC_LOC_LEN_ERR;

	if (op->atomic && (len < sizeof(u64) || num_sge != 1 ||
			   (wqe->wr.wr.atomic.remote_addr & (sizeof(u64) - 1))))
		return IB_WC_LOC_QP_OP_ERR;

	if (qp->ibqp.qp_type == IB_QPT_UD || qp->ibqp.qp_type == IB_QPT_GSI) {
		struct net_device *ndev;
		u32 mtu = 0;

		if (rxdp_ah_check(rdev, wqe->wr.wr.ud.ah_num, qp->ibqp.pd))
			return IB_WC_LOC_QP_OP_ERR;
		ndev = ib_device_get_netdev(&rdev->ib_dev, RXDP_PORT);
		if (ndev) {
			mtu = ib_mtu_enum_to_int(rxdp_active_mtu(ndev));
			dev_put(ndev);
		}
		/* a UD message is one packet */
		if (len > mtu)
			return IB_WC_LOC_LEN_ERR;
	}

	if (flags & IB_SEND_INLINE)
		return IB_WC_SUCCESS;
	for (i = 0; i < num_sge; i++) {
		const struct rxe_sge *sge = &wqe->dma.sge[i];

		if (!qp->is_user && rxdp_key_is_fast_mr(rdev, sge->lkey))
			continue;	/* maybe registered by a REG_MR before it */
		if (sge->length &&
		    rxdp_check_sge(rdev, qp->ibqp.pd, sge->lkey, sge->addr,
				   sge->length,
				   op->local_write ? IB_ACCESS_LOCAL_WRITE : 0))
			return IB_WC_LOC_PROT_ERR;
	}
	return IB_WC_SUCCESS;
}

static void rxdp_send_complete(struct rxdp_qp *qp, u64 wr_id, u32 opcode,
			       enum ib_wc_status status)
{
	const struct rxdp_wr_op *op = rxdp_wr_op(opcode);
	struct ib_wc wc = {
		.wr_id = wr_id,
		.status = status,
		.opcode = op ? op->wc_opcode : IB_WC_SEND,
		.qp = &qp->ibqp,
		.port_num = RXDP_PORT,
	};

	rxdp_cq_post(qp->scq, &wc, false);
}

/* Complete the oldest WQE; see rxdp_sq_complete_first(). */
static void rxdp_sq_complete_one(struct rxdp_qp *qp, enum ib_wc_status status)
{
	struct rxdp_queue *q = &qp->sq.q;
	struct rxe_send_wqe *wqe;
	u32 opcode;
	bool signalled;
	u64 wr_id;

	if (q->cons == qp->sq.seen)
		return;
	/* the requester may be copying from its memory yet */
	rxdp_wq_wait_idle(&qp->sq, q->cons + 1);
	wqe = rxdp_sq_wqe(qp, q->cons);
	signalled = status != IB_WC_SUCCESS ||
		    qp->sq_sig_type == IB_SIGNAL_ALL_WR ||
		    (wqe->wr.send_flags & IB_SEND_SIGNALED);
	wr_id = wqe->wr.wr_id;
	opcode = wqe->wr.opcode;
	if (q->cons == qp->sq.next) {
		/* done before the requester got to the end of it */
		qp->sq.next = (q->cons + 1) & q->index_mask;
		qp->req_offset = 0;
		qp->req_gen++;
	}
	/* the slot is free before the completion says so: the next post fits */
	rxdp_queue_advance_cons(q);
	/* rxe's rdma_sends: SEND WQEs done, signalled or not, not flushed */
	if ((opcode == IB_WR_SEND || opcode == IB_WR_SEND_WITH_IMM ||
	     opcode == IB_WR_SEND_WITH_INV) && status != IB_WC_WR_FLUSH_ERR)
		rxdp_stat_inc(qp->rdev, RXDP_CNT_SENDS_DONE);
	if (signalled)
		rxdp_send_complete(qp, wr_id, opcode, status);
}

/**
 * rxdp_sq_complete_first - complete the oldest outstanding send WQE
 * @qp: the QP
 * @status: its status
 *
 * A WQE that succeeds has a completion when it was signalled (or the QP
 * signals all); one that fails always has one.  Local operations the
 * requester executed after it complete with it.
 * Context: sq.lock held.
 */
void rxdp_sq_complete_first(struct rxdp_qp *qp, enum ib_wc_status status)
{
	struct rxdp_queue *q = &qp->sq.q;

	rxdp_sq_complete_one(qp, status);
	/* at most the ring: each one completed moves cons on */
	while (status == IB_WC_SUCCESS && q->cons != qp->sq.seen &&
	       (rxdp_sq_wqe(qp, q->cons)->state & RXDP_WQE_LOCAL_DONE))
		rxdp_sq_complete_one(qp, IB_WC_SUCCESS);
}

/**
 * rxdp_sq_drained - is nothing the requester started left to complete?
 * @qp: the QP
 *
 * In SQD the requester starts no WQE; those it started finish (and are
 * sent again as the transport needs).  The SQ is drained when the oldest
 * WQE left, if any, was never started.
 * Context: sq.lock held.
 */
bool rxdp_sq_drained(struct rxdp_qp *qp)
{
	return qp->sq.q.cons == qp->sq.seen ||
	       !(rxdp_sq_wqe(qp, qp->sq.q.cons)->state & RXDP_WQE_STARTED);
}

/**
 * rxdp_sqd_drained_now - should SQ_DRAINED be raised now?
 * @qp: the QP, after a completion
 *
 * True once per move to SQD that asked for the event, when the SQ became
 * drained; the caller raises it once it let go of the lock.
 * Context: sq.lock held.
 */
bool rxdp_sqd_drained_now(struct rxdp_qp *qp)
{
	if (!qp->sqd_notify_due || qp->state != IB_QPS_SQD ||
	    !rxdp_sq_drained(qp))
		return false;
	qp->sqd_notify_due = false;
	return true;
}

/*
 * The producer index of the send queue, if it is one: a user QP's may stay
 * or move forward from the WQEs already checked, never back over them.
 * (Masked, it cannot claim more than a full ring.)
 */
static bool rxdp_sq_load_prod(struct rxdp_qp *qp, u32 *prod)
{
	struct rxdp_queue *q = &qp->sq.q;
	u32 p = rxdp_queue_load_prod(q);

	if (rxdp_queue_count(q, p, q->cons) <
	    rxdp_queue_count(q, qp->sq.seen, q->cons))
		return false;
	*prod = p;
	return true;
}

/**
 * rxdp_flush_sq - complete every WQE of the send queue with a flush error
 * @qp: a QP in the error state
 *
 * Every WQE completes, signalled or not: a WR that completes in error
 * always generates a completion.  A producer index moved back flushes what
 * was posted before it.
 * Context: sq.lock held.
 */
void rxdp_flush_sq(struct rxdp_qp *qp)
{
	struct rxdp_queue *q = &qp->sq.q;
	u32 prod;

	if (qp->is_user && rxdp_sq_load_prod(qp, &prod)) {
		/* posted but never checked: what their completions need */
		for (; qp->sq.seen != prod;
		     qp->sq.seen = (qp->sq.seen + 1) & q->index_mask) {
			const struct rxe_send_wqe *u =
				rxdp_queue_addr(q, qp->sq.seen);
			struct rxe_send_wqe *w = rxdp_sq_wqe(qp, qp->sq.seen);

			w->wr.wr_id = READ_ONCE(u->wr.wr_id);
			w->wr.opcode = READ_ONCE(u->wr.opcode);
			w->wr.send_flags = 0;
		}
	}
	while (q->cons != qp->sq.seen)
		rxdp_sq_complete_first(qp, IB_WC_WR_FLUSH_ERR);
	qp->sq.next = q->cons;
	qp->req_offset = 0;
	qp->req_rd_atomic = 0;
	qp->req_gen++;
}

/**
 * rxdp_flush_held - complete the receive WQE of a SEND in progress
 * @qp: a QP in the error state
 *
 * The responder took it off the receive queue (or SRQ) with the SEND's
 * first packet; it is older than any WQE still there.
 * Context: rq.lock held.
 */
void rxdp_flush_held(struct rxdp_qp *qp)
{
	struct ib_wc wc = {
		.status = IB_WC_WR_FLUSH_ERR,
		.opcode = IB_WC_RECV,
		.qp = &qp->ibqp,
		.port_num = RXDP_PORT,
	};

	if (!qp->resp_wqe_held)
		return;
	WRITE_ONCE(qp->resp_wqe_held, false);
	/* pairs with the barrier in rxdp_resp_fill(): a fill sees it, or ends */
	smp_mb();
	rxdp_wq_wait_idle(&qp->rq, 1);
	wc.wr_id = qp->resp_wqe->wr_id;
	rxdp_cq_post(qp->rcq, &wc, false);
}

/**
 * rxdp_flush_rq - complete every receive WQE with a flush error
 * @qp: a QP in the error state, without an SRQ
 *
 * Context: rq.lock held.
 */
void rxdp_flush_rq(struct rxdp_qp *qp)
{
	struct rxdp_queue *q = &qp->rq.q;
	u32 prod = rxdp_queue_load_prod(q);

	while (q->cons != prod) {
		struct rxe_recv_wqe *wqe = rxdp_queue_addr(q, q->cons);
		struct ib_wc wc = {
			.wr_id = READ_ONCE(wqe->wr_id),
			.status = IB_WC_WR_FLUSH_ERR,
			.opcode = IB_WC_RECV,
			.qp = &qp->ibqp,
			.port_num = RXDP_PORT,
		};

		rxdp_cq_post(qp->rcq, &wc, false);
		rxdp_queue_advance_cons(q);
	}
}

/*
 * A user WQE at sq.seen is bad: it is posted all the same, marked with the
 * status its completion carries.  The requester completes it once those
 * before it completed, and moves the QP to the error state, which flushes
 * what follows it; the doorbell checks nothing after it meanwhile.
 * Context: sq.lock held.
 */
static void rxdp_sq_bad_wqe(struct rxdp_qp *qp, struct rxe_send_wqe *wqe,
			    enum ib_wc_status status)
{
	wqe->status = status;
	qp->sq.seen = (qp->sq.seen + 1) & qp->sq.q.index_mask;
	set_bit(RXDP_QP_SQ_BAD, &qp->flags);
}

/*
 * The user rang the doorbell: check the WQEs it added, each once, at most
 * RXDP_DOORBELL_BATCH of them with the lock held.  A bad one completes with
 * its error after those before it, and the QP goes to the error state,
 * which flushes what follows it; a producer index that moved back takes
 * the QP to the error state at once.
 * *fatal tells the caller to finish the move to ERR once it lets go of
 * the lock (rxdp_qp_fatal_done()).
 * Context: process (a uverbs write); sq.lock held; returns with it held.
 */
static int rxdp_sq_doorbell(struct rxdp_qp *qp, unsigned long *flags,
			    bool *fatal)
{
	struct rxdp_queue *q = &qp->sq.q;
	size_t size = rxdp_send_wqe_size(&qp->sq);
	struct rxe_send_wqe *wqe;
	enum ib_wc_status status;
	u32 prod, n;

	for (;;) {
		switch (qp->state) {
		case IB_QPS_RESET:
		case IB_QPS_INIT:
		case IB_QPS_RTR:
			/* refused: they are not posted, so never complete */
			rxdp_queue_set_cons(q, rxdp_queue_load_prod(q));
			qp->sq.seen = q->cons;
			qp->sq.next = q->cons;
			return -EINVAL;
		case IB_QPS_ERR:
			rxdp_flush_sq(qp);
			return 0;
		default:
			break;
		}
		if (test_bit(RXDP_QP_SQ_BAD, &qp->flags))
			return 0;
		if (!rxdp_sq_load_prod(qp, &prod)) {
			*fatal = rxdp_qp_fatal_sq_locked(qp);
			return -EINVAL;
		}

		for (n = 0; qp->sq.seen != prod; n++) {
			if (n == RXDP_DOORBELL_BATCH)
				break;
			/* user space may change the WQE under us: a copy */
			wqe = rxdp_sq_wqe(qp, qp->sq.seen);
			memcpy(wqe, rxdp_queue_addr(q, qp->sq.seen), size);
			/*
			 * The transport's own fields start out clear, a bad
			 * WQE's too: the completer trusts them.
			 */
			wqe->state = 0;
			status = rxdp_check_send_wqe(qp, wqe);
			if (status != IB_WC_SUCCESS) {
				rxdp_sq_bad_wqe(qp, wqe, status);
				return 0;
			}
			wqe->status = IB_WC_SUCCESS;
			qp->sq.seen = (qp->sq.seen + 1) & q->index_mask;
		}
		if (qp->sq.seen == prod)
			return 0;
		/* the state and indexes are read again after this */
		spin_unlock_irqrestore(&qp->sq.lock, *flags);
		cond_resched();
		spin_lock_irqsave(&qp->sq.lock, *flags);
	}
}

static int rxdp_build_send_wqe(struct rxdp_qp *qp, struct rxe_send_wqe *wqe,
			       const struct ib_send_wr *wr)
{
	u32 i;

	memset(wqe, 0, sizeof(*wqe));
	wqe->wr.wr_id = wr->wr_id;
	wqe->wr.opcode = wr->opcode;
	wqe->wr.send_flags = wr->send_flags;
	if (wr->opcode == IB_WR_SEND_WITH_INV || wr->opcode == IB_WR_LOCAL_INV)
		wqe->wr.ex.invalidate_rkey = wr->ex.invalidate_rkey;
	else
		wqe->wr.ex.imm_data = wr->ex.imm_data;

	switch (wr->opcode) {
	case IB_WR_RDMA_WRITE:
	case IB_WR_RDMA_WRITE_WITH_IMM:
	case IB_WR_RDMA_READ:
		wqe->wr.wr.rdma.remote_addr = rdma_wr(wr)->remote_addr;
		wqe->wr.wr.rdma.rkey = rdma_wr(wr)->rkey;
		wqe->iova = rdma_wr(wr)->remote_addr;
		break;
	case IB_WR_ATOMIC_CMP_AND_SWP:
	case IB_WR_ATOMIC_FETCH_AND_ADD:
		wqe->wr.wr.atomic.remote_addr = atomic_wr(wr)->remote_addr;
		wqe->wr.wr.atomic.compare_add = atomic_wr(wr)->compare_add;
		wqe->wr.wr.atomic.swap = atomic_wr(wr)->swap;
		wqe->wr.wr.atomic.rkey = atomic_wr(wr)->rkey;
		wqe->iova = atomic_wr(wr)->remote_addr;
		break;
	case IB_WR_REG_MR:
		if (!reg_wr(wr)->mr)
			return -EINVAL;
		wqe->wr.wr.reg.mr = reg_wr(wr)->mr;
		wqe->wr.wr.reg.key = reg_wr(wr)->key;
		wqe->wr.wr.reg.access = reg_wr(wr)->access;
		break;
	case IB_WR_BIND_MW:
	case IB_WR_ATOMIC_WRITE:
	case IB_WR_FLUSH:
		/* the kernel has no such request: a user's WQE only */
		return -EINVAL;
	default:
		break;
	}
	if (qp->ibqp.qp_type == IB_QPT_UD || qp->ibqp.qp_type == IB_QPT_GSI) {
		if (!ud_wr(wr)->ah)
			return -EINVAL;
		wqe->wr.wr.ud.remote_qpn = ud_wr(wr)->remote_qpn;
		wqe->wr.wr.ud.remote_qkey = ud_wr(wr)->remote_qkey;
		wqe->wr.wr.ud.pkey_index = ud_wr(wr)->pkey_index;
		wqe->wr.wr.ud.ah_num = to_rah(ud_wr(wr)->ah)->ah_num;
	}

	if (wr->num_sge < 0)
		return -EINVAL;
	if (wr->send_flags & IB_SEND_INLINE) {
		u8 *p = wqe->dma.inline_data;
		u32 left = qp->sq.max_inline;

		for (i = 0; i < wr->num_sge; i++) {
			u32 len = wr->sg_list[i].length;

			if (len > left)
				return -EINVAL;
			memcpy(p, (void *)(uintptr_t)wr->sg_list[i].addr, len);
			p += len;
			left -= len;
			wqe->dma.length += len;
		}
	} else {
		if (wr->num_sge > qp->sq.max_sge)
			return -EINVAL;
		for (i = 0; i < wr->num_sge; i++) {
			wqe->dma.sge[i].addr = wr->sg_list[i].addr;
			wqe->dma.sge[i].length = wr->sg_list[i].length;
			wqe->dma.sge[i].lkey = wr->sg_list[i].lkey;
			wqe->dma.length += wr->sg_list[i].length;
		}
		wqe->dma.num_sge = wr->num_sge;
	}
	wqe->dma.resid = wqe->dma.length;
	return 0;
}

static int rxdp_post_one_send(struct rxdp_qp *qp, const struct ib_send_wr *wr)
{
	struct rxdp_queue *q = &qp->sq.q;
	struct rxe_send_wqe *wqe;
	int err;

	if (((q->prod + 1) & q->index_mask) == q->cons)
		return -ENOMEM;
	wqe = rxdp_queue_addr(q, q->prod);
	err = rxdp_build_send_wqe(qp, wqe, wr);
	if (err)
		return err;
	if (rxdp_check_send_wqe(qp, wqe) != IB_WC_SUCCESS)
		return -EINVAL;
	rxdp_queue_advance_prod(q);
	qp->sq.seen = q->prod;
	return 0;
}

int rxdp_post_send(struct ib_qp *ibqp, const struct ib_send_wr *wr,
		   const struct ib_send_wr **bad_wr)
{
	struct rxdp_qp *qp = to_rqp(ibqp);
	bool fatal = false, send = false;
	unsigned long flags;
	int err = 0;

	spin_lock_irqsave(&qp->sq.lock, flags);
	if (qp->is_user) {
		err = rxdp_sq_doorbell(qp, &flags, &fatal);
		goto kick;
	}
	if (qp->state < IB_QPS_RTS) {
		err = -EINVAL;
		*bad_wr = wr;
		goto out;
	}
	for (; wr; wr = wr->next) {
		err = rxdp_post_one_send(qp, wr);
		if (err) {
			*bad_wr = wr;
			break;
		}
	}
	if (qp->state == IB_QPS_ERR)
		rxdp_flush_sq(qp);
kick:
	send = qp->state == IB_QPS_RTS && qp->sq.next != qp->sq.seen;
out:
	spin_unlock_irqrestore(&qp->sq.lock, flags);
	if (fatal)
		rxdp_qp_fatal_done(qp);
	if (send)
		rxdp_req_kick(qp);
	return err;
}

/**
 * rxdp_post_one_recv - add a receive WQE to a receive queue or SRQ
 * @rdev: the device
 * @pd: the PD of the QP or SRQ
 * @q: the queue
 * @max_sge: its SGE limit
 * @wr: the request
 *
 * Context: the queue's lock held.
 * Return: 0, -ENOMEM when full, -EINVAL for a bad request.
 */
int rxdp_post_one_recv(struct rxdp_dev *rdev, struct ib_pd *pd,
		       struct rxdp_queue *q, u32 max_sge,
		       const struct ib_recv_wr *wr)
{
	struct rxe_recv_wqe *wqe;
	u64 len = 0;
	int i;

	if (wr->num_sge < 0 || wr->num_sge > max_sge)
		return -EINVAL;
	if (((q->prod + 1) & q->index_mask) == q->cons)
		return -ENOMEM;
	for (i = 0; i < wr->num_sge; i++) {
		const struct ib_sge *sge = &wr->sg_list[i];

		if (sge->length &&
		    rxdp_check_sge(rdev, pd, sge->lkey, sge->addr, sge->length,
				   IB_ACCESS_LOCAL_WRITE))
			return -EINVAL;
		len += sge->length;
	}
	if (len > RXDP_MAX_MSG_SZ)
		return -EINVAL;

	wqe = rxdp_queue_addr(q, q->prod);
	memset(wqe, 0, sizeof(*wqe));
	wqe->wr_id = wr->wr_id;
	for (i = 0; i < wr->num_sge; i++) {
		wqe->dma.sge[i].addr = wr->sg_list[i].addr;
		wqe->dma.sge[i].length = wr->sg_list[i].length;
		wqe->dma.sge[i].lkey = wr->sg_list[i].lkey;
	}
	wqe->dma.num_sge = wr->num_sge;
	wqe->dma.length = len;
	wqe->dma.resid = len;
	rxdp_queue_advance_prod(q);
	return 0;
}

int rxdp_post_recv(struct ib_qp *ibqp, const struct ib_recv_wr *wr,
		   const struct ib_recv_wr **bad_wr)
{
	struct rxdp_qp *qp = to_rqp(ibqp);
	unsigned long flags;
	int err = 0;

	if (qp->srq || qp->is_user) {
		*bad_wr = wr;
		return -EINVAL;
	}
	spin_lock_irqsave(&qp->rq.lock, flags);
	if (qp->state == IB_QPS_RESET) {
		err = -EINVAL;
		*bad_wr = wr;
		goto out;
	}
	for (; wr; wr = wr->next) {
		err = rxdp_post_one_recv(qp->rdev, ibqp->pd, &qp->rq.q,
					 qp->rq.max_sge, wr);
		if (err) {
			*bad_wr = wr;
			break;
		}
	}
	if (qp->state == IB_QPS_ERR)
		rxdp_flush_rq(qp);
out:
	spin_unlock_irqrestore(&qp->rq.lock, flags);
	return err;
}

/**
 * rxdp_qp_uses_mr - does an outstanding send WQE use this MR?
 * @qp: the QP
 * @mr: the MR, being deregistered
 *
 * An SGE names it by its key, a REG_MR of a kernel QP by its address.
 */
bool rxdp_qp_uses_mr(struct rxdp_qp *qp, struct rxdp_mr *mr)
{
	u32 lkey = mr->key;
	struct rxdp_queue *q = &qp->sq.q;
	unsigned long flags;
	bool found = false;
	u32 i, n;

	spin_lock_irqsave(&qp->sq.lock, flags);
	for (i = q->cons; !found && i != qp->sq.seen;
	     i = (i + 1) & q->index_mask) {
		struct rxe_send_wqe *wqe = rxdp_sq_wqe(qp, i);

		if (!qp->is_user && wqe->wr.opcode == IB_WR_REG_MR &&
		    wqe->wr.wr.reg.mr == &mr->ibmr)
			found = true;
		if (wqe->wr.send_flags & IB_SEND_INLINE)
			continue;
		n = min_t(u32, wqe->dma.num_sge, qp->sq.max_sge);
		while (n--)
			if (wqe->dma.sge[n].lkey == lkey)
				found = true;
	}
	spin_unlock_irqrestore(&qp->sq.lock, flags);
	return found;
}

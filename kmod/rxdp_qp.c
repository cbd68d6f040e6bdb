// SPDX-License-Identifier: GPL-2.0
/*
 * QP lifecycle: create, modify (the IB state machine), query, destroy, and
 * the asynchronous move to the error state.
 *
 * Locking: modify_lock serializes modify_qp, query_qp and destroy_qp.  The
 * state is written with both work queue locks held, so the post paths and
 * the flushes see it consistently under either.
 */
#include <linux/sched.h>
#include <rdma/ib_cache.h>
#include <rdma/uverbs_ioctl.h>

#include "rxdp.h"

#define RXDP_QP_ACCESS	(IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE | \
			 IB_ACCESS_REMOTE_READ | IB_ACCESS_REMOTE_ATOMIC | \
			 IB_ACCESS_FLUSH_GLOBAL | IB_ACCESS_FLUSH_PERSISTENT)
#define RXDP_PSN_MASK	0xffffffu

void rxdp_qp_put(struct rxdp_qp *qp)
{
	if (refcount_dec_and_test(&qp->anchor->ref))
		complete(&qp->done);
}

void rxdp_qp_event(struct rxdp_qp *qp, enum ib_event_type type)
{
	struct ib_event ev = {
		.device = qp->ibqp.device,
		.element.qp = &qp->ibqp,
		.event = type,
	};

	if (qp->ibqp.event_handler)
		qp->ibqp.event_handler(&ev, qp->ibqp.qp_context);
}

static void rxdp_qp_lock(struct rxdp_qp *qp, unsigned long *flags)
	__acquires(&qp->sq.lock) __acquires(&qp->rq.lock)
{
	spin_lock_irqsave(&qp->sq.lock, *flags);
	spin_lock(&qp->rq.lock);
}

static void rxdp_qp_unlock(struct rxdp_qp *qp, unsigned long *flags)
	__releases(&qp->rq.lock) __releases(&qp->sq.lock)
{
	spin_unlock(&qp->rq.lock);
	spin_unlock_irqrestore(&qp->sq.lock, *flags);
}

/* Move to ERR and flush.  Context: both work queue locks held. */
static bool rxdp_qp_set_err(struct rxdp_qp *qp)
{
	bool was_err = qp->state == IB_QPS_ERR;

	qp->state = IB_QPS_ERR;
	qp->attr.qp_state = IB_QPS_ERR;
	if (was_err)
		return false;
	rxdp_maps_qp_sync(qp, false);
	rxdp_flush_sq(qp);
	rxdp_flush_held(qp);
	if (!qp->srq)
		rxdp_flush_rq(qp);
	return true;
}

/* What follows a move to ERR, once the locks are let go. */
static void rxdp_qp_error_done(struct rxdp_qp *qp, bool fatal)
{
	rxdp_timers_stop(qp);
	if (qp->srq)
		rxdp_qp_event(qp, IB_EVENT_QP_LAST_WQE_REACHED);
	if (fatal)
		rxdp_qp_event(qp, IB_EVENT_QP_FATAL);
}

/**
 * rxdp_qp_error - move a QP to the error state
 * @qp: the QP
 *
 * Completes every outstanding WQE of both queues with a flush error, in
 * order.  A QP on an SRQ raises the last-WQE-reached event.  Callable from
 * any context but hard irq.
 */
void rxdp_qp_error(struct rxdp_qp *qp)
{
	unsigned long flags;
	bool moved;

	rxdp_qp_lock(qp, &flags);
	moved = rxdp_qp_set_err(qp);
	rxdp_qp_unlock(qp, &flags);
	if (moved)
		rxdp_qp_error_done(qp, false);
}

/**
 * rxdp_qp_error_gen - move a QP to the error state, if it is still the same
 * @qp: the QP
 * @gen: its rx_gen when the error was found, under one of its locks
 *
 * An error found before a RESET must not end the next incarnation: the
 * QP moves only if no RESET came since.
 */
void rxdp_qp_error_gen(struct rxdp_qp *qp, u32 gen)
{
	unsigned long flags;
	bool moved = false;

	rxdp_qp_lock(qp, &flags);
	if (qp->rx_gen == gen)
		moved = rxdp_qp_set_err(qp);
	rxdp_qp_unlock(qp, &flags);
	if (moved)
		rxdp_qp_error_done(qp, false);
}

/**
 * rxdp_qp_fatal_sq_locked - a local error found with the SQ lock held
 * @qp: the QP
 *
 * The QP goes to the error state before the SQ lock is let go, so that
 * nothing posted after the error is executed, nor a RESET undone.
 * Context: sq.lock held, IRQs off.
 * Return: true when rxdp_qp_fatal_done() is due after the lock.
 */
bool rxdp_qp_fatal_sq_locked(struct rxdp_qp *qp)
	__must_hold(&qp->sq.lock)
{
	bool moved;

	spin_lock(&qp->rq.lock);
	moved = rxdp_qp_set_err(qp);
	spin_unlock(&qp->rq.lock);
	return moved;
}

/* The rest of rxdp_qp_fatal_sq_locked(), without the SQ lock. */
void rxdp_qp_fatal_done(struct rxdp_qp *qp)
{
	rxdp_qp_error_done(qp, true);
}

/**
 * rxdp_qp_comm_est - the responder took a packet of an RC/UC QP in RTR
 * @qp: the QP
 *
 * Raises IB_EVENT_COMM_EST once, so a consumer waiting for its peer's RTU
 * knows the connection is up.  Only a packet the transport accepted (in
 * sequence, from the connected peer) counts: a guessed QPN must not
 * establish a passive connection.  Context: the QP's responder.
 */
void rxdp_qp_comm_est(struct rxdp_qp *qp)
{
	if ((qp->ibqp.qp_type != IB_QPT_RC && qp->ibqp.qp_type != IB_QPT_UC) ||
	    READ_ONCE(qp->state) != IB_QPS_RTR ||
	    test_and_set_bit(RXDP_QP_COMM_EST, &qp->flags))
		return;
	rxdp_qp_event(qp, IB_EVENT_COMM_EST);
}

/* Write the QP's entry in the XDP program's QP table. */
void rxdp_qp_sync_map(struct rxdp_qp *qp)
{
	unsigned long flags;

	rxdp_qp_lock(qp, &flags);
	rxdp_maps_qp_sync(qp, false);
	rxdp_qp_unlock(qp, &flags);
}

/**
 * rxdp_qp_fatal - a local error the consumer must hear about
 * @qp: the QP
 *
 * The QP goes to the error state and IB_EVENT_QP_FATAL is raised.
 */
void rxdp_qp_fatal(struct rxdp_qp *qp)
{
	rxdp_qp_error(qp);
	rxdp_qp_event(qp, IB_EVENT_QP_FATAL);
}

/* RESET: both queues empty, no completions, timers idle. */
static void rxdp_qp_reset(struct rxdp_qp *qp)
{
	unsigned long flags;

	rxdp_timers_stop_sync(qp);
	rxdp_qp_lock(qp, &flags);
	WRITE_ONCE(qp->state, IB_QPS_RESET);
	/* who sees the new incarnation sees RESET: see rxdp_rx_enqueue() */
	smp_wmb();
	WRITE_ONCE(qp->rx_gen, qp->rx_gen + 1);
	clear_bit(RXDP_QP_COMM_EST, &qp->flags);
	clear_bit(RXDP_QP_SQ_BAD, &qp->flags);
	qp->resp_wqe_held = false;
	rxdp_maps_qp_sync(qp, false);
	rxdp_queue_empty(&qp->sq.q);
	qp->sq.seen = qp->sq.q.cons;
	qp->sq.next = qp->sq.q.cons;
	if (!qp->srq)
		rxdp_queue_empty(&qp->rq.q);
	rxdp_qp_unlock(qp, &flags);
	/* nothing of the old connection is sent after this, */
	rxdp_req_stop(qp);
	/* nor reaches the next one */
	rxdp_rx_drain(qp);
}

/* RTR to RTS: the requester starts at sq_psn.  Context: both locks. */
static void rxdp_qp_start_requester(struct rxdp_qp *qp)
{
	qp->req_psn = qp->attr.sq_psn;
	qp->req_sent_psn = qp->req_psn;
	qp->req_fresh_psn = qp->req_psn;
	qp->comp_psn = qp->req_psn;
	qp->req_offset = 0;
	qp->req_rd_atomic = 0;
	qp->req_noack = 0;
	qp->req_window = RXDP_MAX_UNACKED_PSNS;
	qp->req_rnr_wait = false;
	qp->comp_has_rewound = false;
	qp->retries_left = qp->attr.retry_cnt;
	qp->rnr_left = qp->attr.rnr_retry;
}

static void rxdp_apply_modify(struct rxdp_qp *qp, struct ib_qp_attr *attr,
			      int mask)
{
	struct ib_qp_attr *a = &qp->attr;

	if (mask & IB_QP_PKEY_INDEX)
		a->pkey_index = attr->pkey_index;
	if (mask & IB_QP_PORT)
		a->port_num = attr->port_num;
	if (mask & IB_QP_QKEY)
		a->qkey = attr->qkey;
	if (mask & IB_QP_ACCESS_FLAGS)
		a->qp_access_flags = attr->qp_access_flags;
	if (mask & IB_QP_PATH_MTU)
		a->path_mtu = attr->path_mtu;
	if (mask & IB_QP_AV) {
		a->ah_attr = attr->ah_attr;
		/* the RDMA core holds the GID reference of the path */
		a->ah_attr.grh.sgid_attr = NULL;
	}
	if (mask & IB_QP_PATH_MIG_STATE)
		a->path_mig_state = attr->path_mig_state;
	if (mask & IB_QP_DEST_QPN)
		a->dest_qp_num = attr->dest_qp_num;
	if (mask & IB_QP_RQ_PSN)
		a->rq_psn = attr->rq_psn;
	if (mask & IB_QP_SQ_PSN)
		a->sq_psn = attr->sq_psn;
	if (mask & IB_QP_TIMEOUT)
		a->timeout = attr->timeout;
	if (mask & IB_QP_RETRY_CNT)
		a->retry_cnt = attr->retry_cnt;
	if (mask & IB_QP_RNR_RETRY)
		a->rnr_retry = attr->rnr_retry;
	if (mask & IB_QP_MIN_RNR_TIMER)
		a->min_rnr_timer = attr->min_rnr_timer;
	if (mask & IB_QP_MAX_QP_RD_ATOMIC)
		a->max_rd_atomic = attr->max_rd_atomic;
	if (mask & IB_QP_MAX_DEST_RD_ATOMIC)
		a->max_dest_rd_atomic = attr->max_dest_rd_atomic;
	if (mask & IB_QP_EN_SQD_ASYNC_NOTIFY)
		a->en_sqd_async_notify = attr->en_sqd_async_notify;
}

/*
 * Apply the checked attributes and move to state.  An error that came
 * since the checks wins (only RESET leaves ERR): the modify fails then,
 * and changes nothing.
 */
static int rxdp_qp_set_state(struct rxdp_qp *qp, enum ib_qp_state state,
			     struct ib_qp_attr *attr, int mask,
			     const struct rxdp_path *path)
{
	bool sqd_notify = (mask & IB_QP_EN_SQD_ASYNC_NOTIFY) &&
			  attr->en_sqd_async_notify;
	unsigned long flags;
	bool drained, posted;

	rxdp_qp_lock(qp, &flags);
	switch (state) {
	case IB_QPS_RESET:
	case IB_QPS_ERR:
		/* these cannot fail */
		rxdp_apply_modify(qp, attr, mask);
		rxdp_qp_unlock(qp, &flags);
		if (state == IB_QPS_RESET)
			rxdp_qp_reset(qp);
		else
			rxdp_qp_error(qp);
		return 0;
	default:
		break;
	}
	if (qp->state == IB_QPS_ERR) {
		rxdp_qp_unlock(qp, &flags);
		return -EINVAL;
	}
	rxdp_apply_modify(qp, attr, mask);
	if (path)
		qp->path = *path;
	if (qp->state == IB_QPS_INIT && state == IB_QPS_RTR)
		rxdp_resp_reset(qp);
	if (qp->state == IB_QPS_RTR && state == IB_QPS_RTS)
		rxdp_qp_start_requester(qp);
	/*
	 * Released: the receive paths read the state without the wq locks
	 * (rxdp_rx_state_ok()), and what the modify set (the path, the
	 * responder's PSN) must be seen once the state lets a packet in.
	 */
	smp_store_release(&qp->state, state);
	rxdp_maps_qp_sync(qp, false);
	posted = qp->sq.q.cons != qp->sq.seen;
	drained = rxdp_sq_drained(qp);
	/* not drained yet: the completion that drains it raises the event */
	qp->sqd_notify_due = state == IB_QPS_SQD && sqd_notify && !drained;
	rxdp_qp_unlock(qp, &flags);
	if (state == IB_QPS_RTS && posted)
		rxdp_req_kick(qp);
	if (state == IB_QPS_SQD && sqd_notify && drained)
		rxdp_qp_event(qp, IB_EVENT_SQ_DRAINED);
	return 0;
}

static int rxdp_check_cap(struct rxdp_dev *rdev, struct ib_qp_init_attr *init)
{
	struct ib_qp_cap *cap = &init->cap;

	if (cap->max_send_wr > rdev->attr.max_qp_wr ||
	    cap->max_send_sge > rdev->attr.max_send_sge ||
	    cap->max_inline_data > RXDP_MAX_INLINE)
		return -EINVAL;
	if (!init->srq && (cap->max_recv_wr > rdev->attr.max_qp_wr ||
			   cap->max_recv_sge > rdev->attr.max_recv_sge))
		return -EINVAL;
	return 0;
}

static int rxdp_qp_init_queues(struct rxdp_qp *qp, struct ib_qp_init_attr *init,
			       struct ib_udata *udata,
			       struct rxe_create_qp_resp *resp)
{
	struct ib_device *ibdev = qp->ibqp.device;
	gfp_t gfp = udata ? GFP_KERNEL_ACCOUNT : GFP_KERNEL;
	u32 n;
	int err;

	spin_lock_init(&qp->sq.lock);
	spin_lock_init(&qp->rq.lock);

	qp->sq.max_sge = max(init->cap.max_send_sge, 1u);
	qp->sq.max_inline = init->cap.max_inline_data;
	/* the inline area and the SGE area share the WQE's tail */
	qp->sq.max_inline = max_t(u32, qp->sq.max_inline,
				  qp->sq.max_sge * sizeof(struct rxe_sge));
	qp->sq.max_sge = qp->sq.max_inline / sizeof(struct rxe_sge);
	qp->sq.max_sge = min(qp->sq.max_sge, RXDP_MAX_SGE);
	n = init->cap.max_send_wr;
	err = rxdp_queue_init(&qp->sq.q, ibdev, &n,
			      rxdp_send_wqe_size(&qp->sq), udata,
			      &resp->sq_mi);
	if (err)
		return err;
	qp->sq.max_wr = n;
	qp->req_wqe = kzalloc(rxdp_send_wqe_size(&qp->sq), gfp);
	qp->resp_wqe = kzalloc(rxdp_recv_wqe_size(RXDP_MAX_SGE), gfp);
	if (!qp->req_wqe || !qp->resp_wqe) {
		err = -ENOMEM;
		goto err_scratch;
	}
	if (udata) {
		/* as large as the ring: a memcg at its limit says ENOMEM */
		qp->sq_shadow = kvcalloc(qp->sq.q.index_mask + 1,
					 1 << qp->sq.q.log2_elem_size,
					 gfp | __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
		if (!qp->sq_shadow) {
			err = -ENOMEM;
			goto err_scratch;
		}
	}

	if (!init->srq) {
		qp->rq.max_sge = max(init->cap.max_recv_sge, 1u);
		n = init->cap.max_recv_wr;
		err = rxdp_queue_init(&qp->rq.q, ibdev, &n,
				      rxdp_recv_wqe_size(qp->rq.max_sge),
				      udata, &resp->rq_mi);
		if (err)
			goto err_scratch;
		qp->rq.max_wr = n;
	}
	return 0;

err_scratch:
	kvfree(qp->sq_shadow);
	kfree(qp->resp_wqe);
	kfree(qp->req_wqe);
	rxdp_queue_free(&qp->sq.q);
	return err;
}

static void rxdp_qp_free_queues(struct rxdp_qp *qp)
{
	if (!qp->srq)
		rxdp_queue_free(&qp->rq.q);
	kvfree(qp->sq_shadow);
	kfree(qp->resp_wqe);
	kfree(qp->req_wqe);
	rxdp_queue_free(&qp->sq.q);
}

static void rxdp_qp_fill_cap(struct rxdp_qp *qp, struct ib_qp_cap *cap)
{
	cap->max_send_wr = qp->sq.max_wr;
	cap->max_send_sge = qp->sq.max_sge;
	cap->max_inline_data = qp->sq.max_inline;
	cap->max_recv_wr = qp->srq ? 0 : qp->rq.max_wr;
	cap->max_recv_sge = qp->srq ? 0 : qp->rq.max_sge;
}

int rxdp_create_qp(struct ib_qp *ibqp, struct ib_qp_init_attr *init,
		   struct ib_udata *udata)
{
	struct rxdp_dev *rdev = to_rdev(ibqp->device);
	struct rxdp_qp *qp = to_rqp(ibqp);
	struct rxe_create_qp_resp resp = {};
	u32 qpn;
	int err;

	switch (init->qp_type) {
	case IB_QPT_RC:
	case IB_QPT_UC:
	case IB_QPT_UD:
		break;
	case IB_QPT_GSI:
		if (udata)
			return -EINVAL;
		break;
	case IB_QPT_SMI:	/* there is no subnet manager on RoCE */
		return -EINVAL;
	default:
		return -EOPNOTSUPP;
	}
	if (init->create_flags)
		return -EOPNOTSUPP;
	if (!init->send_cq || !init->recv_cq)
		return -EINVAL;
	err = rxdp_check_cap(rdev, init);
	if (err)
		return err;
	if (udata && udata->outlen < sizeof(resp))
		return -EINVAL;

	err = rxdp_qpn_alloc(&rdev->qpn, init->qp_type == IB_QPT_GSI, &qpn);
	if (err)
		return err;

	qp->rdev = rdev;
	qp->is_user = !!udata;
	qp->scq = to_rcq(init->send_cq);
	qp->rcq = to_rcq(init->recv_cq);
	qp->srq = to_rsrq(init->srq);
	qp->sq_sig_type = init->sq_sig_type;
	qp->state = IB_QPS_RESET;
	qp->attr.qp_state = IB_QPS_RESET;
	qp->attr.port_num = init->qp_type == IB_QPT_GSI ? init->port_num :
							  RXDP_PORT;
	qp->attr.path_mtu = IB_MTU_1024;
	qp->owner = udata ? task_tgid_nr(current) : 0;
	get_task_comm(qp->comm, current);
	init_completion(&qp->done);
	mutex_init(&qp->modify_lock);
	qp->serial = atomic64_inc_return(&rdev->next_qp_serial);
	rxdp_timers_init(qp);
	rxdp_req_init(qp);

	err = rxdp_tx_ctx_init(qp);
	if (err)
		goto err_qpn;
	err = rxdp_rx_init(qp);
	if (err)
		goto err_tx;
	err = rxdp_qp_init_queues(qp, init, udata, &resp);
	if (err)
		goto err_rx;
	if (udata) {
		err = ib_copy_to_udata(udata, &resp, sizeof(resp));
		if (err)
			goto err_queues;
	}
	rxdp_qp_fill_cap(qp, &init->cap);
	ibqp->qp_num = qpn;

	qp->anchor = kmalloc(sizeof(*qp->anchor),
			     udata ? GFP_KERNEL_ACCOUNT : GFP_KERNEL);
	if (!qp->anchor) {
		err = -ENOMEM;
		goto err_queues;
	}
	refcount_set(&qp->anchor->ref, 1);
	qp->anchor->qp = qp;
	/* findable only once complete */
	err = xa_err(xa_store_bh(&rdev->qpn.qps, qpn, qp->anchor, GFP_KERNEL));
	if (err)
		goto err_anchor;
	rxdp_qp_sync_map(qp);
	return 0;

err_anchor:
	kfree(qp->anchor);
err_queues:
	rxdp_qp_free_queues(qp);
err_rx:
	rxdp_rx_cleanup(qp);
err_tx:
	rxdp_tx_ctx_release(qp);
err_qpn:
	rxdp_qpn_free(&rdev->qpn, qpn);
	return err;
}

/* Check every attribute of a modify before anything changes. */
static int rxdp_check_modify(struct rxdp_qp *qp, struct ib_qp_attr *attr,
			     int mask)
{
	struct rxdp_dev *rdev = qp->rdev;

	if ((mask & IB_QP_PKEY_INDEX) && attr->pkey_index >= RXDP_PKEYS)
		return -EINVAL;
	if ((mask & IB_QP_PORT) && attr->port_num != RXDP_PORT)
		return -EINVAL;
	if ((mask & IB_QP_ACCESS_FLAGS) &&
	    (attr->qp_access_flags & ~RXDP_QP_ACCESS))
		return -EINVAL;
	if (mask & IB_QP_PATH_MTU) {
		struct net_device *ndev;
		enum ib_mtu active;

		ndev = ib_device_get_netdev(&rdev->ib_dev, RXDP_PORT);
		if (!ndev)
			return -ENODEV;
		active = rxdp_active_mtu(ndev);
		dev_put(ndev);
		if (attr->path_mtu < IB_MTU_256 || attr->path_mtu > active)
			return -EINVAL;
	}
	if ((mask & IB_QP_AV) && rxdp_check_ah_attr(rdev, &attr->ah_attr))
		return -EINVAL;
	if (mask & IB_QP_ALT_PATH)	/* no automatic path migration */
		return -EINVAL;
	if ((mask & IB_QP_PATH_MIG_STATE) &&
	    attr->path_mig_state != IB_MIG_MIGRATED)
		return -EINVAL;
	if ((mask & IB_QP_DEST_QPN) && attr->dest_qp_num > RXDP_QPN_MASK)
		return -EINVAL;
	if ((mask & IB_QP_RQ_PSN) && attr->rq_psn > RXDP_PSN_MASK)
		return -EINVAL;
	if ((mask & IB_QP_SQ_PSN) && attr->sq_psn > RXDP_PSN_MASK)
		return -EINVAL;
	if ((mask & IB_QP_TIMEOUT) && attr->timeout > 31)
		return -EINVAL;
	if ((mask & IB_QP_RETRY_CNT) && attr->retry_cnt > 7)
		return -EINVAL;
	if ((mask & IB_QP_RNR_RETRY) && attr->rnr_retry > 7)
		return -EINVAL;
	if ((mask & IB_QP_MIN_RNR_TIMER) && attr->min_rnr_timer > 31)
		return -EINVAL;
	if ((mask & IB_QP_MAX_QP_RD_ATOMIC) &&
	    attr->max_rd_atomic > rdev->attr.max_qp_init_rd_atom)
		return -EINVAL;
	if ((mask & IB_QP_MAX_DEST_RD_ATOMIC) &&
	    attr->max_dest_rd_atomic > rdev->attr.max_qp_rd_atom)
		return -EINVAL;
	if (mask & IB_QP_CAP)		/* queues are not resized */
		return -EINVAL;
	return 0;
}

int rxdp_modify_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		   struct ib_udata *udata)
{
	struct rxdp_qp *qp = to_rqp(ibqp);
	enum ib_qp_state cur, new;
	struct rxdp_path path;
	bool has_path;
	int err;

	if (mask & ~IB_QP_ATTR_STANDARD_BITS)
		return -EOPNOTSUPP;

	mutex_lock(&qp->modify_lock);
	cur = READ_ONCE(qp->state);
	if ((mask & IB_QP_CUR_STATE) && attr->cur_qp_state != cur) {
		err = -EINVAL;
		goto out;
	}
	new = (mask & IB_QP_STATE) ? attr->qp_state : cur;
	if (cur > IB_QPS_ERR || new > IB_QPS_ERR ||
	    !ib_modify_qp_is_ok(cur, new, ibqp->qp_type, mask)) {
		err = -EINVAL;
		goto out;
	}
	err = rxdp_check_modify(qp, attr, mask);
	if (err)
		goto out;
	/* a connected QP's packets all go one way: their headers, once */
	has_path = (mask & IB_QP_AV) && (ibqp->qp_type == IB_QPT_RC ||
					 ibqp->qp_type == IB_QPT_UC);
	if (has_path) {
		err = rxdp_req_path(qp, attr, mask, &path);
		if (err)
			goto out;
	}

	if (mask & IB_QP_STATE) {
		err = rxdp_qp_set_state(qp, new, attr, mask,
					has_path ? &path : NULL);
		if (!err)
			qp->attr.qp_state = new;
	} else {
		unsigned long flags;

		rxdp_qp_lock(qp, &flags);
		rxdp_apply_modify(qp, attr, mask);
		if (has_path)
			qp->path = path;
		rxdp_maps_qp_sync(qp, false);
		rxdp_qp_unlock(qp, &flags);
	}
out:
	mutex_unlock(&qp->modify_lock);
	return err;
}

int rxdp_query_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		  struct ib_qp_init_attr *init)
{
	struct rxdp_qp *qp = to_rqp(ibqp);
	unsigned long flags;

	mutex_lock(&qp->modify_lock);
	*attr = qp->attr;
	/*
	 * Under the SQ lock: a WQE's error completion and the move to ERR
	 * are one step there, and the completion may already have been
	 * polled (the CQ is mapped): the state read here is the later one.
	 */
	spin_lock_irqsave(&qp->sq.lock, flags);
	attr->qp_state = qp->state;
	attr->sq_draining = qp->state == IB_QPS_SQD && !rxdp_sq_drained(qp);
	spin_unlock_irqrestore(&qp->sq.lock, flags);
	attr->cur_qp_state = attr->qp_state;
	rxdp_qp_fill_cap(qp, &attr->cap);
	mutex_unlock(&qp->modify_lock);

	memset(init, 0, sizeof(*init));
	init->qp_type = ibqp->qp_type;
	init->send_cq = ibqp->send_cq;
	init->recv_cq = ibqp->recv_cq;
	init->srq = ibqp->srq;
	init->cap = attr->cap;
	init->sq_sig_type = qp->sq_sig_type;
	init->port_num = qp->attr.port_num;
	return 0;
}

int rxdp_destroy_qp(struct ib_qp *ibqp, struct ib_udata *udata)
{
	struct rxdp_qp *qp = to_rqp(ibqp);
	struct rxdp_dev *rdev = qp->rdev;

	/* no new lookup finds it; then wait for the ones that did */
	xa_erase_bh(&rdev->qpn.qps, ibqp->qp_num);
	rxdp_qp_put(qp);
	wait_for_completion(&qp->done);
	/*
	 * The timers, the responder and the sender kick one another: none
	 * does once DYING shows; each is waited for, the responder again
	 * after the sender, which may have queued it before.
	 */
	set_bit(RXDP_QP_DYING, &qp->flags);
	/* DYING before the waits: pairs with the queueing it stops */
	smp_mb__after_atomic();
	rxdp_timers_shutdown(qp);
	rxdp_rx_stop(qp);
	rxdp_tx_ctx_detach(qp);
	rxdp_req_stop(qp);
	rxdp_rx_stop(qp);
	rxdp_tx_ctx_release(qp);
	/* the receive work stores counters in the entry: stop it first */
	rxdp_rx_cleanup(qp);
	/* then the entry goes, and XDP stops steering to the QP */
	rxdp_maps_qp_sync(qp, true);
	rxdp_qp_free_queues(qp);
	mutex_destroy(&qp->modify_lock);
	rxdp_qpn_free(&rdev->qpn, ibqp->qp_num);
	/* a lookup that found it before the erase may still try for it */
	kfree_rcu(qp->anchor, rcu);
	return 0;
}

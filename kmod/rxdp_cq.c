// SPDX-License-Identifier: GPL-2.0
/*
 * Completion queues: a ring of completions, mapped by user space for user
 * CQs (struct ib_uverbs_wc entries) or polled through poll_cq for kernel
 * ones (struct ib_wc entries).
 */
#include <rdma/uverbs_ioctl.h>

#include "rxdp.h"

union rxdp_cqe {
	struct ib_wc		kwc;
	struct ib_uverbs_wc	uwc;
};

static void rxdp_cq_comp_work(struct work_struct *work)
{
	struct rxdp_cq *cq = container_of(work, struct rxdp_cq, comp_work);

	if (cq->ibcq.comp_handler)
		cq->ibcq.comp_handler(&cq->ibcq, cq->ibcq.cq_context);
}

int rxdp_create_cq(struct ib_cq *ibcq, const struct ib_cq_init_attr *attr,
		   struct uverbs_attr_bundle *attrs)
{
	struct ib_udata *udata = attrs ? &attrs->driver_udata : NULL;
	struct rxdp_dev *rdev = to_rdev(ibcq->device);
	struct rxdp_cq *cq = to_rcq(ibcq);
	struct rxe_create_cq_resp resp = {};
	u32 cqe = attr->cqe;
	int err;

	if (attr->flags)
		return -EOPNOTSUPP;
	if (attr->cqe < 1 || attr->cqe > rdev->attr.max_cqe)
		return -EINVAL;
	if (udata && udata->outlen < sizeof(resp))
		return -EINVAL;
	if (atomic_inc_return(&rdev->num_cq) > rdev->attr.max_cq) {
		err = -ENOMEM;
		goto err_count;
	}

	spin_lock_init(&cq->lock);
	INIT_WORK(&cq->comp_work, rxdp_cq_comp_work);
	cq->is_user = !!udata;
	err = rxdp_queue_init(&cq->q, ibcq->device, &cqe,
			      sizeof(union rxdp_cqe), udata, &resp.mi);
	if (err)
		goto err_count;
	if (udata) {
		err = ib_copy_to_udata(udata, &resp, sizeof(resp));
		if (err)
			goto err_queue;
	}
	ibcq->cqe = cqe;
	return 0;

err_queue:
	rxdp_queue_free(&cq->q);
err_count:
	atomic_dec(&rdev->num_cq);
	return err;
}

int rxdp_resize_cq(struct ib_cq *ibcq, int cqe, struct ib_udata *udata)
{
	struct rxdp_cq *cq = to_rcq(ibcq);
	struct rxe_resize_cq_resp resp = {};
	struct rxdp_queue nq;
	u32 n = cqe;
	int err;

	if (cqe < 1 || cqe > to_rdev(ibcq->device)->attr.max_cqe)
		return -EINVAL;
	if (udata && udata->outlen < sizeof(resp))
		return -EINVAL;

	err = rxdp_queue_resize_prepare(&nq, &cq->q, ibcq->device, &n, udata,
					&resp.mi);
	if (err)
		return err;
	/* user space learns where the new ring is before the CQ moves */
	if (udata) {
		err = ib_copy_to_udata(udata, &resp, sizeof(resp));
		if (err) {
			rxdp_queue_free(&nq);
			return err;
		}
	}
	err = rxdp_queue_resize_commit(&cq->q, &nq, &cq->lock, true);
	if (err)
		return err;
	ibcq->cqe = n;
	return 0;
}

int rxdp_destroy_cq(struct ib_cq *ibcq, struct ib_udata *udata)
{
	struct rxdp_cq *cq = to_rcq(ibcq);

	cancel_work_sync(&cq->comp_work);
	rxdp_queue_free(&cq->q);
	atomic_dec(&to_rdev(ibcq->device)->num_cq);
	return 0;
}

int rxdp_poll_cq(struct ib_cq *ibcq, int num, struct ib_wc *wc)
{
	struct rxdp_cq *cq = to_rcq(ibcq);
	unsigned long flags;
	int n = 0;

	spin_lock_irqsave(&cq->lock, flags);
	while (n < num && cq->q.cons != cq->q.prod) {
		union rxdp_cqe *cqe = rxdp_queue_addr(&cq->q, cq->q.cons);

		wc[n++] = cqe->kwc;
		rxdp_queue_advance_cons(&cq->q);
	}
	spin_unlock_irqrestore(&cq->lock, flags);
	return n;
}

int rxdp_req_notify_cq(struct ib_cq *ibcq, enum ib_cq_notify_flags flags)
{
	struct rxdp_cq *cq = to_rcq(ibcq);
	unsigned long irqflags;
	int ret = 0;

	spin_lock_irqsave(&cq->lock, irqflags);
	/* a request for the next completion wins over a solicited one */
	if (cq->notify != IB_CQ_NEXT_COMP)
		cq->notify = flags & IB_CQ_SOLICITED_MASK;
	if ((flags & IB_CQ_REPORT_MISSED_EVENTS) &&
	    rxdp_queue_load_cons(&cq->q) != cq->q.prod)
		ret = 1;
	spin_unlock_irqrestore(&cq->lock, irqflags);
	return ret;
}

/* libibverbs' IBV_WC_WITH_INV; the kernel's bit 3 is IB_WC_IP_CSUM_OK */
#define RXDP_UWC_WITH_INV	BIT(3)

static void rxdp_cq_to_user(struct ib_uverbs_wc *uwc, const struct ib_wc *wc)
{
	memset(uwc, 0, sizeof(*uwc));
	uwc->wr_id = wc->wr_id;
	uwc->status = wc->status;
	uwc->opcode = wc->opcode;
	uwc->vendor_err = wc->vendor_err;
	uwc->byte_len = wc->byte_len;
	uwc->ex.imm_data = wc->ex.imm_data;
	uwc->qp_num = wc->qp->qp_num;
	uwc->src_qp = wc->src_qp;
	/* the flags user space and the kernel number alike */
	uwc->wc_flags = wc->wc_flags & (IB_WC_GRH | IB_WC_WITH_IMM);
	/* and one they do not (rdma_rxe hands the kernel's bit over) */
	if (wc->wc_flags & IB_WC_WITH_INVALIDATE)
		uwc->wc_flags |= RXDP_UWC_WITH_INV;
	uwc->pkey_index = wc->pkey_index;
	uwc->slid = wc->slid;
	uwc->sl = wc->sl;
	uwc->dlid_path_bits = wc->dlid_path_bits;
	uwc->port_num = wc->port_num;
}

/**
 * rxdp_cq_post - add a completion
 * @cq: the CQ
 * @wc: the completion; wc->qp is set
 * @solicited: the completion is for a solicited event
 *
 * A full CQ loses the completion and raises IB_EVENT_CQ_ERR, once.
 * Return: 0 or -ENOSPC.
 */
int rxdp_cq_post(struct rxdp_cq *cq, const struct ib_wc *wc, bool solicited)
{
	struct rxdp_queue *q = &cq->q;
	union rxdp_cqe *cqe;
	unsigned long flags;
	bool notify = false, overflow = false;

	spin_lock_irqsave(&cq->lock, flags);
	if (((q->prod + 1) & q->index_mask) == rxdp_queue_load_cons(q)) {
		overflow = !cq->overflowed;
		cq->overflowed = true;
		spin_unlock_irqrestore(&cq->lock, flags);
		if (overflow && cq->ibcq.event_handler) {
			struct ib_event ev = {
				.device = cq->ibcq.device,
				.element.cq = &cq->ibcq,
				.event = IB_EVENT_CQ_ERR,
			};

			cq->ibcq.event_handler(&ev, cq->ibcq.cq_context);
		}
		return -ENOSPC;
	}

	cqe = rxdp_queue_addr(q, q->prod);
	if (cq->is_user)
		rxdp_cq_to_user(&cqe->uwc, wc);
	else
		cqe->kwc = *wc;
	rxdp_queue_advance_prod(q);

	if (cq->notify == IB_CQ_NEXT_COMP ||
	    (cq->notify == IB_CQ_SOLICITED && solicited)) {
		cq->notify = 0;
		notify = true;
	}
	spin_unlock_irqrestore(&cq->lock, flags);

	if (notify)
		queue_work(system_highpri_wq, &cq->comp_work);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Shared receive queues.
 */
#include <rdma/uverbs_ioctl.h>

#include "rxdp.h"

size_t rxdp_recv_wqe_size(u32 max_sge)
{
	return sizeof(struct rxe_recv_wqe) + max_sge * sizeof(struct rxe_sge);
}

int rxdp_create_srq(struct ib_srq *ibsrq, struct ib_srq_init_attr *init,
		    struct ib_udata *udata)
{
	struct rxdp_dev *rdev = to_rdev(ibsrq->device);
	struct rxdp_srq *srq = to_rsrq(ibsrq);
	struct rxe_create_srq_resp resp = {};
	struct ib_srq_attr *a = &init->attr;
	u32 n = a->max_wr;
	int err;

	if (init->srq_type != IB_SRQT_BASIC)
		return -EOPNOTSUPP;
	if (a->max_wr < 1 || a->max_wr > rdev->attr.max_srq_wr ||
	    a->max_sge < 1 || a->max_sge > rdev->attr.max_srq_sge ||
	    a->srq_limit > a->max_wr)
		return -EINVAL;
	if (udata && udata->outlen < sizeof(resp))
		return -EINVAL;
	if (atomic_inc_return(&rdev->num_srq) > rdev->attr.max_srq) {
		err = -ENOMEM;
		goto err_count;
	}

	spin_lock_init(&srq->lock);
	srq->is_user = !!udata;
	srq->max_sge = a->max_sge;
	srq->limit = a->srq_limit;
	err = rxdp_queue_init(&srq->q, ibsrq->device, &n,
			      rxdp_recv_wqe_size(srq->max_sge), udata,
			      &resp.mi);
	if (err)
		goto err_count;
	if (udata) {
		resp.srq_num = atomic_inc_return(&rdev->next_srq);
		err = ib_copy_to_udata(udata, &resp, sizeof(resp));
		if (err)
			goto err_queue;
	}
	a->max_wr = n;
	return 0;

err_queue:
	rxdp_queue_free(&srq->q);
err_count:
	atomic_dec(&rdev->num_srq);
	return err;
}

int rxdp_modify_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr,
		    enum ib_srq_attr_mask mask, struct ib_udata *udata)
{
	struct rxdp_dev *rdev = to_rdev(ibsrq->device);
	struct rxdp_srq *srq = to_rsrq(ibsrq);
	struct rxe_modify_srq_cmd cmd = {};
	struct mminfo mi = {};
	u32 n = attr->max_wr;
	int err = 0;

	if (mask & ~(IB_SRQ_MAX_WR | IB_SRQ_LIMIT))
		return -EINVAL;
	if ((mask & IB_SRQ_MAX_WR) &&
	    (attr->max_wr < 1 || attr->max_wr > rdev->attr.max_srq_wr))
		return -EINVAL;
	if (mask & IB_SRQ_MAX_WR && udata) {
		if (udata->inlen < sizeof(cmd))
			return -EINVAL;
		err = ib_copy_from_udata(&cmd, udata, sizeof(cmd));
		if (err)
			return err;
	}

	if ((mask & IB_SRQ_LIMIT) &&
	    attr->srq_limit > ((mask & IB_SRQ_MAX_WR) ?
			       attr->max_wr : rxdp_queue_capacity(&srq->q)))
		return -EINVAL;
	if (mask & IB_SRQ_MAX_WR) {
		struct rxdp_queue nq;

		err = rxdp_queue_resize_prepare(&nq, &srq->q, ibsrq->device,
						&n, udata, &mi);
		if (err)
			return err;
		/* where the new ring is, before the SRQ moves into it */
		if (udata && copy_to_user(u64_to_user_ptr(cmd.mmap_info_addr),
					  &mi, sizeof(mi))) {
			rxdp_queue_free(&nq);
			return -EFAULT;
		}
		err = rxdp_queue_resize_commit(&srq->q, &nq, &srq->lock,
					       false);
		if (err)
			return err;
	}
	if (mask & IB_SRQ_LIMIT) {
		spin_lock_irq(&srq->lock);
		srq->limit = attr->srq_limit;
		spin_unlock_irq(&srq->lock);
	}
	return 0;
}

int rxdp_query_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr)
{
	struct rxdp_srq *srq = to_rsrq(ibsrq);

	attr->max_wr = rxdp_queue_capacity(&srq->q);
	attr->max_sge = srq->max_sge;
	attr->srq_limit = srq->limit;
	return 0;
}

int rxdp_destroy_srq(struct ib_srq *ibsrq, struct ib_udata *udata)
{
	struct rxdp_srq *srq = to_rsrq(ibsrq);

	rxdp_queue_free(&srq->q);
	atomic_dec(&to_rdev(ibsrq->device)->num_srq);
	return 0;
}

int rxdp_post_srq_recv(struct ib_srq *ibsrq, const struct ib_recv_wr *wr,
		       const struct ib_recv_wr **bad_wr)
{
	struct rxdp_srq *srq = to_rsrq(ibsrq);
	unsigned long flags;
	int err = 0;

	spin_lock_irqsave(&srq->lock, flags);
	for (; wr; wr = wr->next) {
		err = rxdp_post_one_recv(to_rdev(ibsrq->device), ibsrq->pd,
					 &srq->q, srq->max_sge, wr);
		if (err) {
			*bad_wr = wr;
			break;
		}
	}
	spin_unlock_irqrestore(&srq->lock, flags);
	return err;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Memory windows (IBA 10.6.7): a window gives remote access to a range
 * of an MR registered with IB_ACCESS_MW_BIND, under a key of its own.
 *
 * Type 1 is bound with ibv_bind_mw() (which the rxe provider posts as a
 * BIND_MW work request of a type 1 window), stays valid until it is
 * deallocated, and a bind with no length makes it reach nothing.  Type 2
 * (2B) starts free, is bound by a BIND_MW work request to the QP it was
 * posted on, which alone may use it, and goes back to free with LOCAL_INV
 * or a SEND with Invalidate.  Each bind sets the last byte of the key.
 *
 * The bindings are under the lock of the device's window table, which a
 * lookup holds while it takes a reference on the MR: the RDMA core frees
 * a window as soon as dealloc_mw returns.  A window bound to an MR keeps
 * that MR from being deregistered (rxdp_mr.c), so the MR behind a bound
 * window is always alive.
 */
#include "rxdp.h"

#define RXDP_MW_INDEX_MIN	RXDP_KEY_MW
#define RXDP_MW_INDEX_MAX	(2 * RXDP_KEY_MW - 1)

/* what a window may allow; zero-based windows are not supported */
#define RXDP_MW_ACCESS		(IB_ACCESS_LOCAL_WRITE | \
				 IB_ACCESS_REMOTE_WRITE | \
				 IB_ACCESS_REMOTE_READ | \
				 IB_ACCESS_REMOTE_ATOMIC)

void rxdp_mw_init(struct rxdp_dev *rdev)
{
	xa_init_flags(&rdev->mws, XA_FLAGS_ALLOC | XA_FLAGS_LOCK_IRQ);
}

void rxdp_mw_cleanup(struct rxdp_dev *rdev)
{
	WARN_ON(!xa_empty(&rdev->mws));
	xa_destroy(&rdev->mws);
}

int rxdp_alloc_mw(struct ib_mw *ibmw, struct ib_udata *udata)
{
	struct rxdp_dev *rdev = to_rdev(ibmw->device);
	struct rxdp_mw *mw = to_rmw(ibmw);
	int err;

	if (ibmw->type != IB_MW_TYPE_1 && ibmw->type != IB_MW_TYPE_2)
		return -EINVAL;
	if (atomic_inc_return(&rdev->num_mw) > rdev->attr.max_mw) {
		err = -ENOMEM;
		goto err_count;
	}
	/* the index reserved, the key set, then the window published */
	err = xa_alloc_cyclic_irq(&rdev->mws, &mw->index, NULL,
				  XA_LIMIT(RXDP_MW_INDEX_MIN,
					   RXDP_MW_INDEX_MAX),
				  &rdev->next_mw, GFP_KERNEL);
	if (err < 0)
		goto err_count;
	ibmw->rkey = mw->index << 8 | get_random_u8();
	/* unbound: nothing is reached through it yet */
	xa_store_irq(&rdev->mws, mw->index, mw, GFP_KERNEL);
	return 0;

err_count:
	atomic_dec(&rdev->num_mw);
	return err;
}

/* Let go of the MR the window reaches.  Context: the mws lock held. */
static void rxdp_mw_unbind(struct rxdp_mw *mw)
{
	if (mw->mr)
		atomic_dec(&mw->mr->num_mw);
	mw->mr = NULL;
	mw->addr = 0;
	mw->length = 0;
	mw->access = 0;
	mw->bound = false;
}

int rxdp_dealloc_mw(struct ib_mw *ibmw)
{
	struct rxdp_dev *rdev = to_rdev(ibmw->device);
	struct rxdp_mw *mw = to_rmw(ibmw);
	unsigned long flags;

	xa_lock_irqsave(&rdev->mws, flags);
	__xa_erase(&rdev->mws, mw->index);
	rxdp_mw_unbind(mw);
	xa_unlock_irqrestore(&rdev->mws, flags);
	atomic_dec(&rdev->num_mw);
	return 0;
}

/* The window a key names, as the key is now.  Context: the mws lock. */
static struct rxdp_mw *rxdp_mw_find(struct rxdp_dev *rdev, u32 rkey)
{
	struct rxdp_mw *mw;

	if (!rxdp_key_is_mw(rkey))
		return NULL;
	mw = xa_load(&rdev->mws, rkey >> 8);
	return mw && mw->ibmw.rkey == rkey ? mw : NULL;
}

/*
 * May the bind WR make the window reach [addr, addr + len) of mr with
 * access?  (IBA C10-72 to C10-75, o10-36.2.2, o10-37.2.30, o10-37.2.40.)
 */
static bool rxdp_mw_bind_ok(struct rxdp_qp *qp, struct rxdp_mw *mw,
			    struct rxdp_mr *mr, u64 addr, u64 len, int access)
{
	if (mw->ibmw.pd != qp->ibqp.pd || (access & ~RXDP_MW_ACCESS))
		return false;
	if (mw->ibmw.type == IB_MW_TYPE_2 && (mw->bound || !len))
		return false;
	if (!len)
		return true;
	if (!mr || mr->retired || mr->ibmr.pd != qp->ibqp.pd ||
	    !(mr->access & IB_ACCESS_MW_BIND))
		return false;
	if ((access & (IB_ACCESS_REMOTE_WRITE | IB_ACCESS_REMOTE_ATOMIC)) &&
	    !(mr->access & IB_ACCESS_LOCAL_WRITE))
		return false;
	return addr >= mr->iova && addr + len >= addr &&
	       addr + len - mr->iova <= mr->length;
}

/**
 * rxdp_mw_bind - execute a BIND_MW work request
 * @qp: the RC or UC QP it was posted on
 * @wqe: the WQE, checked: its fields are read once, here
 *
 * Return: 0, or -EINVAL when the bind is not allowed (the WQE completes
 * with IB_WC_MW_BIND_ERR).
 */
int rxdp_mw_bind(struct rxdp_qp *qp, const struct rxe_send_wqe *wqe)
{
	struct rxdp_dev *rdev = qp->rdev;
	u64 addr = wqe->wr.wr.mw.addr, len = wqe->wr.wr.mw.length;
	u32 mw_rkey = wqe->wr.wr.mw.mw_rkey, lkey = wqe->wr.wr.mw.mr_lkey;
	u32 rkey = wqe->wr.wr.mw.rkey;
	int access = wqe->wr.wr.mw.access;
	struct rxdp_mr *mr = NULL;
	struct rxdp_mw *mw;
	unsigned long flags;
	int err = -EINVAL;

	/* the new key names the same window */
	if ((rkey >> 8) != (mw_rkey >> 8))
		return -EINVAL;
	xa_lock_irqsave(&rdev->mws, flags);
	mw = rxdp_mw_find(rdev, mw_rkey);
	if (!mw)
		goto out;
	rcu_read_lock();
	if (len)
		mr = rxdp_mr_find_rcu(rdev, lkey);
	if (rxdp_mw_bind_ok(qp, mw, mr, addr, len, access)) {
		/* counted under the lock: a dereg sees it, or it is gone */
		if (mr)
			atomic_inc(&mr->num_mw);
		rxdp_mw_unbind(mw);
		mw->mr = mr;
		mw->addr = addr;
		mw->length = len;
		mw->access = access;
		mw->bound = true;
		mw->qp_serial = qp->serial;
		mw->ibmw.rkey = rkey;
		err = 0;
	}
	rcu_read_unlock();
out:
	xa_unlock_irqrestore(&rdev->mws, flags);
	return err;
}

/**
 * rxdp_mw_invalidate - take a type 2 window back to free
 * @qp: the QP of the LOCAL_INV, or the one a SEND with Invalidate came to
 * @rkey: the window's key
 * @remote: the SEND with Invalidate: the window must be bound to @qp
 *
 * Return: 0 or -EINVAL (a type 1 window, one not bound, of another PD).
 */
int rxdp_mw_invalidate(struct rxdp_qp *qp, u32 rkey, bool remote)
{
	struct rxdp_dev *rdev = qp->rdev;
	struct rxdp_mw *mw;
	unsigned long flags;
	int err = -EINVAL;

	xa_lock_irqsave(&rdev->mws, flags);
	mw = rxdp_mw_find(rdev, rkey);
	if (mw && mw->ibmw.type == IB_MW_TYPE_2 && mw->bound &&
	    mw->ibmw.pd == qp->ibqp.pd &&
	    (!remote || mw->qp_serial == qp->serial)) {
		rxdp_mw_unbind(mw);
		err = 0;
	}
	xa_unlock_irqrestore(&rdev->mws, flags);
	return err;
}

/**
 * rxdp_mw_get_mr - the MR behind a window, for a remote access
 * @qp: the QP the request came to
 * @rkey: the window's key
 * @va: the first byte
 * @len: how many
 * @access: the access the request needs
 *
 * Return: the MR, referenced (rxdp_mr_put()), or NULL when the window
 * does not allow the access.
 */
struct rxdp_mr *rxdp_mw_get_mr(struct rxdp_qp *qp, u32 rkey, u64 va,
			       u64 len, int access)
{
	struct rxdp_dev *rdev = qp->rdev;
	struct rxdp_mr *mr = NULL;
	struct rxdp_mw *mw;
	unsigned long flags;

	xa_lock_irqsave(&rdev->mws, flags);
	mw = rxdp_mw_find(rdev, rkey);
	if (!mw || !mw->mr || mw->ibmw.pd != qp->ibqp.pd ||
	    (mw->ibmw.type == IB_MW_TYPE_2 && mw->qp_serial != qp->serial) ||
	    (mw->access & access) != access)
		goto out;
	if (va < mw->addr || va + len < va || va + len - mw->addr > mw->length)
		goto out;
	/* a bound window's MR is alive; it may be dying (a rereg) */
	if (refcount_inc_not_zero(&mw->mr->ref))
		mr = mw->mr;
out:
	xa_unlock_irqrestore(&rdev->mws, flags);
	return mr;
}

/**
 * rxdp_key_invalidate - LOCAL_INV, or the IETH of a SEND with Invalidate
 * @qp: the QP
 * @key: an MR's or a window's key
 * @remote: from the peer
 *
 * Return: 0 or -EINVAL.
 */
int rxdp_key_invalidate(struct rxdp_qp *qp, u32 key, bool remote)
{
	if (rxdp_key_is_mw(key))
		return rxdp_mw_invalidate(qp, key, remote);
	return rxdp_mr_invalidate(qp, key);
}

/**
 * rxdp_rkey_get - the MR a remote access may use, by an MR's or a window's key
 * @qp: the QP the request came to
 * @rkey: the request's key
 * @va: the first byte
 * @len: how many
 * @access: what it needs
 *
 * Return: the MR, referenced, or NULL.
 */
struct rxdp_mr *rxdp_rkey_get(struct rxdp_qp *qp, u32 rkey, u64 va, u64 len,
			      int access)
{
	if (rxdp_key_is_mw(rkey))
		return rxdp_mw_get_mr(qp, rkey, va, len, access);
	return rxdp_mr_get(qp->rdev, qp->ibqp.pd, rkey, va, len, access);
}

/**
 * rxdp_rkey_span - all that a key reaches, for a FLUSH of the whole key
 * @qp: the QP the request came to
 * @rkey: an MR's or a window's key
 * @va: its first byte
 * @len: its length
 *
 * Whether the key may be used is rxdp_rkey_get()'s to say, over this span.
 * Return: 0, or -EINVAL when no MR or bound window has the key.
 */
int rxdp_rkey_span(struct rxdp_qp *qp, u32 rkey, u64 *va, u64 *len)
{
	struct rxdp_dev *rdev = qp->rdev;
	int err = -EINVAL;

	if (rxdp_key_is_mw(rkey)) {
		struct rxdp_mw *mw;
		unsigned long flags;

		xa_lock_irqsave(&rdev->mws, flags);
		mw = rxdp_mw_find(rdev, rkey);
		if (mw && mw->mr) {
			*va = mw->addr;
			*len = mw->length;
			err = 0;
		}
		xa_unlock_irqrestore(&rdev->mws, flags);
	} else {
		struct rxdp_mr *mr;

		rcu_read_lock();
		mr = rxdp_mr_find_rcu(rdev, rkey);
		if (mr) {
			*va = READ_ONCE(mr->iova);
			*len = READ_ONCE(mr->length);
			err = 0;
		}
		rcu_read_unlock();
	}
	return err;
}

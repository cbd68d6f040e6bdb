// SPDX-License-Identifier: GPL-2.0
/*
 * The QP number table.
 *
 * The low 16 bits of a QPN are its slot (RXDP_QP_SLOT): the index of its
 * entry in the XDP program's qp_slots array, which is what lets the
 * program find a QP with an array look-up.  No two live QPs share a slot;
 * a bitmap says which are taken.  Slot 0 is QP0's, which RoCE does not
 * have, and slot 1 the GSI QP's.
 *
 * Numbers are handed out in rotation over the 24-bit space: each one is
 * the first after the last one handed out whose slot is free, so a number
 * that was just freed comes back only once the space has wrapped (a late
 * packet for the old QP must not reach a new one).  The QP of a number is
 * found through an xarray under RCU, with no lock (see rxdp_qp_anchor).
 */
#include <linux/bitmap.h>

#include "rxdp.h"

/**
 * rxdp_qpn_init - set up an empty table
 * @t: the table
 * @max: how many QPs it holds, QP1 included, at most RXDP_QPN_MAX_QPS
 *
 * Return: 0 or -ENOMEM.
 */
int rxdp_qpn_init(struct rxdp_qpn_table *t, u32 max)
{
	t->slots = bitmap_zalloc(RXDP_QP_SLOTS, GFP_KERNEL);
	if (!t->slots)
		return -ENOMEM;
	__set_bit(0, t->slots);
	mutex_init(&t->lock);
	/* lookups come from softirq (the XDP receive path) too */
	xa_init_flags(&t->qps, XA_FLAGS_LOCK_BH);
	t->last = RXDP_QPN_FIRST - 1;
	t->max = min(max, RXDP_QPN_MAX_QPS);
	return 0;
}

/*
 * The first number after the last one handed out whose slot is free, or 0
 * when every slot is taken.  Slots 0 and 1 are never handed out here.
 */
static u32 rxdp_qpn_next(struct rxdp_qpn_table *t)
{
	u32 from = t->last + 1;
	u32 epoch = from & ~(u32)(RXDP_QP_SLOTS - 1);
	u32 slot, qpn;

	slot = find_next_zero_bit(t->slots, RXDP_QP_SLOTS,
				  max_t(u32, RXDP_QP_SLOT(from), RXDP_QPN_FIRST));
	if (slot >= RXDP_QP_SLOTS) {
		/* none left in this round of slots: the next round's first */
		slot = find_next_zero_bit(t->slots, RXDP_QP_SLOTS,
					  RXDP_QPN_FIRST);
		if (slot >= RXDP_QP_SLOTS)
			return 0;
		epoch += RXDP_QP_SLOTS;
	}
	qpn = epoch | slot;
	/* past the top (or on the multicast QPN): around to the start */
	return qpn > RXDP_QPN_MAX ? slot : qpn;
}

/**
 * rxdp_qpn_alloc - take a QP number, and so its slot
 * @t: the table
 * @gsi: take QPN 1 for the GSI QP
 * @qpn: the number taken
 *
 * Return: 0, -ENOMEM when max_qp numbers (or all slots) are in use,
 * -EBUSY when the GSI QP exists already.
 */
int rxdp_qpn_alloc(struct rxdp_qpn_table *t, bool gsi, u32 *qpn)
{
	u32 n;
	int err = 0;

	mutex_lock(&t->lock);
	if (t->count >= t->max) {
		err = -ENOMEM;
		goto out;
	}
	if (gsi) {
		n = 1;
		if (test_bit(n, t->slots)) {
			err = -EBUSY;
			goto out;
		}
	} else {
		n = rxdp_qpn_next(t);
		if (!n) {
			err = -ENOMEM;
			goto out;
		}
		t->last = n;
	}
	__set_bit(RXDP_QP_SLOT(n), t->slots);
	t->count++;
	*qpn = n;
out:
	mutex_unlock(&t->lock);
	return err;
}

/**
 * rxdp_qpn_set_last - have numbers go on after a given one
 * @t: the table
 * @last: the number to take as the last one handed out
 *
 * For tests, through debugfs: the points where the rotation wraps (a
 * round of slots, the 24-bit space) are otherwise tens of thousands of
 * QPs away.
 * Return: 0, or -EINVAL for a number that is not a QP's.
 */
int rxdp_qpn_set_last(struct rxdp_qpn_table *t, u32 last)
{
	if (last < RXDP_QPN_FIRST - 1 || last > RXDP_QPN_MAX)
		return -EINVAL;
	mutex_lock(&t->lock);
	t->last = last;
	mutex_unlock(&t->lock);
	return 0;
}

u32 rxdp_qpn_last(struct rxdp_qpn_table *t)
{
	u32 last;

	mutex_lock(&t->lock);
	last = t->last;
	mutex_unlock(&t->lock);
	return last;
}

void rxdp_qpn_free(struct rxdp_qpn_table *t, u32 qpn)
{
	mutex_lock(&t->lock);
	if (!WARN_ON_ONCE(!__test_and_clear_bit(RXDP_QP_SLOT(qpn), t->slots)))
		t->count--;
	mutex_unlock(&t->lock);
}

/**
 * rxdp_qp_lookup - find a QP by number and take a reference
 * @t: the table
 * @qpn: the number
 *
 * O(1), and safe against a concurrent destroy: a QP being destroyed is not
 * returned.
 * Return: the QP, to be released with rxdp_qp_put(), or NULL.
 */
struct rxdp_qp *rxdp_qp_lookup(struct rxdp_qpn_table *t, u32 qpn)
{
	struct rxdp_qp_anchor *a;
	struct rxdp_qp *qp = NULL;

	/* no lock: the receive path looks up every packet's QP */
	rcu_read_lock();
	a = xa_load(&t->qps, qpn);
	if (a && refcount_inc_not_zero(&a->ref))
		qp = a->qp;
	rcu_read_unlock();
	return qp;
}

/**
 * rxdp_qp_next - iterate over the QPs of a device
 * @t: the table
 * @qpn: in: the first number to look at; out: the number of the QP found
 *
 * QPs may come and go meanwhile; each one present for the whole iteration
 * is seen once.  Start with *qpn = 0, continue with *qpn + 1.
 * Return: the QP with a reference (rxdp_qp_put()), or NULL at the end.
 */
struct rxdp_qp *rxdp_qp_next(struct rxdp_qpn_table *t, unsigned long *qpn)
{
	struct rxdp_qp_anchor *a;
	struct rxdp_qp *qp = NULL;

	rcu_read_lock();
	a = xa_find(&t->qps, qpn, RXDP_QPN_MASK, XA_PRESENT);
	while (a && !refcount_inc_not_zero(&a->ref))
		a = xa_find_after(&t->qps, qpn, RXDP_QPN_MASK, XA_PRESENT);
	if (a)
		qp = a->qp;
	rcu_read_unlock();
	return qp;
}

/**
 * rxdp_qpn_cleanup - tear the table down with the device
 * @t: the table
 *
 * Return: how many numbers were still in use, which should be none: the
 * RDMA core destroys every QP before the device goes.
 */
unsigned int rxdp_qpn_cleanup(struct rxdp_qpn_table *t)
{
	unsigned int left = t->count;

	xa_destroy(&t->qps);
	bitmap_free(t->slots);
	t->slots = NULL;
	mutex_destroy(&t->lock);
	return left;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The QP number table.  Numbers come from a sparse bitmap over the 24-bit
 * space and are handed out in rotation from the last one, so a number that
 * was just freed is not reused at once (a late packet for the old QP must
 * not reach a new one).  The QP of a number is found through an xarray
 * under RCU.
 */
#include <linux/slab.h>

#include "rxdp.h"

void rxdp_qpn_init(struct rxdp_qpn_table *t, u32 max)
{
	mutex_init(&t->lock);
	/* lookups come from softirq (the XDP receive path) too */
	xa_init_flags(&t->qps, XA_FLAGS_LOCK_BH);
	t->last = RXDP_QPN_FIRST - 1;
	t->max = max;
}

static int rxdp_qpn_page(struct rxdp_qpn_table *t, u32 qpn)
{
	u32 page = qpn / RXDP_QPN_PAGE_BITS;

	if (!t->map[page]) {
		t->map[page] = (unsigned long *)get_zeroed_page(GFP_KERNEL);
		if (!t->map[page])
			return -ENOMEM;
	}
	return 0;
}

/* The next free number at or after from, below RXDP_QPN_SPACE, or 0. */
static u32 rxdp_qpn_find(struct rxdp_qpn_table *t, u32 from)
{
	while (from < RXDP_QPN_SPACE) {
		u32 page = from / RXDP_QPN_PAGE_BITS;
		u32 bit = from % RXDP_QPN_PAGE_BITS;

		if (!t->map[page])
			return from;
		bit = find_next_zero_bit(t->map[page], RXDP_QPN_PAGE_BITS, bit);
		if (bit < RXDP_QPN_PAGE_BITS)
			return page * RXDP_QPN_PAGE_BITS + bit;
		from = (page + 1) * RXDP_QPN_PAGE_BITS;
	}
	return 0;
}

/**
 * rxdp_qpn_alloc - take a QP number
 * @t: the table
 * @gsi: take QPN 1 for the GSI QP
 * @qpn: the number taken
 *
 * Return: 0, -ENOMEM when max_qp numbers are in use, -EBUSY when the GSI
 * QP exists already.
 */
int rxdp_qpn_alloc(struct rxdp_qpn_table *t, bool gsi, u32 *qpn)
{
	u32 n;
	int err;

	mutex_lock(&t->lock);
	if (t->count >= t->max) {
		err = -ENOMEM;
		goto out;
	}
	if (gsi) {
		n = 1;
		err = rxdp_qpn_page(t, n);
		if (err)
			goto out;
		if (test_bit(n, t->map[0])) {
			err = -EBUSY;
			goto out;
		}
	} else {
		n = rxdp_qpn_find(t, t->last + 1);
		if (!n)
			n = rxdp_qpn_find(t, RXDP_QPN_FIRST);
		/* count < max <= space, so a number is free */
		if (WARN_ON_ONCE(!n)) {
			err = -ENOMEM;
			goto out;
		}
		err = rxdp_qpn_page(t, n);
		if (err)
			goto out;
		t->last = n;
	}
	set_bit(n % RXDP_QPN_PAGE_BITS, t->map[n / RXDP_QPN_PAGE_BITS]);
	t->count++;
	*qpn = n;
out:
	mutex_unlock(&t->lock);
	return err;
}

void rxdp_qpn_free(struct rxdp_qpn_table *t, u32 qpn)
{
	mutex_lock(&t->lock);
	if (!WARN_ON_ONCE(!t->map[qpn / RXDP_QPN_PAGE_BITS] ||
			  !test_bit(qpn % RXDP_QPN_PAGE_BITS,
				    t->map[qpn / RXDP_QPN_PAGE_BITS]))) {
		clear_bit(qpn % RXDP_QPN_PAGE_BITS,
			  t->map[qpn / RXDP_QPN_PAGE_BITS]);
		t->count--;
	}
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
	struct rxdp_qp *qp;

	xa_lock_bh(&t->qps);
	qp = xa_load(&t->qps, qpn);
	if (qp && !refcount_inc_not_zero(&qp->ref))
		qp = NULL;
	xa_unlock_bh(&t->qps);
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
	struct rxdp_qp *qp;

	xa_lock_bh(&t->qps);
	qp = xa_find(&t->qps, qpn, RXDP_QPN_MASK, XA_PRESENT);
	while (qp && !refcount_inc_not_zero(&qp->ref))
		qp = xa_find_after(&t->qps, qpn, RXDP_QPN_MASK, XA_PRESENT);
	xa_unlock_bh(&t->qps);
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
	int i;

	xa_destroy(&t->qps);
	for (i = 0; i < RXDP_QPN_PAGES; i++)
		free_page((unsigned long)t->map[i]);
	mutex_destroy(&t->lock);
	return left;
}

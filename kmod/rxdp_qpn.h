/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The QP number table: which QPNs and slots are taken, and QPN -> QP
 * lookup.
 */
#ifndef RXDP_QPN_H
#define RXDP_QPN_H

#include <linux/bitops.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/xarray.h>

#include "../include/uapi/rxdp.h"

#define RXDP_QPN_MASK		0xffffffu
#define RXDP_QPN_MULTICAST	0xffffffu	/* IBA: never a QP's number */
#define RXDP_QPN_MAX		(RXDP_QPN_MULTICAST - 1)
#define RXDP_QPN_FIRST		2	/* 0 (SMI) and 1 (GSI) are reserved */
/* QPs a device can have: a slot each, slot 0 (QP0) never used */
#define RXDP_QPN_MAX_QPS	(RXDP_QP_SLOTS - 1)

struct rxdp_qp;

/*
 * What the QPN table holds for a QP: the references of the lookups that
 * found it.  The QP's memory goes as soon as its destroy returns; the
 * anchor's only after a grace period, so a lookup under RCU that finds it
 * may try for a reference without a lock.  The destroy waits for the
 * references to go.
 */
struct rxdp_qp_anchor {
	refcount_t		ref;	/* the QP's own and the lookups' */
	struct rxdp_qp		*qp;
	struct rcu_head		rcu;
};

struct rxdp_qpn_table {
	struct mutex	lock;		/* the bitmap and counters */
	unsigned long	*slots;		/* RXDP_QP_SLOTS bits: slot taken */
	u32		last;		/* last number handed out */
	u32		count;		/* numbers in use, QP1 included */
	u32		max;		/* device max_qp */
	struct xarray	qps;		/* QPN -> struct rxdp_qp_anchor */
};

int rxdp_qpn_init(struct rxdp_qpn_table *t, u32 max);
int rxdp_qpn_alloc(struct rxdp_qpn_table *t, bool gsi, u32 *qpn);
void rxdp_qpn_free(struct rxdp_qpn_table *t, u32 qpn);
int rxdp_qpn_set_last(struct rxdp_qpn_table *t, u32 last);
u32 rxdp_qpn_last(struct rxdp_qpn_table *t);
unsigned int rxdp_qpn_cleanup(struct rxdp_qpn_table *t);
struct rxdp_qp *rxdp_qp_lookup(struct rxdp_qpn_table *t, u32 qpn);
struct rxdp_qp *rxdp_qp_next(struct rxdp_qpn_table *t, unsigned long *qpn);

#endif /* RXDP_QPN_H */

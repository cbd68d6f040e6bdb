/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The QP number table: which 24-bit QPNs are taken, and QPN -> QP lookup.
 */
#ifndef RXDP_QPN_H
#define RXDP_QPN_H

#include <linux/bitops.h>
#include <linux/mutex.h>
#include <linux/xarray.h>

#define RXDP_QPN_MASK		0xffffffu
#define RXDP_QPN_SPACE		(RXDP_QPN_MASK + 1)
#define RXDP_QPN_PAGE_BITS	(PAGE_SIZE * BITS_PER_BYTE)
#define RXDP_QPN_PAGES		(RXDP_QPN_SPACE / RXDP_QPN_PAGE_BITS)
#define RXDP_QPN_FIRST		2	/* 0 (SMI) and 1 (GSI) are reserved */

struct rxdp_qp;

struct rxdp_qpn_table {
	struct mutex	lock;		/* the bitmap and counters */
	/* bitmap pages, allocated when first used */
	unsigned long	*map[RXDP_QPN_PAGES];
	u32		last;		/* last number handed out */
	u32		count;		/* numbers in use, QP1 included */
	u32		max;		/* device max_qp */
	struct xarray	qps;		/* QPN -> QP */
};

void rxdp_qpn_init(struct rxdp_qpn_table *t, u32 max);
int rxdp_qpn_alloc(struct rxdp_qpn_table *t, bool gsi, u32 *qpn);
void rxdp_qpn_free(struct rxdp_qpn_table *t, u32 qpn);
unsigned int rxdp_qpn_cleanup(struct rxdp_qpn_table *t);
struct rxdp_qp *rxdp_qp_lookup(struct rxdp_qpn_table *t, u32 qpn);
struct rxdp_qp *rxdp_qp_next(struct rxdp_qpn_table *t, unsigned long *qpn);

#endif /* RXDP_QPN_H */

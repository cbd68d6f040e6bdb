/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Writing QPs into an XDP program's own maps as the module does, for the
 * benchmark and the host tests, which run the program without it.
 */
#ifndef RXDP_QP_MAPS_H
#define RXDP_QP_MAPS_H

#include <bpf/bpf.h>

#include <uapi/rxdp.h>

/*
 * QP e's qp_table entry, and what the program checks of it in its slot of
 * qp_slots.  0, or -1 with errno set.
 */
static inline int rxdp_put_qp(int qp_table_fd, int qp_slots_fd,
			      const struct rxdp_qp_entry *e)
{
	struct rxdp_qp_slot s = {
		.qpn = e->qpn,
		.state = e->state,
		.type = e->type,
		.pkey_index = e->pkey_index,
		.qkey = e->qkey,
		.dev_index = e->dev_index,
	};
	__u32 slot = RXDP_QP_SLOT(e->qpn);

	if (bpf_map_update_elem(qp_table_fd, &e->qpn, e, BPF_ANY))
		return -1;
	return bpf_map_update_elem(qp_slots_fd, &slot, &s, BPF_ANY);
}

#endif /* RXDP_QP_MAPS_H */

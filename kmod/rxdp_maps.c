// SPDX-License-Identifier: GPL-2.0
/*
 * The QP table the XDP program reads: the loader creates and pins the map
 * and hands it over (rxdp_bind_qp_table kfunc); from then on the module is
 * the only writer of its lifecycle fields, and keeps every entry in step
 * with its QP synchronously: a QP is in the table, receiving, from the
 * moment modify_qp to RTR returns, and gone when destroy_qp returns.
 */
#include <linux/bpf.h>

#include "rxdp.h"

/* Is this the qp_table of our layout? Maps of another version are not. */
static int rxdp_maps_check(struct bpf_map *map)
{
	if (map->map_type != BPF_MAP_TYPE_HASH ||
	    map->key_size != sizeof(u32) ||
	    map->value_size != sizeof(struct rxdp_qp_entry) ||
	    map->max_entries < 2)
		return -EINVAL;
	/* locks, timers or kptrs in the value would be overwritten */
	if (!IS_ERR_OR_NULL(map->record))
		return -EINVAL;
	return 0;
}

static void rxdp_entry_fill(struct rxdp_qp *qp, struct rxdp_qp_entry *e)
{
	e->qpn = qp->ibqp.qp_num;
	e->state = qp->state;
	e->type = qp->ibqp.qp_type;
	e->port = qp->attr.port_num;
	e->pkey_index = qp->attr.pkey_index;
	e->dest_qpn = qp->attr.dest_qp_num;
	e->epsn = qp->attr.rq_psn;
	e->qkey = qp->ibqp.qp_type == IB_QPT_GSI ? RXDP_GSI_QKEY :
						    qp->attr.qkey;
	e->dev_index = qp->rdev->ib_dev.index;
	e->rx_packets = atomic64_read(&qp->rx_consumed);
	e->rx_bytes = atomic64_read(&qp->rx_bytes);
}

/**
 * rxdp_maps_qp_sync - bring the QP's table entry in line with the QP
 * @qp: the QP, its state stable: both work queue locks held
 * @remove: delete the entry (destroy)
 *
 * Lifecycle fields are written in place so that the counters survive.
 * Any context but hard irq.
 */
void rxdp_maps_qp_sync(struct rxdp_qp *qp, bool remove)
{
	struct rxdp_qp_entry *cur, e = {};
	u32 key = qp->ibqp.qp_num;
	struct bpf_map *map;

	/* the hash map's per-CPU free lists want us to stay on this CPU */
	migrate_disable();
	rcu_read_lock();
	map = rcu_dereference(qp->rdev->qp_table);
	if (!map)
		goto out;
	if (remove) {
		int err = map->ops->map_delete_elem(map, &key);

		if (err && err != -ENOENT)
			ibdev_warn_ratelimited(&qp->rdev->ib_dev,
					       "qp_table keeps QP %u: %d\n",
					       key, err);
		goto out;
	}
	rxdp_entry_fill(qp, &e);
	cur = map->ops->map_lookup_elem(map, &key);
	if (!cur) {
		/* a full table only costs the fast path this QP */
		if (map->ops->map_update_elem(map, &key, &e, BPF_NOEXIST))
			ibdev_warn_ratelimited(&qp->rdev->ib_dev,
					       "qp_table has no room for QP %u\n",
					       key);
		goto out;
	}
	WRITE_ONCE(cur->dest_qpn, e.dest_qpn);
	WRITE_ONCE(cur->epsn, e.epsn);
	WRITE_ONCE(cur->qkey, e.qkey);
	WRITE_ONCE(cur->pkey_index, e.pkey_index);
	WRITE_ONCE(cur->port, e.port);
	WRITE_ONCE(cur->type, e.type);
	WRITE_ONCE(cur->dev_index, e.dev_index);
	WRITE_ONCE(cur->qpn, e.qpn);
	/* the state last: it is what makes the entry deliverable */
	smp_wmb();
	WRITE_ONCE(cur->state, e.state);
out:
	rcu_read_unlock();
	migrate_enable();
}

/**
 * rxdp_maps_qp_counters - store the QP's receive totals in its entry
 * @qp: the QP
 *
 * Totals, not increments, so that a late store only lags.
 * Context: the QP's receive work, which alone changes them.
 */
void rxdp_maps_qp_counters(struct rxdp_qp *qp)
{
	struct rxdp_qp_entry *cur;
	u32 key = qp->ibqp.qp_num;
	struct bpf_map *map;

	rcu_read_lock();
	map = rcu_dereference(qp->rdev->qp_table);
	cur = map ? map->ops->map_lookup_elem(map, &key) : NULL;
	if (cur) {
		WRITE_ONCE(cur->rx_packets, atomic64_read(&qp->rx_consumed));
		WRITE_ONCE(cur->rx_bytes, atomic64_read(&qp->rx_bytes));
	}
	rcu_read_unlock();
}

/* Put map (referenced, or NULL) in the table's place; release the old one. */
static void rxdp_maps_swap(struct rxdp_dev *rdev, struct bpf_map *map)
{
	struct bpf_map *old;

	mutex_lock(&rdev->maps_lock);
	old = rcu_replace_pointer(rdev->qp_table, map,
				  lockdep_is_held(&rdev->maps_lock));
	mutex_unlock(&rdev->maps_lock);
	if (old) {
		/* no reader of the old one is left after a grace period */
		synchronize_rcu();
		bpf_map_put(old);
	}
}

/**
 * rxdp_maps_bind - take the loader's QP table for a device
 * @rdev: the device
 * @map: the qp_table map
 *
 * Every QP already present is written into it.  A table bound before is
 * released.
 * Return: 0 or -EINVAL for a map of the wrong kind.
 */
int rxdp_maps_bind(struct rxdp_dev *rdev, struct bpf_map *map)
{
	unsigned long qpn;
	struct rxdp_qp *qp;
	int err;

	err = rxdp_maps_check(map);
	if (err)
		return err;
	/* two devices number QPs independently: one table each */
	if (rxdp_dev_uses_map(rdev, map))
		return -EBUSY;
	bpf_map_inc(map);
	rxdp_maps_swap(rdev, map);

	for (qpn = 0; (qp = rxdp_qp_next(&rdev->qpn, &qpn)); qpn++) {
		rxdp_qp_sync_map(qp);
		rxdp_qp_put(qp);
	}
	return 0;
}

/* The device is going away: let go of its table. */
void rxdp_maps_unbind(struct rxdp_dev *rdev)
{
	rxdp_maps_swap(rdev, NULL);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The QP table the XDP program reads: the loader creates and pins its two
 * maps, qp_table (by QPN, every field, what users read) and qp_slots (by
 * slot, what the program checks per packet), and hands them over one at
 * a time (rxdp_bind_qp_table and rxdp_bind_qp_slots kfuncs); gid_table,
 * the device's RoCEv2 GIDs (rxdp_gid.c), comes the same way.  From then
 * on the module is the only writer of their lifecycle fields, and keeps
 * both entries of a QP in step with it synchronously: a QP is receiving
 * from the moment modify_qp to RTR returns, and gone from both maps when
 * destroy_qp returns.
 */
#include <linux/bpf.h>
#include <linux/slab.h>

#include "rxdp.h"

/*
 * The maps of one device, replaced as a whole under RCU when one of them
 * is bound; either may be missing.
 */
struct rxdp_maps {
	struct bpf_map	*map[RXDP_BIND_KINDS];
};

/* Is map a map of this type and layout? Maps of another version are not. */
static int rxdp_maps_check(struct bpf_map *map, enum bpf_map_type type,
			   u32 key_size, u32 value_size, u32 min_entries,
			   u32 max_entries)
{
	if (map->map_type != type || map->key_size != key_size ||
	    map->value_size != value_size || map->max_entries < min_entries ||
	    map->max_entries > max_entries)
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
	e->slot = RXDP_QP_SLOT(e->qpn);
	e->rx_packets = atomic64_read(&qp->rx_consumed);
	e->rx_bytes = atomic64_read(&qp->rx_bytes);
}

/* qp_table: create the entry, or change its lifecycle fields in place. */
static void rxdp_maps_entry_set(struct rxdp_dev *rdev, struct bpf_map *map,
				struct rxdp_qp_entry *e)
{
	struct rxdp_qp_entry *cur;

	cur = map->ops->map_lookup_elem(map, &e->qpn);
	if (!cur) {
		/* a full table only costs the QP its rx_drops and display */
		if (map->ops->map_update_elem(map, &e->qpn, e, BPF_NOEXIST))
			ibdev_warn_ratelimited(&rdev->ib_dev,
					       "qp_table has no room for QP %u\n",
					       e->qpn);
		return;
	}
	WRITE_ONCE(cur->dest_qpn, e->dest_qpn);
	WRITE_ONCE(cur->epsn, e->epsn);
	WRITE_ONCE(cur->qkey, e->qkey);
	WRITE_ONCE(cur->pkey_index, e->pkey_index);
	WRITE_ONCE(cur->port, e->port);
	WRITE_ONCE(cur->type, e->type);
	WRITE_ONCE(cur->dev_index, e->dev_index);
	WRITE_ONCE(cur->slot, e->slot);
	WRITE_ONCE(cur->qpn, e->qpn);
	WRITE_ONCE(cur->state, e->state);
}

/*
 * qp_slots: the receive fields of e's QP in its slot.  A reader takes the
 * entry for the packet's QP by type and qpn, so those bracket the rest:
 * type is set last, after the state, when the slot is taken, and cleared
 * first when it is given up.
 */
static void rxdp_maps_slot_set(struct bpf_map *map, struct rxdp_qp_entry *e,
			       bool remove)
{
	struct rxdp_qp_slot *s;

	s = map->ops->map_lookup_elem(map, &e->slot);
	if (WARN_ON_ONCE(!s))
		return;
	if (remove) {
		WRITE_ONCE(s->type, 0);
		/* free before the fields change under a reader */
		smp_wmb();
		WRITE_ONCE(s->state, RXDP_QPS_RESET);
		WRITE_ONCE(s->qpn, 0);
		WRITE_ONCE(s->pkey_index, 0);
		WRITE_ONCE(s->qkey, 0);
		WRITE_ONCE(s->dev_index, 0);
		return;
	}
	WRITE_ONCE(s->qpn, e->qpn);
	WRITE_ONCE(s->pkey_index, e->pkey_index);
	WRITE_ONCE(s->qkey, e->qkey);
	WRITE_ONCE(s->dev_index, e->dev_index);
	/* the state after what it makes valid: it makes the QP receive */
	smp_wmb();
	WRITE_ONCE(s->state, e->state);
	/* and a slot being taken is valid only once all of it is written */
	smp_wmb();
	WRITE_ONCE(s->type, e->type);
}

/**
 * rxdp_maps_qp_sync - bring the QP's entries in line with the QP
 * @qp: the QP, its state stable: both work queue locks held
 * @remove: delete the entries (destroy)
 *
 * Lifecycle fields are written in place so that the counters survive.
 * Any context but hard irq.
 */
void rxdp_maps_qp_sync(struct rxdp_qp *qp, bool remove)
{
	struct bpf_map *table, *slots;
	struct rxdp_qp_entry e = {};
	struct rxdp_maps *maps;
	int err;

	/* the hash map's per-CPU free lists want us to stay on this CPU */
	migrate_disable();
	rcu_read_lock();
	maps = rcu_dereference(qp->rdev->maps);
	if (!maps)
		goto out;
	rxdp_entry_fill(qp, &e);
	table = maps->map[RXDP_BIND_QP_TABLE];
	slots = maps->map[RXDP_BIND_QP_SLOTS];
	if (!remove) {
		if (table)
			rxdp_maps_entry_set(qp->rdev, table, &e);
		if (slots)
			rxdp_maps_slot_set(slots, &e, false);
		goto out;
	}
	/* the slot first: XDP stops judging packets for the QP */
	if (slots)
		rxdp_maps_slot_set(slots, &e, true);
	err = table ? table->ops->map_delete_elem(table, &e.qpn) : 0;
	if (err && err != -ENOENT)
		ibdev_warn_ratelimited(&qp->rdev->ib_dev,
				       "qp_table keeps QP %u: %d\n", e.qpn, err);
out:
	rcu_read_unlock();
	migrate_enable();
}

/**
 * rxdp_maps_qp_counters - store the QP's receive totals in its entry
 * @qp: the QP
 *
 * Totals, not increments, so that a late store only lags.
 * Context: the QP's receive work, which alone stores them.
 */
void rxdp_maps_qp_counters(struct rxdp_qp *qp)
{
	struct rxdp_qp_entry *cur = NULL;
	u32 key = qp->ibqp.qp_num;
	struct rxdp_maps *maps;
	struct bpf_map *table;

	rcu_read_lock();
	maps = rcu_dereference(qp->rdev->maps);
	table = maps ? maps->map[RXDP_BIND_QP_TABLE] : NULL;
	if (table)
		cur = table->ops->map_lookup_elem(table, &key);
	if (cur) {
		WRITE_ONCE(cur->rx_packets, atomic64_read(&qp->rx_consumed));
		WRITE_ONCE(cur->rx_bytes, atomic64_read(&qp->rx_bytes));
	}
	rcu_read_unlock();
}

static void rxdp_maps_free(struct rxdp_maps *maps)
{
	int i;

	for (i = 0; i < RXDP_BIND_KINDS; i++)
		if (maps->map[i])
			bpf_map_put(maps->map[i]);
	kfree(maps);
}

/*
 * Put map (referenced) in the device's place for its kind, keeping the
 * other kind's; release what it replaces.  With map NULL, kind does not
 * matter: every map is released.
 */
static int rxdp_maps_swap(struct rxdp_dev *rdev, enum rxdp_map_kind kind,
			  struct bpf_map *map)
{
	struct rxdp_maps *old, *maps = NULL;
	int i;

	if (map) {
		maps = kzalloc(sizeof(*maps), GFP_KERNEL);
		if (!maps)
			return -ENOMEM;
	}
	mutex_lock(&rdev->maps_lock);
	old = rcu_dereference_protected(rdev->maps,
					lockdep_is_held(&rdev->maps_lock));
	for (i = 0; maps && old && i < RXDP_BIND_KINDS; i++) {
		if (i != kind && old->map[i]) {
			bpf_map_inc(old->map[i]);
			maps->map[i] = old->map[i];
		}
	}
	if (maps)
		maps->map[kind] = map;
	rcu_assign_pointer(rdev->maps, maps);
	mutex_unlock(&rdev->maps_lock);
	if (old) {
		/* no reader of the old ones is left after a grace period */
		synchronize_rcu();
		rxdp_maps_free(old);
	}
	return 0;
}

/**
 * rxdp_maps_uses - does a device have this map bound?
 * @rdev: the device
 * @map: the map
 *
 * Context: RCU read side.
 */
bool rxdp_maps_uses(struct rxdp_dev *rdev, struct bpf_map *map)
{
	struct rxdp_maps *maps = rcu_dereference(rdev->maps);
	int i;

	for (i = 0; maps && i < RXDP_BIND_KINDS; i++)
		if (maps->map[i] == map)
			return true;
	return false;
}

/**
 * rxdp_maps_bind - take one of the loader's QP table maps for a device
 * @rdev: the device
 * @kind: which one: qp_table or qp_slots
 * @map: the map
 *
 * Every QP already present is written into it.  A map of the same kind
 * bound before is released.
 * Return: 0, -EINVAL for a map of the wrong kind, -EBUSY for a map another
 * device has, -ENOMEM.
 */
int rxdp_maps_bind(struct rxdp_dev *rdev, enum rxdp_map_kind kind,
		   struct bpf_map *map)
{
	unsigned long qpn;
	struct rxdp_qp *qp;
	int err;

	if (kind == RXDP_BIND_QP_TABLE)
		err = rxdp_maps_check(map, BPF_MAP_TYPE_HASH, sizeof(u32),
				      sizeof(struct rxdp_qp_entry), 2, U32_MAX);
	else if (kind == RXDP_BIND_QP_SLOTS)
		err = rxdp_maps_check(map, BPF_MAP_TYPE_ARRAY, sizeof(u32),
				      sizeof(struct rxdp_qp_slot),
				      RXDP_QP_SLOTS, RXDP_QP_SLOTS);
	else
		err = rxdp_maps_check(map, BPF_MAP_TYPE_HASH,
				      sizeof(struct rxdp_gid_key),
				      sizeof(struct rxdp_gid_entry),
				      RXDP_GID_MAP_SIZE, U32_MAX);
	if (err)
		return err;
	/* two devices number QPs independently: one table each */
	if (rxdp_dev_uses_map(rdev, map))
		return -EBUSY;
	bpf_map_inc(map);
	err = rxdp_maps_swap(rdev, kind, map);
	if (err) {
		bpf_map_put(map);
		return err;
	}

	if (kind == RXDP_BIND_GID_TABLE) {
		mutex_lock(&rdev->maps_lock);
		rxdp_gids_sync_map(rdev);
		rxdp_mcast_sync_map(rdev);
		mutex_unlock(&rdev->maps_lock);
		return 0;
	}
	for (qpn = 0; (qp = rxdp_qp_next(&rdev->qpn, &qpn)); qpn++) {
		rxdp_qp_sync_map(qp);
		rxdp_qp_put(qp);
	}
	return 0;
}

/* The device's gid_table, if bound.  Context: maps_lock held. */
static struct bpf_map *rxdp_maps_gid_table(struct rxdp_dev *rdev)
{
	struct rxdp_maps *maps;

	maps = rcu_dereference_protected(rdev->maps,
					 lockdep_is_held(&rdev->maps_lock));
	return maps ? maps->map[RXDP_BIND_GID_TABLE] : NULL;
}

/**
 * rxdp_maps_gid_set - the device has this RoCEv2 GID at this index
 * @rdev: the device
 * @gid: the GID
 * @index: its index in the device's GID table, or RXDP_GID_INDEX_MCAST
 *
 * Context: maps_lock held; may sleep.
 * Return: 0, also with no gid_table bound; or the map's error (a table
 * that someone else filled).
 */
int rxdp_maps_gid_set(struct rxdp_dev *rdev, const union ib_gid *gid,
		       u32 index)
{
	struct bpf_map *map = rxdp_maps_gid_table(rdev);
	struct rxdp_gid_entry e = {
		.gid_index = index,
		.dev_index = rdev->ib_dev.index,
	};
	struct rxdp_gid_key key;
	int err;

	if (!map)
		return 0;
	memcpy(key.raw, gid->raw, sizeof(key.raw));
	/* the hash map's per-CPU free lists want us to stay on this CPU */
	migrate_disable();
	rcu_read_lock();
	err = map->ops->map_update_elem(map, &key, &e, BPF_ANY);
	rcu_read_unlock();
	migrate_enable();
	/* a packet to it would be passed to the stack, not lost */
	if (err)
		ibdev_warn_ratelimited(&rdev->ib_dev,
				       "gid_table has no room for GID %pI6: %d\n",
				       gid->raw, err);
	return err;
}

/**
 * rxdp_maps_gid_clear - the device no longer has this GID
 * @rdev: the device
 * @gid: the GID
 *
 * Context: maps_lock held.
 */
void rxdp_maps_gid_clear(struct rxdp_dev *rdev, const union ib_gid *gid)
{
	struct bpf_map *map = rxdp_maps_gid_table(rdev);
	struct rxdp_gid_key key;

	if (!map)
		return;
	memcpy(key.raw, gid->raw, sizeof(key.raw));
	migrate_disable();
	rcu_read_lock();
	map->ops->map_delete_elem(map, &key);
	rcu_read_unlock();
	migrate_enable();
}

/* The device is going away: let go of its maps. */
void rxdp_maps_unbind(struct rxdp_dev *rdev)
{
	rxdp_maps_swap(rdev, RXDP_BIND_QP_TABLE, NULL);
}

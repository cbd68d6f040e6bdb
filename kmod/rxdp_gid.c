// SPDX-License-Identifier: GPL-2.0
/*
 * The device's RoCEv2 GIDs, for the XDP program.  The RDMA core tells the
 * driver of every GID it adds to the device's table or deletes from it
 * (add_gid and del_gid, as addresses come and go on the netdev).  rxdp
 * keeps the RoCEv2 ones of its netdev (and VLANs on it), the only ones
 * UDP port 4791 brings to it, by table index, and mirrors them into
 * gid_table once the loader has bound it: a packet to any other address
 * is for another endpoint on the link.
 */
#include <linux/if_vlan.h>
#include <rdma/ib_cache.h>

#include "rxdp.h"

/* Is gid at an index of the table other than index? */
static bool rxdp_gid_elsewhere(struct rxdp_dev *rdev, const union ib_gid *gid,
			       u32 index)
{
	union ib_gid *g;
	unsigned long i;

	xa_for_each(&rdev->gids, i, g)
		if (i != index && !memcmp(g, gid, sizeof(*g)))
			return true;
	return false;
}

/*
 * Is the GID's netdev ours: the device's netdev or a VLAN on it?  The core
 * also gives the device the addresses of other upper devices, a macvlan's
 * say, whose traffic has their own MAC and is not rxdp's.
 */
bool rxdp_gid_is_ours(struct rxdp_dev *rdev, const struct ib_gid_attr *attr)
{
	struct net_device *ndev;
	bool ours;

	/*
	 * Not rdma_read_gid_attr_ndev_rcu(): in add_gid the entry becomes
	 * valid only once add_gid returned.  The entry holds its netdev
	 * meanwhile.
	 */
	rcu_read_lock();
	ndev = rcu_dereference(attr->ndev);
	if (ndev && is_vlan_dev(ndev))
		ndev = vlan_dev_real_dev(ndev);
	ours = ndev && ndev == rcu_dereference(rdev->ndev);
	rcu_read_unlock();
	return ours;
}

int rxdp_add_gid(const struct ib_gid_attr *attr, void **context)
{
	struct rxdp_dev *rdev = to_rdev(attr->device);
	union ib_gid *g;
	int err;

	if (attr->gid_type != IB_GID_TYPE_ROCE_UDP_ENCAP ||
	    !rxdp_gid_is_ours(rdev, attr))
		return 0;
	g = kmemdup(&attr->gid, sizeof(*g), GFP_KERNEL);
	if (!g)
		return -ENOMEM;
	mutex_lock(&rdev->maps_lock);
	err = xa_err(xa_store(&rdev->gids, attr->index, g, GFP_KERNEL));
	if (!err)
		rxdp_maps_gid_set(rdev, g, attr->index);
	mutex_unlock(&rdev->maps_lock);
	if (err)
		kfree(g);
	return err;
}

int rxdp_del_gid(const struct ib_gid_attr *attr, void **context)
{
	struct rxdp_dev *rdev = to_rdev(attr->device);
	union ib_gid *g;

	mutex_lock(&rdev->maps_lock);
	g = xa_erase(&rdev->gids, attr->index);
	if (g && !rxdp_gid_elsewhere(rdev, g, attr->index))
		rxdp_maps_gid_clear(rdev, g);
	mutex_unlock(&rdev->maps_lock);
	/* rxdp_gid_is_local() may be looking at it */
	if (g)
		kvfree_rcu_mightsleep(g);
	return 0;
}

/**
 * rxdp_gid_is_local - is a GID one of the device's own RoCEv2 GIDs?
 * @rdev: the device
 * @gid: the GID
 *
 * Context: any; does not sleep.
 */
bool rxdp_gid_is_local(struct rxdp_dev *rdev, const union ib_gid *gid)
{
	union ib_gid *g;
	unsigned long i;
	bool found = false;

	rcu_read_lock();
	xa_for_each(&rdev->gids, i, g) {
		if (!memcmp(g, gid, sizeof(*g))) {
			found = true;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/*
 * Write every GID into a gid_table just bound.
 * Context: maps_lock held.
 */
void rxdp_gids_sync_map(struct rxdp_dev *rdev)
{
	union ib_gid *g;
	unsigned long i;

	lockdep_assert_held(&rdev->maps_lock);
	xa_for_each(&rdev->gids, i, g)
		rxdp_maps_gid_set(rdev, g, i);
}

/*
 * Here, not with the device's other tables: an xarray's lock class is
 * that of the file it is set up in, and this one's lock, unlike the AH
 * table's, is never taken with IRQs or BH off.
 */
void rxdp_gids_init(struct rxdp_dev *rdev)
{
	xa_init(&rdev->gids);
}

/* The device is going away: the core deleted its GIDs, but be sure. */
void rxdp_gids_cleanup(struct rxdp_dev *rdev)
{
	union ib_gid *g;
	unsigned long i;

	xa_for_each(&rdev->gids, i, g)
		kfree(g);
	xa_destroy(&rdev->gids);
}

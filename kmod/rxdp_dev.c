// SPDX-License-Identifier: GPL-2.0
/*
 * rxdp device creation and removal: one ib_device per Ethernet netdev,
 * created by "rdma link add NAME type rxdp netdev IFNAME".
 */
#include <linux/hashtable.h>
#include <linux/if_arp.h>
#include <linux/if_vlan.h>
#include <net/addrconf.h>
#include <rdma/ib_addr.h>

#include "rxdp.h"

/*
 * Every rxdp device, from the moment its netdev is claimed until
 * dealloc_driver.  The lock is never held across a call into the RDMA core
 * that may take RTNL, because the netdev notifier takes it under RTNL.
 * The receive path finds a device by its netdev in a hash table under RCU,
 * with no reference: dealloc_driver takes the device out and waits for a
 * grace period before it tears down what a receive may use, and the RDMA
 * core frees a device after a grace period too.
 */
static LIST_HEAD(rxdp_devices);
/*
 * Devices whose dealloc_driver has begun, each with the reference to its
 * struct device that rxdp_devices had.  dealloc_driver may be running on
 * behalf of another caller (queued netdev removal, "rdma link delete",
 * rdma_rxe's exit) when this module goes: ib_unregister_device() on such
 * a device waits for that run to return, so the module outlives its code.
 */
static LIST_HEAD(rxdp_reaped);
static DEFINE_READ_MOSTLY_HASHTABLE(rxdp_by_netdev, 6);
static DEFINE_MUTEX(rxdp_devices_lock);

static void rxdp_init_attr(struct rxdp_dev *rdev, struct net_device *ndev)
{
	struct ib_device_attr *a = &rdev->attr;

	a->vendor_id = RXDP_VENDOR_ID;
	a->max_mr_size = RXDP_MAX_MR_SIZE;
	a->page_size_cap = PAGE_SIZE;
	a->max_qp = rxdp_max_qp;
	a->max_qp_wr = RXDP_MAX_QP_WR;
	a->device_cap_flags = IB_DEVICE_BAD_PKEY_CNTR |
			      IB_DEVICE_BAD_QKEY_CNTR |
			      IB_DEVICE_SYS_IMAGE_GUID |
			      IB_DEVICE_RC_RNR_NAK_GEN |
			      IB_DEVICE_SRQ_RESIZE |
			      IB_DEVICE_MEM_MGT_EXTENSIONS |
			      IB_DEVICE_MEM_WINDOW |
			      IB_DEVICE_MEM_WINDOW_TYPE_2B |
			      IB_DEVICE_ATOMIC_WRITE |
			      IB_DEVICE_FLUSH_GLOBAL |
			      IB_DEVICE_FLUSH_PERSISTENT;
	a->kernel_cap_flags = IBK_ALLOW_USER_UNREG;
	a->max_send_sge = RXDP_MAX_SGE;
	a->max_recv_sge = RXDP_MAX_SGE;
	a->max_sge_rd = RXDP_MAX_SGE;
	a->max_cq = RXDP_MAX_CQ;
	a->max_cqe = RXDP_MAX_CQE;
	a->max_mr = RXDP_MAX_MR;
	a->max_mw = RXDP_MAX_MW;
	a->max_fast_reg_page_list_len = RXDP_MAX_FAST_PAGES;
	a->max_pd = RXDP_MAX_PD;
	a->max_qp_rd_atom = RXDP_MAX_RD_ATOMIC;
	a->max_qp_init_rd_atom = RXDP_MAX_RD_ATOMIC;
	a->max_res_rd_atom = RXDP_MAX_RD_ATOMIC * rxdp_max_qp;
	a->atomic_cap = IB_ATOMIC_HCA;
	a->max_ah = RXDP_MAX_AH;
	a->max_srq = RXDP_MAX_SRQ;
	a->max_srq_wr = RXDP_MAX_QP_WR;
	a->max_srq_sge = RXDP_MAX_SGE;
	a->max_pkeys = RXDP_PKEYS;
	a->max_mcast_grp = RXDP_MAX_MCAST_GRP;
	a->max_mcast_qp_attach = RXDP_MAX_MCAST_QP_ATTACH;
	a->max_total_mcast_qp_attach = RXDP_MAX_MCAST_ATTACH;
	a->local_ca_ack_delay = 15;
	addrconf_addr_eui48((u8 *)&a->sys_image_guid, ndev->dev_addr);
}

/**
 * rxdp_active_mtu - the IB MTU a RoCEv2 packet can use on the netdev
 * @ndev: the netdev
 *
 * Ethernet MTU less the IP, UDP and transport headers, clamped to the IB
 * range.
 */
enum ib_mtu rxdp_active_mtu(struct net_device *ndev)
{
	enum ib_mtu mtu = iboe_get_mtu(ndev->mtu);

	return mtu ? min(mtu, IB_MTU_4096) : IB_MTU_256;
}

/**
 * rxdp_dev_lookup - the rxdp device bound to a netdev
 * @ndev: the netdev
 *
 * Context: rxdp_devices_lock held.
 */
static struct rxdp_dev *rxdp_dev_lookup(struct net_device *ndev)
{
	struct rxdp_dev *rdev;

	lockdep_assert_held(&rxdp_devices_lock);
	list_for_each_entry(rdev, &rxdp_devices, list)
		if (rcu_access_pointer(rdev->ndev) == ndev)
			return rdev;
	return NULL;
}

/**
 * rxdp_dev_get_by_netdev - the registered rxdp device on a netdev
 * @ndev: the netdev
 *
 * Context: any; the receive path calls it.
 * Return: the device with a reference (ib_device_put()), or NULL.
 */
struct rxdp_dev *rxdp_dev_get_by_netdev(struct net_device *ndev)
{
	struct rxdp_dev *rdev, *found = NULL;

	rcu_read_lock();
	list_for_each_entry_rcu(rdev, &rxdp_devices, list) {
		if (rcu_access_pointer(rdev->ndev) != ndev)
			continue;
		if (ib_device_try_get(&rdev->ib_dev))
			found = rdev;
		break;
	}
	rcu_read_unlock();
	return found;
}

/**
 * rxdp_dev_find_rcu - the rxdp device on a netdev, for the receive path
 * @ndev: the netdev
 *
 * Context: RCU read-side section, which the device outlives.
 * Return: the device, without a reference, or NULL.
 */
struct rxdp_dev *rxdp_dev_find_rcu(const struct net_device *ndev)
{
	struct rxdp_dev *rdev;

	hash_for_each_possible_rcu(rxdp_by_netdev, rdev, hnode,
				   (unsigned long)ndev)
		/* a netdev at the address of one that unregistered is not it */
		if (rcu_access_pointer(rdev->ndev) == ndev)
			return rdev;
	return NULL;
}

/**
 * rxdp_dev_uses_map - is a QP table bound to another device?
 * @rdev: the device that wants it
 * @map: the map
 */
bool rxdp_dev_uses_map(struct rxdp_dev *rdev, struct bpf_map *map)
{
	struct rxdp_dev *other;
	bool used = false;

	rcu_read_lock();
	list_for_each_entry_rcu(other, &rxdp_devices, list)
		if (other != rdev && rxdp_maps_uses(other, map))
			used = true;
	rcu_read_unlock();
	return used;
}

/**
 * rxdp_get_netdev - the netdev of a port, for the RDMA core
 * @ibdev: the device
 * @port: the port
 *
 * Return: the netdev, held (dev_put()), or NULL once it unregistered.
 */
struct net_device *rxdp_get_netdev(struct ib_device *ibdev, u32 port)
{
	struct net_device *ndev;

	rcu_read_lock();
	ndev = rcu_dereference(to_rdev(ibdev)->ndev);
	dev_hold(ndev);
	rcu_read_unlock();
	return ndev;
}

static void rxdp_dealloc_driver(struct ib_device *ibdev)
{
	struct rxdp_dev *rdev = to_rdev(ibdev);
	unsigned int left;

	/*
	 * No receive finds it, nor is one still using it.  Expedited: tests
	 * and scripts add and remove devices by the hundred.
	 */
	mutex_lock(&rxdp_devices_lock);
	if (!list_empty(&rdev->list)) {
		list_del_rcu(&rdev->list);
		list_add_tail(&rdev->reap, &rxdp_reaped);
	}
	hash_del_rcu(&rdev->hnode);
	mutex_unlock(&rxdp_devices_lock);
	synchronize_rcu_expedited();

	rxdp_debugfs_remove_dev(rdev);
	rxdp_maps_unbind(rdev);
	rxdp_gids_cleanup(rdev);
	/* the RDMA core destroyed every object before we get here */
	left = rxdp_qpn_cleanup(&rdev->qpn);
	if (left)
		ibdev_err(ibdev, "%u QPs still present at removal\n", left);
	rxdp_mr_cleanup(rdev);
	rxdp_mw_cleanup(rdev);
	rxdp_mcast_cleanup(rdev);
	WARN_ON(!xa_empty(&rdev->ahs));
	xa_destroy(&rdev->ahs);
	WARN_ON(atomic_read(&rdev->num_cq));
	WARN_ON(atomic_read(&rdev->num_srq));
	WARN_ON(atomic_read(&rdev->num_mr));
	WARN_ON(atomic_read(&rdev->num_pd));
	WARN_ON(atomic_read(&rdev->num_ucontext));
	rxdp_stats_free(rdev);
	rxdp_tx_dev_put(rdev->tx);
}

static const struct ib_device_ops rxdp_dev_life_ops = {
	.dealloc_driver = rxdp_dealloc_driver,
};

/*
 * Let go of the devices dealloc_driver has taken off rxdp_devices, once it
 * has returned for each: ib_unregister_device() of a device whose
 * unregistration is under way waits for it (the RDMA core calls
 * dealloc_driver under the device's unregistration lock), and of one
 * already gone does nothing.  Not under rxdp_devices_lock, which
 * dealloc_driver takes.
 */
static void rxdp_dev_reap(void)
{
	struct rxdp_dev *rdev, *next;
	LIST_HEAD(dead);

	mutex_lock(&rxdp_devices_lock);
	list_splice_init(&rxdp_reaped, &dead);
	mutex_unlock(&rxdp_devices_lock);
	list_for_each_entry_safe(rdev, next, &dead, reap) {
		ib_unregister_device(&rdev->ib_dev);
		put_device(&rdev->ib_dev.dev);
	}
}

/**
 * rxdp_dev_add - create and register an rxdp device on a netdev
 * @name: the RDMA device name
 * @ndev: an Ethernet netdev, held by the caller
 *
 * Return: 0 or a negative errno; nothing is left behind on error.
 */
int rxdp_dev_add(const char *name, struct net_device *ndev)
{
	struct ib_device *other;
	struct rxdp_dev *rdev;
	bool gone;
	int err;

	/*
	 * Netlink accepts names of IB_DEVICE_NAME_MAX characters and the RDMA
	 * core cuts them to one less: a name of that length may be cut.
	 */
	if (strlen(name) >= IB_DEVICE_NAME_MAX - 1)
		return -ENAMETOOLONG;
	if (ndev->type != ARPHRD_ETHER || is_vlan_dev(ndev) ||
	    ndev->addr_len != ETH_ALEN)
		return -EINVAL;

	/* one RDMA device per netdev and per name, whichever its driver */
	other = ib_device_get_by_netdev(ndev, RDMA_DRIVER_UNKNOWN);
	if (!other)
		other = ib_device_get_by_name(name, RDMA_DRIVER_UNKNOWN);
	if (other) {
		ib_device_put(other);
		return -EEXIST;
	}

	rdev = rxdp_dev_get_by_netdev(ndev);
	if (rdev) {
		ib_device_put(&rdev->ib_dev);
		return -EEXIST;
	}
	rxdp_dev_reap();

	rdev = ib_alloc_device(rxdp_dev, ib_dev);
	if (!rdev)
		return -ENOMEM;
	INIT_LIST_HEAD(&rdev->list);
	INIT_HLIST_NODE(&rdev->hnode);

	rxdp_init_attr(rdev, ndev);
	/* before the ops are set: ib_dealloc_device() alone undoes this */
	err = rxdp_qpn_init(&rdev->qpn, rdev->attr.max_qp);
	if (err) {
		ib_dealloc_device(&rdev->ib_dev);
		return err;
	}
	err = rxdp_stats_init(rdev);
	if (err) {
		rxdp_qpn_cleanup(&rdev->qpn);
		ib_dealloc_device(&rdev->ib_dev);
		return err;
	}
	err = rxdp_tx_dev_init(rdev);
	if (err) {
		rxdp_stats_free(rdev);
		rxdp_qpn_cleanup(&rdev->qpn);
		ib_dealloc_device(&rdev->ib_dev);
		return err;
	}
	err = rxdp_mcast_init(rdev);
	if (err) {
		rxdp_tx_dev_put(rdev->tx);
		rxdp_stats_free(rdev);
		rxdp_qpn_cleanup(&rdev->qpn);
		ib_dealloc_device(&rdev->ib_dev);
		return err;
	}
	rxdp_mr_init(rdev);
	rxdp_mw_init(rdev);
	mutex_init(&rdev->maps_lock);
	xa_init_flags(&rdev->ahs, XA_FLAGS_ALLOC1 | XA_FLAGS_LOCK_IRQ);
	rxdp_gids_init(rdev);
	rdev->port_state = IB_PORT_DOWN;
	rdev->ib_dev.node_type = RDMA_NODE_IB_CA;
	rdev->ib_dev.phys_port_cnt = 1;
	rdev->ib_dev.num_comp_vectors = num_possible_cpus();
	rdev->ib_dev.local_dma_lkey = 0;
	strscpy(rdev->ib_dev.node_desc, "rxdp", sizeof(rdev->ib_dev.node_desc));
	addrconf_addr_eui48((u8 *)&rdev->ib_dev.node_guid, ndev->dev_addr);
	rdev->ib_dev.uverbs_cmd_mask |= BIT_ULL(IB_USER_VERBS_CMD_POST_SEND) |
					BIT_ULL(IB_USER_VERBS_CMD_REQ_NOTIFY_CQ);
	ib_set_device_ops(&rdev->ib_dev, &rxdp_dev_ops);
	ib_set_device_ops(&rdev->ib_dev, &rxdp_dev_life_ops);
	ib_set_device_ops(&rdev->ib_dev, &rxdp_stats_ops);

	/*
	 * Claim the netdev under the lock, so two adds cannot both win.  A
	 * netdev past NETREG_REGISTERED may have had its NETDEV_UNREGISTER
	 * already, which found no device to clear: refuse it.  The state
	 * changes before that notifier, which takes this lock.
	 */
	mutex_lock(&rxdp_devices_lock);
	err = rxdp_dev_lookup(ndev) ? -EEXIST : 0;
	if (!err && READ_ONCE(ndev->reg_state) != NETREG_REGISTERED)
		err = -ENODEV;
	if (err) {
		mutex_unlock(&rxdp_devices_lock);
		ib_dealloc_device(&rdev->ib_dev);
		return err;
	}
	rcu_assign_pointer(rdev->ndev, ndev);
	get_device(&rdev->ib_dev.dev);	/* until rxdp_dev_reap() */
	list_add_tail_rcu(&rdev->list, &rxdp_devices);
	hash_add_rcu(rxdp_by_netdev, &rdev->hnode, (unsigned long)ndev);
	mutex_unlock(&rxdp_devices_lock);

	err = ib_register_device(&rdev->ib_dev, name, NULL);
	if (err)
		goto err_dealloc;

	/*
	 * The netdev may have been unregistered while we registered: the
	 * notifier could not queue our removal then, so do it now.
	 */
	rxdp_debugfs_add_dev(rdev);
	mutex_lock(&rxdp_devices_lock);
	rdev->registered = true;
	gone = !rcu_access_pointer(rdev->ndev);
	if (!gone)
		rxdp_port_update(rdev, ndev);
	mutex_unlock(&rxdp_devices_lock);
	if (gone)
		ib_unregister_device_queued(&rdev->ib_dev);
	else
		ibdev_info(&rdev->ib_dev, "added on %s\n", netdev_name(ndev));
	return 0;

err_dealloc:
	/* calls rxdp_dealloc_driver, which releases the claim */
	ib_dealloc_device(&rdev->ib_dev);
	return err;
}

/**
 * rxdp_dev_netdev_event - apply a netdev event to the device bound to it
 * @ndev: the netdev the event is about
 * @event: NETDEV_*
 *
 * Context: RTNL held (netdev notifier).  The mcast_lock of a device is
 * taken inside rxdp_devices_lock here, which keeps the device from its
 * dealloc_driver meanwhile.
 */
void rxdp_dev_netdev_event(struct net_device *ndev, unsigned long event)
{
	struct rxdp_dev *rdev;

	mutex_lock(&rxdp_devices_lock);
	rdev = rxdp_dev_lookup(ndev);
	if (!rdev)
		goto out;

	switch (event) {
	case NETDEV_UNREGISTER:
		/*
		 * Still registered: it moves to another network namespace,
		 * where NETDEV_REGISTER follows.  The device stays on it, with
		 * its XDP program, maps and QPs (moving the RDMA device is
		 * "rdma dev set", the RDMA core's; no driver can).
		 */
		if (READ_ONCE(ndev->reg_state) == NETREG_REGISTERED) {
			rxdp_mcast_netdev_leave(rdev);
			break;
		}
		/* freed after a grace period: readers hold it or let go */
		RCU_INIT_POINTER(rdev->ndev, NULL);
		/*
		 * A device still registering is removed by rxdp_dev_add; one
		 * already unregistering needs nothing more.
		 */
		if (rdev->registered && ib_device_try_get(&rdev->ib_dev)) {
			ib_unregister_device_queued(&rdev->ib_dev);
			ib_device_put(&rdev->ib_dev);
		}
		break;
	case NETDEV_REGISTER:
		/* only a move: the netdev was registered before it had us */
		rxdp_mcast_netdev_join(rdev);
		if (rdev->registered)
			ibdev_info(&rdev->ib_dev,
				   "%s moved to another network namespace\n",
				   netdev_name(ndev));
		break;
	case NETDEV_UP:
	case NETDEV_DOWN:
	case NETDEV_CHANGE:
		if (rdev->registered)
			rxdp_port_update(rdev, ndev);
		break;
	default:
		break;
	}
out:
	mutex_unlock(&rxdp_devices_lock);
}

/**
 * rxdp_dev_remove_all - unregister every rxdp device
 *
 * Called at module exit after the link type is gone, so no device can be
 * added meanwhile.  ib_unregister_device() waits for an unregistration that
 * is already running; dealloc_driver takes each device off the list.
 */
void rxdp_dev_remove_all(void)
{
	struct rxdp_dev *rdev;

	for (;;) {
		mutex_lock(&rxdp_devices_lock);
		rdev = list_first_entry_or_null(&rxdp_devices,
						struct rxdp_dev, list);
		if (rdev)
			get_device(&rdev->ib_dev.dev);
		mutex_unlock(&rxdp_devices_lock);
		if (!rdev)
			break;
		ib_unregister_device(&rdev->ib_dev);
		put_device(&rdev->ib_dev.dev);
	}
	rxdp_dev_reap();
}

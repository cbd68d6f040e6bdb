// SPDX-License-Identifier: GPL-2.0
/*
 * kfuncs: the XDP program hands packets to QPs through rxdp_xdp_steer(),
 * and the loader hands the QP table to the module through a syscall
 * program calling rxdp_bind_qp_table(), rxdp_bind_qp_slots() and
 * rxdp_bind_gid_table().
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <net/xdp.h>

#include "rxdp.h"

__bpf_kfunc_start_defs();

/**
 * rxdp_xdp_steer - queue a validated RoCEv2 frame to its QP
 * @ctx: the XDP frame
 * @info: what the program parsed
 * @info__sz: sizeof(*info) as the program knows it
 *
 * The QP's responder takes the packet from the frame, or a copy of it
 * when it must wait (see rxdp_rx.c); its ICRC is checked first when
 * info->flags has RXDP_RX_F_ICRC_CHECK.  A datagram to QPN 0xFFFFFF goes
 * to every QP attached to its multicast group (rxdp_mcast.c).  The program drops the frame
 * afterwards.  Nothing is locked or referenced but the QP.
 * Return: 0, -ENOSPC when the QP's queue is full, -EBADMSG for a bad ICRC,
 * -ENODEV when the frame did not arrive on an rxdp device, -ENOENT for an
 * unknown QP, or another negative errno.
 */
__bpf_kfunc int rxdp_xdp_steer(struct xdp_md *ctx, struct rxdp_rx_info *info,
			       u32 info__sz)
{
	struct xdp_buff *xdp = (struct xdp_buff *)ctx;
	struct rxdp_rx_info ri;
	struct rxdp_dev *rdev;
	struct rxdp_qp *qp;
	int err;

	if (info__sz != sizeof(*info))
		return -EINVAL;
	/*
	 * Any memory the program can read may be passed, a map that user
	 * space rewrites meanwhile too: read it once, use only the copy.
	 */
	memcpy(&ri, info, sizeof(ri));
	barrier();
	if (ri.flags & ~RXDP_RX_F_FROM_BPF)
		return -EINVAL;
	/* XDP runs under RCU already; the device outlives the section */
	rcu_read_lock();
	rdev = rxdp_dev_find_rcu(xdp->rxq->dev);
	if (rdev && ri.qpn == IB_MULTICAST_QPN) {
		err = rxdp_mcast_rx(rdev, xdp, &ri);
		rcu_read_unlock();
		return err;
	}
	qp = rdev ? rxdp_qp_lookup(&rdev->qpn, ri.qpn) : NULL;
	if (qp) {
		err = rxdp_rx_enqueue(qp, xdp, &ri);
		rxdp_qp_put(qp);
	} else {
		err = rdev ? -ENOENT : -ENODEV;
	}
	rcu_read_unlock();
	return err;
}

/* Bind map, of kind, to the rxdp device on ifindex. */
static int rxdp_bind(u32 ifindex, enum rxdp_map_kind kind, struct bpf_map *map)
{
	struct net_device *ndev;
	struct rxdp_dev *rdev;
	int err;

	ndev = dev_get_by_index(current->nsproxy->net_ns, ifindex);
	if (!ndev)
		return -ENODEV;
	/* CAP_BPF loads the program; the device is the network admin's */
	if (!ns_capable(dev_net(ndev)->user_ns, CAP_NET_ADMIN)) {
		dev_put(ndev);
		return -EPERM;
	}
	rdev = rxdp_dev_get_by_netdev(ndev);
	dev_put(ndev);
	if (!rdev)
		return -ENODEV;
	err = rxdp_maps_bind(rdev, kind, map);
	ib_device_put(&rdev->ib_dev);
	return err;
}

/*
 * One map a kfunc: the 6.12 verifier dereferences a NULL btf_record when
 * a second __map argument follows a first one (check_kfunc_args(), its
 * bpf_wq check), so the two maps of the QP table come one call each.
 */

/**
 * rxdp_bind_qp_table - give the module the qp_table of an interface
 * @ifindex: the interface, in the caller's network namespace
 * @qp_table__map: the pinned qp_table map
 *
 * Return: 0, -ENODEV when the interface has no rxdp device, -EINVAL for a
 * map of another layout, -EBUSY for a map another device has.
 */
__bpf_kfunc int rxdp_bind_qp_table(u32 ifindex, void *qp_table__map)
{
	return rxdp_bind(ifindex, RXDP_BIND_QP_TABLE, qp_table__map);
}

/**
 * rxdp_bind_qp_slots - give the module the qp_slots of an interface
 * @ifindex: the interface, in the caller's network namespace
 * @qp_slots__map: the pinned qp_slots map
 *
 * Return: as rxdp_bind_qp_table().
 */
__bpf_kfunc int rxdp_bind_qp_slots(u32 ifindex, void *qp_slots__map)
{
	return rxdp_bind(ifindex, RXDP_BIND_QP_SLOTS, qp_slots__map);
}

/**
 * rxdp_bind_gid_table - give the module the gid_table of an interface
 * @ifindex: the interface, in the caller's network namespace
 * @gid_table__map: the pinned gid_table map
 *
 * Return: as rxdp_bind_qp_table().
 */
__bpf_kfunc int rxdp_bind_gid_table(u32 ifindex, void *gid_table__map)
{
	return rxdp_bind(ifindex, RXDP_BIND_GID_TABLE, gid_table__map);
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(rxdp_xdp_kfunc_ids)
BTF_ID_FLAGS(func, rxdp_xdp_steer)
BTF_KFUNCS_END(rxdp_xdp_kfunc_ids)

static const struct btf_kfunc_id_set rxdp_xdp_kfuncs = {
	.owner = THIS_MODULE,
	.set = &rxdp_xdp_kfunc_ids,
};

BTF_KFUNCS_START(rxdp_syscall_kfunc_ids)
BTF_ID_FLAGS(func, rxdp_bind_qp_table, KF_SLEEPABLE)
BTF_ID_FLAGS(func, rxdp_bind_qp_slots, KF_SLEEPABLE)
BTF_ID_FLAGS(func, rxdp_bind_gid_table, KF_SLEEPABLE)
BTF_KFUNCS_END(rxdp_syscall_kfunc_ids)

static const struct btf_kfunc_id_set rxdp_syscall_kfuncs = {
	.owner = THIS_MODULE,
	.set = &rxdp_syscall_kfunc_ids,
};

/* Registered once: kfunc sets cannot be unregistered. */
int rxdp_kfuncs_register(void)
{
	int err;

	err = register_btf_kfunc_id_set(BPF_PROG_TYPE_XDP, &rxdp_xdp_kfuncs);
	if (err)
		return err;
	return register_btf_kfunc_id_set(BPF_PROG_TYPE_SYSCALL,
					 &rxdp_syscall_kfuncs);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * UD multicast: the groups a device's QPs are attached to, and the
 * delivery of a datagram to QPN 0xFFFFFF to every QP of its group.
 *
 * A RoCEv2 multicast GID is an IP multicast address (IPv4 as
 * ::ffff:a.b.c.d).  The first QP attached to a group joins that address
 * on the netdev, which programs the netdev's Ethernet filter and sends
 * the IGMP or MLD report that makes switches forward the group; the last
 * one to leave leaves it.  The group's GID is put into gid_table, so that
 * the XDP program takes the datagrams and steers them here.  A netdev
 * moved to another network namespace loses its memberships with the IP
 * stack of the old one: the groups are joined again in the new one.
 *
 * Groups are found under RCU in a hash table keyed by GID, and each
 * holds a list of its QPs' anchors under RCU; both change under
 * mcast_lock, taken inside RTNL (the IP join needs it).  The RDMA core
 * does not destroy a QP that is still attached (ib_attach_mcast() counts
 * the attachments in its usecnt), and rxdp frees a QP's anchor a grace
 * period after the destroy, so a receive that found an attachment may
 * still try the anchor's reference.
 */
#include <linux/igmp.h>
#include <linux/inetdevice.h>
#include <linux/rhashtable.h>
#include <linux/rtnetlink.h>
#include <net/addrconf.h>
#include <net/ipv6.h>
#include <net/xdp.h>
#include <rdma/ib_addr.h>

#include "rxdp.h"
#include "rxdp_hdr.h"

struct rxdp_mcg {
	struct rhash_head	node;		/* in rdev->mcgs */
	union ib_gid		mgid;		/* the key */
	struct list_head	qps;		/* of rxdp_mca, RCU */
	unsigned int		nqps;
	bool			joined;		/* on the netdev, in its netns */
	struct rcu_head		rcu;
};

/*
 * A QP's attachment to a group.  The RDMA core counts every successful
 * attach in the QP's usecnt and takes one off for each successful detach,
 * and uverbs keeps one attachment per (GID, LID): with LIDs meaningless
 * on RoCE, a QP attached under two LIDs is attached twice, and must be
 * detached twice.  Each attach counts against the device's limit.
 */
struct rxdp_mca {
	struct list_head	node;		/* in its group's qps */
	struct rxdp_qp_anchor	*anchor;
	unsigned int		count;		/* attaches less detaches */
	struct rcu_head		rcu;
};

static const struct rhashtable_params rxdp_mcg_params = {
	.key_len	= sizeof(union ib_gid),
	.key_offset	= offsetof(struct rxdp_mcg, mgid),
	.head_offset	= offsetof(struct rxdp_mcg, node),
	.automatic_shrinking = true,
};

int rxdp_mcast_init(struct rxdp_dev *rdev)
{
	mutex_init(&rdev->mcast_lock);
	return rhashtable_init(&rdev->mcgs, &rxdp_mcg_params);
}

static void rxdp_mcg_free(void *ptr, void *arg)
{
	struct rxdp_mcg *g = ptr;
	struct rxdp_mca *m, *next;

	list_for_each_entry_safe(m, next, &g->qps, node)
		kfree(m);
	kfree(g);
}

/* The device is going: its QPs were destroyed, so detached, before. */
void rxdp_mcast_cleanup(struct rxdp_dev *rdev)
{
	WARN_ON(rdev->num_mcg);
	rhashtable_free_and_destroy(&rdev->mcgs, rxdp_mcg_free, NULL);
	mutex_destroy(&rdev->mcast_lock);
}

static bool rxdp_mgid_is_v4(const union ib_gid *mgid)
{
	return ipv6_addr_v4mapped((const struct in6_addr *)mgid->raw);
}

/*
 * Join (or leave) the group's IP address on the netdev: its MAC in the
 * netdev's filter, and an IGMP or MLD report.  Context: RTNL held.
 */
static bool rxdp_mcg_ip(struct rxdp_dev *rdev, const union ib_gid *mgid,
			bool join)
{
	struct net_device *ndev = rcu_dereference_rtnl(rdev->ndev);
	const struct in6_addr *a6 = (const struct in6_addr *)mgid->raw;
	struct in_device *in_dev;

	ASSERT_RTNL();
	if (!ndev)
		return false;
	if (rxdp_mgid_is_v4(mgid)) {
		in_dev = __in_dev_get_rtnl(ndev);
		if (!in_dev)
			return false;
		if (join)
			ip_mc_inc_group(in_dev, a6->s6_addr32[3]);
		else
			ip_mc_dec_group(in_dev, a6->s6_addr32[3]);
		return true;
	}
	return join ? !ipv6_dev_mc_inc(ndev, a6) : !ipv6_dev_mc_dec(ndev, a6);
}

static struct rxdp_mca *rxdp_mcg_find_qp(struct rxdp_mcg *g,
					 struct rxdp_qp *qp)
{
	struct rxdp_mca *m;

	list_for_each_entry(m, &g->qps, node)
		if (m->anchor == qp->anchor)
			return m;
	return NULL;
}

int rxdp_attach_mcast(struct ib_qp *ibqp, union ib_gid *gid, u16 lid)
{
	struct rxdp_qp *qp = to_rqp(ibqp);
	struct rxdp_dev *rdev = qp->rdev;
	struct rxdp_mcg *g, *new = NULL;
	struct rxdp_mca *m, *old;
	int err = 0;

	/* the RDMA core checked both; a driver call may come another way */
	if (ibqp->qp_type != IB_QPT_UD ||
	    !rdma_is_multicast_addr((struct in6_addr *)gid->raw))
		return -EINVAL;
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	m->anchor = qp->anchor;
	m->count = 1;

	rtnl_lock();
	mutex_lock(&rdev->mcast_lock);
	g = rhashtable_lookup_fast(&rdev->mcgs, gid, rxdp_mcg_params);
	old = g ? rxdp_mcg_find_qp(g, qp) : NULL;
	if (rdev->num_mca >= rdev->attr.max_total_mcast_qp_attach) {
		err = -ENOMEM;
		goto out;
	}
	if (old) {
		old->count++;
		rdev->num_mca++;
		goto out;
	}
	if ((g && g->nqps >= rdev->attr.max_mcast_qp_attach) ||
	    (!g && rdev->num_mcg >= rdev->attr.max_mcast_grp)) {
		err = -ENOMEM;
		goto out;
	}
	if (!g) {
		new = kzalloc(sizeof(*new), GFP_KERNEL);
		if (!new) {
			err = -ENOMEM;
			goto out;
		}
		new->mgid = *gid;
		INIT_LIST_HEAD(&new->qps);
		err = rhashtable_insert_fast(&rdev->mcgs, &new->node,
					     rxdp_mcg_params);
		if (err) {
			kfree(new);
			goto out;
		}
		/* in mcgs first: a gid_table bound meanwhile gets it too */
		mutex_lock(&rdev->maps_lock);
		err = rxdp_maps_gid_set(rdev, gid, RXDP_GID_INDEX_MCAST);
		mutex_unlock(&rdev->maps_lock);
		if (err) {
			/* no steering to it: the attach must fail */
			rhashtable_remove_fast(&rdev->mcgs, &new->node,
					       rxdp_mcg_params);
			kfree_rcu(new, rcu);
			err = -ENOMEM;
			goto out;
		}
		g = new;
		rdev->num_mcg++;
		/* not joined (IPv6 off on the netdev, say): XDP takes it all the same */
		g->joined = rxdp_mcg_ip(rdev, gid, true);
	}
	list_add_tail_rcu(&m->node, &g->qps);
	g->nqps++;
	rdev->num_mca++;
	m = NULL;
out:
	mutex_unlock(&rdev->mcast_lock);
	rtnl_unlock();
	kfree(m);
	return err;
}

int rxdp_detach_mcast(struct ib_qp *ibqp, union ib_gid *gid, u16 lid)
{
	struct rxdp_qp *qp = to_rqp(ibqp);
	struct rxdp_dev *rdev = qp->rdev;
	struct rxdp_mcg *g;
	struct rxdp_mca *m = NULL;

	rtnl_lock();
	mutex_lock(&rdev->mcast_lock);
	g = rhashtable_lookup_fast(&rdev->mcgs, gid, rxdp_mcg_params);
	if (g)
		m = rxdp_mcg_find_qp(g, qp);
	if (!m)
		goto out;
	rdev->num_mca--;
	if (--m->count)
		goto out;
	list_del_rcu(&m->node);
	kfree_rcu(m, rcu);
	if (--g->nqps)
		goto out;
	rhashtable_remove_fast(&rdev->mcgs, &g->node, rxdp_mcg_params);
	rdev->num_mcg--;
	mutex_lock(&rdev->maps_lock);
	rxdp_maps_gid_clear(rdev, gid);
	mutex_unlock(&rdev->maps_lock);
	if (g->joined)
		rxdp_mcg_ip(rdev, gid, false);
	kfree_rcu(g, rcu);
out:
	mutex_unlock(&rdev->mcast_lock);
	rtnl_unlock();
	return m ? 0 : -EINVAL;
}

/*
 * Join every group on the netdev that is not joined (join), or leave every
 * group that is (!join).  A walk rather than a lookup, with no RCU held
 * while an IP join sleeps: mcast_lock keeps every group in place, and
 * g->joined makes each step once per group, should a resize show a group
 * twice.  Context: RTNL held.
 */
static void rxdp_mcast_ip_all(struct rxdp_dev *rdev, bool join)
{
	struct rhashtable_iter it;
	struct rxdp_mcg *g;

	ASSERT_RTNL();
	mutex_lock(&rdev->mcast_lock);
	rhashtable_walk_enter(&rdev->mcgs, &it);
	rhashtable_walk_start(&it);
	while ((g = rhashtable_walk_next(&it))) {
		if (IS_ERR(g) || g->joined == join)
			continue;	/* -EAGAIN: a resize; go on */
		rhashtable_walk_stop(&it);
		/* a leave that finds no in_device leaves all the same */
		g->joined = rxdp_mcg_ip(rdev, &g->mgid, join) && join;
		rhashtable_walk_start(&it);
	}
	rhashtable_walk_stop(&it);
	rhashtable_walk_exit(&it);
	mutex_unlock(&rdev->mcast_lock);
}

/**
 * rxdp_mcast_netdev_leave - the netdev leaves its network namespace
 * @rdev: the device on it
 *
 * The IP stack of the namespace it leaves has already dropped the
 * netdev's memberships with its in_device and inet6_dev (their notifiers
 * see NETDEV_UNREGISTER before this module's), so a leave finds nothing
 * there; the groups are no longer joined either way, and are joined again
 * by rxdp_mcast_netdev_join() in the new namespace.
 * Context: RTNL held (NETDEV_UNREGISTER of a netdev that stays registered).
 */
void rxdp_mcast_netdev_leave(struct rxdp_dev *rdev)
{
	rxdp_mcast_ip_all(rdev, false);
}

/**
 * rxdp_mcast_netdev_join - the netdev arrived in a network namespace
 * @rdev: the device on it
 *
 * Join every group the device's QPs are attached to on the netdev's new
 * in_device and inet6_dev, which the IP stack made on NETDEV_REGISTER
 * before this module hears of it: the reports go out once the netdev is
 * up there.
 * Context: RTNL held (NETDEV_REGISTER of a netdev moved).
 */
void rxdp_mcast_netdev_join(struct rxdp_dev *rdev)
{
	rxdp_mcast_ip_all(rdev, true);
}

/*
 * Write every group's GID into a gid_table just bound.  Under RCU, not
 * mcast_lock, which is taken outside maps_lock: an attach or detach
 * meanwhile writes its own entry under maps_lock after this.
 * Context: maps_lock held.
 */
void rxdp_mcast_sync_map(struct rxdp_dev *rdev)
{
	struct rhashtable_iter it;
	struct rxdp_mcg *g;

	lockdep_assert_held(&rdev->maps_lock);
	rhashtable_walk_enter(&rdev->mcgs, &it);
	rhashtable_walk_start(&it);
	while ((g = rhashtable_walk_next(&it))) {
		if (IS_ERR(g))
			continue;	/* -EAGAIN: a resize; go on */
		rxdp_maps_gid_set(rdev, &g->mgid, RXDP_GID_INDEX_MCAST);
	}
	rhashtable_walk_stop(&it);
	rhashtable_walk_exit(&it);
}

/*
 * The group a datagram is for, from its IP destination; its headers are
 * in the frame's first piece (rxdp_rx_check_icrc() checked).
 */
static void rxdp_mcast_dgid(const struct xdp_buff *xdp,
			    const struct rxdp_rx_info *info, union ib_gid *mgid)
{
	const u8 *l3 = (const u8 *)xdp->data + info->l3_off;

	if (info->flags & RXDP_RX_F_IPV6)
		memcpy(mgid->raw, l3 + offsetof(struct ipv6hdr, daddr), 16);
	else
		ipv6_addr_set_v4mapped(get_unaligned((const __be32 *)(l3 +
					offsetof(struct iphdr, daddr))),
				       (struct in6_addr *)mgid->raw);
}

/**
 * rxdp_mcast_rx - hand a datagram to QPN 0xFFFFFF to its group's QPs
 * @rdev: the device it came to
 * @xdp: the frame
 * @info: the steer kfunc's copy of what XDP found, written here
 *
 * The ICRC is checked once; then each attached QP gets the packet as
 * from XDP (its Q_Key, state and receive queue are its own), by its own
 * copy of the payload.  Every P_Key of the device is the default one.
 * Context: softirq (XDP), RCU read side.
 * Return: 0 when a QP took it, -ENOENT when no QP is attached to its
 * group, -EBADMSG for a bad ICRC, -EINVAL for a bad P_Key, opcode or
 * frame, else the last QP's error.
 */
int rxdp_mcast_rx(struct rxdp_dev *rdev, struct xdp_buff *xdp,
		  struct rxdp_rx_info *info)
{
	int err, ret = -ENOENT;
	union ib_gid mgid;
	struct rxdp_mcg *g;
	struct rxdp_mca *m;
	const u8 *bth;

	err = rxdp_rx_check_icrc(xdp, info);
	if (err)
		return err;
	bth = (const u8 *)xdp->data + info->bth_off;
	if ((rxdp_bth_opcode(bth) != IB_OPCODE_UD_SEND_ONLY &&
	     rxdp_bth_opcode(bth) != IB_OPCODE_UD_SEND_ONLY_WITH_IMMEDIATE) ||
	    (rxdp_bth_pkey(bth) & RXDP_PKEY_KEY_MASK) !=
	     (RXDP_PKEY_DEFAULT & RXDP_PKEY_KEY_MASK))
		return -EINVAL;
	rxdp_mcast_dgid(xdp, info, &mgid);
	g = rhashtable_lookup(&rdev->mcgs, &mgid, rxdp_mcg_params);
	if (!g)
		return -ENOENT;
	info->flags |= RXDP_RX_F_MCAST;
	list_for_each_entry_rcu(m, &g->qps, node) {
		struct rxdp_qp *qp;

		if (!refcount_inc_not_zero(&m->anchor->ref))
			continue;	/* being destroyed */
		qp = m->anchor->qp;
		info->qpn = qp->ibqp.qp_num;
		err = rxdp_rx_enqueue(qp, xdp, info);
		rxdp_qp_put(qp);
		if (ret)
			ret = err;
	}
	return ret;
}

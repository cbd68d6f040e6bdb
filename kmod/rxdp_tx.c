// SPDX-License-Identifier: GPL-2.0
/*
 * Transmit: frames the module builds itself, without the IP stack.
 *
 * A path (struct rxdp_path) holds what precedes the BTH in every packet to
 * one destination.  It is built from an address vector the RDMA core
 * resolved: the destination MAC is in it, the source MAC and VLAN are the
 * source GID's.  Per packet only the lengths, the IPv4 header checksum and
 * the ICRC are written (and the UDP source port of a UD packet, which
 * depends on the destination QP).
 *
 * A frame to the device itself (the destination GID one of its own, the
 * destination MAC its netdev's) does not take the netdev: it goes to the
 * destination QP from the sender's memory (rxdp_loopback.c).
 * Everything else leaves through dev_queue_xmit() on the device's netdev,
 * so that qdiscs, tc and packet taps see it; a frame the netdev refuses
 * is a lost packet, which the reliable transport recovers.  A QP has at
 * most RXDP_TX_MAX_INFLIGHT frames in the stack (struct rxdp_tx_ctx): one
 * QP does not fill the device's queue, and its requester waits for room.
 */
#include <linux/etherdevice.h>
#include <linux/ip.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/xdp.h>
#include <rdma/ib_cache.h>

#include "rxdp.h"
#include "rxdp_hdr.h"

/*
 * Room before the frame: what veth wants to run XDP on the skb in place
 * rather than on a copy of it.
 */
#define RXDP_TX_HEADROOM	XDP_PACKET_HEADROOM

static void rxdp_path_ip4(u8 *h, const struct ib_global_route *grh,
			  const union ib_gid *sgid)
{
	struct iphdr *ip = (struct iphdr *)h;

	ip->version = 4;
	ip->ihl = sizeof(*ip) / 4;
	ip->tos = grh->traffic_class;
	ip->frag_off = htons(IP_DF);
	ip->ttl = grh->hop_limit;
	ip->protocol = IPPROTO_UDP;
	memcpy(&ip->saddr, sgid->raw + 12, sizeof(ip->saddr));
	memcpy(&ip->daddr, grh->dgid.raw + 12, sizeof(ip->daddr));
}

static void rxdp_path_ip6(u8 *h, const struct ib_global_route *grh,
			  const union ib_gid *sgid)
{
	struct ipv6hdr *ip6 = (struct ipv6hdr *)h;

	ip6_flow_hdr(ip6, grh->traffic_class, htonl(grh->flow_label));
	ip6->nexthdr = IPPROTO_UDP;
	ip6->hop_limit = grh->hop_limit;
	memcpy(&ip6->saddr, sgid->raw, sizeof(ip6->saddr));
	memcpy(&ip6->daddr, grh->dgid.raw, sizeof(ip6->daddr));
}

/**
 * rxdp_path_init - the headers of every packet to a destination
 * @rdev: the device
 * @path: filled in
 * @ah: a checked address vector (rxdp_check_ah_attr()), with its source
 *	GID attribute
 *
 * The UDP source port is left 0: the caller sets it in path->hdr when it
 * is the same for every packet, else rxdp_tx_alloc() gets it.
 * Context: any; does not sleep.
 * Return: 0, or -EINVAL for a source GID not on the device's netdev.
 */
int rxdp_path_init(struct rxdp_dev *rdev, struct rxdp_path *path,
		   const struct rdma_ah_attr *ah)
{
	const struct ib_global_route *grh = rdma_ah_read_grh(ah);
	const struct ib_gid_attr *sattr = grh->sgid_attr;
	u8 smac[ETH_ALEN], *h = path->hdr;
	struct udphdr *udp;
	__be16 proto;
	u16 vlan;
	int err;

	memset(path, 0, sizeof(*path));
	if (!sattr || !rxdp_gid_is_ours(rdev, sattr))
		return -EINVAL;
	err = rdma_read_gid_l2_fields(sattr, &vlan, smac);
	if (err)
		return err;
	path->ipv6 = rdma_gid_attr_network_type(sattr) == RDMA_NETWORK_IPV6;
	proto = htons(path->ipv6 ? ETH_P_IPV6 : ETH_P_IP);

	ether_addr_copy(h, ah->roce.dmac);
	ether_addr_copy(h + ETH_ALEN, smac);
	if (vlan < VLAN_N_VID) {
		struct vlan_ethhdr *veth = (struct vlan_ethhdr *)h;

		veth->h_vlan_proto = htons(ETH_P_8021Q);
		veth->h_vlan_TCI = htons(vlan |
			(rdma_ah_get_sl(ah) & 7) << VLAN_PRIO_SHIFT);
		veth->h_vlan_encapsulated_proto = proto;
		path->l3_off = VLAN_ETH_HLEN;
	} else {
		((struct ethhdr *)h)->h_proto = proto;
		path->l3_off = ETH_HLEN;
	}
	if (path->ipv6) {
		rxdp_path_ip6(h + path->l3_off, grh, &sattr->gid);
		path->len = path->l3_off + sizeof(struct ipv6hdr);
	} else {
		rxdp_path_ip4(h + path->l3_off, grh, &sattr->gid);
		path->len = path->l3_off + sizeof(struct iphdr);
	}
	udp = (struct udphdr *)(h + path->len);
	udp->dest = htons(RXDP_ROCE_PORT);
	path->len += sizeof(*udp);
	path->flow_label = grh->flow_label;
	path->loopback = ether_addr_equal(ah->roce.dmac, smac) &&
			 rxdp_gid_is_local(rdev, &grh->dgid);
	return 0;
}

/**
 * rxdp_tx_alloc - a frame for one packet, its headers up to the BTH laid
 * @path: where it goes
 * @sport: its UDP source port, or 0 for the one in @path
 * @opcode: its BTH opcode, which sizes the transport headers
 * @paylen: its payload bytes
 * @tp: the packet; its BTH and extension headers go at tp->bth, its
 *	payload is put with rxdp_tx_put_wqe() or rxdp_tx_put_mr()
 *
 * Context: any but hard irq.
 * Return: 0 or -ENOMEM.
 */
int rxdp_tx_alloc(const struct rxdp_path *path, u16 sport, u8 opcode,
		  u32 paylen, struct rxdp_tx_pkt *tp)
{
	u32 hdr_len = rxdp_hdr_len(opcode), pad = -paylen & 3;
	u32 tp_len = hdr_len + paylen + pad + IB_ICRC_BYTES;
	u32 l4_off = path->len - sizeof(struct udphdr);
	struct udphdr *udp;
	u8 *f;

	memset(tp, 0, sizeof(*tp));
	tp->len = path->len + tp_len;
	if (path->loopback) {
		/* the payload is gathered, the pad and ICRC are implied */
		f = rxdp_lo_alloc(tp, path->len + hdr_len);
		if (!f)
			return -ENOMEM;
	} else {
		tp->skb = __netdev_alloc_skb(NULL, RXDP_TX_HEADROOM + tp->len,
					     GFP_ATOMIC | __GFP_NOWARN);
		if (!tp->skb)
			return -ENOMEM;
		skb_reserve(tp->skb, RXDP_TX_HEADROOM);
		f = skb_put(tp->skb, tp->len);
	}
	memcpy(f, path->hdr, path->len);
	if (path->ipv6) {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)(f + path->l3_off);

		ip6->payload_len = htons(sizeof(*udp) + tp_len);
	} else {
		struct iphdr *ip = (struct iphdr *)(f + path->l3_off);

		ip->tot_len = htons(path->len - path->l3_off + tp_len);
		ip_send_check(ip);
	}
	udp = (struct udphdr *)(f + l4_off);
	udp->len = htons(sizeof(*udp) + tp_len);
	if (sport)
		udp->source = htons(sport);
	if (tp->skb) {
		tp->payload = f + path->len + hdr_len;
		/* the pad and the ICRC */
		memset(tp->payload + paylen, 0, pad + IB_ICRC_BYTES);
	}
	tp->frame = f;
	tp->bth = f + path->len;
	tp->l3_off = path->l3_off;
	tp->ipv6 = path->ipv6;
	return 0;
}

void rxdp_tx_free(struct rxdp_tx_pkt *tp)
{
	kfree_skb(tp->skb);
	rxdp_lo_free(tp->lo);
	tp->skb = NULL;
	tp->lo = NULL;
}

static bool rxdp_tx_gather_piece(void *lo, struct rxdp_mr *mr, u64 addr,
				 u32 n)
{
	return rxdp_lo_gather(lo, mr, addr, n);
}

/**
 * rxdp_tx_put_wqe - the payload of a packet from a send WQE's message
 * @qp: the QP
 * @tp: the packet, from rxdp_tx_alloc(); its payload is the next @length
 *	bytes
 * @wqe: a checked WQE, which holds still until the packet is sent
 * @off: where in its message the payload starts
 * @length: how many bytes
 *
 * Copied into a frame to the netdev; a frame to the device itself only
 * refers to them.  On an error, @tp is left to the caller to free.
 * Return: as rxdp_wqe_copy().
 */
enum ib_wc_status rxdp_tx_put_wqe(struct rxdp_qp *qp, struct rxdp_tx_pkt *tp,
				  const struct rxe_send_wqe *wqe, u64 off,
				  u32 length)
{
	enum ib_wc_status status;

	if (tp->lo)
		return rxdp_wqe_walk(qp, wqe, off, length, 0,
				     rxdp_tx_gather_piece, tp->lo);
	status = rxdp_wqe_copy(qp, wqe, off, tp->payload, length, false);
	tp->payload += length;
	return status;
}

/**
 * rxdp_tx_put_mr - the payload of a packet from an MR
 * @tp: the packet, from rxdp_tx_alloc(); its payload is the next @length
 *	bytes
 * @mr: the MR, referenced, checked for the range
 * @addr: the first byte, in its address space
 * @length: how many bytes
 *
 * Return: true, or false when the packet cannot take them (then the
 * caller frees it).
 */
bool rxdp_tx_put_mr(struct rxdp_tx_pkt *tp, struct rxdp_mr *mr, u64 addr,
		    u32 length)
{
	if (tp->lo)
		return rxdp_lo_gather(tp->lo, mr, addr, length);
	rxdp_mr_read(mr, addr, tp->payload, length);
	tp->payload += length;
	return true;
}

/**
 * rxdp_tx_send - send a packet that rxdp_tx_alloc() made and the caller
 * filled
 * @rdev: the device
 * @tp: the packet, consumed
 *
 * Context: any but hard irq, with IRQs on.
 * Return: 0 when it left (or went to the device itself), else an
 * errno or the NET_XMIT code of its loss.
 */
int rxdp_tx_send(struct rxdp_dev *rdev, struct rxdp_tx_pkt *tp)
{
	struct sk_buff *skb = tp->skb;
	struct net_device *ndev;
	u32 icrc_off = tp->len - IB_ICRC_BYTES, icrc;
	u32 tp_len = tp->len - (tp->bth - tp->frame);
	int ret;

	if (tp->lo) {
		ret = rxdp_lo_send(rdev, tp);
		goto out;
	}

	ret = rxdp_icrc_calc(tp->frame, tp->l3_off, tp->bth - tp->frame,
			     icrc_off, tp->ipv6, &icrc);
	if (WARN_ON_ONCE(ret)) {
		kfree_skb(skb);
		goto out;
	}
	put_unaligned_le32(icrc, tp->frame + icrc_off);

	rcu_read_lock();
	ndev = rcu_dereference(rdev->ndev);
	if (!ndev) {
		rcu_read_unlock();
		kfree_skb(skb);
		ret = -ENODEV;
		goto out;
	}
	skb->dev = ndev;
	skb_reset_mac_header(skb);
	skb->protocol = eth_hdr(skb)->h_proto;
	skb_set_network_header(skb, tp->l3_off);
	skb_set_transport_header(skb, tp->bth - tp->frame -
				 sizeof(struct udphdr));
	ret = dev_queue_xmit(skb);
	rcu_read_unlock();
out:
	if (ret) {
		rxdp_stat_inc(rdev, RXDP_CNT_SEND_ERR);
	} else {
		rxdp_stat_inc(rdev, RXDP_CNT_SENT_PKTS);
		rxdp_stat_add(rdev, RXDP_CNT_SENT_BYTES, tp_len);
	}
	return ret;
}

/*
 * Frame counts not yet freed, of devices gone or not: the last frame of a
 * device runs rxdp_tx_skb_done() from the stack, which the module must
 * outlive (rxdp_tx_exit).
 */
static atomic_t rxdp_tx_devs = ATOMIC_INIT(0);

/**
 * rxdp_tx_dev_init - the count of a device's frames in the stack
 * @rdev: the device
 *
 * Return: 0 or -ENOMEM.
 */
int rxdp_tx_dev_init(struct rxdp_dev *rdev)
{
	struct rxdp_tx_dev *dev = kzalloc(sizeof(*dev), GFP_KERNEL);

	if (!dev)
		return -ENOMEM;
	refcount_set(&dev->ref, 1);
	spin_lock_init(&dev->lock);
	INIT_LIST_HEAD(&dev->waiters);
	rdev->tx = dev;
	atomic_inc(&rxdp_tx_devs);
	return 0;
}

void rxdp_tx_dev_put(struct rxdp_tx_dev *dev)
{
	if (refcount_dec_and_test(&dev->ref)) {
		WARN_ON_ONCE(!list_empty(&dev->waiters));
		kfree(dev);
		if (atomic_dec_and_test(&rxdp_tx_devs))
			wake_up_var(&rxdp_tx_devs);
	}
}

/**
 * rxdp_tx_exit - wait until the stack has freed every frame of the module
 *
 * Frames can stay in the stack long after their device went: a qdisc
 * that holds them (netem's slots, a rate limit), a NIC that has not
 * completed them.  Each runs rxdp_tx_skb_done() when freed, so the module
 * must not go before the last one has.  Called once no device is left.
 *
 * Context: process, may wait as long as the stack keeps a frame.
 */
void rxdp_tx_exit(void)
{
	unsigned long start = jiffies;

	/* a wake per second: a long wait is not a hung task */
	while (!wait_var_event_timeout(&rxdp_tx_devs,
				       !atomic_read(&rxdp_tx_devs), HZ)) {
		if (time_after(jiffies, start + 10 * HZ)) {
			pr_notice("rxdp: waiting for the network stack to free the frames of %d devices\n",
				  atomic_read(&rxdp_tx_devs));
			start = jiffies;
		}
	}
	/* the last destructor is past its read-side section: see there */
	synchronize_rcu();
}

static void rxdp_tx_ctx_put(struct rxdp_tx_ctx *ctx)
{
	if (refcount_dec_and_test(&ctx->ref)) {
		rxdp_tx_dev_put(ctx->dev);
		kfree(ctx);
	}
}

/*
 * The device's frames in the stack fell to half its cap: every QP that
 * waited goes on, in the order they came.  All of them, so that one that
 * finds nothing to send cannot leave the others waiting with no frame
 * left to free.
 */
static void rxdp_tx_dev_wake(struct rxdp_tx_dev *dev)
{
	struct rxdp_tx_ctx *ctx, *next;
	unsigned long flags;
	struct rxdp_qp *qp;

	spin_lock_irqsave(&dev->lock, flags);
	list_for_each_entry_safe(ctx, next, &dev->waiters, wait) {
		list_del_init(&ctx->wait);
		/* on the list, its QP is not gone: detach takes it off first */
		qp = rcu_dereference_protected(ctx->qp,
					       lockdep_is_held(&dev->lock));
		if (qp)
			queue_work(system_bh_wq, &qp->req_work);
	}
	spin_unlock_irqrestore(&dev->lock, flags);
}

/*
 * The stack is done with a QP's frame.  All of it is one RCU read-side
 * section, so that rxdp_tx_exit(), having seen the last count go, waits
 * for this function to be done with the module too.
 */
static void rxdp_tx_skb_done(struct sk_buff *skb)
{
	struct rxdp_tx_ctx *ctx = skb_shinfo(skb)->destructor_arg;
	struct rxdp_tx_dev *dev = ctx->dev;

	rcu_read_lock();
	/* the decrement is ordered before the look at the list */
	if (atomic_dec_return(&dev->inflight) <= RXDP_TX_DEV_MAX_INFLIGHT / 2 &&
	    !list_empty(&dev->waiters))
		rxdp_tx_dev_wake(dev);
	if (atomic_dec_return(&ctx->inflight) < RXDP_TX_MAX_INFLIGHT &&
	    test_and_clear_bit(0, &ctx->waiting)) {
		struct rxdp_qp *qp = rcu_dereference(ctx->qp);

		if (qp)
			queue_work(system_bh_wq, &qp->req_work);
	}
	rxdp_tx_ctx_put(ctx);
	rcu_read_unlock();
}

/**
 * rxdp_tx_send_qp - send a packet of a QP, counted against its frames
 * @qp: the QP
 * @tp: the packet, consumed
 *
 * Return: as rxdp_tx_send().
 */
int rxdp_tx_send_qp(struct rxdp_qp *qp, struct rxdp_tx_pkt *tp)
{
	struct rxdp_tx_ctx *ctx = qp->tx;

	if (tp->skb) {
		refcount_inc(&ctx->ref);
		atomic_inc(&ctx->inflight);
		atomic_inc(&ctx->dev->inflight);
		/* not zero-copy: the shared info's argument is free to use */
		skb_shinfo(tp->skb)->destructor_arg = ctx;
		tp->skb->destructor = rxdp_tx_skb_done;
	}
	return rxdp_tx_send(qp->rdev, tp);
}

/*
 * Has the device room for another frame?  If not, the QP waits until half
 * the device's frames are freed: a QP waits only while the device has
 * frames in the stack, so that comes.
 */
static bool rxdp_tx_dev_may_send(struct rxdp_qp *qp)
{
	struct rxdp_tx_ctx *ctx = qp->tx;
	struct rxdp_tx_dev *dev = ctx->dev;
	unsigned long flags;
	bool added = false;

	if (atomic_read(&dev->inflight) < RXDP_TX_DEV_MAX_INFLIGHT)
		return true;
	spin_lock_irqsave(&dev->lock, flags);
	/* not once detached: the QP is going, and the list must not hold it */
	if (list_empty(&ctx->wait) && rcu_access_pointer(ctx->qp)) {
		list_add_tail(&ctx->wait, &dev->waiters);
		added = true;
	}
	spin_unlock_irqrestore(&dev->lock, flags);
	/* on the list before the count is read again: see rxdp_tx_skb_done */
	smp_mb();
	if (atomic_read(&dev->inflight) < RXDP_TX_DEV_MAX_INFLIGHT) {
		spin_lock_irqsave(&dev->lock, flags);
		list_del_init(&ctx->wait);
		spin_unlock_irqrestore(&dev->lock, flags);
		return true;
	}
	if (added)
		rxdp_stat_inc(qp->rdev, RXDP_CNT_TX_WAIT);
	return false;
}

/**
 * rxdp_tx_may_send - has the QP room for another frame in the stack?
 * @qp: the QP
 *
 * When it has not, or the device has not, the requester runs again once
 * a frame is freed.
 */
bool rxdp_tx_may_send(struct rxdp_qp *qp)
{
	struct rxdp_tx_ctx *ctx = qp->tx;

	if (atomic_read(&ctx->inflight) < RXDP_TX_MAX_INFLIGHT)
		return rxdp_tx_dev_may_send(qp);
	if (!test_and_set_bit(0, &ctx->waiting))
		rxdp_stat_inc(qp->rdev, RXDP_CNT_TX_WAIT);
	/* a frame freed before the bit was set did not see it */
	smp_mb__after_atomic();
	if (atomic_read(&ctx->inflight) < RXDP_TX_MAX_INFLIGHT) {
		clear_bit(0, &ctx->waiting);
		return rxdp_tx_dev_may_send(qp);
	}
	return false;
}

int rxdp_tx_ctx_init(struct rxdp_qp *qp)
{
	qp->tx = kzalloc(sizeof(*qp->tx),
			 qp->is_user ? GFP_KERNEL_ACCOUNT : GFP_KERNEL);
	if (!qp->tx)
		return -ENOMEM;
	refcount_set(&qp->tx->ref, 1);
	RCU_INIT_POINTER(qp->tx->qp, qp);
	INIT_LIST_HEAD(&qp->tx->wait);
	qp->tx->dev = qp->rdev->tx;
	refcount_inc(&qp->tx->dev->ref);
	return 0;
}

/*
 * Destroy: frames still in the stack no longer kick the QP, nor does the
 * device's list.  A destructor that runs holds its frame's reference
 * until it is done with the QP.
 */
void rxdp_tx_ctx_detach(struct rxdp_qp *qp)
{
	struct rxdp_tx_ctx *ctx = qp->tx;
	unsigned long flags;

	/* under the list's lock: a wake queues the QP's work before this */
	spin_lock_irqsave(&ctx->dev->lock, flags);
	list_del_init(&ctx->wait);
	RCU_INIT_POINTER(ctx->qp, NULL);
	spin_unlock_irqrestore(&ctx->dev->lock, flags);
	/* the pointer gone before the count is read */
	smp_mb();
	if (refcount_read(&ctx->ref) > 1)
		synchronize_rcu();
}

/* Destroy, once nothing sends: the frames keep what they need. */
void rxdp_tx_ctx_release(struct rxdp_qp *qp)
{
	rxdp_tx_ctx_put(qp->tx);
	qp->tx = NULL;
}

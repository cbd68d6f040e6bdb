// SPDX-License-Identifier: GPL-2.0
/*
 * A packet XDP steered to a QP, on its way to the responder.
 *
 * The fast path: when nothing is queued ahead of the packet and no other
 * CPU is in the QP's responder, the responder takes it in the steering
 * kfunc itself, straight from the frame, whose ICRC is checked in place
 * first.  Its payload is copied once, into its destination; nothing is
 * allocated.  What must wait for the batch (the coalesced ACK, the QP
 * entry's counters) is left to the QP's receive work.
 *
 * A frame in fragments (a multi-buffer frame: jumbo frames, or veth's
 * page-sized buffers) takes the fast path too, its headers in the first
 * piece; the payload is read piece by piece (rxdp_frame_piece()).
 *
 * A frame the device sends to itself takes the same fast path, from the
 * sender's memory (rxdp_rx_local()).
 *
 * Otherwise (the responder busy on another CPU, packets queued, a READ
 * being served, or headers past the first piece) the packet is copied
 * onto the QP's receive queue, bounded: a full queue refuses it (the XDP
 * program counts it) and the sender's retransmission recovers it.  The
 * receive work, a BH work item, hands the queue to the responder in
 * order.
 */
#include <linux/ipv6.h>
#include <linux/ptr_ring.h>
#include <linux/udp.h>
#include <net/xdp.h>
#include <rdma/ib_pack.h>

#include "rxdp.h"

#define RXDP_RX_DEPTH	256
/* packets the responder takes per run */
#define RXDP_RX_BUDGET	64

/*
 * The QP's state as a receive path sees it, without the wq locks: the
 * acquire pairs with the release in the modify, so that the responder
 * then sees what the modify to RTR set.
 */
static bool rxdp_rx_state_ok(struct rxdp_qp *qp)
{
	/* pairs with the smp_store_release() of the modify */
	return RXDP_QPS_RX_MASK & BIT(smp_load_acquire(&qp->state));
}

/* What qp_table's rx_bytes counts of a packet: BTH through ICRC. */
static u32 rxdp_rx_tp_len(const struct rxdp_rx_info *info)
{
	return info->hdr_len + info->payload_len + info->pad + IB_ICRC_BYTES;
}

/* The responder takes a packet.  Context: rx_lock held. */
static void rxdp_rx_deliver(struct rxdp_qp *qp, const struct rxdp_rx_info *info,
			    const struct rxdp_frame *fr, u32 gen)
{
	u32 len = rxdp_rx_tp_len(info);

	/* first: a completion the packet brings finds it counted */
	rxdp_stat_inc(qp->rdev, RXDP_CNT_RCVD_PKTS);
	rxdp_stat_add(qp->rdev, RXDP_CNT_RCVD_BYTES, len);
	rxdp_resp_packet(qp, info, fr, gen);
	atomic64_add(len, &qp->rx_bytes);
	atomic64_inc(&qp->rx_consumed);
}

/* A queued packet leaves the queue, taken or dropped (rxdp_resp_read_again()). */
static void rxdp_rx_uncount(struct rxdp_qp *qp, const struct rxdp_rx_pkt *pkt)
{
	if (pkt->read_again)
		atomic_dec(&qp->resp_read_again);
}

static void rxdp_rx_work(struct work_struct *work)
{
	struct rxdp_qp *qp = container_of(work, struct rxdp_qp, rx_work);
	struct rxdp_rx_pkt *pkt;
	int budget = RXDP_RX_BUDGET;

	spin_lock(&qp->rx_lock);
	/* no packet while a READ is served: its release lets them go on */
	while (budget && !smp_load_acquire(&qp->resp_read_pending) &&
	       (pkt = ptr_ring_consume(&qp->rx_ring))) {
		const struct rxdp_frame fr = { pkt->data, pkt->len };

		/* before: the READ it asks for again is not stopped for it */
		rxdp_rx_uncount(qp, pkt);
		rxdp_rx_deliver(qp, &pkt->info, &fr, pkt->gen);
		kfree(pkt);
		budget--;
	}
	/* one ACK for the batch (or one a READ held back) */
	rxdp_resp_batch_end(qp);
	spin_unlock(&qp->rx_lock);
	/* what the fast path took since the last run counts too */
	rxdp_maps_qp_counters(qp);
	/*
	 * The rest after the other work of this CPU; while the sender
	 * serves a READ, it runs this again when it is done.
	 */
	if (!budget)
		queue_work(system_bh_wq, &qp->rx_work);
}

static void rxdp_rx_pkt_free(void *pkt)
{
	kfree(pkt);
}

int rxdp_rx_init(struct rxdp_qp *qp)
{
	spin_lock_init(&qp->rx_lock);
	INIT_WORK(&qp->rx_work, rxdp_rx_work);
	return ptr_ring_init(&qp->rx_ring, RXDP_RX_DEPTH,
			     qp->is_user ? GFP_KERNEL_ACCOUNT : GFP_KERNEL);
}

/*
 * RESET: drop what was queued for the previous connection.  The state is
 * RESET already: a fast path that takes rx_lock from now on sees it.
 */
void rxdp_rx_drain(struct rxdp_qp *qp)
{
	struct rxdp_rx_pkt *pkt;

	/* one that took it before finishes first */
	spin_lock_bh(&qp->rx_lock);
	spin_unlock_bh(&qp->rx_lock);
	cancel_work_sync(&qp->rx_work);
	while ((pkt = ptr_ring_consume_bh(&qp->rx_ring))) {
		rxdp_rx_uncount(qp, pkt);
		kfree(pkt);
	}
}

/* Destroy: the responder stops; nothing produces any more. */
void rxdp_rx_stop(struct rxdp_qp *qp)
{
	cancel_work_sync(&qp->rx_work);
}

/* Destroy: nothing produces any more (no reference left). */
void rxdp_rx_cleanup(struct rxdp_qp *qp)
{
	cancel_work_sync(&qp->rx_work);
	/* its locks are taken with BH off everywhere else */
	local_bh_disable();
	ptr_ring_cleanup(&qp->rx_ring, rxdp_rx_pkt_free);
	local_bh_enable();
}

/*
 * Where the packet ends (BTH through ICRC, without the Ethernet padding a
 * short frame has), if @info describes a RoCEv2 packet that fits in a
 * frame of @len bytes; 0 if not.  The XDP program checked all this; the
 * module relies on it, so it checks again.
 */
static u32 rxdp_rx_check(const struct rxdp_rx_info *info, u32 len)
{
	u32 ip_min = info->flags & RXDP_RX_F_IPV6 ? sizeof(struct ipv6hdr) :
						    sizeof(struct iphdr);
	u32 end = (u32)info->payload_off + info->payload_len + info->pad +
		  IB_ICRC_BYTES;

	if ((u32)info->l3_off + ip_min + sizeof(struct udphdr) >
	    info->bth_off ||
	    info->hdr_len < IB_BTH_BYTES || info->pad > 3 ||
	    (u32)info->bth_off + info->hdr_len != info->payload_off ||
	    end > len)
		return 0;
	return end;
}

/**
 * rxdp_frame_piece - where a run of a frame's bytes is
 * @fr: the frame
 * @off: the run's first byte
 * @n: its length
 * @len: how many of its bytes from @off on are contiguous there (at most @n)
 *
 * Context: any.
 * Return: their address, or NULL (*len 0) for @off past the frame's end.
 */
const u8 *rxdp_frame_piece(const struct rxdp_frame *fr, u32 off, u32 n,
			   u32 *len)
{
	u32 i, nr = fr->sinfo ? min_t(u32, fr->sinfo->nr_frags,
				      MAX_SKB_FRAGS) : 0;

	if (off < fr->head) {
		*len = min(n, fr->head - off);
		return fr->data + off;
	}
	off -= fr->head;
	for (i = 0; fr->vec && i < fr->nr_vec; i++) {
		u32 size = fr->vec[i].iov_len;

		if (off < size) {
			*len = min(n, size - off);
			return (const u8 *)fr->vec[i].iov_base + off;
		}
		off -= size;
	}
	for (i = 0; i < nr; i++) {
		const skb_frag_t *frag = &fr->sinfo->frags[i];
		u32 size = skb_frag_size(frag);

		if (off < size) {
			*len = min(n, size - off);
			return (const u8 *)skb_frag_address(frag) + off;
		}
		off -= size;
	}
	*len = 0;
	return NULL;
}

/**
 * rxdp_pkt_write_mr - write payload bytes of a packet to memory of an MR
 * @mr: the MR, checked for [@va, @va + @n)
 * @va: where
 * @pkt: the packet
 * @off: the first payload byte
 * @n: how many
 *
 * Return: 0, or -EINVAL for bytes past the payload (none written) or
 * past the frame (those before them written).
 */
int rxdp_pkt_write_mr(struct rxdp_mr *mr, u64 va, const struct rxdp_pkt *pkt,
		      u32 off, u32 n)
{
	u32 at, k;

	if ((u64)off + n > pkt->paylen)
		return -EINVAL;
	for (at = 0; at < n; at += k) {
		const u8 *p = rxdp_pkt_piece(pkt, off + at, n - at, &k);

		if (!p)
			return -EINVAL;
		rxdp_mr_write(mr, va + at, p, k);
	}
	return 0;
}

/*
 * Does a packet from the link carry the right ICRC?  What fails is
 * counted here, and by the XDP program as a drop (-EBADMSG).
 */
static bool rxdp_rx_icrc_ok(struct rxdp_qp *qp, const struct rxdp_frame *fr,
			    u32 len, const struct rxdp_rx_info *info)
{
	if (rxdp_icrc_ok(fr, len, info))
		return true;
	rxdp_stat_inc(qp->rdev, RXDP_CNT_RCVD_ICRC_ERR);
	return false;
}

/*
 * Copy the first len bytes of the frame, fragments included, to dst.
 * Return: false if the fragments hold fewer than the frame's length says.
 */
static bool rxdp_rx_copy(u8 *dst, const struct rxdp_frame *fr, u32 len)
{
	u32 n, k;

	for (n = 0; n < len; n += k) {
		const u8 *p = rxdp_frame_piece(fr, n, len - n, &k);

		if (!p)
			return false;
		memcpy(dst + n, p, k);
	}
	return true;
}

/*
 * Queue a packet for the responder of a QP (referenced); the queue owns
 * it on success.  Context: BH disabled.  Return: 0, -EINVAL when the QP
 * does not receive, -ENOSPC when its queue is full.
 */
static int rxdp_rx_queue(struct rxdp_qp *qp, struct rxdp_rx_pkt *pkt)
{
	/*
	 * The module, not the map, is the authority on the QP's state.  A
	 * RESET may come between this check and the ring, and its drain
	 * before the packet: the incarnation read first tells the
	 * responder the packet is not the next connection's.
	 */
	pkt->gen = READ_ONCE(qp->rx_gen);
	/* the incarnation before the state; pairs with rxdp_qp_reset() */
	smp_rmb();
	if (!rxdp_rx_state_ok(qp))
		return -EINVAL;
	if (ptr_ring_produce(&qp->rx_ring, pkt)) {
		atomic64_inc(&qp->rx_full);
		rxdp_stat_inc(qp->rdev, RXDP_CNT_RX_FULL);
		return -ENOSPC;
	}
	atomic64_inc(&qp->rx_packets);
	queue_work(system_bh_wq, &qp->rx_work);
	return 0;
}

/* Is nothing queued, or held back, ahead of a new packet?  Under rx_lock. */
static bool rxdp_rx_nothing_ahead(struct rxdp_qp *qp)
{
	/* pairs with the release that ends rxdp_resp_read_serve() */
	return !smp_load_acquire(&qp->resp_read_pending) &&
	       ptr_ring_empty(&qp->rx_ring);
}

/*
 * The fast path: the responder takes the packet from the frame, unless
 * another CPU is in it, or packets (or a READ being served) are ahead of
 * this one.  Return: 0, -EINVAL when the QP does not receive, -EAGAIN
 * when the packet must be queued.
 */
static int rxdp_rx_now(struct rxdp_qp *qp, const struct rxdp_frame *fr,
		       const struct rxdp_rx_info *info)
{
	int err = -EAGAIN;
	u32 gen;

	/* XDP, a test run of it and rxdp_rx_local() come with BH disabled */
	if (!spin_trylock(&qp->rx_lock))
		return -EAGAIN;
	/* the state under rx_lock: a RESET's drain waits for this one */
	gen = READ_ONCE(qp->rx_gen);
	/* the incarnation before the state; pairs with rxdp_qp_reset() */
	smp_rmb();
	if (!rxdp_rx_state_ok(qp)) {
		err = -EINVAL;
	} else if (rxdp_rx_nothing_ahead(qp)) {
		atomic64_inc(&qp->rx_packets);
		rxdp_rx_deliver(qp, info, fr, gen);
		/*
		 * The batch's ACK and counters, once this CPU's packets are
		 * done; queued under the lock, so that a RESET's drain
		 * cancels it.
		 */
		queue_work(system_bh_wq, &qp->rx_work);
		err = 0;
	}
	spin_unlock(&qp->rx_lock);
	return err;
}

/*
 * Copy a packet the responder cannot take now onto the QP's queue,
 * checking its ICRC on the copy if check.  Context: BH disabled.  Return:
 * as rxdp_rx_enqueue().
 */
static int rxdp_rx_copy_queue(struct rxdp_qp *qp, const struct rxdp_frame *fr,
			      const struct rxdp_rx_info *info, u32 len,
			      bool check)
{
	struct rxdp_rx_pkt *pkt;
	int err;

	if (ptr_ring_full(&qp->rx_ring)) {
		atomic64_inc(&qp->rx_full);
		rxdp_stat_inc(qp->rdev, RXDP_CNT_RX_FULL);
		return -ENOSPC;
	}
	/* a remote sender must not fill the log: the sender retransmits */
	pkt = kmalloc(struct_size(pkt, data, len), GFP_ATOMIC | __GFP_NOWARN);
	if (!pkt)
		return -ENOMEM;
	pkt->info = *info;
	pkt->len = len;
	if (!rxdp_rx_copy(pkt->data, fr, len)) {
		kfree(pkt);
		return -EINVAL;
	}
	if (check &&
	    !rxdp_rx_icrc_ok(qp, &(const struct rxdp_frame){ pkt->data, len },
			     len, info)) {
		kfree(pkt);
		return -EBADMSG;
	}
	/* counted first: a READ being served stops for it */
	pkt->read_again = rxdp_resp_read_again(qp, pkt->data + info->bth_off);
	err = rxdp_rx_queue(qp, pkt);
	if (err) {
		rxdp_rx_uncount(qp, pkt);
		kfree(pkt);
		return err;
	}
	atomic64_inc(&qp->rx_copied);
	return 0;
}

/* The XDP frame as a struct rxdp_frame; its length as rxdp_rx_check(). */
static u32 rxdp_rx_frame(struct xdp_buff *xdp, const struct rxdp_rx_info *info,
			 struct rxdp_frame *fr)
{
	u32 len = rxdp_rx_check(info, xdp_get_buff_len(xdp));

	fr->data = xdp->data;
	fr->head = min_t(u32, len, xdp->data_end - xdp->data);
	fr->sinfo = xdp_buff_has_frags(xdp) ?
		    xdp_get_shared_info_from_buff(xdp) : NULL;
	return len;
}

/**
 * rxdp_rx_check_icrc - check a steered packet once for all its QPs
 * @xdp: the frame
 * @info: the steer kfunc's copy of what XDP found; marked checked here
 *
 * For a packet that goes to several QPs (multicast): the frame must hold
 * what @info says, with its headers in the first piece (as XDP takes
 * them), and its ICRC, if the module is to check it, is checked here, so
 * that rxdp_rx_enqueue() does not check it again for each QP.
 * Context: softirq (XDP).
 * Return: 0, -EINVAL, or -EBADMSG for a bad ICRC.
 */
int rxdp_rx_check_icrc(struct xdp_buff *xdp, struct rxdp_rx_info *info)
{
	struct rxdp_frame fr;
	u32 len;

	len = rxdp_rx_frame(xdp, info, &fr);
	if (!len || info->payload_off > fr.head)
		return -EINVAL;
	if (!(info->flags & RXDP_RX_F_ICRC_CHECK))
		return 0;
	if (!rxdp_icrc_ok(&fr, len, info))
		return -EBADMSG;
	info->flags &= ~RXDP_RX_F_ICRC_CHECK;
	info->flags |= RXDP_RX_F_ICRC_OK;
	return 0;
}

/**
 * rxdp_rx_enqueue - hand a packet XDP steered to a QP
 * @qp: the QP, referenced
 * @xdp: the frame
 * @info: what the XDP program found in it, in kernel memory that nothing
 *	else writes (the steer kfunc's copy)
 *
 * The ICRC, when @info asks the module to check it, is checked before
 * anything of the packet takes effect.
 * Context: softirq (XDP).
 * Return: 0, -ENOSPC when the queue is full, -EBADMSG for a bad ICRC,
 * -EINVAL for a frame that does not hold what @info says or a QP that
 * does not receive, -ENOMEM.
 */
int rxdp_rx_enqueue(struct rxdp_qp *qp, struct xdp_buff *xdp,
		    const struct rxdp_rx_info *info)
{
	bool check = info->flags & RXDP_RX_F_ICRC_CHECK;
	struct rxdp_frame fr;
	u32 len;
	int err;

	len = rxdp_rx_frame(xdp, info, &fr);
	if (!len)
		return -EINVAL;
	/* checked, and taken, where it is: its headers in the first piece */
	if (info->payload_off <= fr.head) {
		if (check && !rxdp_rx_icrc_ok(qp, &fr, len, info))
			return -EBADMSG;
		check = false;
		err = rxdp_rx_now(qp, &fr, info);
		if (err != -EAGAIN)
			return err;
	}
	return rxdp_rx_copy_queue(qp, &fr, info, len, check);
}

/*
 * The frame of a device to itself on this CPU: it is being handed to a
 * responder, so a frame sent from there is queued rather than handed
 * over in turn, and a requester kicked from there runs later.
 */
static DEFINE_PER_CPU(bool, rxdp_rx_local_busy);

/**
 * rxdp_rx_in_local - is this CPU handing a frame of the device to itself
 * to a responder?
 *
 * Context: any.
 */
bool rxdp_rx_in_local(void)
{
	return this_cpu_read(rxdp_rx_local_busy);
}

/**
 * rxdp_rx_local - hand a frame a device sends to itself to one of its QPs
 * @qp: the QP, referenced
 * @fr: the frame, in the sender's memory, which holds still for the call
 * @info: what is in it, as XDP would have found it
 * @len: its length, through the ICRC (which is not there to check)
 *
 * The responder takes it in the call, as it takes a frame from XDP, when
 * no other CPU is in it and nothing is ahead of it; else it is copied
 * onto the QP's queue.  Not from a responder this call runs: what that
 * sends is queued, so that nothing recurses.
 * Context: any but hard irq, with IRQs on.
 * Return: as rxdp_rx_enqueue().
 */
int rxdp_rx_local(struct rxdp_qp *qp, const struct rxdp_frame *fr,
		  const struct rxdp_rx_info *info, u32 len)
{
	int err = -EAGAIN;

	if (rxdp_rx_check(info, len) != len || info->payload_off > fr->head)
		return -EINVAL;
	local_bh_disable();
	if (!this_cpu_read(rxdp_rx_local_busy)) {
		this_cpu_write(rxdp_rx_local_busy, true);
		err = rxdp_rx_now(qp, fr, info);
		this_cpu_write(rxdp_rx_local_busy, false);
	}
	if (err == -EAGAIN)
		err = rxdp_rx_copy_queue(qp, fr, info, len, false);
	local_bh_enable();
	return err;
}

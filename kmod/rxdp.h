/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rxdp: a software RoCEv2 device whose receive fast path runs in XDP.
 *
 * Core structures shared by every file of the module.
 */
#ifndef RXDP_H
#define RXDP_H

#include <linux/if_vlan.h>
#include <linux/ipv6.h>
#include <linux/list.h>
#include <linux/netdevice.h>
#include <linux/udp.h>
#include <linux/ptr_ring.h>
#include <linux/rhashtable-types.h>
#include <linux/timer.h>
#include <linux/xarray.h>
#include <rdma/ib_verbs.h>
#include <rdma/rdma_user_rxe.h>

#include "../include/uapi/rxdp.h"
#include "rxdp_queue.h"
#include "rxdp_qpn.h"

#define RXDP_PORT		1
#define RXDP_VENDOR_ID		0xffffff
#define RXDP_GID_TBL_LEN	1024
#define RXDP_PKEYS	1
#define RXDP_MAX_MSG_SZ		0x80000000u
#define RXDP_UVERBS_ABI_VERSION	2	/* the rxe userspace ABI */
#define RXDP_MAX_MR_SIZE	BIT_ULL(40)
#define RXDP_MAX_QP_DEFAULT	RXDP_QPN_MAX_QPS
#define RXDP_MAX_QP_WR		0x4000
#define RXDP_MAX_SGE		32
#define RXDP_MAX_CQ		0x4000
/* the largest CQ ring is 8 MiB, the largest QP's two rings 64 MiB */
#define RXDP_MAX_CQE		((1 << 16) - 1)
#define RXDP_MAX_MR		0x40000
#define RXDP_MAX_MW		0x40000
/* pages a fast-registration MR can map (max_fast_reg_page_list_len) */
#define RXDP_MAX_FAST_PAGES	512
#define RXDP_MAX_PD		0x10000
#define RXDP_MAX_AH		0x8000
#define RXDP_MAX_SRQ		0x4000
/* multicast groups (RXDP_MAX_MCAST_GRP), QPs per group, attachments in all */
#define RXDP_MAX_MCAST_QP_ATTACH 64
#define RXDP_MAX_MCAST_ATTACH	8192
#define RXDP_MAX_RD_ATOMIC	128
#define RXDP_MAX_INLINE		512
/* atomics a responder remembers the results of (a power of 2) */
#define RXDP_RESP_ATOMICS	16

extern unsigned int rxdp_max_qp;

struct rxdp_maps;

/*
 * The transport counters of a device (rxdp_stats.c); XDP has its own.
 * rdma_rxe's first, in its order, then rxdp's.
 */
enum rxdp_tp_counter {
	RXDP_CNT_SENT_PKTS,
	RXDP_CNT_RCVD_PKTS,
	RXDP_CNT_DUP_REQ,
	RXDP_CNT_OUT_OF_SEQ_REQ,
	RXDP_CNT_RCV_RNR,
	RXDP_CNT_SND_RNR,
	RXDP_CNT_RCV_SEQ_ERR,
	RXDP_CNT_ANSWERS,
	RXDP_CNT_RETRY_EXCEEDED,
	RXDP_CNT_RNR_RETRY_EXCEEDED,
	RXDP_CNT_COMP_RETRY,
	RXDP_CNT_SEND_ERR,
	RXDP_CNT_LINK_DOWNED,
	RXDP_CNT_SENDS_DONE,
	RXDP_CNT_RECVS_DONE,
	RXDP_CNT_ACK_TIMEOUT,
	RXDP_CNT_TX_WAIT,
	RXDP_CNT_RX_FULL,
	RXDP_CNT_FLUSH_PERSISTED,
	RXDP_CNT_SENT_BYTES,
	RXDP_CNT_RCVD_BYTES,
	RXDP_CNT_RESENT_PKTS,
	RXDP_CNT_RCVD_ICRC_ERR,
	RXDP_CNT_NUM
};

struct rxdp_stats {
	u64			c[RXDP_CNT_NUM];
};

struct rxdp_dev {
	struct ib_device	ib_dev;		/* first: ib_alloc_device() */
	struct ib_device_attr	attr;
	/*
	 * The netdev.  Not registered with ib_device_set_netdev(): rdma_rxe
	 * looks devices of its driver id up by netdev and would take rxdp's
	 * for its own.  The RDMA core asks rxdp_get_netdev() instead.
	 * Written under rxdp_devices_lock, cleared when the netdev
	 * unregisters (kept when it moves to another network namespace).
	 */
	struct net_device __rcu	*ndev;
	struct list_head	list;		/* on rxdp_devices, RCU */
	struct list_head	reap;		/* on rxdp_reaped, once dealloc'd */
	struct hlist_node	hnode;		/* rxdp_by_netdev, RCU */
	bool			registered;	/* ib_register_device() done */
	enum ib_port_state	port_state;	/* last state reported */
	atomic_t		num_ucontext;
	atomic_t		num_pd;
	atomic_t		num_cq;
	atomic_t		num_srq;
	atomic_t		num_mr;
	atomic_t		num_mw;
	atomic64_t		next_qp_serial;

	struct rxdp_qpn_table	qpn;		/* QP numbers and lookup */
	struct xarray		mrs;		/* MR index (key >> 8) -> mr */
	u32			next_mr;
	/*
	 * MW index (key >> 8, with RXDP_KEY_MW set) -> mw.  Its lock guards
	 * every window's binding, and a lookup holds it while it uses one:
	 * the RDMA core frees an MW without a grace period.
	 */
	struct xarray		mws;
	u32			next_mw;
	struct xarray		ahs;		/* ah_num -> ah, irq-safe lock */
	u32			next_ah;
	atomic_t		next_srq;
	struct dentry		*debugfs;
	struct rxdp_stats __percpu *stats;
	struct rxdp_tx_dev	*tx;		/* its frames in the stack */

	/* RoCEv2 GIDs by table index, for the XDP program's gid_table */
	struct xarray		gids;		/* under maps_lock */

	/* UD multicast groups (rxdp_mcast.c), RCU; mcast_lock inside RTNL */
	struct rhashtable	mcgs;
	struct mutex		mcast_lock;	/* changes to mcgs, counts */
	unsigned int		num_mcg;
	unsigned int		num_mca;

	/* the XDP program's QP table, once the loader bound it */
	struct mutex		maps_lock;	/* replacing maps; gids */
	struct rxdp_maps __rcu	*maps;
};

struct rxdp_ucontext {
	struct ib_ucontext	ibuc;
};

struct rxdp_pd {
	struct ib_pd		ibpd;
};

/*
 * What goes before the BTH of every packet to one destination: Ethernet
 * (with an 802.1Q tag on a VLAN), IPv4 or IPv6, UDP.  Built once per
 * address vector; per packet only the lengths, the IPv4 checksum and the
 * UDP source port of UD are written.
 */
#define RXDP_PATH_HDR_MAX	(VLAN_ETH_HLEN + sizeof(struct ipv6hdr) + \
				 sizeof(struct udphdr))

struct rxdp_path {
	u8			hdr[RXDP_PATH_HDR_MAX];
	u8			len;		/* bytes of hdr used */
	u8			l3_off;		/* the IP header in hdr */
	bool			ipv6;
	bool			loopback;	/* to this device itself */
	u32			flow_label;	/* UD: makes the source port */
};

/*
 * The frames of all of a device's QPs in the network stack.  Each QP's
 * own cap keeps one QP from filling the device's queue, but many QPs
 * together would still overflow it (a veth's ring holds 256 and drops
 * the rest): past the device's cap a QP waits on the list, and the QPs
 * on it go on, in order, once half the device's frames are freed.  Held
 * by the device and by each QP's context, so that it outlives the last
 * frame.
 */
struct rxdp_tx_dev {
	refcount_t		ref;
	atomic_t		inflight;
	spinlock_t		lock;		/* waiters */
	struct list_head	waiters;	/* of rxdp_tx_ctx, FIFO */
};

/* frames a device may have in the stack, below a veth's ring of 256 */
#define RXDP_TX_DEV_MAX_INFLIGHT	192

/*
 * The frames a QP has in the network stack, counted from dev_queue_xmit()
 * until the skb is freed (for veth: once the peer's XDP took it).  It
 * outlives the QP until its last frame is freed; the QP pointer goes first.
 */
struct rxdp_tx_ctx {
	refcount_t		ref;		/* the QP's and one per frame */
	atomic_t		inflight;
	unsigned long		waiting;	/* bit 0: the requester waits */
	struct rxdp_qp __rcu	*qp;
	struct rxdp_tx_dev	*dev;
	struct list_head	wait;		/* on dev->waiters, its lock */
};

/* frames a QP may have in the stack */
#define RXDP_TX_MAX_INFLIGHT	64

struct rxdp_ah {
	struct ib_ah		ibah;
	u32			ah_num;
	struct rdma_ah_attr	attr;
	struct rxdp_path	path;
};

struct rxdp_cq {
	struct ib_cq		ibcq;
	spinlock_t		lock;		/* the ring and notify */
	struct rxdp_queue	q;
	bool			is_user;
	u8			notify;		/* armed: IB_CQ_SOLICITED(_MASK) */
	bool			overflowed;
	/* the completion handler runs here, never under a QP lock */
	struct work_struct	comp_work;
};

/* The index of an MW's key has this bit, an MR's not (rxdp_mr.c). */
#define RXDP_KEY_MW		BIT(23)

static inline bool rxdp_key_is_mw(u32 key)
{
	return (key >> 8) & RXDP_KEY_MW;
}

enum rxdp_mr_kind {
	RXDP_MR_DMA,		/* kernel addresses, all of them */
	RXDP_MR_USER,		/* pinned user pages */
	RXDP_MR_FAST,		/* kernel pages, mapped and registered by a WR */
};

struct rxdp_mr {
	struct ib_mr		ibmr;
	enum rxdp_mr_kind	kind;
	struct ib_umem		*umem;		/* USER */
	struct page		**pages;	/* umem's, in order */
	size_t			npages;		/* USER; FAST: registered */
	refcount_t		ref;		/* writers; dereg drops the first */
	struct completion	done;		/* the last writer is gone */
	/*
	 * What a key may reach: written at registration, for FAST by the
	 * REG_MR work request under lock, with valid set last (release).
	 */
	u64			iova;
	u64			length;
	int			access;
	bool			valid;		/* FAST: registered, not invalid */
	u32			key;		/* lkey = rkey; not ibmr's, a ULP's */
	u32			index;
	atomic_t		num_mw;		/* windows bound to it */
	bool			retired;	/* no bind: leaving the key table */
	/*
	 * FAST: the page addresses registered, and their size; and those the
	 * last map_mr_sg gave, which the next REG_MR registers (a ULP maps
	 * the next registration while the one before is still valid)
	 */
	u64			*fast_pages;
	u64			*fast_map;
	u32			fast_max;	/* room in each */
	u32			fast_n;		/* mapped by the last map_mr_sg */
	u32			fast_shift;	/* registered page size, log2 */
	u32			fast_off;	/* of iova in its first page */
	u32			fast_map_off;	/* that, as last mapped */
	spinlock_t		lock;		/* FAST: registration, invalidation */
};

/*
 * A memory window: type 1 is bound by ibv_bind_mw() and stays valid
 * (bound with no length: reaching nothing), type 2 is bound by a WR on a
 * QP, through which alone it is reached, and invalidated back to free.
 * Its binding is under the device's mws lock.
 */
struct rxdp_mw {
	struct ib_mw		ibmw;
	u32			index;
	bool			bound;		/* type 2: else free */
	struct rxdp_mr		*mr;		/* NULL: reaches nothing */
	u64			addr;
	u64			length;
	int			access;
	u64			qp_serial;	/* type 2: the QP bound through */
};

struct rxdp_srq {
	struct ib_srq		ibsrq;
	spinlock_t		lock;		/* the ring and limit */
	struct rxdp_queue	q;
	bool			is_user;
	u32			max_sge;
	u32			limit;
};

/* A work queue: the SQ or RQ of a QP. */
struct rxdp_wq {
	spinlock_t		lock;		/* the ring; the QP state */
	struct rxdp_queue	q;
	u32			max_wr;
	u32			max_sge;
	u32			max_inline;	/* SQ only */
	/*
	 * SQ only: the WQEs from q.cons to next are being sent, those from
	 * next to seen are checked and wait for the requester.
	 */
	u32			seen;
	u32			next;
	/*
	 * Its slot + 1 (1 for the RQ's held WQE) while the requester reads
	 * a send WQE's memory, or the responder writes the held receive
	 * WQE's, without the lock; else 0.  See rxdp_wq_wait_idle().
	 */
	u32			busy;
};

/**
 * rxdp_wq_wait_idle - wait until nobody uses a WQE's memory any more
 * @wq: its work queue, locked
 * @mark: what its user set wq->busy to
 *
 * The memory of a WQE is its poster's again once the WQE completes: a ULP
 * may free a buffer on its flush completion.  The requester and the
 * responder use that memory without the queue's lock, for one packet's
 * copy, with IRQs off (so an interrupt that posts to the QP, and spins on
 * the lock the waiter holds, cannot come in between), and whoever else
 * completes the WQE waits here first.  The mark is set under the lock
 * (or, for the RQ, with a barrier against the held WQE's release), so no
 * new one can appear meanwhile.
 */
static inline void rxdp_wq_wait_idle(struct rxdp_wq *wq, u32 mark)
{
	smp_cond_load_acquire(&wq->busy, VAL != mark);
}

enum {
	RXDP_QP_COMM_EST,	/* the communication-established event was raised */
	RXDP_QP_SQ_BAD,		/* a bad WQE was posted: the doorbell stops */
	RXDP_QP_DYING,		/* being destroyed: nothing kicks another */
};

struct rxdp_qp {
	struct ib_qp		ibqp;
	struct rxdp_dev		*rdev;
	struct rxdp_qp_anchor	*anchor;	/* what the QPN table finds */
	struct completion	done;		/* the anchor's last ref is gone */
	struct mutex		modify_lock;	/* modify, reset, destroy */
	enum ib_qp_state	state;		/* written under both wq locks */
	struct ib_qp_attr	attr;		/* as last modified */
	enum ib_sig_type	sq_sig_type;
	bool			is_user;
	u64			serial;		/* never reused, unlike qp_num */
	struct rxdp_wq		sq;
	/*
	 * A user QP's send WQEs as the doorbell checked them, slot for slot:
	 * what user space writes into its ring afterwards changes nothing.
	 */
	void			*sq_shadow;
	struct rxdp_wq		rq;		/* unused with an SRQ */
	struct rxdp_cq		*scq;
	struct rxdp_cq		*rcq;
	struct rxdp_srq		*srq;
	unsigned long		flags;		/* RXDP_QP_* bits */
	pid_t			owner;		/* creator's pid, 0 for kernel */
	char			comm[TASK_COMM_LEN];

	/* RC/UC: the headers of every packet to the peer, from RTR on */
	struct rxdp_path	path;
	struct rxdp_tx_ctx	*tx;

	/*
	 * The requester: one runs at a time, inline or from the runner.
	 * What it shares with the completer is under sq.lock: the WQE at
	 * sq.next is sent from req_offset with req_psn next; req_gen counts
	 * the times the completer moved that point (a retransmission).
	 */
	spinlock_t		req_lock;
	struct work_struct	req_work;	/* the send runner, BH */
	void			*req_wqe;	/* the WQE being sent, a copy */
	u32			req_wqe_idx;	/* its slot, while req_wqe_gen */
	u32			req_wqe_gen;	/* == req_gen: req_wqe is good */
	u32			req_psn;	/* the next PSN to send */
	u32			req_offset;
	u32			req_gen;
	u32			req_rd_atomic;	/* READs/atomics from cons to next */
	u32			req_sent_psn;	/* after the highest PSN sent */
	u32			req_fresh_psn;	/* the first PSN of a new WQE */
	u32			req_noack;	/* packets since the last AckReq */
	u32			req_window;	/* PSNs it may send past comp_psn */
	bool			req_rnr_wait;	/* the RNR timer runs */
	bool			sqd_notify_due;	/* SQ_DRAINED once drained */

	/* the completer: the oldest PSN not acknowledged */
	u32			comp_psn;
	u32			comp_rewound;	/* comp_psn when it last went back */
	bool			comp_has_rewound;
	u32			rnr_left;

	/* the responder (RC/UC) */
	u32			resp_psn;	/* expected */
	u32			resp_msn;
	u8			resp_op;	/* last opcode of the message */
	bool			resp_nak_sent;	/* a sequence NAK for resp_psn */
	bool			resp_drop;	/* UC: skip to the next message */
	bool			resp_ack_due;	/* an ACK when the batch ends */
	bool			resp_wqe_held;	/* resp_wqe taken, not complete */
	struct rxe_recv_wqe	*resp_wqe;	/* a copy of the WQE a SEND fills */
	u32			resp_recv_off;	/* bytes of the SEND so far */
	struct {
		u64		va;
		u32		rkey;
		u32		resid;		/* bytes the RETH still allows */
		u32		len;		/* of the whole write */
	}			resp_write;
	/* the last atomics executed, by PSN, to answer a duplicate again */
	struct {
		u32		psn;
		bool		valid;
		u64		orig;
	}			resp_atomic[RXDP_RESP_ATOMICS];
	/*
	 * the READ whose responses the sender sends, while pending, or the
	 * persistent FLUSH whose write-back it does before its answer
	 */
	bool			resp_read_pending;
	/* READ requests queued that ask again for what was asked before */
	atomic_t		resp_read_again;
	u32			resp_read_again_psn;	/* the last one's */
	struct {
		u64		va;
		u32		rkey;
		bool		persist;	/* a FLUSH's write-back */
		bool		dup;		/* a READ asked for again */
		u64		len;
		u64		off;		/* of the next response */
		u32		psn;		/* of the first response */
		u32		n;		/* responses in all */
		u32		i;		/* the next one */
		u32		msn;
		u32		gen;		/* rx_gen it was taken in */
	}			resp_read;

	/* requester timers; they hand over to the transport */
	struct timer_list	retry_timer;
	struct timer_list	rnr_timer;
	u32			retries_left;

	/* packets steered here by XDP, for the responder */
	spinlock_t		rx_lock;	/* the responder: one at a time */
	u32			rx_gen;		/* incarnation: RESET adds one */
	struct ptr_ring		rx_ring;
	struct work_struct	rx_work;
	atomic64_t		rx_packets;	/* steered here */
	atomic64_t		rx_consumed;	/* taken by the responder */
	atomic64_t		rx_copied;	/* queued, off the fast path */
	atomic64_t		rx_bytes;	/* theirs, BTH to ICRC */
	atomic64_t		rx_full;
	atomic64_t		rx_dropped;	/* by the responder */
};

/*
 * A packet on a QP's receive queue, copied out of its frame because the
 * responder could not take it at once: the frame and what XDP found.
 */
struct rxdp_rx_pkt {
	struct rxdp_rx_info	info;
	u32			gen;		/* the QP's rx_gen it came in */
	u32			len;		/* to the end of the ICRC */
	bool			read_again;	/* counted in resp_read_again */
	u8			data[];
};

/*
 * A received frame: its first piece, and the fragments that follow it in
 * a multi-buffer XDP frame (the driver's memory, only read), or the
 * pieces of the sender's memory a frame of the device to itself is made
 * of (see rxdp_loopback.c).
 */
struct rxdp_frame {
	u8				*data;
	u32				head;	/* bytes at data */
	const struct skb_shared_info	*sinfo;	/* NULL: no fragments */
	const struct kvec		*vec;	/* or, if not NULL, these */
	u32				nr_vec;
};

/*
 * A received packet as the transport sees it, handed from the receive
 * queue to the responder or the completer: where its headers and payload
 * are, and what they say that every step needs.
 */
struct rxdp_pkt {
	const struct rxdp_rx_info *info;
	const struct rxdp_frame	*fr;
	const u8		*bth;		/* in the frame's first piece */
	u32			paylen;		/* at info->payload_off */
	u32			psn;
	u8			opcode;
};

/* AETH syndromes (IBA 9.7.5.1.1) */
#define RXDP_AETH_ACK		0x1f	/* ACK, credits not used */
#define RXDP_AETH_TYPE(s)	((s) >> 5)
#define RXDP_AETH_TYPE_ACK	0
#define RXDP_AETH_TYPE_RNR	1
#define RXDP_AETH_TYPE_NAK	3
#define RXDP_AETH_RNR(t)	(0x20 | ((t) & 0x1f))
#define RXDP_AETH_NAK_PSN	0x60
#define RXDP_AETH_NAK_INV	0x61
#define RXDP_AETH_NAK_ACCESS	0x62
#define RXDP_AETH_NAK_OP	0x63

/* PSNs a requester may have sent and not had acknowledged */
#define RXDP_MAX_UNACKED_PSNS	128
/* the window after a timeout; it grows with what is acknowledged */
#define RXDP_MIN_WINDOW		8
/* no PSN in flight is further than this from the oldest one */
#define RXDP_PSN_REACH		BIT(23)

/* rxe_send_wqe.state, as rxdp uses it */
#define RXDP_WQE_STARTED	1	/* first_psn and last_psn are set */
#define RXDP_WQE_LOCAL_DONE	2	/* a local operation, executed */

/* Has the requester sent packets the peer did not acknowledge yet? */
static inline bool rxdp_req_in_flight(const struct rxdp_qp *qp)
{
	return qp->comp_psn != qp->req_sent_psn;
}

static inline struct rxdp_dev *to_rdev(struct ib_device *ibdev)
{
	return container_of(ibdev, struct rxdp_dev, ib_dev);
}

static inline struct rxdp_pd *to_rpd(struct ib_pd *ibpd)
{
	return container_of(ibpd, struct rxdp_pd, ibpd);
}

static inline struct rxdp_cq *to_rcq(struct ib_cq *ibcq)
{
	return ibcq ? container_of(ibcq, struct rxdp_cq, ibcq) : NULL;
}

static inline struct rxdp_srq *to_rsrq(struct ib_srq *ibsrq)
{
	return ibsrq ? container_of(ibsrq, struct rxdp_srq, ibsrq) : NULL;
}

static inline struct rxdp_qp *to_rqp(struct ib_qp *ibqp)
{
	return container_of(ibqp, struct rxdp_qp, ibqp);
}

static inline struct rxdp_mr *to_rmr(struct ib_mr *ibmr)
{
	return container_of(ibmr, struct rxdp_mr, ibmr);
}

static inline struct rxdp_mw *to_rmw(struct ib_mw *ibmw)
{
	return container_of(ibmw, struct rxdp_mw, ibmw);
}

static inline struct rxdp_ah *to_rah(struct ib_ah *ibah)
{
	return container_of(ibah, struct rxdp_ah, ibah);
}

/* rxdp_dev.c: device attributes, registration and removal */
int rxdp_dev_add(const char *name, struct net_device *ndev);
void rxdp_dev_remove_all(void);
void rxdp_dev_netdev_event(struct net_device *ndev, unsigned long event);
struct rxdp_dev *rxdp_dev_get_by_netdev(struct net_device *ndev);
struct rxdp_dev *rxdp_dev_find_rcu(const struct net_device *ndev);
bool rxdp_dev_uses_map(struct rxdp_dev *rdev, struct bpf_map *map);
struct net_device *rxdp_get_netdev(struct ib_device *ibdev, u32 port);
enum ib_mtu rxdp_active_mtu(struct net_device *ndev);

/* rxdp_net.c: following the netdev */
void rxdp_port_update(struct rxdp_dev *rdev, struct net_device *ndev);
int rxdp_net_init(void);
void rxdp_net_exit(void);

/* rxdp_verbs.c: the verbs entry points */
extern const struct ib_device_ops rxdp_dev_ops;
extern const struct ib_device_ops rxdp_stats_ops;

int rxdp_stats_init(struct rxdp_dev *rdev);
void rxdp_stats_free(struct rxdp_dev *rdev);
u64 rxdp_stat_read(struct rxdp_dev *rdev, enum rxdp_tp_counter c);

static inline void rxdp_stat_add(struct rxdp_dev *rdev, enum rxdp_tp_counter c,
				 u64 n)
{
	this_cpu_add(rdev->stats->c[c], n);
}

static inline void rxdp_stat_inc(struct rxdp_dev *rdev, enum rxdp_tp_counter c)
{
	this_cpu_inc(rdev->stats->c[c]);
}

/* rxdp_cq.c */
int rxdp_create_cq(struct ib_cq *ibcq, const struct ib_cq_init_attr *attr,
		   struct uverbs_attr_bundle *attrs);
int rxdp_resize_cq(struct ib_cq *ibcq, int cqe, struct ib_udata *udata);
int rxdp_destroy_cq(struct ib_cq *ibcq, struct ib_udata *udata);
int rxdp_poll_cq(struct ib_cq *ibcq, int num, struct ib_wc *wc);
int rxdp_req_notify_cq(struct ib_cq *ibcq, enum ib_cq_notify_flags flags);
int rxdp_cq_post(struct rxdp_cq *cq, const struct ib_wc *wc, bool solicited);

/* rxdp_mr.c */
struct ib_mr *rxdp_get_dma_mr(struct ib_pd *ibpd, int access);
struct ib_mr *rxdp_reg_user_mr(struct ib_pd *ibpd, u64 start, u64 length,
			       u64 iova, int access, struct ib_udata *udata);
int rxdp_dereg_mr(struct ib_mr *ibmr, struct ib_udata *udata);
int rxdp_check_sge(struct rxdp_dev *rdev, struct ib_pd *pd, u32 lkey,
		   u64 addr, u32 length, int access);
struct rxdp_mr *rxdp_mr_get(struct rxdp_dev *rdev, struct ib_pd *pd,
			    u32 lkey, u64 addr, u64 length, int access);
void rxdp_mr_put(struct rxdp_mr *mr);
void rxdp_mr_write(struct rxdp_mr *mr, u64 addr, const void *src,
		   u32 length);
void rxdp_mr_read(struct rxdp_mr *mr, u64 addr, void *dst, u32 length);
void *rxdp_mr_piece(struct rxdp_mr *mr, u64 addr, u32 n, u32 *len);
int rxdp_mr_persist(struct rxdp_mr *mr, u64 addr, u64 length);
void rxdp_mr_init(struct rxdp_dev *rdev);
void rxdp_mr_cleanup(struct rxdp_dev *rdev);
struct ib_mr *rxdp_alloc_mr(struct ib_pd *ibpd, enum ib_mr_type type,
			    u32 max_num_sg);
int rxdp_map_mr_sg(struct ib_mr *ibmr, struct scatterlist *sg, int sg_nents,
		   unsigned int *sg_offset);
struct ib_mr *rxdp_rereg_user_mr(struct ib_mr *ibmr, int flags, u64 start,
				 u64 length, u64 iova, int access,
				 struct ib_pd *ibpd, struct ib_udata *udata);
int rxdp_mr_fast_reg(struct rxdp_qp *qp, const struct rxe_send_wqe *wqe);
int rxdp_mr_invalidate(struct rxdp_qp *qp, u32 key);
struct rxdp_mr *rxdp_mr_find_rcu(struct rxdp_dev *rdev, u32 key);
bool rxdp_key_is_fast_mr(struct rxdp_dev *rdev, u32 key);

/* rxdp_mw.c: memory windows */
int rxdp_alloc_mw(struct ib_mw *ibmw, struct ib_udata *udata);
int rxdp_dealloc_mw(struct ib_mw *ibmw);
int rxdp_mw_bind(struct rxdp_qp *qp, const struct rxe_send_wqe *wqe);
int rxdp_mw_invalidate(struct rxdp_qp *qp, u32 rkey, bool remote);
struct rxdp_mr *rxdp_mw_get_mr(struct rxdp_qp *qp, u32 rkey, u64 va,
			       u64 len, int access);
void rxdp_mw_init(struct rxdp_dev *rdev);
void rxdp_mw_cleanup(struct rxdp_dev *rdev);
int rxdp_key_invalidate(struct rxdp_qp *qp, u32 key, bool remote);
struct rxdp_mr *rxdp_rkey_get(struct rxdp_qp *qp, u32 rkey, u64 va, u64 len,
			      int access);
int rxdp_rkey_span(struct rxdp_qp *qp, u32 rkey, u64 *va, u64 *len);

/* rxdp_ah.c */
int rxdp_create_ah(struct ib_ah *ibah, struct rdma_ah_init_attr *init,
		   struct ib_udata *udata);
int rxdp_query_ah(struct ib_ah *ibah, struct rdma_ah_attr *attr);
int rxdp_destroy_ah(struct ib_ah *ibah, u32 flags);
int rxdp_check_ah_attr(struct rxdp_dev *rdev, const struct rdma_ah_attr *attr);
int rxdp_ah_check(struct rxdp_dev *rdev, u32 ah_num, struct ib_pd *pd);
int rxdp_ah_path(struct rxdp_dev *rdev, u32 ah_num, struct ib_pd *pd,
		 struct rxdp_path *path);

/* rxdp_srq.c */
int rxdp_create_srq(struct ib_srq *ibsrq, struct ib_srq_init_attr *init,
		    struct ib_udata *udata);
int rxdp_modify_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr,
		    enum ib_srq_attr_mask mask, struct ib_udata *udata);
int rxdp_query_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr);
int rxdp_destroy_srq(struct ib_srq *ibsrq, struct ib_udata *udata);
int rxdp_post_srq_recv(struct ib_srq *ibsrq, const struct ib_recv_wr *wr,
		       const struct ib_recv_wr **bad_wr);

/* rxdp_qp.c: the QP lifecycle */
int rxdp_create_qp(struct ib_qp *ibqp, struct ib_qp_init_attr *init,
		   struct ib_udata *udata);
int rxdp_modify_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		   struct ib_udata *udata);
int rxdp_query_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		  struct ib_qp_init_attr *init);
int rxdp_destroy_qp(struct ib_qp *ibqp, struct ib_udata *udata);
void rxdp_qp_error(struct rxdp_qp *qp);
void rxdp_qp_error_gen(struct rxdp_qp *qp, u32 gen);
void rxdp_qp_fatal(struct rxdp_qp *qp);
bool rxdp_qp_fatal_sq_locked(struct rxdp_qp *qp);
void rxdp_qp_fatal_done(struct rxdp_qp *qp);
void rxdp_qp_event(struct rxdp_qp *qp, enum ib_event_type type);
void rxdp_qp_comm_est(struct rxdp_qp *qp);
void rxdp_qp_put(struct rxdp_qp *qp);
bool rxdp_qp_uses_mr(struct rxdp_qp *qp, struct rxdp_mr *mr);

/* rxdp_post.c: posting work requests */
int rxdp_post_send(struct ib_qp *ibqp, const struct ib_send_wr *wr,
		   const struct ib_send_wr **bad_wr);
int rxdp_post_recv(struct ib_qp *ibqp, const struct ib_recv_wr *wr,
		   const struct ib_recv_wr **bad_wr);
int rxdp_post_one_recv(struct rxdp_dev *rdev, struct ib_pd *pd,
		       struct rxdp_queue *q, u32 max_sge,
		       const struct ib_recv_wr *wr);
void rxdp_flush_sq(struct rxdp_qp *qp);
void rxdp_flush_rq(struct rxdp_qp *qp);
void rxdp_flush_held(struct rxdp_qp *qp);
void rxdp_sq_complete_first(struct rxdp_qp *qp, enum ib_wc_status status);
bool rxdp_sq_drained(struct rxdp_qp *qp);
bool rxdp_sqd_drained_now(struct rxdp_qp *qp);
size_t rxdp_send_wqe_size(const struct rxdp_wq *sq);
struct rxe_send_wqe *rxdp_sq_wqe(struct rxdp_qp *qp, u32 index);
size_t rxdp_recv_wqe_size(u32 max_sge);

/* rxdp_timer.c: requester timers */
void rxdp_timers_init(struct rxdp_qp *qp);
void rxdp_retry_timer_arm(struct rxdp_qp *qp);
void rxdp_retry_timer_restart(struct rxdp_qp *qp);
void rxdp_rnr_timer_start(struct rxdp_qp *qp, u8 rnr_timer);
void rxdp_timers_stop(struct rxdp_qp *qp);
void rxdp_timers_stop_sync(struct rxdp_qp *qp);
void rxdp_timers_shutdown(struct rxdp_qp *qp);

/* rxdp_maps.c: the QP table of the XDP program */
/* the maps of the QP table, as the module binds them */
enum rxdp_map_kind {
	RXDP_BIND_QP_TABLE,
	RXDP_BIND_QP_SLOTS,
	RXDP_BIND_GID_TABLE,
	RXDP_BIND_KINDS
};

int rxdp_maps_bind(struct rxdp_dev *rdev, enum rxdp_map_kind kind,
		   struct bpf_map *map);
bool rxdp_maps_uses(struct rxdp_dev *rdev, struct bpf_map *map);
void rxdp_maps_unbind(struct rxdp_dev *rdev);
void rxdp_maps_qp_sync(struct rxdp_qp *qp, bool remove);
void rxdp_maps_qp_counters(struct rxdp_qp *qp);
void rxdp_qp_sync_map(struct rxdp_qp *qp);
int rxdp_maps_gid_set(struct rxdp_dev *rdev, const union ib_gid *gid,
		       u32 index);
void rxdp_maps_gid_clear(struct rxdp_dev *rdev, const union ib_gid *gid);

/* rxdp_gid.c: the device's RoCEv2 GIDs */
int rxdp_add_gid(const struct ib_gid_attr *attr, void **context);
int rxdp_del_gid(const struct ib_gid_attr *attr, void **context);
void rxdp_gids_sync_map(struct rxdp_dev *rdev);
bool rxdp_gid_is_ours(struct rxdp_dev *rdev, const struct ib_gid_attr *attr);
bool rxdp_gid_is_local(struct rxdp_dev *rdev, const union ib_gid *gid);
void rxdp_gids_init(struct rxdp_dev *rdev);
void rxdp_gids_cleanup(struct rxdp_dev *rdev);

/* rxdp_mcast.c: UD multicast groups */
int rxdp_mcast_init(struct rxdp_dev *rdev);
void rxdp_mcast_cleanup(struct rxdp_dev *rdev);
int rxdp_attach_mcast(struct ib_qp *ibqp, union ib_gid *gid, u16 lid);
int rxdp_detach_mcast(struct ib_qp *ibqp, union ib_gid *gid, u16 lid);
void rxdp_mcast_sync_map(struct rxdp_dev *rdev);
void rxdp_mcast_netdev_leave(struct rxdp_dev *rdev);
void rxdp_mcast_netdev_join(struct rxdp_dev *rdev);
int rxdp_mcast_rx(struct rxdp_dev *rdev, struct xdp_buff *xdp,
		  struct rxdp_rx_info *info);

/*
 * rxdp_rx_info.flags of the module's own, never from a BPF program: the
 * packet is a multicast datagram's delivery to one of its group's QPs.
 */
#define RXDP_RX_F_MCAST		BIT(31)
#define RXDP_RX_F_FROM_BPF	(RXDP_RX_F_IPV6 | RXDP_RX_F_ICRC_OK | \
				 RXDP_RX_F_ICRC_CHECK)

/* rxdp_rx.c: the receive queue of a QP */
int rxdp_rx_check_icrc(struct xdp_buff *xdp, struct rxdp_rx_info *info);
int rxdp_rx_init(struct rxdp_qp *qp);
void rxdp_rx_cleanup(struct rxdp_qp *qp);
void rxdp_rx_stop(struct rxdp_qp *qp);
void rxdp_rx_drain(struct rxdp_qp *qp);
int rxdp_rx_enqueue(struct rxdp_qp *qp, struct xdp_buff *xdp,
		    const struct rxdp_rx_info *info);
int rxdp_rx_local(struct rxdp_qp *qp, const struct rxdp_frame *fr,
		  const struct rxdp_rx_info *info, u32 len);
bool rxdp_rx_in_local(void);
const u8 *rxdp_frame_piece(const struct rxdp_frame *fr, u32 off, u32 n,
			   u32 *len);
int rxdp_pkt_write_mr(struct rxdp_mr *mr, u64 va, const struct rxdp_pkt *pkt,
		      u32 off, u32 n);

/* Where payload bytes [off, off + n) of a packet start: see rxdp_frame_piece. */
static inline const u8 *rxdp_pkt_piece(const struct rxdp_pkt *pkt, u32 off,
				       u32 n, u32 *len)
{
	return rxdp_frame_piece(pkt->fr, pkt->info->payload_off + off, n, len);
}

/* rxdp_tx.c: frames to the netdev, or to the device itself */
struct rxdp_lo_frame;

struct rxdp_tx_pkt {
	struct sk_buff		*skb;		/* to the netdev, or */
	struct rxdp_lo_frame	*lo;		/* to this device */
	u8			*frame;
	u8			*bth;		/* the transport headers go here */
	u8			*payload;	/* in the skb, or NULL */
	u32			len;		/* of the frame, through the ICRC */
	u8			l3_off;
	bool			ipv6;
};

int rxdp_path_init(struct rxdp_dev *rdev, struct rxdp_path *path,
		   const struct rdma_ah_attr *ah);
int rxdp_tx_alloc(const struct rxdp_path *path, u16 sport, u8 opcode,
		  u32 paylen, struct rxdp_tx_pkt *tp);
void rxdp_tx_free(struct rxdp_tx_pkt *tp);
enum ib_wc_status rxdp_tx_put_wqe(struct rxdp_qp *qp, struct rxdp_tx_pkt *tp,
				  const struct rxe_send_wqe *wqe, u64 off,
				  u32 length);
bool rxdp_tx_put_mr(struct rxdp_tx_pkt *tp, struct rxdp_mr *mr, u64 addr,
		    u32 length);
int rxdp_tx_send(struct rxdp_dev *rdev, struct rxdp_tx_pkt *tp);
int rxdp_tx_send_qp(struct rxdp_qp *qp, struct rxdp_tx_pkt *tp);
bool rxdp_tx_may_send(struct rxdp_qp *qp);
int rxdp_tx_dev_init(struct rxdp_dev *rdev);
void rxdp_tx_dev_put(struct rxdp_tx_dev *dev);
void rxdp_tx_exit(void);
int rxdp_tx_ctx_init(struct rxdp_qp *qp);
void rxdp_tx_ctx_detach(struct rxdp_qp *qp);
void rxdp_tx_ctx_release(struct rxdp_qp *qp);

/* rxdp_loopback.c: frames of the device to itself */
int rxdp_lo_init(void);
void rxdp_lo_exit(void);
u8 *rxdp_lo_alloc(struct rxdp_tx_pkt *tp, u32 hdr_len);
bool rxdp_lo_gather(struct rxdp_lo_frame *lo, struct rxdp_mr *mr, u64 addr,
		    u32 n);
int rxdp_lo_send(struct rxdp_dev *rdev, struct rxdp_tx_pkt *tp);
void rxdp_lo_free(struct rxdp_lo_frame *lo);

/* rxdp_req.c: the requester */
void rxdp_req_init(struct rxdp_qp *qp);
void rxdp_req_kick(struct rxdp_qp *qp);
void rxdp_req_stop(struct rxdp_qp *qp);
int rxdp_req_path(struct rxdp_qp *qp, struct ib_qp_attr *attr, int mask,
		  struct rxdp_path *path);
typedef bool (*rxdp_wqe_piece_fn)(void *arg, struct rxdp_mr *mr, u64 addr,
				  u32 n);
enum ib_wc_status rxdp_wqe_walk(struct rxdp_qp *qp,
				const struct rxe_send_wqe *wqe, u64 off,
				u32 length, int access, rxdp_wqe_piece_fn fn,
				void *arg);
enum ib_wc_status rxdp_wqe_copy(struct rxdp_qp *qp,
				const struct rxe_send_wqe *wqe, u64 off,
				u8 *buf, u32 length, bool to_wqe);

/* rxdp_resp.c: the responder */
void rxdp_resp_packet(struct rxdp_qp *qp, const struct rxdp_rx_info *info,
		      const struct rxdp_frame *fr, u32 gen);
void rxdp_resp_batch_end(struct rxdp_qp *qp);
void rxdp_resp_reset(struct rxdp_qp *qp);
bool rxdp_resp_rc(struct rxdp_qp *qp, const struct rxdp_pkt *pkt, u32 gen);
bool rxdp_resp_read_serve(struct rxdp_qp *qp, int *budget);
bool rxdp_resp_read_again(struct rxdp_qp *qp, const u8 *bth);

/* rxdp_comp.c: the completer */
void rxdp_comp_packet(struct rxdp_qp *qp, const struct rxdp_pkt *pkt);
void rxdp_comp_retry(struct rxdp_qp *qp);
void rxdp_comp_rewind(struct rxdp_qp *qp, u32 psn);
bool rxdp_wqe_is_rd_atomic(const struct rxe_send_wqe *wqe);
u32 rxdp_qp_mtu(const struct rxdp_qp *qp);

/* rxdp_icrc.c: the RoCEv2 invariant CRC */
bool rxdp_icrc_ok(const struct rxdp_frame *fr, u32 len,
		  const struct rxdp_rx_info *info);
int rxdp_icrc_calc(const u8 *frame, u32 l3_off, u32 bth_off, u32 icrc_off,
		   bool ipv6, u32 *icrc);
void rxdp_icrc_init(void);
void rxdp_icrc_exit(void);
int rxdp_icrc_bench(struct seq_file *m);

/* rxdp_kfunc.c */
int rxdp_kfuncs_register(void);

/* rxdp_debugfs.c */
void rxdp_debugfs_init(void);
void rxdp_debugfs_exit(void);
void rxdp_debugfs_add_dev(struct rxdp_dev *rdev);
void rxdp_debugfs_remove_dev(struct rxdp_dev *rdev);

#endif /* RXDP_H */

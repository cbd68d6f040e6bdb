// SPDX-License-Identifier: GPL-2.0
/*
 * Frames of a device to itself (between two of its QPs, or a QP and
 * itself): they do not take the netdev, and their payload is not copied
 * into them.
 *
 * Such a frame is its headers, laid as for the wire, then the pieces of
 * the sender's memory its payload is in: the send WQE's SGEs (through
 * references on their MRs) or inline data, or the MR a READ is served
 * from.  rxdp_lo_send() hands it to the destination QP's responder in the
 * sender's own context (rxdp_rx_local()), which copies the payload once,
 * into its destination, while the sender's memory holds still.
 * The sender completes a WQE only after that (UD and UC complete as they
 * send).  When that responder is busy, the frame is copied onto its
 * queue instead.  No ICRC is computed or checked.
 *
 * A user MR's pages stay pinned while the frame holds its reference, even
 * if a flush completes the WQE meanwhile.  Kernel memory (the DMA MR) is
 * the ULP's again once the WQE completes, so its bytes are copied into the
 * frame, as for the wire.
 *
 * A frame is built and sent with BH disabled, so the CPU's own
 * rxdp_lo_cpu serves it; one sent while another is being handed over (an
 * answer of the responder that takes it, which has no payload) gets one
 * of its own.
 */
#include <linux/percpu.h>
#include <rdma/ib_pack.h>

#include "rxdp.h"
#include "rxdp_hdr.h"

/*
 * The headers of the largest frame: VLAN, IPv6, UDP, BTH and RETH with
 * ImmDt, or AtomicETH (106 bytes).
 */
#define RXDP_LO_HDR_MAX		128
/*
 * The pieces of an MTU of payload: a piece per SGE, and one more per
 * page boundary an SGE's part crosses; and the pad and ICRC.
 */
#define RXDP_LO_MAX_VEC		(2 * RXDP_MAX_SGE + SZ_4K / PAGE_SIZE + 1)

/* the largest payload of a frame: that of a 4096-byte path MTU */
#define RXDP_LO_BOUNCE_MAX	SZ_4K

struct rxdp_lo_frame {
	u8			hdr[RXDP_LO_HDR_MAX];
	u32			nr_vec;
	u32			nr_mr;
	u32			paylen;		/* in vec so far */
	u32			bounced;	/* of bounce, used */
	u8			*bounce;	/* for kernel memory, or NULL */
	bool			pcpu;		/* the CPU's own */
	bool			busy;		/* the CPU's own, in use */
	struct kvec		vec[RXDP_LO_MAX_VEC];
	struct rxdp_mr		*mr[RXDP_MAX_SGE];	/* referenced */
};

struct rxdp_lo_cpu {
	struct rxdp_lo_frame	frame;
	u8			bounce[RXDP_LO_BOUNCE_MAX];
};

/* dynamic: too big for the static per-CPU room modules share */
static struct rxdp_lo_cpu __percpu *rxdp_lo_cpus;

int rxdp_lo_init(void)
{
	rxdp_lo_cpus = alloc_percpu(struct rxdp_lo_cpu);
	return rxdp_lo_cpus ? 0 : -ENOMEM;
}

void rxdp_lo_exit(void)
{
	free_percpu(rxdp_lo_cpus);
}

/* the pad and the ICRC of every frame */
static const u8 rxdp_lo_zeros[3 + IB_ICRC_BYTES];

/**
 * rxdp_lo_alloc - a frame to the device itself, without its payload
 * @tp: the packet; tp->lo is set
 * @hdr_len: the bytes of its headers, through the extension headers
 *
 * Context: any but hard irq, with BH disabled until the frame is sent or
 * freed if it is to have a payload.
 * Return: where the headers go, or NULL (no memory, or headers too long).
 */
u8 *rxdp_lo_alloc(struct rxdp_tx_pkt *tp, u32 hdr_len)
{
	struct rxdp_lo_frame *lo = NULL;

	if (WARN_ON_ONCE(hdr_len > RXDP_LO_HDR_MAX || in_hardirq()))
		return NULL;
	/* BH off: no other sender on this CPU until it is sent */
	if (in_softirq()) {
		struct rxdp_lo_cpu *cpu = this_cpu_ptr(rxdp_lo_cpus);

		if (!cpu->frame.busy) {
			lo = &cpu->frame;
			lo->busy = true;
			lo->pcpu = true;
			lo->bounce = cpu->bounce;
		}
	}
	if (!lo) {
		lo = kmalloc(sizeof(*lo), GFP_ATOMIC | __GFP_NOWARN);
		if (!lo)
			return NULL;
		lo->pcpu = false;
		lo->bounce = NULL;
	}
	lo->nr_vec = 0;
	lo->nr_mr = 0;
	lo->paylen = 0;
	lo->bounced = 0;
	tp->lo = lo;
	return lo->hdr;
}

void rxdp_lo_free(struct rxdp_lo_frame *lo)
{
	u32 i;

	if (!lo)
		return;
	for (i = 0; i < lo->nr_mr; i++)
		rxdp_mr_put(lo->mr[i]);
	if (lo->pcpu)
		lo->busy = false;
	else
		kfree(lo);
}

static bool rxdp_lo_add(struct rxdp_lo_frame *lo, void *p, u32 n)
{
	/* the last is the pad's and ICRC's */
	if (WARN_ON_ONCE(lo->nr_vec >= RXDP_LO_MAX_VEC - 1))
		return false;
	lo->vec[lo->nr_vec].iov_base = p;
	lo->vec[lo->nr_vec].iov_len = n;
	lo->nr_vec++;
	lo->paylen += n;
	return true;
}

/**
 * rxdp_lo_gather - add the next payload bytes to a frame
 * @lo: the frame
 * @mr: the MR they are in, referenced by the caller, or NULL for kernel
 *	memory that holds still until the frame is sent (inline data)
 * @addr: their first byte, in @mr's address space (else a kernel address)
 * @n: how many, checked against @mr
 *
 * The frame takes a reference on a user MR of its own, and copies what
 * is in kernel memory (the DMA MR, a fast-registration MR): its ULP may
 * have it back as soon as the WQE completes.
 * Context: any; does not sleep.
 * Return: false when the frame has no room for them (none of the frame's
 * callers asks for more than an MTU in RXDP_MAX_SGE pieces, nor for a
 * payload in an answer).
 */
bool rxdp_lo_gather(struct rxdp_lo_frame *lo, struct rxdp_mr *mr, u64 addr,
		    u32 n)
{
	u32 k;

	if (!mr)
		return rxdp_lo_add(lo, (void *)(uintptr_t)addr, n);
	if (mr->kind != RXDP_MR_USER) {
		u8 *p = lo->bounce + lo->bounced;

		if (WARN_ON_ONCE(!lo->bounce ||
				 n > RXDP_LO_BOUNCE_MAX - lo->bounced))
			return false;
		rxdp_mr_read(mr, addr, p, n);
		lo->bounced += n;
		return rxdp_lo_add(lo, p, n);
	}
	if (!lo->nr_mr || lo->mr[lo->nr_mr - 1] != mr) {
		if (WARN_ON_ONCE(lo->nr_mr >= RXDP_MAX_SGE))
			return false;
		refcount_inc(&mr->ref);
		lo->mr[lo->nr_mr++] = mr;
	}
	for (; n; addr += k, n -= k) {
		void *p = rxdp_mr_piece(mr, addr, n, &k);

		if (!rxdp_lo_add(lo, p, k))
			return false;
	}
	return true;
}

/**
 * rxdp_lo_send - hand a frame to the device itself to its destination QP
 * @rdev: the device
 * @tp: the frame, from rxdp_lo_alloc(), its payload gathered; consumed
 *
 * Context: any but hard irq, with IRQs on.
 * Return: 0, or an errno of its loss.
 */
int rxdp_lo_send(struct rxdp_dev *rdev, struct rxdp_tx_pkt *tp)
{
	struct rxdp_lo_frame *lo = tp->lo;
	const u8 *bth = tp->bth;
	u8 opcode = rxdp_bth_opcode(bth);
	struct rxdp_rx_info info = {
		.qpn = rxdp_bth_qpn(bth),
		.psn = rxdp_bth_psn(bth),
		.flags = tp->ipv6 ? RXDP_RX_F_IPV6 : 0,
		.l3_off = tp->l3_off,
		.bth_off = bth - tp->frame,
		.hdr_len = rxdp_hdr_len(opcode),
		.pad = rxdp_bth_pad(bth),
		.opcode = opcode,
	};
	struct rxdp_frame fr = { .data = lo->hdr, .vec = lo->vec };
	struct rxdp_qp *qp;
	int err = -EINVAL;

	info.slot = RXDP_QP_SLOT(info.qpn);
	info.payload_off = info.bth_off + info.hdr_len;
	info.payload_len = lo->paylen;
	fr.head = info.payload_off;
	/* what the caller gathered is what its headers say */
	if (WARN_ON_ONCE(tp->len != info.payload_off + lo->paylen +
			 info.pad + IB_ICRC_BYTES))
		goto out;
	lo->vec[lo->nr_vec].iov_base = (void *)rxdp_lo_zeros;
	lo->vec[lo->nr_vec].iov_len = info.pad + IB_ICRC_BYTES;
	fr.nr_vec = lo->nr_vec + 1;

	qp = rxdp_qp_lookup(&rdev->qpn, info.qpn);
	if (!qp) {
		err = -ENOENT;
		goto out;
	}
	err = rxdp_rx_local(qp, &fr, &info, tp->len);
	rxdp_qp_put(qp);
out:
	rxdp_lo_free(lo);
	tp->lo = NULL;
	return err;
}

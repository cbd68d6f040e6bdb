// SPDX-License-Identifier: GPL-2.0
/*
 * rxdp_ulp_test: what a kernel ULP relies on of an rxdp device, for the
 * selftests (vm_ulp).  It runs on load, against dev=<ib device> with its
 * RoCEv2 GID gid=<index> as both ends of every path, and fails to load
 * (-EIO) when a check fails; the kernel log says which.
 *
 * Two RC QPs of the device, connected to each other, move SENDs between
 * kmalloc'd buffers through the DMA lkey, as ULPs do.  Every WQE must
 * complete once; a SEND that completes successfully must have arrived
 * intact.  In most rounds one QP and then the other is moved to the
 * error state while the messages are on their way, and each buffer is
 * freed the moment its completion (success or flush) is polled: a
 * requester still reading it, or a responder still writing it, after that
 * is a use-after-free, which KASAN reports (the debug kernel's run fails
 * on it).  The posts run on another CPU than the flush, so that the
 * device's requester and responder run there too.
 *
 * With test=frwr it registers memory the way NVMe-oF and iSER do instead:
 * a fast-registration MR over a kmalloc'd buffer, mapped with
 * ib_map_mr_sg() and registered by a REG_MR work request under a new key
 * each time; the peer QP writes into it and reads it back by that key;
 * then LOCAL_INV, or the peer's SEND with Invalidate, ends the
 * registration, after which the old key must not reach the memory.  Last,
 * as iSER does, the next registration is mapped over other memory while
 * the one before is still in use; and a READ into the MR is posted right
 * behind its REG_MR, as rdma_rw does.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <rdma/ib_cache.h>
#include <rdma/ib_verbs.h>

#define ULP_MSGS	32
#define ULP_MSG_LEN	(64 * 1024 + 3)
#define ULP_PSN		0x123456
#define ULP_MAX_CUT_US	20000

static char *dev = "";
module_param(dev, charp, 0444);
MODULE_PARM_DESC(dev, "the ib device to test");
static int gid;
module_param(gid, int, 0444);
MODULE_PARM_DESC(gid, "index of the device's RoCEv2 GID to connect through");
static int rounds = 64;
module_param(rounds, int, 0444);
MODULE_PARM_DESC(rounds, "rounds; one in eight moves no QP to ERR");
static char *test = "flush";
module_param(test, charp, 0444);
MODULE_PARM_DESC(test, "flush (the default) or frwr");

struct ulp_qp {
	struct ib_qp	*qp;
	struct ib_cq	*cq;
	void		*buf[ULP_MSGS];
	u64		dma[ULP_MSGS];
	int		done;		/* completions polled */
	bool		ok[ULP_MSGS];	/* completed successfully */
};

struct ulp_round {
	struct ib_device	*ibdev;
	struct ib_pd		*pd;
	union ib_gid		gid;
	u8			mac[ETH_ALEN];	/* the GID's netdev's */
	struct ulp_qp		snd, rcv;
	struct work_struct	post;
	int			post_cpu;
	int			post_err;
	bool			started;	/* the posts began */
	u32			span_us;	/* a whole transfer took */
	u32			seed;
	u32			delivered;	/* receives that succeeded */
	u32			flushed;	/* WQEs that completed so */
};

static u8 ulp_byte(u32 seed, u32 msg, u32 i)
{
	return (u8)(seed + msg * 7 + i * 13 + (i >> 8));
}

static int ulp_qp_create(struct ulp_round *r, struct ulp_qp *q)
{
	struct ib_qp_init_attr ia = {
		.qp_type = IB_QPT_RC,
		.sq_sig_type = IB_SIGNAL_ALL_WR,
		.cap = { .max_send_wr = ULP_MSGS, .max_recv_wr = ULP_MSGS,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};

	q->cq = ib_alloc_cq(r->ibdev, NULL, 2 * ULP_MSGS, 0, IB_POLL_DIRECT);
	if (IS_ERR(q->cq)) {
		int err = PTR_ERR(q->cq);

		q->cq = NULL;
		return err;
	}
	ia.send_cq = q->cq;
	ia.recv_cq = q->cq;
	q->qp = ib_create_qp(r->pd, &ia);
	if (IS_ERR(q->qp)) {
		int err = PTR_ERR(q->qp);

		q->qp = NULL;
		return err;
	}
	return 0;
}

static int ulp_qp_connect(struct ulp_round *r, struct ulp_qp *q, u32 dqpn,
			  int access)
{
	struct ib_qp_attr a = {
		.qp_state = IB_QPS_INIT,
		.port_num = 1,
		.qp_access_flags = access,
	};
	int err;

	err = ib_modify_qp(q->qp, &a, IB_QP_STATE | IB_QP_PKEY_INDEX |
			   IB_QP_PORT | IB_QP_ACCESS_FLAGS);
	if (err)
		return err;
	memset(&a, 0, sizeof(a));
	a.qp_state = IB_QPS_RTR;
	a.path_mtu = IB_MTU_1024;
	a.dest_qp_num = dqpn;
	a.rq_psn = ULP_PSN;
	a.max_dest_rd_atomic = 1;
	a.min_rnr_timer = 1;
	a.ah_attr.type = RDMA_AH_ATTR_TYPE_ROCE;
	rdma_ah_set_port_num(&a.ah_attr, 1);
	rdma_ah_set_grh(&a.ah_attr, &r->gid, 0, gid, 64, 0);
	/* a kernel ULP resolves the address itself: this device's own */
	memcpy(a.ah_attr.roce.dmac, r->mac, ETH_ALEN);
	err = ib_modify_qp(q->qp, &a, IB_QP_STATE | IB_QP_AV | IB_QP_PATH_MTU |
			   IB_QP_DEST_QPN | IB_QP_RQ_PSN |
			   IB_QP_MAX_DEST_RD_ATOMIC | IB_QP_MIN_RNR_TIMER);
	if (err)
		return err;
	memset(&a, 0, sizeof(a));
	a.qp_state = IB_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.sq_psn = ULP_PSN;
	a.max_rd_atomic = 1;
	return ib_modify_qp(q->qp, &a, IB_QP_STATE | IB_QP_TIMEOUT |
			    IB_QP_RETRY_CNT | IB_QP_RNR_RETRY | IB_QP_SQ_PSN |
			    IB_QP_MAX_QP_RD_ATOMIC);
}

static int ulp_to_err(struct ulp_qp *q)
{
	struct ib_qp_attr a = { .qp_state = IB_QPS_ERR };

	return ib_modify_qp(q->qp, &a, IB_QP_STATE);
}

static void ulp_buf_free(struct ulp_round *r, struct ulp_qp *q, u32 i,
			 enum dma_data_direction dir)
{
	if (!q->buf[i])
		return;
	ib_dma_unmap_single(r->ibdev, q->dma[i], ULP_MSG_LEN, dir);
	kfree(q->buf[i]);
	q->buf[i] = NULL;
}

static int ulp_buf_alloc(struct ulp_round *r, struct ulp_qp *q, u32 i,
			 enum dma_data_direction dir)
{
	q->buf[i] = kmalloc(ULP_MSG_LEN, GFP_KERNEL);
	if (!q->buf[i])
		return -ENOMEM;
	if (dir == DMA_TO_DEVICE) {
		u8 *p = q->buf[i];
		u32 k;

		for (k = 0; k < ULP_MSG_LEN; k++)
			p[k] = ulp_byte(r->seed, i, k);
	} else {
		memset(q->buf[i], 0, ULP_MSG_LEN);
	}
	q->dma[i] = ib_dma_map_single(r->ibdev, q->buf[i], ULP_MSG_LEN, dir);
	if (ib_dma_mapping_error(r->ibdev, q->dma[i])) {
		kfree(q->buf[i]);
		q->buf[i] = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* The posts, on another CPU: the receives, then the SENDs. */
static void ulp_post_work(struct work_struct *work)
{
	struct ulp_round *r = container_of(work, struct ulp_round, post);
	const struct ib_send_wr *sbad;
	const struct ib_recv_wr *rbad;
	u32 i;

	/* pairs with the acquire in ulp_round(): its clock starts */
	smp_store_release(&r->started, true);
	for (i = 0; i < ULP_MSGS && !r->post_err; i++) {
		struct ib_sge sge = {
			.addr = r->rcv.dma[i], .length = ULP_MSG_LEN,
			.lkey = r->pd->local_dma_lkey,
		};
		struct ib_recv_wr wr = {
			.wr_id = i, .sg_list = &sge, .num_sge = 1,
		};

		r->post_err = ib_post_recv(r->rcv.qp, &wr, &rbad);
	}
	for (i = 0; i < ULP_MSGS && !r->post_err; i++) {
		struct ib_sge sge = {
			.addr = r->snd.dma[i], .length = ULP_MSG_LEN,
			.lkey = r->pd->local_dma_lkey,
		};
		struct ib_send_wr wr = {
			.wr_id = i, .sg_list = &sge, .num_sge = 1,
			.opcode = IB_WR_SEND, .send_flags = IB_SEND_SIGNALED,
		};

		r->post_err = ib_post_send(r->snd.qp, &wr, &sbad);
	}
}

static bool ulp_recv_intact(struct ulp_round *r, u32 i, u32 len)
{
	const u8 *p = r->rcv.buf[i];
	u32 k;

	if (len != ULP_MSG_LEN)
		return false;
	for (k = 0; k < len; k++)
		if (p[k] != ulp_byte(r->seed, i, k))
			return false;
	return true;
}

/*
 * Poll q's completions, freeing each buffer as its completion comes.
 * Return: false when a completion is wrong (its WQE already completed,
 * out of order, or a bad status or payload).
 */
static bool ulp_poll(struct ulp_round *r, struct ulp_qp *q, bool recv)
{
	enum dma_data_direction dir = recv ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
	struct ib_wc wc[4];
	int n, k;

	n = ib_poll_cq(q->cq, ARRAY_SIZE(wc), wc);
	for (k = 0; k < n; k++) {
		u32 i = wc[k].wr_id;

		if (i != q->done || wc[k].qp != q->qp) {
			pr_err("%s: completion of WR %u after %d done\n",
			       recv ? "recv" : "send", i, q->done);
			return false;
		}
		q->done++;
		if (wc[k].status != IB_WC_SUCCESS &&
		    wc[k].status != IB_WC_WR_FLUSH_ERR) {
			pr_err("%s %u: status %s\n", recv ? "recv" : "send", i,
			       ib_wc_status_msg(wc[k].status));
			return false;
		}
		if (recv && wc[k].status == IB_WC_SUCCESS &&
		    !ulp_recv_intact(r, i, wc[k].byte_len)) {
			pr_err("recv %u: payload wrong (%u bytes)\n", i,
			       wc[k].byte_len);
			return false;
		}
		q->ok[i] = wc[k].status == IB_WC_SUCCESS;
		if (q->ok[i])
			r->delivered += recv;
		else
			r->flushed++;
		/* the buffer is the ULP's again */
		ulp_buf_free(r, q, i, dir);
	}
	return true;
}

/*
 * After a round: nothing completed twice, and a SEND acknowledged was
 * received (the responder completes the receive before it acknowledges).
 */
static int ulp_round_check(struct ulp_round *r)
{
	struct ib_wc wc;
	u32 i;

	if (ib_poll_cq(r->snd.cq, 1, &wc) || ib_poll_cq(r->rcv.cq, 1, &wc)) {
		pr_err("a completion more: WR %llu, status %s\n", wc.wr_id,
		       ib_wc_status_msg(wc.status));
		return -EIO;
	}
	for (i = 0; i < ULP_MSGS; i++) {
		if (r->snd.ok[i] && !r->rcv.ok[i]) {
			pr_err("send %u succeeded, its receive did not\n", i);
			return -EIO;
		}
	}
	return 0;
}

/*
 * One round; cut: move the QPs to ERR that many microseconds after the
 * posts began, the receiver or the sender first, or never (-1: then the
 * round measures how long a whole transfer takes).
 */
static int ulp_round(struct ulp_round *r, int cut, bool rcv_first)
{
	unsigned long deadline;
	ktime_t t0;
	int err;
	u32 i;

	err = ulp_qp_create(r, &r->snd) ?: ulp_qp_create(r, &r->rcv);
	if (err)
		return err;
	err = ulp_qp_connect(r, &r->snd, r->rcv.qp->qp_num,
			     IB_ACCESS_LOCAL_WRITE) ?:
	      ulp_qp_connect(r, &r->rcv, r->snd.qp->qp_num,
			     IB_ACCESS_LOCAL_WRITE);
	if (err)
		return err;
	for (i = 0; i < ULP_MSGS && !err; i++)
		err = ulp_buf_alloc(r, &r->snd, i, DMA_TO_DEVICE) ?:
		      ulp_buf_alloc(r, &r->rcv, i, DMA_FROM_DEVICE);
	if (err)
		return err;

	r->post_err = 0;
	r->started = false;
	INIT_WORK(&r->post, ulp_post_work);
	schedule_work_on(r->post_cpu, &r->post);
	/* not asleep: the transfer may be over by the time we woke */
	while (!smp_load_acquire(&r->started))
		cpu_relax();
	t0 = ktime_get();
	if (cut >= 0) {
		udelay(cut);
		if (rcv_first)
			err = ulp_to_err(&r->rcv) ?: ulp_to_err(&r->snd);
		else
			err = ulp_to_err(&r->snd) ?: ulp_to_err(&r->rcv);
	}
	deadline = jiffies + 60 * HZ;
	while (!err && (r->snd.done < ULP_MSGS || r->rcv.done < ULP_MSGS)) {
		if (!ulp_poll(r, &r->snd, false) || !ulp_poll(r, &r->rcv, true)) {
			err = -EIO;
			break;
		}
		if (READ_ONCE(r->post_err))
			break;
		if (time_after(jiffies, deadline)) {
			pr_err("%d of %d sends, %d of %d receives completed\n",
			       r->snd.done, ULP_MSGS, r->rcv.done, ULP_MSGS);
			err = -ETIMEDOUT;
			break;
		}
		cond_resched();
	}
	if (cut < 0)
		r->span_us = min_t(s64, ktime_us_delta(ktime_get(), t0),
				   ULP_MAX_CUT_US);
	flush_work(&r->post);
	if (!err && r->post_err)
		err = r->post_err;
	if (!err)
		err = ulp_round_check(r);
	return err;
}

static void ulp_round_end(struct ulp_round *r)
{
	struct ulp_qp *qs[] = { &r->snd, &r->rcv };
	u32 i, k;

	for (k = 0; k < ARRAY_SIZE(qs); k++) {
		struct ulp_qp *q = qs[k];

		if (q->qp)
			ib_destroy_qp(q->qp);
		/* a WQE that never completed: its buffer is safe now */
		for (i = 0; i < ULP_MSGS; i++)
			ulp_buf_free(r, q, i, k ? DMA_FROM_DEVICE :
					       DMA_TO_DEVICE);
		if (q->cq)
			ib_free_cq(q->cq);
		memset(q, 0, sizeof(*q));
	}
}

static int ulp_run(struct ib_device *ibdev, int post_cpu)
{
	const struct ib_gid_attr *ga;
	struct ulp_round *r;
	int i, err = 0, cuts = 0;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->ibdev = ibdev;
	r->post_cpu = post_cpu;
	ga = rdma_get_gid_attr(ibdev, 1, gid);
	if (IS_ERR(ga)) {
		err = PTR_ERR(ga);
		goto out;
	}
	r->gid = ga->gid;
	err = rdma_read_gid_l2_fields(ga, NULL, r->mac);
	rdma_put_gid_attr(ga);
	if (err)
		goto out;
	r->pd = ib_alloc_pd(ibdev, 0);
	if (IS_ERR(r->pd)) {
		err = PTR_ERR(r->pd);
		goto out;
	}
	for (i = 0; i < rounds && !err; i++) {
		int cut = i % 8 ? (int)get_random_u32_below(r->span_us + 1) : -1;

		r->seed = get_random_u32();
		err = ulp_round(r, cut, i & 1);
		if (err)
			pr_err("round %d (ERR after %d us, %s first): %d\n",
			       i, cut, i & 1 ? "receiver" : "sender", err);
		cuts += cut >= 0;
		ulp_round_end(r);
	}
	ib_dealloc_pd(r->pd);
	if (!err)
		pr_info("%d rounds on %s, %d cut short: %u messages delivered intact, %u WQEs flushed, every one completed once\n",
			rounds, dev_name(&ibdev->dev), cuts, r->delivered,
			r->flushed);
out:
	kfree(r);
	return err;
}

/* ---- fast registration ------------------------------------------------ */

#define FRWR_OFF	100			/* into the buffer's first page */
#define FRWR_LEN	(2 * PAGE_SIZE + 500)	/* three pages mapped */
#define FRWR_ROUNDS	16

/* Wait for one completion of q's CQ. */
static int frwr_wait(struct ulp_qp *q, struct ib_wc *wc)
{
	unsigned long deadline = jiffies + 20 * HZ;

	while (!ib_poll_cq(q->cq, 1, wc)) {
		if (time_after(jiffies, deadline))
			return -ETIMEDOUT;
		cond_resched();
	}
	return 0;
}

/* Post one WR on q and wait for its completion with status and opcode. */
static int frwr_do(struct ulp_qp *q, const struct ib_send_wr *wr,
		   enum ib_wc_status status, enum ib_wc_opcode opcode,
		   const char *what)
{
	const struct ib_send_wr *bad;
	struct ib_wc wc;
	int err;

	err = ib_post_send(q->qp, wr, &bad) ?: frwr_wait(q, &wc);
	if (err) {
		pr_err("%s: %d\n", what, err);
		return err;
	}
	if (wc.status != status || (status == IB_WC_SUCCESS &&
				    wc.opcode != opcode)) {
		pr_err("%s: status %s, opcode %d\n", what,
		       ib_wc_status_msg(wc.status), wc.opcode);
		return -EIO;
	}
	return 0;
}

/* Post a chain of two WRs on q; both must succeed, with these opcodes. */
static int frwr_do_two(struct ulp_qp *q, const struct ib_send_wr *wr,
		       enum ib_wc_opcode op0, enum ib_wc_opcode op1,
		       const char *what)
{
	const struct ib_send_wr *bad;
	struct ib_wc wc[2];
	int err, k;

	err = ib_post_send(q->qp, wr, &bad);
	for (k = 0; k < 2 && !err; k++)
		err = frwr_wait(q, &wc[k]);
	if (err) {
		pr_err("%s: %d\n", what, err);
		return err;
	}
	if (wc[0].status != IB_WC_SUCCESS || wc[0].opcode != op0 ||
	    wc[1].status != IB_WC_SUCCESS || wc[1].opcode != op1) {
		pr_err("%s: %s, %s\n", what, ib_wc_status_msg(wc[0].status),
		       ib_wc_status_msg(wc[1].status));
		return -EIO;
	}
	return 0;
}

/* The initiator writes len bytes at iova + off, by key, or reads them. */
static int frwr_rdma(struct ulp_round *r, u64 dma, u64 iova,
		     u32 key, u32 off, u32 len, bool read,
		     enum ib_wc_status status)
{
	struct ib_sge sge = {
		.addr = dma, .length = len, .lkey = r->pd->local_dma_lkey,
	};
	struct ib_rdma_wr wr = {
		.wr = { .sg_list = &sge, .num_sge = 1,
			.opcode = read ? IB_WR_RDMA_READ : IB_WR_RDMA_WRITE,
			.send_flags = IB_SEND_SIGNALED },
		.remote_addr = iova + off,
		.rkey = key,
	};

	return frwr_do(&r->snd, &wr.wr, status,
		       read ? IB_WC_RDMA_READ : IB_WC_RDMA_WRITE,
		       read ? "RDMA READ" : "RDMA WRITE");
}

/* Is buf's byte k what the pattern of registration i put at off? */
static int frwr_check(struct ulp_round *r, const u8 *buf, u32 i, u32 off,
		      u32 len, const char *what)
{
	u32 k;

	for (k = 0; k < FRWR_OFF + FRWR_LEN; k++) {
		u8 want = k >= FRWR_OFF + off && k < FRWR_OFF + off + len ?
			  ulp_byte(r->seed, i, k - FRWR_OFF - off) : 0;

		if (buf[k] != want) {
			pr_err("%s: byte %u is %u, not %u\n", what, k, buf[k],
			       want);
			return -EIO;
		}
	}
	return 0;
}

/* One registration of the MR: a new key, used, then invalidated. */
static int frwr_round(struct ulp_round *r, struct ib_mr *mr,
		      struct scatterlist *sg, u8 *tbuf, u8 *abuf, u64 adma,
		      u32 i, u32 *key)
{
	u32 old = mr->rkey, off = (i * 997) % (FRWR_LEN - 1024), k;
	struct ib_reg_wr reg = {
		.wr = { .opcode = IB_WR_REG_MR,
			.send_flags = IB_SEND_SIGNALED },
		.mr = mr,
		.access = IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE |
			  IB_ACCESS_REMOTE_READ,
	};
	int n, err;

	ib_update_fast_reg_key(mr, ib_inc_rkey(mr->rkey));
	if (mr->rkey == old)
		return -EIO;
	n = ib_map_mr_sg(mr, sg, 1, NULL, PAGE_SIZE);
	if (n != 1) {
		pr_err("ib_map_mr_sg: %d\n", n);
		return n < 0 ? n : -EIO;
	}
	if (mr->length != FRWR_LEN) {
		pr_err("MR of %llu bytes mapped\n", mr->length);
		return -EIO;
	}
	reg.key = mr->rkey;
	err = frwr_do(&r->rcv, &reg.wr, IB_WC_SUCCESS, IB_WC_REG_MR, "REG_MR");
	if (err)
		return err;

	/* the initiator's pattern lands where the key says, nowhere else */
	memset(tbuf, 0, FRWR_OFF + FRWR_LEN);
	for (k = 0; k < 1024; k++)
		abuf[k] = ulp_byte(r->seed, i, k);
	err = frwr_rdma(r, adma, mr->iova, mr->rkey, off, 1024, false,
			IB_WC_SUCCESS);
	if (err)
		return err;
	err = frwr_check(r, tbuf, i, off, 1024, "registration");
	if (err)
		return err;
	/* and is read back */
	memset(abuf, 0, 1024);
	err = frwr_rdma(r, adma, mr->iova, mr->rkey, off, 1024, true,
			IB_WC_SUCCESS);
	if (err)
		return err;
	for (k = 0; k < 1024; k++)
		if (abuf[k] != ulp_byte(r->seed, i, k)) {
			pr_err("registration %u: READ byte %u wrong\n", i, k);
			return -EIO;
		}

	if (i & 1) {
		struct ib_send_wr inv = {
			.opcode = IB_WR_LOCAL_INV, .send_flags = IB_SEND_SIGNALED,
			.ex.invalidate_rkey = mr->rkey,
		};

		err = frwr_do(&r->rcv, &inv, IB_WC_SUCCESS, IB_WC_LOCAL_INV,
			      "LOCAL_INV");
	} else {
		struct ib_sge sge = {
			.addr = adma, .length = 64,
			.lkey = r->pd->local_dma_lkey,
		};
		struct ib_sge rsge = {
			.addr = adma + 2048, .length = 64,
			.lkey = r->pd->local_dma_lkey,
		};
		struct ib_recv_wr rwr = { .sg_list = &rsge, .num_sge = 1 };
		struct ib_send_wr swr = {
			.opcode = IB_WR_SEND_WITH_INV,
			.send_flags = IB_SEND_SIGNALED, .sg_list = &sge,
			.num_sge = 1, .ex.invalidate_rkey = mr->rkey,
		};
		const struct ib_recv_wr *rbad;
		struct ib_wc wc;

		err = ib_post_recv(r->rcv.qp, &rwr, &rbad) ?:
		      frwr_do(&r->snd, &swr, IB_WC_SUCCESS, IB_WC_SEND,
			      "SEND_WITH_INV") ?:
		      frwr_wait(&r->rcv, &wc);
		if (!err && (wc.status != IB_WC_SUCCESS ||
			     !(wc.wc_flags & IB_WC_WITH_INVALIDATE) ||
			     wc.ex.invalidate_rkey != mr->rkey)) {
			pr_err("receive of SEND_WITH_INV: %s, flags %#x\n",
			       ib_wc_status_msg(wc.status), wc.wc_flags);
			err = -EIO;
		}
	}
	*key = mr->rkey;
	return err;
}

/*
 * iSER's order: the next registration is mapped (over other memory) while
 * the one before is still valid, then LOCAL_INV of the old key and REG_MR
 * of the new one go in one chain.  The old key reaches the old memory
 * until its LOCAL_INV, and the new one the new memory after its REG_MR.
 */
static int frwr_iser_order(struct ulp_round *r, struct ib_mr *mr,
			   struct scatterlist *sga, struct scatterlist *sgb,
			   u8 *tbuf, u8 *bbuf, u8 *abuf, u64 adma, u32 *key)
{
	struct ib_reg_wr reg = {
		.wr = { .opcode = IB_WR_REG_MR,
			.send_flags = IB_SEND_SIGNALED },
		.mr = mr,
		.access = IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE,
	};
	struct ib_send_wr inv = {
		.opcode = IB_WR_LOCAL_INV, .send_flags = IB_SEND_SIGNALED,
		.next = &reg.wr,
	};
	u32 keya, k, i = FRWR_ROUNDS;
	u64 iova;
	int n, err;

	ib_update_fast_reg_key(mr, ib_inc_rkey(mr->rkey));
	n = ib_map_mr_sg(mr, sga, 1, NULL, PAGE_SIZE);
	if (n != 1)
		return n < 0 ? n : -EIO;
	reg.key = mr->rkey;
	err = frwr_do(&r->rcv, &reg.wr, IB_WC_SUCCESS, IB_WC_REG_MR, "REG_MR");
	if (err)
		return err;
	keya = mr->rkey;
	iova = mr->iova;

	/* the next one mapped over bbuf, the old one still valid */
	ib_update_fast_reg_key(mr, ib_inc_rkey(mr->rkey));
	n = ib_map_mr_sg(mr, sgb, 1, NULL, PAGE_SIZE);
	if (n != 1)
		return n < 0 ? n : -EIO;
	memset(tbuf, 0, FRWR_OFF + FRWR_LEN);
	memset(bbuf, 0, FRWR_OFF + FRWR_LEN);
	for (k = 0; k < 1024; k++)
		abuf[k] = ulp_byte(r->seed, i, k);
	err = frwr_rdma(r, adma, iova, keya, 300, 1024, false,
			IB_WC_SUCCESS) ?:
	      frwr_check(r, tbuf, i, 300, 1024, "old key, next mapped") ?:
	      frwr_check(r, bbuf, i, 0, 0, "the next memory, not registered");
	if (err)
		return err;

	inv.ex.invalidate_rkey = keya;
	reg.key = mr->rkey;
	err = frwr_do_two(&r->rcv, &inv, IB_WC_LOCAL_INV, IB_WC_REG_MR,
			  "LOCAL_INV then REG_MR");
	if (err)
		return err;
	for (k = 0; k < 1024; k++)
		abuf[k] = ulp_byte(r->seed, i + 1, k);
	err = frwr_rdma(r, adma, mr->iova, mr->rkey, 0, 1024, false,
			IB_WC_SUCCESS) ?:
	      frwr_check(r, bbuf, i + 1, 0, 1024, "new key") ?:
	      frwr_check(r, tbuf, i, 300, 1024, "old memory after REG_MR");
	if (err)
		return err;
	inv.ex.invalidate_rkey = mr->rkey;
	inv.next = NULL;
	err = frwr_do(&r->rcv, &inv, IB_WC_SUCCESS, IB_WC_LOCAL_INV,
		      "LOCAL_INV");
	/* the old key is the one refused at the end */
	*key = keya;
	return err;
}

/*
 * A REG_MR and, behind it in one chain, a READ whose local SGE is by the
 * key that REG_MR registers (as rdma_rw posts them): the key is checked
 * as the READ runs, not at the post, and the response lands through it.
 * The READ is of the MR itself, through the peer (allowed remote reads
 * for it): 1 KiB from its start to 2 KiB in.
 */
static int frwr_reg_then_read(struct ulp_round *r, struct ib_mr *mr,
			      struct scatterlist *sg, u8 *tbuf)
{
	struct ib_qp_attr qa = {
		.qp_access_flags = IB_ACCESS_LOCAL_WRITE |
				   IB_ACCESS_REMOTE_READ,
	};
	struct ib_sge sge = { .length = 1024 };
	struct ib_rdma_wr rd = {
		.wr = { .opcode = IB_WR_RDMA_READ, .sg_list = &sge,
			.num_sge = 1, .send_flags = IB_SEND_SIGNALED },
	};
	struct ib_reg_wr reg = {
		.wr = { .opcode = IB_WR_REG_MR, .next = &rd.wr,
			.send_flags = IB_SEND_SIGNALED },
		.mr = mr,
		.access = IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_READ,
	};
	struct ib_send_wr inv = {
		.opcode = IB_WR_LOCAL_INV, .send_flags = IB_SEND_SIGNALED,
	};
	u32 i = FRWR_ROUNDS + 2, k;
	int n, err;

	err = ib_modify_qp(r->snd.qp, &qa, IB_QP_ACCESS_FLAGS);
	if (err)
		return err;
	memset(tbuf, 0, FRWR_OFF + FRWR_LEN);
	for (k = 0; k < 1024; k++)
		tbuf[FRWR_OFF + k] = ulp_byte(r->seed, i, k);
	ib_update_fast_reg_key(mr, ib_inc_rkey(mr->rkey));
	n = ib_map_mr_sg(mr, sg, 1, NULL, PAGE_SIZE);
	if (n != 1)
		return n < 0 ? n : -EIO;
	reg.key = mr->rkey;
	rd.remote_addr = mr->iova;
	rd.rkey = mr->rkey;
	sge.addr = mr->iova + 2048;
	sge.lkey = mr->rkey;
	err = frwr_do_two(&r->rcv, &reg.wr, IB_WC_REG_MR, IB_WC_RDMA_READ,
			  "REG_MR then READ");
	if (err)
		return err;
	for (k = 0; k < 1024; k++)
		if (tbuf[FRWR_OFF + 2048 + k] != ulp_byte(r->seed, i, k)) {
			pr_err("REG_MR then READ: byte %u wrong\n", k);
			return -EIO;
		}
	inv.ex.invalidate_rkey = mr->rkey;
	return frwr_do(&r->rcv, &inv, IB_WC_SUCCESS, IB_WC_LOCAL_INV,
		       "LOCAL_INV");
}

/* The initiator's QP and the target's, which allows remote access. */
static int frwr_connect(struct ulp_round *r)
{
	return ulp_qp_connect(r, &r->snd, r->rcv.qp->qp_num,
			      IB_ACCESS_LOCAL_WRITE) ?:
	       ulp_qp_connect(r, &r->rcv, r->snd.qp->qp_num,
			      IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE |
			      IB_ACCESS_REMOTE_READ);
}

/*
 * A REG_MR under a key whose index is another MR's is refused: the WR
 * completes with LOC_QP_OP_ERR (and its QP goes to ERR).  Both QPs are
 * then reset and connected again.
 */
static int frwr_reg_wrong_index(struct ulp_round *r, struct ib_mr *mr,
				struct scatterlist *sg)
{
	struct ib_reg_wr reg = {
		.wr = { .opcode = IB_WR_REG_MR,
			.send_flags = IB_SEND_SIGNALED },
		.mr = mr,
		.access = IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE,
		.key = mr->rkey ^ 0x100,
	};
	struct ib_qp_attr a = { .qp_state = IB_QPS_RESET };
	int n, err;

	n = ib_map_mr_sg(mr, sg, 1, NULL, PAGE_SIZE);
	if (n != 1)
		return n < 0 ? n : -EIO;
	err = frwr_do(&r->rcv, &reg.wr, IB_WC_LOC_QP_OP_ERR, IB_WC_REG_MR,
		      "REG_MR under another MR's index");
	return err ?: ib_modify_qp(r->snd.qp, &a, IB_QP_STATE) ?:
	       ib_modify_qp(r->rcv.qp, &a, IB_QP_STATE) ?: frwr_connect(r);
}

static int frwr_run(struct ib_device *ibdev)
{
	const struct ib_gid_attr *ga;
	struct scatterlist sg, sgb;
	struct ulp_round *r;
	u8 *tbuf = NULL, *bbuf = NULL, *abuf = NULL;
	struct ib_mr *mr = NULL;
	u64 adma = 0;
	u32 i, key = 0;
	int err;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->ibdev = ibdev;
	r->seed = get_random_u32();
	ga = rdma_get_gid_attr(ibdev, 1, gid);
	if (IS_ERR(ga)) {
		err = PTR_ERR(ga);
		goto out;
	}
	r->gid = ga->gid;
	err = rdma_read_gid_l2_fields(ga, NULL, r->mac);
	rdma_put_gid_attr(ga);
	if (err)
		goto out;
	if (!(ibdev->attrs.device_cap_flags & IB_DEVICE_MEM_MGT_EXTENSIONS)) {
		pr_err("no IB_DEVICE_MEM_MGT_EXTENSIONS\n");
		err = -EOPNOTSUPP;
		goto out;
	}
	r->pd = ib_alloc_pd(ibdev, 0);
	if (IS_ERR(r->pd)) {
		err = PTR_ERR(r->pd);
		r->pd = NULL;
		goto out;
	}
	err = ulp_qp_create(r, &r->snd) ?: ulp_qp_create(r, &r->rcv);
	if (err)
		goto out;
	err = frwr_connect(r);
	if (err)
		goto out;
	tbuf = kmalloc(FRWR_OFF + FRWR_LEN, GFP_KERNEL);
	bbuf = kmalloc(FRWR_OFF + FRWR_LEN, GFP_KERNEL);
	abuf = kzalloc(4096, GFP_KERNEL);
	mr = ib_alloc_mr(r->pd, IB_MR_TYPE_MEM_REG, 8);
	if (!tbuf || !bbuf || !abuf || IS_ERR(mr)) {
		err = IS_ERR(mr) ? PTR_ERR(mr) : -ENOMEM;
		if (IS_ERR(mr))
			mr = NULL;
		goto out;
	}
	sg_init_one(&sg, tbuf + FRWR_OFF, FRWR_LEN);
	sg_init_one(&sgb, bbuf + FRWR_OFF, FRWR_LEN);
	if (ib_dma_map_sg(ibdev, &sg, 1, DMA_BIDIRECTIONAL) != 1) {
		err = -ENOMEM;
		goto out;
	}
	if (ib_dma_map_sg(ibdev, &sgb, 1, DMA_BIDIRECTIONAL) != 1) {
		ib_dma_unmap_sg(ibdev, &sg, 1, DMA_BIDIRECTIONAL);
		err = -ENOMEM;
		goto out;
	}
	adma = ib_dma_map_single(ibdev, abuf, 4096, DMA_BIDIRECTIONAL);
	for (i = 0; i < FRWR_ROUNDS && !err; i++)
		err = frwr_round(r, mr, &sg, tbuf, abuf, adma, i, &key);
	if (!err)
		err = frwr_iser_order(r, mr, &sg, &sgb, tbuf, bbuf, abuf, adma,
				      &key);
	if (!err)
		err = frwr_reg_then_read(r, mr, &sg, tbuf);
	if (!err)
		err = frwr_reg_wrong_index(r, mr, &sg);
	/* the last key, invalidated, reaches nothing: a remote access error */
	if (!err)
		err = frwr_rdma(r, adma, mr->iova, key, 0, 64, false,
				IB_WC_REM_ACCESS_ERR);
	ib_dma_unmap_single(ibdev, adma, 4096, DMA_BIDIRECTIONAL);
	ib_dma_unmap_sg(ibdev, &sgb, 1, DMA_BIDIRECTIONAL);
	ib_dma_unmap_sg(ibdev, &sg, 1, DMA_BIDIRECTIONAL);
	if (!err)
		pr_info("%u fast registrations on %s: written, read, invalidated (LOCAL_INV and SEND_WITH_INV), mapped ahead in iSER's order, a READ into it behind its REG_MR, a key of another index refused, the old key refused\n",
			FRWR_ROUNDS, dev_name(&ibdev->dev));
out:
	if (r->snd.qp)
		ib_destroy_qp(r->snd.qp);
	if (r->rcv.qp)
		ib_destroy_qp(r->rcv.qp);
	if (mr)
		ib_dereg_mr(mr);
	if (r->snd.cq)
		ib_free_cq(r->snd.cq);
	if (r->rcv.cq)
		ib_free_cq(r->rcv.cq);
	if (r->pd)
		ib_dealloc_pd(r->pd);
	kfree(tbuf);
	kfree(bbuf);
	kfree(abuf);
	kfree(r);
	if (err)
		pr_err("fast registration: %d\n", err);
	return err;
}

struct ulp_main {
	struct ib_device	*ibdev;
	struct completion	done;
	int			post_cpu;
	int			err;
};

/* The rounds run on one CPU, bound, and post on another. */
static int ulp_thread(void *data)
{
	struct ulp_main *m = data;

	if (!strcmp(test, "frwr"))
		m->err = frwr_run(m->ibdev);
	else
		m->err = ulp_run(m->ibdev, m->post_cpu);
	complete(&m->done);
	return 0;
}

static int __init ulp_test_init(void)
{
	struct ulp_main m = {};
	struct task_struct *t;
	int cpu;

	cpu = cpumask_first(cpu_online_mask);
	m.post_cpu = cpumask_next(cpu, cpu_online_mask);
	if (m.post_cpu >= nr_cpu_ids) {
		pr_err("needs two CPUs\n");
		return -EOPNOTSUPP;
	}
	m.ibdev = ib_device_get_by_name(dev, RDMA_DRIVER_UNKNOWN);
	if (!m.ibdev) {
		pr_err("no ib device '%s'\n", dev);
		return -ENODEV;
	}
	init_completion(&m.done);
	t = kthread_create_on_cpu(ulp_thread, &m, cpu, "rxdp_ulp_test/%u");
	if (IS_ERR(t)) {
		m.err = PTR_ERR(t);
	} else {
		/* it must be gone from this module's text before init ends */
		get_task_struct(t);
		wake_up_process(t);
		wait_for_completion(&m.done);
		kthread_stop_put(t);
	}
	ib_device_put(m.ibdev);
	return m.err ? -EIO : 0;
}

static void __exit ulp_test_exit(void)
{
}

module_init(ulp_test_init);
module_exit(ulp_test_exit);
MODULE_DESCRIPTION("rxdp selftests: a kernel ULP on an rxdp device");
MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0
/*
 * Posting work requests and what becomes of them without a peer: the
 * states that accept posts, full queues, flushing on ERR (signalled or
 * not, posted before or after), RESET emptying the queues, the provider's
 * own checks, the kernel's checks at the doorbell (a bad WR completes in
 * error and takes the QP to ERR), the RC retry timer, and the last-WQE
 * event of a QP on an SRQ.
 *
 * Paths lead to DEAD_QPN on the device's own GID and RC QPs use timeout 31
 * (hours): once packets flow, RC sends still wait, UC and UD ones may
 * complete successfully, which the tests allow.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "rxdp_test.h"

TESTDEV_DEFINE(tdev, "rxdpq2", "rxq2a", "rxq2b", "10.77.2.1");

static const enum ibv_qp_type qp_types[] = { IBV_QPT_RC, IBV_QPT_UC,
					     IBV_QPT_UD };
#define NTYPES	3
#define QKEY	0x11111111

static struct ibv_ah *own_ah(struct qp_env *e, struct ibv_pd *pd)
{
	struct ibv_ah_attr aa = {
		.is_global = 1,
		.port_num = 1,
		.grh = { .dgid = e->gid, .sgid_index = e->gid_index,
			 .hop_limit = 64 },
	};

	return ibv_create_ah(pd, &aa);
}

/* One SEND of 64 bytes of e's buffer (UD: through ah to DEAD_QPN). */
static int post_one(struct qp_env *e, struct ibv_qp *qp, struct ibv_ah *ah,
		    uint64_t wr_id, unsigned int flags)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)e->buf, .length = 64, .lkey = e->mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = wr_id, .sg_list = &sge, .num_sge = 1,
		.opcode = IBV_WR_SEND, .send_flags = flags,
	}, *bad;

	wr.wr.ud.ah = ah;
	wr.wr.ud.remote_qpn = DEAD_QPN;
	wr.wr.ud.remote_qkey = QKEY;
	return verr(ibv_post_send(qp, &wr, &bad));
}

/* Expect exactly n flushed completions wr_id base.. in order on cq. */
static void expect_flushed(struct __test_metadata *_metadata,
			   struct ibv_cq *cq, struct ibv_qp *qp, int n,
			   uint64_t base, const char *what)
{
	struct ibv_wc wc[64];
	int got, i;

	got = poll_n(cq, n, wc, 2000);
	EXPECT_EQ(n, got) TH_LOG("%s: %d of %d completions", what, got, n);
	for (i = 0; i < got; i++) {
		EXPECT_EQ(IBV_WC_WR_FLUSH_ERR, wc[i].status) {
			TH_LOG("%s #%d: status %s", what, i,
			       ibv_wc_status_str(wc[i].status));
		}
		EXPECT_EQ(base + i, wc[i].wr_id) TH_LOG("%s #%d", what, i);
		EXPECT_EQ(qp->qp_num, wc[i].qp_num);
	}
	/* and not one more */
	EXPECT_EQ(0, poll_n(cq, 64, wc, 100)) {
		TH_LOG("%s: extra completion wr_id %llu status %s", what,
		       (unsigned long long)wc[0].wr_id,
		       ibv_wc_status_str(wc[0].status));
	}
}

FIXTURE(post) {
	struct qp_env e;
	struct ibv_ah *ah;
};

FIXTURE_SETUP(post)
{
	ASSERT_EQ(0, testdev_ensure(&tdev));
	ASSERT_EQ(0, qp_env_open(&self->e, tdev.name));
	self->ah = own_ah(&self->e, self->e.pd);
	ASSERT_NE(NULL, self->ah);
}

FIXTURE_TEARDOWN(post)
{
	if (self->e.qp) {
		ibv_destroy_qp(self->e.qp);
		self->e.qp = NULL;
	}
	if (self->ah)
		ibv_destroy_ah(self->ah);
	qp_env_close(&self->e);
	testdev_release(&tdev);
}

/* ---- flush on ERR ----------------------------------------------------- */

FIXTURE(flush) {
	struct qp_env e;
};

FIXTURE_VARIANT(flush) {
	enum ibv_qp_state state;
};

FIXTURE_VARIANT_ADD(flush, from_init) { IBV_QPS_INIT };
FIXTURE_VARIANT_ADD(flush, from_rtr) { IBV_QPS_RTR };
FIXTURE_VARIANT_ADD(flush, from_rts) { IBV_QPS_RTS };
FIXTURE_VARIANT_ADD(flush, from_sqd) { IBV_QPS_SQD };

FIXTURE_SETUP(flush)
{
	ASSERT_EQ(0, testdev_ensure(&tdev));
	ASSERT_EQ(0, qp_env_open(&self->e, tdev.name));
}

FIXTURE_TEARDOWN(flush)
{
	qp_env_close(&self->e);
	testdev_release(&tdev);
}

TEST_F(flush, receives_and_sends)
{
	struct qp_env *e = &self->e;
	int t;

	for (t = 0; t < NTYPES; t++) {
		bool sends = qp_types[t] == IBV_QPT_RC &&
			variant->state >= IBV_QPS_RTS;
		struct ibv_qp *qp = e->qp = qp_create(e, qp_types[t], 16);
		char what[32];

		ASSERT_NE(NULL, qp);
		if (variant->state == IBV_QPS_SQD) {
			/* sends posted in RTS, then the SQ is drained */
			ASSERT_EQ(0, qp_bring_to(e, qp, IBV_QPS_RTS));
		} else {
			ASSERT_EQ(0, qp_bring_to(e, qp, variant->state));
		}
		if (sends) {
			ASSERT_EQ(0, post_sends(qp, e->mr, 64, 3, 2000,
						IBV_SEND_SIGNALED));
		}
		if (variant->state == IBV_QPS_SQD) {
			ASSERT_EQ(0, qp_to_simple(qp, IBV_QPS_SQD));
		}
		ASSERT_EQ(0, post_recvs(qp, e->mr, 128, 5, 1000));

		ASSERT_EQ(0, qp_to_simple(qp, IBV_QPS_ERR));
		EXPECT_EQ(IBV_QPS_ERR, qp_state(qp));
		snprintf(what, sizeof(what), "%s recv",
			 qp_type_name(qp_types[t]));
		expect_flushed(_metadata, e->rcq, qp, 5, 1000, what);
		snprintf(what, sizeof(what), "%s send",
			 qp_type_name(qp_types[t]));
		expect_flushed(_metadata, e->scq, qp, sends ? 3 : 0, 2000,
			       what);
		ASSERT_EQ(0, ibv_destroy_qp(qp));
		e->qp = NULL;
	}
}

TEST_F(post, flush_unsignalled_sends)
{
	struct qp_env *e = &self->e;
	struct ibv_qp_init_attr ia = {
		.send_cq = e->scq, .recv_cq = e->rcq, .qp_type = IBV_QPT_RC,
		.sq_sig_all = 0, .cap = { 8, 8, 1, 1, 0 },
	};
	struct ibv_qp *qp;

	qp = e->qp = ibv_create_qp(e->pd, &ia);
	ASSERT_NE(NULL, qp);
	ASSERT_EQ(0, qp_bring_to(e, qp, IBV_QPS_RTS));
	ASSERT_EQ(0, post_sends(qp, e->mr, 64, 2, 10, 0));
	ASSERT_EQ(0, post_sends(qp, e->mr, 64, 1, 12, IBV_SEND_SIGNALED));
	ASSERT_EQ(0, post_sends(qp, e->mr, 64, 2, 13, 0));
	/* a WR that completes in error always has a completion */
	ASSERT_EQ(0, qp_to_simple(qp, IBV_QPS_ERR));
	expect_flushed(_metadata, e->scq, qp, 5, 10, "unsignalled");
}

TEST_F(post, send_after_err_flushes)
{
	struct qp_env *e = &self->e;
	struct ibv_qp_init_attr ia = {
		.send_cq = e->scq, .recv_cq = e->rcq,
		.sq_sig_all = 0, .cap = { 8, 8, 1, 1, 0 },
	};
	int t;

	for (t = 0; t < NTYPES; t++) {
		struct ibv_qp *qp;

		ia.qp_type = qp_types[t];
		qp = e->qp = ibv_create_qp(e->pd, &ia);
		ASSERT_NE(NULL, qp);
		ASSERT_EQ(0, qp_bring_to(e, qp, IBV_QPS_RTS));
		ASSERT_EQ(0, qp_to_simple(qp, IBV_QPS_ERR));
		/* the doorbell flushes them at once, signalled or not */
		EXPECT_EQ(0, post_one(e, qp, self->ah, 50, IBV_SEND_SIGNALED));
		EXPECT_EQ(0, post_one(e, qp, self->ah, 51, 0));
		expect_flushed(_metadata, e->scq, qp, 2, 50,
			       qp_type_name(qp_types[t]));
		ASSERT_EQ(0, ibv_destroy_qp(qp));
		e->qp = NULL;
	}
}

/* ---- RESET ------------------------------------------------------------ */

TEST_F(post, reset_empties_queues)
{
	struct qp_env *e = &self->e;
	struct ibv_qp_init_attr ia;
	struct ibv_qp_attr a;
	struct ibv_qp *qp;
	struct ibv_wc wc[8];

	qp = e->qp = qp_create(e, IBV_QPT_RC, 8);
	ASSERT_NE(NULL, qp);
	ASSERT_EQ(0, qp_to_init(e, qp));
	ASSERT_EQ(0, post_recvs(qp, e->mr, 64, 3, 1));
	ASSERT_EQ(0, qp_to_rtr(e, qp));
	ASSERT_EQ(0, qp_to_rts(e, qp));
	ASSERT_EQ(0, post_sends(qp, e->mr, 64, 2, 11, IBV_SEND_SIGNALED));

	/* RESET drops everything without a completion */
	ASSERT_EQ(0, qp_to_simple(qp, IBV_QPS_RESET));
	EXPECT_EQ(IBV_QPS_RESET, qp_state(qp));
	EXPECT_EQ(0, poll_n(e->rcq, 8, wc, 100));
	EXPECT_EQ(0, poll_n(e->scq, 8, wc, 0));

	/* and the QP works again */
	ASSERT_EQ(0, qp_bring_to(e, qp, IBV_QPS_RTS));
	EXPECT_EQ(IBV_QPS_RTS, qp_state(qp));
	ASSERT_EQ(0, post_recvs(qp, e->mr, 64, 1, 21));
	ASSERT_EQ(0, post_sends(qp, e->mr, 64, 1, 31, IBV_SEND_SIGNALED));
	ASSERT_EQ(0, qp_to_simple(qp, IBV_QPS_ERR));
	/* only what was posted after the RESET */
	expect_flushed(_metadata, e->rcq, qp, 1, 21, "recv");
	expect_flushed(_metadata, e->scq, qp, 1, 31, "send");

	/* a whole queue's worth after RESET: nothing was left behind */
	ASSERT_EQ(0, qp_to_simple(qp, IBV_QPS_RESET));
	ASSERT_EQ(0, qp_query(qp, &a, &ia));
	ASSERT_LE(ia.cap.max_recv_wr, 64);
	ASSERT_LE(ia.cap.max_send_wr, 64);
	ASSERT_EQ(0, qp_bring_to(e, qp, IBV_QPS_RTS));
	EXPECT_EQ(0, post_recvs(qp, e->mr, 64, ia.cap.max_recv_wr, 100));
	EXPECT_EQ(0, post_sends(qp, e->mr, 64, ia.cap.max_send_wr, 200,
				IBV_SEND_SIGNALED));
	ASSERT_EQ(0, qp_to_simple(qp, IBV_QPS_ERR));
	expect_flushed(_metadata, e->rcq, qp, ia.cap.max_recv_wr, 100, "recv");
	expect_flushed(_metadata, e->scq, qp, ia.cap.max_send_wr, 200, "send");
}

/* ---- which states take posts ----------------------------------------- */

TEST_F(post, recv_needs_init)
{
	struct qp_env *e = &self->e;
	int t;

	for (t = 0; t < NTYPES; t++) {
		struct ibv_qp *qp = e->qp = qp_create(e, qp_types[t], 4);

		ASSERT_NE(NULL, qp);
		EXPECT_EQ(EINVAL, post_recvs(qp, e->mr, 64, 1, 1));
		ASSERT_EQ(0, qp_to_init(e, qp));
		EXPECT_EQ(0, post_recvs(qp, e->mr, 64, 1, 2));
		ASSERT_EQ(0, qp_to_simple(qp, IBV_QPS_ERR));
		/* the one refused in RESET never shows up */
		expect_flushed(_metadata, e->rcq, qp, 1, 2,
			       qp_type_name(qp_types[t]));
		ASSERT_EQ(0, ibv_destroy_qp(qp));
		e->qp = NULL;
	}
}

TEST_F(post, send_needs_rts)
{
	static const enum ibv_qp_state early[] = {
		IBV_QPS_RESET, IBV_QPS_INIT, IBV_QPS_RTR,
	};
	struct qp_env *e = &self->e;
	struct ibv_wc wc[8];
	int t, s, n, i;

	for (t = 0; t < NTYPES; t++) {
		struct ibv_qp *qp = e->qp = qp_create(e, qp_types[t], 8);

		ASSERT_NE(NULL, qp);
		for (s = 0; s < 3; s++) {
			ASSERT_EQ(0, qp_bring_to(e, qp, early[s]));
			EXPECT_EQ(EINVAL, post_one(e, qp, self->ah, 1 + s,
						   IBV_SEND_SIGNALED)) {
				TH_LOG("%s in %s", qp_type_name(qp_types[t]),
				       qp_state_name(early[s]));
			}
			if (early[s] != IBV_QPS_RTR) {
				ASSERT_EQ(0, qp_to_simple(qp, IBV_QPS_RESET));
			}
		}
		ASSERT_EQ(0, qp_to_rts(e, qp));
		EXPECT_EQ(0, post_one(e, qp, self->ah, 100, IBV_SEND_SIGNALED));
		EXPECT_EQ(0, post_one(e, qp, self->ah, 101, IBV_SEND_SIGNALED));
		ASSERT_EQ(0, qp_to_simple(qp, IBV_QPS_ERR));
		/*
		 * Only the two posted in RTS complete (flushed; UC/UD ones
		 * may have been sent), never those refused before.
		 */
		n = poll_n(e->scq, 2, wc, 2000);
		n += poll_n(e->scq, 8 - n, wc + n, 100);
		EXPECT_EQ(2, n);
		for (i = 0; i < n; i++) {
			EXPECT_EQ(100 + i, wc[i].wr_id) {
				TH_LOG("%s: completion #%d wr_id %llu status %s",
				       qp_type_name(qp_types[t]), i,
				       (unsigned long long)wc[i].wr_id,
				       ibv_wc_status_str(wc[i].status));
			}
			EXPECT_TRUE(wc[i].status == IBV_WC_WR_FLUSH_ERR ||
				    (qp_types[t] != IBV_QPT_RC &&
				     wc[i].status == IBV_WC_SUCCESS));
		}
		ASSERT_EQ(0, ibv_destroy_qp(qp));
		e->qp = NULL;
	}
}

TEST_F(post, queues_fill_up)
{
	struct qp_env *e = &self->e;
	struct ibv_qp_init_attr ia = {
		.send_cq = e->scq, .recv_cq = e->rcq, .qp_type = IBV_QPT_RC,
		.sq_sig_all = 1, .cap = { 6, 10, 1, 1, 0 },
	};
	uint32_t sends, recvs;
	struct ibv_qp *qp;

	qp = e->qp = ibv_create_qp(e->pd, &ia);
	ASSERT_NE(NULL, qp);
	sends = ia.cap.max_send_wr;
	recvs = ia.cap.max_recv_wr;
	ASSERT_LE(sends, 200);
	ASSERT_LE(recvs, 200);
	ASSERT_EQ(0, qp_bring_to(e, qp, IBV_QPS_RTS));

	EXPECT_EQ(0, post_sends(qp, e->mr, 64, sends, 0, 0));
	EXPECT_EQ(ENOMEM, post_sends(qp, e->mr, 64, 1, sends, 0)) {
		TH_LOG("send %u of max_send_wr %u", sends + 1, sends);
	}
	EXPECT_EQ(0, post_recvs(qp, e->mr, 64, recvs, 1000));
	EXPECT_EQ(ENOMEM, post_recvs(qp, e->mr, 64, 1, 1000 + recvs)) {
		TH_LOG("recv %u of max_recv_wr %u", recvs + 1, recvs);
	}
	/* the refused ones were not queued */
	ASSERT_EQ(0, qp_to_simple(qp, IBV_QPS_ERR));
	expect_flushed(_metadata, e->scq, qp, sends, 0, "send");
	expect_flushed(_metadata, e->rcq, qp, recvs, 1000, "recv");
}

/* The rxe provider checks these itself, before the WQE is queued. */
TEST_F(post, provider_refuses)
{
	struct qp_env *e = &self->e;
	struct ibv_qp_init_attr ia = {
		.send_cq = e->scq, .recv_cq = e->rcq, .qp_type = IBV_QPT_RC,
		.sq_sig_all = 1, .cap = { 8, 8, 2, 1, 64 },
	};
	struct ibv_sge sge[64];
	struct ibv_send_wr wr, *bad;
	struct ibv_qp *qp;
	uint32_t i;

	qp = e->qp = ibv_create_qp(e->pd, &ia);
	ASSERT_NE(NULL, qp);
	ASSERT_LT(ia.cap.max_send_sge, 64);
	ASSERT_LT(ia.cap.max_inline_data, e->buf_len);
	ASSERT_EQ(0, qp_bring_to(e, qp, IBV_QPS_RTS));
	for (i = 0; i < 64; i++) {
		sge[i].addr = (uintptr_t)e->buf + 8 * i;
		sge[i].length = 8;
		sge[i].lkey = e->mr->lkey;
	}

	/* more SGEs than max_send_sge */
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = 1;
	wr.opcode = IBV_WR_SEND;
	wr.sg_list = sge;
	wr.num_sge = ia.cap.max_send_sge + 1;
	EXPECT_EQ(EINVAL, verr(ibv_post_send(qp, &wr, &bad)));
	EXPECT_EQ(&wr, bad);

	/* inline data longer than max_inline_data */
	wr.wr_id = 2;
	wr.num_sge = 1;
	wr.send_flags = IBV_SEND_INLINE;
	sge[0].length = ia.cap.max_inline_data + 1;
	EXPECT_EQ(EINVAL, verr(ibv_post_send(qp, &wr, &bad)));
	sge[0].length = 8;

	/* atomics: an unaligned remote address, a short local buffer */
	wr.wr_id = 3;
	wr.send_flags = 0;
	wr.opcode = IBV_WR_ATOMIC_FETCH_AND_ADD;
	wr.wr.atomic.remote_addr = 0x1004;
	wr.wr.atomic.rkey = e->mr->rkey;
	EXPECT_EQ(EINVAL, verr(ibv_post_send(qp, &wr, &bad)));
	wr.wr_id = 4;
	wr.opcode = IBV_WR_ATOMIC_CMP_AND_SWP;
	wr.wr.atomic.remote_addr = 0x1000;
	sge[0].length = 4;
	EXPECT_EQ(EINVAL, verr(ibv_post_send(qp, &wr, &bad)));

	/* none of them was queued and the QP is fine */
	EXPECT_EQ(IBV_QPS_RTS, qp_state(qp));
	ASSERT_EQ(0, qp_to_simple(qp, IBV_QPS_ERR));
	expect_flushed(_metadata, e->scq, qp, 0, 0, "refused sends");
}

/* ---- the kernel's checks at the doorbell, as a table ----------------- */

enum wr_fault {
	W_NONE,
	W_BAD_LKEY,		/* an lkey that does not exist (any more) */
	W_OTHER_PD_LKEY,	/* the lkey of an MR of another PD */
	W_PAST_END,		/* the SGE runs past the end of its MR */
	W_BEFORE_START,		/* the SGE starts before its MR */
	W_LEN,			/* 0: 64 bytes; else this many */
	W_AH_OTHER_PD,		/* UD: an AH of another PD */
};

enum wr_expect {
	E_VALID,		/* accepted, no error, QP stays in RTS */
	E_BAD,			/* completes in error, QP goes to ERR */
	E_REFUSED_OR_BAD,	/* the provider refuses it, or E_BAD */
};

FIXTURE(wr) {
	struct qp_env e;
	struct ibv_pd *pd2;
	void *buf2;
	struct ibv_mr *mr2;	/* an MR of pd2 */
	struct ibv_ah *ah, *ah2;	/* on e.pd, on pd2 */
	uint32_t dead_lkey;
};

FIXTURE_VARIANT(wr) {
	enum ibv_qp_type type;
	enum ibv_wr_opcode opcode;
	enum wr_fault fault;
	uint32_t len;
	enum wr_expect expect;
};

#define W(name, t, op, f, l, x)						\
	FIXTURE_VARIANT_ADD(wr, name) {					\
		.type = IBV_QPT_##t, .opcode = IBV_WR_##op,		\
		.fault = f, .len = l, .expect = x };

/* what each type may do */
W(rc_send, RC, SEND, W_NONE, 0, E_VALID)
W(rc_send_imm, RC, SEND_WITH_IMM, W_NONE, 0, E_VALID)
W(rc_write, RC, RDMA_WRITE, W_NONE, 0, E_VALID)
W(rc_write_imm, RC, RDMA_WRITE_WITH_IMM, W_NONE, 0, E_VALID)
W(rc_read, RC, RDMA_READ, W_NONE, 0, E_VALID)
W(rc_cmp_swap, RC, ATOMIC_CMP_AND_SWP, W_NONE, 8, E_VALID)
W(rc_fetch_add, RC, ATOMIC_FETCH_AND_ADD, W_NONE, 8, E_VALID)
W(rc_send_4096, RC, SEND, W_LEN, 4096, E_VALID)
W(uc_send, UC, SEND, W_NONE, 0, E_VALID)
W(uc_send_imm, UC, SEND_WITH_IMM, W_NONE, 0, E_VALID)
W(uc_write, UC, RDMA_WRITE, W_NONE, 0, E_VALID)
W(uc_write_imm, UC, RDMA_WRITE_WITH_IMM, W_NONE, 0, E_VALID)
W(ud_send, UD, SEND, W_NONE, 0, E_VALID)
W(ud_send_imm, UD, SEND_WITH_IMM, W_NONE, 0, E_VALID)
W(ud_send_mtu, UD, SEND, W_LEN, 1024, E_VALID)
/* and what it may not */
W(uc_read, UC, RDMA_READ, W_NONE, 0, E_BAD)
W(uc_cmp_swap, UC, ATOMIC_CMP_AND_SWP, W_NONE, 8, E_BAD)
W(uc_fetch_add, UC, ATOMIC_FETCH_AND_ADD, W_NONE, 8, E_BAD)
W(ud_read, UD, RDMA_READ, W_NONE, 0, E_BAD)
W(ud_write, UD, RDMA_WRITE, W_NONE, 0, E_BAD)
W(ud_write_imm, UD, RDMA_WRITE_WITH_IMM, W_NONE, 0, E_BAD)
W(ud_cmp_swap, UD, ATOMIC_CMP_AND_SWP, W_NONE, 8, E_BAD)
W(ud_fetch_add, UD, ATOMIC_FETCH_AND_ADD, W_NONE, 8, E_BAD)
W(ud_bind_mw, UD, BIND_MW, W_NONE, 0, E_REFUSED_OR_BAD)
/* bad memory */
W(rc_send_bad_lkey, RC, SEND, W_BAD_LKEY, 0, E_BAD)
W(rc_write_bad_lkey, RC, RDMA_WRITE, W_BAD_LKEY, 0, E_BAD)
W(uc_send_bad_lkey, UC, SEND, W_BAD_LKEY, 0, E_BAD)
W(ud_send_bad_lkey, UD, SEND, W_BAD_LKEY, 0, E_BAD)
W(rc_send_other_pd, RC, SEND, W_OTHER_PD_LKEY, 0, E_BAD)
W(ud_send_other_pd, UD, SEND, W_OTHER_PD_LKEY, 0, E_BAD)
W(rc_send_past_end, RC, SEND, W_PAST_END, 0, E_BAD)
W(rc_read_past_end, RC, RDMA_READ, W_PAST_END, 0, E_BAD)
W(uc_write_past_end, UC, RDMA_WRITE, W_PAST_END, 0, E_BAD)
W(rc_send_before_start, RC, SEND, W_BEFORE_START, 0, E_BAD)
/* UD specifics */
W(ud_send_over_mtu, UD, SEND, W_LEN, 4096, E_BAD)
W(ud_send_mtu_plus_1, UD, SEND, W_LEN, 1025, E_BAD)
W(ud_send_ah_other_pd, UD, SEND, W_AH_OTHER_PD, 0, E_BAD)
#undef W

FIXTURE_SETUP(wr)
{
	struct ibv_mr *dead;

	ASSERT_EQ(0, testdev_ensure(&tdev));
	ASSERT_EQ(0, qp_env_open(&self->e, tdev.name));
	ASSERT_EQ(IBV_MTU_1024, self->e.port.active_mtu);
	self->pd2 = ibv_alloc_pd(self->e.ctx);
	ASSERT_NE(NULL, self->pd2);
	self->buf2 = calloc(1, 4096);
	ASSERT_NE(NULL, self->buf2);
	self->mr2 = ibv_reg_mr(self->pd2, self->buf2, 4096,
			       IBV_ACCESS_LOCAL_WRITE);
	ASSERT_NE(NULL, self->mr2);
	self->ah = own_ah(&self->e, self->e.pd);
	ASSERT_NE(NULL, self->ah);
	self->ah2 = own_ah(&self->e, self->pd2);
	ASSERT_NE(NULL, self->ah2);
	/* an lkey that existed: deregistered, it must not work */
	dead = ibv_reg_mr(self->e.pd, self->buf2, 4096,
			  IBV_ACCESS_LOCAL_WRITE);
	ASSERT_NE(NULL, dead);
	self->dead_lkey = dead->lkey;
	ASSERT_EQ(0, ibv_dereg_mr(dead));
}

FIXTURE_TEARDOWN(wr)
{
	if (self->e.qp) {
		ibv_destroy_qp(self->e.qp);
		self->e.qp = NULL;
	}
	if (self->ah)
		ibv_destroy_ah(self->ah);
	if (self->ah2)
		ibv_destroy_ah(self->ah2);
	if (self->mr2)
		ibv_dereg_mr(self->mr2);
	if (self->pd2)
		ibv_dealloc_pd(self->pd2);
	free(self->buf2);
	qp_env_close(&self->e);
	testdev_release(&tdev);
}

/* The WR of the variant, into wr and sge. */
static void build_wr(FIXTURE_DATA(wr) *self,
		     const FIXTURE_VARIANT(wr) *v, struct ibv_send_wr *wr,
		     struct ibv_sge *sge)
{
	struct ibv_mr *mr = self->e.mr;

	memset(wr, 0, sizeof(*wr));
	sge->addr = (uintptr_t)mr->addr + 4096;
	sge->length = v->len ? v->len : 64;
	sge->lkey = mr->lkey;
	switch (v->fault) {
	case W_BAD_LKEY:
		sge->lkey = self->dead_lkey;
		break;
	case W_OTHER_PD_LKEY:
		sge->addr = (uintptr_t)self->mr2->addr;
		sge->lkey = self->mr2->lkey;
		break;
	case W_PAST_END:
		sge->addr = (uintptr_t)mr->addr + mr->length - 32;
		break;
	case W_BEFORE_START:
		sge->addr = (uintptr_t)mr->addr - 32;
		break;
	default:
		break;
	}
	wr->wr_id = 10;
	wr->opcode = v->opcode;
	wr->send_flags = IBV_SEND_SIGNALED;
	wr->sg_list = sge;
	wr->num_sge = 1;
	if (v->opcode == IBV_WR_SEND_WITH_IMM ||
	    v->opcode == IBV_WR_RDMA_WRITE_WITH_IMM)
		wr->imm_data = htobe32(0x1234);
	switch (v->opcode) {
	case IBV_WR_ATOMIC_CMP_AND_SWP:
	case IBV_WR_ATOMIC_FETCH_AND_ADD:
		wr->wr.atomic.remote_addr = 0x10000;
		wr->wr.atomic.rkey = 0x1234;
		wr->wr.atomic.compare_add = 1;
		wr->wr.atomic.swap = 2;
		break;
	case IBV_WR_RDMA_WRITE:
	case IBV_WR_RDMA_WRITE_WITH_IMM:
	case IBV_WR_RDMA_READ:
		wr->wr.rdma.remote_addr = 0x10000;
		wr->wr.rdma.rkey = 0x1234;
		break;
	case IBV_WR_BIND_MW:
		wr->num_sge = 0;
		wr->bind_mw.bind_info.mr = mr;
		wr->bind_mw.bind_info.addr = (uintptr_t)mr->addr;
		wr->bind_mw.bind_info.length = 64;
		break;
	default:
		break;
	}
	if (v->type != IBV_QPT_UD)
		return;
	if (v->opcode == IBV_WR_SEND || v->opcode == IBV_WR_SEND_WITH_IMM) {
		wr->wr.ud.ah = v->fault == W_AH_OTHER_PD ? self->ah2 :
							   self->ah;
		wr->wr.ud.remote_qpn = DEAD_QPN;
		wr->wr.ud.remote_qkey = QKEY;
	} else if (v->opcode != IBV_WR_BIND_MW) {
		/*
		 * The provider reads the AH of every WR on a UD QP, whatever
		 * the opcode: wr.ud.ah shares its place with the remote
		 * address, which therefore has to point to an AH.
		 */
		wr->wr.rdma.remote_addr = (uintptr_t)self->ah;
	}
}

static bool local_error(enum ibv_wc_status s)
{
	return s == IBV_WC_LOC_QP_OP_ERR || s == IBV_WC_LOC_PROT_ERR ||
	       s == IBV_WC_LOC_LEN_ERR;
}

TEST_F(wr, doorbell)
{
	struct qp_env *e = &self->e;
	struct ibv_send_wr wr, good[2], *bad = NULL;
	struct ibv_sge sge, gsge = {
		.addr = (uintptr_t)e->buf, .length = 64, .lkey = e->mr->lkey,
	};
	struct ibv_wc wc[8];
	struct ibv_qp *qp;
	int ret, n, i;

	qp = e->qp = qp_create(e, variant->type, 8);
	ASSERT_NE(NULL, qp);
	ASSERT_EQ(0, qp_bring_to(e, qp, IBV_QPS_RTS));
	build_wr(self, variant, &wr, &sge);

	/* two good sends behind it, in the same post */
	for (i = 0; i < 2; i++) {
		memset(&good[i], 0, sizeof(good[i]));
		good[i].wr_id = 11 + i;
		good[i].opcode = IBV_WR_SEND;
		good[i].send_flags = IBV_SEND_SIGNALED;
		good[i].sg_list = &gsge;
		good[i].num_sge = 1;
		good[i].wr.ud.ah = self->ah;
		good[i].wr.ud.remote_qpn = DEAD_QPN;
		good[i].wr.ud.remote_qkey = QKEY;
		good[i].next = i ? NULL : &good[1];
	}
	wr.next = &good[0];
	ret = verr(ibv_post_send(qp, &wr, &bad));

	if (variant->expect == E_REFUSED_OR_BAD && ret == EINVAL) {
		/* refused by the provider: nothing queued, nothing broken */
		EXPECT_EQ(&wr, bad);
		EXPECT_EQ(0, poll_n(e->scq, 8, wc, 100));
		EXPECT_EQ(IBV_QPS_RTS, qp_state(qp));
		return;
	}
	ASSERT_EQ(0, ret) TH_LOG("post: %s", strerror(ret));

	if (variant->expect == E_VALID) {
		/*
		 * Nothing goes wrong: no error completion; RC waits for an
		 * ack that never comes, UC/UD ones may complete once sent.
		 */
		n = poll_n(e->scq, 3, wc, 200);
		for (i = 0; i < n; i++) {
			EXPECT_EQ(IBV_WC_SUCCESS, wc[i].status) {
				TH_LOG("wr_id %llu: %s",
				       (unsigned long long)wc[i].wr_id,
				       ibv_wc_status_str(wc[i].status));
			}
		}
		if (variant->type == IBV_QPT_RC) {
			EXPECT_EQ(0, n);
		}
		EXPECT_EQ(IBV_QPS_RTS, qp_state(qp));
		return;
	}

	/* the bad one completes in error, the good ones behind it flush */
	n = poll_n(e->scq, 3, wc, 2000);
	ASSERT_GE(n, 1) TH_LOG("no completion for the bad WR");
	EXPECT_EQ(10, wc[0].wr_id);
	EXPECT_TRUE(local_error(wc[0].status)) {
		TH_LOG("bad WR completed with %s",
		       ibv_wc_status_str(wc[0].status));
	}
	EXPECT_EQ(3, n);
	for (i = 1; i < n; i++) {
		EXPECT_EQ(10 + i, wc[i].wr_id);
		EXPECT_EQ(IBV_WC_WR_FLUSH_ERR, wc[i].status) {
			TH_LOG("wr_id %llu: %s",
			       (unsigned long long)wc[i].wr_id,
			       ibv_wc_status_str(wc[i].status));
		}
	}
	EXPECT_EQ(IBV_QPS_ERR, qp_state(qp));
}

/* ---- the RC retry timer --------------------------------------------- */

TEST_F(post, retry_exceeded)
{
	struct qp_env *e = &self->e;
	struct ibv_wc wc[4];
	struct ibv_qp *qp;
	long t0;
	int n;

	qp = e->qp = qp_create(e, IBV_QPT_RC, 8);
	ASSERT_NE(NULL, qp);
	ASSERT_EQ(0, qp_to_init(e, qp));
	ASSERT_EQ(0, qp_to_rtr(e, qp));
	/* 4.096 us << 8 = ~1 ms per try, 3 tries */
	ASSERT_EQ(0, qp_to_rts_timeout(qp, 8, 2));
	t0 = now_ms();
	ASSERT_EQ(0, post_sends(qp, e->mr, 64, 2, 1, IBV_SEND_SIGNALED));
	n = poll_n(e->scq, 2, wc, 3000);
	ASSERT_GE(n, 1) TH_LOG("no completion after %ld ms", now_ms() - t0);
	EXPECT_EQ(1, wc[0].wr_id);
	EXPECT_EQ(IBV_WC_RETRY_EXC_ERR, wc[0].status) {
		TH_LOG("status %s", ibv_wc_status_str(wc[0].status));
	}
	EXPECT_EQ(2, n);
	if (n == 2) {
		EXPECT_EQ(2, wc[1].wr_id);
		EXPECT_EQ(IBV_WC_WR_FLUSH_ERR, wc[1].status);
	}
	EXPECT_EQ(IBV_QPS_ERR, qp_state(qp));
	TH_LOG("retries exhausted after %ld ms", now_ms() - t0);
}

/* ---- a QP on an SRQ -------------------------------------------------- */

TEST_F(post, srq_last_wqe_reached)
{
	struct qp_env *e = &self->e;
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = 16,
						  .max_sge = 1 } };
	struct ibv_qp_init_attr ia = {
		.send_cq = e->scq, .recv_cq = e->rcq, .qp_type = IBV_QPT_RC,
		.sq_sig_all = 1, .cap = { 4, 0, 1, 0, 0 },
	};
	struct ibv_async_event ev;
	struct ibv_srq_attr sattr;
	struct ibv_wc wc[20];
	struct ibv_srq *srq;
	struct ibv_qp *qp;
	bool got;

	srq = ibv_create_srq(e->pd, &sa);
	ASSERT_NE(NULL, srq);
	ia.srq = srq;
	qp = e->qp = ibv_create_qp(e->pd, &ia);
	ASSERT_NE(NULL, qp);
	ASSERT_EQ(0, post_srq_recvs(srq, e->mr, 64, 4, 1));
	ASSERT_EQ(0, qp_bring_to(e, qp, IBV_QPS_RTS));

	ASSERT_EQ(0, qp_to_simple(qp, IBV_QPS_ERR));
	got = ibdev_get_event(e->ctx, IBV_EVENT_QP_LAST_WQE_REACHED, 2000,
			      &ev);
	EXPECT_TRUE(got);
	if (got) {
		EXPECT_EQ(qp, ev.element.qp);
	}
	/* the SRQ's receives belong to the SRQ: not flushed */
	EXPECT_EQ(0, poll_n(e->rcq, 20, wc, 200));

	/* they are all still there: the SRQ fills up 4 WRs early */
	ASSERT_EQ(0, ibv_destroy_qp(qp));
	e->qp = NULL;
	ASSERT_EQ(0, verr(ibv_query_srq(srq, &sattr)));
	EXPECT_EQ(0, post_srq_recvs(srq, e->mr, 64, sattr.max_wr - 4, 10));
	EXPECT_EQ(ENOMEM, post_srq_recvs(srq, e->mr, 64, 1, 99)) {
		TH_LOG("max_wr %u", sattr.max_wr);
	}
	EXPECT_EQ(0, ibv_destroy_srq(srq));
}

TEST_HARNESS_MAIN

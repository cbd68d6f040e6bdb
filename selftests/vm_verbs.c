// SPDX-License-Identifier: GPL-2.0
/*
 * The objects around QPs: CQs (sizes, resize with completions waiting,
 * notification through a completion channel, overflow), MRs (access flags,
 * bad ranges, deregistration while a WQE uses the MR), SRQs (limits, query,
 * the limit attribute, resize keeping the posted receives) and AHs.
 * Completions are made by flushing: post receives, move the QP to ERR.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "rxdp_test.h"

TESTDEV_DEFINE(tdev, "rxdpq3", "rxq3a", "rxq3b", "10.77.3.1");

FIXTURE(verbs) {
	struct qp_env e;
	struct ibv_qp *qp2;
	struct ibv_cq *cq;
	struct ibv_srq *srq;
	struct ibv_comp_channel *ch;
};

FIXTURE_SETUP(verbs)
{
	ASSERT_EQ(0, testdev_ensure(&tdev));
	ASSERT_EQ(0, qp_env_open(&self->e, tdev.name));
}

FIXTURE_TEARDOWN(verbs)
{
	if (self->e.qp) {
		ibv_destroy_qp(self->e.qp);
		self->e.qp = NULL;
	}
	if (self->qp2)
		ibv_destroy_qp(self->qp2);
	if (self->srq)
		ibv_destroy_srq(self->srq);
	if (self->cq)
		ibv_destroy_cq(self->cq);
	if (self->ch)
		ibv_destroy_comp_channel(self->ch);
	qp_env_close(&self->e);
	testdev_release(&tdev);
}

/* An RC QP whose receive CQ is rcq, in INIT, for flush completions. */
static struct ibv_qp *recv_qp(struct qp_env *e, struct ibv_cq *rcq,
			      uint32_t recvs)
{
	struct ibv_qp_init_attr ia = {
		.send_cq = e->scq, .recv_cq = rcq, .qp_type = IBV_QPT_RC,
		.cap = { 1, recvs, 1, 1, 0 },
	};
	struct ibv_qp *qp = ibv_create_qp(e->pd, &ia);

	if (qp && qp_to_init(e, qp)) {
		ibv_destroy_qp(qp);
		return NULL;
	}
	return qp;
}

/* ---- CQ ------------------------------------------------------------- */

TEST_F(verbs, cq_sizes)
{
	static const int sizes[] = { 1, 3, 100, 1000 };
	struct ibv_cq *cq;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		cq = ibv_create_cq(self->e.ctx, sizes[i], NULL, NULL, 0);
		ASSERT_NE(NULL, cq) TH_LOG("cqe %d: %s", sizes[i],
					   strerror(errno));
		EXPECT_GE(cq->cqe, sizes[i]);
		EXPECT_EQ(0, ibv_destroy_cq(cq));
	}
	cq = ibv_create_cq(self->e.ctx, self->e.dev.max_cqe, NULL, NULL, 0);
	EXPECT_NE(NULL, cq) TH_LOG("max_cqe %d: %s", self->e.dev.max_cqe,
				   strerror(errno));
	if (cq) {
		EXPECT_GE(cq->cqe, self->e.dev.max_cqe);
		EXPECT_EQ(0, ibv_destroy_cq(cq));
	}
	errno = 0;
	cq = ibv_create_cq(self->e.ctx, self->e.dev.max_cqe + 1, NULL, NULL, 0);
	EXPECT_EQ(NULL, cq);
	EXPECT_EQ(EINVAL, errno);
	if (cq)
		ibv_destroy_cq(cq);
	cq = ibv_create_cq(self->e.ctx, -1, NULL, NULL, 0);
	EXPECT_EQ(NULL, cq);
	if (cq)
		ibv_destroy_cq(cq);
}

TEST_F(verbs, cq_resize)
{
	struct qp_env *e = &self->e;
	struct ibv_wc wc[8];
	struct ibv_qp *qp;
	int i, n;

	self->cq = ibv_create_cq(e->ctx, 16, NULL, NULL, 0);
	ASSERT_NE(NULL, self->cq);
	ASSERT_EQ(0, verr(ibv_resize_cq(self->cq, 64)));
	EXPECT_GE(self->cq->cqe, 64);
	ASSERT_EQ(0, verr(ibv_resize_cq(self->cq, 8)));
	EXPECT_GE(self->cq->cqe, 8);
	EXPECT_EQ(EINVAL, verr(ibv_resize_cq(self->cq,
					     e->dev.max_cqe + 1)));

	/* six completions waiting */
	qp = e->qp = recv_qp(e, self->cq, 8);
	ASSERT_NE(NULL, qp);
	ASSERT_EQ(0, post_recvs(qp, e->mr, 64, 6, 500));
	ASSERT_EQ(0, qp_to_simple(qp, IBV_QPS_ERR));
	usleep(300000);	/* flushing may take a moment */

	/* not below what is waiting, larger and smaller above it: fine */
	EXPECT_EQ(EINVAL, verr(ibv_resize_cq(self->cq, 3)));
	EXPECT_GE(self->cq->cqe, 8);
	EXPECT_EQ(0, verr(ibv_resize_cq(self->cq, 256)));
	EXPECT_GE(self->cq->cqe, 256);
	EXPECT_EQ(0, verr(ibv_resize_cq(self->cq, 7)));
	EXPECT_GE(self->cq->cqe, 7);

	/* and they are all there, in order */
	n = poll_n(self->cq, 8, wc, 500);
	EXPECT_EQ(6, n);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(500 + i, wc[i].wr_id);
		EXPECT_EQ(IBV_WC_WR_FLUSH_ERR, wc[i].status);
	}
}

/* Wait up to ms for a completion event on ch; the CQ or NULL. */
static struct ibv_cq *cq_event(struct ibv_comp_channel *ch, int ms)
{
	struct pollfd pfd = { .fd = ch->fd, .events = POLLIN };
	struct ibv_cq *cq;
	void *ctx;

	if (poll(&pfd, 1, ms * test_timeout_scale()) <= 0 ||
	    ibv_get_cq_event(ch, &cq, &ctx))
		return NULL;
	ibv_ack_cq_events(cq, 1);
	return cq;
}

TEST_F(verbs, cq_notify)
{
	struct qp_env *e = &self->e;
	struct ibv_wc wc[4];

	self->ch = ibv_create_comp_channel(e->ctx);
	ASSERT_NE(NULL, self->ch);
	self->cq = ibv_create_cq(e->ctx, 16, self, self->ch, 0);
	ASSERT_NE(NULL, self->cq);
	e->qp = recv_qp(e, self->cq, 4);
	ASSERT_NE(NULL, e->qp);
	self->qp2 = recv_qp(e, self->cq, 4);
	ASSERT_NE(NULL, self->qp2);

	/* armed: the next completion raises an event */
	ASSERT_EQ(0, verr(ibv_req_notify_cq(self->cq, 0)));
	EXPECT_EQ(NULL, cq_event(self->ch, 100));
	ASSERT_EQ(0, post_recvs(e->qp, e->mr, 64, 1, 1));
	ASSERT_EQ(0, qp_to_simple(e->qp, IBV_QPS_ERR));
	EXPECT_EQ(self->cq, cq_event(self->ch, 2000));
	EXPECT_EQ(1, poll_n(self->cq, 4, wc, 500));

	/* not armed again: a completion, no event */
	ASSERT_EQ(0, post_recvs(self->qp2, e->mr, 64, 1, 2));
	ASSERT_EQ(0, qp_to_simple(self->qp2, IBV_QPS_ERR));
	EXPECT_EQ(1, poll_n(self->cq, 4, wc, 2000));
	EXPECT_EQ(NULL, cq_event(self->ch, 200));

	/* arming with a completion already waiting and then one more */
	ASSERT_EQ(0, verr(ibv_req_notify_cq(self->cq, 0)));
	ASSERT_EQ(0, qp_to_simple(self->qp2, IBV_QPS_RESET));
	ASSERT_EQ(0, qp_to_init(e, self->qp2));
	ASSERT_EQ(0, post_recvs(self->qp2, e->mr, 64, 1, 3));
	ASSERT_EQ(0, qp_to_simple(self->qp2, IBV_QPS_ERR));
	EXPECT_EQ(self->cq, cq_event(self->ch, 2000));
	EXPECT_EQ(1, poll_n(self->cq, 4, wc, 500));
	EXPECT_EQ(3, wc[0].wr_id);
}

TEST_F(verbs, cq_overflow)
{
	struct qp_env *e = &self->e;
	struct ibv_async_event ev;
	struct ibv_wc wc[64];
	struct ibv_cq *cq2;
	int posted, n, bad = kmsg_bad_count();
	bool got;

	self->cq = ibv_create_cq(e->ctx, 4, NULL, NULL, 0);
	ASSERT_NE(NULL, self->cq);
	ASSERT_LE(self->cq->cqe, 32);
	posted = self->cq->cqe + 12;
	e->qp = recv_qp(e, self->cq, posted);
	ASSERT_NE(NULL, e->qp);
	ASSERT_EQ(0, post_recvs(e->qp, e->mr, 64, posted, 0));
	ASSERT_EQ(0, qp_to_simple(e->qp, IBV_QPS_ERR));

	got = ibdev_get_event(e->ctx, IBV_EVENT_CQ_ERR, 2000, &ev);
	EXPECT_TRUE(got);
	if (got) {
		EXPECT_EQ(self->cq, ev.element.cq);
	}
	n = poll_n(self->cq, 64, wc, 300);
	EXPECT_LE(n, self->cq->cqe) TH_LOG("%d completions", n);

	/* everything goes away cleanly and the device carries on */
	EXPECT_EQ(0, ibv_destroy_qp(e->qp));
	e->qp = NULL;
	EXPECT_EQ(0, ibv_destroy_cq(self->cq));
	self->cq = NULL;
	cq2 = ibv_create_cq(e->ctx, 4, NULL, NULL, 0);
	EXPECT_NE(NULL, cq2);
	if (cq2)
		ibv_destroy_cq(cq2);
	EXPECT_EQ(bad, kmsg_bad_count());
}

TEST_F(verbs, cq_in_use)
{
	struct qp_env *e = &self->e;

	self->cq = ibv_create_cq(e->ctx, 16, NULL, NULL, 0);
	ASSERT_NE(NULL, self->cq);
	e->qp = recv_qp(e, self->cq, 4);
	ASSERT_NE(NULL, e->qp);
	EXPECT_EQ(EBUSY, verr(ibv_destroy_cq(self->cq)));
	ASSERT_EQ(0, ibv_destroy_qp(e->qp));
	e->qp = NULL;
	EXPECT_EQ(0, ibv_destroy_cq(self->cq));
	self->cq = NULL;
}

/* ---- MR ------------------------------------------------------------- */

TEST_F(verbs, mr_access_flags)
{
	static const int flags[] = {
		0,
		IBV_ACCESS_LOCAL_WRITE,
		IBV_ACCESS_REMOTE_READ,
		IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ,
		IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE,
		IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_ATOMIC,
		IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC,
	};
	enum { N = ARRAY_SIZE(flags) };
	struct ibv_mr *mr[2 * N];
	size_t len = 3 * 4096 + 100;
	char *buf;
	int i, j;

	buf = malloc(len);
	ASSERT_NE(NULL, buf);
	/* each flag set; every buffer twice */
	for (i = 0; i < 2 * N; i++) {
		int f = flags[i % N];

		mr[i] = ibv_reg_mr(self->e.pd, buf + (i & 1), len - 1, f);
		ASSERT_NE(NULL, mr[i]) TH_LOG("access 0x%x: %s", f,
					      strerror(errno));
		EXPECT_NE(0, mr[i]->lkey);
		if (f & (IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE |
			 IBV_ACCESS_REMOTE_ATOMIC)) {
			EXPECT_NE(0, mr[i]->rkey);
		}
		EXPECT_EQ(buf + (i & 1), mr[i]->addr);
		EXPECT_EQ(len - 1, mr[i]->length);
		for (j = 0; j < i; j++) {
			EXPECT_NE(mr[j]->lkey, mr[i]->lkey);
		}
	}
	for (i = 0; i < 2 * N; i++) {
		EXPECT_EQ(0, ibv_dereg_mr(mr[i]));
	}
	free(buf);
}

TEST_F(verbs, mr_remote_write_needs_local_write)
{
	static const int flags[] = {
		IBV_ACCESS_REMOTE_WRITE,
		IBV_ACCESS_REMOTE_ATOMIC,
		IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		struct ibv_mr *mr;

		errno = 0;
		mr = ibv_reg_mr(self->e.pd, self->e.buf, 4096, flags[i]);
		EXPECT_EQ(NULL, mr) TH_LOG("access 0x%x", flags[i]);
		EXPECT_EQ(EINVAL, errno);
		if (mr)
			ibv_dereg_mr(mr);
	}
}

TEST_F(verbs, mr_bad_ranges)
{
	struct ibv_mr *mr;
	void *hole;

	/* empty */
	mr = ibv_reg_mr(self->e.pd, self->e.buf, 0, IBV_ACCESS_LOCAL_WRITE);
	EXPECT_EQ(NULL, mr);
	if (mr)
		ibv_dereg_mr(mr);
	/* nothing mapped there */
	hole = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	ASSERT_EQ(0, munmap(hole, 4 * 4096));
	mr = ibv_reg_mr(self->e.pd, hole, 4 * 4096, IBV_ACCESS_LOCAL_WRITE);
	EXPECT_EQ(NULL, mr);
	if (mr)
		ibv_dereg_mr(mr);
	mr = ibv_reg_mr(self->e.pd, NULL, 4096, IBV_ACCESS_LOCAL_WRITE);
	EXPECT_EQ(NULL, mr);
	if (mr)
		ibv_dereg_mr(mr);
	/* partly mapped: the buffer runs into the hole */
	hole = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	ASSERT_EQ(0, munmap((char *)hole + 4096, 4096));
	mr = ibv_reg_mr(self->e.pd, hole, 2 * 4096, IBV_ACCESS_LOCAL_WRITE);
	EXPECT_EQ(NULL, mr);
	if (mr)
		ibv_dereg_mr(mr);
	munmap(hole, 4096);
}

TEST_F(verbs, dereg_mr_under_a_wqe)
{
	struct qp_env *e = &self->e;
	struct ibv_wc wc[4];
	struct ibv_mr *mr;
	char *buf;
	int n;

	buf = calloc(1, 4096);
	ASSERT_NE(NULL, buf);
	mr = ibv_reg_mr(e->pd, buf, 4096, IBV_ACCESS_LOCAL_WRITE);
	ASSERT_NE(NULL, mr);
	e->qp = qp_create(e, IBV_QPT_RC, 4);
	ASSERT_NE(NULL, e->qp);
	ASSERT_EQ(0, qp_bring_to(e, e->qp, IBV_QPS_RTS));
	/* RC, timeout 31: the WQE stays outstanding */
	ASSERT_EQ(0, post_sends(e->qp, mr, 64, 1, 7, IBV_SEND_SIGNALED));

	EXPECT_EQ(0, ibv_dereg_mr(mr));
	/* as rdmavt: the QP goes to ERR and the WQE completes in error */
	n = poll_n(e->scq, 1, wc, 2000);
	EXPECT_EQ(1, n);
	if (n == 1) {
		EXPECT_EQ(7, wc[0].wr_id);
		EXPECT_NE(IBV_WC_SUCCESS, wc[0].status);
	}
	EXPECT_EQ(IBV_QPS_ERR, qp_state(e->qp));
	free(buf);
}

TEST_F(verbs, dereg_mr_unused)
{
	struct qp_env *e = &self->e;
	struct ibv_wc wc[4];
	struct ibv_mr *mr;

	mr = ibv_reg_mr(e->pd, e->buf, 4096, IBV_ACCESS_LOCAL_WRITE);
	ASSERT_NE(NULL, mr);
	e->qp = qp_create(e, IBV_QPT_RC, 4);
	ASSERT_NE(NULL, e->qp);
	ASSERT_EQ(0, qp_bring_to(e, e->qp, IBV_QPS_RTS));
	/* a WQE on another MR of the same buffer */
	ASSERT_EQ(0, post_sends(e->qp, e->mr, 64, 1, 8, IBV_SEND_SIGNALED));

	EXPECT_EQ(0, ibv_dereg_mr(mr));
	EXPECT_EQ(0, poll_n(e->scq, 4, wc, 200));
	EXPECT_EQ(IBV_QPS_RTS, qp_state(e->qp));
}

/* ---- SRQ ------------------------------------------------------------ */

TEST_F(verbs, srq_limits)
{
	struct ibv_device_attr *d = &self->e.dev;
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = 16,
						  .max_sge = 1 } };
	struct ibv_srq *srq;

	sa.attr.max_wr = d->max_srq_wr + 1;
	errno = 0;
	srq = ibv_create_srq(self->e.pd, &sa);
	EXPECT_EQ(NULL, srq);
	EXPECT_EQ(EINVAL, errno);
	if (srq)
		ibv_destroy_srq(srq);

	sa.attr.max_wr = 16;
	sa.attr.max_sge = d->max_srq_sge + 1;
	errno = 0;
	srq = ibv_create_srq(self->e.pd, &sa);
	EXPECT_EQ(NULL, srq);
	EXPECT_EQ(EINVAL, errno);
	if (srq)
		ibv_destroy_srq(srq);

	sa.attr.max_sge = d->max_srq_sge;
	srq = ibv_create_srq(self->e.pd, &sa);
	EXPECT_NE(NULL, srq) TH_LOG("max_srq_sge %d: %s", d->max_srq_sge,
				    strerror(errno));
	if (srq) {
		EXPECT_EQ(0, ibv_destroy_srq(srq));
	}

	if (d->max_srq_wr > 65536)
		return;	/* too large to try in the VM */
	sa.attr.max_wr = d->max_srq_wr;
	sa.attr.max_sge = 1;
	srq = ibv_create_srq(self->e.pd, &sa);
	EXPECT_NE(NULL, srq) TH_LOG("max_srq_wr %d: %s", d->max_srq_wr,
				    strerror(errno));
	if (srq) {
		EXPECT_EQ(0, ibv_destroy_srq(srq));
	}
}

TEST_F(verbs, srq_query_and_limit)
{
	struct qp_env *e = &self->e;
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = 10,
						  .max_sge = 2 } };
	struct ibv_srq_attr q, m;

	self->srq = ibv_create_srq(e->pd, &sa);
	ASSERT_NE(NULL, self->srq);
	EXPECT_GE(sa.attr.max_wr, 10);
	EXPECT_GE(sa.attr.max_sge, 2);
	ASSERT_EQ(0, verr(ibv_query_srq(self->srq, &q)));
	EXPECT_GE(q.max_wr, 10);
	EXPECT_GE(q.max_sge, 2);
	EXPECT_EQ(0, q.srq_limit);

	/* arm the limit: below what is posted, no event */
	ASSERT_EQ(0, post_srq_recvs(self->srq, e->mr, 64, 8, 1));
	memset(&m, 0, sizeof(m));
	m.srq_limit = 4;
	ASSERT_EQ(0, verr(ibv_modify_srq(self->srq, &m, IBV_SRQ_LIMIT)));
	ASSERT_EQ(0, verr(ibv_query_srq(self->srq, &q)));
	EXPECT_EQ(4, q.srq_limit);
	EXPECT_FALSE(ibdev_wait_event(e->ctx, IBV_EVENT_SRQ_LIMIT_REACHED,
				      200));

	/* a limit above the queue's size */
	m.srq_limit = q.max_wr + 1;
	EXPECT_EQ(EINVAL, verr(ibv_modify_srq(self->srq, &m, IBV_SRQ_LIMIT)));
	ASSERT_EQ(0, verr(ibv_query_srq(self->srq, &q)));
	EXPECT_EQ(4, q.srq_limit);
}

TEST_F(verbs, srq_resize_keeps_receives)
{
	struct qp_env *e = &self->e;
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = 8,
						  .max_sge = 1 } };
	struct ibv_srq_attr q, m;

	self->srq = ibv_create_srq(e->pd, &sa);
	ASSERT_NE(NULL, self->srq);
	ASSERT_EQ(0, post_srq_recvs(self->srq, e->mr, 64, 4, 1));

	memset(&m, 0, sizeof(m));
	m.max_wr = 40;
	ASSERT_EQ(0, verr(ibv_modify_srq(self->srq, &m, IBV_SRQ_MAX_WR)));
	ASSERT_EQ(0, verr(ibv_query_srq(self->srq, &q)));
	ASSERT_GE(q.max_wr, 40);
	ASSERT_LE(q.max_wr, 1024);
	/* the four are still there: room for exactly max_wr - 4 more */
	EXPECT_EQ(0, post_srq_recvs(self->srq, e->mr, 64, q.max_wr - 4, 10));
	EXPECT_EQ(ENOMEM, post_srq_recvs(self->srq, e->mr, 64, 1, 99)) {
		TH_LOG("max_wr %u", q.max_wr);
	}
	/* larger than the device allows */
	m.max_wr = e->dev.max_srq_wr + 1;
	EXPECT_EQ(EINVAL, verr(ibv_modify_srq(self->srq, &m, IBV_SRQ_MAX_WR)));
}

TEST_F(verbs, srq_in_use)
{
	struct qp_env *e = &self->e;
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = 8,
						  .max_sge = 1 } };
	struct ibv_qp_init_attr ia = {
		.send_cq = e->scq, .recv_cq = e->rcq, .qp_type = IBV_QPT_RC,
		.cap = { 1, 0, 1, 0, 0 },
	};

	self->srq = ibv_create_srq(e->pd, &sa);
	ASSERT_NE(NULL, self->srq);
	ASSERT_EQ(0, post_srq_recvs(self->srq, e->mr, 64, 4, 1));
	ia.srq = self->srq;
	e->qp = ibv_create_qp(e->pd, &ia);
	ASSERT_NE(NULL, e->qp);
	EXPECT_EQ(EBUSY, verr(ibv_destroy_srq(self->srq)));
	ASSERT_EQ(0, ibv_destroy_qp(e->qp));
	e->qp = NULL;
	/* receives still posted: destroyed all the same */
	EXPECT_EQ(0, ibv_destroy_srq(self->srq));
	self->srq = NULL;
}

/* ---- AH ------------------------------------------------------------- */

TEST_F(verbs, ah_create_destroy)
{
	struct qp_env *e = &self->e;
	struct ibv_ah_attr aa = {
		.is_global = 1, .port_num = 1,
		.grh = { .dgid = e->gid, .sgid_index = e->gid_index,
			 .hop_limit = 64 },
	};
	struct ibv_ah *ah[8];
	int i;

	for (i = 0; i < 8; i++) {
		aa.grh.traffic_class = i;
		ah[i] = ibv_create_ah(e->pd, &aa);
		ASSERT_NE(NULL, ah[i]) TH_LOG("%s", strerror(errno));
	}
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(0, ibv_destroy_ah(ah[i]));
	}
}

TEST_F(verbs, ah_bad)
{
	struct qp_env *e = &self->e;
	struct ibv_ah_attr aa = {
		.is_global = 1, .port_num = 1,
		.grh = { .dgid = e->gid, .hop_limit = 64 },
	};
	static const union ibv_gid zero;
	union ibv_gid g;
	struct ibv_ah *ah;
	int i, empty = -1;

	for (i = 0; i < 64 && i < e->port.gid_tbl_len; i++) {
		if (ibv_query_gid(e->ctx, 1, i, &g) ||
		    !memcmp(&g, &zero, sizeof(g))) {
			empty = i;
			break;
		}
	}
	ASSERT_GE(empty, 0);

	/* an empty GID entry, one past the table (or the last a u8 holds) */
	aa.grh.sgid_index = empty;
	ah = ibv_create_ah(e->pd, &aa);
	EXPECT_EQ(NULL, ah);
	if (ah)
		ibv_destroy_ah(ah);
	aa.grh.sgid_index = e->port.gid_tbl_len > 255 ? 255 :
			    e->port.gid_tbl_len;
	ah = ibv_create_ah(e->pd, &aa);
	EXPECT_EQ(NULL, ah);
	if (ah)
		ibv_destroy_ah(ah);
	/* RoCE needs a GRH */
	aa.grh.sgid_index = e->gid_index;
	aa.is_global = 0;
	ah = ibv_create_ah(e->pd, &aa);
	EXPECT_EQ(NULL, ah);
	if (ah)
		ibv_destroy_ah(ah);
	/* port 2 does not exist */
	aa.is_global = 1;
	aa.port_num = 2;
	ah = ibv_create_ah(e->pd, &aa);
	EXPECT_EQ(NULL, ah);
	if (ah)
		ibv_destroy_ah(ah);
}

TEST_HARNESS_MAIN

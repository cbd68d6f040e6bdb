// SPDX-License-Identifier: GPL-2.0
/*
 * QP lifecycle: QP numbers (0 and 1 reserved, handed out in rotation), the
 * GSI QP1 of ib_mad, creating RC/UC/UD QPs with their capabilities checked
 * against the device's, unsupported types, SRQ-attached QPs, destroying in
 * any state and with work outstanding, and the QP lists in rdma resource
 * and debugfs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "rxdp_test.h"

TESTDEV_DEFINE(tdev, "rxdpq0", "rxq0a", "rxq0b", "10.77.0.1");

static const enum ibv_qp_type qp_types[] = { IBV_QPT_RC, IBV_QPT_UC,
					     IBV_QPT_UD };
#define NTYPES	3

FIXTURE(qp) {
	struct qp_env e;
};

FIXTURE_SETUP(qp)
{
	ASSERT_EQ(0, testdev_ensure(&tdev));
	ASSERT_EQ(0, qp_env_open(&self->e, tdev.name));
}

FIXTURE_TEARDOWN(qp)
{
	qp_env_close(&self->e);
	testdev_release(&tdev);
}

/* The number of QPs debugfs lists for the device; -1 without debugfs. */
static int qps_listed(void)
{
	return testdev_is_rxdp() ? debugfs_qp_count(tdev.name) : -1;
}

TEST_F(qp, numbers_never_reserved)
{
	struct ibv_qp *qp[3 * NTYPES];
	int i, j;

	for (i = 0; i < 3 * NTYPES; i++) {
		qp[i] = qp_create(&self->e, qp_types[i % NTYPES], 2);
		ASSERT_NE(NULL, qp[i]);
		EXPECT_GE(qp[i]->qp_num, 2);
		EXPECT_LE(qp[i]->qp_num, 0xffffff);
		for (j = 0; j < i; j++) {
			EXPECT_NE(qp[j]->qp_num, qp[i]->qp_num);
		}
	}
	for (i = 0; i < 3 * NTYPES; i++) {
		EXPECT_EQ(0, ibv_destroy_qp(qp[i]));
	}
}

TEST_F(qp, numbers_rotate)
{
	uint32_t last = 0;
	int i;

	/* a freed number is not handed out again right away */
	for (i = 0; i < 60; i++) {
		struct ibv_qp *qp = qp_create(&self->e, qp_types[i % NTYPES],
					      1);

		ASSERT_NE(NULL, qp) TH_LOG("cycle %d: %s", i, strerror(errno));
		if (i) {
			EXPECT_GT(qp->qp_num, last) {
				TH_LOG("cycle %d: %u after %u", i, qp->qp_num,
				       last);
			}
		}
		last = qp->qp_num;
		ASSERT_EQ(0, ibv_destroy_qp(qp));
	}
}

/* rxdp: go on handing out numbers after last (debugfs qpn_last). */
static int set_qpn_last(uint32_t last)
{
	return sh("echo %#x > /sys/kernel/debug/rxdp/%s/qpn_last 2>/dev/null",
		  last, tdev.name);
}

/* Create and destroy a UD QP; its number, 0 when it could not be made. */
static uint32_t next_qpn(struct qp_env *e)
{
	struct ibv_qp *qp = qp_create(e, IBV_QPT_UD, 1);
	uint32_t qpn;

	if (!qp)
		return 0;
	qpn = qp->qp_num;
	return ibv_destroy_qp(qp) ? 0 : qpn;
}

/*
 * rxdp: the low 16 bits of a QP number are its slot in the XDP program's
 * qp_slots, and no two live QPs share one.  With QPs alive in slots 2, 3
 * and 5, the numbers after 0x4fffa rise into the next round of slots and
 * pass over slots 0 and 1 (QP0's and QP1's) and the live ones; at the top
 * of the 24-bit space they pass over 0xffffff, the multicast QPN, and
 * start again from the bottom.
 */
TEST_F(qp, numbers_own_slots)
{
	static const uint32_t round[] = {
		0x4fffb, 0x4fffc, 0x4fffd, 0x4fffe, 0x4ffff,
		0x50004, 0x50006, 0x50007,
	};
	static const uint32_t top[] = {
		0xfffffc, 0xfffffd, 0xfffffe, 0x00ffff, 0x010004, 0x010006,
	};
	struct ibv_qp *held[3];
	size_t i;

	if (!testdev_is_rxdp())
		SKIP(return, "QP slots are rxdp's");
	ASSERT_EQ(0, set_qpn_last(0x20001));
	held[0] = qp_create(&self->e, IBV_QPT_UD, 1);
	held[1] = qp_create(&self->e, IBV_QPT_RC, 1);
	ASSERT_NE(NULL, held[0]);
	ASSERT_NE(NULL, held[1]);
	ASSERT_EQ(0x20004, next_qpn(&self->e));
	held[2] = qp_create(&self->e, IBV_QPT_UC, 1);
	ASSERT_NE(NULL, held[2]);
	EXPECT_EQ(0x20002, held[0]->qp_num);
	EXPECT_EQ(0x20003, held[1]->qp_num);
	EXPECT_EQ(0x20005, held[2]->qp_num);

	ASSERT_EQ(0, set_qpn_last(0x4fffa));
	for (i = 0; i < sizeof(round) / sizeof(round[0]); i++) {
		EXPECT_EQ(round[i], next_qpn(&self->e)) TH_LOG("QP %zu", i);
	}
	ASSERT_EQ(0, set_qpn_last(0xfffffb));
	for (i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
		EXPECT_EQ(top[i], next_qpn(&self->e)) TH_LOG("QP %zu", i);
	}

	/* only numbers a QP can have are taken */
	EXPECT_NE(0, set_qpn_last(0xffffff));
	EXPECT_NE(0, set_qpn_last(0x1000000));
	EXPECT_NE(0, set_qpn_last(0));
	EXPECT_EQ(0x010007, next_qpn(&self->e));

	for (i = 0; i < 3; i++)
		EXPECT_EQ(0, ibv_destroy_qp(held[i]));
}

TEST_F(qp, gsi_qp1_listed)
{
	char out[8192];

	ASSERT_EQ(0, rdma_res_qps(tdev.name, out, sizeof(out)));
	EXPECT_TRUE(rdma_res_has_qp(out, 1, "GSI")) TH_LOG("%s", out);
	if (testdev_is_rxdp()) {
		ASSERT_EQ(0, debugfs_qps(tdev.name, out, sizeof(out)));
		EXPECT_TRUE(debugfs_qp_has(out, 1, "GSI", "RTS")) {
			TH_LOG("%s", out);
		}
	}
}

TEST_F(qp, create_each_type)
{
	struct ibv_qp_init_attr ia;
	struct ibv_qp_attr a;
	int i;

	for (i = 0; i < NTYPES; i++) {
		struct ibv_qp *qp = qp_create(&self->e, qp_types[i], 16);

		ASSERT_NE(NULL, qp) {
			TH_LOG("%s: %s", qp_type_name(qp_types[i]),
			       strerror(errno));
		}
		EXPECT_EQ(qp_types[i], qp->qp_type);
		ASSERT_EQ(0, qp_query(qp, &a, &ia));
		EXPECT_EQ(IBV_QPS_RESET, a.qp_state);
		EXPECT_EQ(qp_types[i], ia.qp_type);
		EXPECT_EQ(0, ibv_destroy_qp(qp));
	}
}

TEST_F(qp, caps_rounded_up)
{
	static const struct ibv_qp_cap want[] = {
		{ 1, 1, 1, 1, 0 },
		{ 5, 7, 3, 2, 33 },
		{ 100, 3, 5, 5, 100 },
		{ 17, 130, 2, 7, 512 },
	};
	size_t i;
	int t;

	for (t = 0; t < NTYPES; t++) {
		for (i = 0; i < ARRAY_SIZE(want); i++) {
			struct ibv_qp_init_attr ia = {
				.send_cq = self->e.scq,
				.recv_cq = self->e.rcq,
				.qp_type = qp_types[t],
				.cap = want[i],
			}, q;
			struct ibv_qp_attr a;
			struct ibv_qp *qp = ibv_create_qp(self->e.pd, &ia);

			ASSERT_NE(NULL, qp) {
				TH_LOG("%s caps #%zu: %s",
				       qp_type_name(qp_types[t]), i,
				       strerror(errno));
			}
			/* create answers the caps it made ... */
			EXPECT_GE(ia.cap.max_send_wr, want[i].max_send_wr);
			EXPECT_GE(ia.cap.max_recv_wr, want[i].max_recv_wr);
			EXPECT_GE(ia.cap.max_send_sge, want[i].max_send_sge);
			EXPECT_GE(ia.cap.max_recv_sge, want[i].max_recv_sge);
			EXPECT_GE(ia.cap.max_inline_data,
				  want[i].max_inline_data);
			/* ... and query tells the same */
			ASSERT_EQ(0, qp_query(qp, &a, &q));
			EXPECT_EQ(ia.cap.max_send_wr, q.cap.max_send_wr);
			EXPECT_EQ(ia.cap.max_recv_wr, q.cap.max_recv_wr);
			EXPECT_EQ(ia.cap.max_send_sge, q.cap.max_send_sge);
			EXPECT_EQ(ia.cap.max_recv_sge, q.cap.max_recv_sge);
			EXPECT_EQ(ia.cap.max_inline_data,
				  q.cap.max_inline_data);
			EXPECT_EQ(0, ibv_destroy_qp(qp));
		}
	}
}

/* ---- capabilities checked against the device ------------------------ */

enum cap_field { C_SEND_WR, C_RECV_WR, C_SEND_SGE, C_RECV_SGE, C_INLINE };

FIXTURE(caps) {
	struct qp_env e;
};

FIXTURE_VARIANT(caps) {
	enum cap_field field;
	int over;		/* added to the device's limit */
	bool absolute;		/* the value is over itself (inline) */
	int expect;		/* 0 or the errno */
};

FIXTURE_VARIANT_ADD(caps, send_wr_over) { C_SEND_WR, 1, false, EINVAL };
FIXTURE_VARIANT_ADD(caps, recv_wr_over) { C_RECV_WR, 1, false, EINVAL };
FIXTURE_VARIANT_ADD(caps, send_wr_far_over) { C_SEND_WR, 1 << 20, false,
					       EINVAL };
FIXTURE_VARIANT_ADD(caps, send_sge_over) { C_SEND_SGE, 1, false, EINVAL };
FIXTURE_VARIANT_ADD(caps, recv_sge_over) { C_RECV_SGE, 1, false, EINVAL };
FIXTURE_VARIANT_ADD(caps, inline_513) { C_INLINE, 513, true, EINVAL };
FIXTURE_VARIANT_ADD(caps, inline_64k) { C_INLINE, 65536, true, EINVAL };
FIXTURE_VARIANT_ADD(caps, send_wr_max) { C_SEND_WR, 0, false, 0 };
FIXTURE_VARIANT_ADD(caps, recv_wr_max) { C_RECV_WR, 0, false, 0 };
FIXTURE_VARIANT_ADD(caps, send_sge_max) { C_SEND_SGE, 0, false, 0 };
FIXTURE_VARIANT_ADD(caps, recv_sge_max) { C_RECV_SGE, 0, false, 0 };
FIXTURE_VARIANT_ADD(caps, inline_512) { C_INLINE, 512, true, 0 };

static uint32_t *cap_field(struct ibv_qp_cap *c, enum cap_field f)
{
	switch (f) {
	case C_SEND_WR:
		return &c->max_send_wr;
	case C_RECV_WR:
		return &c->max_recv_wr;
	case C_SEND_SGE:
		return &c->max_send_sge;
	case C_RECV_SGE:
		return &c->max_recv_sge;
	default:
		return &c->max_inline_data;
	}
}

FIXTURE_SETUP(caps)
{
	ASSERT_EQ(0, testdev_ensure(&tdev));
	ASSERT_EQ(0, qp_env_open(&self->e, tdev.name));
}

FIXTURE_TEARDOWN(caps)
{
	qp_env_close(&self->e);
	testdev_release(&tdev);
}

TEST_F(caps, create)
{
	struct ibv_device_attr *d = &self->e.dev;
	int t, before = qps_listed();
	long long v;

	switch (variant->field) {
	case C_SEND_WR:
	case C_RECV_WR:
		v = d->max_qp_wr;
		/* a queue of a million WQEs is more than the VM has */
		if (!variant->expect && v > 65536)
			SKIP(return, "max_qp_wr %d too large to try", d->max_qp_wr);
		break;
	case C_SEND_SGE:
	case C_RECV_SGE:
		v = d->max_sge;
		break;
	default:
		v = 0;
	}
	v = variant->absolute ? variant->over : v + variant->over;

	for (t = 0; t < NTYPES; t++) {
		struct ibv_qp_init_attr ia = {
			.send_cq = self->e.scq,
			.recv_cq = self->e.rcq,
			.qp_type = qp_types[t],
			.cap = { 1, 1, 1, 1, 0 },
		};
		struct ibv_qp *qp;

		*cap_field(&ia.cap, variant->field) = v;
		errno = 0;
		qp = ibv_create_qp(self->e.pd, &ia);
		if (variant->expect) {
			EXPECT_EQ(NULL, qp) TH_LOG("%s: value %lld accepted",
						   qp_type_name(qp_types[t]), v);
			EXPECT_EQ(variant->expect, errno) {
				TH_LOG("%s: %s", qp_type_name(qp_types[t]),
				       strerror(errno));
			}
		} else {
			EXPECT_NE(NULL, qp) {
				TH_LOG("%s: value %lld refused: %s",
				       qp_type_name(qp_types[t]), v,
				       strerror(errno));
			}
		}
		if (qp) {
			EXPECT_EQ(0, ibv_destroy_qp(qp));
		}
	}
	/* nothing left behind by the refused ones */
	EXPECT_EQ(before, qps_listed());
}

/* ---- QP types that are not supported -------------------------------- */

TEST_F(qp, unsupported_types)
{
	struct ibv_qp_init_attr ia = {
		.send_cq = self->e.scq,
		.recv_cq = self->e.rcq,
		.cap = { 1, 1, 1, 1, 0 },
	};
	struct ibv_qp_init_attr_ex iax = {
		.send_cq = self->e.scq,
		.recv_cq = self->e.rcq,
		.cap = { 1, 1, 1, 1, 0 },
		.qp_type = IBV_QPT_XRC_SEND,
		.comp_mask = IBV_QP_INIT_ATTR_PD,
		.pd = self->e.pd,
	};
	int listed = qps_listed(), res = rdma_res_count(tdev.name, "qp");
	struct ibv_qp *qp;

	ia.qp_type = IBV_QPT_RAW_PACKET;
	errno = 0;
	qp = ibv_create_qp(self->e.pd, &ia);
	EXPECT_EQ(NULL, qp);
	EXPECT_NE(0, errno);
	if (qp)
		ibv_destroy_qp(qp);

	ia.qp_type = IBV_QPT_DRIVER;
	errno = 0;
	qp = ibv_create_qp(self->e.pd, &ia);
	EXPECT_EQ(NULL, qp);
	EXPECT_NE(0, errno);
	if (qp)
		ibv_destroy_qp(qp);

	errno = 0;
	qp = ibv_create_qp_ex(self->e.ctx, &iax);
	EXPECT_EQ(NULL, qp);
	EXPECT_NE(0, errno);
	if (qp)
		ibv_destroy_qp(qp);

	EXPECT_EQ(listed, qps_listed());
	EXPECT_EQ(res, rdma_res_count(tdev.name, "qp"));
}

TEST_F(qp, srq_means_no_rq)
{
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = 16,
						  .max_sge = 1 } };
	struct ibv_qp_init_attr ia = {
		.send_cq = self->e.scq,
		.recv_cq = self->e.rcq,
		.qp_type = IBV_QPT_RC,
		.cap = { 4, 0, 1, 0, 0 },
	};
	struct ibv_srq *srq;
	struct ibv_qp *qp;

	srq = ibv_create_srq(self->e.pd, &sa);
	ASSERT_NE(NULL, srq);
	ia.srq = srq;
	/* the receive caps do not matter with an SRQ */
	ia.cap.max_recv_wr = self->e.dev.max_qp_wr + 1;
	qp = ibv_create_qp(self->e.pd, &ia);
	EXPECT_NE(NULL, qp) TH_LOG("%s", strerror(errno));
	if (qp) {
		struct ibv_sge sge = {
			.addr = (uintptr_t)self->e.buf, .length = 64,
			.lkey = self->e.mr->lkey,
		};
		struct ibv_recv_wr wr = { .wr_id = 1, .sg_list = &sge,
					  .num_sge = 1 }, *bad;

		ASSERT_EQ(0, qp_to_init(&self->e, qp));
		EXPECT_NE(0, ibv_post_recv(qp, &wr, &bad));
		EXPECT_EQ(0, ibv_destroy_qp(qp));
	}
	EXPECT_EQ(0, ibv_destroy_srq(srq));
}

/* ---- destroy ------------------------------------------------------- */

TEST_F(qp, destroy_in_every_state)
{
	static const enum ibv_qp_state states[] = {
		IBV_QPS_RESET, IBV_QPS_INIT, IBV_QPS_RTR, IBV_QPS_RTS,
		IBV_QPS_SQD, IBV_QPS_ERR,
	};
	size_t s;
	int t;

	for (t = 0; t < NTYPES; t++) {
		for (s = 0; s < ARRAY_SIZE(states); s++) {
			struct ibv_qp *qp = qp_create(&self->e, qp_types[t], 4);

			ASSERT_NE(NULL, qp);
			ASSERT_EQ(0, qp_bring_to(&self->e, qp, states[s])) {
				TH_LOG("%s to %s", qp_type_name(qp_types[t]),
				       qp_state_name(states[s]));
			}
			EXPECT_EQ(0, ibv_destroy_qp(qp)) {
				TH_LOG("%s in %s", qp_type_name(qp_types[t]),
				       qp_state_name(states[s]));
			}
		}
	}
}

TEST_F(qp, destroy_with_work_outstanding)
{
	struct qp_env *e = &self->e;
	struct ibv_wc wc[16];
	int t, i, n, bad = kmsg_bad_count();

	for (t = 0; t < NTYPES; t++) {
		struct ibv_qp *qp = qp_create(e, qp_types[t], 8);
		struct ibv_ah *ah = NULL;

		ASSERT_NE(NULL, qp);
		/* RC: timeout 31, the retry timer is armed for hours */
		ASSERT_EQ(0, qp_bring_to(e, qp, IBV_QPS_RTS));
		ASSERT_EQ(0, post_recvs(qp, e->mr, 256, 4, 100));
		if (qp_types[t] == IBV_QPT_UD) {
			struct ibv_ah_attr aa = {
				.is_global = 1, .port_num = 1,
				.grh = { .dgid = e->gid,
					 .sgid_index = e->gid_index,
					 .hop_limit = 64 },
			};
			struct ibv_sge sge = {
				.addr = (uintptr_t)e->buf, .length = 64,
				.lkey = e->mr->lkey,
			};
			struct ibv_send_wr wr = {
				.sg_list = &sge, .num_sge = 1,
				.opcode = IBV_WR_SEND,
			}, *badwr;

			ah = ibv_create_ah(e->pd, &aa);
			ASSERT_NE(NULL, ah);
			wr.wr.ud.ah = ah;
			wr.wr.ud.remote_qpn = DEAD_QPN;
			wr.wr.ud.remote_qkey = 0x11111111;
			for (i = 0; i < 4; i++) {
				wr.wr_id = 200 + i;
				ASSERT_EQ(0, ibv_post_send(qp, &wr, &badwr));
			}
		} else {
			ASSERT_EQ(0, post_sends(qp, e->mr, 64, 4, 200, 0));
		}
		EXPECT_EQ(0, ibv_destroy_qp(qp)) TH_LOG("%s",
						 qp_type_name(qp_types[t]));
		if (ah) {
			EXPECT_EQ(0, ibv_destroy_ah(ah));
		}
		/*
		 * Nothing completes for a QP that is gone: no flush.  UC and UD
		 * sends need no ack, so once there is a transport they may
		 * have completed successfully before the destroy.
		 */
		n = poll_n(e->scq, 16, wc, 200);
		for (i = 0; i < n; i++) {
			EXPECT_TRUE(qp_types[t] != IBV_QPT_RC &&
				    wc[i].status == IBV_WC_SUCCESS) {
				TH_LOG("%s: completion status %d wr_id %llu",
				       qp_type_name(qp_types[t]), wc[i].status,
				       (unsigned long long)wc[i].wr_id);
			}
		}
		EXPECT_EQ(0, poll_n(e->rcq, 16, wc, 100)) {
			TH_LOG("%s: recv completion status %d",
			       qp_type_name(qp_types[t]), wc[0].status);
		}
	}
	EXPECT_EQ(bad, kmsg_bad_count());
}

/* ---- the lists ----------------------------------------------------- */

TEST_F(qp, rdma_resource_lists_qps)
{
	struct ibv_qp *qp[NTYPES];
	char out[16384];
	int t;

	for (t = 0; t < NTYPES; t++) {
		qp[t] = qp_create(&self->e, qp_types[t], 2);
		ASSERT_NE(NULL, qp[t]);
	}
	ASSERT_EQ(0, rdma_res_qps(tdev.name, out, sizeof(out)));
	for (t = 0; t < NTYPES; t++) {
		EXPECT_TRUE(rdma_res_has_qp(out, qp[t]->qp_num,
					    qp_type_name(qp_types[t]))) {
			TH_LOG("QP %u not listed: %s", qp[t]->qp_num, out);
		}
	}
	for (t = 0; t < NTYPES; t++) {
		uint32_t n = qp[t]->qp_num;

		ASSERT_EQ(0, ibv_destroy_qp(qp[t]));
		ASSERT_EQ(0, rdma_res_qps(tdev.name, out, sizeof(out)));
		EXPECT_FALSE(rdma_res_has_qp(out, n, NULL));
	}
	EXPECT_TRUE(rdma_res_has_qp(out, 1, "GSI"));
}

TEST_F(qp, debugfs_lists_qps)
{
	static const enum ibv_qp_state walk[] = {
		IBV_QPS_INIT, IBV_QPS_RTR, IBV_QPS_RTS, IBV_QPS_SQD,
		IBV_QPS_RTS, IBV_QPS_ERR, IBV_QPS_RESET,
	};
	struct qp_env *e = &self->e;
	struct ibv_qp *qp[NTYPES];
	static char out[65536];
	size_t s;
	int t;

	if (!testdev_is_rxdp())
		SKIP(return, "rxdp's debugfs only");
	for (t = 0; t < NTYPES; t++) {
		qp[t] = qp_create(e, qp_types[t], 2);
		ASSERT_NE(NULL, qp[t]);
	}
	ASSERT_EQ(0, debugfs_qps(tdev.name, out, sizeof(out)));
	EXPECT_TRUE(debugfs_qp_has(out, 1, "GSI", NULL)) TH_LOG("%s", out);
	for (t = 0; t < NTYPES; t++) {
		EXPECT_TRUE(debugfs_qp_has(out, qp[t]->qp_num,
					   qp_type_name(qp_types[t]),
					   "RESET")) {
			TH_LOG("QP %u: %s", qp[t]->qp_num, out);
		}
	}

	/* the state follows every modify */
	for (t = 0; t < NTYPES; t++) {
		for (s = 0; s < ARRAY_SIZE(walk); s++) {
			int ret;

			if (walk[s] == IBV_QPS_INIT)
				ret = qp_to_init(e, qp[t]);
			else if (walk[s] == IBV_QPS_RTR)
				ret = qp_to_rtr(e, qp[t]);
			else if (walk[s] == IBV_QPS_RTS)
				ret = qp_to_rts(e, qp[t]);
			else
				ret = qp_to_simple(qp[t], walk[s]);
			ASSERT_EQ(0, ret) TH_LOG("to %s", qp_state_name(walk[s]));
			ASSERT_EQ(0, debugfs_qps(tdev.name, out, sizeof(out)));
			EXPECT_TRUE(debugfs_qp_has(out, qp[t]->qp_num,
						   qp_type_name(qp_types[t]),
						   qp_state_name(walk[s]))) {
				TH_LOG("QP %u %s: %s", qp[t]->qp_num,
				       qp_state_name(walk[s]), out);
			}
		}
	}

	/* and a destroyed QP leaves the list, the others stay */
	for (t = 0; t < NTYPES; t++) {
		uint32_t n = qp[t]->qp_num;
		int u;

		ASSERT_EQ(0, ibv_destroy_qp(qp[t]));
		ASSERT_EQ(0, debugfs_qps(tdev.name, out, sizeof(out)));
		EXPECT_FALSE(debugfs_qp_has(out, n, NULL, NULL)) {
			TH_LOG("QP %u still listed: %s", n, out);
		}
		for (u = t + 1; u < NTYPES; u++) {
			EXPECT_TRUE(debugfs_qp_has(out, qp[u]->qp_num, NULL,
						   NULL));
		}
	}
	EXPECT_TRUE(debugfs_qp_has(out, 1, "GSI", NULL));
}

TEST_HARNESS_MAIN

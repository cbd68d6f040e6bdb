// SPDX-License-Identifier: GPL-2.0
/*
 * The QP state machine through ibv_modify_qp/ibv_query_qp: every transition
 * of the IB spec table (ib_modify_qp_is_ok) for RC, UC and UD with its
 * required attributes, one missing, an optional one added and one that the
 * transition does not allow; illegal transitions; attribute bounds; what
 * ibv_query_qp reports.  A rejected modify leaves state and attributes as
 * they were.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "rxdp_test.h"

TESTDEV_DEFINE(tdev, "rxdpq1", "rxq1a", "rxq1b", "10.77.1.1");

/* Every attribute bit a user can pass (IB_QP_ATTR_STANDARD_BITS). */
#define ALL_ATTRS	(((1 << 21) - 1) & ~IBV_QP_STATE)

/*
 * The first attribute that differs between two queries, or NULL.  Only the
 * attributes that mean something for the QP's type are compared.
 */
static const char *attr_diff(const struct ibv_qp_attr *a,
			     const struct ibv_qp_attr *b, enum ibv_qp_type t)
{
#define SAME(f) do { if (a->f != b->f) return #f; } while (0)
	SAME(qp_state);
	SAME(pkey_index);
	SAME(port_num);
	SAME(sq_psn);
	if (t == IBV_QPT_UD) {
		SAME(qkey);
		return NULL;
	}
	SAME(qp_access_flags);
	SAME(path_mtu);
	SAME(dest_qp_num);
	SAME(rq_psn);
	SAME(ah_attr.grh.hop_limit);
	if (t == IBV_QPT_RC) {
		SAME(timeout);
		SAME(retry_cnt);
		SAME(rnr_retry);
		SAME(min_rnr_timer);
		SAME(max_rd_atomic);
		SAME(max_dest_rd_atomic);
	}
	return NULL;
#undef SAME
}

/* Does the queried QP show what attribute bit set to want's value? */
static bool attr_applied(const struct ibv_qp_attr *q,
			 const struct ibv_qp_attr *want, int bit)
{
#define IS(f) (q->f == want->f)
	switch (bit) {
	case IBV_QP_PKEY_INDEX:
		return IS(pkey_index);
	case IBV_QP_PORT:
		return IS(port_num);
	case IBV_QP_QKEY:
		return IS(qkey);
	case IBV_QP_ACCESS_FLAGS:
		return IS(qp_access_flags);
	case IBV_QP_PATH_MTU:
		return IS(path_mtu);
	case IBV_QP_DEST_QPN:
		return IS(dest_qp_num);
	case IBV_QP_RQ_PSN:
		return IS(rq_psn);
	case IBV_QP_SQ_PSN:
		return IS(sq_psn);
	case IBV_QP_TIMEOUT:
		return IS(timeout);
	case IBV_QP_RETRY_CNT:
		return IS(retry_cnt);
	case IBV_QP_RNR_RETRY:
		return IS(rnr_retry);
	case IBV_QP_MIN_RNR_TIMER:
		return IS(min_rnr_timer);
	/* these may be rounded up */
	case IBV_QP_MAX_QP_RD_ATOMIC:
		return q->max_rd_atomic >= want->max_rd_atomic;
	case IBV_QP_MAX_DEST_RD_ATOMIC:
		return q->max_dest_rd_atomic >= want->max_dest_rd_atomic;
	case IBV_QP_AV:
		/* ib_core sets the hop limit from the route to the GID */
		return !memcmp(&q->ah_attr.grh.dgid, &want->ah_attr.grh.dgid,
			       sizeof(q->ah_attr.grh.dgid)) &&
		       IS(ah_attr.grh.sgid_index) && IS(ah_attr.port_num);
	default:
		return true;
	}
#undef IS
}

/*
 * What the target state normally requires (from its usual predecessor):
 * what an illegal transition is tried with, besides the bare state.
 */
static int usual_required(enum ibv_qp_type t, enum ibv_qp_state to)
{
	static const enum ibv_qp_state before[] = {
		[IBV_QPS_INIT] = IBV_QPS_RESET,
		[IBV_QPS_RTR] = IBV_QPS_INIT,
		[IBV_QPS_RTS] = IBV_QPS_RTR,
	};

	if (to != IBV_QPS_INIT && to != IBV_QPS_RTR && to != IBV_QPS_RTS)
		return 0;
	return qp_required_mask(t, before[to], to);
}

/* ---- every transition, as a table --------------------------------- */

FIXTURE(trans) {
	struct qp_env e;
};

FIXTURE_VARIANT(trans) {
	enum ibv_qp_state from, to;
};

#define T(f, t) { .from = IBV_QPS_##f, .to = IBV_QPS_##t }
/* the legal ones */
FIXTURE_VARIANT_ADD(trans, reset_to_reset) T(RESET, RESET);
FIXTURE_VARIANT_ADD(trans, reset_to_init) T(RESET, INIT);
FIXTURE_VARIANT_ADD(trans, init_to_init) T(INIT, INIT);
FIXTURE_VARIANT_ADD(trans, init_to_rtr) T(INIT, RTR);
FIXTURE_VARIANT_ADD(trans, rtr_to_rts) T(RTR, RTS);
FIXTURE_VARIANT_ADD(trans, rts_to_rts) T(RTS, RTS);
FIXTURE_VARIANT_ADD(trans, rts_to_sqd) T(RTS, SQD);
FIXTURE_VARIANT_ADD(trans, sqd_to_rts) T(SQD, RTS);
FIXTURE_VARIANT_ADD(trans, sqd_to_sqd) T(SQD, SQD);
FIXTURE_VARIANT_ADD(trans, init_to_reset) T(INIT, RESET);
FIXTURE_VARIANT_ADD(trans, rtr_to_reset) T(RTR, RESET);
FIXTURE_VARIANT_ADD(trans, rts_to_reset) T(RTS, RESET);
FIXTURE_VARIANT_ADD(trans, sqd_to_reset) T(SQD, RESET);
FIXTURE_VARIANT_ADD(trans, err_to_reset) T(ERR, RESET);
FIXTURE_VARIANT_ADD(trans, init_to_err) T(INIT, ERR);
FIXTURE_VARIANT_ADD(trans, rtr_to_err) T(RTR, ERR);
FIXTURE_VARIANT_ADD(trans, rts_to_err) T(RTS, ERR);
FIXTURE_VARIANT_ADD(trans, sqd_to_err) T(SQD, ERR);
FIXTURE_VARIANT_ADD(trans, err_to_err) T(ERR, ERR);
/* the illegal ones; RESET -> ERR is not in the kernel's table either */
FIXTURE_VARIANT_ADD(trans, reset_to_rtr) T(RESET, RTR);
FIXTURE_VARIANT_ADD(trans, reset_to_rts) T(RESET, RTS);
FIXTURE_VARIANT_ADD(trans, reset_to_sqd) T(RESET, SQD);
FIXTURE_VARIANT_ADD(trans, reset_to_err) T(RESET, ERR);
FIXTURE_VARIANT_ADD(trans, init_to_rts) T(INIT, RTS);
FIXTURE_VARIANT_ADD(trans, init_to_sqd) T(INIT, SQD);
FIXTURE_VARIANT_ADD(trans, rtr_to_init) T(RTR, INIT);
FIXTURE_VARIANT_ADD(trans, rtr_to_rtr) T(RTR, RTR);
FIXTURE_VARIANT_ADD(trans, rtr_to_sqd) T(RTR, SQD);
FIXTURE_VARIANT_ADD(trans, rts_to_init) T(RTS, INIT);
FIXTURE_VARIANT_ADD(trans, rts_to_rtr) T(RTS, RTR);
FIXTURE_VARIANT_ADD(trans, sqd_to_init) T(SQD, INIT);
FIXTURE_VARIANT_ADD(trans, sqd_to_rtr) T(SQD, RTR);
FIXTURE_VARIANT_ADD(trans, err_to_init) T(ERR, INIT);
FIXTURE_VARIANT_ADD(trans, err_to_rtr) T(ERR, RTR);
FIXTURE_VARIANT_ADD(trans, err_to_rts) T(ERR, RTS);
FIXTURE_VARIANT_ADD(trans, err_to_sqd) T(ERR, SQD);
#undef T

FIXTURE_SETUP(trans)
{
	/* UC's table is RC's less RC's own attributes: light runs RC, UD */
	if (!strcmp(_metadata->name, "uc"))
		LIGHT_SKIP();
	ASSERT_EQ(0, testdev_ensure(&tdev));
	ASSERT_EQ(0, qp_env_open(&self->e, tdev.name));
}

FIXTURE_TEARDOWN(trans)
{
	qp_env_close(&self->e);
	testdev_release(&tdev);
}

/* Back to state from through RESET (through ERR if RESET is refused). */
static int restart(struct qp_env *e, struct ibv_qp *qp,
		   enum ibv_qp_state from)
{
	if (qp_to_simple(qp, IBV_QPS_RESET) &&
	    (qp_to_simple(qp, IBV_QPS_ERR) ||
	     qp_to_simple(qp, IBV_QPS_RESET)))
		return -1;
	return qp_bring_to(e, qp, from);
}

/* Modify with set-1 values and mask; expect EINVAL and nothing changed. */
static void expect_rejected(struct __test_metadata *_metadata,
			    struct qp_env *e, struct ibv_qp *qp,
			    enum ibv_qp_state from, enum ibv_qp_state to,
			    int mask, const char *why)
{
	struct ibv_qp_attr before, after, a;
	const char *diff;
	int ret;

	ASSERT_EQ(0, qp_query(qp, &before, NULL));
	qp_attr_values(e, qp, 1, &a);
	a.qp_state = to;
	a.cur_qp_state = from;
	ret = verr(ibv_modify_qp(qp, &a, mask));
	EXPECT_EQ(EINVAL, ret) {
		TH_LOG("%s %s->%s %s (mask 0x%x) accepted or wrong errno",
		       qp_type_name(qp->qp_type), qp_state_name(from),
		       qp_state_name(to), why, mask);
	}
	ASSERT_EQ(0, qp_query(qp, &after, NULL));
	EXPECT_EQ(from, after.qp_state) {
		TH_LOG("%s %s->%s %s: state now %s",
		       qp_type_name(qp->qp_type), qp_state_name(from),
		       qp_state_name(to), why, qp_state_name(after.qp_state));
	}
	diff = attr_diff(&before, &after, qp->qp_type);
	EXPECT_EQ(NULL, diff) {
		TH_LOG("%s %s->%s %s: %s changed",
		       qp_type_name(qp->qp_type), qp_state_name(from),
		       qp_state_name(to), why, diff);
	}
	/* a wrongly accepted modify must not spoil the following cases */
	if (!ret && after.qp_state != from) {
		ASSERT_EQ(0, restart(e, qp, from));
	}
}

/* Modify with set-1 values and mask; expect success, then go back. */
static void expect_accepted(struct __test_metadata *_metadata,
			    struct qp_env *e, struct ibv_qp *qp,
			    enum ibv_qp_state from, enum ibv_qp_state to,
			    int mask, const char *why)
{
	struct ibv_qp_attr a, q;
	int ret, bit;

	qp_attr_values(e, qp, 1, &a);
	a.qp_state = to;
	a.cur_qp_state = from;
	ret = verr(ibv_modify_qp(qp, &a, mask));
	EXPECT_EQ(0, ret) {
		TH_LOG("%s %s->%s %s (mask 0x%x) rejected: %s",
		       qp_type_name(qp->qp_type), qp_state_name(from),
		       qp_state_name(to), why, mask, strerror(ret));
	}
	if (ret)
		return;
	ASSERT_EQ(0, qp_query(qp, &q, NULL));
	EXPECT_EQ(to, q.qp_state) {
		TH_LOG("%s %s->%s %s: state %s",
		       qp_type_name(qp->qp_type), qp_state_name(from),
		       qp_state_name(to), why, qp_state_name(q.qp_state));
	}
	for (bit = 2; bit < 1 << 21; bit <<= 1) {
		if (!(mask & bit))
			continue;
		EXPECT_TRUE(attr_applied(&q, &a, bit)) {
			TH_LOG("%s %s->%s %s: %s not applied",
			       qp_type_name(qp->qp_type), qp_state_name(from),
			       qp_state_name(to), why, qp_attr_name(bit));
		}
	}
	/* back to where the next case starts */
	if (to != from) {
		ASSERT_EQ(0, restart(e, qp, from));
	}
}

static void check_transition(struct __test_metadata *_metadata,
			     struct qp_env *e, enum ibv_qp_type type,
			     enum ibv_qp_state from, enum ibv_qp_state to)
{
	char why[64];
	struct ibv_qp *qp;
	int req, opt, bit;

	qp = qp_create(e, type, 4);
	ASSERT_NE(NULL, qp);
	e->qp = qp;
	ASSERT_EQ(0, qp_bring_to(e, qp, from)) {
		TH_LOG("%s: cannot reach %s", qp_type_name(type),
		       qp_state_name(from));
	}
	ASSERT_EQ(from, qp_state(qp));

	if (!qp_transition_ok(from, to)) {
		expect_rejected(_metadata, e, qp, from, to, IBV_QP_STATE,
				"illegal");
		expect_rejected(_metadata, e, qp, from, to,
				IBV_QP_STATE | usual_required(type, to),
				"illegal with attributes");
		goto out;
	}

	req = qp_required_mask(type, from, to);
	opt = qp_optional_mask(type, from, to);

	/* each required attribute left out */
	for (bit = 1; bit < 1 << 21; bit <<= 1) {
		if (!(req & bit))
			continue;
		snprintf(why, sizeof(why), "without %s", qp_attr_name(bit));
		expect_rejected(_metadata, e, qp, from, to,
				IBV_QP_STATE | (req & ~bit), why);
	}
	/* each attribute the transition does not allow added */
	for (bit = 2; bit < 1 << 21; bit <<= 1) {
		if (!(ALL_ATTRS & bit) || ((req | opt) & bit))
			continue;
		snprintf(why, sizeof(why), "with %s", qp_attr_name(bit));
		expect_rejected(_metadata, e, qp, from, to,
				IBV_QP_STATE | req | bit, why);
	}
	/* exactly the required ones */
	expect_accepted(_metadata, e, qp, from, to, IBV_QP_STATE | req,
			"required");
	/* and each optional one on top */
	for (bit = 2; bit < 1 << 21; bit <<= 1) {
		if (!(opt & bit))
			continue;
		/* ib_core bans alternate paths on RoCE ports */
		if (bit == IBV_QP_ALT_PATH)
			continue;
		/*
		 * uverbs adds IB_QP_PORT to an SQD->SQD modify with a new AV,
		 * which UC may not have: AV cannot change there from userspace
		 */
		if (bit == IBV_QP_AV && type == IBV_QPT_UC)
			continue;
		snprintf(why, sizeof(why), "with optional %s",
			 qp_attr_name(bit));
		expect_accepted(_metadata, e, qp, from, to,
				IBV_QP_STATE | req | bit, why);
	}
out:
	EXPECT_EQ(0, ibv_destroy_qp(qp));
	e->qp = NULL;
}

TEST_F(trans, rc)
{
	check_transition(_metadata, &self->e, IBV_QPT_RC, variant->from,
			 variant->to);
}

TEST_F(trans, uc)
{
	check_transition(_metadata, &self->e, IBV_QPT_UC, variant->from,
			 variant->to);
}

TEST_F(trans, ud)
{
	check_transition(_metadata, &self->e, IBV_QPT_UD, variant->from,
			 variant->to);
}

/* ---- attribute bounds ----------------------------------------------- */

enum bound_field {
	F_PKEY, F_PORT, F_MTU, F_SGID, F_DQPN, F_RQ_PSN, F_SQ_PSN, F_TIMEOUT,
	F_RETRY, F_RNR_RETRY, F_MIN_RNR, F_RD_ATOMIC, F_DEST_RD_ATOMIC,
	F_ACCESS, F_QKEY,
};

/* value relative to a device attribute */
enum bound_rel {
	R_NONE,
	R_MAX_INIT_RD,		/* + max_qp_init_rd_atom */
	R_MAX_RD,		/* + max_qp_rd_atom */
	R_GID_TBL,		/* + gid_tbl_len */
	R_EMPTY_GID,		/* an unused GID table entry */
};

enum bound_expect {
	EXP_OK,
	EXP_EINVAL,
	EXP_NO_GID,		/* EINVAL; ib_core answers ENODATA itself */
	EXP_PSN,			/* see below */
};

FIXTURE(bounds) {
	struct qp_env e;
};

FIXTURE_VARIANT(bounds) {
	enum ibv_qp_type type;
	enum ibv_qp_state from, to;
	enum bound_field field;
	long long value;
	enum bound_rel rel;
	enum bound_expect expect;
};

#define B(name, t, f, to_, fld, v, r, x)				\
	FIXTURE_VARIANT_ADD(bounds, name) {				\
		.type = IBV_QPT_##t, .from = IBV_QPS_##f,		\
		.to = IBV_QPS_##to_, .field = fld, .value = v,		\
		.rel = r, .expect = x };

B(pkey_index_1, RC, RESET, INIT, F_PKEY, 1, R_NONE, EXP_EINVAL)
B(pkey_index_0, RC, RESET, INIT, F_PKEY, 0, R_NONE, EXP_OK)
B(ud_pkey_index_1, UD, RESET, INIT, F_PKEY, 1, R_NONE, EXP_EINVAL)
B(port_0, RC, RESET, INIT, F_PORT, 0, R_NONE, EXP_EINVAL)
B(port_2, RC, RESET, INIT, F_PORT, 2, R_NONE, EXP_EINVAL)
B(ud_port_2, UD, RESET, INIT, F_PORT, 2, R_NONE, EXP_EINVAL)
B(port_1, UC, RESET, INIT, F_PORT, 1, R_NONE, EXP_OK)
B(path_mtu_2048, RC, INIT, RTR, F_MTU, IBV_MTU_2048, R_NONE, EXP_EINVAL)
B(path_mtu_4096, RC, INIT, RTR, F_MTU, IBV_MTU_4096, R_NONE, EXP_EINVAL)
B(uc_path_mtu_4096, UC, INIT, RTR, F_MTU, IBV_MTU_4096, R_NONE, EXP_EINVAL)
B(path_mtu_1024, RC, INIT, RTR, F_MTU, IBV_MTU_1024, R_NONE, EXP_OK)
B(path_mtu_256, UC, INIT, RTR, F_MTU, IBV_MTU_256, R_NONE, EXP_OK)
/* sgid_index is a u8 in the uverbs ABI: past a 256-entry table, the last */
B(sgid_past_table, RC, INIT, RTR, F_SGID, 0, R_GID_TBL, EXP_NO_GID)
B(sgid_empty, RC, INIT, RTR, F_SGID, 0, R_EMPTY_GID, EXP_NO_GID)
B(uc_sgid_empty, UC, INIT, RTR, F_SGID, 0, R_EMPTY_GID, EXP_NO_GID)
B(dest_qpn_25_bits, RC, INIT, RTR, F_DQPN, 0x1000000, R_NONE, EXP_EINVAL)
B(uc_dest_qpn_32_bits, UC, INIT, RTR, F_DQPN, 0xffffffff, R_NONE, EXP_EINVAL)
B(dest_qpn_max, RC, INIT, RTR, F_DQPN, 0xffffff, R_NONE, EXP_OK)
B(rq_psn_25_bits, RC, INIT, RTR, F_RQ_PSN, 0x1000005, R_NONE, EXP_PSN)
B(rq_psn_max, RC, INIT, RTR, F_RQ_PSN, 0xffffff, R_NONE, EXP_OK)
B(sq_psn_25_bits, RC, RTR, RTS, F_SQ_PSN, 0x1000005, R_NONE, EXP_PSN)
B(ud_sq_psn_25_bits, UD, RTR, RTS, F_SQ_PSN, 0x1000005, R_NONE, EXP_PSN)
B(sq_psn_max, RC, RTR, RTS, F_SQ_PSN, 0xffffff, R_NONE, EXP_OK)
B(ud_sq_psn_max, UD, RTR, RTS, F_SQ_PSN, 0xffffff, R_NONE, EXP_OK)
B(timeout_32, RC, RTR, RTS, F_TIMEOUT, 32, R_NONE, EXP_EINVAL)
B(timeout_255, RC, RTR, RTS, F_TIMEOUT, 255, R_NONE, EXP_EINVAL)
B(timeout_31, RC, RTR, RTS, F_TIMEOUT, 31, R_NONE, EXP_OK)
B(timeout_0, RC, RTR, RTS, F_TIMEOUT, 0, R_NONE, EXP_OK)
B(retry_cnt_8, RC, RTR, RTS, F_RETRY, 8, R_NONE, EXP_EINVAL)
B(retry_cnt_7, RC, RTR, RTS, F_RETRY, 7, R_NONE, EXP_OK)
B(rnr_retry_8, RC, RTR, RTS, F_RNR_RETRY, 8, R_NONE, EXP_EINVAL)
B(rnr_retry_7, RC, RTR, RTS, F_RNR_RETRY, 7, R_NONE, EXP_OK)
B(min_rnr_timer_32, RC, INIT, RTR, F_MIN_RNR, 32, R_NONE, EXP_EINVAL)
B(min_rnr_timer_31, RC, INIT, RTR, F_MIN_RNR, 31, R_NONE, EXP_OK)
B(rts_min_rnr_timer_32, RC, RTS, RTS, F_MIN_RNR, 32, R_NONE, EXP_EINVAL)
B(rts_min_rnr_timer_0, RC, RTS, RTS, F_MIN_RNR, 0, R_NONE, EXP_OK)
B(max_rd_atomic_over, RC, RTR, RTS, F_RD_ATOMIC, 1, R_MAX_INIT_RD, EXP_EINVAL)
B(max_rd_atomic_max, RC, RTR, RTS, F_RD_ATOMIC, 0, R_MAX_INIT_RD, EXP_OK)
B(max_dest_rd_atomic_over, RC, INIT, RTR, F_DEST_RD_ATOMIC, 1, R_MAX_RD,
	EXP_EINVAL)
B(max_dest_rd_atomic_max, RC, INIT, RTR, F_DEST_RD_ATOMIC, 0, R_MAX_RD, EXP_OK)
B(access_unknown_bit, RC, RESET, INIT, F_ACCESS, 1 << 12, R_NONE, EXP_EINVAL)
#define REMOTE_ALL (IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ | \
		    IBV_ACCESS_REMOTE_ATOMIC)
B(uc_access_unknown_bit, UC, RESET, INIT, F_ACCESS,
	IBV_ACCESS_REMOTE_WRITE | 1 << 12, R_NONE, EXP_EINVAL)
B(rts_access_unknown_bit, RC, RTS, RTS, F_ACCESS, 1 << 15, R_NONE, EXP_EINVAL)
B(access_remote_all, RC, RESET, INIT, F_ACCESS, REMOTE_ALL, R_NONE, EXP_OK)
B(access_none, RC, RESET, INIT, F_ACCESS, 0, R_NONE, EXP_OK)
B(qkey_0, UD, RESET, INIT, F_QKEY, 0, R_NONE, EXP_OK)
B(qkey_any, UD, RESET, INIT, F_QKEY, 0x12345678, R_NONE, EXP_OK)
B(qkey_max_unprivileged, UD, RESET, INIT, F_QKEY, 0x7fffffff, R_NONE, EXP_OK)
B(rts_qkey, UD, RTS, RTS, F_QKEY, 0x0badcafe, R_NONE, EXP_OK)
#undef B
#undef REMOTE_ALL

FIXTURE_SETUP(bounds)
{
	ASSERT_EQ(0, testdev_ensure(&tdev));
	ASSERT_EQ(0, qp_env_open(&self->e, tdev.name));
}

FIXTURE_TEARDOWN(bounds)
{
	qp_env_close(&self->e);
	testdev_release(&tdev);
}

static int bound_mask(enum bound_field f)
{
	static const int m[] = {
		[F_PKEY] = IBV_QP_PKEY_INDEX, [F_PORT] = IBV_QP_PORT,
		[F_MTU] = IBV_QP_PATH_MTU, [F_SGID] = IBV_QP_AV,
		[F_DQPN] = IBV_QP_DEST_QPN, [F_RQ_PSN] = IBV_QP_RQ_PSN,
		[F_SQ_PSN] = IBV_QP_SQ_PSN, [F_TIMEOUT] = IBV_QP_TIMEOUT,
		[F_RETRY] = IBV_QP_RETRY_CNT, [F_RNR_RETRY] = IBV_QP_RNR_RETRY,
		[F_MIN_RNR] = IBV_QP_MIN_RNR_TIMER,
		[F_RD_ATOMIC] = IBV_QP_MAX_QP_RD_ATOMIC,
		[F_DEST_RD_ATOMIC] = IBV_QP_MAX_DEST_RD_ATOMIC,
		[F_ACCESS] = IBV_QP_ACCESS_FLAGS, [F_QKEY] = IBV_QP_QKEY,
	};

	return m[f];
}

/* The first GID entry with nothing in it, or -1. */
static int empty_gid(struct qp_env *e)
{
	int i;

	for (i = 0; i < e->port.gid_tbl_len && i < 64; i++) {
		union ibv_gid g;
		static const union ibv_gid zero;

		if (ibv_query_gid(e->ctx, 1, i, &g) ||
		    !memcmp(&g, &zero, sizeof(g)))
			return i;
	}
	return -1;
}

/* Put v into field f of a; false when the value cannot be expressed. */
static bool set_field(struct ibv_qp_attr *a, enum bound_field f,
		      long long v)
{
	switch (f) {
	case F_PKEY:
		a->pkey_index = v;
		return v == a->pkey_index;
	case F_PORT:
		a->port_num = v;
		return v == a->port_num;
	case F_MTU:
		a->path_mtu = v;
		break;
	case F_SGID:
		a->ah_attr.grh.sgid_index = v;
		return v == a->ah_attr.grh.sgid_index;
	case F_DQPN:
		a->dest_qp_num = v;
		break;
	case F_RQ_PSN:
		a->rq_psn = v;
		break;
	case F_SQ_PSN:
		a->sq_psn = v;
		break;
	case F_TIMEOUT:
		a->timeout = v;
		return v == a->timeout;
	case F_RETRY:
		a->retry_cnt = v;
		break;
	case F_RNR_RETRY:
		a->rnr_retry = v;
		break;
	case F_MIN_RNR:
		a->min_rnr_timer = v;
		break;
	case F_RD_ATOMIC:
		a->max_rd_atomic = v;
		return v == a->max_rd_atomic;
	case F_DEST_RD_ATOMIC:
		a->max_dest_rd_atomic = v;
		return v == a->max_dest_rd_atomic;
	case F_ACCESS:
		a->qp_access_flags = v;
		break;
	case F_QKEY:
		a->qkey = v;
		break;
	}
	return true;
}

TEST_F(bounds, modify)
{
	struct qp_env *e = &self->e;
	struct ibv_qp_attr a, before, after;
	long long v = variant->value;
	const char *diff;
	struct ibv_qp *qp;
	int mask, ret;

	switch (variant->rel) {
	case R_NONE:
		break;
	case R_MAX_INIT_RD:
		v += e->dev.max_qp_init_rd_atom;
		break;
	case R_MAX_RD:
		v += e->dev.max_qp_rd_atom;
		break;
	case R_GID_TBL:
		v += e->port.gid_tbl_len;
		if (v > 255)
			v = 255;
		break;
	case R_EMPTY_GID:
		v = empty_gid(e);
		ASSERT_GE(v, 0) TH_LOG("no empty GID entry in the table");
		break;
	}
	if (variant->field == F_MTU) {
		ASSERT_EQ(IBV_MTU_1024, e->port.active_mtu) {
			TH_LOG("%s should have mtu 1500", tdev.veth);
		}
	}

	qp = e->qp = qp_create(e, variant->type, 4);
	ASSERT_NE(NULL, qp);
	ASSERT_EQ(0, qp_bring_to(e, qp, variant->from));
	ASSERT_EQ(0, qp_query(qp, &before, NULL));

	qp_attr_values(e, qp, 0, &a);
	a.qp_state = variant->to;
	if (!set_field(&a, variant->field, v))
		SKIP(return, "value %lld does not fit the attribute", v);
	mask = IBV_QP_STATE | bound_mask(variant->field) |
		qp_required_mask(variant->type, variant->from, variant->to);
	ret = verr(ibv_modify_qp(qp, &a, mask));
	ASSERT_EQ(0, qp_query(qp, &after, NULL));

	switch (variant->expect) {
	case EXP_OK:
		ASSERT_EQ(0, ret) TH_LOG("rejected: %s", strerror(ret));
		EXPECT_EQ(variant->to, after.qp_state);
		EXPECT_TRUE(attr_applied(&after, &a,
					 bound_mask(variant->field)));
		return;
	case EXP_PSN:
		/*
		 * The spec asks for EINVAL, but ib_core masks PSNs to 24 bits
		 * (with a dev_warn) before the driver sees them: accept that,
		 * never a PSN wider than 24 bits.
		 */
		if (!ret) {
			TH_LOG("PSN masked to 24 bits by ib_core");
			EXPECT_EQ(v & PSN_MASK,
				  variant->field == F_SQ_PSN ? after.sq_psn :
							       after.rq_psn);
			EXPECT_EQ(variant->to, after.qp_state);
			return;
		}
		EXPECT_EQ(EINVAL, ret);
		break;
	case EXP_NO_GID:
		EXPECT_TRUE(ret == EINVAL || ret == ENODATA) {
			TH_LOG("errno %d (%s)", ret, strerror(ret));
		}
		break;
	case EXP_EINVAL:
		EXPECT_EQ(EINVAL, ret) TH_LOG("errno %d (%s)", ret,
					      strerror(ret));
		break;
	}
	EXPECT_EQ(variant->from, after.qp_state);
	diff = attr_diff(&before, &after, variant->type);
	EXPECT_EQ(NULL, diff) TH_LOG("%s changed", diff);
}

/* ---- what query_qp reports ------------------------------------------ */

FIXTURE(query) {
	struct qp_env e;
};

FIXTURE_SETUP(query)
{
	ASSERT_EQ(0, testdev_ensure(&tdev));
	ASSERT_EQ(0, qp_env_open(&self->e, tdev.name));
}

FIXTURE_TEARDOWN(query)
{
	qp_env_close(&self->e);
	testdev_release(&tdev);
}

static struct ibv_qp *create_for_query(struct qp_env *e,
				       enum ibv_qp_type type, int sig_all)
{
	struct ibv_qp_init_attr ia = {
		.send_cq = e->scq,
		.recv_cq = e->rcq,
		.qp_type = type,
		.sq_sig_all = sig_all,
		.cap = {
			.max_send_wr = 9,
			.max_recv_wr = 5,
			.max_send_sge = 3,
			.max_recv_sge = 2,
			.max_inline_data = 40,
		},
	};

	return ibv_create_qp(e->pd, &ia);
}

static void check_init_attr(struct __test_metadata *_metadata,
			    struct ibv_qp *qp, const struct ibv_qp_init_attr *ia,
			    enum ibv_qp_type type, int sig_all)
{
	EXPECT_EQ(type, ia->qp_type);
	EXPECT_EQ(sig_all, ia->sq_sig_all);
	EXPECT_GE(ia->cap.max_send_wr, 9);
	EXPECT_GE(ia->cap.max_recv_wr, 5);
	EXPECT_GE(ia->cap.max_send_sge, 3);
	EXPECT_GE(ia->cap.max_recv_sge, 2);
	EXPECT_GE(ia->cap.max_inline_data, 40);
	EXPECT_EQ(qp->send_cq, ia->send_cq);
	EXPECT_EQ(qp->recv_cq, ia->recv_cq);
}

TEST_F(query, rc_attributes)
{
	struct qp_env *e = &self->e;
	struct ibv_qp_init_attr ia;
	struct ibv_qp_attr q, set;
	struct ibv_qp *qp;

	qp = e->qp = create_for_query(e, IBV_QPT_RC, 1);
	ASSERT_NE(NULL, qp);
	ASSERT_EQ(0, qp_query(qp, &q, &ia));
	EXPECT_EQ(IBV_QPS_RESET, q.qp_state);
	check_init_attr(_metadata, qp, &ia, IBV_QPT_RC, 1);

	ASSERT_EQ(0, qp_bring_to(e, qp, IBV_QPS_RTS));
	qp_attr_values(e, qp, 0, &set);
	ASSERT_EQ(0, qp_query(qp, &q, &ia));
	EXPECT_EQ(IBV_QPS_RTS, q.qp_state);
	EXPECT_EQ(0, q.pkey_index);
	EXPECT_EQ(1, q.port_num);
	EXPECT_EQ(set.qp_access_flags, q.qp_access_flags);
	EXPECT_EQ(DEAD_QPN, q.dest_qp_num);
	EXPECT_EQ(set.rq_psn, q.rq_psn);
	EXPECT_EQ(set.sq_psn, q.sq_psn);
	EXPECT_EQ(IBV_MTU_1024, q.path_mtu);
	EXPECT_EQ(31, q.timeout);
	EXPECT_EQ(7, q.retry_cnt);
	EXPECT_EQ(7, q.rnr_retry);
	EXPECT_EQ(12, q.min_rnr_timer);
	EXPECT_GE(q.max_rd_atomic, 4);
	EXPECT_GE(q.max_dest_rd_atomic, 4);
	EXPECT_EQ(1, q.ah_attr.is_global);
	EXPECT_EQ(0, memcmp(&e->gid, &q.ah_attr.grh.dgid, sizeof(e->gid)));
	EXPECT_EQ(e->gid_index, q.ah_attr.grh.sgid_index);
	EXPECT_EQ(1, q.ah_attr.port_num);
	check_init_attr(_metadata, qp, &ia, IBV_QPT_RC, 1);

	/* RTS -> RTS changes follow */
	set.qp_state = IBV_QPS_RTS;
	set.min_rnr_timer = 3;
	set.qp_access_flags = IBV_ACCESS_REMOTE_READ;
	ASSERT_EQ(0, verr(ibv_modify_qp(qp, &set, IBV_QP_STATE |
					IBV_QP_MIN_RNR_TIMER |
					IBV_QP_ACCESS_FLAGS)));
	ASSERT_EQ(0, qp_query(qp, &q, NULL));
	EXPECT_EQ(3, q.min_rnr_timer);
	EXPECT_EQ(IBV_ACCESS_REMOTE_READ, q.qp_access_flags);
	EXPECT_EQ(DEAD_QPN, q.dest_qp_num);

	/* SQD and back, then ERR and RESET */
	ASSERT_EQ(0, qp_to_simple(qp, IBV_QPS_SQD));
	EXPECT_EQ(IBV_QPS_SQD, qp_state(qp));
	ASSERT_EQ(0, qp_to_simple(qp, IBV_QPS_RTS));
	EXPECT_EQ(IBV_QPS_RTS, qp_state(qp));
	ASSERT_EQ(0, qp_to_simple(qp, IBV_QPS_ERR));
	EXPECT_EQ(IBV_QPS_ERR, qp_state(qp));
	ASSERT_EQ(0, qp_to_simple(qp, IBV_QPS_RESET));
	EXPECT_EQ(IBV_QPS_RESET, qp_state(qp));
}

TEST_F(query, uc_attributes)
{
	struct qp_env *e = &self->e;
	struct ibv_qp_init_attr ia;
	struct ibv_qp_attr q;
	struct ibv_qp *qp;

	qp = e->qp = create_for_query(e, IBV_QPT_UC, 0);
	ASSERT_NE(NULL, qp);
	ASSERT_EQ(0, qp_bring_to(e, qp, IBV_QPS_RTS));
	ASSERT_EQ(0, qp_query(qp, &q, &ia));
	EXPECT_EQ(IBV_QPS_RTS, q.qp_state);
	EXPECT_EQ(IBV_ACCESS_REMOTE_WRITE, q.qp_access_flags);
	EXPECT_EQ(DEAD_QPN, q.dest_qp_num);
	EXPECT_EQ(0x100, q.rq_psn);
	EXPECT_EQ(0x200, q.sq_psn);
	EXPECT_EQ(IBV_MTU_1024, q.path_mtu);
	EXPECT_EQ(0, memcmp(&e->gid, &q.ah_attr.grh.dgid, sizeof(e->gid)));
	check_init_attr(_metadata, qp, &ia, IBV_QPT_UC, 0);
}

TEST_F(query, ud_attributes)
{
	struct qp_env *e = &self->e;
	struct ibv_qp_init_attr ia;
	struct ibv_qp_attr q, set;
	struct ibv_qp *qp;

	qp = e->qp = create_for_query(e, IBV_QPT_UD, 0);
	ASSERT_NE(NULL, qp);
	ASSERT_EQ(0, qp_bring_to(e, qp, IBV_QPS_RTS));
	ASSERT_EQ(0, qp_query(qp, &q, &ia));
	EXPECT_EQ(IBV_QPS_RTS, q.qp_state);
	EXPECT_EQ(0, q.pkey_index);
	EXPECT_EQ(1, q.port_num);
	EXPECT_EQ(0x11111111, q.qkey);
	EXPECT_EQ(0x200, q.sq_psn);
	check_init_attr(_metadata, qp, &ia, IBV_QPT_UD, 0);

	/* the Q_Key can change in RTS */
	memset(&set, 0, sizeof(set));
	set.qp_state = IBV_QPS_RTS;
	set.qkey = 0x600dbeef;
	ASSERT_EQ(0, verr(ibv_modify_qp(qp, &set,
					IBV_QP_STATE | IBV_QP_QKEY)));
	ASSERT_EQ(0, qp_query(qp, &q, NULL));
	EXPECT_EQ(0x600dbeef, q.qkey);
}

TEST_HARNESS_MAIN

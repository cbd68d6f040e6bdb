// SPDX-License-Identifier: GPL-2.0
/*
 * What a hostile unprivileged process can do to rxdp through the queues
 * it maps: every index and every WQE in them is its to write, at any time.
 * The kernel must answer garbage with an error (the QP to ERR, an errno),
 * in bounded work, and leak nothing.
 *
 * Each test runs its attack in a child that became uid 65534 (the uverbs
 * device is open to everyone), and checks from root afterwards that every
 * object the child made went away with it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include <rdma/ib_user_verbs.h>
#include <rdma/rdma_user_rxe.h>

#include "rxdp_test.h"

TESTDEV_DEFINE(tdev, "rxdpq5", "rxq5a", "rxq5b", "10.77.5.1");

/* In the child: report and fail. */
#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "# %s:%d: ", __FILE__, __LINE__);	\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		return 1;						\
	}								\
} while (0)

static const char *const res_kinds[] = { "pd", "cq", "qp", "mr", "srq" };
#define NRES	5

FIXTURE(hostile) {
	int res[NRES];
	int bad;
};

FIXTURE_SETUP(hostile)
{
	int i;

	ASSERT_EQ(0, testdev_ensure(&tdev));
	for (i = 0; i < NRES; i++) {
		self->res[i] = rdma_res_count(tdev.name, res_kinds[i]);
		ASSERT_LE(0, self->res[i]);
	}
	self->bad = kmsg_bad_count();
}

/* What the child made is gone with it; the kernel log stayed clean. */
FIXTURE_TEARDOWN(hostile)
{
	int i;

	for (i = 0; i < NRES; i++) {
		EXPECT_TRUE(WAIT_UNTIL(rdma_res_count(tdev.name, res_kinds[i]) ==
				       self->res[i], 2000)) {
			TH_LOG("%s: %d before, %d after", res_kinds[i],
			       self->res[i],
			       rdma_res_count(tdev.name, res_kinds[i]));
		}
	}
	EXPECT_EQ(self->bad, kmsg_bad_count());
	testdev_release(&tdev);
}

static void ring_set_prod(struct rxe_queue_buf *q, uint32_t v)
{
	atomic_store_explicit((_Atomic uint32_t *)&q->producer_index, v,
			      memory_order_release);
}

static void *ring_slot(struct rxe_queue_buf *q, uint32_t mask,
		       uint32_t log2, uint32_t i)
{
	return q->data + ((size_t)(i & mask) << log2);
}

/* ---- a producer index moved back over posted WQEs ------------------- */

#define SQ_WR	100	/* 128 slots: a mask no other ring of the tests has */
#define SQ_MASK	127u

/*
 * Two sends wait on an RC QP (nothing acks them).  The process then moves
 * the producer index back behind them, with a bad WQE in the last slot
 * of the ring: the index that walks from the WQEs checked to the new
 * producer passes the consumer.  The kernel once spun there for ever with
 * IRQs off.  Now the doorbell fails, the QP goes to ERR and the two sends
 * flush, once each.
 */
static int prod_moved_back(void *arg)
{
	struct qp_env e;
	struct ibv_qp *qp;
	struct rxe_queue_buf *sq;
	struct ibv_wc wc[8];
	uint32_t log2;
	int ret, n, i;

	CHECK(qp_env_open(&e, tdev.name) == 0, "open %s", tdev.name);
	qp = e.qp = qp_create(&e, IBV_QPT_RC, SQ_WR);
	CHECK(qp, "create QP: %s", strerror(errno));
	CHECK(qp_bring_to(&e, qp, IBV_QPS_RTS) == 0, "to RTS");
	CHECK(post_sends(qp, e.mr, 64, 2, 1, IBV_SEND_SIGNALED) == 0, "post");
	sq = uverbs_ring(SQ_MASK);
	CHECK(sq, "no mapped ring with index mask %u", SQ_MASK);
	CHECK(sq->producer_index == 2 && sq->consumer_index == 0,
	      "SQ at %u..%u", sq->consumer_index, sq->producer_index);
	log2 = sq->log2_elem_size;

	memset(ring_slot(sq, SQ_MASK, log2, SQ_MASK), 0xff, 1u << log2);
	ring_set_prod(sq, 1);
	ret = uverbs_sq_doorbell(qp);
	CHECK(ret == EINVAL, "doorbell: %s", strerror(ret));
	CHECK(qp_state(qp) == IBV_QPS_ERR, "QP in %s",
	      qp_state_name(qp_state(qp)));

	n = poll_n(e.scq, 8, wc, 1000);
	CHECK(n == 2, "%d completions, not 2", n);
	for (i = 0; i < n; i++) {
		CHECK(wc[i].wr_id == 1u + i && wc[i].status == IBV_WC_WR_FLUSH_ERR,
		      "completion %d: wr_id %llu %s", i,
		      (unsigned long long)wc[i].wr_id,
		      ibv_wc_status_str(wc[i].status));
	}
	/* put back where the kernel is, the ring is empty: nothing more */
	ring_set_prod(sq, 2);
	ret = uverbs_sq_doorbell(qp);
	CHECK(ret == 0, "doorbell in ERR: %s", strerror(ret));
	CHECK(poll_n(e.scq, 8, wc, 100) == 0, "a completion after the flush");
	qp_env_close(&e);
	return 0;
}

TEST_F(hostile, sq_prod_moved_back)
{
	EXPECT_EQ(0, run_as_nobody(prod_moved_back, NULL, 20000));
}

/* ---- random indexes and WQEs in every ring ------------------------- */

/*
 * The rings of the fuzz, each with a mask none of the others has: an RC
 * QP (SQ and RQ), a UD QP on an SRQ (its SQ), the SRQ (whose size a
 * resize changes), and the UD QP's send CQ (resized too).
 */
enum { R_RC_SQ, R_RC_RQ, R_UD_SQ, R_SRQ, R_CQ, NRINGS };

struct ring {
	struct rxe_queue_buf *q;
	uint32_t mask, log2;	/* as the kernel wrote them at creation */
};

struct fuzz {
	struct qp_env e;
	struct ibv_qp *rc, *ud;
	struct ibv_srq *srq;
	struct ibv_cq *cq;
	struct ring r[NRINGS];
	bool srq_big, cq_big;
	unsigned int seed;
	int rounds;
};

/* where the fuzz is, for a fault report */
static volatile int fuzz_at, fuzz_op, fuzz_ring;

static int ring_find(struct ring *r, uint32_t mask)
{
	r->q = uverbs_ring(mask);
	if (!r->q)
		return -1;
	r->mask = mask;
	r->log2 = r->q->log2_elem_size;
	return 0;
}

static uint32_t rnd(struct fuzz *f)
{
	return (uint32_t)rand_r(&f->seed) << 16 ^ rand_r(&f->seed);
}

/* A SEND of 64 bytes that the kernel would take, in slot i of sq. */
static void good_send(struct fuzz *f, struct ring *sq, uint32_t i)
{
	struct rxe_send_wqe *w = ring_slot(sq->q, sq->mask, sq->log2, i);

	memset(w, 0, sizeof(*w) + sizeof(struct rxe_sge));
	w->wr.wr_id = i;
	w->wr.opcode = IBV_WR_SEND;
	w->wr.send_flags = IBV_SEND_SIGNALED;
	w->dma.length = 64;
	w->dma.resid = 64;
	w->dma.num_sge = 1;
	w->dma.sge[0].addr = (uintptr_t)f->e.buf;
	w->dma.sge[0].length = 64;
	w->dma.sge[0].lkey = f->e.mr->lkey;
}

/* One WQE: random bytes, or a good one with one word changed. */
static void scribble(struct fuzz *f, struct ring *r, uint32_t i)
{
	uint32_t *w = ring_slot(r->q, r->mask, r->log2, i);
	uint32_t words = (1u << r->log2) / 4, k;

	if (rnd(f) & 1) {
		for (k = 0; k < words; k++)
			w[k] = rnd(f);
		return;
	}
	if (r == &f->r[R_RC_SQ] || r == &f->r[R_UD_SQ])
		good_send(f, r, i);
	/* mostly the header and the first SGEs, where the fields are */
	w[rnd(f) % (rnd(f) & 1 && words > 40 ? 40 : words)] =
		rnd(f) >> (rnd(f) % 32);
}

static int fuzz_setup(struct fuzz *f)
{
	struct ibv_srq_init_attr sa = {
		.attr = { .max_wr = 10, .max_sge = 2 },
	};
	struct ibv_qp_init_attr rc = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = SQ_WR, .max_recv_wr = 40,
			 .max_send_sge = 4, .max_recv_sge = 4,
			 .max_inline_data = 64 },
	}, ud = {
		.qp_type = IBV_QPT_UD,
		.cap = { .max_send_wr = 200, .max_send_sge = 2 },
	};

	CHECK(qp_env_open(&f->e, tdev.name) == 0, "open %s", tdev.name);
	f->cq = ibv_create_cq(f->e.ctx, 1000, NULL, NULL, 0);
	CHECK(f->cq, "create CQ: %s", strerror(errno));
	f->srq = ibv_create_srq(f->e.pd, &sa);
	CHECK(f->srq, "create SRQ: %s", strerror(errno));
	rc.send_cq = f->e.scq;
	rc.recv_cq = f->e.rcq;
	f->rc = qp_create_attr(f->e.pd, &rc);
	CHECK(f->rc, "create RC QP: %s", strerror(errno));
	ud.send_cq = f->cq;
	ud.recv_cq = f->e.rcq;
	ud.srq = f->srq;
	f->ud = qp_create_attr(f->e.pd, &ud);
	CHECK(f->ud, "create UD QP: %s", strerror(errno));
	CHECK(qp_bring_to(&f->e, f->rc, IBV_QPS_RTS) == 0, "RC to RTS");
	CHECK(qp_bring_to(&f->e, f->ud, IBV_QPS_RTS) == 0, "UD to RTS");
	CHECK(ring_find(&f->r[R_RC_SQ], SQ_MASK) == 0 &&
	      ring_find(&f->r[R_RC_RQ], 63) == 0 &&
	      ring_find(&f->r[R_UD_SQ], 255) == 0 &&
	      ring_find(&f->r[R_SRQ], 15) == 0 &&
	      ring_find(&f->r[R_CQ], 1023) == 0, "a ring is not mapped");
	return 0;
}

/* Resize the SRQ or the CQ: the kernel counts entries by user indexes. */
static int fuzz_resize(struct fuzz *f, bool srq)
{
	int ret;

	if (srq) {
		struct ibv_srq_attr a = {
			.max_wr = f->srq_big ? 10 : 2000,
		};

		ret = verr(ibv_modify_srq(f->srq, &a, IBV_SRQ_MAX_WR));
		if (!ret)
			f->srq_big = !f->srq_big;
	} else {
		ret = verr(ibv_resize_cq(f->cq, f->cq_big ? 1000 : 3000));
		if (!ret)
			f->cq_big = !f->cq_big;
	}
	/* too many entries for the new size: refused, the old ring stays */
	CHECK(!ret || ret == EINVAL, "resize: %s", strerror(ret));
	/* a new ring, mapped elsewhere */
	if (srq)
		CHECK(ring_find(&f->r[R_SRQ], f->srq_big ? 2047 : 15) == 0,
		      "SRQ ring after resize");
	else
		CHECK(ring_find(&f->r[R_CQ], f->cq_big ? 4095 : 1023) == 0,
		      "CQ ring after resize");
	return 0;
}

/*
 * The provider reads the geometry in the header (a reset clears the ring
 * by it): put it back before asking the provider anything.
 */
static void fix_headers(struct fuzz *f)
{
	int i;

	for (i = 0; i < NRINGS; i++) {
		f->r[i].q->index_mask = f->r[i].mask;
		f->r[i].q->log2_elem_size = f->r[i].log2;
	}
}

static int fuzz_round(struct fuzz *f)
{
	struct ring *r = &f->r[rnd(f) % NRINGS];
	struct ibv_qp *qp = rnd(f) & 1 ? f->rc : f->ud;
	uint32_t n, i, prod = r->q->producer_index;
	int ret;

	fuzz_ring = r - f->r;
	fuzz_op = rnd(f) % 10;
	switch (fuzz_op) {
	case 0:		/* any producer index */
		ring_set_prod(r->q, rnd(f) >> (rnd(f) % 32));
		break;
	case 1:		/* any consumer index: the kernel's to write */
		r->q->consumer_index = rnd(f) >> (rnd(f) % 32);
		break;
	case 2:		/* any header: the kernel keeps its own geometry */
		if (rnd(f) & 1)
			r->q->log2_elem_size = rnd(f);
		else
			r->q->index_mask = rnd(f);
		break;
	case 3:		/* a few WQEs where they would go, then produce */
	case 4:
	case 5:
		n = 1 + rnd(f) % 8;
		for (i = 0; i < n; i++)
			scribble(f, r, prod + i);
		ring_set_prod(r->q, prod + n);
		break;
	case 6:		/* a WQE anywhere, maybe one being checked */
		scribble(f, r, rnd(f));
		break;
	case 7:		/* the error state flushes by the user's indexes */
		fix_headers(f);
		ret = qp_to_simple(qp, IBV_QPS_ERR);
		CHECK(!ret, "to ERR: %s", strerror(ret));
		break;
	case 8:		/* and back */
		fix_headers(f);
		ret = qp_to_simple(qp, IBV_QPS_RESET);
		CHECK(!ret, "to RESET: %s", strerror(ret));
		ret = qp_bring_to(&f->e, qp, IBV_QPS_RTS);
		CHECK(!ret, "to RTS: %s", strerror(ret));
		break;
	case 9:
		fix_headers(f);
		if (fuzz_resize(f, rnd(f) & 1))
			return 1;
		break;
	}
	ret = uverbs_sq_doorbell(qp);
	CHECK(!ret || ret == EINVAL, "doorbell: %s", strerror(ret));
	return 0;
}

/* A fault of the process itself: say where, for the seed's replay. */
static void fuzz_fault(int sig, siginfo_t *si, void *uc)
{
	char msg[160];
	int n = snprintf(msg, sizeof(msg),
			 "# fuzz: signal %d at %p, round %d, op %d, ring %d\n",
			 sig, si->si_addr, fuzz_at, fuzz_op, fuzz_ring);

	write(2, msg, n);
	_exit(3);
}

static int fuzz_rings(void *arg)
{
	struct sigaction sa = { .sa_sigaction = fuzz_fault,
				.sa_flags = SA_SIGINFO };
	struct fuzz *f = arg;
	int i;

	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);

	if (fuzz_setup(f))
		return 1;
	for (i = 0; i < f->rounds; i++)
		if ((fuzz_at = i), fuzz_round(f))
			return 1;
	fix_headers(f);
	CHECK(ibv_destroy_qp(f->rc) == 0 && ibv_destroy_qp(f->ud) == 0 &&
	      ibv_destroy_srq(f->srq) == 0 && ibv_destroy_cq(f->cq) == 0,
	      "destroy: %s", strerror(errno));
	qp_env_close(&f->e);
	return 0;
}

/*
 * Random producer and consumer indexes, headers and WQE bytes in the SQs,
 * the RQ, the SRQ and a CQ, with the doorbell rung after each change and
 * flushes, resets and resizes among them: every call returns, with
 * success or EINVAL.  $RXDP_FUZZ_SEED replays a run.
 */
TEST_F(hostile, fuzz_user_rings)
{
	struct fuzz f = {
		.rounds = test_rounds(4000, 1000),
		.seed = getenv("RXDP_FUZZ_SEED") ?
			strtoul(getenv("RXDP_FUZZ_SEED"), NULL, 0) : time(NULL),
	};

	TH_LOG("seed %u, %d rounds", f.seed, f.rounds);
	EXPECT_EQ(0, run_as_nobody(fuzz_rings, &f, 120000));
}

/* ---- queue memory is the creating process's ----------------------- */

#define CG_ROOT		"/sys/fs/cgroup"
#define CG		CG_ROOT "/rxdp-hostile"
#define CG_MAX		(48 << 20)

static long cg_read(const char *file)
{
	char path[128], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), CG "/%s", file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return atol(buf);
}

/*
 * An RC QP of wr WRs of 32 SGEs each way: two rings of wr + 1 WQEs of
 * 1 KiB each.
 */
static struct ibv_qp *big_qp(struct qp_env *e, uint32_t wr)
{
	struct ibv_qp_init_attr ia = {
		.send_cq = e->scq, .recv_cq = e->rcq, .qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = wr, .max_recv_wr = wr,
			 .max_send_sge = 32, .max_recv_sge = 32 },
	};

	return qp_create_attr(e->pd, &ia);
}

static int charged(void *arg)
{
	struct qp_env e;
	struct ibv_qp *qp;
	long before, after;

	CHECK(qp_env_open(&e, tdev.name) == 0, "open %s", tdev.name);
	before = cg_read("memory.current");
	qp = big_qp(&e, 8191);		/* 8 MiB each way */
	CHECK(qp, "create a 16 MiB QP: %s", strerror(errno));
	after = cg_read("memory.current");
	CHECK(after - before >= 16l << 20,
	      "the cgroup was charged %ld bytes for 16 MiB of rings",
	      after - before);
	CHECK(ibv_destroy_qp(qp) == 0, "destroy");
	CHECK(cg_read("memory.current") < after - (15l << 20),
	      "the charge stayed after destroy");
	/* the largest QP, 64 MiB, is more than the cgroup may have */
	qp = big_qp(&e, e.dev.max_qp_wr);
	CHECK(!qp && errno == ENOMEM, "a %d-WR QP in a 48 MiB cgroup: %s",
	      e.dev.max_qp_wr, qp ? "created" : strerror(errno));
	/* and it did not cost the process its life: */
	qp = big_qp(&e, 1023);
	CHECK(qp, "a 2 MiB QP after the refusal: %s", strerror(errno));
	qp_env_close(&e);
	return 0;
}

/*
 * The rings of a user QP are charged to the memory cgroup of the process
 * that created it, and go with it; a QP its cgroup has no room for is
 * refused with ENOMEM (not an OOM kill).
 */
TEST_F(hostile, rings_charged_to_memcg)
{
	char max[32];
	int ret;

	if (access(CG_ROOT "/cgroup.controllers", F_OK))
		ASSERT_EQ(0, sh("mount -t cgroup2 none " CG_ROOT));
	ASSERT_EQ(0, sh("echo +memory > " CG_ROOT "/cgroup.subtree_control"));
	ASSERT_EQ(0, sh("mkdir -p " CG));
	snprintf(max, sizeof(max), "%d", CG_MAX);
	ASSERT_EQ(0, sh("echo %s > " CG "/memory.max", max));
	/* the child inherits the cgroup; nobody could not move itself */
	ASSERT_EQ(0, sh("echo %d > " CG "/cgroup.procs", getpid()));
	ret = run_as_nobody(charged, NULL, 60000);
	EXPECT_EQ(0, sh("echo %d > " CG_ROOT "/cgroup.procs", getpid()));
	EXPECT_EQ(0, sh("grep -q '^oom_kill 0' " CG "/memory.events"));
	EXPECT_EQ(0, sh("rmdir " CG));
	EXPECT_EQ(0, ret);
}

/* ---- a resize whose answer cannot be written ------------------------ */

/* A page the kernel cannot write to: the answers of the commands below. */
static void *fault_page(void)
{
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* resize_cq as the provider sends it, with its answer going to resp. */
static int raw_resize_cq(struct ibv_cq *cq, uint32_t cqe, void *resp)
{
	struct {
		struct ib_uverbs_cmd_hdr hdr;
		struct ib_uverbs_resize_cq cmd;
	} req = {
		.cmd = {
			.response = (uintptr_t)resp,
			.cq_handle = cq->handle,
			.cqe = cqe,
		},
	};

	return uverbs_write(cq->context, IB_USER_VERBS_CMD_RESIZE_CQ, &req,
			    sizeof(req),
			    sizeof(struct ib_uverbs_resize_cq_resp) +
			    sizeof(struct rxe_resize_cq_resp));
}

/* modify_srq of max_wr, the new ring's place going to mi. */
static int raw_resize_srq(struct ibv_srq *srq, uint32_t max_wr, void *mi)
{
	struct {
		struct ib_uverbs_cmd_hdr hdr;
		struct ib_uverbs_modify_srq cmd;
		struct rxe_modify_srq_cmd drv;
	} req = {
		.cmd = {
			.srq_handle = srq->handle,
			.attr_mask = IBV_SRQ_MAX_WR,
			.max_wr = max_wr,
		},
		.drv = { .mmap_info_addr = (uintptr_t)mi },
	};

	return uverbs_write(srq->context, IB_USER_VERBS_CMD_MODIFY_SRQ, &req,
			    sizeof(req), 0);
}

static int resize_fault(void *arg)
{
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = 10, .max_sge = 1 } };
	struct ibv_srq_attr srq_attr;
	struct ibv_wc wc[4];
	struct qp_env e;
	struct ibv_srq *srq;
	struct ibv_qp *qp;
	void *bad = fault_page();
	int ret, n;

	CHECK(bad, "mmap");
	CHECK(qp_env_open(&e, tdev.name) == 0, "open %s", tdev.name);

	ret = raw_resize_cq(e.scq, 1000, bad);
	CHECK(ret == EFAULT, "resize_cq: %s", strerror(ret));
	/* the CQ is where the process maps it: completions land there */
	qp = e.qp = qp_create(&e, IBV_QPT_RC, 8);
	CHECK(qp, "create QP: %s", strerror(errno));
	CHECK(qp_bring_to(&e, qp, IBV_QPS_RTS) == 0, "to RTS");
	CHECK(post_sends(qp, e.mr, 64, 2, 1, IBV_SEND_SIGNALED) == 0, "post");
	CHECK(qp_to_simple(qp, IBV_QPS_ERR) == 0, "to ERR");
	n = poll_n(e.scq, 4, wc, 1000);
	CHECK(n == 2, "%d of 2 flushed sends on the CQ", n);
	/* and it still resizes for real */
	CHECK(ibv_resize_cq(e.scq, 1000) == 0, "resize: %s", strerror(errno));
	CHECK(e.scq->cqe >= 1000, "%d entries", e.scq->cqe);

	srq = ibv_create_srq(e.pd, &sa);
	CHECK(srq, "create SRQ: %s", strerror(errno));
	ret = raw_resize_srq(srq, 200, bad);
	CHECK(ret == EFAULT, "modify_srq: %s", strerror(ret));
	CHECK(ibv_query_srq(srq, &srq_attr) == 0, "query SRQ");
	CHECK(srq_attr.max_wr < 200, "the SRQ took %u WRs it cannot map",
	      srq_attr.max_wr);
	CHECK(ibv_destroy_srq(srq) == 0, "destroy SRQ");
	qp_env_close(&e);
	return 0;
}

/*
 * A resize whose answer (where the new ring is) cannot be written fails
 * with EFAULT and leaves the CQ or SRQ on the ring the process has: the
 * kernel goes on writing where the process reads.
 */
TEST_F(hostile, resize_answer_faults)
{
	EXPECT_EQ(0, run_as_nobody(resize_fault, NULL, 30000));
}

TEST_HARNESS_MAIN

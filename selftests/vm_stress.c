// SPDX-License-Identifier: GPL-2.0
/*
 * QPs in numbers: the max_qp limit (module parameter), 10 000 QPs created
 * and destroyed, threads creating, modifying, querying and listing QPs at
 * once, and the cleanup of everything a killed process left behind.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "rxdp_test.h"

TESTDEV_DEFINE(tdev, "rxdpq4", "rxq4a", "rxq4b", "10.77.4.1");

static const enum ibv_qp_type qp_types[] = { IBV_QPT_RC, IBV_QPT_UC,
					     IBV_QPT_UD };
#define NTYPES	3

/* The QP lines of "rdma resource show qp link DEV". */
static int rdma_qp_lines(void)
{
	char out[65536], *p = out;
	int n = 0;

	if (rdma_res_qps(tdev.name, out, sizeof(out)))
		return -1;
	while ((p = strstr(p, " lqpn "))) {
		n++;
		p++;
	}
	return n;
}

/* ---- max_qp ---------------------------------------------------------- */

#define SMALL_MAX_QP	16

FIXTURE(maxqp) {
	struct qp_env e;
	struct ibv_qp *qp[SMALL_MAX_QP + 8];
	int n;
};

FIXTURE_SETUP(maxqp)
{
	if (!testdev_is_rxdp())
		SKIP(return, "max_qp is an rxdp module parameter");
	ASSERT_EQ(0, sh("rmmod rxdp")) TH_LOG("rxdp busy?");
	ASSERT_EQ(0, sh("insmod %s max_qp=%d", rxdp_ko(), SMALL_MAX_QP));
	ASSERT_EQ(0, testdev_ensure(&tdev));
	ASSERT_EQ(0, qp_env_open(&self->e, tdev.name));
}

FIXTURE_TEARDOWN(maxqp)
{
	int i;

	for (i = 0; i < self->n; i++)
		if (self->qp[i])
			ibv_destroy_qp(self->qp[i]);
	qp_env_close(&self->e);
	if (!testdev_is_rxdp())
		return;
	/* the default module back, and the device on it */
	testdev_remove(&tdev);
	EXPECT_EQ(0, sh("rmmod rxdp && insmod %s", rxdp_ko()));
	testdev_ensure(&tdev);
}

TEST_F(maxqp, exhaustion)
{
	struct qp_env *e = &self->e;
	struct ibv_qp *qp;
	int i, j;

	ASSERT_EQ(SMALL_MAX_QP, e->dev.max_qp);
	/* QP1 is one of them */
	for (i = 0; i < SMALL_MAX_QP + 8; i++) {
		errno = 0;
		qp = qp_create(e, qp_types[i % NTYPES], 1);
		if (!qp)
			break;
		self->qp[self->n++] = qp;
		EXPECT_GE(qp->qp_num, 2);
		for (j = 0; j < self->n - 1; j++) {
			EXPECT_NE(self->qp[j]->qp_num, qp->qp_num);
		}
	}
	EXPECT_EQ(SMALL_MAX_QP - 1, self->n);
	EXPECT_EQ(ENOMEM, errno) TH_LOG("%s", strerror(errno));

	/* one destroyed: one more can be made, and then no more */
	ASSERT_GE(self->n, 3);
	ASSERT_EQ(0, ibv_destroy_qp(self->qp[1]));
	self->qp[1] = qp_create(e, IBV_QPT_RC, 1);
	EXPECT_NE(NULL, self->qp[1]) TH_LOG("%s", strerror(errno));
	errno = 0;
	qp = qp_create(e, IBV_QPT_UD, 1);
	EXPECT_EQ(NULL, qp);
	EXPECT_EQ(ENOMEM, errno);
	if (qp)
		ibv_destroy_qp(qp);

	/* all gone: all can be made again */
	for (i = 0; i < self->n; i++) {
		if (self->qp[i]) {
			EXPECT_EQ(0, ibv_destroy_qp(self->qp[i]));
		}
		self->qp[i] = NULL;
	}
	for (i = 0; i < SMALL_MAX_QP - 1; i++) {
		self->qp[i] = qp_create(e, qp_types[i % NTYPES], 1);
		EXPECT_NE(NULL, self->qp[i]) TH_LOG("QP %d: %s", i,
						    strerror(errno));
	}
}

/* ---- many, at once, and left behind --------------------------------- */

FIXTURE(stress) {
	struct qp_env e;
	pid_t child;
};

FIXTURE_SETUP(stress)
{
	ASSERT_EQ(0, testdev_ensure(&tdev));
	ASSERT_EQ(0, qp_env_open(&self->e, tdev.name));
	kmsg_mark();
}

FIXTURE_TEARDOWN(stress)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	qp_env_close(&self->e);
	testdev_release(&tdev);
}

/* Ten batches of a thousand QPs each (one under the debug kernel). */
#define BATCH	1000

TEST_F_TIMEOUT(stress, ten_thousand_qps, 240)
{
	struct qp_env *e = &self->e;
	struct ibv_qp **qp;
	int base = rdma_res_count(tdev.name, "qp");
	long t0 = now_ms();
	int total = test_rounds(10, 1) * BATCH;
	int made = 0, i;

	qp = calloc(BATCH, sizeof(*qp));
	ASSERT_NE(NULL, qp);
	while (made < total) {
		for (i = 0; i < BATCH; i++) {
			qp[i] = qp_create(e, qp_types[i % NTYPES], 1);
			ASSERT_NE(NULL, qp[i]) {
				TH_LOG("QP %d: %s", made + i, strerror(errno));
				while (i--)
					ibv_destroy_qp(qp[i]);
			}
		}
		if (made == 0 && testdev_is_rxdp()) {
			EXPECT_EQ(BATCH + 1, debugfs_qp_count(tdev.name));
		}
		for (i = 0; i < BATCH; i++) {
			ASSERT_EQ(0, ibv_destroy_qp(qp[i]));
		}
		made += BATCH;
	}
	TH_LOG("%d QPs created and destroyed in %ld ms", made,
	       now_ms() - t0);
	free(qp);
	/* nothing left over */
	if (testdev_is_rxdp()) {
		EXPECT_EQ(1, debugfs_qp_count(tdev.name));
	}
	EXPECT_EQ(base, rdma_res_count(tdev.name, "qp"));
	EXPECT_FALSE(kmsg_has("WARNING"));
	EXPECT_FALSE(kmsg_has("BUG"));
}

/* The child: objects of every kind, 10 QPs, then it waits to be killed. */
static void leave_behind(int fd)
{
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = 8,
						  .max_sge = 1 } };
	struct qp_env e;
	struct ibv_srq *srq;
	uint32_t qpn[10];
	int i;

	if (qp_env_open(&e, tdev.name))
		_exit(1);
	srq = ibv_create_srq(e.pd, &sa);
	if (!srq || post_srq_recvs(srq, e.mr, 64, 4, 1))
		_exit(2);
	for (i = 0; i < 10; i++) {
		struct ibv_qp *qp = qp_create(&e, qp_types[i % NTYPES], 4);

		if (!qp)
			_exit(3);
		qpn[i] = qp->qp_num;
		/* in all sorts of states, with work queued */
		if (i >= 3 && qp_bring_to(&e, qp, i < 6 ? IBV_QPS_INIT :
							    IBV_QPS_RTS))
			_exit(4);
		if (i >= 3 && post_recvs(qp, e.mr, 64, 2, 1))
			_exit(5);
		if (i >= 6 && qp->qp_type == IBV_QPT_RC &&
		    post_sends(qp, e.mr, 64, 2, 1, IBV_SEND_SIGNALED))
			_exit(6);
	}
	if (write(fd, qpn, sizeof(qpn)) != sizeof(qpn))
		_exit(7);
	for (;;)
		pause();
}

TEST_F(stress, killed_process_cleaned_up)
{
	static const char *const what[] = { "pd", "cq", "mr", "srq", "qp" };
	int before[5], during[5], i, fds[2];
	uint32_t qpn[10];
	char out[16384];

	for (i = 0; i < 5; i++) {
		before[i] = rdma_res_count(tdev.name, what[i]);
		ASSERT_GE(before[i], 0) TH_LOG("%s", what[i]);
	}
	ASSERT_EQ(0, pipe(fds));
	self->child = fork();
	ASSERT_GE(self->child, 0);
	if (self->child == 0) {
		close(fds[0]);
		leave_behind(fds[1]);
	}
	close(fds[1]);
	ASSERT_EQ(sizeof(qpn), read(fds[0], qpn, sizeof(qpn))) {
		TH_LOG("the child failed");
	}
	close(fds[0]);

	/* what the child made is listed */
	for (i = 0; i < 5; i++)
		during[i] = rdma_res_count(tdev.name, what[i]);
	EXPECT_GE(during[0], before[0] + 1);
	EXPECT_GE(during[1], before[1] + 1);
	EXPECT_GE(during[2], before[2] + 1);
	EXPECT_EQ(during[3], before[3] + 1);
	EXPECT_EQ(during[4], before[4] + 10);
	ASSERT_EQ(0, rdma_res_qps(tdev.name, out, sizeof(out)));
	for (i = 0; i < 10; i++) {
		EXPECT_TRUE(rdma_res_has_qp(out, qpn[i],
					    qp_type_name(qp_types[i % NTYPES]))) {
			TH_LOG("QP %u: %s", qpn[i], out);
		}
	}

	/* killed: all of it goes away */
	ASSERT_EQ(0, kill(self->child, SIGKILL));
	ASSERT_EQ(self->child, waitpid(self->child, NULL, 0));
	self->child = 0;
	for (i = 0; i < 5; i++) {
		EXPECT_TRUE(WAIT_FOR(rdma_res_count(tdev.name, what[i]) ==
				     before[i], 5000)) {
			TH_LOG("%s: %d, was %d", what[i],
			       rdma_res_count(tdev.name, what[i]), before[i]);
		}
	}
	ASSERT_EQ(0, rdma_res_qps(tdev.name, out, sizeof(out)));
	EXPECT_EQ(1, rdma_qp_lines()) TH_LOG("%s", out);
	EXPECT_TRUE(rdma_res_has_qp(out, 1, "GSI"));
	if (testdev_is_rxdp()) {
		EXPECT_EQ(1, debugfs_qp_count(tdev.name));
	}
	EXPECT_FALSE(kmsg_has("WARNING"));
	EXPECT_FALSE(kmsg_has("BUG"));
}

/* ---- threads ---------------------------------------------------------- */

#define WORKERS	4
#define RUN_MS	3000

struct slot {
	pthread_mutex_t lock;
	struct ibv_qp *qp;	/* published while it exists */
};

struct race {
	struct qp_env *e;
	struct slot slot[WORKERS];
	atomic_bool stop;
	atomic_int failures;
	atomic_long cycles, queries, reads;
	char why[256];
};

static void race_fail(struct race *r, const char *what, int err)
{
	if (atomic_fetch_add(&r->failures, 1) == 0)
		snprintf(r->why, sizeof(r->why), "%s: %s", what,
			 strerror(err));
}

static void *worker(void *arg)
{
	struct race *r = ((void **)arg)[0];
	struct slot *s = ((void **)arg)[1];
	struct qp_env *e = r->e;

	while (!atomic_load(&r->stop)) {
		struct ibv_qp *qp = qp_create(e, IBV_QPT_RC, 2);
		int ret;

		if (!qp) {
			race_fail(r, "create", errno);
			break;
		}
		pthread_mutex_lock(&s->lock);
		s->qp = qp;
		pthread_mutex_unlock(&s->lock);

		ret = qp_to_init(e, qp);
		if (!ret)
			ret = qp_to_rtr(e, qp);
		if (!ret)
			ret = qp_to_rts(e, qp);
		if (!ret)
			ret = qp_to_simple(qp, IBV_QPS_ERR);
		if (!ret)
			ret = qp_to_simple(qp, IBV_QPS_RESET);
		if (ret)
			race_fail(r, "modify", ret);

		pthread_mutex_lock(&s->lock);
		s->qp = NULL;
		pthread_mutex_unlock(&s->lock);
		ret = ibv_destroy_qp(qp);
		if (ret)
			race_fail(r, "destroy", verr(ret));
		atomic_fetch_add(&r->cycles, 1);
	}
	return NULL;
}

static void *querier(void *arg)
{
	struct race *r = arg;
	int i = 0;

	while (!atomic_load(&r->stop)) {
		struct slot *s = &r->slot[i++ % WORKERS];
		struct ibv_qp_init_attr ia;
		struct ibv_qp_attr a;

		pthread_mutex_lock(&s->lock);
		if (s->qp) {
			int ret = ibv_query_qp(s->qp, &a, 0x1fffff, &ia);

			if (ret)
				race_fail(r, "query", verr(ret));
			atomic_fetch_add(&r->queries, 1);
		}
		pthread_mutex_unlock(&s->lock);
		if (!(i % WORKERS))
			usleep(100);
	}
	return NULL;
}

static void *lister(void *arg)
{
	static char out[1 << 16];
	struct race *r = arg;

	while (!atomic_load(&r->stop)) {
		if (debugfs_qps(tdev.name, out, sizeof(out)))
			race_fail(r, "debugfs", errno);
		else if (!debugfs_qp_has(out, 1, "GSI", NULL))
			race_fail(r, "debugfs: no QP1", 0);
		atomic_fetch_add(&r->reads, 1);
		usleep(1000);
	}
	return NULL;
}

TEST_F_TIMEOUT(stress, threads, 60)
{
	pthread_t w[WORKERS], q, l;
	void *args[WORKERS][2];
	struct race r;
	int i;

	memset(&r, 0, sizeof(r));
	r.e = &self->e;
	for (i = 0; i < WORKERS; i++) {
		pthread_mutex_init(&r.slot[i].lock, NULL);
		args[i][0] = &r;
		args[i][1] = &r.slot[i];
		ASSERT_EQ(0, pthread_create(&w[i], NULL, worker, args[i]));
	}
	ASSERT_EQ(0, pthread_create(&q, NULL, querier, &r));
	if (testdev_is_rxdp()) {
		ASSERT_EQ(0, pthread_create(&l, NULL, lister, &r));
	}
	usleep(RUN_MS * 1000);
	atomic_store(&r.stop, true);
	for (i = 0; i < WORKERS; i++)
		pthread_join(w[i], NULL);
	pthread_join(q, NULL);
	if (testdev_is_rxdp())
		pthread_join(l, NULL);

	TH_LOG("%ld QP lifecycles, %ld queries, %ld debugfs reads",
	       atomic_load(&r.cycles), atomic_load(&r.queries),
	       atomic_load(&r.reads));
	EXPECT_EQ(0, atomic_load(&r.failures)) TH_LOG("%s", r.why);
	EXPECT_GE(atomic_load(&r.cycles), WORKERS);
	EXPECT_GT(atomic_load(&r.queries), 0);
	if (testdev_is_rxdp()) {
		EXPECT_GT(atomic_load(&r.reads), 0);
		EXPECT_EQ(1, debugfs_qp_count(tdev.name));
	}
	EXPECT_FALSE(kmsg_has("WARNING"));
	EXPECT_FALSE(kmsg_has("BUG"));
}

TEST_HARNESS_MAIN

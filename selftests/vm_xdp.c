// SPDX-License-Identifier: GPL-2.0
/*
 * The XDP receive path as the verbs see it: the QP table that rxdpctl
 * pinned follows every QP through its states (the module writes it), and
 * RoCEv2 packets sent by rdma_rxe over a veth are delivered to rxdp QPs
 * that receive, or dropped with the counter of their reason.
 *
 *   init namespace                 namespace rxx_ns
 *   rxe device rxxe0 on rxx0a <--> rxx0b with rxdp device rxdpx0 (rxdpctl)
 *   10.78.0.1                      10.78.0.2
 *
 * The veths have an MTU of 9000, so that the IB MTU is 4096 and a full
 * packet is larger than a page: veth hands it to XDP in several buffers.
 *
 * rdma_rxe only binds netdevs of the initial namespace, and both ends must
 * not share one (the kernel would route the packets over lo).
 *
 * rxdp has rxe's driver id, so rdma_rxe's netdev notifier takes rxdp
 * devices for its own: loading rdma_rxe replays NETDEV_UP for every netdev
 * (and rxe would write its port state into an rxdp device), unloading it
 * removes every device of the id.  So rdma_rxe is loaded before the rxdp
 * device exists, the rxdp netdev does not change while both are there,
 * and the rxdp device goes before rdma_rxe does.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "rxdp_test.h"

#define NS		"rxx_ns"
#define RXE_IF		"rxx0a"
#define XDP_IF		"rxx0b"
#define RXE_DEV		"rxxe0"
#define XDP_DEV		"rxdpx0"
#define RXE_ADDR	"10.78.0.1"
#define XDP_ADDR	"10.78.0.2"
#define IN_NS		"ip netns exec " NS " "

#define UD_QKEY		0x11111111u	/* what qp_attr_values() gives UD QPs */
#define MSG_LEN		64

static const struct testdev rxe_side = {
	.name = RXE_DEV, .veth = RXE_IF, .addr = RXE_ADDR };
static const struct testdev xdp_side = {
	.name = XDP_DEV, .veth = XDP_IF, .addr = XDP_ADDR };

static const char *const counter_names[RXDP_CNT_MAX] = RXDP_COUNTER_NAMES;

/* ---- the two devices, made once per binary ---------------------------- */

static pid_t main_pid;
static bool rxe_was_loaded;

static bool rxdp_devices_exist(void)
{
	return sh("rdma link show | grep -q ' rxdp'") == 0;
}

static void env_down(void)
{
	sh("rdma link delete " RXE_DEV "; " IN_NS "%s detach " XDP_IF "; "
	   "%s detach " XDP_IF "; ip netns del " NS "; ip link del " RXE_IF,
	   rxdpctl_path(), rxdpctl_path());
}

static bool env_ok(void)
{
	return ibdev_exists(RXE_DEV) && ibdev_exists(XDP_DEV) &&
	       pin_dir_present(XDP_IF) && testdev_gid_index(&rxe_side) >= 0 &&
	       testdev_gid_index(&xdp_side) >= 0;
}

/* 0, or -1 with why in the log. */
static int env_up(void)
{
	if (rxdp_load())
		return -1;
	if (env_ok())
		return 0;
	env_down();
	if (access("/sys/module/rdma_rxe", F_OK)) {
		if (rxdp_devices_exist()) {
			fprintf(stderr, "# rxdp devices exist: loading "
				"rdma_rxe now would corrupt them\n");
			return -1;
		}
		if (sh("modprobe rdma_rxe"))
			return -1;
	}
	if (sh("ip netns add " NS " && ip link add " RXE_IF " type veth peer "
	       "name " XDP_IF " && ip link set " XDP_IF " netns " NS " && "
	       "ip link set " RXE_IF " mtu 9000 up && "
	       "ip addr add " RXE_ADDR "/24 dev " RXE_IF " && "
	       IN_NS "ip link set lo up && "
	       IN_NS "ip link set " XDP_IF " mtu 9000 up && "
	       IN_NS "ip addr add " XDP_ADDR "/24 dev " XDP_IF " && "
	       IN_NS "%s attach " XDP_IF " --name " XDP_DEV " >/dev/null && "
	       "rdma link add " RXE_DEV " type rxe netdev " RXE_IF,
	       rxdpctl_path()))
		return -1;
	if (!WAIT_FOR(env_ok(), 5000))
		return -1;
	return 0;
}

static void __attribute__((constructor)) env_ctor(void)
{
	main_pid = getpid();
	rxe_was_loaded = access("/sys/module/rdma_rxe", F_OK) == 0;
	env_up();
	testdev_preload();
}

static void __attribute__((destructor)) env_dtor(void)
{
	if (getpid() != main_pid)
		return;
	env_down();
	/* unloading rdma_rxe would take every rxdp device with it */
	if (!rxe_was_loaded && !rxdp_devices_exist())
		sh("rmmod rdma_rxe");
}

/* ---- reading what the XDP side knows ---------------------------------- */

static int xdp_dev_index(void)
{
	struct rxdp_dev_config cfg;

	return pinned_dev_config(XDP_IF, &cfg) ? -1 : (int)cfg.dev_index;
}

/* The rx_pkts column of the QP in debugfs, or -1. */
static long debugfs_rx_pkts(uint32_t qpn)
{
	static char out[1 << 16];
	char tok[16][24];
	int col = -1, i, n;
	char *l, *save = NULL;

	if (debugfs_qps(XDP_DEV, out, sizeof(out)))
		return -1;
	for (l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *t, *s2 = NULL;

		n = 0;
		for (t = strtok_r(l, " \t", &s2); t && n < 16;
		     t = strtok_r(NULL, " \t", &s2))
			snprintf(tok[n++], sizeof(tok[0]), "%s", t);
		if (col < 0) {
			for (i = 0; i < n; i++)
				if (!strcmp(tok[i], "rx_pkts"))
					col = i;
			continue;
		}
		if (n > col && isdigit((unsigned char)tok[0][0]) &&
		    strtoul(tok[0], NULL, 10) == qpn)
			return atol(tok[col]);
	}
	return -1;
}

static void log_counters(struct __test_metadata *_metadata,
			 const uint64_t *before, const uint64_t *after)
{
	int i;

	for (i = 0; i < RXDP_CNT_MAX; i++)
		if (after[i] != before[i])
			TH_LOG("%s +%llu", counter_names[i],
			       (unsigned long long)(after[i] - before[i]));
}

/* ---- the QP table follows the QPs ------------------------------------- */

FIXTURE(table) {
	struct qp_env x;
};

FIXTURE_SETUP(table)
{
	ASSERT_EQ(0, env_up());
	ASSERT_EQ(0, qp_env_open(&self->x, XDP_DEV));
}

FIXTURE_TEARDOWN(table)
{
	qp_env_close(&self->x);
}

TEST_F(table, gsi_qp1)
{
	struct rxdp_qp_entry e;

	ASSERT_EQ(0, pinned_qp_entry(XDP_IF, 1, &e));
	EXPECT_EQ(1, e.qpn);
	EXPECT_EQ(RXDP_QPT_GSI, e.type);
	EXPECT_EQ(RXDP_QPS_RTS, e.state);
	EXPECT_EQ(RXDP_GSI_QKEY, e.qkey);
	EXPECT_EQ(1, e.port);
	EXPECT_EQ(xdp_dev_index(), (int)e.dev_index);
}

/* The entry of qp says type and state (and its number). */
static void expect_entry(struct __test_metadata *_metadata, struct ibv_qp *qp,
			 int state, struct rxdp_qp_entry *e)
{
	ASSERT_EQ(0, pinned_qp_entry(XDP_IF, qp->qp_num, e))
		TH_LOG("QP %u not in the table in %s", qp->qp_num,
		       qp_state_name(state));
	EXPECT_EQ(qp->qp_num, e->qpn);
	EXPECT_EQ((int)qp->qp_type, e->type);
	EXPECT_EQ(state, e->state) TH_LOG("%s QP in %s: table says %s",
					   qp_type_name(qp->qp_type),
					   qp_state_name(state),
					   qp_state_name(e->state));
	EXPECT_EQ(xdp_dev_index(), (int)e->dev_index);
}

TEST_F(table, follows_every_state)
{
	static const enum ibv_qp_type types[] = { IBV_QPT_RC, IBV_QPT_UC,
						  IBV_QPT_UD };
	struct rxdp_qp_entry e;
	struct ibv_qp *qp;
	uint32_t qpn;
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		qp = qp_create(&self->x, types[i], 16);
		ASSERT_NE(NULL, qp);
		qpn = qp->qp_num;
		expect_entry(_metadata, qp, IBV_QPS_RESET, &e);
		EXPECT_EQ(0, e.rx_packets);

		ASSERT_EQ(0, qp_to_init(&self->x, qp));
		expect_entry(_metadata, qp, IBV_QPS_INIT, &e);
		EXPECT_EQ(1, e.port);
		EXPECT_EQ(0, e.pkey_index);
		if (types[i] == IBV_QPT_UD)
			EXPECT_EQ(UD_QKEY, e.qkey);

		ASSERT_EQ(0, qp_to_rtr(&self->x, qp));
		expect_entry(_metadata, qp, IBV_QPS_RTR, &e);
		if (types[i] != IBV_QPT_UD) {
			EXPECT_EQ(DEAD_QPN, e.dest_qpn);
			EXPECT_EQ(0x100, e.epsn);	/* set 0's rq_psn */
		}

		ASSERT_EQ(0, qp_to_rts(&self->x, qp));
		expect_entry(_metadata, qp, IBV_QPS_RTS, &e);
		ASSERT_EQ(0, qp_to_simple(qp, IBV_QPS_ERR));
		expect_entry(_metadata, qp, IBV_QPS_ERR, &e);
		ASSERT_EQ(0, qp_to_simple(qp, IBV_QPS_RESET));
		expect_entry(_metadata, qp, IBV_QPS_RESET, &e);

		ASSERT_EQ(0, ibv_destroy_qp(qp));
		EXPECT_NE(0, pinned_qp_entry(XDP_IF, qpn, &e))
			TH_LOG("QP %u still in the table after destroy", qpn);
	}
}

/* ---- packets from rdma_rxe -------------------------------------------- */

FIXTURE(rx) {
	struct qp_env x;	/* rxdp */
	struct qp_env r;	/* rxe */
	struct ibv_ah *ah;	/* rxe -> rxdp, for UD */
};

FIXTURE_VARIANT(rx) {
	enum ibv_qp_type type;
	enum ibv_qp_state state;	/* of the rxdp QP */
	bool unknown_qpn;		/* send to DEAD_QPN instead */
	uint32_t qkey;			/* UD: what the packet carries */
	int counter;			/* the one the packet moves */
	uint32_t len;			/* payload; 0: MSG_LEN */
};

FIXTURE_VARIANT_ADD(rx, ud_to_rtr) {
	.type = IBV_QPT_UD, .state = IBV_QPS_RTR, .qkey = UD_QKEY,
	.counter = RXDP_CNT_DELIVERED,
};
FIXTURE_VARIANT_ADD(rx, ud_to_rts) {
	.type = IBV_QPT_UD, .state = IBV_QPS_RTS, .qkey = UD_QKEY,
	.counter = RXDP_CNT_DELIVERED,
};
FIXTURE_VARIANT_ADD(rx, ud_4k_to_rtr) {
	.type = IBV_QPT_UD, .state = IBV_QPS_RTR, .qkey = UD_QKEY,
	.counter = RXDP_CNT_DELIVERED, .len = 4096,
};
FIXTURE_VARIANT_ADD(rx, rc_to_rtr) {
	.type = IBV_QPT_RC, .state = IBV_QPS_RTR,
	.counter = RXDP_CNT_DELIVERED,
};
FIXTURE_VARIANT_ADD(rx, uc_to_rtr) {
	.type = IBV_QPT_UC, .state = IBV_QPS_RTR,
	.counter = RXDP_CNT_DELIVERED,
};
FIXTURE_VARIANT_ADD(rx, ud_unknown_qpn) {
	.type = IBV_QPT_UD, .state = IBV_QPS_RTR, .qkey = UD_QKEY,
	.unknown_qpn = true, .counter = RXDP_CNT_UNKNOWN_QP,
};
FIXTURE_VARIANT_ADD(rx, ud_to_init) {
	.type = IBV_QPT_UD, .state = IBV_QPS_INIT, .qkey = UD_QKEY,
	.counter = RXDP_CNT_BAD_STATE,
};
FIXTURE_VARIANT_ADD(rx, ud_wrong_qkey) {
	.type = IBV_QPT_UD, .state = IBV_QPS_RTR, .qkey = UD_QKEY + 1,
	.counter = RXDP_CNT_BAD_QKEY,
};
FIXTURE_VARIANT_ADD(rx, rc_to_init) {
	.type = IBV_QPT_RC, .state = IBV_QPS_INIT,
	.counter = RXDP_CNT_BAD_STATE,
};

FIXTURE_SETUP(rx)
{
	ASSERT_EQ(0, env_up());
	ASSERT_EQ(0, qp_env_open(&self->x, XDP_DEV));
	ASSERT_EQ(0, qp_env_open(&self->r, RXE_DEV));
}

FIXTURE_TEARDOWN(rx)
{
	if (self->ah)
		ibv_destroy_ah(self->ah);
	qp_env_close(&self->r);
	qp_env_close(&self->x);
}

/* INIT -> RTR towards (gid, qpn), for RC and UC; UD needs no path. */
static int to_rtr_towards(struct qp_env *e, struct ibv_qp *qp,
			  const union ibv_gid *gid, uint32_t qpn,
			  uint32_t rq_psn)
{
	struct ibv_qp_attr a;

	if (qp->qp_type == IBV_QPT_UD)
		return qp_to_rtr(e, qp);
	qp_attr_values(e, qp, 0, &a);
	a.qp_state = IBV_QPS_RTR;
	a.ah_attr.grh.dgid = *gid;
	a.dest_qp_num = qpn;
	a.rq_psn = rq_psn;
	return verr(ibv_modify_qp(qp, &a, IBV_QP_STATE |
				  qp_required_mask(qp->qp_type, IBV_QPS_INIT,
						   IBV_QPS_RTR)));
}

/* One SEND of len bytes from the rxe QP. */
static int rxe_send(FIXTURE_DATA(rx) *self, struct ibv_qp *qp,
		    uint32_t dqpn, uint32_t qkey, uint32_t len)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)self->r.buf,
		.length = len,
		.lkey = self->r.mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = 1,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = IBV_WR_SEND,
		.send_flags = IBV_SEND_SIGNALED,
	}, *bad;

	if (qp->qp_type == IBV_QPT_UD) {
		wr.wr.ud.ah = self->ah;
		wr.wr.ud.remote_qpn = dqpn;
		wr.wr.ud.remote_qkey = qkey;
	}
	return verr(ibv_post_send(qp, &wr, &bad));
}

TEST_F_TIMEOUT(rx, counted, 120)
{
	uint64_t before[RXDP_CNT_MAX], after[RXDP_CNT_MAX];
	struct ibv_ah_attr aa = {
		.is_global = 1,
		.port_num = 1,
		.grh = { .hop_limit = 64 },
	};
	struct rxdp_qp_entry e0, e1;
	uint32_t len = variant->len ? variant->len : MSG_LEN;
	struct ibv_qp *xqp, *rqp;
	struct ibv_wc wc;
	uint32_t dqpn;
	long pkts;
	bool got;

	/* the rxdp QP, receiving or not */
	xqp = qp_create(&self->x, variant->type, 16);
	ASSERT_NE(NULL, xqp);
	self->x.qp = xqp;
	rqp = qp_create(&self->r, variant->type, 16);
	ASSERT_NE(NULL, rqp);
	self->r.qp = rqp;

	ASSERT_EQ(0, qp_to_init(&self->x, xqp));
	ASSERT_EQ(0, post_recvs(xqp, self->x.mr, 4096 + 40, 4, 100));
	if (variant->state >= IBV_QPS_RTR)
		ASSERT_EQ(0, to_rtr_towards(&self->x, xqp, &self->r.gid,
					    rqp->qp_num, 0x200));
	if (variant->state >= IBV_QPS_RTS)
		ASSERT_EQ(0, qp_to_rts(&self->x, xqp));
	ASSERT_EQ(0, pinned_qp_entry(XDP_IF, xqp->qp_num, &e0));
	ASSERT_EQ(variant->state, e0.state);

	/* the rxe QP, sending to it (RC/UC: connected to it) */
	dqpn = variant->unknown_qpn ? DEAD_QPN : xqp->qp_num;
	ASSERT_EQ(0, qp_to_init(&self->r, rqp));
	ASSERT_EQ(0, to_rtr_towards(&self->r, rqp, &self->x.gid, dqpn, 0x200));
	ASSERT_EQ(0, qp_to_rts(&self->r, rqp));
	if (variant->type == IBV_QPT_UD) {
		aa.grh.dgid = self->x.gid;
		aa.grh.sgid_index = self->r.gid_index;
		self->ah = ibv_create_ah(self->r.pd, &aa);
		ASSERT_NE(NULL, self->ah);
	}

	ASSERT_EQ(0, pinned_counters(XDP_IF, before));
	ASSERT_EQ(0, rxe_send(self, rqp, dqpn, variant->qkey, len));
	/* rxe completes UD and UC sends once on the wire; RC waits for an
	 * ACK that rxdp's transport does not send yet */
	if (variant->type != IBV_QPT_RC) {
		ASSERT_EQ(1, poll_n(self->r.scq, 1, &wc, 5000));
		EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	}

	got = WAIT_UNTIL(!pinned_counters(XDP_IF, after) &&
			 after[variant->counter] > before[variant->counter],
			 5000);
	EXPECT_TRUE(got) TH_LOG("%s did not move",
				counter_names[variant->counter]);
	/* exactly one packet, and only its counter (RC may resend) */
	if (variant->type != IBV_QPT_RC) {
		EXPECT_EQ(before[variant->counter] + 1, after[variant->counter]);
		if (variant->counter != RXDP_CNT_DELIVERED)
			EXPECT_EQ(before[RXDP_CNT_DELIVERED],
				  after[RXDP_CNT_DELIVERED]);
	}
	if (!got || _metadata->exit_code)
		log_counters(_metadata, before, after);

	/* the QP's own counters */
	ASSERT_EQ(0, pinned_qp_entry(XDP_IF, xqp->qp_num, &e1));
	if (variant->counter == RXDP_CNT_DELIVERED) {
		EXPECT_LT(e0.rx_packets, e1.rx_packets);
		/* BTH to ICRC: at least the payload and 16 bytes */
		EXPECT_LE(e0.rx_bytes + len + 16, e1.rx_bytes);
		EXPECT_EQ(e0.rx_drops, e1.rx_drops);
		pkts = debugfs_rx_pkts(xqp->qp_num);
		EXPECT_LE(1, pkts) TH_LOG("debugfs rx_pkts %ld", pkts);
	} else if (variant->unknown_qpn) {
		EXPECT_EQ(e0.rx_packets, e1.rx_packets);
		EXPECT_EQ(e0.rx_drops, e1.rx_drops);
	} else {
		EXPECT_EQ(e0.rx_packets, e1.rx_packets);
		EXPECT_EQ(e0.rx_drops + 1, e1.rx_drops);
		EXPECT_EQ(0, debugfs_rx_pkts(xqp->qp_num));
	}
}

TEST_HARNESS_MAIN

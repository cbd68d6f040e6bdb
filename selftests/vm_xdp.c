// SPDX-License-Identifier: GPL-2.0
/*
 * The XDP receive path as the verbs see it: the QP table that rxdpctl
 * pinned (qp_table, and the QP's slot in qp_slots) follows every QP
 * through its states (the module writes it), and
 * RoCEv2 packets sent by rdma_rxe over a veth are delivered to rxdp QPs
 * that receive, or dropped with the counter of their reason; UD messages
 * land in the receive buffers of the rxdp QP (or its SRQ) and complete.
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
 * rxdp has rxe's driver id, so unloading rdma_rxe removes every rxdp
 * device too (vm_coexist): the rxdp device goes before rdma_rxe does.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kselftest_harness.h"
#include "bind.skel.h"
#include "roce_frame.h"
#include "rxdp_test.h"
#include "steer_any.skel.h"	/* after the UAPI its .bss uses */

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
	if (access("/sys/module/rdma_rxe", F_OK) && sh("modprobe rdma_rxe"))
		return -1;
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

RXE_ENV_DEFINE(env_up, env_down)

/* ---- reading what the XDP side knows ---------------------------------- */

static int xdp_dev_index(void)
{
	struct rxdp_dev_config cfg;

	return pinned_dev_config(XDP_IF, &cfg) ? -1 : (int)cfg.dev_index;
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
	struct rxdp_qp_slot s;

	ASSERT_EQ(0, pinned_qp_entry(XDP_IF, 1, &e));
	EXPECT_EQ(1, e.qpn);
	EXPECT_EQ(RXDP_QPT_GSI, e.type);
	EXPECT_EQ(RXDP_QPS_RTS, e.state);
	EXPECT_EQ(RXDP_GSI_QKEY, e.qkey);
	EXPECT_EQ(1, e.port);
	EXPECT_EQ(xdp_dev_index(), (int)e.dev_index);

	/* slot 1 is QP1's; slot 0 (QP0, not on RoCE) stays free */
	ASSERT_EQ(0, pinned_qp_slot(XDP_IF, 1, &s));
	EXPECT_EQ(1, s.qpn);
	EXPECT_EQ(RXDP_QPT_GSI, s.type);
	EXPECT_EQ(RXDP_QPS_RTS, s.state);
	EXPECT_EQ(RXDP_GSI_QKEY, s.qkey);
	ASSERT_EQ(0, pinned_qp_slot(XDP_IF, 0, &s));
	EXPECT_EQ(0, s.type);
}

/*
 * The entry of qp says type and state (and its number), and so does its
 * slot in qp_slots, with the fields the XDP program checks.
 */
static void expect_entry(struct __test_metadata *_metadata, struct ibv_qp *qp,
			 int state, struct rxdp_qp_entry *e)
{
	struct rxdp_qp_slot s;

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
	EXPECT_EQ(RXDP_QP_SLOT(qp->qp_num), e->slot);

	ASSERT_EQ(0, pinned_qp_slot(XDP_IF, qp->qp_num, &s));
	EXPECT_EQ(e->qpn, s.qpn);
	EXPECT_EQ(e->type, s.type);
	EXPECT_EQ(e->state, s.state);
	EXPECT_EQ(e->pkey_index, s.pkey_index);
	EXPECT_EQ(e->qkey, s.qkey);
	EXPECT_EQ(e->dev_index, s.dev_index);
}

/* Is the address (IPv4 or IPv6) a key of the pinned gid_table? */
static bool gid_table_has(const char *addr)
{
	struct rxdp_gid_key k = { .raw = { [10] = 0xff, [11] = 0xff } };
	struct rxdp_gid_entry e;
	int fd = pinned_map_fd(XDP_IF, RXDP_MAP_GID_TABLE);
	bool has;

	if (fd < 0)
		return false;
	if (inet_pton(AF_INET, addr, k.raw + 12) != 1)
		inet_pton(AF_INET6, addr, k.raw);
	has = !bpf_map_lookup_elem(fd, &k, &e);
	close(fd);
	return has;
}

/*
 * gid_table holds the device's RoCEv2 GIDs, following the addresses of
 * its netdev: what the XDP program takes as rxdp's.
 */
TEST_F(table, gids_follow_addresses)
{
	EXPECT_TRUE(gid_table_has(XDP_ADDR));
	EXPECT_FALSE(gid_table_has("10.78.0.9"));
	ASSERT_EQ(0, sh(IN_NS "ip addr add 10.78.0.9/24 dev " XDP_IF));
	EXPECT_TRUE(WAIT_UNTIL(gid_table_has("10.78.0.9"), 5000));
	ASSERT_EQ(0, sh(IN_NS "ip addr del 10.78.0.9/24 dev " XDP_IF));
	EXPECT_TRUE(WAIT_UNTIL(!gid_table_has("10.78.0.9"), 5000));
	EXPECT_TRUE(gid_table_has(XDP_ADDR));
}

TEST_F(table, follows_every_state)
{
	static const enum ibv_qp_type types[] = { IBV_QPT_RC, IBV_QPT_UC,
						  IBV_QPT_UD };
	struct rxdp_qp_entry e;
	struct rxdp_qp_slot s;
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
		ASSERT_EQ(0, pinned_qp_slot(XDP_IF, qpn, &s));
		EXPECT_EQ(0, s.type) TH_LOG("slot of QP %u still taken", qpn);
		EXPECT_EQ(0, s.qpn);
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
	bool slot_twin;			/* ... to the QPN that shares the
					 * QP's slot, not DEAD_QPN */
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
FIXTURE_VARIANT_ADD(rx, ud_slot_twin) {
	.type = IBV_QPT_UD, .state = IBV_QPS_RTR, .qkey = UD_QKEY,
	.unknown_qpn = true, .slot_twin = true,
	.counter = RXDP_CNT_UNKNOWN_QP,
};
FIXTURE_VARIANT_ADD(rx, rc_slot_twin) {
	.type = IBV_QPT_RC, .state = IBV_QPS_RTR,
	.unknown_qpn = true, .slot_twin = true,
	.counter = RXDP_CNT_UNKNOWN_QP,
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
	dqpn = variant->slot_twin ? xqp->qp_num ^ RXDP_QP_SLOTS :
	       variant->unknown_qpn ? DEAD_QPN : xqp->qp_num;
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

	/* the QP's own counters: the module stores them after its batch */
	if (variant->counter == RXDP_CNT_DELIVERED)
		WAIT_UNTIL(!pinned_qp_entry(XDP_IF, xqp->qp_num, &e1) &&
			   e1.rx_packets > e0.rx_packets, 5000);
	ASSERT_EQ(0, pinned_qp_entry(XDP_IF, xqp->qp_num, &e1));
	if (variant->counter == RXDP_CNT_DELIVERED) {
		EXPECT_LT(e0.rx_packets, e1.rx_packets);
		/* BTH to ICRC: at least the payload and 16 bytes */
		EXPECT_LE(e0.rx_bytes + len + 16, e1.rx_bytes);
		EXPECT_EQ(e0.rx_drops, e1.rx_drops);
		pkts = debugfs_qp_col(XDP_DEV, xqp->qp_num, "rx_pkts");
		EXPECT_LE(1, pkts) TH_LOG("debugfs rx_pkts %ld", pkts);
	} else if (variant->unknown_qpn) {
		EXPECT_EQ(e0.rx_packets, e1.rx_packets);
		EXPECT_EQ(e0.rx_drops, e1.rx_drops);
	} else {
		EXPECT_EQ(e0.rx_packets, e1.rx_packets);
		EXPECT_EQ(e0.rx_drops + 1, e1.rx_drops);
		EXPECT_EQ(0, debugfs_qp_col(XDP_DEV, xqp->qp_num, "rx_pkts"));
	}
}

/*
 * Communication established is the responder's to raise, for a packet
 * its transport takes: not for any packet that names the QP.  rxe's RC
 * QP sends with a PSN the rxdp QP in RTR does not expect (0x200 for
 * 0x300): the packet is steered and dropped, and no COMM_EST comes.
 */
FIXTURE(est) {
	struct qp_env x;	/* rxdp */
	struct qp_env r;	/* rxe */
};

FIXTURE_SETUP(est)
{
	ASSERT_EQ(0, env_up());
	ASSERT_EQ(0, qp_env_open(&self->x, XDP_DEV));
	ASSERT_EQ(0, qp_env_open(&self->r, RXE_DEV));
}

FIXTURE_TEARDOWN(est)
{
	qp_env_close(&self->r);
	qp_env_close(&self->x);
}

TEST_F_TIMEOUT(est, not_out_of_sequence, 120)
{
	struct ibv_qp *xqp, *rqp;
	uint64_t before[RXDP_CNT_MAX], after[RXDP_CNT_MAX];

	xqp = self->x.qp = qp_create(&self->x, IBV_QPT_RC, 16);
	rqp = self->r.qp = qp_create(&self->r, IBV_QPT_RC, 16);
	ASSERT_NE(NULL, xqp);
	ASSERT_NE(NULL, rqp);
	ASSERT_EQ(0, qp_to_init(&self->x, xqp));
	ASSERT_EQ(0, post_recvs(xqp, self->x.mr, 256, 4, 100));
	ASSERT_EQ(0, to_rtr_towards(&self->x, xqp, &self->r.gid,
				    rqp->qp_num, 0x300));
	ASSERT_EQ(0, qp_to_init(&self->r, rqp));
	ASSERT_EQ(0, to_rtr_towards(&self->r, rqp, &self->x.gid,
				    xqp->qp_num, 0x200));
	ASSERT_EQ(0, qp_to_rts(&self->r, rqp));	/* sq_psn 0x200 */

	ASSERT_EQ(0, pinned_counters(XDP_IF, before));
	ASSERT_EQ(0, post_sends(rqp, self->r.mr, 16, 1, 1, IBV_SEND_SIGNALED));
	ASSERT_TRUE(WAIT_UNTIL(!pinned_counters(XDP_IF, after) &&
			       after[RXDP_CNT_DELIVERED] >
			       before[RXDP_CNT_DELIVERED], 5000));
	EXPECT_FALSE(ibdev_get_event(self->x.ctx, IBV_EVENT_COMM_EST, 500,
				     NULL));
}

/* ---- UD receive: messages from rxe land in rxdp's buffers ------------- */

#define GRH_LEN		40
#define RECV_LEN	(4096 + GRH_LEN)
#define UNTOUCHED	0xee

FIXTURE(ud) {
	struct qp_env x;	/* rxdp: receives */
	struct qp_env r;	/* rxe: sends */
	struct ibv_qp *xqp, *rqp;
	struct ibv_srq *srq;
	struct ibv_ah *ah;
};

FIXTURE_SETUP(ud)
{
	struct ibv_ah_attr aa = {
		.is_global = 1,
		.port_num = 1,
		.grh = { .hop_limit = 64 },
	};
	size_t i;

	ASSERT_EQ(0, env_up());
	ASSERT_EQ(0, qp_env_open(&self->x, XDP_DEV));
	ASSERT_EQ(0, qp_env_open(&self->r, RXE_DEV));
	self->rqp = qp_create(&self->r, IBV_QPT_UD, 64);
	ASSERT_NE(NULL, self->rqp);
	ASSERT_EQ(0, qp_bring_to(&self->r, self->rqp, IBV_QPS_RTS));
	aa.grh.dgid = self->x.gid;
	aa.grh.sgid_index = self->r.gid_index;
	self->ah = ibv_create_ah(self->r.pd, &aa);
	ASSERT_NE(NULL, self->ah);
	/* what the sender sends: a pattern; where it lands: marked */
	for (i = 0; i < self->r.buf_len; i++)
		((uint8_t *)self->r.buf)[i] = (uint8_t)(i * 7 + 3);
	memset(self->x.buf, UNTOUCHED, self->x.buf_len);
}

FIXTURE_TEARDOWN(ud)
{
	if (self->xqp)
		ibv_destroy_qp(self->xqp);
	if (self->srq)
		ibv_destroy_srq(self->srq);
	if (self->ah)
		ibv_destroy_ah(self->ah);
	if (self->rqp)
		ibv_destroy_qp(self->rqp);
	qp_env_close(&self->r);
	qp_env_close(&self->x);
}

/* The receiving UD QP, in RTS, on the SRQ if there is one. */
static int ud_receiver(FIXTURE_DATA(ud) *self)
{
	struct ibv_qp_init_attr ia = {
		.send_cq = self->x.scq,
		.recv_cq = self->x.rcq,
		.srq = self->srq,
		.qp_type = IBV_QPT_UD,
		.cap = {
			.max_send_wr = 16,
			.max_recv_wr = self->srq ? 0 : 64,
			.max_send_sge = 1,
			.max_recv_sge = self->srq ? 0 : 1,
		},
	};

	self->xqp = qp_create_attr(self->x.pd, &ia);
	if (!self->xqp)
		return -1;
	return qp_bring_to(&self->x, self->xqp, IBV_QPS_RTS);
}

/* One UD SEND of len bytes at offset off of rxe's buffer; 0 once sent. */
static int ud_send(FIXTURE_DATA(ud) *self, uint32_t off, uint32_t len,
		   bool imm, uint32_t imm_data)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)self->r.buf + off,
		.length = len,
		.lkey = self->r.mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = off,
		.sg_list = &sge,
		.num_sge = len ? 1 : 0,
		.opcode = imm ? IBV_WR_SEND_WITH_IMM : IBV_WR_SEND,
		.send_flags = IBV_SEND_SIGNALED,
		.imm_data = htonl(imm_data),
		.wr.ud = {
			.ah = self->ah,
			.remote_qpn = self->xqp->qp_num,
			.remote_qkey = UD_QKEY,
		},
	}, *bad;
	struct ibv_wc wc;

	if (ibv_post_send(self->rqp, &wr, &bad))
		return -1;
	/* rxe completes a UD send once it is on the wire */
	if (poll_n(self->r.scq, 1, &wc, 5000) != 1 ||
	    wc.status != IBV_WC_SUCCESS)
		return -1;
	return 0;
}

/* Has the responder dropped n messages for the QP (so far)? */
static bool ud_dropped(FIXTURE_DATA(ud) *self, long n)
{
	return WAIT_UNTIL(debugfs_qp_col(XDP_DEV, self->xqp->qp_num, "rx_dropped") >= n,
			  5000);
}

/*
 * The receive buffer at buf holds a GRH made of the sender's IPv4 header
 * and the len bytes sent from offset off, and nothing after them.
 */
static void expect_message(struct __test_metadata *_metadata,
			   FIXTURE_DATA(ud) *self, const uint8_t *buf,
			   uint32_t off, uint32_t len)
{
	static const uint8_t zero[20];
	struct in_addr src, dst;

	EXPECT_EQ(0, memcmp(buf, zero, sizeof(zero)));
	EXPECT_EQ(0x45, buf[20]) TH_LOG("IPv4 header expected in the GRH");
	memcpy(&src, buf + 20 + 12, 4);
	memcpy(&dst, buf + 20 + 16, 4);
	EXPECT_STREQ(RXE_ADDR, inet_ntoa(src));
	EXPECT_STREQ(XDP_ADDR, inet_ntoa(dst));
	EXPECT_EQ(0, memcmp(buf + GRH_LEN, (uint8_t *)self->r.buf + off, len))
		TH_LOG("payload of %u bytes differs", len);
	if (GRH_LEN + len < RECV_LEN)
		EXPECT_EQ(UNTOUCHED, buf[GRH_LEN + len])
			TH_LOG("written past the message");
}

TEST_F_TIMEOUT(ud, data_lands_after_grh, 120)
{
	static const uint32_t lens[] = { 0, 1, 63, 1000, 4095, 4096 };
	uint8_t *xbuf = self->x.buf;
	struct ibv_wc wc;
	unsigned int i;

	ASSERT_EQ(0, ud_receiver(self));
	ASSERT_EQ(0, post_recvs(self->xqp, self->x.mr, RECV_LEN, 6, 100));
	for (i = 0; i < 6; i++) {
		ASSERT_EQ(0, ud_send(self, 8 * i, lens[i], false, 0));
		ASSERT_EQ(1, poll_n(self->x.rcq, 1, &wc, 5000))
			TH_LOG("no completion for %u bytes", lens[i]);
		EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
		EXPECT_EQ(IBV_WC_RECV, wc.opcode);
		EXPECT_EQ(100 + i, wc.wr_id);
		EXPECT_EQ(GRH_LEN + lens[i], wc.byte_len);
		EXPECT_EQ(self->xqp->qp_num, wc.qp_num);
		EXPECT_EQ(self->rqp->qp_num, wc.src_qp);
		EXPECT_TRUE(wc.wc_flags & IBV_WC_GRH);
		EXPECT_FALSE(wc.wc_flags & IBV_WC_WITH_IMM);
		expect_message(_metadata, self, xbuf + i * RECV_LEN, 8 * i,
			       lens[i]);
	}
	EXPECT_EQ(0, debugfs_qp_col(XDP_DEV, self->xqp->qp_num, "rx_dropped"));
}

TEST_F_TIMEOUT(ud, in_order_with_immediate, 120)
{
	struct ibv_wc wc[8];
	int i, n;

	ASSERT_EQ(0, ud_receiver(self));
	ASSERT_EQ(0, post_recvs(self->xqp, self->x.mr, RECV_LEN, 8, 200));
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, ud_send(self, i, 100 + i, i & 1, 0xab000000 + i));
	n = poll_n(self->x.rcq, 8, wc, 5000);
	ASSERT_EQ(8, n);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(IBV_WC_SUCCESS, wc[i].status);
		EXPECT_EQ(200 + i, wc[i].wr_id);
		EXPECT_EQ(GRH_LEN + 100 + i, wc[i].byte_len);
		EXPECT_EQ(!!(i & 1), !!(wc[i].wc_flags & IBV_WC_WITH_IMM));
		if (i & 1)
			EXPECT_EQ(0xab000000 + i, ntohl(wc[i].imm_data));
		expect_message(_metadata, self,
			       (uint8_t *)self->x.buf + i * RECV_LEN, i,
			       100 + i);
	}
}

/* UD is unreliable: a message with no receive posted is lost, not late. */
TEST_F_TIMEOUT(ud, no_receive_drops_message, 120)
{
	struct ibv_wc wc[2];

	ASSERT_EQ(0, ud_receiver(self));
	ASSERT_EQ(0, ud_send(self, 0, 64, false, 0));
	ASSERT_TRUE(ud_dropped(self, 1));
	ASSERT_EQ(0, post_recvs(self->xqp, self->x.mr, RECV_LEN, 1, 7));
	ASSERT_EQ(0, ud_send(self, 500, 32, false, 0));
	ASSERT_EQ(1, poll_n(self->x.rcq, 2, wc, 1000));
	EXPECT_EQ(7, wc[0].wr_id);
	EXPECT_EQ(GRH_LEN + 32, wc[0].byte_len);
	expect_message(_metadata, self, self->x.buf, 500, 32);
}

/* Are the n bytes at p all UNTOUCHED? */
static bool untouched(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		if (*b++ != UNTOUCHED)
			return false;
	return true;
}

/*
 * A message larger than the buffer is dropped and the WQE kept, without
 * a byte of the message in it.
 */
TEST_F_TIMEOUT(ud, too_long_keeps_receive, 120)
{
	struct ibv_wc wc[2];

	ASSERT_EQ(0, ud_receiver(self));
	ASSERT_EQ(0, post_recvs(self->xqp, self->x.mr, GRH_LEN + 32, 1, 9));
	ASSERT_EQ(0, ud_send(self, 0, 33, false, 0));
	ASSERT_TRUE(ud_dropped(self, 1));
	EXPECT_TRUE(untouched(self->x.buf, GRH_LEN + 33));
	ASSERT_EQ(0, ud_send(self, 100, 32, false, 0));
	ASSERT_EQ(1, poll_n(self->x.rcq, 2, wc, 1000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc[0].status);
	EXPECT_EQ(9, wc[0].wr_id);
	EXPECT_EQ(GRH_LEN + 32, wc[0].byte_len);
	EXPECT_EQ(0, memcmp((uint8_t *)self->x.buf + GRH_LEN,
			    (uint8_t *)self->r.buf + 100, 32));
}

/*
 * On an SRQ, which other QPs share, a WQE too small for the message
 * completes in error (rxe's class E), untouched, and the QP goes to the
 * error state; the SRQ's other WQEs stay for other QPs.
 */
TEST_F_TIMEOUT(ud, too_long_on_srq_fails_receive, 120)
{
	struct ibv_srq_init_attr sa = {
		.attr = { .max_wr = 4, .max_sge = 1 },
	};
	struct ibv_wc wc[3];

	self->srq = ibv_create_srq(self->x.pd, &sa);
	ASSERT_NE(NULL, self->srq);
	ASSERT_EQ(0, ud_receiver(self));
	ASSERT_EQ(0, post_srq_recvs(self->srq, self->x.mr, GRH_LEN + 32, 2, 5));
	ASSERT_EQ(0, ud_send(self, 0, 33, false, 0));
	ASSERT_EQ(1, poll_n(self->x.rcq, 3, wc, 2000));
	EXPECT_EQ(5, wc[0].wr_id);
	EXPECT_EQ(IBV_WC_REM_INV_REQ_ERR, wc[0].status);
	EXPECT_TRUE(untouched(self->x.buf, GRH_LEN + 33));
	EXPECT_EQ(IBV_QPS_ERR, qp_state(self->xqp));
}

/*
 * A receive the provider posted with a key rxdp does not know completes
 * with a protection error, and the QP goes to the error state: its other
 * receives flush.
 */
TEST_F_TIMEOUT(ud, bad_lkey_fails_receive, 120)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)self->x.buf,
		.length = RECV_LEN,
		.lkey = self->x.mr->lkey ^ 0x5500,
	};
	struct ibv_recv_wr wr = { .wr_id = 1, .sg_list = &sge, .num_sge = 1 };
	struct ibv_recv_wr *bad;
	struct ibv_wc wc[3];

	ASSERT_EQ(0, ud_receiver(self));
	ASSERT_EQ(0, ibv_post_recv(self->xqp, &wr, &bad));
	ASSERT_EQ(0, post_recvs(self->xqp, self->x.mr, RECV_LEN, 1, 2));
	ASSERT_EQ(0, ud_send(self, 0, 64, false, 0));
	ASSERT_EQ(2, poll_n(self->x.rcq, 3, wc, 2000));
	EXPECT_EQ(1, wc[0].wr_id);
	EXPECT_EQ(IBV_WC_LOC_PROT_ERR, wc[0].status);
	EXPECT_EQ(2, wc[1].wr_id);
	EXPECT_EQ(IBV_WC_WR_FLUSH_ERR, wc[1].status);
	EXPECT_EQ(IBV_QPS_ERR, qp_state(self->xqp));
	EXPECT_EQ(UNTOUCHED, ((uint8_t *)self->x.buf)[0]);
}

/*
 * Receives from an SRQ: the limit event fires once, when a message takes
 * the SRQ below the armed limit, and disarms the limit.
 */
TEST_F_TIMEOUT(ud, srq_limit_event, 120)
{
	struct ibv_srq_init_attr sa = {
		.attr = { .max_wr = 16, .max_sge = 1 },
	};
	struct ibv_srq_attr attr = { .srq_limit = 4 };
	struct ibv_async_event ev;
	struct ibv_wc wc[8];
	int i;

	self->srq = ibv_create_srq(self->x.pd, &sa);
	ASSERT_NE(NULL, self->srq);
	ASSERT_EQ(0, ud_receiver(self));
	ASSERT_EQ(0, post_srq_recvs(self->srq, self->x.mr, RECV_LEN, 8, 300));
	ASSERT_EQ(0, ibv_modify_srq(self->srq, &attr, IBV_SRQ_LIMIT));

	/* 8 -> 4 WQEs: not below the limit */
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, ud_send(self, i, 16, false, 0));
	ASSERT_EQ(4, poll_n(self->x.rcq, 4, wc, 5000));
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(IBV_WC_SUCCESS, wc[i].status);
		EXPECT_EQ(300 + i, wc[i].wr_id);
	}
	EXPECT_FALSE(ibdev_get_event(self->x.ctx, IBV_EVENT_SRQ_LIMIT_REACHED,
				     300, NULL));

	/* 4 -> 3: the event, for this SRQ, and the limit is off */
	ASSERT_EQ(0, ud_send(self, 4, 16, false, 0));
	ASSERT_EQ(1, poll_n(self->x.rcq, 1, wc, 5000));
	EXPECT_EQ(304, wc[0].wr_id);
	ASSERT_TRUE(ibdev_get_event(self->x.ctx, IBV_EVENT_SRQ_LIMIT_REACHED,
				    2000, &ev));
	EXPECT_EQ(self->srq, ev.element.srq);
	ASSERT_EQ(0, ibv_query_srq(self->srq, &attr));
	EXPECT_EQ(0, attr.srq_limit);

	/* 3 -> 2: disarmed, no second event */
	ASSERT_EQ(0, ud_send(self, 5, 16, false, 0));
	ASSERT_EQ(1, poll_n(self->x.rcq, 1, wc, 5000));
	EXPECT_FALSE(ibdev_get_event(self->x.ctx, IBV_EVENT_SRQ_LIMIT_REACHED,
				     300, NULL));
	expect_message(_metadata, self,
		       (uint8_t *)self->x.buf + 5 * RECV_LEN, 5, 16);
}

/* The MAC address of a netdev; prefix runs the command in a namespace. */
static int mac_of(const char *prefix, const char *ifname, uint8_t mac[6])
{
	char out[64];

	if (sh_out(out, sizeof(out), "%scat /sys/class/net/%s/address",
		   prefix, ifname))
		return -1;
	return sscanf(out, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
		      &mac[2], &mac[3], &mac[4], &mac[5]) == 6 ? 0 : -1;
}

/* Put a frame on the wire at the rxe end of the veth. */
static int inject(const uint8_t *f, size_t len)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = if_nametoindex(RXE_IF),
		.sll_halen = 6,
	};
	int fd = socket(AF_PACKET, SOCK_RAW, 0);
	ssize_t n;

	if (fd < 0)
		return -1;
	memcpy(sll.sll_addr, f, 6);
	n = sendto(fd, f, len, 0, (struct sockaddr *)&sll, sizeof(sll));
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/*
 * With the module loaded the XDP program leaves the ICRC to it.  A frame
 * with a good ICRC lands, also after a router changed the fields the ICRC
 * does not cover (IPv4 TOS and TTL, IPv6 traffic class, flow label and
 * hop limit); one whose ICRC or payload was damaged is dropped and
 * counted as a bad ICRC.
 */
static void module_checks_icrc(struct __test_metadata *_metadata,
			       FIXTURE_DATA(ud) *self, bool ipv6)
{
	static uint8_t f[ROCE_FRAME_MAX];
	uint64_t before[RXDP_CNT_MAX], after[RXDP_CNT_MAX];
	struct roce_send u = {
		.ipv6 = ipv6,
		.saddr = ntohl(inet_addr(RXE_ADDR)),
		.daddr = ntohl(inet_addr(XDP_ADDR)),
		.saddr6 = { 0xfd, [15] = 1 },
		.daddr6 = { 0xfd, [15] = 2 },
		.sqpn = 0x42,
		.qkey = UD_QKEY,
		.psn = 1,
		.payload = self->r.buf,
		.len = 48,
	};
	uint8_t *ip = f + ROCE_L3, *grh = self->x.buf;
	struct ibv_wc wc;
	size_t len;

	ASSERT_EQ(0, ud_receiver(self));
	ASSERT_EQ(0, post_recvs(self->xqp, self->x.mr, RECV_LEN, 4, 40));
	/* the device must have the destination, or the packets are passed */
	if (ipv6) {
		ASSERT_EQ(0, sh(IN_NS "ip -6 addr add fd00::2/64 dev " XDP_IF
				" nodad 2>/dev/null || true"));
		ASSERT_TRUE(WAIT_UNTIL(gid_table_has("fd00::2"), 5000));
	}
	ASSERT_EQ(0, mac_of("", RXE_IF, u.smac));
	ASSERT_EQ(0, mac_of(IN_NS, XDP_IF, u.dmac));
	u.dqpn = self->xqp->qp_num;
	len = roce_send_frame(f, &u);
	ASSERT_NE(0, len);

	ASSERT_EQ(0, inject(f, len));
	ASSERT_EQ(1, poll_n(self->x.rcq, 1, &wc, 5000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(40, wc.wr_id);
	EXPECT_EQ(0x42, wc.src_qp);
	EXPECT_EQ(GRH_LEN + 48, wc.byte_len);
	if (ipv6) {
		/* the GRH is the IPv6 header as it came */
		EXPECT_EQ(0, memcmp(grh, ip, GRH_LEN));
		EXPECT_EQ(0, memcmp(grh + GRH_LEN, self->r.buf, 48));
	} else {
		expect_message(_metadata, self, grh, 0, 48);
	}

	if (ipv6) {
		ip[0] = 0x6b;			/* traffic class, */
		ip[1] = 0x8a;			/* flow label */
		ip[3] = 0x5c;
		ip[7] = 3;			/* hop limit */
	} else {
		ip[1] = 0xb8;			/* TOS */
		ip[8] = 7;			/* TTL */
		roce_put16(ip + 10, roce_ipv4_csum(ip, 20));
	}
	ASSERT_EQ(0, inject(f, len));
	ASSERT_EQ(1, poll_n(self->x.rcq, 1, &wc, 5000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(41, wc.wr_id);

	ASSERT_EQ(0, pinned_counters(XDP_IF, before));
	f[len - 1] ^= 0x01;			/* the ICRC */
	ASSERT_EQ(0, inject(f, len));
	f[len - 1] ^= 0x01;
	f[roce_send_payload(&u) + 5] ^= 0x10;	/* the payload */
	ASSERT_EQ(0, inject(f, len));
	EXPECT_TRUE(WAIT_UNTIL(!pinned_counters(XDP_IF, after) &&
			       after[RXDP_CNT_BAD_ICRC] >=
			       before[RXDP_CNT_BAD_ICRC] + 2, 5000));
	EXPECT_EQ(before[RXDP_CNT_BAD_ICRC] + 2, after[RXDP_CNT_BAD_ICRC]);
	EXPECT_EQ(before[RXDP_CNT_DELIVERED], after[RXDP_CNT_DELIVERED]);
	EXPECT_EQ(0, poll_n(self->x.rcq, 1, &wc, 300));
}

TEST_F_TIMEOUT(ud, module_checks_icrc_ipv4, 120)
{
	module_checks_icrc(_metadata, self, false);
}

TEST_F_TIMEOUT(ud, module_checks_icrc_ipv6, 120)
{
	module_checks_icrc(_metadata, self, true);
}

/*
 * Messages arrive while their receive buffers' MR is deregistered and the
 * QP destroyed under them: deregistration waits for a copy in progress,
 * later receives fail with a protection error, and nothing else happens.
 */
TEST_F_TIMEOUT(ud, receive_while_tearing_down, 240)
{
	const int rounds = 12, n = 48;
	int bad = kmsg_bad_count(), r, i, got, seen[3] = {};
	struct ibv_wc wc[64];

	for (r = 0; r < rounds; r++) {
		uint8_t *buf = malloc(n * RECV_LEN);
		struct ibv_mr *mr;

		ASSERT_NE(NULL, buf);
		mr = ibv_reg_mr(self->x.pd, buf, n * RECV_LEN,
				IBV_ACCESS_LOCAL_WRITE);
		ASSERT_NE(NULL, mr);
		ASSERT_EQ(0, ud_receiver(self));
		ASSERT_EQ(0, post_recvs(self->xqp, mr, RECV_LEN, n, 0));
		for (i = 0; i < n; i++) {
			struct ibv_sge sge = {
				.addr = (uintptr_t)self->r.buf,
				.length = 1024,
				.lkey = self->r.mr->lkey,
			};
			struct ibv_send_wr wr = {
				.wr_id = i,
				.sg_list = &sge,
				.num_sge = 1,
				.opcode = IBV_WR_SEND,
				.send_flags = IBV_SEND_SIGNALED,
				.wr.ud = {
					.ah = self->ah,
					.remote_qpn = self->xqp->qp_num,
					.remote_qkey = UD_QKEY,
				},
			}, *badwr;

			ASSERT_EQ(0, ibv_post_send(self->rqp, &wr, &badwr));
		}
		/* tear down while the messages come in, at a varying point */
		usleep(r * 2000);
		EXPECT_EQ(0, ibv_dereg_mr(mr));
		if (r & 1)
			usleep(20000);
		EXPECT_EQ(0, ibv_destroy_qp(self->xqp));
		self->xqp = NULL;
		free(buf);

		ASSERT_EQ(n, poll_n(self->r.scq, n, wc, 10000));
		for (i = 0; i < n; i++)
			EXPECT_EQ(IBV_WC_SUCCESS, wc[i].status);
		/* what completed on the receive side: success or the errors
		 * that follow the MR's going, in order */
		got = poll_n(self->x.rcq, n, wc, 200);
		for (i = 0; i < got; i++) {
			EXPECT_TRUE(wc[i].status == IBV_WC_SUCCESS ||
				    wc[i].status == IBV_WC_LOC_PROT_ERR ||
				    wc[i].status == IBV_WC_WR_FLUSH_ERR)
				TH_LOG("round %d: status %d", r, wc[i].status);
			seen[wc[i].status == IBV_WC_SUCCESS ? 0 :
			     wc[i].status == IBV_WC_LOC_PROT_ERR ? 1 : 2]++;
		}
	}
	EXPECT_EQ(bad, kmsg_bad_count());
	TH_LOG("received %d, protection errors %d, flushed %d", seen[0],
	       seen[1], seen[2]);
}

/* ---- another endpoint on the same link ----------------------------- */

#define MV_IF		"rxx0m"
#define MV_ADDR		"10.78.0.7"

/* A UDP socket on port 4791 of MV_ADDR, in the namespace; -1 on error. */
static int mv_socket(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(4791) };
	int fd = socket_in_ns(NS, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	inet_pton(AF_INET, MV_ADDR, &sa.sin_addr);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * A macvlan on rxdp's netdev, with its own MAC and address, is another
 * RoCE endpoint on the link (rdma_rxe could run on it).  A RoCEv2 packet
 * to it is passed to the stack and reaches it, even when it names a
 * receiving QP of rxdp; rxdp's own packets still land in that QP.
 */
TEST_F_TIMEOUT(ud, other_endpoint_keeps_its_packets, 120)
{
	static uint8_t f[ROCE_FRAME_MAX];
	struct roce_send u = {
		.saddr = ntohl(inet_addr(RXE_ADDR)),
		.daddr = ntohl(inet_addr(MV_ADDR)),
		.sqpn = 0x42, .qkey = UD_QKEY, .psn = 1,
		.payload = self->r.buf, .len = 32,
	};
	uint64_t before[RXDP_CNT_MAX], after[RXDP_CNT_MAX];
	uint8_t got[2048];
	struct ibv_wc wc;
	size_t len;
	int fd;

	ASSERT_EQ(0, ud_receiver(self));
	ASSERT_EQ(0, post_recvs(self->xqp, self->x.mr, RECV_LEN, 2, 70));
	sh(IN_NS "ip link del " MV_IF " 2>/dev/null");
	ASSERT_EQ(0, sh(IN_NS "ip link add " MV_IF " link " XDP_IF
			" type macvlan mode bridge && "
			IN_NS "ip addr add " MV_ADDR "/24 dev " MV_IF " && "
			IN_NS "ip link set " MV_IF " up"));
	fd = mv_socket();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mac_of("", RXE_IF, u.smac));
	ASSERT_EQ(0, mac_of(IN_NS, MV_IF, u.dmac));
	u.dqpn = self->xqp->qp_num;
	len = roce_send_frame(f, &u);
	ASSERT_NE(0, len);

	ASSERT_EQ(0, pinned_counters(XDP_IF, before));
	ASSERT_EQ(0, inject(f, len));
	EXPECT_TRUE(WAIT_FOR(recv(fd, got, sizeof(got), 0) > 0, 3000))
		TH_LOG("the macvlan's RoCE packet did not reach it");
	ASSERT_EQ(0, pinned_counters(XDP_IF, after));
	EXPECT_EQ(before[RXDP_CNT_PASSED] + 1, after[RXDP_CNT_PASSED]);
	EXPECT_EQ(before[RXDP_CNT_DELIVERED], after[RXDP_CNT_DELIVERED]);
	EXPECT_EQ(0, poll_n(self->x.rcq, 1, &wc, 300));

	/* the same message to rxdp's address is rxdp's */
	u.daddr = ntohl(inet_addr(XDP_ADDR));
	ASSERT_EQ(0, mac_of(IN_NS, XDP_IF, u.dmac));
	len = roce_send_frame(f, &u);
	ASSERT_EQ(0, inject(f, len));
	ASSERT_EQ(1, poll_n(self->x.rcq, 1, &wc, 5000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(70, wc.wr_id);
	close(fd);
	sh(IN_NS "ip link del " MV_IF);
}

/* ---- what another XDP program hands the steer kfunc ------------------ */

struct flipper {
	volatile uint16_t *field;
	uint16_t a, b;
	atomic_bool stop;
};

static void *flip(void *arg)
{
	struct flipper *fl = arg;

	while (!atomic_load(&fl->stop)) {
		*fl->field = fl->a;
		*fl->field = fl->b;
	}
	return NULL;
}

/*
 * A program passes the steer kfunc an info in its .bss, which a thread
 * here rewrites all the while: the payload length flips between the
 * frame's 16 bytes and 4040, far past the frame's end.  The module reads
 * the argument once: every packet it takes is the 16-byte message, and
 * every completion is, too; none carries kernel memory from past the
 * frame.
 */
TEST_F_TIMEOUT(ud, steer_info_rewritten, 180)
{
	static uint8_t f[ROCE_FRAME_MAX];
	struct roce_send u = {
		.saddr = ntohl(inet_addr(RXE_ADDR)),
		.daddr = ntohl(inet_addr(XDP_ADDR)),
		.sqpn = 0x42, .qkey = UD_QKEY, .psn = 1,
		.payload = self->r.buf, .len = 16,
	};
	struct xdp_md md = {};
	LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = &md,
		    .ctx_size_in = sizeof(md), .repeat = 100);
	const int nrecv = 14;
	struct flipper fl = { .a = 16, .b = 4040 };
	struct steer_any_bpf *skel;
	struct rxdp_qp_entry qe;
	struct ibv_wc wc[16];
	pthread_t t;
	int fd, i, n, prog;
	uint64_t pkts;

	ASSERT_EQ(0, ud_receiver(self));
	ASSERT_EQ(0, post_recvs(self->xqp, self->x.mr, RECV_LEN, nrecv, 0));
	ASSERT_EQ(0, mac_of("", RXE_IF, u.smac));
	ASSERT_EQ(0, mac_of(IN_NS, XDP_IF, u.dmac));
	u.dqpn = self->xqp->qp_num;
	run.data_in = f;
	run.data_size_in = roce_send_frame(f, &u);
	ASSERT_NE(0, run.data_size_in);

	/* the test run takes its ingress device from this namespace */
	fd = open("/run/netns/" NS, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, setns(fd, CLONE_NEWNET));
	close(fd);
	md.ingress_ifindex = if_nametoindex(XDP_IF);
	ASSERT_NE(0, md.ingress_ifindex);

	skel = steer_any_bpf__open_and_load();
	ASSERT_NE(NULL, skel);
	prog = bpf_program__fd(skel->progs.steer_any);
	skel->bss->info = (struct rxdp_rx_info){
		.qpn = u.dqpn, .slot = RXDP_QP_SLOT(u.dqpn), .psn = 1,
		.l3_off = ROCE_L3, .bth_off = roce_send_l4(&u) + 8,
		.payload_off = roce_send_payload(&u), .payload_len = 16,
		.opcode = 0x64, .hdr_len = 20,
	};
	/* first a packet as it should be */
	ASSERT_EQ(0, bpf_prog_test_run_opts(prog, &run));
	EXPECT_EQ(0, skel->bss->last_err);

	fl.field = &skel->bss->info.payload_len;
	ASSERT_EQ(0, pthread_create(&t, NULL, flip, &fl));
	for (i = 0; i < 200; i++)
		ASSERT_EQ(0, bpf_prog_test_run_opts(prog, &run));
	atomic_store(&fl.stop, true);
	pthread_join(t, NULL);
	steer_any_bpf__destroy(skel);

	/* the responder took them all; each counted as the 40 bytes it is */
	pkts = debugfs_qp_col(XDP_DEV, self->xqp->qp_num, "rx_pkts");
	ASSERT_TRUE(WAIT_UNTIL(!pinned_qp_entry(XDP_IF, self->xqp->qp_num,
						&qe) &&
			       qe.rx_packets == pkts, 10000));
	TH_LOG("%llu packets taken", (unsigned long long)pkts);
	EXPECT_LT(1, pkts);
	EXPECT_EQ(pkts * (20 + 16 + 4), qe.rx_bytes);

	n = poll_n(self->x.rcq, nrecv, wc, 2000);
	EXPECT_EQ(nrecv, n);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(IBV_WC_SUCCESS, wc[i].status);
		EXPECT_EQ(GRH_LEN + 16, wc[i].byte_len);
	}
	expect_message(_metadata, self, self->x.buf, 0, 16);
}

/* ---- the hand-over of the maps ----------------------------------------- */

#define BIND_IF		"rxx1a"
#define BIND_PEER	"rxx1b"
#define BIND_DEV	"rxdpx1"

/* Run the bind program for BIND_IF with these maps; its return value. */
static int bind_maps(int qp_table, int qp_slots)
{
	LIBBPF_OPTS(bpf_test_run_opts, run);
	struct bind_bpf *b = bind_bpf__open();
	int ret = -1;

	if (!b)
		return -1;
	b->rodata->ifindex = if_nametoindex(BIND_IF);
	if (!bpf_map__reuse_fd(b->maps.qp_table, qp_table) &&
	    !bpf_map__reuse_fd(b->maps.qp_slots, qp_slots) &&
	    !bind_bpf__load(b) &&
	    !bpf_prog_test_run_opts(bpf_program__fd(b->progs.rxdp_bind), &run))
		ret = run.retval;
	bind_bpf__destroy(b);
	return ret;
}

/*
 * The module takes maps of the QP table's layout only, and none that
 * another device has; maps it takes get the device's QPs (QP1) at once.
 */
TEST(bind_refuses_wrong_maps)
{
	int table, slots, wrong, other;
	struct rxdp_qp_slot s;
	uint32_t slot = 1;

	ASSERT_EQ(0, env_up());
	sh("ip link del " BIND_IF " 2>/dev/null");
	ASSERT_EQ(0, sh("ip link add " BIND_IF " type veth peer name "
			BIND_PEER " && ip link set " BIND_IF " up && "
			"rdma link add " BIND_DEV " type rxdp netdev "
			BIND_IF));
	table = bpf_map_create(BPF_MAP_TYPE_HASH, RXDP_MAP_QP_TABLE, 4,
			       sizeof(struct rxdp_qp_entry), 1024, NULL);
	slots = bpf_map_create(BPF_MAP_TYPE_ARRAY, RXDP_MAP_QP_SLOTS, 4,
			       sizeof(struct rxdp_qp_slot), RXDP_QP_SLOTS,
			       NULL);
	wrong = bpf_map_create(BPF_MAP_TYPE_ARRAY, RXDP_MAP_QP_SLOTS, 4,
			       sizeof(struct rxdp_qp_slot) + 8, RXDP_QP_SLOTS,
			       NULL);
	other = pinned_map_fd(XDP_IF, RXDP_MAP_QP_SLOTS);
	ASSERT_LE(0, table);
	ASSERT_LE(0, slots);
	ASSERT_LE(0, wrong);
	ASSERT_LE(0, other);

	EXPECT_EQ(-EINVAL, bind_maps(table, wrong));
	EXPECT_EQ(-EINVAL, bind_maps(table, table));
	/* rxdpx0's, bound when rxdpctl attached it */
	EXPECT_EQ(-EBUSY, bind_maps(table, other));
	EXPECT_EQ(0, bind_maps(table, slots));
	ASSERT_EQ(0, bpf_map_lookup_elem(slots, &slot, &s));
	EXPECT_EQ(1, s.qpn);
	EXPECT_EQ(RXDP_QPT_GSI, s.type);

	sh("rdma link delete " BIND_DEV "; ip link del " BIND_IF);
	close(table);
	close(slots);
	close(wrong);
	close(other);
}

TEST_HARNESS_MAIN

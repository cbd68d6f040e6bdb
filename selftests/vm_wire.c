// SPDX-License-Identifier: GPL-2.0
/*
 * The transport on the wire: rxdp sends, and its devices talk to each
 * other through XDP, to themselves, and to rdma_rxe.
 *
 *   init namespace                    namespace rxw_b
 *   rxe rxwe0 on rxw0a  <---------->  rxw0b with rxdp rxdpwb
 *   10.82.0.1                         10.82.0.2
 *
 *   namespace rxw_a                   namespace rxw_c
 *   rxdp rxdpwa on rxw1a <--------->  rxw1b with rxdp rxdpwc
 *   10.82.1.1                         10.82.1.2
 *
 * rxw1a and rxw1b have IPv6 addresses too (fd82:1::1, fd82:1::2), and a
 * VLAN 7 on top (rxw1a.7 10.82.7.1, rxw1b.7 10.82.7.2), whose GIDs are
 * rxdpwa's and rxdpwc's: the same devices talk over IPv6 and tagged.
 *
 * Every rxdp netdev has XDP attached by rxdpctl.  The veths have an MTU of
 * 9000, so that the IB MTU is 4096.  RDMA devices are visible from every
 * namespace, so one test process opens both ends; the stock pingpong
 * tools run one end in each namespace, as users do.
 *
 * rdma_rxe stays loaded when the binary loaded it while rxdp devices
 * exist: unloading it would remove them (vm_coexist).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rdma/ib_user_verbs.h>

#include "kselftest_harness.h"
#include "roce_frame.h"
#include "rxdp_test.h"
#include "drop_once.skel.h"

#define RXE_IF		"rxw0a"
#define B_IF		"rxw0b"
#define A_IF		"rxw1a"
#define C_IF		"rxw1b"
#define NS_A		"rxw_a"
#define NS_B		"rxw_b"
#define NS_C		"rxw_c"
#define RXE_DEV		"rxwe0"
#define A_DEV		"rxdpwa"
#define B_DEV		"rxdpwb"
#define C_DEV		"rxdpwc"
#define RXE_ADDR	"10.82.0.1"
#define B_ADDR		"10.82.0.2"
#define A_ADDR		"10.82.1.1"
#define C_ADDR		"10.82.1.2"
#define A6_ADDR		"fd82:1::1"
#define C6_ADDR		"fd82:1::2"
#define VLAN_ID		"7"
#define AV_ADDR		"10.82.7.1"
#define CV_ADDR		"10.82.7.2"

#define UD_QKEY		0x11111111u	/* what qp_attr_values() gives UD QPs */
#define GRH_LEN		40
#define MTU		4096

/*
 * A veth hands XDP the first 3520 bytes of a frame in its first piece
 * (a page, less XDP's headroom and the shared info) and the rest in a
 * fragment: over the sizes around that, the pad and the ICRC fall on
 * either side of the boundary or across it, and each byte still counts
 * (the ICRC checked where it lies, the payload copied from both pieces).
 */
#define FRAG_SWEEP_FIRST	3400
#define FRAG_SWEEP_LAST		3560

/*
 * The light run leaves out variants that run rxdp code the others run too:
 * the PSN wrap (arithmetic the wire variant's code does as well), the
 * second of two rdma_rxe interop runs of the same tool or opcode set, RC
 * to rdma_rxe (the requester and completer of the wire variant), RC and
 * UC over IPv6 or VLAN (their header code is UD's, which runs over both),
 * 1% loss (10% loss does what it does, more).  The stock kernel's run has
 * them.
 */

static const struct testdev devs[] = {
	{ .name = RXE_DEV, .veth = RXE_IF, .addr = RXE_ADDR },
	{ .name = B_DEV, .veth = B_IF, .addr = B_ADDR },
	{ .name = A_DEV, .veth = A_IF, .addr = A_ADDR },
	{ .name = C_DEV, .veth = C_IF, .addr = C_ADDR },
	/* the other GIDs of A and C, which env_ok() waits for */
	{ .name = A_DEV, .veth = A_IF, .addr = A6_ADDR },
	{ .name = C_DEV, .veth = C_IF, .addr = C6_ADDR },
	{ .name = A_DEV, .veth = A_IF "." VLAN_ID, .addr = AV_ADDR },
	{ .name = C_DEV, .veth = C_IF "." VLAN_ID, .addr = CV_ADDR },
};

/* ---- the four devices, made once per binary ---------------------------- */


static void env_down(void)
{
	const char *ctl = rxdpctl_path();

	sh("rdma link delete " RXE_DEV " 2>/dev/null; "
	   "ip netns exec " NS_A " %s detach " A_IF " >/dev/null 2>&1; "
	   "ip netns exec " NS_B " %s detach " B_IF " >/dev/null 2>&1; "
	   "ip netns exec " NS_C " %s detach " C_IF " >/dev/null 2>&1; "
	   "ip netns del " NS_A " 2>/dev/null; "
	   "ip netns del " NS_B " 2>/dev/null; "
	   "ip netns del " NS_C " 2>/dev/null; "
	   "ip link del " RXE_IF " 2>/dev/null", ctl, ctl, ctl);
}

static bool env_ok(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(devs); i++)
		if (!ibdev_exists(devs[i].name) ||
		    testdev_gid_index(&devs[i]) < 0)
			return false;
	return true;
}

/* An rxdp netdev in namespace ns with addr, attached as device dev. */
#define XDP_END(ns, ifname, addr, dev)					\
	"ip netns exec " ns " sh -c 'ip link set lo up && "		\
	"ip link set dev " ifname " mtu 9000 up && "			\
	"ip addr add " addr "/24 dev " ifname " && "			\
	"%s attach " ifname " --name " dev " >/dev/null'"

/* An IPv6 address and VLAN 7 with an IPv4 one on ifname in namespace ns. */
#define MORE_PATHS(ns, ifname, addr6, vaddr)				\
	"ip netns exec " ns " sh -c '"					\
	"ip addr add " addr6 "/64 dev " ifname " nodad && "		\
	"ip link add link " ifname " name " ifname "." VLAN_ID		\
	" type vlan id " VLAN_ID " && "					\
	"ip link set dev " ifname "." VLAN_ID " up && "			\
	"ip addr add " vaddr "/24 dev " ifname "." VLAN_ID "'"

static int env_up(void)
{
	if (rxdp_load())
		return -1;
	if (env_ok())
		return 0;
	env_down();
	if (access("/sys/module/rdma_rxe", F_OK) && sh("modprobe rdma_rxe"))
		return -1;
	if (sh("ip netns add " NS_A " && ip netns add " NS_B " && "
	       "ip netns add " NS_C " && "
	       "ip link add " RXE_IF " type veth peer name " B_IF " netns "
	       NS_B " && "
	       "ip link add " A_IF " netns " NS_A " type veth peer name "
	       C_IF " netns " NS_C " && "
	       "ip link set dev " RXE_IF " mtu 9000 up && "
	       "ip addr add " RXE_ADDR "/24 dev " RXE_IF " && "
	       XDP_END(NS_B, B_IF, B_ADDR, B_DEV) " && "
	       XDP_END(NS_A, A_IF, A_ADDR, A_DEV) " && "
	       XDP_END(NS_C, C_IF, C_ADDR, C_DEV) " && "
	       MORE_PATHS(NS_A, A_IF, A6_ADDR, AV_ADDR) " && "
	       MORE_PATHS(NS_C, C_IF, C6_ADDR, CV_ADDR) " && "
	       "rdma link add " RXE_DEV " type rxe netdev " RXE_IF,
	       rxdpctl_path(), rxdpctl_path(), rxdpctl_path()))
		return -1;
	return WAIT_FOR(env_ok(), 5000) ? 0 : -1;
}

RXE_ENV_DEFINE(env_up, env_down)

/* ---- UD endpoints ------------------------------------------------------ */

struct ud_end {
	struct qp_env	e;
	struct ibv_qp	*qp;
};

static int ud_end_open(struct ud_end *u, const char *dev, bool sig_all)
{
	struct ibv_qp_init_attr ia = {
		.qp_type = IBV_QPT_UD,
		.sq_sig_all = sig_all,
		.cap = {
			.max_send_wr = 128, .max_recv_wr = 128,
			.max_send_sge = 4, .max_recv_sge = 4,
			.max_inline_data = 256,
		},
	};

	memset(u, 0, sizeof(*u));
	if (qp_env_open(&u->e, dev))
		return -1;
	ia.send_cq = u->e.scq;
	ia.recv_cq = u->e.rcq;
	u->qp = qp_create_attr(u->e.pd, &ia);
	if (!u->qp)
		return -1;
	u->e.qp = u->qp;
	return qp_bring_to(&u->e, u->qp, IBV_QPS_RTS) ? -1 : 0;
}

static struct ibv_ah *ud_ah(struct ud_end *from, struct ud_end *to)
{
	struct ibv_ah_attr a = {
		.is_global = 1,
		.port_num = 1,
		.grh = {
			.dgid = to->e.gid,
			.sgid_index = from->e.gid_index,
			.hop_limit = 64,
		},
	};

	return ibv_create_ah(from->e.pd, &a);
}

static uint8_t pattern(uint32_t seed, size_t i)
{
	return (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

/* ---- UD messages, every byte checked ----------------------------------- */

FIXTURE(ud) {
	struct ud_end tx, rx;
	struct ibv_ah *ah;
};

FIXTURE_VARIANT(ud) {
	const char *from, *to;
	const char *from_addr, *to_addr;	/* NULL: the IPv4 GIDs */
};

/* between two rxdp devices, each in its namespace, through XDP */
FIXTURE_VARIANT_ADD(ud, wire) { .from = A_DEV, .to = C_DEV };
/* between two QPs of one device */
FIXTURE_VARIANT_ADD(ud, loopback) { .from = A_DEV, .to = A_DEV };
FIXTURE_VARIANT_ADD(ud, to_rxe) { .from = B_DEV, .to = RXE_DEV };
FIXTURE_VARIANT_ADD(ud, from_rxe) { .from = RXE_DEV, .to = B_DEV };
FIXTURE_VARIANT_ADD(ud, wire_ipv6) {
	.from = A_DEV, .to = C_DEV, .from_addr = A6_ADDR, .to_addr = C6_ADDR,
};
FIXTURE_VARIANT_ADD(ud, wire_vlan) {
	.from = A_DEV, .to = C_DEV, .from_addr = AV_ADDR, .to_addr = CV_ADDR,
};

FIXTURE_SETUP(ud)
{
	ASSERT_EQ(0, env_up());
	ASSERT_EQ(0, ud_end_open(&self->tx, variant->from, true));
	ASSERT_EQ(0, ud_end_open(&self->rx, variant->to, true));
	if (variant->from_addr) {
		ASSERT_EQ(0, qp_env_use_addr(&self->tx.e, variant->from_addr));
		ASSERT_EQ(0, qp_env_use_addr(&self->rx.e, variant->to_addr));
	}
	self->ah = ud_ah(&self->tx, &self->rx);
	ASSERT_NE(NULL, self->ah);
}

FIXTURE_TEARDOWN(ud)
{
	if (self->ah)
		ibv_destroy_ah(self->ah);
	qp_env_close(&self->tx.e);
	qp_env_close(&self->rx.e);
}

/*
 * Send len bytes at offset off of the sender's buffer (filled with a
 * pattern of seed) in nsge SGEs, into a receive of one GRH and the rest,
 * at offset roff of the receiver's buffer.  Checks the completion and
 * every byte.
 */
static void ud_send_check(struct __test_metadata *_metadata,
			  FIXTURE_DATA(ud) *self, uint32_t len, uint32_t off,
			  int nsge, uint32_t roff, bool imm, uint32_t seed)
{
	struct qp_env *t = &self->tx.e, *r = &self->rx.e;
	uint8_t *src = (uint8_t *)t->buf + off;
	uint8_t *dst = (uint8_t *)r->buf + roff;
	struct ibv_sge ss[4], rs = {
		.addr = (uintptr_t)dst, .length = GRH_LEN + len,
		.lkey = r->mr->lkey,
	};
	struct ibv_recv_wr rwr = { .wr_id = seed, .sg_list = &rs,
				   .num_sge = 1 }, *rbad;
	struct ibv_send_wr swr = {
		.wr_id = seed, .sg_list = ss, .num_sge = nsge,
		.opcode = imm ? IBV_WR_SEND_WITH_IMM : IBV_WR_SEND,
		.imm_data = htobe32(seed ^ 0xa5a5a5a5),
		.wr.ud = { .ah = self->ah, .remote_qpn = self->rx.qp->qp_num,
			   .remote_qkey = UD_QKEY },
	}, *sbad;
	uint32_t piece = len / nsge, i, at = 0;
	struct ibv_wc wc;

	for (i = 0; i < len; i++)
		src[i] = pattern(seed, i);
	memset(dst, 0xee, GRH_LEN + len + 16);
	for (i = 0; i < (uint32_t)nsge; i++) {
		ss[i].addr = (uintptr_t)src + at;
		ss[i].length = i == (uint32_t)nsge - 1 ? len - at : piece;
		ss[i].lkey = t->mr->lkey;
		at += ss[i].length;
	}
	ASSERT_EQ(0, ibv_post_recv(self->rx.qp, &rwr, &rbad));
	ASSERT_EQ(0, ibv_post_send(self->tx.qp, &swr, &sbad));

	ASSERT_EQ(1, poll_n(t->scq, 1, &wc, 5000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(IBV_WC_SEND, wc.opcode);
	EXPECT_EQ(seed, wc.wr_id);

	ASSERT_EQ(1, poll_n(r->rcq, 1, &wc, 5000)) TH_LOG("len %u", len);
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(IBV_WC_RECV, wc.opcode);
	EXPECT_EQ(seed, wc.wr_id);
	EXPECT_EQ(GRH_LEN + len, wc.byte_len);
	EXPECT_EQ(self->tx.qp->qp_num, wc.src_qp);
	EXPECT_TRUE(wc.wc_flags & IBV_WC_GRH);
	EXPECT_EQ(imm, !!(wc.wc_flags & IBV_WC_WITH_IMM));
	if (imm)
		EXPECT_EQ(htobe32(seed ^ 0xa5a5a5a5), wc.imm_data);
	/* the sender's address: IPv4's in the GRH's last 20 bytes */
	if (t->gid.raw[10] == 0xff && t->gid.raw[11] == 0xff) {
		EXPECT_EQ(0, memcmp(dst + 20 + 12, &t->gid.raw[12], 4));
	} else {
		EXPECT_EQ(0, memcmp(dst + 8, t->gid.raw, 16));
	}
	for (i = 0; i < len; i++)
		if (dst[GRH_LEN + i] != pattern(seed, i))
			break;
	EXPECT_EQ(len, i) TH_LOG("len %u: byte %u differs", len, i);
	/* nothing past the message */
	EXPECT_EQ(0xee, dst[GRH_LEN + len]);
}

TEST_F(ud, sizes)
{
	static const uint32_t sizes[] = { 0, 1, 2, 3, MTU - 1, MTU };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		ud_send_check(_metadata, self, sizes[i], 0, 1, 0, i & 1,
			      (uint32_t)i + 1);
}

/* UD across a veth's fragment boundary (see FRAG_SWEEP_FIRST) */
TEST_F(ud, frame_end_across_fragments)
{
	uint32_t len;

	for (len = FRAG_SWEEP_FIRST; len <= FRAG_SWEEP_LAST; len++)
		ud_send_check(_metadata, self, len, 0, 1, 0, len & 1, len);
}

/*
 * A receive CQ armed for solicited completions only gets an event for the
 * SEND that asks for one (the BTH's SE bit), not for one that does not.
 */
TEST_F(ud, solicited_event)
{
	struct qp_env *t = &self->tx.e, *r = &self->rx.e;
	struct ibv_qp_init_attr ia = {
		.qp_type = IBV_QPT_UD,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	int quiet = 500 * test_timeout_scale(), k, got = 0;
	struct ibv_comp_channel *ch;
	struct ibv_cq *cq, *ev_cq;
	struct pollfd pfd;
	struct ibv_wc wc;
	struct ud_end q;
	void *ev_ctx;

	ch = ibv_create_comp_channel(r->ctx);
	ASSERT_NE(NULL, ch);
	cq = ibv_create_cq(r->ctx, 8, NULL, ch, 0);
	ASSERT_NE(NULL, cq);
	q.e = *r;
	ia.send_cq = r->scq;
	ia.recv_cq = cq;
	q.qp = qp_create_attr(r->pd, &ia);
	ASSERT_NE(NULL, q.qp);
	ASSERT_EQ(0, qp_bring_to(&q.e, q.qp, IBV_QPS_RTS));
	ASSERT_EQ(0, post_recvs(q.qp, r->mr, GRH_LEN + 64, 2, 0));
	ASSERT_EQ(0, ibv_req_notify_cq(cq, 1));
	pfd = (struct pollfd){ .fd = ch->fd, .events = POLLIN };
	for (k = 0; k < 2; k++) {
		struct ibv_sge ss = { .addr = (uintptr_t)t->buf, .length = 64,
				      .lkey = t->mr->lkey };
		struct ibv_send_wr swr = {
			.wr_id = k, .sg_list = &ss, .num_sge = 1,
			.opcode = IBV_WR_SEND,
			.send_flags = k ? IBV_SEND_SOLICITED : 0,
			.wr.ud = { .ah = self->ah, .remote_qpn = q.qp->qp_num,
				   .remote_qkey = UD_QKEY },
		}, *bad;

		ASSERT_EQ(0, ibv_post_send(self->tx.qp, &swr, &bad));
		ASSERT_EQ(1, poll_n(t->scq, 1, &wc, 5000));
		/* the first asks for no event, the second for one */
		got = poll(&pfd, 1, k ? 10 * quiet : quiet);
		EXPECT_EQ(k, got)
			TH_LOG("SEND %d: %s", k, k ? "no event" : "an event");
		ASSERT_EQ(1, poll_n(cq, 1, &wc, 5000));
		EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
		EXPECT_EQ(k, (int)wc.wr_id);
	}
	if (got == 1) {
		ASSERT_EQ(0, ibv_get_cq_event(ch, &ev_cq, &ev_ctx));
		EXPECT_EQ(cq, ev_cq);
		ibv_ack_cq_events(cq, 1);
	}
	ibv_destroy_qp(q.qp);
	ibv_destroy_cq(cq);
	ibv_destroy_comp_channel(ch);
}

TEST_F(ud, multi_sge_unaligned)
{
	ud_send_check(_metadata, self, MTU - 3, 5, 3, 1, false, 77);
	ud_send_check(_metadata, self, 1001, 4093, 4, 7, true, 78);
}

TEST_F(ud, inline_data)
{
	struct qp_env *t = &self->tx.e, *r = &self->rx.e;
	char msg[200], *dst = (char *)r->buf;
	struct ibv_sge ss = { .addr = (uintptr_t)msg, .length = sizeof(msg) };
	struct ibv_sge rs = { .addr = (uintptr_t)dst,
			      .length = GRH_LEN + sizeof(msg),
			      .lkey = r->mr->lkey };
	struct ibv_recv_wr rwr = { .wr_id = 1, .sg_list = &rs,
				   .num_sge = 1 }, *rbad;
	struct ibv_send_wr swr = {
		.wr_id = 2, .sg_list = &ss, .num_sge = 1,
		.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_INLINE,
		.wr.ud = { .ah = self->ah, .remote_qpn = self->rx.qp->qp_num,
			   .remote_qkey = UD_QKEY },
	}, *sbad;
	struct ibv_wc wc;
	size_t i;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (char)(i * 3 + 1);
	ASSERT_EQ(0, ibv_post_recv(self->rx.qp, &rwr, &rbad));
	ASSERT_EQ(0, ibv_post_send(self->tx.qp, &swr, &sbad));
	/* inline: the buffer is the sender's again at once */
	memset(msg, 0, sizeof(msg));
	ASSERT_EQ(1, poll_n(t->scq, 1, &wc, 5000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	ASSERT_EQ(1, poll_n(r->rcq, 1, &wc, 5000));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(GRH_LEN + sizeof(msg), wc.byte_len);
	for (i = 0; i < sizeof(msg); i++)
		if (dst[GRH_LEN + i] != (char)(i * 3 + 1))
			break;
	EXPECT_EQ(sizeof(msg), i);
}

/*
 * Many messages in order: batches of 32 posted at once (more than a post
 * sends inline), each message numbered and received into its own buffer.
 */
TEST_F(ud, ordered_batches)
{
	struct qp_env *t = &self->tx.e, *r = &self->rx.e;
	const uint32_t len = 256, slot = GRH_LEN + len, batch = 32;
	int rounds = test_rounds(8, 2), k;
	uint32_t n = 0, i;

	for (k = 0; k < rounds; k++) {
		struct ibv_send_wr swr[32], *sbad;
		struct ibv_recv_wr rwr[32], *rbad;
		struct ibv_sge ss[32], rs[32];
		struct ibv_wc wc[32];

		for (i = 0; i < batch; i++) {
			uint8_t *p = (uint8_t *)t->buf + i * len;

			memset(p, (int)(n + i), len);
			ss[i] = (struct ibv_sge){ .addr = (uintptr_t)p,
						  .length = len,
						  .lkey = t->mr->lkey };
			swr[i] = (struct ibv_send_wr){
				.wr_id = n + i, .sg_list = &ss[i],
				.num_sge = 1, .opcode = IBV_WR_SEND,
				.next = i + 1 < batch ? &swr[i + 1] : NULL,
				.wr.ud = { .ah = self->ah,
					   .remote_qpn = self->rx.qp->qp_num,
					   .remote_qkey = UD_QKEY },
			};
			rs[i] = (struct ibv_sge){
				.addr = (uintptr_t)r->buf + i * slot,
				.length = slot, .lkey = r->mr->lkey };
			rwr[i] = (struct ibv_recv_wr){
				.wr_id = n + i, .sg_list = &rs[i],
				.num_sge = 1,
				.next = i + 1 < batch ? &rwr[i + 1] : NULL };
		}
		ASSERT_EQ(0, ibv_post_recv(self->rx.qp, rwr, &rbad));
		ASSERT_EQ(0, ibv_post_send(self->tx.qp, swr, &sbad));
		ASSERT_EQ((int)batch, poll_n(t->scq, batch, wc, 10000));
		for (i = 0; i < batch; i++) {
			EXPECT_EQ(IBV_WC_SUCCESS, wc[i].status);
			EXPECT_EQ(n + i, wc[i].wr_id);
		}
		ASSERT_EQ((int)batch, poll_n(r->rcq, batch, wc, 10000));
		for (i = 0; i < batch; i++) {
			const uint8_t *p = (uint8_t *)r->buf + i * slot;

			ASSERT_EQ(IBV_WC_SUCCESS, wc[i].status);
			EXPECT_EQ(n + i, wc[i].wr_id);
			EXPECT_EQ(slot, wc[i].byte_len);
			/* the i-th message landed in the i-th buffer */
			EXPECT_EQ((uint8_t)(n + i), p[GRH_LEN]);
			EXPECT_EQ((uint8_t)(n + i), p[slot - 1]);
		}
		n += batch;
	}
}

/* With sq_sig_all off, only signalled sends complete; all are sent. */
TEST_F(ud, unsignalled)
{
	struct qp_env *r = &self->rx.e;
	struct ibv_wc wc[16];
	struct ibv_ah *ah;
	struct ud_end q;
	struct ibv_sge ss;
	int i;

	ASSERT_EQ(0, ud_end_open(&q, self->tx.e.ctx->device->name, false));
	/* from the sender's GID, of the variant's path */
	q.e.gid = self->tx.e.gid;
	q.e.gid_index = self->tx.e.gid_index;
	ah = ud_ah(&q, &self->rx);
	ASSERT_NE(NULL, ah);
	ss = (struct ibv_sge){ .addr = (uintptr_t)q.e.buf, .length = 8,
			       .lkey = q.e.mr->lkey };
	ASSERT_EQ(0, post_recvs(self->rx.qp, r->mr, GRH_LEN + 8, 8, 0));
	for (i = 0; i < 8; i++) {
		struct ibv_send_wr swr = {
			.wr_id = 100 + i, .sg_list = &ss, .num_sge = 1,
			.opcode = IBV_WR_SEND,
			.send_flags = i == 7 ? IBV_SEND_SIGNALED : 0,
			.wr.ud = { .ah = ah,
				   .remote_qpn = self->rx.qp->qp_num,
				   .remote_qkey = UD_QKEY },
		}, *bad;

		ASSERT_EQ(0, ibv_post_send(q.qp, &swr, &bad));
	}
	ASSERT_EQ(1, poll_n(q.e.scq, 16, wc, 3000));
	EXPECT_EQ(107, wc[0].wr_id);
	EXPECT_EQ(8, poll_n(r->rcq, 8, wc, 5000));
	ibv_destroy_ah(ah);
	qp_env_close(&q.e);
}

/* ---- RC and UC: every opcode, every byte ----------------------------- */

/* a test's buffer: the largest message and room around it */
#define BIG_BUF		(big() + 8192)

/* The largest message a test sends: 4 MiB where everything is slower. */
static uint32_t big(void)
{
	return (uint32_t)test_rounds(16, 4) << 20;
}

struct rc_end {
	struct qp_env	e;
	struct ibv_qp	*qp;
	uint8_t		*buf;		/* BIG_BUF bytes */
	struct ibv_mr	*mr;
	uint8_t		timeout;	/* Local ACK Timeout; 0: the tests' */
};

static int rc_open(struct rc_end *r, const char *dev, enum ibv_qp_type type)
{
	struct ibv_qp_init_attr ia = {
		.qp_type = type,
		.sq_sig_all = 1,
		.cap = {
			.max_send_wr = 64, .max_recv_wr = 64,
			.max_send_sge = 4, .max_recv_sge = 4,
			.max_inline_data = 128,
		},
	};

	memset(r, 0, sizeof(*r));
	if (qp_env_open(&r->e, dev))
		return -1;
	ia.send_cq = r->e.scq;
	ia.recv_cq = r->e.rcq;
	r->qp = qp_create_attr(r->e.pd, &ia);
	r->buf = aligned_alloc(4096, BIG_BUF);
	if (!r->qp || !r->buf)
		return -1;
	memset(r->buf, 0, BIG_BUF);
	r->mr = ibv_reg_mr(r->e.pd, r->buf, BIG_BUF,
			   IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
			   IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC);
	return r->mr ? 0 : -1;
}

static void rc_close(struct rc_end *r)
{
	if (r->qp)
		ibv_destroy_qp(r->qp);
	if (r->mr)
		ibv_dereg_mr(r->mr);
	free(r->buf);
	qp_env_close(&r->e);
	memset(r, 0, sizeof(*r));
}

/* Bring a to RTS towards b (whose QPN and GID it takes), from psn on. */
static int rc_connect_one(struct rc_end *a, struct rc_end *b, uint32_t sq_psn,
			  uint32_t rq_psn, enum ibv_mtu mtu, uint8_t rnr_retry)
{
	bool rc = a->qp->qp_type == IBV_QPT_RC;
	struct ibv_qp_attr at = {
		.qp_state = IBV_QPS_INIT,
		.port_num = 1,
		.qp_access_flags = IBV_ACCESS_LOCAL_WRITE |
				   IBV_ACCESS_REMOTE_WRITE |
				   (rc ? IBV_ACCESS_REMOTE_READ |
					 IBV_ACCESS_REMOTE_ATOMIC : 0),
	};
	int err;

	err = ibv_modify_qp(a->qp, &at, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			    IBV_QP_PORT | IBV_QP_ACCESS_FLAGS);
	if (err)
		return err;
	memset(&at, 0, sizeof(at));
	at.qp_state = IBV_QPS_RTR;
	at.path_mtu = mtu;
	at.dest_qp_num = b->qp->qp_num;
	at.rq_psn = rq_psn;
	at.max_dest_rd_atomic = 16;
	at.min_rnr_timer = 1;
	at.ah_attr.is_global = 1;
	at.ah_attr.port_num = 1;
	at.ah_attr.grh.dgid = b->e.gid;
	at.ah_attr.grh.sgid_index = a->e.gid_index;
	at.ah_attr.grh.hop_limit = 64;
	err = ibv_modify_qp(a->qp, &at, IBV_QP_STATE | IBV_QP_AV |
			    IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			    (rc ? IBV_QP_MAX_DEST_RD_ATOMIC |
				  IBV_QP_MIN_RNR_TIMER : 0));
	if (err)
		return err;
	memset(&at, 0, sizeof(at));
	at.qp_state = IBV_QPS_RTS;
	at.sq_psn = sq_psn;
	/* 16 ms; 268 ms where everything is slower (the debug kernel) */
	at.timeout = a->timeout ?: (test_timeout_scale() > 1 ? 16 : 12);
	at.retry_cnt = 7;
	at.rnr_retry = rnr_retry;
	at.max_rd_atomic = 16;
	return ibv_modify_qp(a->qp, &at, IBV_QP_STATE | IBV_QP_SQ_PSN |
			     (rc ? IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
				   IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC :
				   0));
}

static int rc_connect(struct rc_end *a, struct rc_end *b, uint32_t psn_a,
		      uint32_t psn_b, enum ibv_mtu mtu)
{
	return rc_connect_one(a, b, psn_a, psn_b, mtu, 7) ?:
	       rc_connect_one(b, a, psn_b, psn_a, mtu, 7);
}

FIXTURE(rc) {
	struct rc_end a, b;	/* a requests, b responds */
	uint32_t mtu;
};

FIXTURE_VARIANT(rc) {
	const char *from, *to;
	enum ibv_qp_type type;
	enum ibv_mtu mtu;
	uint32_t psn;		/* where both start */
	bool full_only;		/* not in the light run (see LIGHT_SKIP) */
	const char *from_addr, *to_addr;	/* NULL: the IPv4 GIDs */
};

FIXTURE_VARIANT_ADD(rc, wire) {
	.from = A_DEV, .to = C_DEV, .type = IBV_QPT_RC, .mtu = IBV_MTU_1024,
	.psn = 0x10,
};
/* the PSNs wrap around 2^24 within the first messages */
FIXTURE_VARIANT_ADD(rc, wire_psn_wrap) {
	.from = A_DEV, .to = C_DEV, .type = IBV_QPT_RC, .mtu = IBV_MTU_4096,
	.psn = 0xfffff0, .full_only = true,
};
FIXTURE_VARIANT_ADD(rc, loopback) {
	.from = A_DEV, .to = A_DEV, .type = IBV_QPT_RC, .mtu = IBV_MTU_1024,
	.psn = 0xfffffe,
};
FIXTURE_VARIANT_ADD(rc, to_rxe) {
	.from = B_DEV, .to = RXE_DEV, .type = IBV_QPT_RC, .mtu = IBV_MTU_1024,
	.psn = 0xfffff8, .full_only = true,
};
FIXTURE_VARIANT_ADD(rc, from_rxe) {
	.from = RXE_DEV, .to = B_DEV, .type = IBV_QPT_RC, .mtu = IBV_MTU_1024,
	.psn = 0x123456, .full_only = true,
};
FIXTURE_VARIANT_ADD(rc, uc_wire) {
	.from = A_DEV, .to = C_DEV, .type = IBV_QPT_UC, .mtu = IBV_MTU_1024,
	.psn = 0xfffffa,
};
FIXTURE_VARIANT_ADD(rc, wire_ipv6) {
	.from = A_DEV, .to = C_DEV, .type = IBV_QPT_RC, .mtu = IBV_MTU_4096,
	.psn = 0x800000, .from_addr = A6_ADDR, .to_addr = C6_ADDR,
	.full_only = true,
};
FIXTURE_VARIANT_ADD(rc, wire_vlan) {
	.from = A_DEV, .to = C_DEV, .type = IBV_QPT_RC, .mtu = IBV_MTU_1024,
	.psn = 0x7ffffe, .from_addr = AV_ADDR, .to_addr = CV_ADDR,
	.full_only = true,
};
FIXTURE_VARIANT_ADD(rc, uc_wire_ipv6) {
	.from = A_DEV, .to = C_DEV, .type = IBV_QPT_UC, .mtu = IBV_MTU_2048,
	.psn = 0xfffff0, .from_addr = A6_ADDR, .to_addr = C6_ADDR,
	.full_only = true,
};
FIXTURE_VARIANT_ADD(rc, uc_wire_vlan) {
	.from = A_DEV, .to = C_DEV, .type = IBV_QPT_UC, .mtu = IBV_MTU_1024,
	.psn = 0x2, .from_addr = AV_ADDR, .to_addr = CV_ADDR,
	.full_only = true,
};
FIXTURE_VARIANT_ADD(rc, uc_to_rxe) {
	.from = B_DEV, .to = RXE_DEV, .type = IBV_QPT_UC, .mtu = IBV_MTU_1024,
	.psn = 0x42, .full_only = true,
};

FIXTURE_SETUP(rc)
{
	if (variant->full_only)
		LIGHT_SKIP();
	ASSERT_EQ(0, env_up());
	ASSERT_EQ(0, rc_open(&self->a, variant->from, variant->type));
	ASSERT_EQ(0, rc_open(&self->b, variant->to, variant->type));
	if (variant->from_addr) {
		ASSERT_EQ(0, qp_env_use_addr(&self->a.e, variant->from_addr));
		ASSERT_EQ(0, qp_env_use_addr(&self->b.e, variant->to_addr));
	}
	ASSERT_EQ(0, rc_connect(&self->a, &self->b, variant->psn,
				variant->psn + 7, variant->mtu));
	self->mtu = 128u << variant->mtu;	/* IBV_MTU_256 is 1 */
}

FIXTURE_TEARDOWN(rc)
{
	rc_close(&self->a);
	rc_close(&self->b);
}

/*
 * For a failure's message: the QPs of every rxdp device and the port
 * counters of every device.
 */
static const char *transport_state(void)
{
	static char out[6144];

	out[0] = '\n';
	sh_out(out + 1, sizeof(out) - 1, "cat /sys/kernel/debug/rxdp/*/qps; "
	       "rdma statistic show link");
	return out;
}

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pattern(seed, i);
}

static size_t first_diff(const uint8_t *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pattern(seed, i))
			return i;
	return len;
}

/*
 * One operation of len bytes from a's buffer at aoff (in nsge SGEs) to
 * b's at boff (a READ: from b's to a's), with every byte and completion
 * checked on both sides.
 */
static void rc_op(struct __test_metadata *_metadata, FIXTURE_DATA(rc) *self,
		  enum ibv_wr_opcode op, uint32_t len, uint32_t aoff,
		  uint32_t boff, int nsge, uint32_t seed)
{
	struct rc_end *a = &self->a, *b = &self->b;
	bool read = op == IBV_WR_RDMA_READ;
	bool recv = op == IBV_WR_SEND || op == IBV_WR_SEND_WITH_IMM ||
		    op == IBV_WR_RDMA_WRITE_WITH_IMM;
	bool imm = op == IBV_WR_SEND_WITH_IMM ||
		   op == IBV_WR_RDMA_WRITE_WITH_IMM;
	uint8_t *src = read ? b->buf + boff : a->buf + aoff;
	uint8_t *dst = read ? a->buf + aoff : b->buf + boff;
	struct ibv_sge ss[4], rs = {
		.addr = (uintptr_t)(b->buf + boff), .length = len + 16,
		.lkey = b->mr->lkey,
	};
	struct ibv_recv_wr rwr = { .wr_id = seed, .sg_list = &rs,
				   .num_sge = 1 }, *rbad;
	struct ibv_send_wr swr = {
		.wr_id = seed, .sg_list = ss, .num_sge = nsge, .opcode = op,
		.imm_data = htobe32(seed * 3 + 1),
		.wr.rdma = { .remote_addr = (uintptr_t)(b->buf + boff),
			     .rkey = b->mr->rkey },
	}, *sbad;
	uint32_t piece = len / nsge, at = 0;
	int i, t = 20000 * test_timeout_scale();
	struct ibv_wc wc;

	fill(src, len, seed);
	memset(dst, 0xee, len + 16);
	/* SGEs in a's buffer, one after the other */
	for (i = 0; i < nsge; i++) {
		ss[i].addr = (uintptr_t)(a->buf + aoff + at);
		ss[i].length = i == nsge - 1 ? len - at : piece;
		ss[i].lkey = a->mr->lkey;
		at += ss[i].length;
	}
	if (recv)
		ASSERT_EQ(0, ibv_post_recv(b->qp, &rwr, &rbad));
	ASSERT_EQ(0, ibv_post_send(a->qp, &swr, &sbad));

	ASSERT_EQ(1, poll_n(a->e.scq, 1, &wc, t))
		TH_LOG("op %d len %u%s", op, len, transport_state());
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status)
		TH_LOG("op %d len %u: %s%s", op, len,
		       ibv_wc_status_str(wc.status), transport_state());
	EXPECT_EQ(seed, wc.wr_id);
	if (recv) {
		ASSERT_EQ(1, poll_n(b->e.rcq, 1, &wc, t)) TH_LOG("len %u", len);
		ASSERT_EQ(IBV_WC_SUCCESS, wc.status)
			TH_LOG("len %u: %s", len, ibv_wc_status_str(wc.status));
		EXPECT_EQ(seed, wc.wr_id);
		EXPECT_EQ(len, wc.byte_len);
		EXPECT_EQ(op == IBV_WR_RDMA_WRITE_WITH_IMM ?
			  IBV_WC_RECV_RDMA_WITH_IMM : IBV_WC_RECV, wc.opcode);
		EXPECT_EQ(imm, !!(wc.wc_flags & IBV_WC_WITH_IMM));
		if (imm)
			EXPECT_EQ(htobe32(seed * 3 + 1), wc.imm_data);
	} else if (op == IBV_WR_RDMA_WRITE && self->a.qp->qp_type ==
		   IBV_QPT_UC) {
		/* UC completes once sent: the data may still be coming */
		usleep(200000 * test_timeout_scale());
	}
	EXPECT_EQ(len, first_diff(dst, len, seed))
		TH_LOG("op %d len %u: byte %zu of %u differs", op, len,
		       first_diff(dst, len, seed), len);
	EXPECT_EQ(0xee, dst[len]) TH_LOG("op %d len %u: written past", op,
					 len);
}

static void rc_sizes(struct __test_metadata *_metadata,
		     FIXTURE_DATA(rc) *self, enum ibv_wr_opcode op)
{
	uint32_t m = self->mtu;
	const uint32_t sizes[] = { 0, 1, m - 1, m, m + 1, 3 * m, 65536 + 3 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		rc_op(_metadata, self, op, sizes[i], 0, 0, 1, (uint32_t)i);
	rc_op(_metadata, self, op, 5 * m + 7, 3, 5, 3, 99);
	rc_op(_metadata, self, op, 2 * m + 1, 4095, 1, 4, 98);
}

/*
 * The fast path: a packet for a QP with nothing ahead of it is taken from
 * the XDP frame itself, not copied onto the QP's queue first; a frame of
 * a full 4 KiB payload too, which a veth hands XDP in fragments.  Over
 * loopback, the responder takes it from the sender's memory.
 */
TEST_F(rc, fast_path_takes_frames_in_place)
{
	uint32_t qpn = self->b.qp->qp_num;
	long pkts, copied;
	int i;

	if (!strcmp(variant->to, RXE_DEV))
		SKIP(return, "the receiver is not rxdp");
	for (i = 0; i < 20; i++)
		rc_op(_metadata, self, IBV_WR_SEND, i & 1 ? self->mtu : 64, 0, 0,
		      1, 500 + i);
	pkts = debugfs_qp_col(variant->to, qpn, "rx_pkts");
	copied = debugfs_qp_col(variant->to, qpn, "rx_copied");
	EXPECT_LE(20, pkts);
	ASSERT_LE(0, copied);
	/* one message at a time: the responder is idle for each but by chance */
	EXPECT_GE(pkts / 4, copied)
		TH_LOG("%ld of %ld packets copied", copied, pkts);
}

/* RC across a veth's fragment boundary (see FRAG_SWEEP_FIRST) */
TEST_F(rc, frame_end_across_fragments)
{
	static const enum ibv_wr_opcode ops[] = {
		IBV_WR_SEND, IBV_WR_RDMA_WRITE, IBV_WR_RDMA_READ,
	};
	uint32_t len;
	size_t i;

	if (self->mtu < 4096)
		SKIP(return, "frames of this path MTU come in one piece");
	for (i = 0; i < ARRAY_SIZE(ops); i++)
		for (len = FRAG_SWEEP_FIRST; len <= FRAG_SWEEP_LAST; len++)
			rc_op(_metadata, self, ops[i], len, 0, 0, 1,
			      len ^ (uint32_t)i << 16);
}

/* A socket that sees the frames ifname of namespace ns sends; -1 or fd. */
static int tx_tap(const char *ns, const char *ifname)
{
	int fd = socket_in_ns(ns, AF_PACKET, SOCK_RAW | SOCK_NONBLOCK,
			      htons(ETH_P_ALL));
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
	};
	char idx[32] = "";

	sh_out(idx, sizeof(idx), "ip netns exec %s cat "
	       "/sys/class/net/%s/ifindex", ns, ifname);
	sll.sll_ifindex = atoi(idx);
	if (fd >= 0 && (sll.sll_ifindex <= 0 ||
			bind(fd, (struct sockaddr *)&sll, sizeof(sll)))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

struct frame_path {
	int vid;		/* the 802.1Q tag's VLAN, -1 for none */
	uint16_t l3;		/* ETH_P_IP or ETH_P_IPV6 */
};

/*
 * The path of the next RoCEv2 frame the tap sees go out within ms: 0, or
 * -1 if none went out.
 */
static int tapped_roce_path(int fd, int ms, struct frame_path *fp)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint8_t f[256];

	while (poll(&p, 1, ms) == 1) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, f, sizeof(f), 0,
				     (struct sockaddr *)&from, &fl);
		size_t off = 12, l4;
		uint16_t proto;

		/* an ACK is the shortest: 14 + 20 + 8 + 12 + 4 + 4 bytes */
		if (n < 62 || from.sll_pkttype != PACKET_OUTGOING)
			continue;
		fp->vid = -1;
		proto = (uint16_t)(f[off] << 8 | f[off + 1]);
		if (proto == ETH_P_8021Q) {
			fp->vid = (f[off + 2] << 8 | f[off + 3]) & 0xfff;
			off += 4;
			proto = (uint16_t)(f[off] << 8 | f[off + 1]);
		}
		off += 2;
		if (proto == ETH_P_IP && f[off + 9] == IPPROTO_UDP)
			l4 = off + (f[off] & 0xf) * 4u;
		else if (proto == ETH_P_IPV6 && off + 40 < (size_t)n &&
			 f[off + 6] == IPPROTO_UDP)
			l4 = off + 40;
		else
			continue;
		if (l4 + 8 > (size_t)n || (f[l4 + 2] << 8 | f[l4 + 3]) != 4791)
			continue;
		fp->l3 = proto;
		return 0;
	}
	return -1;
}

/*
 * A connection between GIDs of an IPv6 address or of a VLAN device goes
 * over IPv6 or tagged, both ways: what the taps see leave each end.
 */
TEST_F(rc, frames_take_the_path)
{
	struct frame_path want = { .vid = -1, .l3 = ETH_P_IP }, got;
	int tap_a, tap_c;

	if (strcmp(variant->from, A_DEV) || strcmp(variant->to, C_DEV))
		SKIP(return, "not between rxw1a and rxw1b");
	if (variant->from_addr && strchr(variant->from_addr, ':'))
		want.l3 = ETH_P_IPV6;
	else if (variant->from_addr)
		want.vid = atoi(VLAN_ID);
	tap_a = tx_tap(NS_A, A_IF);
	tap_c = tx_tap(NS_C, C_IF);
	ASSERT_LE(0, tap_a);
	ASSERT_LE(0, tap_c);
	rc_op(_metadata, self, IBV_WR_SEND, 64, 0, 0, 1, 700);
	/* the SEND from A; an ACK (RC) or nothing (UC) from C */
	ASSERT_EQ(0, tapped_roce_path(tap_a, 2000, &got));
	EXPECT_EQ(want.vid, got.vid);
	EXPECT_EQ(want.l3, got.l3);
	rc_op(_metadata, self, IBV_WR_RDMA_WRITE, 64, 0, 0, 1, 701);
	if (variant->type == IBV_QPT_RC) {
		ASSERT_EQ(0, tapped_roce_path(tap_c, 2000, &got));
		EXPECT_EQ(want.vid, got.vid);
		EXPECT_EQ(want.l3, got.l3);
	}
	close(tap_a);
	close(tap_c);
}

TEST_F(rc, send_sizes)
{
	rc_sizes(_metadata, self, IBV_WR_SEND);
}

TEST_F(rc, send_imm_sizes)
{
	rc_sizes(_metadata, self, IBV_WR_SEND_WITH_IMM);
}

TEST_F(rc, write_sizes)
{
	rc_sizes(_metadata, self, IBV_WR_RDMA_WRITE);
}

TEST_F(rc, write_imm_sizes)
{
	rc_sizes(_metadata, self, IBV_WR_RDMA_WRITE_WITH_IMM);
}

TEST_F(rc, read_sizes)
{
	if (variant->type == IBV_QPT_UC)
		SKIP(return, "UC has no READ");
	rc_sizes(_metadata, self, IBV_WR_RDMA_READ);
}

/*
 * UC: a 16 MiB message is 16384 packets, any of which the receive side
 * may drop when the sender outruns it; a message that arrives is whole.
 */
static void uc_big_send(struct __test_metadata *_metadata,
			FIXTURE_DATA(rc) *self)
{
	struct rc_end *a = &self->a, *b = &self->b;
	struct ibv_sge ss = { .addr = (uintptr_t)a->buf, .length = big(),
			      .lkey = a->mr->lkey };
	struct ibv_send_wr swr = { .sg_list = &ss, .num_sge = 1,
				   .opcode = IBV_WR_SEND }, *sbad;
	struct ibv_wc wc;
	int tries;

	fill(a->buf, big(), 7);
	ASSERT_EQ(0, post_recvs(b->qp, b->mr, big(), 1, 0));
	for (tries = 0; tries < 5; tries++) {
		swr.wr_id = tries;
		ASSERT_EQ(0, ibv_post_send(a->qp, &swr, &sbad));
		ASSERT_EQ(1, poll_n(a->e.scq, 1, &wc, 20000));
		ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
		if (poll_n(b->e.rcq, 1, &wc, 3000) == 1)
			break;
	}
	ASSERT_LT(tries, 5) TH_LOG("none of 5 messages arrived whole");
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(big(), wc.byte_len);
	EXPECT_EQ(big(), first_diff(b->buf, big(), 7));
}

TEST_F(rc, big_messages)
{
	if (variant->type == IBV_QPT_UC) {
		uc_big_send(_metadata, self);
		return;
	}
	rc_op(_metadata, self, IBV_WR_SEND, big(), 0, 0, 1, 7);
	rc_op(_metadata, self, IBV_WR_RDMA_WRITE, big(), 0, 0, 1, 8);
	rc_op(_metadata, self, IBV_WR_RDMA_READ, big(), 0, 0, 1, 9);
}

TEST_F(rc, inline_send)
{
	struct rc_end *a = &self->a, *b = &self->b;
	char msg[100];
	struct ibv_sge ss = { .addr = (uintptr_t)msg, .length = sizeof(msg) };
	struct ibv_sge rs = { .addr = (uintptr_t)b->buf, .length = 4096,
			      .lkey = b->mr->lkey };
	struct ibv_recv_wr rwr = { .wr_id = 1, .sg_list = &rs,
				   .num_sge = 1 }, *rbad;
	struct ibv_send_wr swr = { .wr_id = 2, .sg_list = &ss, .num_sge = 1,
				   .opcode = IBV_WR_SEND,
				   .send_flags = IBV_SEND_INLINE }, *sbad;
	struct ibv_wc wc;
	size_t i;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (char)(i + 11);
	ASSERT_EQ(0, ibv_post_recv(b->qp, &rwr, &rbad));
	ASSERT_EQ(0, ibv_post_send(a->qp, &swr, &sbad));
	memset(msg, 0, sizeof(msg));
	ASSERT_EQ(1, poll_n(a->e.scq, 1, &wc, 10000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	ASSERT_EQ(1, poll_n(b->e.rcq, 1, &wc, 10000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(sizeof(msg), wc.byte_len);
	for (i = 0; i < sizeof(msg); i++)
		if (b->buf[i] != (uint8_t)(i + 11))
			break;
	EXPECT_EQ(sizeof(msg), i);
}

/* Many sends in flight at once complete in order, each intact. */
/*
 * Post n receives on b and n SENDs of len bytes on a, in one post each:
 * message i from a's buffer at i * len, filled from seed + i, to b's at
 * the same place, wr_id i on both.  0 or an errno.
 */
static int post_send_batch(FIXTURE_DATA(rc) *self, uint32_t n, uint32_t len,
			   uint32_t seed)
{
	struct rc_end *a = &self->a, *b = &self->b;
	struct ibv_send_wr swr[48], *sbad;
	struct ibv_recv_wr rwr[48], *rbad;
	struct ibv_sge ss[48], rs[48];
	uint32_t i;

	if (n > 48)
		return EINVAL;
	for (i = 0; i < n; i++) {
		fill(a->buf + i * len, len, seed + i);
		ss[i] = (struct ibv_sge){ .addr = (uintptr_t)a->buf + i * len,
					  .length = len, .lkey = a->mr->lkey };
		swr[i] = (struct ibv_send_wr){ .wr_id = i, .sg_list = &ss[i],
			.num_sge = 1, .opcode = IBV_WR_SEND,
			.next = i + 1 < n ? &swr[i + 1] : NULL };
		rs[i] = (struct ibv_sge){ .addr = (uintptr_t)b->buf + i * len,
					  .length = len, .lkey = b->mr->lkey };
		rwr[i] = (struct ibv_recv_wr){ .wr_id = i, .sg_list = &rs[i],
			.num_sge = 1, .next = i + 1 < n ? &rwr[i + 1] : NULL };
	}
	return ibv_post_recv(b->qp, rwr, &rbad) ?:
	       ibv_post_send(a->qp, swr, &sbad);
}

TEST_F(rc, many_in_flight)
{
	struct rc_end *a = &self->a, *b = &self->b;
	const uint32_t len = 3000, n = 48;
	struct ibv_wc wc[48];
	uint32_t i;

	ASSERT_EQ(0, post_send_batch(self, n, len, 1000));
	ASSERT_EQ((int)n, poll_n(a->e.scq, n, wc, 30000));
	for (i = 0; i < n; i++) {
		EXPECT_EQ(IBV_WC_SUCCESS, wc[i].status);
		EXPECT_EQ(i, wc[i].wr_id);
	}
	ASSERT_EQ((int)n, poll_n(b->e.rcq, n, wc, 30000));
	for (i = 0; i < n; i++) {
		EXPECT_EQ(IBV_WC_SUCCESS, wc[i].status);
		EXPECT_EQ(i, wc[i].wr_id);
		EXPECT_EQ(len, first_diff(b->buf + i * len, len, 1000 + i))
			TH_LOG("message %u", i);
	}
}

/*
 * SENDs, READs, WRITEs and an atomic in one post: each READ's or atomic's
 * answer also acknowledges what was posted before it, and everything
 * completes in order, once, with its data.
 */
TEST_F(rc, mixed_in_flight)
{
	static const enum ibv_wr_opcode ops[] = {
		IBV_WR_SEND, IBV_WR_RDMA_READ, IBV_WR_RDMA_WRITE,
		IBV_WR_RDMA_READ, IBV_WR_SEND, IBV_WR_ATOMIC_FETCH_AND_ADD,
		IBV_WR_RDMA_WRITE, IBV_WR_RDMA_READ, IBV_WR_SEND,
		IBV_WR_RDMA_READ,
	};
	const uint32_t n = ARRAY_SIZE(ops), len = 2500, half = BIG_BUF / 2;
	struct rc_end *a = &self->a, *b = &self->b;
	uint64_t *target = (uint64_t *)(b->buf + BIG_BUF - 64);
	struct ibv_send_wr swr[ARRAY_SIZE(ops)], *sbad;
	struct ibv_recv_wr rwr[ARRAY_SIZE(ops)], *rbad;
	struct ibv_sge ss[ARRAY_SIZE(ops)], rs[ARRAY_SIZE(ops)];
	struct ibv_wc wc[ARRAY_SIZE(ops)];
	uint32_t i, nrecv = 0;

	if (variant->type == IBV_QPT_UC)
		SKIP(return, "UC has no READ");
	*target = 40;
	for (i = 0; i < n; i++) {
		uint8_t *mine = a->buf + i * len;
		uint8_t *theirs = b->buf + half + i * len;
		bool read = ops[i] == IBV_WR_RDMA_READ;
		bool atomic = ops[i] == IBV_WR_ATOMIC_FETCH_AND_ADD;

		fill(read ? theirs : mine, len, 500 + i);
		memset(read ? mine : theirs, 0, len);
		ss[i] = (struct ibv_sge){ .addr = (uintptr_t)mine,
					  .length = atomic ? 8 : len,
					  .lkey = a->mr->lkey };
		swr[i] = (struct ibv_send_wr){
			.wr_id = i, .sg_list = &ss[i], .num_sge = 1,
			.opcode = ops[i],
			.next = i + 1 < n ? &swr[i + 1] : NULL };
		if (atomic)
			swr[i].wr.atomic = (typeof(swr[i].wr.atomic)){
				.remote_addr = (uintptr_t)target,
				.compare_add = 2, .rkey = b->mr->rkey };
		else
			swr[i].wr.rdma = (typeof(swr[i].wr.rdma)){
				.remote_addr = (uintptr_t)theirs,
				.rkey = b->mr->rkey };
		if (ops[i] != IBV_WR_SEND)
			continue;
		rs[nrecv] = (struct ibv_sge){ .addr = (uintptr_t)theirs,
					      .length = len,
					      .lkey = b->mr->lkey };
		rwr[nrecv] = (struct ibv_recv_wr){ .wr_id = i,
						   .sg_list = &rs[nrecv],
						   .num_sge = 1 };
		if (nrecv)
			rwr[nrecv - 1].next = &rwr[nrecv];
		nrecv++;
	}
	ASSERT_EQ(0, ibv_post_recv(b->qp, rwr, &rbad));
	ASSERT_EQ(0, ibv_post_send(a->qp, swr, &sbad));
	ASSERT_EQ((int)n, poll_n(a->e.scq, n, wc, 30000))
		TH_LOG("%s", transport_state());
	for (i = 0; i < n; i++) {
		EXPECT_EQ(IBV_WC_SUCCESS, wc[i].status)
			TH_LOG("wqe %u (op %d): %s%s", i, ops[wc[i].wr_id % n],
			       ibv_wc_status_str(wc[i].status),
			       transport_state());
		EXPECT_EQ(i, wc[i].wr_id);
	}
	ASSERT_EQ((int)nrecv, poll_n(b->e.rcq, nrecv, wc, 10000));
	for (i = 0; i < n; i++) {
		const uint8_t *p = ops[i] == IBV_WR_RDMA_READ ?
			a->buf + i * len : b->buf + half + i * len;

		if (ops[i] == IBV_WR_ATOMIC_FETCH_AND_ADD) {
			EXPECT_EQ(40, *(uint64_t *)(a->buf + i * len));
			continue;
		}
		EXPECT_EQ(len, first_diff(p, len, 500 + i))
			TH_LOG("wqe %u (op %d)", i, ops[i]);
	}
	EXPECT_EQ(42, *target);
}

/*
 * SQD: what the requester started finishes, then SQ_DRAINED comes; what
 * it had not started waits, posted, and goes once the QP is back in RTS.
 */
TEST_F(rc, sqd_drains)
{
	struct rc_end *a = &self->a, *b = &self->b;
	/*
	 * 16384 packets of 1 KiB (4096 in the light run): far more than go
	 * before the modify returns, even from the device to itself, where
	 * each costs one copy.
	 */
	const uint32_t n = 8, len = big() / n;
	struct ibv_qp_attr at = { .qp_state = IBV_QPS_SQD,
				  .en_sqd_async_notify = 1 };
	struct ibv_qp_init_attr ia;
	struct ibv_wc wc[8];
	int k, more;
	uint32_t i;

	if (!strcmp(variant->from, RXE_DEV))
		SKIP(return, "the requester is rdma_rxe");
	ASSERT_EQ(0, post_send_batch(self, n, len, 300));
	ASSERT_EQ(0, ibv_modify_qp(a->qp, &at, IBV_QP_STATE |
				   IBV_QP_EN_SQD_ASYNC_NOTIFY));
	ASSERT_TRUE(ibdev_wait_event(a->e.ctx, IBV_EVENT_SQ_DRAINED, 10000));
	ASSERT_EQ(0, ibv_query_qp(a->qp, &at, IBV_QP_STATE, &ia));
	EXPECT_EQ(IBV_QPS_SQD, at.qp_state);
	EXPECT_EQ(0, at.sq_draining);
	/* drained: the first k completed, and nothing more goes */
	k = poll_n(a->e.scq, n, wc, 200);
	ASSERT_LE(0, k);
	ASSERT_GT((int)n, k) TH_LOG("all %u sent before SQD", n);
	for (i = 0; i < (uint32_t)k; i++) {
		EXPECT_EQ(IBV_WC_SUCCESS, wc[i].status);
		EXPECT_EQ(i, wc[i].wr_id);
	}
	EXPECT_EQ(0, poll_n(a->e.scq, 1, wc, 300));
	EXPECT_EQ(k, poll_n(b->e.rcq, n, wc, 300));
	/* back to RTS: the rest goes */
	at.qp_state = IBV_QPS_RTS;
	ASSERT_EQ(0, ibv_modify_qp(a->qp, &at, IBV_QP_STATE));
	more = poll_n(a->e.scq, n - k, wc, 20000);
	ASSERT_EQ((int)n - k, more);
	for (i = 0; i < n - (uint32_t)k; i++) {
		EXPECT_EQ(IBV_WC_SUCCESS, wc[i].status);
		EXPECT_EQ(k + i, wc[i].wr_id);
	}
	ASSERT_EQ((int)n - k, poll_n(b->e.rcq, n - k, wc, 10000));
	for (i = 0; i < n; i++) {
		EXPECT_EQ(len, first_diff(b->buf + i * len, len, 300 + i))
			TH_LOG("message %u", i);
	}
}

/* One atomic; returns the original value the requester got. */
static uint64_t rc_atomic(struct __test_metadata *_metadata,
			  FIXTURE_DATA(rc) *self, enum ibv_wr_opcode op,
			  uint64_t *target, uint64_t cmp_add, uint64_t swap)
{
	struct rc_end *a = &self->a, *b = &self->b;
	uint64_t *res = (uint64_t *)(a->buf + 4096);
	struct ibv_sge ss = { .addr = (uintptr_t)res, .length = 8,
			      .lkey = a->mr->lkey };
	struct ibv_send_wr swr = {
		.wr_id = 77, .sg_list = &ss, .num_sge = 1, .opcode = op,
		.wr.atomic = { .remote_addr = (uintptr_t)target,
			       .compare_add = cmp_add, .swap = swap,
			       .rkey = b->mr->rkey },
	}, *sbad;
	struct ibv_wc wc;

	*res = 0xdeadbeef;
	if (ibv_post_send(a->qp, &swr, &sbad))
		return ~0ull;
	if (poll_n(a->e.scq, 1, &wc, 10000) != 1 ||
	    wc.status != IBV_WC_SUCCESS) {
		TH_LOG("atomic: %s", ibv_wc_status_str(wc.status));
		return ~0ull;
	}
	EXPECT_EQ(op == IBV_WR_ATOMIC_CMP_AND_SWP ? IBV_WC_COMP_SWAP :
		  IBV_WC_FETCH_ADD, wc.opcode);
	return *res;
}

/* FETCH_ADD and CMP_SWAP: the peer's memory and the original value. */
TEST_F(rc, atomics)
{
	uint64_t *t = (uint64_t *)(self->b.buf + 8192);
	int i;

	if (variant->type == IBV_QPT_UC)
		SKIP(return, "UC has no atomics");
	*t = 1000;
	for (i = 0; i < 10; i++)
		EXPECT_EQ(1000 + 7 * i, rc_atomic(_metadata, self,
						  IBV_WR_ATOMIC_FETCH_AND_ADD,
						  t, 7, 0));
	EXPECT_EQ(1070, *t);
	/* a compare that fails leaves it */
	EXPECT_EQ(1070, rc_atomic(_metadata, self, IBV_WR_ATOMIC_CMP_AND_SWP,
				  t, 5, 0x1122334455667788ull));
	EXPECT_EQ(1070, *t);
	EXPECT_EQ(1070, rc_atomic(_metadata, self, IBV_WR_ATOMIC_CMP_AND_SWP,
				  t, 1070, 0x1122334455667788ull));
	EXPECT_EQ(0x1122334455667788ull, *t);
}

/* An RNR NAK holds the send back until a receive is posted. */
TEST_F(rc, rnr_then_receive)
{
	struct rc_end *a = &self->a, *b = &self->b;
	struct ibv_sge ss = { .addr = (uintptr_t)a->buf, .length = 100,
			      .lkey = a->mr->lkey };
	struct ibv_send_wr swr = { .wr_id = 5, .sg_list = &ss, .num_sge = 1,
				   .opcode = IBV_WR_SEND }, *sbad;
	long long rcvd_rnr, sent_rnr;
	struct ibv_wc wc;

	if (variant->type == IBV_QPT_UC)
		SKIP(return, "UC has no RNR");
	rcvd_rnr = hw_counter(variant->from, "rcvd_rnr_err");
	sent_rnr = hw_counter(variant->to, "send_rnr_err");
	fill(a->buf, 100, 5);
	ASSERT_EQ(0, ibv_post_send(a->qp, &swr, &sbad));
	/* no receive yet: nothing completes */
	EXPECT_EQ(0, poll_n(a->e.scq, 1, &wc, 300));
	ASSERT_EQ(0, post_recvs(b->qp, b->mr, 4096, 1, 9));
	ASSERT_EQ(1, poll_n(a->e.scq, 1, &wc, 10000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	ASSERT_EQ(1, poll_n(b->e.rcq, 1, &wc, 10000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	EXPECT_EQ(100, wc.byte_len);
	EXPECT_EQ(100, first_diff(b->buf, 100, 5));
	/* the port counters saw the NAK, on each rxdp end */
	if (strcmp(variant->from, RXE_DEV)) {
		EXPECT_LE(0, rcvd_rnr);
		EXPECT_LT(rcvd_rnr, hw_counter(variant->from, "rcvd_rnr_err"));
	}
	if (strcmp(variant->to, RXE_DEV)) {
		EXPECT_LE(0, sent_rnr);
		EXPECT_LT(sent_rnr, hw_counter(variant->to, "send_rnr_err"));
	}
}

/* With rnr_retry 0, a send that finds no receive fails. */
TEST_F(rc, rnr_retry_exceeded)
{
	struct rc_end *a = &self->a, *b = &self->b;
	struct ibv_sge ss = { .addr = (uintptr_t)a->buf, .length = 10,
			      .lkey = a->mr->lkey };
	struct ibv_send_wr swr = { .wr_id = 6, .sg_list = &ss, .num_sge = 1,
				   .opcode = IBV_WR_SEND }, *sbad;
	struct ibv_qp_attr at = { .qp_state = IBV_QPS_RESET };
	struct ibv_wc wc;

	if (variant->type == IBV_QPT_UC)
		SKIP(return, "UC has no RNR");
	/* again, with rnr_retry 0 on a's side */
	ASSERT_EQ(0, ibv_modify_qp(a->qp, &at, IBV_QP_STATE));
	ASSERT_EQ(0, ibv_modify_qp(b->qp, &at, IBV_QP_STATE));
	ASSERT_EQ(0, rc_connect_one(a, b, 100, 200, variant->mtu, 0));
	ASSERT_EQ(0, rc_connect_one(b, a, 200, 100, variant->mtu, 7));
	ASSERT_EQ(0, ibv_post_send(a->qp, &swr, &sbad));
	ASSERT_EQ(1, poll_n(a->e.scq, 1, &wc, 10000));
	EXPECT_EQ(IBV_WC_RNR_RETRY_EXC_ERR, wc.status)
		TH_LOG("%s", ibv_wc_status_str(wc.status));
	EXPECT_EQ(IBV_QPS_ERR, qp_state(a->qp));
}

/* The peer is gone: retries run out within timeout x (retry_cnt + 1). */
TEST_F(rc, retry_exceeded)
{
	struct rc_end *a = &self->a, *b = &self->b;
	struct ibv_sge ss = { .addr = (uintptr_t)a->buf, .length = 3000,
			      .lkey = a->mr->lkey };
	struct ibv_send_wr swr = { .wr_id = 7, .sg_list = &ss, .num_sge = 1,
				   .opcode = IBV_WR_SEND }, *sbad;
	long long timeouts, exceeded;
	struct ibv_wc wc;
	long t0, dt;

	if (variant->type == IBV_QPT_UC)
		SKIP(return, "UC does not retry");
	/* rxdp's requester's, not rdma_rxe's (which does not give up here) */
	if (!strcmp(variant->from, RXE_DEV))
		SKIP(return, "the requester is rdma_rxe");
	ASSERT_EQ(0, ibv_destroy_qp(b->qp));
	b->qp = NULL;
	timeouts = hw_counter(variant->from, "local_ack_timeout_err");
	exceeded = hw_counter(variant->from, "retry_exceeded_err");
	ASSERT_LE(0, timeouts);
	ASSERT_LE(0, exceeded);
	t0 = now_ms();
	ASSERT_EQ(0, ibv_post_send(a->qp, &swr, &sbad));
	ASSERT_EQ(1, poll_n(a->e.scq, 1, &wc, 20000));
	dt = now_ms() - t0;
	EXPECT_EQ(IBV_WC_RETRY_EXC_ERR, wc.status)
		TH_LOG("%s", ibv_wc_status_str(wc.status));
	/* the timeout x 8, and what the timer wheel and TCG add */
	EXPECT_LE(dt, 3000 * test_timeout_scale()) TH_LOG("%ld ms", dt);
	EXPECT_GE(dt, 100) TH_LOG("%ld ms", dt);
	EXPECT_EQ(IBV_QPS_ERR, qp_state(a->qp));
	/* each retry was a timeout; the last one failed the WQE */
	EXPECT_LE(timeouts + 2,
		  hw_counter(variant->from, "local_ack_timeout_err"));
	EXPECT_EQ(exceeded + 1,
		  hw_counter(variant->from, "retry_exceeded_err"));
}

/* A WRITE with a key the peer does not have: a remote access error. */
TEST_F(rc, write_bad_rkey)
{
	struct rc_end *a = &self->a, *b = &self->b;
	struct ibv_sge ss = { .addr = (uintptr_t)a->buf, .length = 64,
			      .lkey = a->mr->lkey };
	struct ibv_send_wr swr = {
		.wr_id = 8, .sg_list = &ss, .num_sge = 1,
		.opcode = IBV_WR_RDMA_WRITE,
		.wr.rdma = { .remote_addr = (uintptr_t)b->buf,
			     .rkey = b->mr->rkey ^ 0x5a },
	}, *sbad;
	struct ibv_wc wc;

	if (variant->type == IBV_QPT_UC)
		SKIP(return, "UC has no NAKs");
	ASSERT_EQ(0, ibv_post_send(a->qp, &swr, &sbad));
	ASSERT_EQ(1, poll_n(a->e.scq, 1, &wc, 10000));
	EXPECT_EQ(IBV_WC_REM_ACCESS_ERR, wc.status)
		TH_LOG("%s", ibv_wc_status_str(wc.status));
	EXPECT_EQ(IBV_QPS_ERR, qp_state(a->qp));
	/* the responder went to the error state too */
	EXPECT_TRUE(WAIT_FOR(qp_state(b->qp) == IBV_QPS_ERR, 2000));
}

/* ---- remote access: memory windows, keys refused, ATOMIC WRITE -------- */

/* Reset both QPs and connect them again: after an error, a fresh start. */
static int rc_reconnect(FIXTURE_DATA(rc) *self,
			const FIXTURE_VARIANT(rc) *variant)
{
	struct ibv_qp_attr at = { .qp_state = IBV_QPS_RESET };

	if (ibv_modify_qp(self->a.qp, &at, IBV_QP_STATE) ||
	    ibv_modify_qp(self->b.qp, &at, IBV_QP_STATE))
		return -1;
	return rc_connect(&self->a, &self->b, variant->psn, variant->psn + 7,
			  variant->mtu);
}

/*
 * a does op of len bytes between its buffer and b's memory at raddr by
 * rkey; return: its completion's status (IBV_WC_GENERAL_ERR if none).
 */
static enum ibv_wc_status rc_remote(struct rc_end *a, enum ibv_wr_opcode op,
				    uint64_t raddr, uint32_t rkey,
				    uint32_t len)
{
	struct ibv_sge ss = { .addr = (uintptr_t)a->buf, .length = len,
			      .lkey = a->mr->lkey };
	struct ibv_send_wr swr = {
		.wr_id = 31, .sg_list = &ss, .num_sge = 1, .opcode = op,
	}, *sbad;
	struct ibv_wc wc;

	if (op == IBV_WR_ATOMIC_FETCH_AND_ADD) {
		swr.wr.atomic.remote_addr = raddr;
		swr.wr.atomic.rkey = rkey;
		swr.wr.atomic.compare_add = 1;
	} else {
		swr.wr.rdma.remote_addr = raddr;
		swr.wr.rdma.rkey = rkey;
	}
	if (ibv_post_send(a->qp, &swr, &sbad) ||
	    poll_n(a->e.scq, 1, &wc, 10000 * test_timeout_scale()) != 1)
		return IBV_WC_GENERAL_ERR;
	return wc.status;
}

/* b binds a type 2 window over [addr, addr + len) of mr; its new key. */
static uint32_t rc_bind_mw2(struct __test_metadata *_metadata,
			    struct rc_end *b, struct ibv_mw *mw,
			    struct ibv_mr *mr, void *addr, uint64_t len,
			    int access)
{
	struct ibv_send_wr wr = {
		.wr_id = 41, .opcode = IBV_WR_BIND_MW,
		.send_flags = IBV_SEND_SIGNALED,
		.bind_mw = { .mw = mw, .rkey = ibv_inc_rkey(mw->rkey),
			     .bind_info = { .mr = mr,
					    .addr = (uintptr_t)addr,
					    .length = len,
					    .mw_access_flags = access } },
	}, *bad;
	struct ibv_wc wc;

	EXPECT_NE(mw->rkey, wr.bind_mw.rkey);
	EXPECT_EQ(mw->rkey >> 8, wr.bind_mw.rkey >> 8);
	if (ibv_post_send(b->qp, &wr, &bad) ||
	    poll_n(b->e.scq, 1, &wc, 10000) != 1) {
		TH_LOG("bind: no completion");
		return 0;
	}
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status)
		TH_LOG("bind: %s", ibv_wc_status_str(wc.status));
	EXPECT_EQ(IBV_WC_BIND_MW, wc.opcode);
	mw->rkey = wr.bind_mw.rkey;
	return wc.status == IBV_WC_SUCCESS ? mw->rkey : 0;
}

/*
 * Windows of both types over an MR that allows no remote access of its
 * own: the peer writes and reads through each window's key, exactly its
 * range; a type 2 window is invalidated by the peer's SEND with
 * Invalidate and by LOCAL_INV, bound again under a new key each time, and
 * the key it had then reaches nothing.  An MR with a window bound is not
 * deregistered.
 */
TEST_F(rc, memory_windows)
{
	struct rc_end *a = &self->a, *b = &self->b;
	uint8_t *wbuf = b->buf + 65536;
	struct ibv_mw *mw1, *mw2;
	struct ibv_mw_bind bind = {
		.wr_id = 40, .send_flags = IBV_SEND_SIGNALED,
		.bind_info = { .addr = (uintptr_t)wbuf, .length = 8192,
			       .mw_access_flags = IBV_ACCESS_REMOTE_WRITE |
						  IBV_ACCESS_REMOTE_READ },
	};
	struct ibv_send_wr inv = {
		.wr_id = 42, .opcode = IBV_WR_SEND_WITH_INV,
		.send_flags = IBV_SEND_SIGNALED,
	}, *sbad;
	struct ibv_mr *mr;
	struct ibv_wc wc;
	uint32_t key, old;

	if (variant->type == IBV_QPT_UC)
		SKIP(return, "UC has no NAKs nor SEND with Invalidate");
	mr = ibv_reg_mr(b->e.pd, wbuf, 65536,
			IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_MW_BIND);
	ASSERT_NE(NULL, mr) TH_LOG("reg MR with MW_BIND: %s", strerror(errno));
	mw1 = ibv_alloc_mw(b->e.pd, IBV_MW_TYPE_1);
	mw2 = ibv_alloc_mw(b->e.pd, IBV_MW_TYPE_2);
	ASSERT_NE(NULL, mw1);
	ASSERT_NE(NULL, mw2);

	/* type 1, bound with ibv_bind_mw() */
	bind.bind_info.mr = mr;
	ASSERT_EQ(0, ibv_bind_mw(b->qp, mw1, &bind));
	ASSERT_EQ(1, poll_n(b->e.scq, 1, &wc, 10000));
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status) TH_LOG("%s",
						   ibv_wc_status_str(wc.status));
	EXPECT_EQ(IBV_WC_BIND_MW, wc.opcode);
	fill(a->buf, 3000, 1);
	ASSERT_EQ(IBV_WC_SUCCESS, rc_remote(a, IBV_WR_RDMA_WRITE,
					    (uintptr_t)wbuf + 5000,
					    mw1->rkey, 3000));
	EXPECT_EQ(3000, first_diff(wbuf + 5000, 3000, 1));
	memset(a->buf, 0, 3000);
	ASSERT_EQ(IBV_WC_SUCCESS, rc_remote(a, IBV_WR_RDMA_READ,
					    (uintptr_t)wbuf + 5000,
					    mw1->rkey, 3000));
	EXPECT_EQ(3000, first_diff(a->buf, 3000, 1));
	/* bound: the MR stays */
	EXPECT_NE(0, ibv_dereg_mr(mr));

	/* type 2, bound by a work request; the peer invalidates it */
	key = rc_bind_mw2(_metadata, b, mw2, mr, wbuf, 4096,
			  IBV_ACCESS_REMOTE_WRITE);
	ASSERT_NE(0, key);
	fill(a->buf, 4096, 2);
	ASSERT_EQ(IBV_WC_SUCCESS, rc_remote(a, IBV_WR_RDMA_WRITE,
					    (uintptr_t)wbuf, key, 4096));
	EXPECT_EQ(4096, first_diff(wbuf, 4096, 2));
	ASSERT_EQ(0, post_recvs(b->qp, b->mr, 64, 1, 43));
	inv.invalidate_rkey = key;
	ASSERT_EQ(0, ibv_post_send(a->qp, &inv, &sbad));
	ASSERT_EQ(1, poll_n(a->e.scq, 1, &wc, 10000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status) TH_LOG("%s",
						   ibv_wc_status_str(wc.status));
	ASSERT_EQ(1, poll_n(b->e.rcq, 1, &wc, 10000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
	/* rdma_rxe sets the kernel's flag, which is IBV_WC_IP_CSUM_OK */
	if (strcmp(variant->to, RXE_DEV)) {
		EXPECT_TRUE(wc.wc_flags & IBV_WC_WITH_INV);
	}
	EXPECT_EQ(key, wc.invalidated_rkey);

	/* bound again under a new key; LOCAL_INV ends it */
	old = key;
	key = rc_bind_mw2(_metadata, b, mw2, mr, wbuf + 4096, 4096,
			  IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ);
	ASSERT_NE(0, key);
	EXPECT_NE(old, key);
	ASSERT_EQ(IBV_WC_SUCCESS, rc_remote(a, IBV_WR_RDMA_READ,
					    (uintptr_t)wbuf + 4096, key,
					    4096));
	inv.opcode = IBV_WR_LOCAL_INV;
	inv.invalidate_rkey = key;
	ASSERT_EQ(0, ibv_post_send(b->qp, &inv, &sbad));
	ASSERT_EQ(1, poll_n(b->e.scq, 1, &wc, 10000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc.status) TH_LOG("%s",
						   ibv_wc_status_str(wc.status));
	EXPECT_EQ(IBV_WC_LOCAL_INV, wc.opcode);

	/* the key it had reaches nothing */
	EXPECT_EQ(IBV_WC_REM_ACCESS_ERR,
		  rc_remote(a, IBV_WR_RDMA_WRITE, (uintptr_t)wbuf + 4096, key,
			    64));
	EXPECT_EQ(IBV_QPS_ERR, qp_state(a->qp));
	EXPECT_TRUE(WAIT_FOR(qp_state(b->qp) == IBV_QPS_ERR, 2000));
	EXPECT_EQ(0, ibv_dealloc_mw(mw2));
	EXPECT_EQ(0, ibv_dealloc_mw(mw1));
	EXPECT_EQ(0, ibv_dereg_mr(mr));
}

/*
 * Every way a remote access is refused: the requester's WQE completes
 * with a remote access error, and both QPs go to the error state.
 */
TEST_F(rc, remote_access_refused)
{
	struct rc_end *a = &self->a, *b = &self->b;
	enum { WRONG_KEY, OTHER_PD, PAST_END, NO_WRITE, NO_READ, NO_ATOMIC,
	       MW_NO_WRITE, MW_PAST_END, MW_INVALID, MW_GONE, NCASES };
	static const char *const names[NCASES] = {
		"wrong key", "MR of another PD", "past the MR's end",
		"MR without remote write", "MR without remote read",
		"MR without remote atomic", "window without remote write",
		"past the window's end", "window invalidated",
		"window deallocated",
	};
	uint8_t *rbuf = b->buf + 131072;
	struct ibv_mr *ro, *wo, *bindable, *other;
	struct ibv_pd *pd2;
	int i;

	if (variant->type == IBV_QPT_UC)
		SKIP(return, "UC has no NAKs");
	pd2 = ibv_alloc_pd(b->e.ctx);
	ASSERT_NE(NULL, pd2);
	other = ibv_reg_mr(pd2, rbuf, 8192, IBV_ACCESS_LOCAL_WRITE |
			   IBV_ACCESS_REMOTE_WRITE);
	ro = ibv_reg_mr(b->e.pd, rbuf, 8192, IBV_ACCESS_REMOTE_READ);
	wo = ibv_reg_mr(b->e.pd, rbuf, 8192, IBV_ACCESS_LOCAL_WRITE |
			IBV_ACCESS_REMOTE_WRITE);
	bindable = ibv_reg_mr(b->e.pd, rbuf, 8192, IBV_ACCESS_LOCAL_WRITE |
			      IBV_ACCESS_MW_BIND);
	ASSERT_NE(NULL, other);
	ASSERT_NE(NULL, ro);
	ASSERT_NE(NULL, wo);
	ASSERT_NE(NULL, bindable);

	for (i = 0; i < NCASES; i++) {
		enum ibv_wr_opcode op = IBV_WR_RDMA_WRITE;
		uint64_t addr = (uintptr_t)rbuf;
		struct ibv_mw *mw = NULL;
		uint32_t key = 0;

		ASSERT_EQ(0, rc_reconnect(self, variant)) TH_LOG("%s",
								names[i]);
		if (i >= MW_NO_WRITE) {
			mw = ibv_alloc_mw(b->e.pd, IBV_MW_TYPE_2);
			ASSERT_NE(NULL, mw);
			key = rc_bind_mw2(_metadata, b, mw, bindable, rbuf,
					  4096, i == MW_NO_WRITE ?
					  IBV_ACCESS_REMOTE_READ :
					  IBV_ACCESS_REMOTE_WRITE);
			ASSERT_NE(0, key) TH_LOG("%s", names[i]);
		}
		switch (i) {
		case WRONG_KEY:
			key = wo->rkey ^ 0x01;
			break;
		case OTHER_PD:
			key = other->rkey;
			break;
		case PAST_END:
			key = wo->rkey;
			addr += 8192 - 32;
			break;
		case NO_WRITE:
			key = ro->rkey;
			break;
		case NO_READ:
			key = wo->rkey;
			op = IBV_WR_RDMA_READ;
			break;
		case NO_ATOMIC:
			key = wo->rkey;
			op = IBV_WR_ATOMIC_FETCH_AND_ADD;
			break;
		case MW_PAST_END:
			/* rdma_rxe checks the MR's bounds, not the window's */
			if (!strcmp(variant->to, RXE_DEV)) {
				ibv_dealloc_mw(mw);
				continue;
			}
			addr += 4096 - 32;
			break;
		case MW_INVALID: {
			struct ibv_send_wr inv = {
				.opcode = IBV_WR_LOCAL_INV,
				.send_flags = IBV_SEND_SIGNALED,
				.invalidate_rkey = key,
			}, *bad;
			struct ibv_wc wc;

			ASSERT_EQ(0, ibv_post_send(b->qp, &inv, &bad));
			ASSERT_EQ(1, poll_n(b->e.scq, 1, &wc, 10000));
			ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
			break;
		}
		case MW_GONE:
			ASSERT_EQ(0, ibv_dealloc_mw(mw));
			mw = NULL;
			break;
		}
		EXPECT_EQ(IBV_WC_REM_ACCESS_ERR,
			  rc_remote(a, op, addr, key, 64))
			TH_LOG("%s", names[i]);
		EXPECT_EQ(IBV_QPS_ERR, qp_state(a->qp)) TH_LOG("%s", names[i]);
		EXPECT_TRUE(WAIT_FOR(qp_state(b->qp) == IBV_QPS_ERR, 2000))
			TH_LOG("%s: the responder", names[i]);
		if (mw)
			EXPECT_EQ(0, ibv_dealloc_mw(mw));
	}
	EXPECT_EQ(0, ibv_dereg_mr(bindable));
	EXPECT_EQ(0, ibv_dereg_mr(wo));
	EXPECT_EQ(0, ibv_dereg_mr(ro));
	EXPECT_EQ(0, ibv_dereg_mr(other));
	EXPECT_EQ(0, ibv_dealloc_pd(pd2));
}

/*
 * Every way an invalidation or a bind is refused.  By the peer's SEND with
 * Invalidate: a key that names nothing, a type 1 window, a type 2 window
 * bound through another QP; the sender's WQE completes with an invalid
 * request error and both QPs go to ERR.  A type 2 window bound through
 * another QP does not let the peer in.  Locally: a LOCAL_INV of a type 1
 * window, and a bind over an MR without MW_BIND, complete in error and
 * the QP goes to ERR.
 */
TEST_F(rc, invalidate_and_bind_refused)
{
	struct rc_end *a = &self->a, *b = &self->b, b2;
	enum { INV_NOTHING, INV_TYPE1, INV_OTHER_QP, WRITE_OTHER_QP,
	       LOCAL_INV_TYPE1, BIND_NO_MW_BIND, NCASES };
	static const char *const names[NCASES] = {
		"SEND with Invalidate of no key",
		"SEND with Invalidate of a type 1 window",
		"SEND with Invalidate of another QP's window",
		"WRITE through another QP's window",
		"LOCAL_INV of a type 1 window",
		"bind over an MR without MW_BIND",
	};
	struct ibv_qp_init_attr ia = {
		.qp_type = IBV_QPT_RC, .sq_sig_all = 1,
		.send_cq = b->e.scq, .recv_cq = b->e.rcq,
		.cap = { .max_send_wr = 8, .max_recv_wr = 8,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	uint8_t *wbuf = b->buf + 65536;
	struct ibv_mr *mr, *plain;
	int i;

	if (variant->type == IBV_QPT_UC)
		SKIP(return, "UC has no NAKs nor SEND with Invalidate");
	/*
	 * rdma_rxe of 6.12 acknowledges a SEND with Invalidate before it
	 * tries the invalidation (the sender sees success), and completes a
	 * refused LOCAL_INV or bind as flushed.
	 */
	if (!strcmp(variant->to, RXE_DEV))
		SKIP(return, "rdma_rxe reports these refusals otherwise");
	mr = ibv_reg_mr(b->e.pd, wbuf, 65536,
			IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_MW_BIND);
	plain = ibv_reg_mr(b->e.pd, wbuf, 65536, IBV_ACCESS_LOCAL_WRITE |
			   IBV_ACCESS_REMOTE_WRITE);
	ASSERT_NE(NULL, mr);
	ASSERT_NE(NULL, plain);
	/* a second QP of b's, which binds windows of its own */
	b2 = *b;
	b2.qp = qp_create_attr(b->e.pd, &ia);
	ASSERT_NE(NULL, b2.qp);
	ASSERT_EQ(0, rc_connect_one(&b2, a, 0x100, 0x200, variant->mtu, 7));

	for (i = 0; i < NCASES; i++) {
		struct ibv_send_wr wr = {
			.wr_id = 60 + i, .opcode = IBV_WR_SEND_WITH_INV,
			.send_flags = IBV_SEND_SIGNALED,
		}, *bad;
		struct ibv_mw_bind bind = {
			.wr_id = 40, .send_flags = IBV_SEND_SIGNALED,
			.bind_info = { .mr = mr, .addr = (uintptr_t)wbuf,
				       .length = 4096,
				       .mw_access_flags =
						IBV_ACCESS_REMOTE_WRITE },
		};
		struct ibv_mw *mw = NULL;
		struct ibv_qp *local = NULL;
		enum ibv_wc_status want = IBV_WC_REM_INV_REQ_ERR;
		struct ibv_wc wc;

		ASSERT_EQ(0, rc_reconnect(self, variant)) TH_LOG("%s",
								names[i]);
		while (ibv_poll_cq(b->e.rcq, 1, &wc) > 0)
			;	/* the flushed receive of the case before */
		ASSERT_EQ(0, post_recvs(b->qp, b->mr, 64, 1, 43));
		switch (i) {
		case INV_NOTHING:
			wr.invalidate_rkey = 0x00fffe00 | 0x5a;
			break;
		case INV_TYPE1:
		case LOCAL_INV_TYPE1:
			mw = ibv_alloc_mw(b->e.pd, IBV_MW_TYPE_1);
			ASSERT_NE(NULL, mw);
			ASSERT_EQ(0, ibv_bind_mw(b->qp, mw, &bind));
			ASSERT_EQ(1, poll_n(b->e.scq, 1, &wc, 10000));
			ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
			wr.invalidate_rkey = mw->rkey;
			if (i == LOCAL_INV_TYPE1) {
				wr.opcode = IBV_WR_LOCAL_INV;
				local = b->qp;
				want = IBV_WC_LOC_QP_OP_ERR;
			}
			break;
		case INV_OTHER_QP:
		case WRITE_OTHER_QP:
			mw = ibv_alloc_mw(b->e.pd, IBV_MW_TYPE_2);
			ASSERT_NE(NULL, mw);
			wr.invalidate_rkey = rc_bind_mw2(_metadata, &b2, mw,
							 mr, wbuf, 4096,
							 IBV_ACCESS_REMOTE_WRITE);
			ASSERT_NE(0, wr.invalidate_rkey);
			if (i == WRITE_OTHER_QP) {
				EXPECT_EQ(IBV_WC_REM_ACCESS_ERR,
					  rc_remote(a, IBV_WR_RDMA_WRITE,
						    (uintptr_t)wbuf,
						    mw->rkey, 64));
				EXPECT_EQ(IBV_QPS_ERR, qp_state(a->qp));
				EXPECT_TRUE(WAIT_FOR(qp_state(b->qp) ==
						     IBV_QPS_ERR, 2000));
				EXPECT_EQ(0, ibv_dealloc_mw(mw));
				continue;
			}
			break;
		case BIND_NO_MW_BIND:
			mw = ibv_alloc_mw(b->e.pd, IBV_MW_TYPE_2);
			ASSERT_NE(NULL, mw);
			wr.opcode = IBV_WR_BIND_MW;
			wr.bind_mw.mw = mw;
			wr.bind_mw.rkey = ibv_inc_rkey(mw->rkey);
			wr.bind_mw.bind_info = bind.bind_info;
			wr.bind_mw.bind_info.mr = plain;
			local = b->qp;
			want = IBV_WC_MW_BIND_ERR;
			break;
		}
		if (local) {
			ASSERT_EQ(0, ibv_post_send(local, &wr, &bad));
			ASSERT_EQ(1, poll_n(b->e.scq, 1, &wc, 10000));
			EXPECT_EQ(want, wc.status) TH_LOG("%s: %s", names[i],
					ibv_wc_status_str(wc.status));
			EXPECT_TRUE(WAIT_FOR(qp_state(b->qp) == IBV_QPS_ERR,
					     2000)) TH_LOG("%s", names[i]);
		} else {
			ASSERT_EQ(0, ibv_post_send(a->qp, &wr, &bad));
			ASSERT_EQ(1, poll_n(a->e.scq, 1, &wc, 10000));
			EXPECT_EQ(want, wc.status) TH_LOG("%s: %s", names[i],
					ibv_wc_status_str(wc.status));
			EXPECT_EQ(IBV_QPS_ERR, qp_state(a->qp))
				TH_LOG("%s", names[i]);
			EXPECT_TRUE(WAIT_FOR(qp_state(b->qp) == IBV_QPS_ERR,
					     2000))
				TH_LOG("%s: the responder", names[i]);
		}
		/* the receiver's WQE is flushed, or completes in error */
		EXPECT_EQ(1, poll_n(b->e.rcq, 1, &wc, 10000))
			TH_LOG("%s", names[i]);
		EXPECT_NE(IBV_WC_SUCCESS, wc.status) TH_LOG("%s", names[i]);
		if (mw)
			EXPECT_EQ(0, ibv_dealloc_mw(mw));
	}
	EXPECT_EQ(0, ibv_destroy_qp(b2.qp));
	EXPECT_EQ(0, ibv_dereg_mr(plain));
	EXPECT_EQ(0, ibv_dereg_mr(mr));
}

/*
 * ibv_rereg_mr() through the uverbs command itself: the rxe provider does
 * not implement it, so libibverbs refuses it before the kernel sees it.
 * The MR's keys are the kernel's answer.  Return: 0 or an errno.
 */
static int rereg_mr_cmd(struct ibv_mr *mr, int flags, void *addr,
			size_t len, struct ibv_pd *pd, int access)
{
	struct ib_uverbs_rereg_mr_resp resp = {};
	struct {
		struct ib_uverbs_cmd_hdr hdr;
		struct ib_uverbs_rereg_mr cmd;
	} req = {
		.hdr = { .command = IB_USER_VERBS_CMD_REREG_MR,
			 .in_words = sizeof(req) / 4,
			 .out_words = sizeof(resp) / 4 },
		.cmd = { .response = (uintptr_t)&resp,
			 .mr_handle = mr->handle, .flags = flags,
			 .start = (uintptr_t)addr, .length = len,
			 .hca_va = (uintptr_t)addr,
			 .pd_handle = pd ? pd->handle : 0,
			 .access_flags = access },
	};

	if (write(mr->context->cmd_fd, &req, sizeof(req)) != sizeof(req))
		return errno;
	mr->lkey = resp.lkey;
	mr->rkey = resp.rkey;
	if (flags & IBV_REREG_MR_CHANGE_TRANSLATION) {
		mr->addr = addr;
		mr->length = len;
	}
	if (flags & IBV_REREG_MR_CHANGE_PD)
		mr->pd = pd;
	return 0;
}

/*
 * rereg_mr (which rdma_rxe lacks): access, PD and translation change, and
 * what the MR's key reaches follows each change, with traffic after it.
 */
TEST_F(rc, rereg_mr)
{
	struct rc_end *a = &self->a, *b = &self->b;
	const int rw = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE;
	uint8_t *p1 = b->buf + 262144, *p2 = b->buf + 524288;
	struct ibv_pd *pd2;
	struct ibv_mr *mr;

	if (variant->type == IBV_QPT_UC)
		SKIP(return, "UC has no NAKs");
	if (!strcmp(variant->to, RXE_DEV))
		SKIP(return, "rdma_rxe has no rereg_mr");
	mr = ibv_reg_mr(b->e.pd, p1, 8192, rw);
	pd2 = ibv_alloc_pd(b->e.ctx);
	ASSERT_NE(NULL, mr);
	ASSERT_NE(NULL, pd2);
	fill(a->buf, 4096, 7);
	ASSERT_EQ(IBV_WC_SUCCESS, rc_remote(a, IBV_WR_RDMA_WRITE,
					    (uintptr_t)p1, mr->rkey, 4096));

	/* without remote write: refused */
	ASSERT_EQ(0, rereg_mr_cmd(mr, IBV_REREG_MR_CHANGE_ACCESS, NULL, 0,
				  NULL, IBV_ACCESS_REMOTE_READ));
	EXPECT_EQ(IBV_WC_REM_ACCESS_ERR,
		  rc_remote(a, IBV_WR_RDMA_WRITE, (uintptr_t)p1, mr->rkey, 64));
	ASSERT_EQ(0, rc_reconnect(self, variant));
	/* and back: allowed again */
	ASSERT_EQ(0, rereg_mr_cmd(mr, IBV_REREG_MR_CHANGE_ACCESS, NULL, 0,
				  NULL, rw));
	EXPECT_EQ(IBV_WC_SUCCESS, rc_remote(a, IBV_WR_RDMA_WRITE,
					    (uintptr_t)p1, mr->rkey, 64));

	/* into another PD: refused; back: allowed */
	ASSERT_EQ(0, rereg_mr_cmd(mr, IBV_REREG_MR_CHANGE_PD, NULL, 0, pd2,
				  0));
	EXPECT_EQ(IBV_WC_REM_ACCESS_ERR,
		  rc_remote(a, IBV_WR_RDMA_WRITE, (uintptr_t)p1, mr->rkey, 64));
	ASSERT_EQ(0, rc_reconnect(self, variant));
	ASSERT_EQ(0, rereg_mr_cmd(mr, IBV_REREG_MR_CHANGE_PD, NULL, 0,
				  b->e.pd, 0));
	EXPECT_EQ(IBV_WC_SUCCESS, rc_remote(a, IBV_WR_RDMA_WRITE,
					    (uintptr_t)p1, mr->rkey, 64));

	/* other memory: the new key writes there, the old range is gone */
	memset(p2, 0, 8192);
	ASSERT_EQ(0, rereg_mr_cmd(mr, IBV_REREG_MR_CHANGE_TRANSLATION, p2,
				  4096, NULL, 0));
	fill(a->buf, 4096, 8);
	EXPECT_EQ(IBV_WC_SUCCESS, rc_remote(a, IBV_WR_RDMA_WRITE,
					    (uintptr_t)p2, mr->rkey, 4096));
	EXPECT_EQ(4096, first_diff(p2, 4096, 8));
	EXPECT_EQ(0, p2[4096]);
	EXPECT_EQ(IBV_WC_REM_ACCESS_ERR,
		  rc_remote(a, IBV_WR_RDMA_WRITE, (uintptr_t)p1, mr->rkey, 64));
	EXPECT_EQ(0, ibv_dereg_mr(mr));
	EXPECT_EQ(0, ibv_dealloc_pd(pd2));
}

/*
 * ATOMIC WRITE (ibv_wr_atomic_write()): the 8 bytes land at once, and a
 * misaligned one is refused before it leaves.
 */
TEST_F(rc, atomic_write)
{
	struct rc_end *a = &self->a, *b = &self->b;
	struct ibv_qp_init_attr_ex ia = {
		.qp_type = IBV_QPT_RC, .sq_sig_all = 1,
		.send_cq = a->e.scq, .recv_cq = a->e.rcq, .pd = a->e.pd,
		.cap = { .max_send_wr = 16, .max_recv_wr = 16,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.comp_mask = IBV_QP_INIT_ATTR_PD |
			     IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
		.send_ops_flags = IBV_QP_EX_WITH_ATOMIC_WRITE,
	};
	uint64_t *t = (uint64_t *)(b->buf + 16384);
	struct ibv_qp_ex *qx;
	struct ibv_qp *qp;
	struct ibv_wc wc;
	int i;

	if (variant->type == IBV_QPT_UC)
		SKIP(return, "UC has no ATOMIC WRITE");
	qp = ibv_create_qp_ex(a->e.ctx, &ia);
	ASSERT_NE(NULL, qp) TH_LOG("%s", strerror(errno));
	ibv_destroy_qp(a->qp);
	a->qp = qp;
	ASSERT_EQ(0, rc_reconnect(self, variant));
	qx = ibv_qp_to_qp_ex(qp);
	for (i = 0; i < 8; i++) {
		uint64_t v = 0x0102030405060708ull * (i + 1);

		t[0] = ~0ull;
		t[1] = ~0ull;
		ibv_wr_start(qx);
		qx->wr_id = 50 + i;
		qx->wr_flags = IBV_SEND_SIGNALED;
		ibv_wr_atomic_write(qx, b->mr->rkey, (uintptr_t)t, &v);
		ASSERT_EQ(0, ibv_wr_complete(qx));
		ASSERT_EQ(1, poll_n(a->e.scq, 1, &wc, 10000));
		ASSERT_EQ(IBV_WC_SUCCESS, wc.status)
			TH_LOG("%s", ibv_wc_status_str(wc.status));
		EXPECT_EQ(50 + i, wc.wr_id);
		EXPECT_EQ(IBV_WC_ATOMIC_WRITE, wc.opcode);
		EXPECT_EQ(v, *t);
		EXPECT_EQ(~0ull, t[1]);
	}
	/* by a key without remote write: refused by the peer */
	{
		struct ibv_mr *ro = ibv_reg_mr(b->e.pd, b->buf + 20480, 4096,
					       IBV_ACCESS_REMOTE_READ);
		uint64_t v = 1;

		ASSERT_NE(NULL, ro);
		ibv_wr_start(qx);
		qx->wr_id = 60;
		ibv_wr_atomic_write(qx, ro->rkey, (uintptr_t)b->buf + 20480,
				    &v);
		ASSERT_EQ(0, ibv_wr_complete(qx));
		ASSERT_EQ(1, poll_n(a->e.scq, 1, &wc, 10000));
		EXPECT_EQ(IBV_WC_REM_ACCESS_ERR, wc.status)
			TH_LOG("%s", ibv_wc_status_str(wc.status));
		EXPECT_EQ(0, ibv_dereg_mr(ro));
	}
}

/* the send ring of the FLUSH test's requester QP: a mask no other ring has */
#define FLUSH_SQ_WR	200
#define FLUSH_SQ_MASK	255u

/* a FLUSH from a; its completion's status (IBV_WC_GENERAL_ERR if none) */
static enum ibv_wc_status rc_do_flush(struct rc_end *a, uint64_t wr_id,
				      uint32_t rkey, uint64_t addr,
				      uint32_t len, uint8_t type,
				      uint8_t level, struct ibv_wc *wc)
{
	wc->opcode = 0xff;
	if (uverbs_post_flush(a->qp, FLUSH_SQ_MASK, wr_id, rkey, addr, len,
			      type, level) ||
	    poll_n(a->e.scq, 1, wc, 10000 * test_timeout_scale()) != 1)
		return IBV_WC_GENERAL_ERR;
	return wc->status;
}

/* The QP of b may take FLUSHes too (and what else rc_connect() gave it). */
static int rc_allow_flush(struct rc_end *b)
{
	struct ibv_qp_attr at = {
		.qp_access_flags = IBV_ACCESS_LOCAL_WRITE |
				   IBV_ACCESS_REMOTE_WRITE |
				   IBV_ACCESS_REMOTE_READ |
				   IBV_ACCESS_REMOTE_ATOMIC |
				   ACCESS_FLUSH_GLOBAL |
				   ACCESS_FLUSH_PERSISTENT,
	};

	return ibv_modify_qp(b->qp, &at, IBV_QP_ACCESS_FLAGS);
}

/*
 * The requester QP of a FLUSH test: one with the send ring FLUSH_SQ_MASK
 * names, connected again, its peer's QP allowing FLUSHes.
 */
static int rc_flush_qps(FIXTURE_DATA(rc) *self,
			const FIXTURE_VARIANT(rc) *variant)
{
	struct ibv_qp_init_attr ia = {
		.qp_type = IBV_QPT_RC, .sq_sig_all = 1,
		.send_cq = self->a.e.scq, .recv_cq = self->a.e.rcq,
		.cap = { .max_send_wr = FLUSH_SQ_WR, .max_recv_wr = 1,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};

	ibv_destroy_qp(self->a.qp);
	self->a.qp = qp_create_attr(self->a.e.pd, &ia);
	if (!self->a.qp)
		return errno;
	return rc_reconnect(self, variant) ?: rc_allow_flush(&self->b);
}

/*
 * FLUSH (IBA A19.4), as rdma-core 45's ibv_wr_flush() posts it: posted
 * behind a WRITE, it completes after it, and the data are there, for a
 * range and for the whole MR; and each refusal: the MR or the QP without
 * the placement's access, persistence of ordinary memory, a range past
 * the MR, a placement type that is none (refused by the requester, or by
 * the responder when rdma_rxe sends it).
 */
TEST_F(rc, flush)
{
	struct rc_end *a = &self->a, *b = &self->b;
	bool rxe_resp = !strcmp(variant->to, RXE_DEV);
	enum { MR_NO_FLUSH, QP_NO_FLUSH, NOT_PERSISTENT, MR_NOT_PERSISTENT,
	       PAST_END, NO_TYPE, LEVEL, NCASES };
	static const char *const names[NCASES] = {
		"MR without FLUSH_GLOBAL", "QP without FLUSH_GLOBAL",
		"persistence of an MR without it",
		"persistence of all of an MR without it", "past the MR's end",
		"no placement type", "a selectivity level past the MR",
	};
	uint8_t *fbuf = b->buf + 65536;
	struct ibv_device_attr_ex dx;
	struct ibv_mr *fm;
	struct ibv_wc wc;
	int i;

	if (variant->type == IBV_QPT_UC)
		SKIP(return, "UC has no FLUSH");
	/*
	 * rdma_rxe of 6.12 sums a FLUSH's headers twice into its ICRC: rxdp
	 * takes that from it, but it drops a FLUSH with the IBA's ICRC.
	 */
	if (rxe_resp)
		SKIP(return, "rdma_rxe drops FLUSHes with the right ICRC");
	ASSERT_EQ(0, ibv_query_device_ex(b->e.ctx, NULL, &dx));
	EXPECT_TRUE(dx.device_cap_flags_ex & (1ull << 38));	/* GLOBAL */
	EXPECT_TRUE(dx.device_cap_flags_ex & (1ull << 39));	/* PERSISTENT */
	/* persistence needs persistent memory, which this is not */
	fm = ibv_reg_mr(b->e.pd, fbuf, 16384, IBV_ACCESS_LOCAL_WRITE |
			IBV_ACCESS_REMOTE_WRITE | ACCESS_FLUSH_PERSISTENT);
	EXPECT_EQ(NULL, fm);
	EXPECT_EQ(EINVAL, errno);
	if (fm)
		ibv_dereg_mr(fm);
	fm = ibv_reg_mr(b->e.pd, fbuf, 16384, IBV_ACCESS_LOCAL_WRITE |
			IBV_ACCESS_REMOTE_WRITE | ACCESS_FLUSH_GLOBAL);
	ASSERT_NE(NULL, fm) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, rc_flush_qps(self, variant));

	for (i = 0; i < 4; i++) {
		uint32_t off = 1000 * i, len = 3000 + 2000 * i;
		struct ibv_sge ss = { .addr = (uintptr_t)a->buf, .length = len,
				      .lkey = a->mr->lkey };
		struct ibv_send_wr wr = {
			.wr_id = 70 + i, .sg_list = &ss, .num_sge = 1,
			.opcode = IBV_WR_RDMA_WRITE,
			.wr.rdma = { .remote_addr = (uintptr_t)fbuf + off,
				     .rkey = fm->rkey },
		}, *bad;
		struct ibv_wc two[2];

		fill(a->buf, len, 70 + i);
		memset(fbuf, 0, 16384);
		/* the FLUSH right behind the WRITE */
		ASSERT_EQ(0, ibv_post_send(a->qp, &wr, &bad));
		/* a range of it, or the MR (whose range goes unread) */
		ASSERT_EQ(0, uverbs_post_flush(a->qp, FLUSH_SQ_MASK, 80 + i,
					       fm->rkey, i & 1 ? 0x5a5a :
					       (uintptr_t)fbuf + off,
					       i & 1 ? 0 : len, FLUSH_GLOBAL,
					       i & 1 ? FLUSH_MR :
					       FLUSH_RANGE));
		ASSERT_EQ(2, poll_n(a->e.scq, 2, two, 10000));
		EXPECT_EQ(IBV_WC_SUCCESS, two[0].status);
		EXPECT_EQ(70 + i, two[0].wr_id);
		ASSERT_EQ(IBV_WC_SUCCESS, two[1].status)
			TH_LOG("%s", ibv_wc_status_str(two[1].status));
		EXPECT_EQ(80 + i, two[1].wr_id);
		EXPECT_EQ(WC_FLUSH, two[1].opcode);
		EXPECT_EQ(len, first_diff(fbuf + off, len, 70 + i));
	}
	/* a range of no bytes, at the MR's end */
	EXPECT_EQ(IBV_WC_SUCCESS,
		  rc_do_flush(a, 90, fm->rkey, (uintptr_t)fbuf + 16384, 0,
			      FLUSH_GLOBAL, FLUSH_RANGE, &wc));

	for (i = 0; i < NCASES; i++) {
		enum ibv_wc_status want = IBV_WC_REM_ACCESS_ERR;
		uint8_t type = FLUSH_GLOBAL, level = FLUSH_RANGE;
		uint64_t addr = (uintptr_t)fbuf;
		uint32_t key = fm->rkey;

		ASSERT_EQ(0, rc_reconnect(self, variant)) TH_LOG("%s",
								names[i]);
		if (i != QP_NO_FLUSH)
			ASSERT_EQ(0, rc_allow_flush(b));
		switch (i) {
		case MR_NO_FLUSH:
			key = b->mr->rkey;
			break;
		case QP_NO_FLUSH:
			break;
		case NOT_PERSISTENT:
			type = FLUSH_GLOBAL | FLUSH_PERSISTENT;
			break;
		case MR_NOT_PERSISTENT:
			type = FLUSH_PERSISTENT;
			level = FLUSH_MR;
			break;
		case PAST_END:
			addr += 16384 - 32;
			break;
		case NO_TYPE:
		case LEVEL:
			/* rdma_rxe sends them, and the peer refuses them */
			if (i == NO_TYPE)
				type = 0;
			else
				level = FLUSH_MR + 1;
			want = strcmp(variant->from, RXE_DEV) ?
			       IBV_WC_LOC_QP_OP_ERR : IBV_WC_REM_INV_REQ_ERR;
			break;
		}
		EXPECT_EQ(want, rc_do_flush(a, 100 + i, key, addr, 64, type,
					    level, &wc))
			TH_LOG("%s: %s", names[i],
			       ibv_wc_status_str(wc.status));
		EXPECT_EQ(IBV_QPS_ERR, qp_state(a->qp)) TH_LOG("%s", names[i]);
		if (want != IBV_WC_LOC_QP_OP_ERR)
			EXPECT_TRUE(WAIT_FOR(qp_state(b->qp) == IBV_QPS_ERR,
					     2000))
				TH_LOG("%s: the responder", names[i]);
	}
	EXPECT_EQ(0, ibv_dereg_mr(fm));
}

/* the persistent memory of the persistent FLUSH test */
#define PMEM_LEN	(8u << 20)

/*
 * FLUSH for persistence, over persistent memory (the VM's emulated NVDIMM
 * as device-dax): registered with FLUSH_PERSISTENT, written, and made
 * persistent by range and as a whole MR (many chunks of write-back,
 * served as a READ is), the data there and the bytes written back
 * counted.  A QP that allows only global
 * visibility refuses persistence; an MR of persistent memory moved to
 * ordinary memory keeps no FLUSH_PERSISTENT, nor does ordinary memory
 * take it by changing its access.
 */
TEST_F(rc, flush_persistent)
{
	const int pacc = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
			 ACCESS_FLUSH_GLOBAL | ACCESS_FLUSH_PERSISTENT;
	struct rc_end *a = &self->a, *b = &self->b;
	struct ibv_qp_attr at = {
		.qp_access_flags = IBV_ACCESS_REMOTE_WRITE |
				   ACCESS_FLUSH_GLOBAL,
	};
	struct ibv_mr *pm;
	struct ibv_wc wc;
	uint8_t *pmem;
	int i;

	if (variant->type == IBV_QPT_UC)
		SKIP(return, "UC has no FLUSH");
	if (!strcmp(variant->to, RXE_DEV))
		SKIP(return, "rdma_rxe drops FLUSHes with the right ICRC");
	pmem = pmem_map(PMEM_LEN);
	if (!pmem)
		SKIP(return, "no persistent memory (an NVDIMM as device-dax)");
	pm = ibv_reg_mr(b->e.pd, pmem, PMEM_LEN, pacc);
	ASSERT_NE(NULL, pm) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, rc_flush_qps(self, variant));

	for (i = 0; i < 4; i++) {
		uint32_t off = PMEM_LEN / 4 * i + 777 * i, len = 5000 + 3000 * i;
		uint8_t type = i & 2 ? FLUSH_PERSISTENT :
			       FLUSH_GLOBAL | FLUSH_PERSISTENT;
		struct ibv_sge ss = { .addr = (uintptr_t)a->buf, .length = len,
				      .lkey = a->mr->lkey };
		struct ibv_send_wr wr = {
			.wr_id = 70 + i, .sg_list = &ss, .num_sge = 1,
			.opcode = IBV_WR_RDMA_WRITE,
			.wr.rdma = { .remote_addr = (uintptr_t)pmem + off,
				     .rkey = pm->rkey },
		}, *bad;
		long long wb = hw_counter(variant->to, "flush_persisted_bytes");
		struct ibv_wc two[2];

		fill(a->buf, len, 90 + i);
		ASSERT_EQ(0, ibv_post_send(a->qp, &wr, &bad));
		/* by range, or all 8 MiB of it */
		ASSERT_EQ(0, uverbs_post_flush(a->qp, FLUSH_SQ_MASK, 80 + i,
					       pm->rkey,
					       (uintptr_t)pmem + off, len,
					       type, i & 1 ? FLUSH_MR :
					       FLUSH_RANGE));
		ASSERT_EQ(2, poll_n(a->e.scq, 2, two,
				    10000 * test_timeout_scale()));
		EXPECT_EQ(IBV_WC_SUCCESS, two[0].status);
		ASSERT_EQ(IBV_WC_SUCCESS, two[1].status)
			TH_LOG("%d: %s", i, ibv_wc_status_str(two[1].status));
		EXPECT_EQ(80 + i, two[1].wr_id);
		EXPECT_EQ(WC_FLUSH, two[1].opcode);
		EXPECT_EQ(len, first_diff(pmem + off, len, 90 + i));
		/* written back: the range, or all of the MR */
		EXPECT_EQ(i & 1 ? PMEM_LEN : len,
			  hw_counter(variant->to, "flush_persisted_bytes") - wb);
	}

	/* a QP that allows global visibility only */
	ASSERT_EQ(0, ibv_modify_qp(b->qp, &at, IBV_QP_ACCESS_FLAGS));
	EXPECT_EQ(IBV_WC_REM_ACCESS_ERR,
		  rc_do_flush(a, 99, pm->rkey, (uintptr_t)pmem, 64,
			      FLUSH_GLOBAL | FLUSH_PERSISTENT, FLUSH_RANGE,
			      &wc));
	EXPECT_TRUE(WAIT_FOR(qp_state(b->qp) == IBV_QPS_ERR, 2000));

	/* persistence stays with persistent memory */
	EXPECT_EQ(EINVAL, rereg_mr_cmd(pm, IBV_REREG_MR_CHANGE_TRANSLATION,
				       b->buf, 4096, NULL, 0));
	EXPECT_EQ(EINVAL, rereg_mr_cmd(b->mr, IBV_REREG_MR_CHANGE_ACCESS, NULL,
				       0, NULL, pacc));
	/* and the refused rereg left the MR as it was */
	ASSERT_EQ(0, rc_reconnect(self, variant));
	ASSERT_EQ(0, rc_allow_flush(b));
	EXPECT_EQ(IBV_WC_SUCCESS,
		  rc_do_flush(a, 100, pm->rkey, (uintptr_t)pmem, 64,
			      FLUSH_PERSISTENT, FLUSH_RANGE, &wc))
		TH_LOG("%s", ibv_wc_status_str(wc.status));
	EXPECT_EQ(0, ibv_dereg_mr(pm));
	EXPECT_EQ(0, munmap(pmem, PMEM_LEN));
}

/*
 * FETCH_ADDs from QPs of rdma_rxe (over the wire) and of rxdp itself (to
 * itself) at once, on one counter in rxdp's memory: each is executed once,
 * atomically with respect to the others, so the counter ends at the exact
 * sum and every original value is handed out once.
 */
TEST(atomic_counter_from_many_qps)
{
	enum { NQP = 8, PER = 32 };
	struct rc_end req[NQP], rsp[NQP];
	struct ibv_mr *cmr[NQP];
	uint64_t *counter;
	uint8_t *seen;
	int i, k, n = 0;

	ASSERT_EQ(0, env_up());
	counter = aligned_alloc(4096, 4096);
	seen = calloc(NQP * PER, 1);
	ASSERT_NE(NULL, counter);
	ASSERT_NE(NULL, seen);
	*counter = 1000000;
	for (i = 0; i < NQP; i++) {
		ASSERT_EQ(0, rc_open(&req[i], i & 1 ? B_DEV : RXE_DEV,
				     IBV_QPT_RC));
		ASSERT_EQ(0, rc_open(&rsp[i], B_DEV, IBV_QPT_RC));
		ASSERT_EQ(0, rc_connect(&req[i], &rsp[i], 0x100 * i, 0x77 * i,
					IBV_MTU_1024));
		/* the counter, in each responder's PD */
		cmr[i] = ibv_reg_mr(rsp[i].e.pd, counter, 4096,
				    IBV_ACCESS_LOCAL_WRITE |
				    IBV_ACCESS_REMOTE_ATOMIC);
		ASSERT_NE(NULL, cmr[i]);
	}
	/* every QP's FETCH_ADDs posted before any is polled */
	for (k = 0; k < PER; k++) {
		for (i = 0; i < NQP; i++) {
			/* each original value to its own place */
			struct ibv_sge ss = {
				.addr = (uintptr_t)(req[i].buf + 8 * k),
				.length = 8, .lkey = req[i].mr->lkey,
			};
			struct ibv_send_wr wr = {
				.wr_id = i * PER + k, .sg_list = &ss,
				.num_sge = 1,
				.opcode = IBV_WR_ATOMIC_FETCH_AND_ADD,
				.wr.atomic = { .remote_addr =
						       (uintptr_t)counter,
					       .compare_add = 1,
					       .rkey = cmr[i]->rkey },
			}, *bad;

			ASSERT_EQ(0, ibv_post_send(req[i].qp, &wr, &bad));
		}
	}
	for (i = 0; i < NQP; i++) {
		struct ibv_wc wc[PER];

		ASSERT_EQ(PER, poll_n(req[i].e.scq, PER, wc, 20000))
			TH_LOG("QP %d", i);
		for (k = 0; k < PER; k++) {
			uint64_t v;

			ASSERT_EQ(IBV_WC_SUCCESS, wc[k].status)
				TH_LOG("QP %d: %s", i,
				       ibv_wc_status_str(wc[k].status));
			memcpy(&v, req[i].buf + 8 * k, 8);
			ASSERT_LE(1000000, v);
			ASSERT_GT(1000000 + NQP * PER, v);
			EXPECT_EQ(0, seen[v - 1000000]) TH_LOG("%llu twice",
						(unsigned long long)v);
			seen[v - 1000000] = 1;
			n++;
		}
	}
	EXPECT_EQ(NQP * PER, n);
	EXPECT_EQ(1000000 + NQP * PER, *counter);
	for (i = 0; i < NQP; i++) {
		ibv_dereg_mr(cmr[i]);
		rc_close(&req[i]);
		rc_close(&rsp[i]);
	}
	free(seen);
	free(counter);
}

/* ---- loss, disorder, duplicates and corruption on the wire ------------ */

FIXTURE(lossy) {
	struct rc_end a, c;
};

FIXTURE_VARIANT(lossy) {
	const char *netem;	/* a format: the ACK timeout's ms */
	bool full_only;
	enum ibv_mtu mtu;	/* 0: 1024 */
};

FIXTURE_VARIANT_ADD(lossy, loss_1) {
	.netem = "loss 1%%", .full_only = true,
};
FIXTURE_VARIANT_ADD(lossy, loss_10) { .netem = "loss 10%%" };
FIXTURE_VARIANT_ADD(lossy, reorder) {
	.netem = "delay 2ms reorder 30%% 50%%", .full_only = true,
};
FIXTURE_VARIANT_ADD(lossy, duplicate) {
	.netem = "duplicate 10%%", .full_only = true,
};
FIXTURE_VARIANT_ADD(lossy, corrupt) { .netem = "corrupt 5%%" };
/* frames of 4 KiB payloads come in fragments: their ICRC is checked too */
FIXTURE_VARIANT_ADD(lossy, corrupt_4k) {
	.netem = "corrupt 5%%", .mtu = IBV_MTU_4096, .full_only = true,
};
/*
 * Every ACK comes after the requester's timer expired and it went back:
 * the late ACK must still complete what it covers.
 */
FIXTURE_VARIANT_ADD(lossy, late_acks) { .netem = "delay %dms" };

/* The Local ACK Timeout rc_connect_one() sets, in ms (4.096 us x 2^t). */
static int ack_timeout_ms(void)
{
	return (int)((4096ull << (test_timeout_scale() > 1 ? 16 : 12)) /
		     1000000);
}

static void netem_clear(void)
{
	sh("ip netns exec " NS_A " tc qdisc del dev " A_IF " root "
	   "2>/dev/null; ip netns exec " NS_C " tc qdisc del dev " C_IF
	   " root 2>/dev/null");
}

FIXTURE_SETUP(lossy)
{
	char netem[64];

	if (variant->full_only)
		LIGHT_SKIP();
	ASSERT_EQ(0, env_up());
	ASSERT_EQ(0, rc_open(&self->a, A_DEV, IBV_QPT_RC));
	ASSERT_EQ(0, rc_open(&self->c, C_DEV, IBV_QPT_RC));
	ASSERT_EQ(0, rc_connect(&self->a, &self->c, 0xffff00, 0x777,
				variant->mtu ?: IBV_MTU_1024));
	netem_clear();
	/* one way 1.5 timeouts: each ACK comes 3 timeouts after its request */
	snprintf(netem, sizeof(netem), variant->netem,
		 ack_timeout_ms() * 3 / 2);
	ASSERT_EQ(0, sh("ip netns exec " NS_A " tc qdisc add dev " A_IF
			" root netem %s && ip netns exec " NS_C " tc qdisc "
			"add dev " C_IF " root netem %s", netem, netem));
}

FIXTURE_TEARDOWN(lossy)
{
	netem_clear();
	rc_close(&self->a);
	rc_close(&self->c);
}

/*
 * Batches of SENDs, WRITEs and READs while the link misbehaves: each
 * completes once, in order, with its data intact.
 */
TEST_F(lossy, every_message_once_in_order)
{
	struct rc_end *a = &self->a, *c = &self->c;
	const uint32_t len = 5000, n = 16, half = BIG_BUF / 2;
	/* the last READ of a round is asked for in four requests */
	const uint32_t long_read = 3 * 64 * 1024 + 5;
	long long retries = hw_counter(A_DEV, "completer_retry_err");
	long long dups = hw_counter(C_DEV, "duplicate_request");
	long long timeouts = hw_counter(A_DEV, "local_ack_timeout_err");
	int rounds = test_rounds(6, 2), k;
	uint32_t seed = 1, i;

	for (k = 0; k < rounds; k++) {
		struct ibv_send_wr swr[16], *sbad;
		struct ibv_recv_wr rwr[16], *rbad;
		struct ibv_sge ss[16], rs[16];
		struct ibv_wc wc[16];
		enum ibv_wr_opcode op = k % 3 == 0 ? IBV_WR_SEND :
					k % 3 == 1 ? IBV_WR_RDMA_WRITE :
						     IBV_WR_RDMA_READ;

		for (i = 0; i < n; i++) {
			uint8_t *mine = a->buf + i * len;
			uint8_t *theirs = c->buf + half + i * len;
			uint32_t l = op == IBV_WR_RDMA_READ && i == n - 1 ?
				     long_read : len;

			fill(op == IBV_WR_RDMA_READ ? theirs : mine, l,
			     seed + i);
			memset(op == IBV_WR_RDMA_READ ? mine : theirs, 0, l);
			ss[i] = (struct ibv_sge){ .addr = (uintptr_t)mine,
						  .length = l,
						  .lkey = a->mr->lkey };
			swr[i] = (struct ibv_send_wr){
				.wr_id = seed + i, .sg_list = &ss[i],
				.num_sge = 1, .opcode = op,
				.wr.rdma = { .remote_addr = (uintptr_t)theirs,
					     .rkey = c->mr->rkey },
				.next = i + 1 < n ? &swr[i + 1] : NULL };
			rs[i] = (struct ibv_sge){ .addr = (uintptr_t)theirs,
						  .length = len,
						  .lkey = c->mr->lkey };
			rwr[i] = (struct ibv_recv_wr){
				.wr_id = seed + i, .sg_list = &rs[i],
				.num_sge = 1,
				.next = i + 1 < n ? &rwr[i + 1] : NULL };
		}
		if (op == IBV_WR_SEND)
			ASSERT_EQ(0, ibv_post_recv(c->qp, rwr, &rbad));
		ASSERT_EQ(0, ibv_post_send(a->qp, swr, &sbad));
		ASSERT_EQ((int)n, poll_n(a->e.scq, n, wc, 60000))
			TH_LOG("round %d", k);
		for (i = 0; i < n; i++) {
			ASSERT_EQ(IBV_WC_SUCCESS, wc[i].status)
				TH_LOG("round %d wqe %u: %s", k, i,
				       ibv_wc_status_str(wc[i].status));
			EXPECT_EQ(seed + i, wc[i].wr_id);
		}
		if (op == IBV_WR_SEND) {
			ASSERT_EQ((int)n, poll_n(c->e.rcq, n, wc, 10000));
			for (i = 0; i < n; i++) {
				EXPECT_EQ(IBV_WC_SUCCESS, wc[i].status);
				EXPECT_EQ(seed + i, wc[i].wr_id);
			}
			/* and nothing more: no message twice */
			EXPECT_EQ(0, poll_n(c->e.rcq, 1, wc, 100));
		}
		for (i = 0; i < n; i++) {
			const uint8_t *p = op == IBV_WR_RDMA_READ ?
				a->buf + i * len : c->buf + half + i * len;
			uint32_t l = op == IBV_WR_RDMA_READ && i == n - 1 ?
				     long_read : len;

			EXPECT_EQ(l, first_diff(p, l, seed + i))
				TH_LOG("round %d message %u", k, i);
		}
		seed += n;
	}
	/*
	 * The port counters show the recovery: at 10% loss the requester
	 * went back for some of the hundreds of packets, and the responder
	 * saw some of the duplicated requests.
	 */
	ASSERT_LE(0, retries);
	ASSERT_LE(0, dups);
	ASSERT_LE(0, timeouts);
	if (strstr(variant->netem, "delay %d"))
		EXPECT_LT(timeouts, hw_counter(A_DEV, "local_ack_timeout_err"));
	if (strstr(variant->netem, "loss 10%%"))
		EXPECT_LT(retries, hw_counter(A_DEV, "completer_retry_err"));
	if (strstr(variant->netem, "duplicate"))
		EXPECT_LT(dups, hw_counter(C_DEV, "duplicate_request"));
}


/*
 * One long READ while the link misbehaves: it completes with its data,
 * and each time the requester asks again from a lost response, the
 * responder gives up the responses the request supersedes instead of
 * sending the rest of the old ones first.  Without that, each loss costs
 * the rest of the READ again: packets in the square of its length.
 */
TEST_F(lossy, long_read_asked_again)
{
	struct rc_end *a = &self->a, *c = &self->c;
	const uint32_t len = big() / 4 + 5, half = BIG_BUF / 2;
	long long sent = hw_counter(C_DEV, "sent_pkts");
	long long dups = hw_counter(C_DEV, "duplicate_request");
	long long timeouts = hw_counter(A_DEV, "local_ack_timeout_err");
	uint32_t npkts = (len + 1023) / 1024;
	struct ibv_sge ss = { .addr = (uintptr_t)a->buf, .length = len,
			      .lkey = a->mr->lkey };
	struct ibv_send_wr swr = {
		.wr_id = 5, .sg_list = &ss, .num_sge = 1,
		.opcode = IBV_WR_RDMA_READ,
		.wr.rdma = { .remote_addr = (uintptr_t)c->buf + half,
			     .rkey = c->mr->rkey },
	}, *sbad;
	struct ibv_wc wc;

	if (variant->mtu)
		SKIP(return, "the 1 KiB MTU variants say it");
	fill(c->buf + half, len, 77);
	memset(a->buf, 0, len);
	ASSERT_LE(0, sent);
	ASSERT_LE(0, dups);
	ASSERT_LE(0, timeouts);
	ASSERT_EQ(0, ibv_post_send(a->qp, &swr, &sbad));
	ASSERT_EQ(1, poll_n(a->e.scq, 1, &wc, 120000));
	sent = hw_counter(C_DEV, "sent_pkts") - sent;
	dups = hw_counter(C_DEV, "duplicate_request") - dups;
	timeouts = hw_counter(A_DEV, "local_ack_timeout_err") - timeouts;
	TH_LOG("%u responses, %lld packets sent for them, %lld requests again, %lld timeouts",
	       npkts, sent, dups, timeouts);
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status)
		TH_LOG("%s", ibv_wc_status_str(wc.status));
	EXPECT_EQ(len, first_diff(a->buf, len, 77));
	/*
	 * A request asked again, or its timeout, costs what was in flight
	 * (a part the requester asked for, and half of the next), not the
	 * rest of the READ.
	 */
	EXPECT_LE(sent, (long long)npkts + 128 * (dups + timeouts + 1));
}

/*
 * A request refused (a WRITE by a wrong key) right behind a READ whose
 * responses the link may lose: the NAK ends the connection, and missing
 * responses never come.  The error is the WRITE's, the READ is flushed
 * (or both end with the retries, when the NAK itself is lost); the READ
 * never takes the WRITE's error.
 */
TEST_F(lossy, error_behind_lost_read)
{
	struct rc_end *a = &self->a, *c = &self->c;
	const uint32_t len = 64 * 1024;
	int rounds = test_rounds(8, 4), k, flushed = 0;

	for (k = 0; k < rounds; k++) {
		struct ibv_sge rs = { .addr = (uintptr_t)a->buf, .length = len,
				      .lkey = a->mr->lkey };
		struct ibv_sge ws = { .addr = (uintptr_t)a->buf + len,
				      .length = 64, .lkey = a->mr->lkey };
		struct ibv_send_wr wr = {
			.wr_id = 2, .sg_list = &ws, .num_sge = 1,
			.opcode = IBV_WR_RDMA_WRITE,
			.send_flags = IBV_SEND_SIGNALED,
			.wr.rdma = { .remote_addr = (uintptr_t)c->buf,
				     .rkey = c->mr->rkey ^ 0x80 },
		};
		struct ibv_send_wr rd = {
			.wr_id = 1, .sg_list = &rs, .num_sge = 1, .next = &wr,
			.opcode = IBV_WR_RDMA_READ,
			.send_flags = IBV_SEND_SIGNALED,
			.wr.rdma = { .remote_addr = (uintptr_t)c->buf,
				     .rkey = c->mr->rkey },
		}, *bad;
		struct ibv_qp_attr at = { .qp_state = IBV_QPS_RESET };
		struct ibv_wc wc[2];

		ASSERT_EQ(0, ibv_post_send(a->qp, &rd, &bad));
		ASSERT_EQ(2, poll_n(a->e.scq, 2, wc, 120000));
		EXPECT_EQ(1, wc[0].wr_id);
		EXPECT_TRUE(wc[0].status == IBV_WC_SUCCESS ||
			    wc[0].status == IBV_WC_WR_FLUSH_ERR ||
			    wc[0].status == IBV_WC_RETRY_EXC_ERR)
			TH_LOG("round %d: the READ: %s", k,
			       ibv_wc_status_str(wc[0].status));
		EXPECT_TRUE(wc[1].status == IBV_WC_REM_ACCESS_ERR ||
			    wc[1].status == IBV_WC_WR_FLUSH_ERR)
			TH_LOG("round %d: the WRITE: %s", k,
			       ibv_wc_status_str(wc[1].status));
		flushed += wc[0].status == IBV_WC_WR_FLUSH_ERR;
		ASSERT_EQ(0, ibv_modify_qp(a->qp, &at, IBV_QP_STATE));
		ASSERT_EQ(0, ibv_modify_qp(c->qp, &at, IBV_QP_STATE));
		ASSERT_EQ(0, rc_connect(a, c, 0xffff00, 0x777,
					variant->mtu ?: IBV_MTU_1024));
	}
	TH_LOG("%d of %d READs lost responses before the NAK", flushed,
	       rounds);
}

/* ---- forged packets on a live connection ---------------------------- */

/*
 * Anyone on the link can send RoCE frames that name a QP: forged
 * requests to the responder, forged answers to the completer, with good
 * ICRCs, any opcode, PSNs around the expected one, extension headers true
 * or garbage, and lengths to match or not.  They may disturb the
 * connection (the protocol has no authentication), but never write
 * outside what a key allows (an MR without remote write, memory in no
 * MR, past a READ's buffer), never crash, and never leave a QP that hangs
 * its user: a SEND afterwards completes, in success or in error.
 */
FIXTURE(forged) {
	struct rc_end a, c;	/* a on rxw1a, c on rxw1b */
	uint8_t *ro;		/* c's, in an MR without remote write */
	struct ibv_mr *ro_mr;
	uint8_t *plain;		/* c's, in no MR */
};

#define FORGED_BUF	65536

FIXTURE_SETUP(forged)
{
	ASSERT_EQ(0, env_up());
	ASSERT_EQ(0, rc_open(&self->a, A_DEV, IBV_QPT_RC));
	ASSERT_EQ(0, rc_open(&self->c, C_DEV, IBV_QPT_RC));
	ASSERT_EQ(0, rc_connect(&self->a, &self->c, 0x100, 0x200,
				IBV_MTU_1024));
	self->ro = aligned_alloc(4096, FORGED_BUF);
	self->plain = aligned_alloc(4096, FORGED_BUF);
	ASSERT_NE(NULL, self->ro);
	ASSERT_NE(NULL, self->plain);
	fill(self->ro, FORGED_BUF, 31);
	fill(self->plain, FORGED_BUF, 32);
	self->ro_mr = ibv_reg_mr(self->c.e.pd, self->ro, FORGED_BUF,
				 IBV_ACCESS_LOCAL_WRITE |
				 IBV_ACCESS_REMOTE_READ);
	ASSERT_NE(NULL, self->ro_mr);
}

FIXTURE_TEARDOWN(forged)
{
	rc_close(&self->a);
	if (self->ro_mr)
		ibv_dereg_mr(self->ro_mr);
	rc_close(&self->c);
	free(self->ro);
	free(self->plain);
}

/* A socket that sends frames out of ifname in namespace ns, or -1. */
static int inject_socket(const char *ns, const char *ifname,
			 struct sockaddr_ll *sll)
{
	char idx[32] = "";

	memset(sll, 0, sizeof(*sll));
	sll->sll_family = AF_PACKET;
	sll->sll_halen = 6;
	sh_out(idx, sizeof(idx), "ip netns exec %s cat "
	       "/sys/class/net/%s/ifindex", ns, ifname);
	sll->sll_ifindex = atoi(idx);
	return sll->sll_ifindex > 0 ?
	       socket_in_ns(ns, AF_PACKET, SOCK_RAW, 0) : -1;
}

static int mac_in_ns(const char *ns, const char *ifname, uint8_t mac[6])
{
	char out[64];

	if (sh_out(out, sizeof(out), "ip netns exec %s cat "
		   "/sys/class/net/%s/address", ns, ifname))
		return -1;
	return sscanf(out, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
		      &mac[2], &mac[3], &mac[4], &mac[5]) == 6 ? 0 : -1;
}

/* RETH or AtomicETH: an address in one of c's buffers, or anywhere. */
static void forge_target(FIXTURE_DATA(forged) *self, uint8_t *ext,
			 uint32_t r)
{
	uint8_t *bufs[] = { self->c.buf, self->ro, self->plain };
	uint32_t keys[] = { self->c.mr->rkey, self->ro_mr->rkey, r * 2654435761u };
	uint64_t va = (uintptr_t)bufs[r % 3] + (r >> 4) % (FORGED_BUF + 8192);
	uint32_t lens[] = { r % 2048, FORGED_BUF, 0x80000000u, r };

	if (r & 64)
		va = (uint64_t)r << 32 | (r * 40503u);
	roce_put32(ext, va >> 32);
	roce_put32(ext + 4, (uint32_t)va);
	roce_put32(ext + 8, keys[(r >> 2) % 3]);
	roce_put32(ext + 12, lens[(r >> 8) % 4]);
}

/* Send one forged frame; ASSERTs. */
static void forge_send(struct __test_metadata *_metadata,
		       FIXTURE_DATA(forged) *self, bool answers,
		       struct roce_send *u)
{
	static uint8_t f[ROCE_FRAME_MAX];
	const char *ns = answers ? NS_C : NS_A;
	const char *ifname = answers ? C_IF : A_IF;
	struct sockaddr_ll sll;
	size_t len;
	int fd = inject_socket(ns, ifname, &sll);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mac_in_ns(ns, ifname, u->smac));
	ASSERT_EQ(0, mac_in_ns(answers ? NS_A : NS_C, answers ? A_IF : C_IF,
			       u->dmac));
	memcpy(sll.sll_addr, u->dmac, 6);
	u->saddr = ntohl(inet_addr(answers ? C_ADDR : A_ADDR));
	u->daddr = ntohl(inet_addr(answers ? A_ADDR : C_ADDR));
	u->dqpn = answers ? self->a.qp->qp_num : self->c.qp->qp_num;
	u->forge = true;
	len = roce_send_frame(f, u);
	ASSERT_NE(0, len);
	EXPECT_EQ((ssize_t)len, sendto(fd, f, len, 0, (struct sockaddr *)&sll,
				       sizeof(sll)));
	close(fd);
}

/* Both QPs through RESET and connected again: c expects PSN 0x100. */
static int forged_reconnect(FIXTURE_DATA(forged) *self)
{
	struct ibv_qp_attr at = { .qp_state = IBV_QPS_RESET };

	if (ibv_modify_qp(self->a.qp, &at, IBV_QP_STATE) ||
	    ibv_modify_qp(self->c.qp, &at, IBV_QP_STATE))
		return -1;
	return rc_connect(&self->a, &self->c, 0x100, 0x200, IBV_MTU_1024);
}

/* The requests a key does not allow: each one leaves c's memory alone. */
struct forged_req {
	const char *what;
	uint8_t opcode;
	int target;		/* 0 c.buf, 1 ro, 2 plain */
	uint32_t off;		/* into it */
	bool at_end;		/* off: 32 bytes before c.buf's MR ends */
	int key;		/* 0 c's, 1 ro's, 2 none of them */
	uint32_t reth_len, paylen;
	bool lands;		/* a key allows it: the control */
};

static const struct forged_req forged_reqs[] = {
	{ .what = "WRITE through an MR without remote write", .opcode = 0x0a,
	  .target = 1, .key = 1, .reth_len = 64, .paylen = 64 },
	{ .what = "WRITE outside any MR, with c's key", .opcode = 0x0a,
	  .target = 2, .reth_len = 64, .paylen = 64 },
	{ .what = "WRITE across the MR's end", .opcode = 0x0a, .at_end = true,
	  .reth_len = 64, .paylen = 64 },
	{ .what = "WRITE with nobody's key", .opcode = 0x0a, .off = 4096,
	  .key = 2, .reth_len = 64, .paylen = 64 },
	{ .what = "FETCH_ADD through an MR without remote atomics",
	  .opcode = 0x14, .target = 1, .off = 64, .key = 1 },
	{ .what = "CMP_SWP at an address not 8-aligned", .opcode = 0x13,
	  .off = 4099 },
	{ .what = "WRITE_FIRST with more payload than its RETH says",
	  .opcode = 0x06, .off = 8192, .reth_len = 64, .paylen = 1024 },
	{ .what = "SEND longer than the receive posted", .opcode = 0x04,
	  .paylen = 200 },
	{ .what = "a WRITE the key allows", .opcode = 0x0a, .off = 12288,
	  .reth_len = 64, .paylen = 64, .lands = true },
};

#define FORGED_WINDOW	16384	/* of c.buf, around the target, checked */

TEST_F_TIMEOUT(forged, requests_only_where_keys_allow, 180)
{
	static uint8_t pay[1024], ext[28];
	struct roce_send u = { .payload = pay, .ext = ext, .psn = 0x100 };
	size_t i;

	memset(pay, 0x5a, sizeof(pay));
	for (i = 0; i < ARRAY_SIZE(forged_reqs); i++) {
		const struct forged_req *q = &forged_reqs[i];
		uint8_t *bufs[] = { self->c.buf, self->ro, self->plain };
		uint32_t keys[] = { self->c.mr->rkey, self->ro_mr->rkey,
				    self->c.mr->rkey ^ 0x5a5a5a00u };
		uint32_t off = q->at_end ? BIG_BUF - 32 : q->off;
		uint8_t *at = bufs[q->target] + off, *win;
		uint64_t va = (uintptr_t)at;
		uint32_t seed = 40 + i, wlen, from, k;

		/* what is checked: ro or plain whole, or c.buf near off */
		if (q->target) {
			win = bufs[q->target];
			wlen = FORGED_BUF;
			seed = q->target == 1 ? 31 : 32;
		} else {
			win = self->c.buf + (off > FORGED_WINDOW / 2 ?
					     off - FORGED_WINDOW / 2 : 0);
			wlen = self->c.buf + BIG_BUF - win < FORGED_WINDOW ?
			       self->c.buf + BIG_BUF - win : FORGED_WINDOW;
			fill(win, wlen, seed);
		}
		ASSERT_EQ(0, forged_reconnect(self)) TH_LOG("%s", q->what);
		if (q->opcode == 0x04)
			ASSERT_EQ(0, post_recvs(self->c.qp, self->c.mr, 100, 1,
						0));
		memset(ext, 0, sizeof(ext));
		roce_put32(ext, va >> 32);
		roce_put32(ext + 4, (uint32_t)va);
		roce_put32(ext + 8, keys[q->key]);
		if (q->opcode == 0x13 || q->opcode == 0x14) {
			roce_put32(ext + 16, 1);	/* swap or add: 1 */
			u.ext_len = 28;
		} else if (q->opcode == 0x04) {
			u.ext_len = 0;
		} else {
			roce_put32(ext + 12, q->reth_len);
			u.ext_len = 16;
		}
		u.opcode = q->opcode;
		u.len = q->paylen;
		forge_send(_metadata, self, false, &u);
		usleep(100000 * test_timeout_scale());

		if (q->lands) {
			EXPECT_EQ(0, memcmp(at, pay, q->paylen)) TH_LOG(
				"%s: not written: the forging does not work",
				q->what);
			continue;
		}
		/* the receive's 100 bytes may be written, nothing else */
		from = q->opcode == 0x04 ? 100 : 0;
		for (k = from; k < wlen; k++)
			if (win[k] != pattern(seed, k))
				break;
		EXPECT_EQ(wlen, k) TH_LOG("%s: written at %+ld", q->what,
					  (long)(win + k - at));
	}
}

/*
 * Forged answers to a READ of 1000 bytes (one response) take effect only
 * as the READ allows: a response longer than the READ, or one past its
 * PSNs, writes nothing; one that fits is taken (the protocol cannot tell).
 */
TEST_F_TIMEOUT(forged, answers_only_as_the_read_allows, 180)
{
	static const struct {
		const char *what;
		uint8_t opcode;
		uint32_t psn, paylen;
		bool lands;
	} cases[] = {
		{ "a response longer than the READ", 0x10, 0x100, 1024, false },
		{ "a response past the READ's PSNs", 0x0f, 0x101, 1000, false },
		{ "a response that fits", 0x10, 0x100, 1000, true },
	};
	const uint32_t rd_off = 8192, rd_len = 1000;
	static uint8_t pay[1024], ext[4];
	struct roce_send u = { .payload = pay, .ext = ext, .ext_len = 4 };
	uint8_t *win = self->a.buf + rd_off - 4096;
	const uint32_t wlen = 4096 + 1024 + 4096;
	size_t i;

	memset(pay, 0x5a, sizeof(pay));
	roce_put32(ext, 0x1f000000);	/* AETH: ACK, MSN 0 */
	self->a.timeout = 18;		/* 1 s: c will not answer */
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ibv_qp_attr at = { .qp_state = IBV_QPS_ERR };
		struct ibv_sge sg = { .addr = (uintptr_t)self->a.buf + rd_off,
				      .length = rd_len,
				      .lkey = self->a.mr->lkey };
		struct ibv_send_wr wr = {
			.wr_id = i, .sg_list = &sg, .num_sge = 1,
			.opcode = IBV_WR_RDMA_READ,
			.wr.rdma = { .remote_addr = (uintptr_t)self->c.buf,
				     .rkey = self->c.mr->rkey },
		}, *bad;
		struct ibv_wc wc;
		uint32_t k;

		fill(win, wlen, 60 + i);
		ASSERT_EQ(0, forged_reconnect(self));
		/* only the forgeries answer */
		ASSERT_EQ(0, ibv_modify_qp(self->c.qp, &at, IBV_QP_STATE));
		ASSERT_EQ(0, ibv_post_send(self->a.qp, &wr, &bad));
		u.opcode = cases[i].opcode;
		u.psn = cases[i].psn;
		u.len = cases[i].paylen;
		forge_send(_metadata, self, true, &u);
		if (cases[i].lands) {
			ASSERT_EQ(1, poll_n(self->a.e.scq, 1, &wc, 5000));
			EXPECT_EQ(IBV_WC_SUCCESS, wc.status);
			EXPECT_EQ(0, memcmp(win + 4096, pay, rd_len));
			for (k = 0; k < wlen; k++)
				if ((k < 4096 || k >= 4096 + rd_len) &&
				    win[k] != pattern(60 + i, k))
					break;
		} else {
			usleep(100000 * test_timeout_scale());
			for (k = 0; k < wlen; k++)
				if (win[k] != pattern(60 + i, k))
					break;
		}
		EXPECT_EQ(wlen, k) TH_LOG("%s: written at READ %+ld",
					  cases[i].what, (long)k - 4096);
	}
}

/*
 * Random forgeries, to c's responder or (answers) a's completer, on a
 * connection made afresh every ten of them.
 */
static void random_forgeries(struct __test_metadata *_metadata,
			     FIXTURE_DATA(forged) *self, bool answers)
{
	const char *ns = answers ? NS_C : NS_A;
	const char *ifname = answers ? C_IF : A_IF;
	const char *dev = answers ? A_DEV : C_DEV;
	struct rc_end *to = answers ? &self->a : &self->c;
	static uint8_t f[ROCE_FRAME_MAX], pay[2048], ext[28];
	struct roce_send u = { .payload = pay, .ext = ext, .forge = true };
	uint32_t i, n = test_rounds(600, 200), seed = 0x5eed;
	const uint32_t rd_off = 8192, rd_len = 8192;
	struct sockaddr_ll sll;
	long long pkts;
	int fd;

	fd = inject_socket(ns, ifname, &sll);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mac_in_ns(ns, ifname, u.smac));
	ASSERT_EQ(0, mac_in_ns(answers ? NS_A : NS_C,
			       answers ? A_IF : C_IF, u.dmac));
	memcpy(sll.sll_addr, u.dmac, 6);
	u.saddr = ntohl(inet_addr(answers ? C_ADDR : A_ADDR));
	u.daddr = ntohl(inet_addr(answers ? A_ADDR : C_ADDR));
	u.dqpn = to->qp->qp_num;
	pkts = hw_counter(dev, "rcvd_pkts");
	memset(self->a.buf, 0xee, 3 * rd_off);
	for (i = 0; i < n; i++) {
		uint32_t r = seed = seed * 1103515245u + 12345u;
		uint32_t r2 = seed = seed * 1103515245u + 12345u;
		size_t len;

		/* a forgery may break the connection: a fresh one often */
		if (i % 10 == 0) {
			ASSERT_EQ(0, forged_reconnect(self));
			/* an answer is awaited: a READ of c's memory */
			if (answers) {
				struct ibv_sge sg = {
					.addr = (uintptr_t)self->a.buf + rd_off,
					.length = rd_len,
					.lkey = self->a.mr->lkey,
				};
				struct ibv_send_wr wr = {
					.wr_id = i, .sg_list = &sg,
					.num_sge = 1,
					.opcode = IBV_WR_RDMA_READ,
					.wr.rdma = {
						.remote_addr = (uintptr_t)
							self->c.buf,
						.rkey = self->c.mr->rkey },
				}, *bad;

				ibv_post_send(self->a.qp, &wr, &bad);
			}
		}
		u.opcode = answers ? 0x0d + r % 6 : r % 0x20;
		if (r % 41 == 0)
			u.opcode = r >> 8;	/* any transport */
		/* around the PSN expected next, 0x100 */
		u.psn = 0x100 + r2 % 9 - 4;
		if (r2 % 13 == 0)
			u.psn = r2 >> 4;
		memset(ext, 0, sizeof(ext));
		forge_target(self, ext, r2);
		/* AETH (answers) or ImmDt after a RETH: any four bytes */
		roce_put32(ext + (answers ? 0 : 16), r ^ r2);
		u.ext_len = answers ? (r2 >> 3) % 2 * 4 :
			    (r2 >> 5) % 8 == 0 ? r2 % 29 : 16 * ((r >> 9) & 1);
		u.len = (r >> 12) % 3 == 0 ? 1024 : (r >> 14) % 1100;
		memset(pay, r & 0xff, u.len);
		len = roce_send_frame(f, &u);
		ASSERT_NE(0, len);
		ASSERT_EQ((ssize_t)len, sendto(fd, f, len, 0,
					       (struct sockaddr *)&sll,
					       sizeof(sll)));
		if (i % 50 == 49)
			usleep(2000);	/* let the veth drain */
	}
	close(fd);
	usleep(300000 * test_timeout_scale());
	/* many reached the transport: the XDP program passed them on */
	EXPECT_LE((long long)n / 5, hw_counter(dev, "rcvd_pkts") - pkts);

	/* nothing written where no key lets a remote write */
	EXPECT_EQ(FORGED_BUF, first_diff(self->ro, FORGED_BUF, 31));
	EXPECT_EQ(FORGED_BUF, first_diff(self->plain, FORGED_BUF, 32));
	for (i = 0; i < rd_off; i++)
		if (self->a.buf[i] != 0xee || self->a.buf[rd_off + rd_len + i] !=
		    0xee)
			break;
	EXPECT_EQ(rd_off, i) TH_LOG("byte %u around the READ's buffer", i);

	/* and the QPs answer their users: a SEND completes, well or not */
	{
		struct ibv_sge sg = { .addr = (uintptr_t)self->a.buf,
				      .length = 64, .lkey = self->a.mr->lkey };
		struct ibv_send_wr wr = { .wr_id = 77, .sg_list = &sg,
					  .num_sge = 1,
					  .opcode = IBV_WR_SEND }, *bad;
		struct ibv_wc wc[64];
		int got = 0, k, t = 30000 * test_timeout_scale();
		long t0 = now_ms();

		struct ibv_qp_init_attr ia;
		struct ibv_qp_attr at;

		post_recvs(self->c.qp, self->c.mr, 4096, 1, 0);
		if (ibv_post_send(self->a.qp, &wr, &bad)) {
			/* refused: only by a QP the forgeries broke */
			ASSERT_EQ(0, ibv_query_qp(self->a.qp, &at,
						  IBV_QP_STATE, &ia));
			EXPECT_EQ(IBV_QPS_ERR, at.qp_state);
			return;
		}
		/* the READs' completions come first */
		while (now_ms() - t0 < t) {
			k = ibv_poll_cq(self->a.e.scq, 64, wc);
			ASSERT_LE(0, k);
			for (i = 0; i < (uint32_t)k; i++)
				got += wc[i].wr_id == 77;
			if (got)
				break;
			usleep(1000);
		}
		EXPECT_EQ(1, got) TH_LOG("the SEND never completed%s",
					 transport_state());
	}
}

TEST_F_TIMEOUT(forged, random_requests_harm_nothing, 120)
{
	random_forgeries(_metadata, self, false);
}

TEST_F_TIMEOUT(forged, random_answers_harm_nothing, 120)
{
	random_forgeries(_metadata, self, true);
}

/* ---- the port counters: every packet, byte and event accounted for ---- */

/* Every port counter of an rxdp device, rdma_rxe's names first. */
static const char *const port_names[] = {
	"sent_pkts", "rcvd_pkts", "duplicate_request", "out_of_seq_request",
	"rcvd_rnr_err", "send_rnr_err", "rcvd_seq_err", "ack_deferred",
	"retry_exceeded_err", "retry_rnr_exceeded_err", "completer_retry_err",
	"send_err", "link_downed", "rdma_sends", "rdma_recvs",
	"local_ack_timeout_err", "tx_frames_waits", "rx_queue_full",
	"flush_persisted_bytes", "sent_bytes", "rcvd_bytes", "resent_pkts",
	"rcvd_icrc_err",
};

#define NPORT	ARRAY_SIZE(port_names)

static size_t port_index(const char *name)
{
	size_t i;

	for (i = 0; i < NPORT && strcmp(port_names[i], name); i++)
		;
	return i;
}

/*
 * One end's counters: as `rdma statistic show link` shows them, as
 * `rxdpctl stats` does, and two of the XDP program's that rxdpctl shows
 * next to them.
 */
struct end_counters {
	long long	rdma[NPORT];
	long long	ctl[NPORT];
	long long	delivered, bad_icrc;
};

/* The number after "name " that starts a line of s (after blanks), or -1. */
static long long line_value(const char *s, const char *name)
{
	size_t n = strlen(name);

	while (s && *s) {
		const char *p = s + strspn(s, " ");

		if (!strncmp(p, name, n) && p[n] == ' ')
			return strtoll(p + n, NULL, 10);
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	return -1;
}

static int end_read(const char *ns, const char *dev, struct end_counters *c)
{
	static char out[8192];
	const char *port;
	char key[64];
	size_t i;

	/* "link DEV/1 sent_pkts 5 rcvd_pkts 3 ..." */
	if (sh_out(out, sizeof(out), "rdma statistic show link %s/1", dev))
		return -1;
	for (i = 0; i < NPORT; i++) {
		const char *p;

		snprintf(key, sizeof(key), " %s ", port_names[i]);
		p = strstr(out, key);
		c->rdma[i] = p ? strtoll(p + strlen(key), NULL, 10) : -1;
	}
	if (sh_out(out, sizeof(out), "ip netns exec %s %s stats --dev %s", ns,
		   rxdpctl_path(), dev))
		return -1;
	port = strstr(out, "\n  port 1:\n");
	for (i = 0; i < NPORT; i++)
		c->ctl[i] = line_value(port, port_names[i]);
	c->delivered = line_value(out, "delivered");
	c->bad_icrc = line_value(out, "drop_bad_icrc");
	return port ? 0 : -1;
}

/* Both ends, A's then C's, once what was sent has come and been counted. */
static int ends_read(struct end_counters c[2])
{
	usleep(100000 * test_timeout_scale());
	return end_read(NS_A, A_DEV, &c[0]) ?: end_read(NS_C, C_DEV, &c[1]);
}

/* A port counter of a device from sysfs (quicker than rdma), or -1. */
static long long sysfs_counter(const char *dev, const char *name)
{
	char path[256], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/class/infiniband/%s/ports/1/hw_counters/%s", dev, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return buf[0] ? strtoll(buf, NULL, 10) : -1;
}

/* What a counter is expected to move by on A and on C; others stay. */
struct moved {
	const char	*name;
	long long	a, c;
};

static void expect_moved(struct __test_metadata *_metadata, const char *what,
			 const struct end_counters before[2],
			 const struct end_counters after[2],
			 const struct moved *m, size_t n)
{
	static const char *const ends[] = { A_DEV, C_DEV };
	size_t i, k;
	int e;

	for (k = 0; k < n; k++)
		ASSERT_TRUE(name_in(m[k].name, port_names, NPORT))
			TH_LOG("%s: no counter %s", what, m[k].name);
	for (e = 0; e < 2; e++) {
		long long rcvd = 0, icrc = 0;

		for (i = 0; i < NPORT; i++) {
			const char *name = port_names[i];
			long long want = 0;

			for (k = 0; k < n; k++)
				if (!strcmp(m[k].name, name))
					want = e ? m[k].c : m[k].a;
			if (!strcmp(name, "rcvd_pkts"))
				rcvd = want;
			if (!strcmp(name, "rcvd_icrc_err"))
				icrc = want;
			ASSERT_LE(0, before[e].rdma[i])
				TH_LOG("%s of %s not shown", name, ends[e]);
			ASSERT_LE(0, before[e].ctl[i])
				TH_LOG("%s of %s not in rxdpctl stats", name,
				       ends[e]);
			EXPECT_EQ(want, after[e].rdma[i] - before[e].rdma[i])
				TH_LOG("%s: %s of %s, by rdma statistic", what,
				       name, ends[e]);
			EXPECT_EQ(want, after[e].ctl[i] - before[e].ctl[i])
				TH_LOG("%s: %s of %s, by rxdpctl stats", what,
				       name, ends[e]);
			/* read at rest: the two say the same */
			EXPECT_EQ(after[e].rdma[i], after[e].ctl[i])
				TH_LOG("%s: %s of %s", what, name, ends[e]);
		}
		/*
		 * Every packet from the link that reached the transport was
		 * delivered by the XDP program, and each bad ICRC the module
		 * found is one of its drops.
		 */
		EXPECT_EQ(rcvd, after[e].delivered - before[e].delivered)
			TH_LOG("%s: delivered to %s", what, ends[e]);
		EXPECT_EQ(icrc, after[e].bad_icrc - before[e].bad_icrc)
			TH_LOG("%s: drop_bad_icrc of %s", what, ends[e]);
	}
}

/*
 * One RC connection from rxdpwa (A) to rxdpwc (C), nothing else on the
 * link: A's ACK timeout is a second (four where everything is slower), so
 * that only a lost frame makes it retry, and C's RNR NAKs ask for the
 * longest wait (655 ms), in which the test posts the receive.
 */
/* A frame the link is to lose: the program that takes it, and where. */
struct lossy_link {
	struct drop_once_bpf	*drop;
	const char		*ns, *ifname;
};

FIXTURE(counters) {
	struct rc_end a, c;
	struct lossy_link link;
};

#define CNT_PSN		0x100	/* A's first PSN */

FIXTURE_SETUP(counters)
{
	struct ibv_qp_attr at = { .min_rnr_timer = 0 };

	ASSERT_EQ(0, env_up());
	ASSERT_EQ(0, rc_open(&self->a, A_DEV, IBV_QPT_RC));
	ASSERT_EQ(0, rc_open(&self->c, C_DEV, IBV_QPT_RC));
	self->a.timeout = test_timeout_scale() > 1 ? 20 : 18;
	ASSERT_EQ(0, rc_connect(&self->a, &self->c, CNT_PSN, 0x200,
				IBV_MTU_1024));
	ASSERT_EQ(0, ibv_modify_qp(self->c.qp, &at, IBV_QP_MIN_RNR_TIMER));
}

static void drop_detach(struct lossy_link *l)
{
	if (!l->drop)
		return;
	sh("ip netns exec %s tc qdisc del dev %s clsact 2>/dev/null", l->ns,
	   l->ifname);
	drop_once_bpf__destroy(l->drop);
	l->drop = NULL;
}

FIXTURE_TEARDOWN(counters)
{
	drop_detach(&self->link);
	rc_close(&self->a);
	rc_close(&self->c);
}

/*
 * The link loses the first frame ifname (in ns) sends to QP qpn with psn
 * and BTH opcode: a tc program on its egress takes it off the wire.
 */
static int drop_first(struct lossy_link *l, const char *ns,
		      const char *ifname, unsigned int qpn, unsigned int psn,
		      unsigned int opcode)
{
	int here = open("/proc/self/ns/net", O_RDONLY), there, err = -1;
	char path[128];

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	there = open(path, O_RDONLY);
	l->drop = drop_once_bpf__open_and_load();
	l->ns = ns;
	l->ifname = ifname;
	if (l->drop && here >= 0 && there >= 0 &&
	    !setns(there, CLONE_NEWNET)) {
		LIBBPF_OPTS(bpf_tc_hook, hook,
			    .ifindex = (int)if_nametoindex(ifname),
			    .attach_point = BPF_TC_EGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts,
			    .prog_fd = bpf_program__fd(l->drop->progs.drop_once));

		l->drop->bss->qpn = qpn;
		l->drop->bss->psn = psn;
		l->drop->bss->opcode = opcode;
		l->drop->bss->left = 1;
		err = bpf_tc_hook_create(&hook);
		if (err == -EEXIST)
			err = 0;
		if (!err)
			err = bpf_tc_attach(&hook, &opts);
		/* back, or the test's later sockets land there too */
		if (setns(here, CLONE_NEWNET))
			exit(1);
	}
	if (there >= 0)
		close(there);
	if (here >= 0)
		close(here);
	return err;
}

/* Post one WR of a's to c, with c's receive first if recv; ASSERTs. */
static void cnt_post(struct __test_metadata *_metadata, struct rc_end *a,
		     struct rc_end *c, enum ibv_wr_opcode op, unsigned int len,
		     bool recv)
{
	struct ibv_sge ss = { .addr = (uintptr_t)a->buf, .length = len,
			      .lkey = a->mr->lkey };
	struct ibv_send_wr swr = {
		.wr_id = op, .sg_list = &ss, .num_sge = 1, .opcode = op,
		.wr.rdma = { .remote_addr = (uintptr_t)c->buf + 8192,
			     .rkey = c->mr->rkey },
	}, *sbad;

	fill(op == IBV_WR_RDMA_READ ? c->buf + 8192 : a->buf, len, len);
	if (recv)
		ASSERT_EQ(0, post_recvs(c->qp, c->mr, 4096, 1, 1));
	ASSERT_EQ(0, ibv_post_send(a->qp, &swr, &sbad));
}

/* The WR completes in success, and c's receive if recv; ASSERTs. */
static void cnt_done(struct __test_metadata *_metadata, struct rc_end *a,
		     struct rc_end *c, bool recv)
{
	int t = 20000 * test_timeout_scale();
	struct ibv_wc wc;

	ASSERT_EQ(1, poll_n(a->e.scq, 1, &wc, t))
		TH_LOG("%s", transport_state());
	ASSERT_EQ(IBV_WC_SUCCESS, wc.status)
		TH_LOG("%s", ibv_wc_status_str(wc.status));
	if (recv) {
		ASSERT_EQ(1, poll_n(c->e.rcq, 1, &wc, t));
		ASSERT_EQ(IBV_WC_SUCCESS, wc.status);
	}
}

/*
 * Transport bytes (BTH through ICRC) of the packets below, MTU 1024:
 * SEND_FIRST and _MIDDLE of 1024 bytes, SEND_LAST of 952 (a 3000-byte
 * SEND), SEND_ONLY of 100, WRITE_ONLY of 100 (with its RETH), a READ
 * request (RETH, no payload), READ_RESPONSE_FIRST of 1024 and _LAST of
 * 976 (with their AETH; a 2000-byte READ), and an ACK or NAK (AETH).
 */
#define B_FIRST		(12 + 1024 + 4)
#define B_LAST952	(12 + 952 + 4)
#define B_SEND3000	(2 * B_FIRST + B_LAST952)
#define B_ONLY100	(12 + 100 + 4)
#define B_WRITE100	(12 + 16 + 100 + 4)
#define B_READ_REQ	(12 + 16 + 4)
#define B_RESP_FIRST	(12 + 4 + 1024 + 4)
#define B_RESP_LAST	(12 + 4 + 976 + 4)
#define B_ACK		(12 + 4 + 4)

/* What each step of the test below moves. */
static const struct moved cnt_traffic[] = {
	{ "sent_pkts", 5, 4 },
	{ "sent_bytes", B_SEND3000 + B_WRITE100 + B_READ_REQ,
	  2 * B_ACK + B_RESP_FIRST + B_RESP_LAST },
	{ "rcvd_pkts", 4, 5 },
	{ "rcvd_bytes", 2 * B_ACK + B_RESP_FIRST + B_RESP_LAST,
	  B_SEND3000 + B_WRITE100 + B_READ_REQ },
	{ "ack_deferred", 4, 0 },
	{ "rdma_sends", 1, 0 },
	{ "rdma_recvs", 0, 1 },
};

static const struct moved cnt_rnr[] = {
	{ "sent_pkts", 2, 2 },
	{ "sent_bytes", 2 * B_ONLY100, 2 * B_ACK },
	{ "rcvd_pkts", 2, 2 },
	{ "rcvd_bytes", 2 * B_ACK, 2 * B_ONLY100 },
	{ "ack_deferred", 2, 0 },
	{ "rcvd_rnr_err", 1, 0 },
	{ "send_rnr_err", 0, 1 },
	{ "resent_pkts", 1, 0 },
	{ "rdma_sends", 1, 0 },
	{ "rdma_recvs", 0, 1 },
};

static const struct moved cnt_lost_request[] = {
	{ "sent_pkts", 5, 2 },
	{ "sent_bytes", B_SEND3000 + B_FIRST + B_LAST952, 2 * B_ACK },
	{ "rcvd_pkts", 2, 4 },
	{ "rcvd_bytes", 2 * B_ACK, 2 * B_FIRST + 2 * B_LAST952 },
	{ "ack_deferred", 2, 0 },
	{ "out_of_seq_request", 0, 1 },
	{ "rcvd_seq_err", 1, 0 },
	{ "completer_retry_err", 1, 0 },
	{ "resent_pkts", 2, 0 },
	{ "rdma_sends", 1, 0 },
	{ "rdma_recvs", 0, 1 },
};

static const struct moved cnt_lost_ack[] = {
	{ "sent_pkts", 2, 2 },
	{ "sent_bytes", 2 * B_ONLY100, 2 * B_ACK },
	{ "rcvd_pkts", 1, 2 },
	{ "rcvd_bytes", B_ACK, 2 * B_ONLY100 },
	{ "ack_deferred", 1, 0 },
	{ "local_ack_timeout_err", 1, 0 },
	{ "completer_retry_err", 1, 0 },
	{ "resent_pkts", 1, 0 },
	{ "duplicate_request", 0, 1 },
	{ "rdma_sends", 1, 0 },
	{ "rdma_recvs", 0, 1 },
};

static const struct moved cnt_bad_icrc[] = {
	{ "rcvd_icrc_err", 0, 1 },
};

/*
 * Known traffic, one thing at a time, and each port counter of both ends
 * moves by what it brings, no more and no less, as `rdma statistic show
 * link` and as `rxdpctl stats` show them: packets and bytes each way,
 * an RNR NAK and the SEND it sends again, a frame the link loses (a
 * sequence NAK and the packets sent again), an ACK the link loses (a
 * timeout, and a duplicate at the responder), and a frame with a bad
 * ICRC.
 */
TEST_F_TIMEOUT(counters, each_packet_counted, 180)
{
	struct rc_end *a = &self->a, *c = &self->c;
	unsigned int psn = CNT_PSN, aqpn = a->qp->qp_num;
	unsigned int cqpn = c->qp->qp_num;
	struct end_counters b[2], n[2];
	struct ibv_wc wc;
	long long rnr;

	/* a SEND of three packets, a WRITE of one, a READ of two answers */
	ASSERT_EQ(0, ends_read(b));
	cnt_post(_metadata, a, c, IBV_WR_SEND, 3000, true);
	cnt_done(_metadata, a, c, true);
	cnt_post(_metadata, a, c, IBV_WR_RDMA_WRITE, 100, false);
	cnt_done(_metadata, a, c, false);
	cnt_post(_metadata, a, c, IBV_WR_RDMA_READ, 2000, false);
	cnt_done(_metadata, a, c, false);
	EXPECT_EQ(2000, first_diff(a->buf, 2000, 2000));
	ASSERT_EQ(0, ends_read(n));
	expect_moved(_metadata, "traffic", b, n, cnt_traffic,
		     ARRAY_SIZE(cnt_traffic));
	psn += 3 + 1 + 2;

	/* no receive: an RNR NAK, and the SEND again once one is posted */
	memcpy(b, n, sizeof(b));
	cnt_post(_metadata, a, c, IBV_WR_SEND, 100, false);
	/* within C's RNR wait of 655 ms: A's one SEND again finds it */
	rnr = b[1].rdma[port_index("send_rnr_err")];
	ASSERT_TRUE(WAIT_FOR(sysfs_counter(C_DEV, "send_rnr_err") > rnr,
			     5000));
	ASSERT_EQ(0, post_recvs(c->qp, c->mr, 4096, 1, 1));
	cnt_done(_metadata, a, c, true);
	ASSERT_EQ(0, ends_read(n));
	expect_moved(_metadata, "RNR", b, n, cnt_rnr, ARRAY_SIZE(cnt_rnr));
	psn++;

	/*
	 * The link loses the SEND's middle packet: C NAKs the last one, and
	 * A sends both again.
	 */
	memcpy(b, n, sizeof(b));
	ASSERT_EQ(0, drop_first(&self->link, NS_A, A_IF, cqpn, psn + 1,
				0x01 /* SEND_MIDDLE */));
	cnt_post(_metadata, a, c, IBV_WR_SEND, 3000, true);
	cnt_done(_metadata, a, c, true);
	EXPECT_EQ(1, self->link.drop->bss->lost);
	drop_detach(&self->link);
	ASSERT_EQ(0, ends_read(n));
	expect_moved(_metadata, "lost request", b, n, cnt_lost_request,
		     ARRAY_SIZE(cnt_lost_request));
	psn += 3;

	/*
	 * The link loses C's ACK of a SEND: A's timer expires, A sends it
	 * again, C takes it for the duplicate it is and ACKs again.
	 */
	memcpy(b, n, sizeof(b));
	ASSERT_EQ(0, drop_first(&self->link, NS_C, C_IF, aqpn, psn,
				0x11 /* ACKNOWLEDGE */));
	cnt_post(_metadata, a, c, IBV_WR_SEND, 100, true);
	cnt_done(_metadata, a, c, true);
	EXPECT_EQ(1, self->link.drop->bss->lost);
	drop_detach(&self->link);
	ASSERT_EQ(0, ends_read(n));
	expect_moved(_metadata, "lost ACK", b, n, cnt_lost_ack,
		     ARRAY_SIZE(cnt_lost_ack));
	psn++;

	/* a SEND to C, in sequence, whose ICRC is wrong: dropped, counted */
	memcpy(b, n, sizeof(b));
	{
		static unsigned char f[ROCE_FRAME_MAX];
		struct roce_send u = {
			.rc = true, .dqpn = cqpn, .psn = psn,
			.payload = a->buf, .len = 100,
			.saddr = ntohl(inet_addr(A_ADDR)),
			.daddr = ntohl(inet_addr(C_ADDR)),
		};
		struct sockaddr_ll sll;
		int fd = inject_socket(NS_A, A_IF, &sll);
		size_t len;

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, mac_in_ns(NS_A, A_IF, u.smac));
		ASSERT_EQ(0, mac_in_ns(NS_C, C_IF, u.dmac));
		memcpy(sll.sll_addr, u.dmac, 6);
		len = roce_send_frame(f, &u);
		ASSERT_NE(0, len);
		f[len - 1] ^= 0x01;
		EXPECT_EQ((ssize_t)len, sendto(fd, f, len, 0,
					       (struct sockaddr *)&sll,
					       sizeof(sll)));
		close(fd);
	}
	EXPECT_TRUE(WAIT_FOR(sysfs_counter(C_DEV, "rcvd_icrc_err") >
			     b[1].rdma[port_index("rcvd_icrc_err")], 5000));
	ASSERT_EQ(0, ends_read(n));
	expect_moved(_metadata, "bad ICRC", b, n, cnt_bad_icrc,
		     ARRAY_SIZE(cnt_bad_icrc));
	EXPECT_EQ(0, poll_n(c->e.rcq, 1, &wc, 100));
}

/* ---- a burst of many QPs: more frames at once than a veth's ring ------ */

#define BURST_QPS	32
#define BURST_MSGS	4
#define BURST_LEN	32768	/* 8 packets of MTU 4096 */

/*
 * 32 RC connections between rxdpwa and rxdpwc, on one context a side,
 * each posting its four SENDs at once: a thousand frames for a ring of
 * 256.  The veth drops what does not fit, silently, when the receiver
 * falls behind; the transport must lose none of it (before the device's
 * cap on frames in the stack, a quarter of the SENDs ran out of retries).
 */
FIXTURE(burst) {
	struct qp_env ea, ec;
	struct rc_end a[BURST_QPS], c[BURST_QPS];	/* QPs on ea, ec */
	uint8_t *abuf, *cbuf;
	struct ibv_mr *amr, *cmr;
};

FIXTURE_VARIANT(burst) {
	/*
	 * The receiver's NAPI in a thread of its own, at SCHED_IDLE, on the
	 * CPU of a busy loop while the burst goes: the ring fills for sure.
	 */
	bool starve;
	bool full_only;
};

FIXTURE_VARIANT_ADD(burst, fast_receiver) { .starve = false };
FIXTURE_VARIANT_ADD(burst, starved_receiver) {
	.starve = true, .full_only = true,
};

/* The NAPI thread of C_IF's veth, made threaded; its pid or -1. */
static int starve_napi_thread(void)
{
	char out[64];

	if (sh("ip netns exec " NS_C " sh -c 'echo 1 > /sys/class/net/"
	       C_IF "/threaded'") ||
	    sh_out(out, sizeof(out), "pgrep '^napi/" C_IF "-' | head -n 1"))
		return -1;
	if (atoi(out) <= 0 ||
	    sh("chrt -i -p 0 %d && taskset -p 2 %d >/dev/null", atoi(out),
	       atoi(out)))
		return -1;
	return atoi(out);
}

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* A child that keeps CPU 1 busy for ms, which the NAPI thread must share. */
static pid_t hog_cpu1(int ms)
{
	pid_t pid = fork();
	long end;

	if (pid)
		return pid;
	pin_to_cpu(1);
	end = now_ms() + ms;
	while (now_ms() < end)
		;
	_exit(0);
}

FIXTURE_SETUP(burst)
{
	const size_t len = (size_t)BURST_QPS * BURST_MSGS * BURST_LEN;
	struct ibv_qp_init_attr ia = {
		.qp_type = IBV_QPT_RC,
		.sq_sig_all = 1,
		.cap = { .max_send_wr = BURST_MSGS, .max_recv_wr = BURST_MSGS,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	int i;

	if (variant->full_only)
		LIGHT_SKIP();
	ASSERT_EQ(0, env_up());
	if (variant->starve && sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two CPUs");
	ASSERT_EQ(0, qp_env_open(&self->ea, A_DEV));
	ASSERT_EQ(0, qp_env_open(&self->ec, C_DEV));
	self->abuf = aligned_alloc(4096, len);
	self->cbuf = aligned_alloc(4096, len);
	ASSERT_NE(NULL, self->abuf);
	ASSERT_NE(NULL, self->cbuf);
	self->amr = ibv_reg_mr(self->ea.pd, self->abuf, len,
			       IBV_ACCESS_LOCAL_WRITE);
	self->cmr = ibv_reg_mr(self->ec.pd, self->cbuf, len,
			       IBV_ACCESS_LOCAL_WRITE);
	ASSERT_NE(NULL, self->amr);
	ASSERT_NE(NULL, self->cmr);
	for (i = 0; i < BURST_QPS; i++) {
		/* rc_connect() reads the GIDs of the ends' environments */
		self->a[i].e = self->ea;
		self->c[i].e = self->ec;
		/*
		 * What the tools use (67 ms; 1 s under the debug kernel): a
		 * thousand frames ahead of an ACK take longer than the tests'
		 * 16 ms under TCG, and timeouts that all fire at once resend
		 * into the queue they are waiting on.
		 */
		self->a[i].timeout = test_timeout_scale() > 1 ? 18 : 14;
		/* a starved receiver answers late: fewer timeouts meanwhile */
		if (variant->starve)
			self->a[i].timeout += 2;
		self->c[i].timeout = self->a[i].timeout;
		ia.send_cq = self->ea.scq;
		ia.recv_cq = self->ea.rcq;
		self->a[i].qp = qp_create_attr(self->ea.pd, &ia);
		ia.send_cq = self->ec.scq;
		ia.recv_cq = self->ec.rcq;
		self->c[i].qp = qp_create_attr(self->ec.pd, &ia);
		ASSERT_NE(NULL, self->a[i].qp);
		ASSERT_NE(NULL, self->c[i].qp);
		ASSERT_EQ(0, rc_connect(&self->a[i], &self->c[i],
					0x1000 * i, 0x1000 * i + 0x800,
					IBV_MTU_4096));
	}
}

FIXTURE_TEARDOWN(burst)
{
	int i;

	if (variant->starve)
		sh("ip netns exec " NS_C " sh -c 'echo 0 > /sys/class/net/"
		   C_IF "/threaded'");

	for (i = 0; i < BURST_QPS; i++) {
		if (self->a[i].qp)
			ibv_destroy_qp(self->a[i].qp);
		if (self->c[i].qp)
			ibv_destroy_qp(self->c[i].qp);
	}
	if (self->amr)
		ibv_dereg_mr(self->amr);
	if (self->cmr)
		ibv_dereg_mr(self->cmr);
	free(self->abuf);
	free(self->cbuf);
	qp_env_close(&self->ea);
	qp_env_close(&self->ec);
}

TEST_F(burst, full_ring_loses_nothing)
{
	const int n = BURST_QPS * BURST_MSGS;
	long long waits = hw_counter(A_DEV, "tx_frames_waits");
	long long refused = hw_counter(A_DEV, "send_err");
	int t = 30000 * test_timeout_scale(), i, m, got;
	pid_t hog = 0;
	struct ibv_wc wc[BURST_QPS * BURST_MSGS];
	bool seen[BURST_QPS * BURST_MSGS] = {};

	memset(self->cbuf, 0xee, (size_t)n * BURST_LEN);
	for (i = 0; i < n; i++)
		fill(self->abuf + (size_t)i * BURST_LEN, BURST_LEN, i);
	for (i = 0; i < BURST_QPS; i++) {
		for (m = 0; m < BURST_MSGS; m++) {
			int k = i * BURST_MSGS + m;
			struct ibv_sge rs = {
				.addr = (uintptr_t)self->cbuf +
					(uint64_t)k * BURST_LEN,
				.length = BURST_LEN, .lkey = self->cmr->lkey,
			};
			struct ibv_recv_wr rwr = { .wr_id = k, .sg_list = &rs,
						   .num_sge = 1 }, *bad;

			ASSERT_EQ(0, ibv_post_recv(self->c[i].qp, &rwr, &bad));
		}
	}
	if (variant->starve) {
		ASSERT_LT(0, starve_napi_thread());
		pin_to_cpu(0);
		hog = hog_cpu1(700 * test_timeout_scale());
		ASSERT_LT(0, hog);
	}
	/* each QP's four SENDs in one post, all QPs one after the other */
	for (i = 0; i < BURST_QPS; i++) {
		struct ibv_send_wr swr[BURST_MSGS], *bad;
		struct ibv_sge ss[BURST_MSGS];

		for (m = 0; m < BURST_MSGS; m++) {
			int k = i * BURST_MSGS + m;

			ss[m] = (struct ibv_sge){
				.addr = (uintptr_t)self->abuf +
					(uint64_t)k * BURST_LEN,
				.length = BURST_LEN, .lkey = self->amr->lkey,
			};
			swr[m] = (struct ibv_send_wr){
				.wr_id = k, .sg_list = &ss[m], .num_sge = 1,
				.opcode = IBV_WR_SEND,
				.next = m + 1 < BURST_MSGS ? &swr[m + 1] : NULL,
			};
		}
		ASSERT_EQ(0, ibv_post_send(self->a[i].qp, swr, &bad));
	}

	if (hog > 0)
		waitpid(hog, NULL, 0);
	got = poll_n(self->ea.scq, n, wc, t);
	ASSERT_EQ(n, got) TH_LOG("%d of %d sends completed%s", got, n,
				 transport_state());
	for (i = 0; i < n; i++) {
		ASSERT_EQ(IBV_WC_SUCCESS, wc[i].status)
			TH_LOG("send %llu: %s%s",
			       (unsigned long long)wc[i].wr_id,
			       ibv_wc_status_str(wc[i].status),
			       transport_state());
	}
	got = poll_n(self->ec.rcq, n, wc, t);
	ASSERT_EQ(n, got) TH_LOG("%d of %d receives completed", got, n);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(IBV_WC_SUCCESS, wc[i].status);
		ASSERT_GT(n, (int)wc[i].wr_id);
		EXPECT_FALSE(seen[wc[i].wr_id]);
		seen[wc[i].wr_id] = true;
		EXPECT_EQ(BURST_LEN, wc[i].byte_len);
	}
	for (i = 0; i < n; i++) {
		EXPECT_EQ(BURST_LEN, first_diff(self->cbuf +
						(size_t)i * BURST_LEN,
						BURST_LEN, i))
			TH_LOG("message %d differs", i);
	}
	waits = hw_counter(A_DEV, "tx_frames_waits") - waits;
	refused = hw_counter(A_DEV, "send_err") - refused;
	ksft_print_msg("QPs that waited for the device's frames: %lld, "
		       "frames the veth refused: %lld\n", waits, refused);
	if (variant->starve) {
		/* the ring was full: the QPs waited rather than lose frames */
		EXPECT_LT(0, waits);
		EXPECT_EQ(0, refused);
	}
}

/* ---- the stock pingpong tools, one end in each namespace --------------- */

struct end {
	const char *ns;		/* "" for the initial namespace */
	const char *dev;
	const struct testdev *td;
};

static const struct end end_a = { NS_A, A_DEV, &devs[2] };
static const struct end end_b = { NS_B, B_DEV, &devs[1] };
static const struct end end_c = { NS_C, C_DEV, &devs[3] };
static const struct end end_rxe = { "", RXE_DEV, &devs[0] };

static const char *in_ns(const struct end *e, char *buf, size_t len)
{
	if (!*e->ns)
		return "";
	snprintf(buf, len, "ip netns exec %s ", e->ns);
	return buf;
}

/*
 * Run "tool args" as server on srv and client on cli, on TCP port port
 * (the gid flag of the tool is gflag); both must exit 0 and the server's
 * output must show done, its line of results.
 */
static void serve_connect(struct __test_metadata *_metadata, const char *tool,
			  const char *gflag, const char *args,
			  const struct end *srv, const struct end *cli,
			  int port, const char *done)
{
	int t = 60 * test_timeout_scale(), sg, cg, rc;
	char ns1[64], ns2[64], out[4096];
	bool srv_ok;

	sg = testdev_gid_index(srv->td);
	cg = testdev_gid_index(cli->td);
	ASSERT_LE(0, sg);
	ASSERT_LE(0, cg);
	/*
	 * The server's exit status goes to /tmp/pp-srv.<port>.rc; nothing
	 * of it holds sh()'s pipe.
	 */
	ASSERT_EQ(0, sh("rm -f /tmp/pp-srv.%d.rc /tmp/pp-qps.%d; "
			"(%stimeout %d %s -d %s %s %d -p %d %s "
			">/tmp/pp-srv.%d 2>&1; echo $? >/tmp/pp-srv.%d.rc) "
			">/dev/null 2>&1 &",
			port, port, in_ns(srv, ns1, sizeof(ns1)), t, tool,
			srv->dev, gflag, sg, port, args, port, port));
	ASSERT_TRUE(WAIT_UNTIL(sh("%sss -ltn | grep -q ':%d '",
				  in_ns(srv, ns1, sizeof(ns1)), port) == 0,
			       5000));
	/*
	 * Line-buffered, so that a client killed by its timeout still shows
	 * how far it got; the QPs are recorded just before that.
	 */
	rc = sh_out(out, sizeof(out), "(sleep %d; cat /sys/kernel/debug/rxdp/*/qps; "
		    "rdma statistic show link) >/tmp/pp-qps.%d 2>&1 "
		    "</dev/null & w=$!; "
		    "%stimeout %d stdbuf -oL %s -d %s %s %d -p %d %s %s; "
		    "r=$?; kill $w 2>/dev/null; exit $r",
		    t - 5, port, in_ns(cli, ns2, sizeof(ns2)), t, tool, cli->dev,
		    gflag, cg, port, args, srv->td->addr);
	EXPECT_EQ(0, rc) TH_LOG("%s client: %s", tool, out);
	EXPECT_NE(NULL, strstr(out, done)) TH_LOG("%s client: %s", tool, out);
	EXPECT_TRUE(WAIT_UNTIL(sh("test -s /tmp/pp-srv.%d.rc", port) == 0,
			       t * 1000 / test_timeout_scale()));
	srv_ok = sh("test \"$(cat /tmp/pp-srv.%d.rc)\" = 0", port) == 0;
	EXPECT_TRUE(srv_ok) TH_LOG("%s server failed: see /tmp/pp-srv.%d",
				   tool, port);
	if (srv_ok && rc == 0 && strstr(out, done))
		return;
	/* what the server said and the QPs of both ends were doing */
	sh_out(out, sizeof(out), "tail -c 1024 /tmp/pp-srv.%d; "
	       "tail -c 2816 /tmp/pp-qps.%d", port, port);
	TH_LOG("at the failure: %s", out);
}

/* The rdma-core pingpong tools, -c: they check every received byte. */
static void pingpong(struct __test_metadata *_metadata, const char *tool,
		     const char *args, const struct end *srv,
		     const struct end *cli, int port)
{
	serve_connect(_metadata, tool, "-g", args, srv, cli, port, "iters in");
}

/* perftest: the bandwidth and latency tools. */
static void perftest(struct __test_metadata *_metadata, const char *tool,
		     const char *args, const struct end *srv,
		     const struct end *cli, int port)
{
	char a[256];

	snprintf(a, sizeof(a), "-F %s", args);
	serve_connect(_metadata, tool, "-x", a, srv, cli, port, "#bytes");
}

FIXTURE(tools) {
	int dummy;
};

FIXTURE_SETUP(tools)
{
	ASSERT_EQ(0, env_up());
}

FIXTURE_TEARDOWN(tools)
{
}

TEST_F_TIMEOUT(tools, ud_pingpong_rxdp_rxdp, 120)
{
	pingpong(_metadata, "ibv_ud_pingpong", "-c -s 1024 -n 200",
		 &end_c, &end_a, 18601);
	pingpong(_metadata, "ibv_ud_pingpong", "-c -s 4096 -n 100",
		 &end_a, &end_c, 18602);
}

TEST_F_TIMEOUT(tools, ud_pingpong_rxe_to_rxdp, 120)
{
	LIGHT_SKIP();
	pingpong(_metadata, "ibv_ud_pingpong", "-c -s 2048 -n 200",
		 &end_b, &end_rxe, 18603);
}

TEST_F_TIMEOUT(tools, rc_pingpong_rxdp_rxdp, 120)
{
	pingpong(_metadata, "ibv_rc_pingpong", "-c -s 4096 -n 200",
		 &end_c, &end_a, 18611);
	pingpong(_metadata, "ibv_rc_pingpong", "-c -s 70000 -n 20",
		 &end_a, &end_c, 18612);
}

TEST_F_TIMEOUT(tools, rc_pingpong_rxe_to_rxdp, 120)
{
	pingpong(_metadata, "ibv_rc_pingpong", "-c -s 10000 -n 100",
		 &end_b, &end_rxe, 18613);
}

TEST_F_TIMEOUT(tools, rc_pingpong_rxdp_to_rxe, 120)
{
	LIGHT_SKIP();
	pingpong(_metadata, "ibv_rc_pingpong", "-c -s 10000 -n 100",
		 &end_rxe, &end_b, 18614);
}

TEST_F_TIMEOUT(tools, uc_pingpong_rxdp_rxdp, 120)
{
	pingpong(_metadata, "ibv_uc_pingpong", "-c -s 2000 -n 100",
		 &end_c, &end_a, 18615);
}

TEST_F_TIMEOUT(tools, uc_pingpong_rxe_rxdp, 120)
{
	LIGHT_SKIP();
	pingpong(_metadata, "ibv_uc_pingpong", "-c -s 2000 -n 100",
		 &end_b, &end_rxe, 18616);
	pingpong(_metadata, "ibv_uc_pingpong", "-c -s 2000 -n 100",
		 &end_rxe, &end_b, 18617);
}

TEST_F_TIMEOUT(tools, srq_pingpong_rxdp_rxdp, 120)
{
	pingpong(_metadata, "ibv_srq_pingpong", "-c -s 3000 -n 100",
		 &end_c, &end_a, 18618);
}

TEST_F_TIMEOUT(tools, srq_pingpong_rxe_rxdp, 120)
{
	LIGHT_SKIP();
	pingpong(_metadata, "ibv_srq_pingpong", "-c -s 3000 -n 100",
		 &end_b, &end_rxe, 18619);
	pingpong(_metadata, "ibv_srq_pingpong", "-c -s 3000 -n 100",
		 &end_rxe, &end_b, 18620);
}

/*
 * rdma_cm: the connection's MADs go through the GSI QPs (ib_mad's, in the
 * kernel), then rping moves data over RC and checks it (-V).
 */
static void rping(struct __test_metadata *_metadata, const struct end *srv,
		  const struct end *cli)
{
	int t = 60 * test_timeout_scale();
	char ns1[64], ns2[64], out[4096];

	ASSERT_EQ(0, sh("%stimeout %d rping -s -a %s -C 20 -S 4000 -V "
			">/tmp/rping-srv 2>&1 & echo $! >/tmp/rping-srv.pid",
			in_ns(srv, ns1, sizeof(ns1)), t, srv->td->addr));
	usleep(500000 * test_timeout_scale());
	EXPECT_EQ(0, sh_out(out, sizeof(out),
			    "%stimeout %d rping -c -a %s -C 20 -S 4000 -V",
			    in_ns(cli, ns2, sizeof(ns2)), t, srv->td->addr))
		TH_LOG("client: %s", out);
	EXPECT_EQ(0, sh("while kill -0 $(cat /tmp/rping-srv.pid) "
			"2>/dev/null; do sleep 0.1; done; "
			"! grep -qi 'error\\|fail' /tmp/rping-srv"))
		TH_LOG("server: see /tmp/rping-srv");
}

TEST_F_TIMEOUT(tools, rping_rxdp_rxdp, 120)
{
	rping(_metadata, &end_c, &end_a);
}

TEST_F_TIMEOUT(tools, rping_rxe_rxdp, 120)
{
	rping(_metadata, &end_b, &end_rxe);
	rping(_metadata, &end_rxe, &end_b);
}

/*
 * Both ends on one device: the MADs, from ib_mad's kernel buffers, and the
 * data, from rping's, go from the device to itself.
 */
TEST_F_TIMEOUT(tools, rping_loopback, 120)
{
	rping(_metadata, &end_a, &end_a);
}

/*
 * perftest's bandwidth tools at 64 KiB, its latency tools at 64 B, and
 * its atomics (FETCH_ADD, 8 bytes).
 */
static void perftest_all(struct __test_metadata *_metadata,
			 const struct end *srv, const struct end *cli,
			 int port)
{
	static const char *const tools[] = {
		"ib_send_bw", "ib_write_bw", "ib_read_bw",
		"ib_send_lat", "ib_write_lat", "ib_read_lat",
		"ib_atomic_bw", "ib_atomic_lat",
	};
	char args[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tools); i++) {
		/* the light run: one of each kind (bw of send, read; lat) */
		if (test_light() && i != 0 && i != 2 && i != 4 && i != 6)
			continue;
		if (i >= 6)
			snprintf(args, sizeof(args), "-n %d",
				 test_rounds(200, 50));
		else
			snprintf(args, sizeof(args), "-s %d -n %d",
				 i < 3 ? 65536 : 64, test_rounds(200, 50));
		perftest(_metadata, tools[i], args, srv, cli, port + (int)i);
	}
}

TEST_F_TIMEOUT(tools, perftest_rxdp_rxdp, 300)
{
	perftest_all(_metadata, &end_c, &end_a, 18630);
}

TEST_F_TIMEOUT(tools, perftest_rxe_to_rxdp, 300)
{
	LIGHT_SKIP();
	perftest_all(_metadata, &end_b, &end_rxe, 18640);
}

TEST_F_TIMEOUT(tools, perftest_rxdp_to_rxe, 300)
{
	LIGHT_SKIP();
	perftest_all(_metadata, &end_rxe, &end_b, 18650);
}

TEST_F_TIMEOUT(tools, ud_pingpong_rxdp_to_rxe, 120)
{
	LIGHT_SKIP();
	pingpong(_metadata, "ibv_ud_pingpong", "-c -s 4096 -n 200",
		 &end_rxe, &end_b, 18604);
}

/* ---- teardown while traffic runs --------------------------------------- */

FIXTURE(teardown) {
	struct rc_end a, c;
	int bad;		/* kernel log reports before */
};

FIXTURE_SETUP(teardown)
{
	self->bad = kmsg_bad_count();
	ASSERT_EQ(0, env_up());
	ASSERT_EQ(0, rc_open(&self->a, A_DEV, IBV_QPT_RC));
	ASSERT_EQ(0, rc_open(&self->c, C_DEV, IBV_QPT_RC));
	ASSERT_EQ(0, rc_connect(&self->a, &self->c, 0x100, 0x200,
				IBV_MTU_1024));
}

FIXTURE_TEARDOWN(teardown)
{
	rc_close(&self->a);
	rc_close(&self->c);
}

/* Start a big SEND, WRITE and READ from a to c. */
static void start_big(struct __test_metadata *_metadata,
		      FIXTURE_DATA(teardown) *self)
{
	struct rc_end *a = &self->a, *c = &self->c;
	struct ibv_sge ss[3], rs = { .addr = (uintptr_t)c->buf,
				     .length = big(), .lkey = c->mr->lkey };
	struct ibv_recv_wr rwr = { .sg_list = &rs, .num_sge = 1 }, *rbad;
	struct ibv_send_wr swr[3], *sbad;
	int i;

	for (i = 0; i < 3; i++) {
		ss[i] = (struct ibv_sge){ .addr = (uintptr_t)a->buf,
					  .length = big(), .lkey = a->mr->lkey };
		swr[i] = (struct ibv_send_wr){
			.wr_id = i, .sg_list = &ss[i], .num_sge = 1,
			.opcode = i == 0 ? IBV_WR_SEND : i == 1 ?
				  IBV_WR_RDMA_WRITE : IBV_WR_RDMA_READ,
			.wr.rdma = { .remote_addr = (uintptr_t)c->buf,
				     .rkey = c->mr->rkey },
			.next = i < 2 ? &swr[i + 1] : NULL };
	}
	ASSERT_EQ(0, ibv_post_recv(c->qp, &rwr, &rbad));
	ASSERT_EQ(0, ibv_post_send(a->qp, swr, &sbad));
	usleep(300000);
}

/* Both QPs and both MRs go mid-transfer: nothing is left, nothing breaks. */
TEST_F(teardown, destroy_and_dereg_mid_transfer)
{
	int qps_a = rdma_res_count(A_DEV, "qp");

	start_big(_metadata, self);
	/* the responder's memory first, then its QP, then the requester */
	ASSERT_EQ(0, ibv_dereg_mr(self->c.mr));
	self->c.mr = NULL;
	usleep(100000);
	ASSERT_EQ(0, ibv_destroy_qp(self->c.qp));
	self->c.qp = NULL;
	usleep(100000);
	ASSERT_EQ(0, ibv_destroy_qp(self->a.qp));
	self->a.qp = NULL;
	ASSERT_EQ(0, ibv_dereg_mr(self->a.mr));
	self->a.mr = NULL;
	EXPECT_EQ(qps_a - 1, rdma_res_count(A_DEV, "qp"));
	EXPECT_EQ(self->bad, kmsg_bad_count());
}

/* The requester goes to ERR, is reset and connected again mid-transfer. */
TEST_F(teardown, reset_mid_transfer)
{
	struct ibv_qp_attr at = { .qp_state = IBV_QPS_RESET };
	struct ibv_wc wc[4];

	start_big(_metadata, self);
	ASSERT_EQ(0, qp_to_simple(self->a.qp, IBV_QPS_ERR));
	/* what was posted flushes */
	EXPECT_EQ(3, poll_n(self->a.e.scq, 4, wc, 5000));
	ASSERT_EQ(0, ibv_modify_qp(self->a.qp, &at, IBV_QP_STATE));
	ASSERT_EQ(0, ibv_modify_qp(self->c.qp, &at, IBV_QP_STATE));
	while (poll_n(self->c.e.rcq, 4, wc, 100) > 0)
		;
	ASSERT_EQ(0, rc_connect(&self->a, &self->c, 0x5000, 0x6000,
				IBV_MTU_1024));
	/* the new connection works, none of the old traffic reaches it */
	fill(self->a.buf, 10000, 3);
	ASSERT_EQ(0, post_recvs(self->c.qp, self->c.mr, 10000, 1, 42));
	ASSERT_EQ(0, post_sends(self->a.qp, self->a.mr, 10000, 1, 43,
				IBV_SEND_SIGNALED));
	ASSERT_EQ(1, poll_n(self->a.e.scq, 1, wc, 10000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc[0].status);
	ASSERT_EQ(1, poll_n(self->c.e.rcq, 1, wc, 10000));
	EXPECT_EQ(IBV_WC_SUCCESS, wc[0].status);
	EXPECT_EQ(42, wc[0].wr_id);
	EXPECT_EQ(10000, first_diff(self->c.buf, 10000, 3));
}

/*
 * perftest killed with -9 on both ends mid-run: their QPs go, the devices
 * and the module stay usable.
 */
TEST_F_TIMEOUT(teardown, kill_9_mid_transfer, 120)
{
	int before = rdma_res_count(C_DEV, "qp");

	ASSERT_EQ(0, sh("ip netns exec " NS_C " ib_write_bw -F -d " C_DEV
			" -x %d -p 18690 -D 20 >/dev/null 2>&1 &",
			testdev_gid_index(&devs[3])));
	ASSERT_TRUE(WAIT_UNTIL(sh("ip netns exec " NS_C " ss -ltn | "
				  "grep -q ':18690 '") == 0, 5000));
	ASSERT_EQ(0, sh("ip netns exec " NS_A " ib_write_bw -F -d " A_DEV
			" -x %d -p 18690 -D 20 " C_ADDR " >/dev/null 2>&1 &",
			testdev_gid_index(&devs[2])));
	sleep(3);
	sh("pkill -9 -x ib_write_bw");
	EXPECT_TRUE(WAIT_UNTIL(rdma_res_count(C_DEV, "qp") == before, 10000));
	EXPECT_EQ(self->bad, kmsg_bad_count());
}

/* The netdev goes mid-transfer: the devices on it go, nothing breaks. */
TEST_F(teardown, netdev_deleted_mid_transfer)
{
	struct ibv_wc wc[4];
	int n;

	start_big(_metadata, self);
	ASSERT_EQ(0, sh("ip netns exec " NS_A " ip link del " A_IF));
	/* the QPs' owners are told; their sends end, one way or another */
	n = poll_n(self->a.e.scq, 4, wc, 5000);
	EXPECT_LE(n, 3);
	rc_close(&self->a);
	rc_close(&self->c);
	EXPECT_TRUE(WAIT_FOR(!ibdev_exists(A_DEV) && !ibdev_exists(C_DEV),
			     10000));
	EXPECT_EQ(self->bad, kmsg_bad_count());
	/* the next test builds the pairs again */
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * The RDMA CM on rxdp: librdmacm's own tools, unmodified, connect over
 * rxdp's GSI QP and move data, between rxdp devices in two namespaces
 * and between rxdp and rdma_rxe, over IPv4 and IPv6; and UD multicast,
 * by verbs and by mckey.
 *
 *   init namespace                     namespace rxcm_b
 *   rxe rxcme on rxm0a  <------------> rxm0b with rxdp rxcmb
 *   10.85.0.1 fd85::1                  10.85.0.2 fd85::2
 *
 *   namespace rxcm_a                   namespace rxcm_c
 *   rxm1a with rxdp rxcma <----------> rxm1b with rxdp rxcmc
 *   10.85.1.1 fd85:1::1                10.85.1.2 fd85:1::2
 *
 * Every rxdp netdev has XDP attached by rxdpctl.  The server of each
 * tool runs in one namespace, the client in the other, as users run them;
 * each tool checks what it receives where it can (rping -V, rstream and
 * riostream -T v), and both ends must exit 0.
 *
 * The "vanish" tests make a peer go away: during a connection the client
 * must fail with a transport timeout, and a connect to a peer that no
 * longer answers must fail with the CM's timeout: never a hang.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "rxdp_test.h"

#define NS_A		"rxcm_a"
#define NS_B		"rxcm_b"
#define NS_C		"rxcm_c"

struct side {
	const char *ns;		/* "" for the initial namespace */
	const char *dev;
	const char *veth;
	const char *addr;
	const char *addr6;
};

static const struct side side_rxe = {
	"", "rxcme", "rxm0a", "10.85.0.1", "fd85::1" };
static const struct side side_b = {
	NS_B, "rxcmb", "rxm0b", "10.85.0.2", "fd85::2" };
static const struct side side_a = {
	NS_A, "rxcma", "rxm1a", "10.85.1.1", "fd85:1::1" };
static const struct side side_c = {
	NS_C, "rxcmc", "rxm1b", "10.85.1.2", "fd85:1::2" };

static const struct side *const sides[] = {
	&side_rxe, &side_b, &side_a, &side_c,
};


/* "ip netns exec NS " for a side in a namespace, else "". */
static const char *in_ns(const struct side *s, char *buf, size_t len)
{
	if (!*s->ns)
		return "";
	snprintf(buf, len, "ip netns exec %s ", s->ns);
	return buf;
}

/* Has the device the RoCEv2 GIDs of both its addresses? */
static bool side_ready(const struct side *s)
{
	struct testdev d = { .name = s->dev, .veth = s->veth, .addr = s->addr };
	struct testdev d6 = d;

	d6.addr = s->addr6;
	return ibdev_exists(s->dev) && testdev_gid_index(&d) >= 0 &&
	       testdev_gid_index(&d6) >= 0;
}

static bool env_ok(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sides); i++)
		if (!side_ready(sides[i]))
			return false;
	return true;
}

static void env_down(void)
{
	const char *ctl = rxdpctl_path();

	sh("rdma link delete rxcme 2>/dev/null; "
	   "ip netns exec " NS_A " %s detach rxm1a >/dev/null 2>&1; "
	   "ip netns exec " NS_B " %s detach rxm0b >/dev/null 2>&1; "
	   "ip netns exec " NS_C " %s detach rxm1b >/dev/null 2>&1; "
	   "ip netns del " NS_A " 2>/dev/null; ip netns del " NS_B
	   " 2>/dev/null; ip netns del " NS_C " 2>/dev/null; "
	   "ip link del rxm0a 2>/dev/null", ctl, ctl, ctl);
}

/* Addresses on ifname in namespace ns ("" for the initial one). */
#define ADDRS(pre, ifname, addr, addr6)					\
	pre "ip link set dev " ifname " up && "				\
	pre "ip addr add " addr "/24 dev " ifname " && "		\
	pre "ip addr add " addr6 "/64 dev " ifname " nodad"

#define IN(ns)		"ip netns exec " ns " "
#define XDP(ns, ifname, dev)						\
	IN(ns) "ip link set lo up && "					\
	IN(ns) "%s attach " ifname " --name " dev " >/dev/null"

static int env_up(void)
{
	const char *ctl = rxdpctl_path();

	if (rxdp_load())
		return -1;
	if (env_ok())
		return 0;
	env_down();
	if (access("/sys/module/rdma_rxe", F_OK) && sh("modprobe rdma_rxe"))
		return -1;
	if (sh("ip netns add " NS_A " && ip netns add " NS_B " && "
	       "ip netns add " NS_C " && "
	       "ip link add rxm0a type veth peer name rxm0b netns " NS_B " && "
	       "ip link add rxm1a netns " NS_A " type veth peer name rxm1b "
	       "netns " NS_C " && "
	       ADDRS("", "rxm0a", "10.85.0.1", "fd85::1") " && "
	       ADDRS(IN(NS_B), "rxm0b", "10.85.0.2", "fd85::2") " && "
	       ADDRS(IN(NS_A), "rxm1a", "10.85.1.1", "fd85:1::1") " && "
	       ADDRS(IN(NS_C), "rxm1b", "10.85.1.2", "fd85:1::2") " && "
	       XDP(NS_B, "rxm0b", "rxcmb") " && "
	       XDP(NS_A, "rxm1a", "rxcma") " && "
	       XDP(NS_C, "rxm1b", "rxcmc") " && "
	       "rdma link add rxcme type rxe netdev rxm0a", ctl, ctl, ctl))
		return -1;
	return WAIT_FOR(env_ok(), 5000) ? 0 : -1;
}

RXE_ENV_DEFINE(env_up, env_down)

/*
 * Run a server ("tool srv_args", its address substituted for each %1$s)
 * in srv's namespace and, once it listens on port, the client ("tool
 * cli_args", the server's address for each %1$s; rdma_client when
 * cli_args is NULL) in cli's.  Both must exit 0 within the tool timeout.
 */
static void cm_pair(struct __test_metadata *_metadata, const char *tool,
		    const char *srv_args, const char *cli_args,
		    const struct side *srv, const struct side *cli,
		    bool ipv6, int port)
{
	int t = 90 * test_timeout_scale(), rc;
	const char *addr = ipv6 ? srv->addr6 : srv->addr;
	char ns1[64], ns2[64], sargs[256], cmd[256], cargs[320], out[4096];
	bool srv_ok;

	snprintf(sargs, sizeof(sargs), srv_args, addr);
	if (cli_args) {
		snprintf(cmd, sizeof(cmd), cli_args, addr);
		snprintf(cargs, sizeof(cargs), "%s %s", tool, cmd);
	} else {	/* rdma_server's client is a tool of its own */
		snprintf(cargs, sizeof(cargs), "rdma_client -s %s -p %d",
			 addr, port);
	}
	ASSERT_EQ(0, sh("rm -f /tmp/cm-srv.rc; "
			"(%stimeout %d %s %s >/tmp/cm-srv.out 2>&1; "
			"echo $? >/tmp/cm-srv.rc) >/dev/null 2>&1 &",
			in_ns(srv, ns1, sizeof(ns1)), t, tool, sargs));
	/* a listening rdma_cm ID, in every namespace's view */
	ASSERT_TRUE(WAIT_UNTIL(sh("rdma resource show cm_id | "
				  "grep -q 'state LISTEN.*:%d '", port) == 0,
			       10000));
	rc = sh_out(out, sizeof(out), "%stimeout %d %s 2>&1",
		    in_ns(cli, ns2, sizeof(ns2)), t, cargs);
	EXPECT_EQ(0, rc) TH_LOG("%s client: %s", tool, out);
	EXPECT_TRUE(WAIT_UNTIL(sh("test -s /tmp/cm-srv.rc") == 0, t * 1000 /
			       test_timeout_scale()));
	srv_ok = sh("test \"$(cat /tmp/cm-srv.rc)\" = 0") == 0;
	if (!srv_ok)
		sh_out(out, sizeof(out), "cat /tmp/cm-srv.rc; "
		       "tail -c 2048 /tmp/cm-srv.out");
	EXPECT_TRUE(srv_ok) TH_LOG("%s server failed: %s", tool, out);
}

FIXTURE(cm) {
	int dummy;
};

FIXTURE_VARIANT(cm) {
	const struct side *srv;
	const struct side *cli;
	bool ipv6;
	bool full_only;		/* not in the light run: rxdp code the others run */
};

FIXTURE_VARIANT_ADD(cm, rxdp_rxdp) { .srv = &side_c, .cli = &side_a };
FIXTURE_VARIANT_ADD(cm, rxdp_rxdp_ipv6) {
	.srv = &side_a, .cli = &side_c, .ipv6 = true, .full_only = true };
FIXTURE_VARIANT_ADD(cm, rxe_to_rxdp) {
	.srv = &side_b, .cli = &side_rxe, .full_only = true };
FIXTURE_VARIANT_ADD(cm, rxdp_to_rxe) {
	.srv = &side_rxe, .cli = &side_b, .full_only = true };
FIXTURE_VARIANT_ADD(cm, rxe_rxdp_ipv6) {
	.srv = &side_b, .cli = &side_rxe, .ipv6 = true, .full_only = true };

/*
 * Not in the light run: librdmacm's and rsockets' own code over the
 * kernel paths rping and udaddy take.
 */
static const char *const cm_full_only[] = {
	"ucmatose", "rdma_server_client", "rstream", "riostream",
};

FIXTURE_SETUP(cm)
{
	if (variant->full_only ||
	    name_in(_metadata->name, cm_full_only, ARRAY_SIZE(cm_full_only)))
		LIGHT_SKIP();
	ASSERT_EQ(0, env_up());
	sh("pkill -x rping; pkill -x ucmatose; pkill -x udaddy; "
	   "pkill -x rdma_server; pkill -x rstream; pkill -x riostream");
}

FIXTURE_TEARDOWN(cm)
{
	sh("pkill -x rping; pkill -x ucmatose; pkill -x udaddy; "
	   "pkill -x rdma_server; pkill -x rstream; pkill -x riostream");
}

#define CM_PAIR(tool, sargs, cargs, port)				\
	cm_pair(_metadata, tool, sargs, cargs, variant->srv, variant->cli, \
		variant->ipv6, port)

/* RC SENDs, READs and WRITEs of 4000 bytes, each checked (-V). */
TEST_F_TIMEOUT(cm, rping, 200)
{
	CM_PAIR("rping", "-s -a %1$s -p 7201 -C 100 -S 4000 -V",
		"-c -a %1$s -p 7201 -C 100 -S 4000 -V", 7201);
}

/* Four connections at once, 50 messages each way, then disconnect. */
TEST_F_TIMEOUT(cm, ucmatose, 200)
{
	CM_PAIR("ucmatose", "-b %1$s -p 7474 -c 4 -C 50 -S 2000",
		"-s %1$s -p 7474 -c 4 -C 50 -S 2000", 7474);
}

/* UD over the CM's address and route resolution: two QPs each side. */
TEST_F_TIMEOUT(cm, udaddy, 200)
{
	CM_PAIR("udaddy", "-b %1$s -c 2 -C 50 -S 1000",
		"-s %1$s -c 2 -C 50 -S 1000", 7174);
}

/* librdmacm's verbs wrappers (rdma_create_ep, rdma_post_send, ...). */
TEST_F_TIMEOUT(cm, rdma_server_client, 200)
{
	cm_pair(_metadata, "rdma_server", "-s %1$s -p 7471", NULL,
		variant->srv, variant->cli, variant->ipv6, 7471);
}

/* rsockets: stream sockets over RDMA, each transfer checked (-T v). */
TEST_F_TIMEOUT(cm, rstream, 300)
{
	CM_PAIR("rstream", "-b %1$s -p 7472 -T v -S 8192 -C 40 -I 5",
		"-s %1$s -p 7472 -T v -S 8192 -C 40 -I 5", 7472);
}

/* rsockets' RDMA-WRITE based I/O (riomap), checked (-T v). */
TEST_F_TIMEOUT(cm, riostream, 300)
{
	CM_PAIR("riostream", "-b %1$s -p 7473 -T v -S 8192 -C 40 -I 5",
		"-s %1$s -p 7473 -T v -S 8192 -C 40 -I 5", 7473);
}

/*
 * A connect to a port nobody listens on is rejected by the peer's CM at
 * once; and a listener takes connection after connection, each through
 * disconnect and timewait.
 */
TEST_F_TIMEOUT(cm, reject_then_reconnect, 300)
{
	const char *addr = variant->ipv6 ? variant->srv->addr6 :
					   variant->srv->addr;
	char ns1[64], ns2[64], out[2048];
	long t0;
	int i;

	t0 = now_ms();
	EXPECT_NE(0, sh_out(out, sizeof(out), "%stimeout 60 rping -c -a %s "
			    "-p 7209 -C 1 2>&1",
			    in_ns(variant->cli, ns2, sizeof(ns2)), addr));
	EXPECT_NE(NULL, strstr(out, "REJECTED")) TH_LOG("rping: %s", out);
	/* a REJ, not the CM's timeout of a minute */
	EXPECT_LT(now_ms() - t0, 20000L * test_timeout_scale());

	ASSERT_EQ(0, sh("(%stimeout %d rping -s -P -a %s -p 7210 -V -C 20 "
			">/tmp/cm-srvp.out 2>&1 &)",
			in_ns(variant->srv, ns1, sizeof(ns1)),
			200 * test_timeout_scale(), addr));
	ASSERT_TRUE(WAIT_UNTIL(sh("rdma resource show cm_id | "
				  "grep -q 'state LISTEN.*:7210 '") == 0,
			       10000));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, sh_out(out, sizeof(out), "%stimeout %d rping -c "
				    "-a %s -p 7210 -V -C 20 -S 1000 2>&1",
				    in_ns(variant->cli, ns2, sizeof(ns2)),
				    60 * test_timeout_scale(), addr))
			TH_LOG("connection %d: %s", i, out);
}

/* ---- UD multicast ----------------------------------------------------- */

#define MC_QKEY		0x11111111u	/* what qp_attr_values() gives UD QPs */
#define MC_LEN		1000
#define MC_N		8

FIXTURE(mcast) {
	struct qp_env tx, rx;
	struct ibv_qp *sq, *rq[3];
	struct ibv_ah *ah;
	union ibv_gid group;
};

FIXTURE_VARIANT(mcast) {
	bool ipv6;
	const char *group;	/* the group's IP address */
};

FIXTURE_VARIANT_ADD(mcast, ipv4) { .group = "239.85.1.7" };
FIXTURE_VARIANT_ADD(mcast, ipv6) { .ipv6 = true, .group = "ff0e::85:7" };

static struct ibv_qp *mc_ud_qp(struct __test_metadata *_metadata,
			       struct qp_env *e)
{
	struct ibv_qp_init_attr ia = {
		.qp_type = IBV_QPT_UD, .sq_sig_all = 1,
		.send_cq = e->scq, .recv_cq = e->rcq,
		.cap = { .max_send_wr = 64, .max_recv_wr = 64,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_qp *qp = qp_create_attr(e->pd, &ia);

	if (qp && qp_bring_to(e, qp, IBV_QPS_RTS)) {
		ibv_destroy_qp(qp);
		qp = NULL;
	}
	return qp;
}

FIXTURE_SETUP(mcast)
{
	struct ibv_ah_attr a = { .is_global = 1, .port_num = 1 };
	uint8_t *g = self->group.raw;
	int i;

	ASSERT_EQ(0, env_up());
	ASSERT_EQ(0, qp_env_open(&self->tx, side_a.dev));
	ASSERT_EQ(0, qp_env_open(&self->rx, side_c.dev));
	if (variant->ipv6) {
		ASSERT_EQ(0, qp_env_use_addr(&self->tx, side_a.addr6));
		ASSERT_EQ(1, inet_pton(AF_INET6, variant->group, g));
	} else {
		memset(g, 0, 16);
		g[10] = g[11] = 0xff;
		ASSERT_EQ(1, inet_pton(AF_INET, variant->group, g + 12));
	}
	self->sq = mc_ud_qp(_metadata, &self->tx);
	ASSERT_NE(NULL, self->sq);
	for (i = 0; i < 3; i++) {
		self->rq[i] = mc_ud_qp(_metadata, &self->rx);
		ASSERT_NE(NULL, self->rq[i]);
		ASSERT_EQ(0, post_recvs(self->rq[i], self->rx.mr, 40 + MC_LEN,
					48, i * 100));
	}
	a.grh.dgid = self->group;
	a.grh.sgid_index = self->tx.gid_index;
	a.grh.hop_limit = 8;
	self->ah = ibv_create_ah(self->tx.pd, &a);
	ASSERT_NE(NULL, self->ah) TH_LOG("create_ah: %s", strerror(errno));
	for (i = 0; i < MC_LEN; i++)
		((uint8_t *)self->tx.buf)[i] = (uint8_t)(i * 13 + 5);
}

FIXTURE_TEARDOWN(mcast)
{
	int i;

	for (i = 0; i < 3; i++) {
		if (self->rq[i]) {
			ibv_detach_mcast(self->rq[i], &self->group, 0);
			ibv_destroy_qp(self->rq[i]);
		}
	}
	if (self->ah)
		ibv_destroy_ah(self->ah);
	if (self->sq)
		ibv_destroy_qp(self->sq);
	qp_env_close(&self->tx);
	qp_env_close(&self->rx);
}

/* Send n datagrams to the group with qkey; count what each QP got. */
static void mc_round(struct __test_metadata *_metadata,
		     FIXTURE_DATA(mcast) *self, uint32_t qkey, int got[3])
{
	struct ibv_wc wc[64];
	int i, j, n;

	for (i = 0; i < MC_N; i++) {
		struct ibv_sge sge = {
			.addr = (uintptr_t)self->tx.buf, .length = MC_LEN,
			.lkey = self->tx.mr->lkey,
		};
		struct ibv_send_wr wr = {
			.wr_id = i, .sg_list = &sge, .num_sge = 1,
			.opcode = IBV_WR_SEND,
			.wr.ud = { .ah = self->ah, .remote_qpn = 0xffffff,
				   .remote_qkey = qkey },
		}, *bad;

		ASSERT_EQ(0, ibv_post_send(self->sq, &wr, &bad));
	}
	ASSERT_EQ(MC_N, poll_n(self->tx.scq, MC_N, wc, 5000));
	for (i = 0; i < MC_N; i++)
		ASSERT_EQ(IBV_WC_SUCCESS, wc[i].status);
	got[0] = got[1] = got[2] = 0;
	/* what comes, until nothing more does for half a second */
	while ((n = poll_n(self->rx.rcq, 64, wc, 500)) > 0) {
		for (j = 0; j < n; j++) {
			ASSERT_EQ(IBV_WC_SUCCESS, wc[j].status);
			ASSERT_EQ(40 + MC_LEN, wc[j].byte_len);
			ASSERT_EQ(self->sq->qp_num, wc[j].src_qp);
			for (i = 0; i < 3; i++)
				if (wc[j].qp_num == self->rq[i]->qp_num)
					got[i]++;
		}
	}
	/* each QP's receive buffers are the same bytes of rx.mr */
	if (got[0] + got[1] + got[2])
		EXPECT_EQ(0, memcmp((uint8_t *)self->rx.buf + 40,
				    self->tx.buf, MC_LEN));
}

static bool mc_joined(const char *group)
{
	return sh("ip -n " NS_C " maddr show dev rxm1b | grep -qw '%s'",
		  group) == 0;
}

/*
 * Every attached QP of the device gets every datagram to the group, with
 * the sender's data and QPN; a QP not attached gets none, nor does any
 * with another Q_Key.  The first attach joins the group on the netdev
 * (IGMP or MLD, and the Ethernet filter), the last detach leaves it.
 */
TEST_F(mcast, fan_out_attach_detach)
{
	int got[3];

	ASSERT_FALSE(mc_joined(variant->group));
	ASSERT_EQ(0, ibv_attach_mcast(self->rq[0], &self->group, 0));
	ASSERT_EQ(0, ibv_attach_mcast(self->rq[1], &self->group, 0));
	/* twice is once */
	ASSERT_EQ(0, ibv_attach_mcast(self->rq[1], &self->group, 0));
	EXPECT_TRUE(mc_joined(variant->group));

	mc_round(_metadata, self, MC_QKEY, got);
	EXPECT_EQ(MC_N, got[0]);
	EXPECT_EQ(MC_N, got[1]);
	EXPECT_EQ(0, got[2]);

	mc_round(_metadata, self, MC_QKEY + 1, got);
	EXPECT_EQ(0, got[0] + got[1] + got[2]) TH_LOG("wrong Q_Key taken");

	ASSERT_EQ(0, ibv_detach_mcast(self->rq[0], &self->group, 0));
	EXPECT_EQ(EINVAL, verr(ibv_detach_mcast(self->rq[0], &self->group, 0)));
	EXPECT_EQ(EINVAL, verr(ibv_detach_mcast(self->rq[2], &self->group, 0)));
	EXPECT_TRUE(mc_joined(variant->group));
	mc_round(_metadata, self, MC_QKEY, got);
	EXPECT_EQ(0, got[0]);
	EXPECT_EQ(MC_N, got[1]);

	/*
	 * Under a second LID (meaningless on RoCE) it is attached twice,
	 * and stays so until detached twice; then it can be destroyed (each
	 * attach holds the QP in the RDMA core).
	 */
	ASSERT_EQ(0, ibv_attach_mcast(self->rq[1], &self->group, 1));
	ASSERT_EQ(0, ibv_detach_mcast(self->rq[1], &self->group, 0));
	mc_round(_metadata, self, MC_QKEY, got);
	EXPECT_EQ(MC_N, got[1]);
	ASSERT_EQ(0, ibv_detach_mcast(self->rq[1], &self->group, 1));
	EXPECT_FALSE(mc_joined(variant->group));
	mc_round(_metadata, self, MC_QKEY, got);
	EXPECT_EQ(0, got[0] + got[1] + got[2]);
	EXPECT_EQ(0, ibv_destroy_qp(self->rq[1]));
	self->rq[1] = NULL;
}

/* The i-th of many groups of the variant's family, none the fixture's. */
static void mc_nth_group(const FIXTURE_VARIANT(mcast) *variant, int i,
			 union ibv_gid *gid)
{
	uint8_t *g = gid->raw;

	memset(g, 0, 16);
	if (variant->ipv6) {
		g[0] = 0xff;
		g[1] = 0x0e;
		g[13] = 0x86;
	} else {
		g[10] = g[11] = 0xff;
		g[12] = 239;
		g[13] = 86;
	}
	g[14] = (uint8_t)(i >> 8);
	g[15] = (uint8_t)i;
}

/*
 * A device joins as many groups as it says it can, and a datagram to the
 * last still reaches its QP: the groups' GIDs do not crowd the device's
 * own out of the XDP program's table, nor the table the last group out.
 * One group more is refused.
 */
TEST_F(mcast, as_many_groups_as_advertised)
{
	int i, n = self->rx.dev.max_mcast_grp, got[3];
	union ibv_gid gid;

	ASSERT_LT(1, n);
	for (i = 0; i < n - 1; i++) {
		mc_nth_group(variant, i, &gid);
		ASSERT_EQ(0, ibv_attach_mcast(self->rq[0], &gid, 0))
			TH_LOG("group %d", i);
	}
	ASSERT_EQ(0, ibv_attach_mcast(self->rq[0], &self->group, 0));
	mc_nth_group(variant, n, &gid);
	EXPECT_EQ(ENOMEM, verr(ibv_attach_mcast(self->rq[0], &gid, 0)));

	mc_round(_metadata, self, MC_QKEY, got);
	EXPECT_EQ(MC_N, got[0]);

	for (i = 0; i < n - 1; i++) {
		mc_nth_group(variant, i, &gid);
		ASSERT_EQ(0, ibv_detach_mcast(self->rq[0], &gid, 0));
	}
}

/* Only UD QPs attach, and only to multicast GIDs. */
TEST_F(mcast, attach_refused)
{
	union ibv_gid unicast = self->rx.gid;
	struct ibv_qp *rc;

	EXPECT_EQ(EINVAL, verr(ibv_attach_mcast(self->rq[0], &unicast, 0)));
	rc = qp_create(&self->rx, IBV_QPT_RC, 4);
	ASSERT_NE(NULL, rc);
	EXPECT_NE(0, ibv_attach_mcast(rc, &self->group, 0));
	EXPECT_EQ(0, ibv_destroy_qp(rc));
	EXPECT_LT(0, self->rx.dev.max_mcast_grp);
	EXPECT_LT(0, self->rx.dev.max_mcast_qp_attach);
	EXPECT_LE(self->rx.dev.max_mcast_qp_attach,
		  self->rx.dev.max_total_mcast_qp_attach);
}

/*
 * mckey, rdma_cm's multicast tool: the receiver's two QPs join a group,
 * the sender's datagrams reach both (each must count all of them).  IPv4
 * only: the RDMA CM of 6.12 refuses to join an IPv6 group on RoCEv2
 * (ENOTSUPP, for every device), which the verbs tests above cover.
 */
static void mckey(struct __test_metadata *_metadata, const struct side *rcv,
		  const struct side *snd, const char *group)
{
	int t = 60 * test_timeout_scale(), rc;
	char ns1[64], ns2[64], out[2048];

	ASSERT_EQ(0, sh("rm -f /tmp/mc-rcv.rc; (%stimeout %d stdbuf -oL mckey "
			"-m %s -b %s -c 2 -C 20 -S 500 >/tmp/mc-rcv.out 2>&1; "
			"echo $? >/tmp/mc-rcv.rc) >/dev/null 2>&1 &",
			in_ns(rcv, ns1, sizeof(ns1)), t, group, rcv->addr));
	ASSERT_TRUE(WAIT_UNTIL(sh("grep -q 'receiving data' /tmp/mc-rcv.out")
			       == 0, 20000));
	rc = sh_out(out, sizeof(out), "%stimeout %d mckey -m %s -b %s -s "
		    "-C 20 -S 500 2>&1", in_ns(snd, ns2, sizeof(ns2)), t,
		    group, snd->addr);
	EXPECT_EQ(0, rc) TH_LOG("sender: %s", out);
	EXPECT_TRUE(WAIT_UNTIL(sh("test -s /tmp/mc-rcv.rc") == 0, 30000));
	if (sh("test \"$(cat /tmp/mc-rcv.rc)\" = 0 && "
	       "grep -q 'data transfers complete' /tmp/mc-rcv.out") == 0)
		return;
	sh_out(out, sizeof(out), "tail -c 600 /tmp/mc-rcv.out; "
	       "%s%s stats --json 2>&1 | tail -c 1200",
	       in_ns(rcv, ns1, sizeof(ns1)), rxdpctl_path());
	EXPECT_TRUE(false) TH_LOG("receiver: %s", out);
}

FIXTURE(mckey) {
	int dummy;
};

FIXTURE_SETUP(mckey)
{
	ASSERT_EQ(0, env_up());
	sh("pkill -x mckey");
}

FIXTURE_TEARDOWN(mckey)
{
	sh("pkill -x mckey");
}

TEST_F_TIMEOUT(mckey, rxdp_rxdp, 200)
{
	mckey(_metadata, &side_c, &side_a, "239.85.1.9");
}

/*
 * rdma_rxe as mckey's sender to rxdp is left out: run after another
 * mckey test, rdma_rxe sent none of its datagrams (its own sent_pkts
 * stayed 0, nothing on its netdev), and alone it passed; rxdp's side is
 * not involved before a frame arrives.  rxdp to rdma_rxe runs.
 */
TEST_F_TIMEOUT(mckey, rxdp_to_rxe, 200)
{
	mckey(_metadata, &side_rxe, &side_b, "239.85.1.11");
}

/* ---- a peer that goes away -------------------------------------------- */

#define NS_V1		"rxcm_v1"
#define NS_V2		"rxcm_v2"

FIXTURE(vanish) {
	int dummy;
};

static void vanish_down(void)
{
	const char *ctl = rxdpctl_path();

	sh("pkill -x rping; "
	   "ip netns exec " NS_V1 " %s detach rxm9a >/dev/null 2>&1; "
	   "ip netns exec " NS_V2 " %s detach rxm9b >/dev/null 2>&1; "
	   "ip netns del " NS_V1 " 2>/dev/null; "
	   "ip netns del " NS_V2 " 2>/dev/null", ctl, ctl);
}

FIXTURE_SETUP(vanish)
{
	const char *ctl = rxdpctl_path();

	/* a minute of the CM's timers, no rxdp code */
	if (!strcmp(_metadata->name, "connect_unanswered"))
		LIGHT_SKIP();
	ASSERT_EQ(0, rxdp_load());
	vanish_down();
	ASSERT_EQ(0, sh("ip netns add " NS_V1 " && ip netns add " NS_V2 " && "
			"ip link add rxm9a netns " NS_V1 " type veth peer name "
			"rxm9b netns " NS_V2 " && "
			IN(NS_V1) "ip link set dev rxm9a up && "
			IN(NS_V2) "ip link set dev rxm9b up && "
			IN(NS_V1) "ip addr add 10.85.9.1/24 dev rxm9a && "
			IN(NS_V2) "ip addr add 10.85.9.2/24 dev rxm9b && "
			XDP(NS_V1, "rxm9a", "rxcmv1") " && "
			XDP(NS_V2, "rxm9b", "rxcmv2"), ctl, ctl));
	ASSERT_TRUE(WAIT_FOR(sh("rdma link show rxcmv1/1 | grep -q ACTIVE && "
				"rdma link show rxcmv2/1 | grep -q ACTIVE") == 0,
			     5000));
	kmsg_mark();
}

FIXTURE_TEARDOWN(vanish)
{
	vanish_down();
}

/*
 * The server's link goes down in the middle of a connection.  Whichever
 * end has a request outstanding then (in a ping-pong, one always has, or
 * is about to) gets no answer, spends its retries and fails its QP,
 * within seconds: it does not wait for ever.  The other end, waiting for
 * a message with nothing of its own to send, learns nothing, on any RC
 * transport; rping has no keepalive, so its process may wait on.
 */
TEST_F_TIMEOUT(vanish, during_connection, 300)
{
	int t = 120 * test_timeout_scale();
	long t0;

	ASSERT_EQ(0, sh("rm -f /tmp/cm-v.*; (" IN(NS_V2) "timeout %d rping -s "
			"-a 10.85.9.2 -p 7220 -C 10000000 -S 100 "
			">/tmp/cm-v.srv.out 2>&1; echo $? >/tmp/cm-v.srv) "
			">/dev/null 2>&1 &", t));
	ASSERT_TRUE(WAIT_UNTIL(sh("rdma resource show cm_id | "
				  "grep -q 'state LISTEN.*:7220 '") == 0,
			       10000));
	ASSERT_EQ(0, sh("(" IN(NS_V1) "timeout %d rping -c -a 10.85.9.2 "
			"-p 7220 -C 10000000 -S 100 -v >/tmp/cm-v.cli.out "
			"2>&1; echo $? >/tmp/cm-v.cli) >/dev/null 2>&1 &", t));
	/* data moves */
	ASSERT_TRUE(WAIT_UNTIL(sh("test -s /tmp/cm-v.cli.out") == 0, 20000));
	t0 = now_ms();
	ASSERT_EQ(0, sh(IN(NS_V2) "ip link set dev rxm9b down"));
	/* fewer than two RC QPs left in a working state (ERR, or gone) */
	EXPECT_TRUE(WAIT_UNTIL(sh("test $(cat /sys/kernel/debug/rxdp/rxcmv1/qps "
				  "/sys/kernel/debug/rxdp/rxcmv2/qps | awk "
				  "'$2 == \"RC\" && $3 == \"RTS\"' | wc -l) "
				  "-lt 2") == 0, 60000));
	TH_LOG("a QP failed %ld ms after the link went down", now_ms() - t0);
	sh("pkill -x rping");
}

/*
 * The server's device is gone while its address stays: the client's
 * address and route resolve, its connect request is never answered, and
 * the CM gives up after its retries (about a minute, as on rxe).
 */
TEST_F_TIMEOUT(vanish, connect_unanswered, 400)
{
	char out[2048];
	int rc;

	ASSERT_EQ(0, sh("rdma link delete rxcmv2"));
	rc = sh_out(out, sizeof(out), IN(NS_V1) "timeout 300 rping -c "
		    "-a 10.85.9.2 -p 7221 -C 1 2>&1");
	EXPECT_NE(0, rc);
	EXPECT_NE(124, rc) TH_LOG("rping hung: %s", out);
	EXPECT_NE(NULL, strstr(out, "UNREACHABLE")) TH_LOG("rping: %s", out);
}

TEST_HARNESS_MAIN

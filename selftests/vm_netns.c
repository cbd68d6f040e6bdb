// SPDX-License-Identifier: GPL-2.0
/*
 * rxdp and network namespaces: the RDMA core's "exclusive" mode, where a
 * device belongs to one namespace and "rdma dev set DEV netns NS" moves
 * it; the netdev's own moves, which keep the device; and the deletion of
 * a namespace that holds a device.
 *
 *   init namespace                      namespace rxns_a
 *   rxe rxnse on rxn0a  <------------>  rxn0b, rxdp rxnsa (XDP by rxdpctl)
 *   10.87.0.1                           10.87.0.2
 *   rxdp rxnsr on rxn1a (peer rxn1b), 10.87.1.1: moved to rxns_a, its
 *   netdev left in the initial namespace
 *
 * The mode is global and the RDMA core changes it only while no namespace
 * but the initial one exists: each test sets it to exclusive after the
 * namespaces of earlier tests are gone, and its teardown (in the parent,
 * so that it runs even when the test crashed) and the binary's exit set
 * it back to shared, which every other test file expects.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "kselftest_harness.h"
#include "rxdp_test.h"

#define NS		"rxns_a"
#define NS_M		"rxns_m"
#define INIT		"rxns_init"	/* a name for the initial namespace */
#define IN(ns)		"ip netns exec " ns " "

/* ---- the namespace mode ---------------------------------------------- */

/*
 * Set the RDMA core's mode, waiting out namespaces that are still being
 * cleaned up (EBUSY meanwhile).  0, or -1 when it did not change.
 */
static int netns_mode_set(const char *mode)
{
	if (!WAIT_UNTIL(sh("rdma system set netns %s 2>/dev/null", mode) == 0,
			20000))
		return -1;
	return sh("rdma system show | grep -q 'netns %s'", mode) ? -1 : 0;
}

/*
 * Everything the tests make, gone; the mode shared again.  0 or -1.
 * rxdpctl detaches where it attached: in the initial namespace, once the
 * netdev is back there (taken out of its namespace before that goes) and
 * the RDMA core has moved the devices back (the mode changes only then).
 */
static int env_clean(void)
{
	int ret;

	/* a process left in a namespace would keep it, and the mode, alive */
	sh("for n in " NS " " NS_M "; do [ -e /run/netns/$n ] && "
	   "{ ip netns pids $n | xargs -r kill -9; "
	   "ip -n $n link set rxn0b netns 1 2>/dev/null; ip netns del $n; }; "
	   "done; [ -e /run/netns/" INIT " ] && ip netns del " INIT "; true");
	ret = netns_mode_set("shared");
	sh("for i in rxn0b rxn1a; do [ -e /sys/fs/bpf/rxdp/$i ] && "
	   "%s detach $i >/dev/null 2>&1; done; "
	   "for d in rxnsa rxnsr rxnse rxnsm; do "
	   "[ -e /sys/class/infiniband/$d ] && rdma link delete $d; done; "
	   "for i in rxn0a rxn1a rxn2a rxn2b; do "
	   "[ -e /sys/class/net/$i ] && ip link del $i; done; true",
	   rxdpctl_path());
	pin_dir_remove("rxn0b");
	pin_dir_remove("rxn1a");
	return ret;
}

static int env_up(void)
{
	return rxdp_load() || env_clean() ? -1 : 0;
}

static void env_down(void)
{
	env_clean();
}

RXE_ENV_DEFINE(env_up, env_down)

/* ---- what a namespace sees ------------------------------------------- */

/*
 * Does namespace ns (NULL: the initial one) see the RDMA device, by the
 * RDMA netlink and by libibverbs?  Both or neither, or the test fails.
 */
static bool seen_in(struct __test_metadata *_metadata, const char *ns,
		    const char *dev)
{
	char pre[64] = "", out[2048];
	bool nl, verbs;

	if (ns)
		snprintf(pre, sizeof(pre), "ip netns exec %s ", ns);
	nl = sh("%srdma dev show %s >/dev/null 2>&1", pre, dev) == 0;
	verbs = sh_out(out, sizeof(out), "%sibv_devices", pre) == 0 &&
		strstr(out, dev);
	EXPECT_EQ(nl, verbs) TH_LOG("%s in %s: netlink %d, verbs %d", dev,
				    ns ?: "init", nl, verbs);
	return nl;
}

/*
 * The index of the RoCEv2 GID of IPv4 addr on the device, as ibv_devinfo
 * shows it in namespace ns (NULL: the initial one); -1 when it has none.
 * Its port must be active as well.
 */
static int gid_index_in(const char *ns, const char *dev, const char *addr)
{
	char pre[64] = "", out[8192], want[64], *p;

	if (ns)
		snprintf(pre, sizeof(pre), "ip netns exec %s ", ns);
	if (sh_out(out, sizeof(out), "%sibv_devinfo -v -d %s", pre, dev) ||
	    !strstr(out, "PORT_ACTIVE"))
		return -1;
	/* "GID[  3]:		::ffff:10.87.0.2, RoCE v2" */
	snprintf(want, sizeof(want), "::ffff:%s, RoCE v2", addr);
	p = strstr(out, want);
	if (!p)
		return -1;
	while (p > out && p[-1] != '[')
		p--;
	return atoi(p);
}

/* Is the group on the netdev's multicast list in namespace ns (or init)? */
static bool group_listed(const char *ns, const char *ifname, const char *grp)
{
	return sh("ip %s%s maddr show dev %s | grep -qw '%s'", ns ? "-n " : "",
		  ns ?: "", ifname, grp) == 0;
}

/* An UD QP on a PD and CQ of ctx (*pd, *cq made too), in INIT. */
static struct ibv_qp *ud_qp(struct ibv_context *ctx, struct ibv_pd **pd,
			    struct ibv_cq **cq)
{
	struct ibv_qp_init_attr ia = {
		.qp_type = IBV_QPT_UD,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT, .port_num = 1, .qkey = 0x11111111,
	};
	struct ibv_qp *qp;

	*pd = ibv_alloc_pd(ctx);
	*cq = *pd ? ibv_create_cq(ctx, 8, NULL, NULL, 0) : NULL;
	if (!*cq)
		return NULL;
	ia.send_cq = *cq;
	ia.recv_cq = *cq;
	qp = ibv_create_qp(*pd, &ia);
	if (qp && ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
				IBV_QP_PORT | IBV_QP_QKEY)) {
		ibv_destroy_qp(qp);
		return NULL;
	}
	return qp;
}

/* The RoCEv2 GID of an IPv4 or IPv6 (group) address. */
static void addr_gid(const char *grp, union ibv_gid *gid)
{
	struct in_addr v4;

	memset(gid, 0, sizeof(*gid));
	if (inet_pton(AF_INET, grp, &v4) == 1) {
		gid->raw[10] = 0xff;
		gid->raw[11] = 0xff;
		memcpy(&gid->raw[12], &v4, 4);
	} else {
		inet_pton(AF_INET6, grp, gid->raw);
	}
}

/* ---- exclusive mode -------------------------------------------------- */

FIXTURE(excl) {
	int dummy;
};

FIXTURE_SETUP(excl)
{
	ASSERT_EQ(0, env_clean());
	ASSERT_EQ(0, netns_mode_set("exclusive")) {
		char out[1024];

		sh_out(out, sizeof(out), "ip netns list; rdma system show");
		TH_LOG("namespaces left from before: %s", out);
	}
	/* rxn0b is made in the namespace */
	ASSERT_EQ(0, sh("ip netns add " NS " && " IN(NS) "ip link set lo up && "
			"ip link add rxn0a type veth peer name rxn0b netns " NS
			" && ip addr add 10.87.0.1/24 dev rxn0a && "
			"ip link set rxn0a up && "
			IN(NS) "ip addr add 10.87.0.2/24 dev rxn0b && "
			IN(NS) "ip link set rxn0b up"));
}

/* In the parent: even a test that crashed leaves the mode shared. */
FIXTURE_TEARDOWN_PARENT(excl)
{
	EXPECT_EQ(0, env_clean());
}

/*
 * A device made from a namespace is in the initial one (the RDMA core's
 * rule); "rdma dev set" moves it, disassociating the processes that have
 * it open; there it is the only namespace that sees it, with its port and
 * GIDs; and it moves back.
 */
TEST_F_TIMEOUT(excl, move_and_back, 120)
{
	struct ibv_context *ctx;
	union ibv_gid grp;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	char out[1024];

	ASSERT_EQ(0, sh(IN(NS) "rdma link add rxnsa type rxdp netdev rxn0b"));
	EXPECT_TRUE(seen_in(_metadata, NULL, "rxnsa"));
	EXPECT_FALSE(seen_in(_metadata, NS, "rxnsa"));

	/* a process with objects, a multicast group joined among them */
	ctx = ibdev_open("rxnsa");
	ASSERT_NE(NULL, ctx);
	qp = ud_qp(ctx, &pd, &cq);
	ASSERT_NE(NULL, qp);
	addr_gid("239.87.0.9", &grp);
	ASSERT_EQ(0, ibv_attach_mcast(qp, &grp, 0));
	ASSERT_TRUE(WAIT_UNTIL(group_listed(NS, "rxn0b", "239.87.0.9"), 3000));

	/* the move does not wait for it: its context is dead at once */
	ASSERT_EQ(0, sh_out(out, sizeof(out), "rdma dev set rxnsa netns " NS))
		TH_LOG("rdma dev set: %s", out);
	EXPECT_TRUE(ibdev_wait_event(ctx, IBV_EVENT_DEVICE_FATAL, 3000));
	/* its QP went, and with it the membership */
	EXPECT_TRUE(WAIT_UNTIL(!group_listed(NS, "rxn0b", "239.87.0.9"), 3000));

	EXPECT_FALSE(ibdev_exists("rxnsa"));
	EXPECT_FALSE(seen_in(_metadata, NULL, "rxnsa"));
	EXPECT_TRUE(seen_in(_metadata, NS, "rxnsa"));
	EXPECT_LE(0, gid_index_in(NS, "rxnsa", "10.87.0.2"));
	EXPECT_EQ(0, sh_out(out, sizeof(out),
			    IN(NS) "rdma link show rxnsa/1 | "
			    "grep 'state ACTIVE.*netdev rxn0b'"))
		TH_LOG("in " NS ": %s", out);

	/* the mode stays while a namespace exists */
	EXPECT_NE(0, sh_out(out, sizeof(out), "rdma system set netns shared"));
	EXPECT_NE(NULL, strcasestr(out, "busy")) TH_LOG("%s", out);

	/* the old context is only good for closing */
	ibv_detach_mcast(qp, &grp, 0);
	ibv_destroy_qp(qp);
	ibv_destroy_cq(cq);
	ibv_dealloc_pd(pd);
	EXPECT_EQ(0, ibv_close_device(ctx));

	/* back, from where it is, to a name of the initial namespace */
	ASSERT_EQ(0, sh("ip netns attach " INIT " 1 && "
			IN(NS) "rdma dev set rxnsa netns " INIT));
	EXPECT_TRUE(ibdev_exists("rxnsa"));
	EXPECT_TRUE(seen_in(_metadata, NULL, "rxnsa"));
	EXPECT_FALSE(seen_in(_metadata, NS, "rxnsa"));
	EXPECT_LE(0, gid_index_in(NULL, "rxnsa", "10.87.0.2"));
	ctx = ibdev_open("rxnsa");
	ASSERT_NE(NULL, ctx);
	EXPECT_EQ(IBV_PORT_ACTIVE, ibdev_port_state(ctx));
	ibv_close_device(ctx);
}

/*
 * Start "tool args" in namespace NS in the background, its exit status to
 * /tmp/rxns-srv.rc, and wait until it listens (ready: a command that
 * succeeds then).
 */
static void server_start(struct __test_metadata *_metadata, const char *tool,
			 const char *args, const char *ready)
{
	ASSERT_EQ(0, sh("rm -f /tmp/rxns-srv.rc; (" IN(NS) "timeout %d %s %s "
			">/tmp/rxns-srv.out 2>&1; echo $? >/tmp/rxns-srv.rc) "
			">/dev/null 2>&1 &", 60 * test_timeout_scale(), tool,
			args));
	ASSERT_TRUE(WAIT_UNTIL(sh("%s", ready) == 0, 10000));
}

/* The server's exit status, once it exited (-1 if it did not). */
static int server_status(void)
{
	char out[64];

	if (!WAIT_UNTIL(sh("test -s /tmp/rxns-srv.rc") == 0, 60000) ||
	    sh_out(out, sizeof(out), "cat /tmp/rxns-srv.rc"))
		return -1;
	return atoi(out);
}

/*
 * Traffic in the namespace: rxdp's XDP path set up by rxdpctl in the
 * initial namespace, the netdev moved (the device stays on it, XDP and
 * maps too), then the device.  The RDMA CM (rping) and plain verbs
 * (ibv_rc_pingpong) to rdma_rxe in the initial namespace, every byte
 * checked; rdma_rxe stays where it is.
 */
TEST_F_TIMEOUT(excl, traffic_in_namespace, 200)
{
	int t = 60 * test_timeout_scale(), n = test_rounds(100, 40), sg, cg;
	char out[4096], args[128];

	/* rxdpctl attaches where it runs: the netdev comes out for it */
	ASSERT_EQ(0, sh("rdma link add rxnse type rxe netdev rxn0a && "
			"ip -n " NS " link set rxn0b netns 1 && "
			"%s attach rxn0b --name rxnsa >/dev/null && "
			"ip link set rxn0b netns " NS " && "
			IN(NS) "ip addr add 10.87.0.2/24 dev rxn0b && "
			IN(NS) "ip link set rxn0b up", rxdpctl_path()));
	EXPECT_EQ(0, sh(IN(NS) "ip link show rxn0b | grep -q xdp"));
	/* not usable in the namespace yet: the RDMA CM finds no device */
	EXPECT_NE(0, sh_out(out, sizeof(out), IN(NS) "timeout 20 rping -s "
			    "-a 10.87.0.2 -p 7301 -C 1 2>&1"));
	EXPECT_NE(NULL, strstr(out, "No RDMA devices")) TH_LOG("%s", out);

	ASSERT_EQ(0, sh("rdma dev set rxnsa netns " NS));
	ASSERT_TRUE(WAIT_UNTIL((sg = gid_index_in(NS, "rxnsa",
						  "10.87.0.2")) >= 0, 5000));
	cg = gid_index_in(NULL, "rxnse", "10.87.0.1");
	ASSERT_LE(0, cg);
	EXPECT_TRUE(seen_in(_metadata, NULL, "rxnse"));
	EXPECT_FALSE(seen_in(_metadata, NS, "rxnse"));

	server_start(_metadata, "rping", "-s -a 10.87.0.2 -p 7301 -C 20 "
		     "-S 4000 -V", IN(NS) "rdma resource show cm_id | "
		     "grep -q 'state LISTEN.*:7301 '");
	EXPECT_EQ(0, sh_out(out, sizeof(out), "timeout %d rping -c "
			    "-a 10.87.0.2 -p 7301 -C 20 -S 4000 -V 2>&1", t))
		TH_LOG("rping client: %s", out);
	EXPECT_EQ(0, server_status()) {
		sh_out(out, sizeof(out), "tail -c 2048 /tmp/rxns-srv.out");
		TH_LOG("rping server: %s", out);
	}

	snprintf(args, sizeof(args), "-d rxnsa -g %d -p 18701 -c -s 4096 "
		 "-n %d", sg, n);
	server_start(_metadata, "ibv_rc_pingpong", args,
		     IN(NS) "ss -ltn | grep -q ':18701 '");
	EXPECT_EQ(0, sh_out(out, sizeof(out), "timeout %d ibv_rc_pingpong "
			    "-d rxnse -g %d -p 18701 -c -s 4096 -n %d "
			    "10.87.0.2 2>&1", t, cg, n))
		TH_LOG("ibv_rc_pingpong client: %s", out);
	EXPECT_NE(NULL, strstr(out, "iters in")) TH_LOG("%s", out);
	EXPECT_EQ(0, server_status()) {
		sh_out(out, sizeof(out), "tail -c 2048 /tmp/rxns-srv.out");
		TH_LOG("ibv_rc_pingpong server: %s", out);
	}
}

/*
 * Deleting the namespace: the RDMA core moves its devices back to the
 * initial namespace; one whose netdev dies with the namespace (a veth)
 * goes with it, one whose netdev is in the initial namespace stays, with
 * its port, its GIDs and the maps rxdpctl bound to it.
 */
TEST_F_TIMEOUT(excl, namespace_deleted, 120)
{
	union ibv_gid gid;
	struct rxdp_gid_key key = { 0 };
	struct rxdp_gid_entry ent;
	struct rxdp_dev_config cfg;
	struct ibv_context *ctx;
	int fd;

	ASSERT_EQ(0, kmsg_mark());
	ASSERT_EQ(0, sh(IN(NS) "rdma link add rxnsa type rxdp netdev rxn0b && "
			"rdma dev set rxnsa netns " NS " && "
			"ip link add rxn1a type veth peer name rxn1b && "
			"ip addr add 10.87.1.1/24 dev rxn1a && "
			"ip link set rxn1a up && ip link set rxn1b up && "
			"%s attach rxn1a --name rxnsr >/dev/null && "
			"rdma dev set rxnsr netns " NS, rxdpctl_path()));
	EXPECT_TRUE(seen_in(_metadata, NS, "rxnsa"));
	EXPECT_TRUE(seen_in(_metadata, NS, "rxnsr"));
	EXPECT_FALSE(ibdev_exists("rxnsr"));

	ASSERT_EQ(0, sh("ip netns del " NS));
	EXPECT_TRUE(WAIT_UNTIL(ibdev_exists("rxnsr"), 10000));
	EXPECT_TRUE(WAIT_UNTIL(!ibdev_exists("rxnsa") &&
			       !netdev_exists("rxn0a"), 10000));
	EXPECT_FALSE(seen_in(_metadata, NULL, "rxnsa"));
	EXPECT_TRUE(seen_in(_metadata, NULL, "rxnsr"));
	EXPECT_TRUE(WAIT_UNTIL(gid_index_in(NULL, "rxnsr", "10.87.1.1") >= 0,
			       3000));
	EXPECT_EQ(0, sh("rdma link show rxnsr/1 | grep -q 'netdev rxn1a'"));
	ctx = ibdev_open("rxnsr");
	ASSERT_NE(NULL, ctx);
	EXPECT_EQ(IBV_PORT_ACTIVE, ibdev_port_state(ctx));
	ibv_close_device(ctx);

	/* its maps: still its own, with its address's GID */
	ASSERT_EQ(0, pinned_dev_config("rxn1a", &cfg));
	EXPECT_EQ(rdma_dev_index("rxnsr"), (int)cfg.dev_index);
	EXPECT_TRUE(cfg.flags & RXDP_CFG_F_ACTIVE);
	addr_gid("10.87.1.1", &gid);	/* the v4-mapped form, as GIDs are */
	memcpy(key.raw, gid.raw, sizeof(key.raw));
	fd = pinned_map_fd("rxn1a", RXDP_MAP_GID_TABLE);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, bpf_map_lookup_elem(fd, &key, &ent));
	EXPECT_EQ(cfg.dev_index, ent.dev_index);
	close(fd);
	/* the RDMA core's complaint when a device cannot come back */
	EXPECT_FALSE(kmsg_has("after namespace change"));
}

/* ---- the netdev moves ------------------------------------------------ */

FIXTURE(move) {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
};

FIXTURE_SETUP(move)
{
	ASSERT_EQ(0, env_clean());
	ASSERT_EQ(0, sh("ip netns add " NS_M " && "
			"ip link add rxn2a type veth peer name rxn2b && "
			"ip link set rxn2a up && ip link set rxn2b up && "
			"ip addr add 10.87.2.1/24 dev rxn2a && "
			"rdma link add rxnsm type rxdp netdev rxn2a"));
	self->ctx = ibdev_open("rxnsm");
	ASSERT_NE(NULL, self->ctx);
}

FIXTURE_TEARDOWN(move)
{
	if (self->qp)
		ibv_destroy_qp(self->qp);
	if (self->cq)
		ibv_destroy_cq(self->cq);
	if (self->pd)
		ibv_dealloc_pd(self->pd);
	if (self->ctx)
		ibv_close_device(self->ctx);
	EXPECT_EQ(0, env_clean());
}

/*
 * The netdev moves to another namespace and back: the device stays on it
 * (same device, same open context and QP), its port follows the netdev
 * there, its GIDs the addresses there, and the multicast groups its QP is
 * attached to are joined there, once: one detach leaves them.  Moving the
 * device itself is the RDMA core's to refuse in shared mode.
 */
TEST_F_TIMEOUT(move, netdev_moves, 120)
{
	struct testdev td = { .name = "rxnsm", .addr = "10.87.2.1" };
	union ibv_gid g4, g6;
	int index;
	char out[1024];

	self->qp = ud_qp(self->ctx, &self->pd, &self->cq);
	ASSERT_NE(NULL, self->qp);
	addr_gid("239.87.2.1", &g4);
	addr_gid("ff0e::87:2", &g6);
	ASSERT_EQ(0, ibv_attach_mcast(self->qp, &g4, 0));
	ASSERT_EQ(0, ibv_attach_mcast(self->qp, &g6, 0));
	EXPECT_TRUE(group_listed(NULL, "rxn2a", "239.87.2.1"));
	EXPECT_TRUE(group_listed(NULL, "rxn2a", "ff0e::87:2"));
	ASSERT_TRUE(WAIT_FOR(testdev_gid_index(&td) >= 0, 3000));
	index = rdma_dev_index("rxnsm");
	ASSERT_LE(0, index);

	ASSERT_EQ(0, sh("ip link set rxn2a netns " NS_M));
	EXPECT_TRUE(ibdev_wait_event(self->ctx, IBV_EVENT_PORT_ERR, 3000));
	EXPECT_EQ(index, rdma_dev_index("rxnsm"));
	EXPECT_EQ(IBV_PORT_DOWN, ibdev_port_state(self->ctx));
	/* the address stayed behind, and its GID with it */
	EXPECT_TRUE(WAIT_FOR(testdev_gid_index(&td) < 0, 3000));
	EXPECT_TRUE(group_listed(NS_M, "rxn2a", "239.87.2.1"));
	EXPECT_TRUE(group_listed(NS_M, "rxn2a", "ff0e::87:2"));

	ASSERT_EQ(0, sh("ip -n " NS_M " addr add 10.87.2.1/24 dev rxn2a && "
			"ip -n " NS_M " link set rxn2a up"));
	EXPECT_TRUE(ibdev_wait_event(self->ctx, IBV_EVENT_PORT_ACTIVE, 3000));
	EXPECT_TRUE(WAIT_FOR(testdev_gid_index(&td) >= 0, 3000));
	/* the netdev is shown where it is */
	EXPECT_EQ(0, sh(IN(NS_M) "rdma link show rxnsm/1 | "
			"grep -q 'netdev rxn2a'"));

	/* shared mode: the device is everywhere, and cannot move */
	EXPECT_NE(0, sh_out(out, sizeof(out), "rdma dev set rxnsm netns "
			    NS_M));
	EXPECT_NE(NULL, strcasestr(out, "not supported")) TH_LOG("%s", out);
	EXPECT_TRUE(seen_in(_metadata, NS_M, "rxnsm"));
	EXPECT_TRUE(seen_in(_metadata, NULL, "rxnsm"));

	/* back to the initial namespace, the groups along */
	ASSERT_EQ(0, sh("ip -n " NS_M " link set rxn2a netns 1"));
	EXPECT_TRUE(group_listed(NULL, "rxn2a", "239.87.2.1"));
	EXPECT_TRUE(group_listed(NULL, "rxn2a", "ff0e::87:2"));
	EXPECT_EQ(index, rdma_dev_index("rxnsm"));

	/* joined once: one detach leaves */
	EXPECT_EQ(0, ibv_detach_mcast(self->qp, &g4, 0));
	EXPECT_EQ(0, ibv_detach_mcast(self->qp, &g6, 0));
	EXPECT_FALSE(group_listed(NULL, "rxn2a", "239.87.2.1"));
	EXPECT_FALSE(group_listed(NULL, "rxn2a", "ff0e::87:2"));
}

TEST_HARNESS_MAIN

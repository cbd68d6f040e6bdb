// SPDX-License-Identifier: GPL-2.0
/*
 * The RDMA CM on rxdp: librdmacm's own tools, unmodified, connect over
 * rxdp's GSI QP and move data, between rxdp devices in two namespaces
 * and between rxdp and rdma_rxe, over IPv4 and IPv6.
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

static pid_t main_pid;
static bool rxe_was_loaded;

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
	if (!rxe_was_loaded && sh("rdma link show | grep -q ' rxdp'"))
		sh("rmmod rdma_rxe");
}

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
	bool full_only;		/* not in the light run */
};

FIXTURE_VARIANT_ADD(cm, rxdp_rxdp) { .srv = &side_c, .cli = &side_a };
FIXTURE_VARIANT_ADD(cm, rxdp_rxdp_ipv6) {
	.srv = &side_a, .cli = &side_c, .ipv6 = true };
FIXTURE_VARIANT_ADD(cm, rxe_to_rxdp) { .srv = &side_b, .cli = &side_rxe };
FIXTURE_VARIANT_ADD(cm, rxdp_to_rxe) {
	.srv = &side_rxe, .cli = &side_b, .full_only = true };
FIXTURE_VARIANT_ADD(cm, rxe_rxdp_ipv6) {
	.srv = &side_b, .cli = &side_rxe, .ipv6 = true, .full_only = true };

FIXTURE_SETUP(cm)
{
	if (variant->full_only)
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
 * The server's link goes down in the middle of a connection: nothing
 * answers the client any more, its QP runs out of retries and rping
 * fails, on both ends, instead of waiting for ever.
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
	/* ends with an error, well before its timeout would kill it */
	EXPECT_TRUE(WAIT_UNTIL(sh("test -s /tmp/cm-v.srv && "
				  "test -s /tmp/cm-v.cli") == 0, 100000));
	EXPECT_NE(0, sh("grep -qx '0\\|124' /tmp/cm-v.srv"));
	EXPECT_NE(0, sh("grep -qx '0\\|124' /tmp/cm-v.cli"));
	TH_LOG("rping ended %ld ms after the link went down", now_ms() - t0);
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

	LIGHT_SKIP();	/* a minute of the CM's timers, no rxdp code */
	ASSERT_EQ(0, sh("rdma link delete rxcmv2"));
	rc = sh_out(out, sizeof(out), IN(NS_V1) "timeout 300 rping -c "
		    "-a 10.85.9.2 -p 7221 -C 1 2>&1");
	EXPECT_NE(0, rc);
	EXPECT_NE(124, rc) TH_LOG("rping hung: %s", out);
	EXPECT_NE(NULL, strstr(out, "UNREACHABLE")) TH_LOG("rping: %s", out);
}

TEST_HARNESS_MAIN

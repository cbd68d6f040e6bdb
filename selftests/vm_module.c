// SPDX-License-Identifier: GPL-2.0
/*
 * rxdp module lifetime: unloading removes every device it created, in any
 * namespace, and the objects of processes that have one open; it waits
 * for removals under way elsewhere; load/unload repeats cleanly.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "rxdp_test.h"

static bool module_loaded(void)
{
	return access("/sys/module/rxdp", F_OK) == 0;
}

FIXTURE(mod) {
	int dummy;
};

FIXTURE_SETUP(mod)
{
	netdev_remove("rxma");
	netdev_remove("rxmc");
	netns_remove("rxm_ns");
	ASSERT_EQ(0, sh("ip link add rxma type veth peer name rxmb"));
	ASSERT_EQ(0, sh("ip netns add rxm_ns && "
			"ip link add rxmc type veth peer name rxmd && "
			"ip link set rxmc netns rxm_ns"));
	ASSERT_EQ(0, rxdp_load());
	kmsg_mark();
}

FIXTURE_TEARDOWN(mod)
{
	ibdev_remove("rxdpm0");
	ibdev_remove("rxdpm1");
	netdev_remove("rxma");
	netns_remove("rxm_ns");
	rxdp_load();
}

TEST_F(mod, unload_removes_devices)
{
	ASSERT_EQ(0, sh("rdma link add rxdpm0 type rxdp netdev rxma"));
	ASSERT_EQ(0, sh("ip netns exec rxm_ns "
			"rdma link add rxdpm1 type rxdp netdev rxmc"));
	ASSERT_TRUE(ibdev_exists("rxdpm0"));
	ASSERT_TRUE(ibdev_exists("rxdpm1"));

	ASSERT_EQ(0, sh("rmmod rxdp"));
	EXPECT_FALSE(module_loaded());
	EXPECT_FALSE(ibdev_exists("rxdpm0"));
	EXPECT_FALSE(ibdev_exists("rxdpm1"));
	/* nothing holds the netdevs any more */
	EXPECT_EQ(0, sh("timeout 10 ip link del rxma"));
	EXPECT_EQ(0, sh("timeout 10 ip netns exec rxm_ns ip link del rxmc"));
	EXPECT_FALSE(kmsg_has("waiting for"));
}

/*
 * A process with the device open does not keep the module: unloading
 * takes its objects away (the RDMA core destroys them through the
 * driver), the process is told with DEVICE_FATAL, and what it still does
 * with them fails or, for a destroy, is a no-op that succeeds, as
 * libibverbs treats EIO there.
 */
TEST_F(mod, unload_disassociates_open_context)
{
	struct ibv_qp_init_attr ia = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_context *ctx;
	struct ibv_cq *cq;
	struct ibv_pd *pd;
	struct ibv_qp *qp;

	ASSERT_EQ(0, sh("rdma link add rxdpm0 type rxdp netdev rxma"));
	ctx = ibdev_open("rxdpm0");
	ASSERT_NE(NULL, ctx);
	pd = ibv_alloc_pd(ctx);
	cq = ibv_create_cq(ctx, 4, NULL, NULL, 0);
	ASSERT_NE(NULL, pd);
	ASSERT_NE(NULL, cq);
	ia.send_cq = cq;
	ia.recv_cq = cq;
	qp = ibv_create_qp(pd, &ia);
	ASSERT_NE(NULL, qp);

	EXPECT_EQ(0, sh("timeout %d rmmod rxdp", 20 * test_timeout_scale()));
	EXPECT_FALSE(module_loaded());
	EXPECT_FALSE(ibdev_exists("rxdpm0"));
	EXPECT_TRUE(ibdev_wait_event(ctx, IBV_EVENT_DEVICE_FATAL, 2000));
	EXPECT_EQ(NULL, ibv_alloc_pd(ctx));
	EXPECT_EQ(0, ibv_destroy_qp(qp));
	EXPECT_EQ(0, ibv_destroy_cq(cq));
	EXPECT_EQ(0, ibv_dealloc_pd(pd));
	EXPECT_EQ(0, ibv_close_device(ctx));
	EXPECT_EQ(0, rxdp_load());
}

/*
 * The module goes while its devices are being removed by others: netdev
 * removal (queued to a work item), "rdma link delete".  Unloading must
 * wait for every removal that is still in rxdp's code, or the kernel runs
 * freed module text.  Rounds of eight devices each (one in the light run).
 */
TEST_F_TIMEOUT(mod, unload_races_device_removal, 600)
{
	int i, n;

	for (n = 0; n < 8; n++)
		ASSERT_EQ(0, sh("ip link del rxmr%d 2>/dev/null; "
				"ip link add rxmr%d type veth peer name rxms%d",
				n, n, n));
	for (i = 0; i < test_rounds(6, 1); i++) {
		ASSERT_EQ(0, sh("for n in 0 1 2 3 4 5 6 7; do "
				"rdma link add rxdpm$n type rxdp netdev rxmr$n "
				"|| exit 1; done"));
		/* half go with their netdev, half by rdma, all with rmmod */
		EXPECT_EQ(0, sh("for n in 0 1 2 3; do ip link del rxmr$n; done; "
				"for n in 4 5 6 7; do "
				"rdma link delete rxdpm$n & done; rmmod rxdp; "
				"r=$?; wait; exit $r")) TH_LOG("round %d", i);
		EXPECT_FALSE(module_loaded());
		ASSERT_EQ(0, rxdp_load());
		for (n = 0; n < 8; n++) {
			char name[16];

			snprintf(name, sizeof(name), "rxdpm%d", n);
			EXPECT_FALSE(ibdev_exists(name));
		}
		for (n = 0; n < 4; n++)
			ASSERT_EQ(0, sh("ip link add rxmr%d type veth peer "
					"name rxms%d", n, n));
	}
	for (n = 0; n < 8; n++)
		sh("ip link del rxmr%d 2>/dev/null", n);
	EXPECT_FALSE(kmsg_has("BUG"));
	EXPECT_FALSE(kmsg_has("Oops"));
	EXPECT_FALSE(kmsg_has("WARNING"));
}

/* Twelve rounds (two under the debug kernel) leave nothing behind. */
TEST_F_TIMEOUT(mod, reload_repeatedly, 600)
{
	int i;

	ASSERT_EQ(0, sh("rmmod rxdp"));
	for (i = 0; i < test_rounds(12, 2); i++) {
		/* one shell per round: spawning is what is slow in the VM */
		ASSERT_EQ(0, sh("insmod %s && "
				"rdma link add rxdpm0 type rxdp netdev rxma && "
				"ip netns exec rxm_ns "
				"rdma link add rxdpm1 type rxdp netdev rxmc && "
				"rmmod rxdp", rxdp_ko())) TH_LOG("round %d", i);
		ASSERT_FALSE(ibdev_exists("rxdpm0"));
		ASSERT_FALSE(ibdev_exists("rxdpm1"));
	}
	EXPECT_FALSE(kmsg_has("WARNING"));
	EXPECT_FALSE(kmsg_has("BUG"));
	EXPECT_FALSE(kmsg_has("waiting for"));
	/* the netdevs are free: nothing kept a reference */
	EXPECT_EQ(0, sh("timeout 10 ip link del rxma"));
}

/*
 * A process that used rdma_cm on the device is killed while it connects:
 * it goes, and so do the device and the module after it.  rdma_cm's
 * connect request is a MAD that ib_mad sends on the device's QP1; were
 * such a send accepted and never completed, the killed process would
 * hang in its teardown, and "rdma link delete" behind it.
 */
TEST_F_TIMEOUT(mod, rdma_cm_user_killed, 180)
{
	int scale = test_timeout_scale();

	ASSERT_EQ(0, sh("rdma link add rxdpm0 type rxdp netdev rxma"));
	ASSERT_EQ(0, sh("ip addr add 10.79.0.1/24 dev rxma && "
			"ip link set rxma up && ip link set rxmb up"));
	/* a client to the device's own address: the REQ goes to QP1 */
	ASSERT_EQ(0, sh("(rping -c -a 10.79.0.1 -C 1 -v >/dev/null 2>&1 &"
			" echo $! > /tmp/rxdp-rping.pid)"));
	sleep(2);
	sh("kill -9 $(cat /tmp/rxdp-rping.pid) 2>/dev/null");
	EXPECT_TRUE(WAIT_UNTIL(sh("kill -0 $(cat /tmp/rxdp-rping.pid) "
				  "2>/dev/null") != 0, 10000))
		TH_LOG("rping did not die");
	EXPECT_EQ(0, sh("timeout %d rdma link delete rxdpm0", 20 * scale));
	EXPECT_EQ(0, sh("timeout %d rmmod rxdp", 20 * scale));
	EXPECT_FALSE(module_loaded());
}

/* The frames netem holds on rxma: "backlog 0b 0p" when there are none. */
static int qdisc_backlog(void)
{
	char out[512];
	int n = -1;

	if (sh_out(out, sizeof(out), "tc -s qdisc show dev rxma | "
		   "sed -n 's/.*backlog [^ ]* \\([0-9]*\\)p.*/\\1/p'") == 0)
		sscanf(out, "%d", &n);
	return n;
}

/*
 * Unloading while a frame of the module is still in the network stack:
 * the stack frees it later and runs the module's destructor, so rmmod
 * must wait for it.  netem's slots hold frames without orphaning them
 * (its delay orphans them, which runs the destructor at once); rdma_cm's
 * connect request to an address nobody serves is one such frame.
 */
TEST_F_TIMEOUT(mod, unload_waits_for_frames_in_stack, 180)
{
	int scale = test_timeout_scale();

	ASSERT_EQ(0, sh("rdma link add rxdpm0 type rxdp netdev rxma"));
	/* no frame of the kernel's own in the qdisc: no IPv6, a fixed MAC */
	ASSERT_EQ(0, sh("sysctl -qw net.ipv6.conf.rxma.disable_ipv6=1 && "
			"ip addr add 10.79.0.1/24 dev rxma && "
			"ip link set rxma up && ip link set rxmb up && "
			"ip neigh replace 10.79.0.2 lladdr "
			"$(cat /sys/class/net/rxmb/address) dev rxma "
			"nud permanent"));
	ASSERT_EQ(0, sh("tc qdisc add dev rxma root netem slot 4s 4s"));
	ASSERT_EQ(0, sh("(rping -c -a 10.79.0.2 -C 1 >/dev/null 2>&1 &"
			" echo $! > /tmp/rxdp-rping.pid)"));
	ASSERT_TRUE(WAIT_UNTIL(hw_counter("rxdpm0", "sent_pkts") > 0 &&
			       qdisc_backlog() > 0, 3000))
		TH_LOG("no frame of rxdp held in the qdisc");
	sh("kill -9 $(cat /tmp/rxdp-rping.pid) 2>/dev/null");
	EXPECT_EQ(0, sh("timeout %d rmmod rxdp", 30 * scale));
	/* rmmod returned: the stack has no frame of the module left */
	EXPECT_EQ(0, qdisc_backlog());
	EXPECT_FALSE(module_loaded());
	/* where the frame would have come out of the qdisc */
	sleep(1);
	sh("tc qdisc del dev rxma root");
	EXPECT_FALSE(kmsg_has("BUG"));
	EXPECT_FALSE(kmsg_has("Oops"));
}

TEST_HARNESS_MAIN

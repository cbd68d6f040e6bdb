// SPDX-License-Identifier: GPL-2.0
/*
 * rxdp module lifetime: unloading removes every device it created, in any
 * namespace; a device in use keeps the module; load/unload repeats cleanly.
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

TEST_F(mod, open_context_holds_module)
{
	struct ibv_context *ctx;

	ASSERT_EQ(0, sh("rdma link add rxdpm0 type rxdp netdev rxma"));
	ctx = ibdev_open("rxdpm0");
	ASSERT_NE(NULL, ctx);
	EXPECT_NE(0, sh("rmmod rxdp"));
	EXPECT_TRUE(module_loaded());
	EXPECT_TRUE(ibdev_exists("rxdpm0"));
	ibv_close_device(ctx);
	EXPECT_EQ(0, sh("rmmod rxdp"));
	EXPECT_FALSE(ibdev_exists("rxdpm0"));
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

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * rdma_rxe and rxdp side by side, each on a netdev of its own in the
 * initial namespace:
 *
 *   rxe  rxcxe on rxca (10.84.0.1), peer rxcb
 *   rxdp rxcxd on rxcc (10.84.1.1), peer rxcd
 *
 * Each device moves data to itself (a loopback RC pingpong: rxe loops a
 * frame to its own address back, rxdp hands it to its own receive
 * queue), so that one of them is busy while the other's module comes or
 * goes.
 *
 * rxdp has rxe's driver id, so that the stock rxe provider drives it.
 * rdma_rxe finds its devices by netdev, and rxdp's are not registered by
 * netdev, so loading rdma_rxe does not touch them; but rdma_rxe's exit
 * unregisters every device of the id, and so removes rxdp's devices too.
 * What a process on such a device sees then is what it sees on any
 * removal: DEVICE_FATAL, its objects gone, the device gone; rxdp stays
 * loaded and takes new devices.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "rxdp_test.h"

#define RXE_DEV		"rxcxe"
#define RXDP_DEV	"rxcxd"

static const struct testdev rxe_td = {
	.name = RXE_DEV, .veth = "rxca", .peer = "rxcb", .addr = "10.84.0.1",
};
static const struct testdev rxdp_td = {
	.name = RXDP_DEV, .veth = "rxcc", .peer = "rxcd", .addr = "10.84.1.1",
};

static bool module_loaded(const char *name)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return access(path, F_OK) == 0;
}

/* Built into the kernel (the debug kernel has rdma_rxe so): no rmmod. */
static bool module_builtin(const char *name)
{
	return sh("grep -q '/%s.ko$' /lib/modules/$(uname -r)/modules.builtin",
		  name) == 0;
}

static int veth_up(const struct testdev *d)
{
	netdev_remove(d->veth);
	return sh("ip link add %s type veth peer name %s && "
		  "ip link set dev %s up && ip link set dev %s up && "
		  "ip addr add %s/24 dev %s",
		  d->veth, d->peer, d->veth, d->peer, d->addr, d->veth);
}

static int dev_add(const struct testdev *d, const char *type)
{
	if (sh("rdma link add %s type %s netdev %s", d->name, type, d->veth))
		return -1;
	return WAIT_FOR(testdev_gid_index(d) >= 0, 5000) ? 0 : -1;
}

/*
 * Start a loopback ibv_rc_pingpong of iters rounds on d in the background
 * (server and client on the device, TCP port port); its exit statuses go
 * to /tmp/coex.<port>.{srv,cli}.  With completion events (-e): a process
 * that busy-polls its CQ ring is never told that the device went, one
 * that waits for an event is (the event channel fails).
 */
static int pingpong_start(const struct testdev *d, int port, int iters)
{
	int g = testdev_gid_index(d), t = 120 * test_timeout_scale();

	if (g < 0)
		return -1;
	if (sh("rm -f /tmp/coex.%d.*; "
	       "(timeout %d ibv_rc_pingpong -d %s -g %d -p %d -n %d -c -e "
	       ">/tmp/coex.%d.srv.out 2>&1; echo $? >/tmp/coex.%d.srv) "
	       ">/dev/null 2>&1 &",
	       port, t, d->name, g, port, iters, port, port))
		return -1;
	if (!WAIT_UNTIL(sh("ss -ltn | grep -q ':%d '", port) == 0, 5000))
		return -1;
	return sh("(timeout %d ibv_rc_pingpong -d %s -g %d -p %d -n %d -c -e "
		  "127.0.0.1 >/tmp/coex.%d.cli.out 2>&1; "
		  "echo $? >/tmp/coex.%d.cli) >/dev/null 2>&1 &",
		  t, d->name, g, port, iters, port, port);
}

/* Wait for both ends; the exit status of each (-1: still running). */
static void pingpong_wait(int port, int *srv, int *cli)
{
	char out[32];

	WAIT_UNTIL(sh("test -s /tmp/coex.%d.srv && test -s /tmp/coex.%d.cli",
		      port, port) == 0, 150000);
	*srv = sh_out(out, sizeof(out), "cat /tmp/coex.%d.srv", port) ?
	       -1 : atoi(out);
	*cli = sh_out(out, sizeof(out), "cat /tmp/coex.%d.cli", port) ?
	       -1 : atoi(out);
}

/* Has the pingpong of port moved data yet (the client printed nothing)? */
static bool pingpong_running(int port)
{
	return sh("test ! -s /tmp/coex.%d.cli", port) == 0;
}

FIXTURE(coex) {
	bool rxe_was_loaded;
};

FIXTURE_SETUP(coex)
{
	self->rxe_was_loaded = module_loaded("rdma_rxe");
	ibdev_remove(RXE_DEV);
	ibdev_remove(RXDP_DEV);
	ASSERT_EQ(0, rxdp_load());
	ASSERT_EQ(0, veth_up(&rxe_td));
	ASSERT_EQ(0, veth_up(&rxdp_td));
	kmsg_mark();
}

FIXTURE_TEARDOWN(coex)
{
	sh("pkill -f 'ibv_rc_pingpong -d rxcx' 2>/dev/null");
	sh("%s detach %s >/dev/null 2>&1", rxdpctl_path(), rxdp_td.veth);
	ibdev_remove(RXE_DEV);
	ibdev_remove(RXDP_DEV);
	netdev_remove(rxe_td.veth);
	netdev_remove(rxdp_td.veth);
	rxdp_load();
	if (!self->rxe_was_loaded && module_loaded("rdma_rxe"))
		sh("rmmod rdma_rxe");
	else if (self->rxe_was_loaded)
		sh("modprobe rdma_rxe");
}

/*
 * rdma_rxe loaded while an rxdp device moves data: the rxdp device keeps
 * its port and its traffic, and both drivers then work side by side.
 */
TEST_F_TIMEOUT(coex, rxe_loads_beside_busy_rxdp, 300)
{
	int srv, cli;

	if (module_builtin("rdma_rxe"))
		SKIP(return, "rdma_rxe is built into this kernel");
	if (module_loaded("rdma_rxe"))
		ASSERT_EQ(0, sh("rmmod rdma_rxe"));
	ASSERT_EQ(0, dev_add(&rxdp_td, "rxdp"));
	ASSERT_EQ(0, pingpong_start(&rxdp_td, 18601, test_rounds(10000, 4000)));
	ASSERT_EQ(0, sh("modprobe rdma_rxe"));
	ASSERT_EQ(0, dev_add(&rxe_td, "rxe"));
	EXPECT_TRUE(pingpong_running(18601));
	pingpong_wait(18601, &srv, &cli);
	EXPECT_EQ(0, srv);
	EXPECT_EQ(0, cli);
	EXPECT_EQ(0, sh("rdma link show " RXDP_DEV "/1 | grep -q 'state ACTIVE'"));

	/* and now both at once */
	ASSERT_EQ(0, pingpong_start(&rxdp_td, 18602, 2000));
	ASSERT_EQ(0, pingpong_start(&rxe_td, 18603, 2000));
	pingpong_wait(18602, &srv, &cli);
	EXPECT_EQ(0, srv);
	EXPECT_EQ(0, cli);
	pingpong_wait(18603, &srv, &cli);
	EXPECT_EQ(0, srv);
	EXPECT_EQ(0, cli);
}

/* rxdp unloaded while an rxe device moves data: rxe does not notice. */
TEST_F_TIMEOUT(coex, rxdp_unloads_beside_busy_rxe, 300)
{
	int srv, cli;

	ASSERT_EQ(0, sh("modprobe rdma_rxe"));
	ASSERT_EQ(0, dev_add(&rxe_td, "rxe"));
	ASSERT_EQ(0, dev_add(&rxdp_td, "rxdp"));
	ASSERT_EQ(0, pingpong_start(&rxe_td, 18604, test_rounds(10000, 4000)));
	/* and the rxdp device busy too, so that unloading has work to do */
	ASSERT_EQ(0, pingpong_start(&rxdp_td, 18605, 1000000));
	sleep(1);
	EXPECT_EQ(0, sh("timeout %d rmmod rxdp", 30 * test_timeout_scale()));
	EXPECT_FALSE(module_loaded("rxdp"));
	EXPECT_FALSE(ibdev_exists(RXDP_DEV));
	EXPECT_TRUE(pingpong_running(18604));
	pingpong_wait(18604, &srv, &cli);
	EXPECT_EQ(0, srv);
	EXPECT_EQ(0, cli);
	EXPECT_TRUE(ibdev_exists(RXE_DEV));
	/* rxdp's pingpong was told and ended; it did not hang */
	pingpong_wait(18605, &srv, &cli);
	EXPECT_NE(-1, srv);
	EXPECT_NE(-1, cli);
	EXPECT_NE(124, cli);
	EXPECT_NE(124, srv);
}

/*
 * rdma_rxe unloaded while an rxdp device is busy: rdma_rxe's exit
 * unregisters every device of its driver id, rxdp's included (which the
 * RDMA core offers no way around: see README).  It must neither hang on
 * the rxdp device's users nor hurt the module: the users are told and
 * their processes end, and rxdp takes a new device on the same netdev,
 * which works.
 */
TEST_F_TIMEOUT(coex, rxe_unloads_beside_busy_rxdp, 300)
{
	struct ibv_context *ctx;
	int srv, cli;

	if (module_builtin("rdma_rxe"))
		SKIP(return, "rdma_rxe is built into this kernel");
	ASSERT_EQ(0, sh("modprobe rdma_rxe"));
	ASSERT_EQ(0, dev_add(&rxe_td, "rxe"));
	ASSERT_EQ(0, sh("%s attach %s --name " RXDP_DEV " >/dev/null",
			rxdpctl_path(), rxdp_td.veth));
	ASSERT_TRUE(WAIT_FOR(testdev_gid_index(&rxdp_td) >= 0, 5000));
	ctx = ibdev_open(RXDP_DEV);
	ASSERT_NE(NULL, ctx);
	ASSERT_EQ(0, pingpong_start(&rxdp_td, 18606, 1000000));
	sleep(1);
	EXPECT_EQ(0, sh("timeout %d rmmod rdma_rxe", 30 * test_timeout_scale()));
	EXPECT_FALSE(ibdev_exists(RXE_DEV));
	EXPECT_FALSE(ibdev_exists(RXDP_DEV));
	EXPECT_TRUE(ibdev_wait_event(ctx, IBV_EVENT_DEVICE_FATAL, 2000));
	EXPECT_EQ(0, ibv_close_device(ctx));
	pingpong_wait(18606, &srv, &cli);
	EXPECT_NE(-1, cli);
	EXPECT_NE(124, cli);

	EXPECT_TRUE(module_loaded("rxdp"));
	ASSERT_EQ(0, sh("%s detach %s && %s attach %s --name " RXDP_DEV
			" >/dev/null", rxdpctl_path(), rxdp_td.veth,
			rxdpctl_path(), rxdp_td.veth));
	ASSERT_TRUE(WAIT_FOR(testdev_gid_index(&rxdp_td) >= 0, 5000));
	ASSERT_EQ(0, pingpong_start(&rxdp_td, 18607, 1000));
	pingpong_wait(18607, &srv, &cli);
	EXPECT_EQ(0, srv);
	EXPECT_EQ(0, cli);
	EXPECT_FALSE(kmsg_has("WARNING"));
}

TEST_HARNESS_MAIN

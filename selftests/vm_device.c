// SPDX-License-Identifier: GPL-2.0
/*
 * rxdp as an RDMA device: creation with "rdma link", attributes and GIDs
 * seen through the stock rxe provider, port state following the netdev,
 * removal with the netdev, its namespace or the module, and bad input.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "rxdp_test.h"

#define DEV	"rxdpt0"
#define NS	"rxdpt_ns"

/* Is the GID in the port's table, as a RoCEv2 GID? */
static bool has_gid(struct ibv_context *ctx, const char *addr)
{
	struct ibv_port_attr pattr;
	union ibv_gid want;
	struct in_addr v4;
	int i;

	memset(&want, 0, sizeof(want));
	if (inet_pton(AF_INET, addr, &v4) == 1) {
		want.raw[10] = 0xff;
		want.raw[11] = 0xff;
		memcpy(&want.raw[12], &v4, 4);
	} else if (inet_pton(AF_INET6, addr, want.raw) != 1) {
		return false;
	}
	if (ibv_query_port(ctx, 1, &pattr))
		return false;
	for (i = 0; i < pattr.gid_tbl_len; i++) {
		struct ibv_gid_entry entry;

		if (ibv_query_gid_ex(ctx, 1, i, &entry, 0))
			continue;
		if (!memcmp(&entry.gid, &want, sizeof(want)) &&
		    entry.gid_type == IBV_GID_TYPE_ROCE_V2)
			return true;
	}
	return false;
}

FIXTURE(dev) {
	struct ibv_context *ctx;
};

FIXTURE_VARIANT(dev) {
	bool netns;	/* device on a veth inside a namespace */
	bool full_only;	/* not in the light run */
};

FIXTURE_VARIANT_ADD(dev, init_ns) { .netns = false, .full_only = true };
FIXTURE_VARIANT_ADD(dev, other_ns) { .netns = true };

/* Run a command in the namespace of the device's netdev. */
#define IN_NS(v) ((v)->netns ? "ip netns exec " NS " " : "")

/*
 * Tests the light run leaves out: they only query what the others set
 * up, and each one's namespace, veth and device cost half a minute under
 * the debug kernel.
 */
static const char *const only_queries[] = {
	"listed_with_parent", "device_attributes", "pkey_table",
	"pd_and_memory_windows", "port_attributes_follow_mtu",
};

FIXTURE_SETUP(dev)
{
	if (variant->full_only ||
	    name_in(_metadata->name, only_queries, ARRAY_SIZE(only_queries)))
		LIGHT_SKIP();
	ASSERT_EQ(0, rxdp_load());
	ibdev_remove(DEV);
	netdev_remove("rxtb");
	netns_remove(NS);
	ASSERT_EQ(0, sh("ip link add rxta type veth peer name rxtb"));
	if (variant->netns) {
		ASSERT_EQ(0, sh("ip netns add " NS));
		ASSERT_EQ(0, sh("ip link set rxta netns " NS));
	}
	ASSERT_EQ(0, sh("%sip link set rxta up && ip link set rxtb up",
			IN_NS(variant)));
	ASSERT_EQ(0, sh("%srdma link add " DEV " type rxdp netdev rxta",
			IN_NS(variant)));
	self->ctx = ibdev_open(DEV);
	ASSERT_NE(NULL, self->ctx);
}

FIXTURE_TEARDOWN(dev)
{
	if (self->ctx)
		ibv_close_device(self->ctx);
	ibdev_remove(DEV);
	netdev_remove("rxtb");
	netns_remove(NS);
	EXPECT_TRUE(WAIT_FOR(!ibdev_exists(DEV), 2000));
}

TEST_F(dev, listed_with_parent)
{
	char out[4096];

	ASSERT_EQ(0, sh_out(out, sizeof(out), "ibv_devices"));
	EXPECT_NE(NULL, strstr(out, DEV));
	/* the netdev is only shown inside its own namespace */
	ASSERT_EQ(0, sh_out(out, sizeof(out), "%srdma link show " DEV "/1",
			    IN_NS(variant)));
	EXPECT_NE(NULL, strstr(out, "netdev rxta"));
	/* the stock rxe provider bound it: driver id and ABI matched */
	ASSERT_EQ(0, sh_out(out, sizeof(out), "ibv_devinfo -d " DEV));
	EXPECT_NE(NULL, strstr(out, "transport:			InfiniBand"));
	EXPECT_NE(NULL, strstr(out, "link_layer:		Ethernet"));
}

TEST_F(dev, device_attributes)
{
	struct ibv_device_attr a;

	ASSERT_EQ(0, ibv_query_device(self->ctx, &a));
	EXPECT_EQ(1, a.phys_port_cnt);
	EXPECT_GE(a.max_qp, 1024);
	EXPECT_GE(a.max_qp_wr, 1024);
	EXPECT_GE(a.max_sge, 2);
	EXPECT_GE(a.max_cq, 1024);
	EXPECT_GE(a.max_cqe, 1024);
	EXPECT_GE(a.max_mr, 1024);
	EXPECT_GE(a.max_pd, 1024);
	EXPECT_GE(a.max_qp_rd_atom, 1);
	EXPECT_EQ(IBV_ATOMIC_HCA, a.atomic_cap);
	EXPECT_EQ(1, a.max_pkeys);
	EXPECT_NE(0, a.node_guid);
	EXPECT_NE(0, a.sys_image_guid);
}

TEST_F(dev, port_attributes_follow_mtu)
{
	struct ibv_port_attr p;
	static const struct { int eth; enum ibv_mtu ib; } mtus[] = {
		{ 1500, IBV_MTU_1024 }, { 9000, IBV_MTU_4096 },
		{ 4200, IBV_MTU_4096 }, { 4000, IBV_MTU_2048 },
		{ 1280, IBV_MTU_1024 }, { 600, IBV_MTU_256 },
	};
	size_t i;

	ASSERT_EQ(0, ibv_query_port(self->ctx, 1, &p));
	EXPECT_EQ(IBV_LINK_LAYER_ETHERNET, p.link_layer);
	EXPECT_EQ(IBV_MTU_4096, p.max_mtu);
	EXPECT_EQ(IBV_PORT_ACTIVE, p.state);
	EXPECT_EQ(5, p.phys_state); /* LinkUp */
	EXPECT_GE(p.gid_tbl_len, 16);
	EXPECT_EQ(1, p.pkey_tbl_len);
	EXPECT_NE(0, p.port_cap_flags & IBV_PORT_CM_SUP);

	for (i = 0; i < sizeof(mtus) / sizeof(mtus[0]); i++) {
		ASSERT_EQ(0, sh("%sip link set rxta mtu %d", IN_NS(variant),
				mtus[i].eth));
		ASSERT_EQ(0, ibv_query_port(self->ctx, 1, &p));
		EXPECT_EQ(mtus[i].ib, p.active_mtu) {
			TH_LOG("netdev mtu %d", mtus[i].eth);
		}
	}
}

TEST_F(dev, pkey_table)
{
	__be16 pkey;

	ASSERT_EQ(0, ibv_query_pkey(self->ctx, 1, 0, &pkey));
	EXPECT_EQ(0xffff, ntohs(pkey));
	EXPECT_NE(0, ibv_query_pkey(self->ctx, 1, 1, &pkey));
}

TEST_F(dev, gids_follow_addresses)
{
	ASSERT_EQ(0, sh("%sip addr add 192.0.2.7/24 dev rxta", IN_NS(variant)));
	EXPECT_TRUE(WAIT_FOR(has_gid(self->ctx, "192.0.2.7"), 3000));
	ASSERT_EQ(0, sh("%sip addr add 2001:db8::7/64 dev rxta nodad",
			IN_NS(variant)));
	EXPECT_TRUE(WAIT_FOR(has_gid(self->ctx, "2001:db8::7"), 3000));

	ASSERT_EQ(0, sh("%sip addr del 192.0.2.7/24 dev rxta", IN_NS(variant)));
	EXPECT_TRUE(WAIT_FOR(!has_gid(self->ctx, "192.0.2.7"), 3000));
	EXPECT_TRUE(has_gid(self->ctx, "2001:db8::7"));
	ASSERT_EQ(0, sh("%sip addr del 2001:db8::7/64 dev rxta",
			IN_NS(variant)));
	EXPECT_TRUE(WAIT_FOR(!has_gid(self->ctx, "2001:db8::7"), 3000));
}

/*
 * PDs, and memory windows of both types as the device advertises them:
 * each its own key, a third type refused.
 */
TEST_F(dev, pd_and_memory_windows)
{
	struct ibv_device_attr attr;
	struct ibv_mw *mw[4];
	struct ibv_pd *pd[4];
	int i, j;

	ASSERT_EQ(0, ibv_query_device(self->ctx, &attr));
	EXPECT_TRUE(attr.device_cap_flags & IBV_DEVICE_MEM_WINDOW);
	EXPECT_TRUE(attr.device_cap_flags & IBV_DEVICE_MEM_WINDOW_TYPE_2B);
	EXPECT_TRUE(attr.device_cap_flags & IBV_DEVICE_MEM_MGT_EXTENSIONS);
	EXPECT_LT(0, attr.max_mw);
	for (i = 0; i < 4; i++) {
		pd[i] = ibv_alloc_pd(self->ctx);
		ASSERT_NE(NULL, pd[i]);
	}
	for (i = 0; i < 4; i++) {
		mw[i] = ibv_alloc_mw(pd[i], i & 1 ? IBV_MW_TYPE_2 :
						    IBV_MW_TYPE_1);
		ASSERT_NE(NULL, mw[i]) TH_LOG("%s", strerror(errno));
		EXPECT_EQ(i & 1 ? IBV_MW_TYPE_2 : IBV_MW_TYPE_1, mw[i]->type);
		for (j = 0; j < i; j++)
			EXPECT_NE(mw[j]->rkey >> 8, mw[i]->rkey >> 8);
	}
	/* a clean error, never a fake success */
	errno = 0;
	EXPECT_EQ(NULL, ibv_alloc_mw(pd[0], (enum ibv_mw_type)3));
	EXPECT_NE(0, errno);
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(0, ibv_dealloc_mw(mw[i]));
		EXPECT_EQ(0, ibv_dealloc_pd(pd[i]));
	}
}

/* The port follows the carrier; link_downed counts its going down. */
TEST_F(dev, port_state_follows_carrier)
{
	long long downed = hw_counter(DEV, "link_downed");

	ASSERT_EQ(0, downed);
	/* veth carrier follows its peer */
	ASSERT_EQ(0, sh("ip link set rxtb down"));
	EXPECT_TRUE(ibdev_wait_event(self->ctx, IBV_EVENT_PORT_ERR, 2000));
	EXPECT_EQ(IBV_PORT_DOWN, ibdev_port_state(self->ctx));
	EXPECT_EQ(1, hw_counter(DEV, "link_downed"));

	ASSERT_EQ(0, sh("ip link set rxtb up"));
	EXPECT_TRUE(ibdev_wait_event(self->ctx, IBV_EVENT_PORT_ACTIVE, 2000));
	EXPECT_EQ(IBV_PORT_ACTIVE, ibdev_port_state(self->ctx));
	EXPECT_EQ(1, hw_counter(DEV, "link_downed"));

	/* and the device's own netdev going down */
	ASSERT_EQ(0, sh("%sip link set rxta down", IN_NS(variant)));
	EXPECT_TRUE(ibdev_wait_event(self->ctx, IBV_EVENT_PORT_ERR, 2000));
	EXPECT_EQ(IBV_PORT_DOWN, ibdev_port_state(self->ctx));
	/* down twice over (no carrier, then not up) is one link down */
	ASSERT_EQ(0, sh("ip link set rxtb down"));
	EXPECT_EQ(2, hw_counter(DEV, "link_downed"));
	ASSERT_EQ(0, sh("ip link set rxtb up"));
	ASSERT_EQ(0, sh("%sip link set rxta up", IN_NS(variant)));
	EXPECT_TRUE(ibdev_wait_event(self->ctx, IBV_EVENT_PORT_ACTIVE, 2000));
	EXPECT_EQ(2, hw_counter(DEV, "link_downed"));
}

TEST_F(dev, removed_with_netdev)
{
	/* the device waits for open contexts, as rxe does */
	ibv_close_device(self->ctx);
	self->ctx = NULL;
	ASSERT_EQ(0, kmsg_mark());
	ASSERT_EQ(0, sh("%sip link del rxta", IN_NS(variant)));
	EXPECT_TRUE(WAIT_FOR(!ibdev_exists(DEV), 3000));
	/* the port reads as down while the netdev goes, not as an error */
	EXPECT_FALSE(kmsg_has("ib_query_port failed"));
}

TEST_F(dev, removed_with_namespace)
{
	if (!variant->netns)
		SKIP(return, "device is in the initial namespace");
	ibv_close_device(self->ctx);
	self->ctx = NULL;
	ASSERT_EQ(0, sh("ip netns del " NS));
	EXPECT_TRUE(WAIT_FOR(!ibdev_exists(DEV), 5000));
}

TEST_F(dev, rdma_link_delete)
{
	ibv_close_device(self->ctx);
	self->ctx = NULL;
	ASSERT_EQ(0, sh("rdma link delete " DEV));
	EXPECT_FALSE(ibdev_exists(DEV));
	/* and the netdev can take a device again */
	ASSERT_EQ(0, sh("%srdma link add " DEV " type rxdp netdev rxta",
			IN_NS(variant)));
	EXPECT_TRUE(ibdev_exists(DEV));
}

/* Bad "rdma link add" input: an error naming the cause, nothing created. */
FIXTURE(badlink) {
	int dummy;
};

FIXTURE_SETUP(badlink)
{
	ASSERT_EQ(0, rxdp_load());
	netdev_remove("rxta");
	ASSERT_EQ(0, sh("ip link add rxta type veth peer name rxtb"));
}

FIXTURE_TEARDOWN(badlink)
{
	ibdev_remove(DEV);
	ibdev_remove("rxdpt1");
	netdev_remove("rxta");
}

static void expect_link_error(struct __test_metadata *_metadata,
			      const char *cmd, const char *why)
{
	char out[1024];

	EXPECT_NE(0, sh_out(out, sizeof(out), "%s", cmd));
	EXPECT_NE(NULL, strcasestr(out, why)) {
		TH_LOG("'%s' said: %s", cmd, out);
	}
}

TEST_F(badlink, unknown_netdev)
{
	expect_link_error(_metadata,
			  "rdma link add " DEV " type rxdp netdev nosuchdev",
			  "No such device");
	EXPECT_FALSE(ibdev_exists(DEV));
}

TEST_F(badlink, not_ethernet)
{
	expect_link_error(_metadata, "rdma link add " DEV " type rxdp netdev lo",
			  "Invalid argument");
	EXPECT_FALSE(ibdev_exists(DEV));
}

TEST_F(badlink, same_netdev_twice)
{
	ASSERT_EQ(0, sh("rdma link add " DEV " type rxdp netdev rxta"));
	expect_link_error(_metadata,
			  "rdma link add rxdpt1 type rxdp netdev rxta",
			  "File exists");
	EXPECT_FALSE(ibdev_exists("rxdpt1"));
	EXPECT_TRUE(ibdev_exists(DEV));
}

TEST_F(badlink, same_name_twice)
{
	ASSERT_EQ(0, sh("rdma link add " DEV " type rxdp netdev rxta"));
	expect_link_error(_metadata,
			  "rdma link add " DEV " type rxdp netdev rxtb",
			  "File exists");
	EXPECT_EQ(0, sh("rdma link show | grep -q 'netdev rxtb'") == 0);
}

static void add_named(struct __test_metadata *_metadata, int len,
		      const char *why)
{
	char name[128], cmd[256];

	memset(name, 'r', len);
	name[len] = '\0';
	snprintf(cmd, sizeof(cmd), "rdma link add %s type rxdp netdev rxta",
		 name);
	if (!why) {
		EXPECT_EQ(0, sh("%s", cmd));
		EXPECT_TRUE(ibdev_exists(name));
		EXPECT_EQ(0, sh("rdma link delete %s", name));
		return;
	}
	expect_link_error(_metadata, cmd, why);
	/* nothing was created, under a truncated name either */
	EXPECT_NE(0, sh("rdma link show | grep -q 'netdev rxta'"));
}

TEST_F(badlink, name_too_long)
{
	/* netlink refuses what cannot fit at all */
	add_named(_metadata, 100, "Invalid argument");
	/* the RDMA core would cut these to 63 characters: rxdp refuses */
	add_named(_metadata, 64, "too long");
	add_named(_metadata, 63, "too long");
	/* the longest name that is kept whole */
	add_named(_metadata, 62, NULL);
}

TEST_F(badlink, netdev_taken_by_rxe)
{
	if (sh("modprobe rdma_rxe"))
		SKIP(return, "rdma_rxe not available");
	ASSERT_EQ(0, sh("rdma link add rxdpt1 type rxe netdev rxta"));
	expect_link_error(_metadata,
			  "rdma link add " DEV " type rxdp netdev rxta",
			  "File exists");
	EXPECT_FALSE(ibdev_exists(DEV));
	EXPECT_EQ(0, sh("rdma link delete rxdpt1"));
}

/*
 * "rdma link add" races the netdev's removal: either the add fails, or the
 * device comes and then goes with the netdev.  A device left on a netdev
 * that is gone would hand query_port a freed netdev (which the debug
 * kernel's KASAN reports).
 */
TEST_F_TIMEOUT(badlink, add_races_netdev_removal, 300)
{
	int rounds = test_rounds(20, 6), r, added = 0;

	for (r = 0; r < rounds; r++) {
		struct ibv_context *ctx;
		struct ibv_port_attr pa;

		/* the fixture made the first veth */
		if (r)
			ASSERT_EQ(0, sh("ip link add rxta type veth peer "
					"name rxtb"));
		/* the delete a little later each round, from 0 to 50 ms */
		sh("(sleep 0.%03d; ip link del rxta) & "
		   "rdma link add " DEV " type rxdp netdev rxta 2>/dev/null; "
		   "wait", r * 50 / rounds);
		if (ibdev_exists(DEV))
			added++;
		ctx = ibdev_open(DEV);
		if (ctx) {
			ibv_query_port(ctx, 1, &pa);
			ibv_close_device(ctx);
		}
		EXPECT_TRUE(WAIT_UNTIL(!ibdev_exists(DEV), 5000))
			TH_LOG("round %d: the device outlived its netdev", r);
		netdev_remove("rxta");
	}
	TH_LOG("%d of %d adds won the race", added, rounds);
}

TEST_HARNESS_MAIN

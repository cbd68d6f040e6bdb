// SPDX-License-Identifier: GPL-2.0
/*
 * rxdpctl: attach and detach on a veth, in the initial network namespace
 * and in another one (through "ip netns exec"), next to another XDP
 * program, fifty times over, after the interface went away; what status,
 * qp and stats show; and every misuse: one line on stderr, a non-zero
 * exit, nothing created.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "rxdp_test.h"

#define IFA	"rxc0a"		/* rxdp goes here */
#define IFB	"rxc0b"
#define NS	"rxc_ns"
#define DEV	"rxdpc0"
#define OUT_LEN	8192

/* A program libxdp runs next to ours (xdp-tools' AF_XDP default). */
#define OTHER_XDP "/usr/lib/x86_64-linux-gnu/bpf/xsk_def_xdp_prog.o"

/* Run rxdpctl with args, in the namespace pre ("" or "ip netns exec .. "). */
static int ctl(const char *pre, char *out, char *err, const char *args)
{
	return sh_split(out, OUT_LEN, err, OUT_LEN, "%s%s %s", pre,
			rxdpctl_path(), args);
}

/* The interface's ifindex as seen in its namespace, or -1. */
static int ifindex_in(const char *pre, const char *ifname)
{
	char out[64];

	if (sh_out(out, sizeof(out), "%scat /sys/class/net/%s/ifindex", pre,
		   ifname))
		return -1;
	return atoi(out);
}

/*
 * Does "ip link show" list an XDP program of mode ("xdp", "xdpgeneric"),
 * or of any mode when mode is NULL?
 */
static bool link_has_xdp(const char *pre, const char *ifname, const char *mode)
{
	static const char *const modes[] = { "xdp", "xdpgeneric", "xdpoffload",
		"xdpmulti", NULL };
	const char *const *m;
	char out[2048], want[32];

	if (!*pre && !netdev_exists(ifname))
		return false;
	if (sh_out(out, sizeof(out), "%sip link show %s", pre, ifname))
		return false;
	for (m = modes; *m; m++) {
		if (mode && strcmp(mode, *m))
			continue;
		snprintf(want, sizeof(want), " %s ", *m);
		if (strstr(out, want))
			return true;
	}
	return false;
}

/* Is an RDMA device bound to ifname (seen from the netdev's namespace)? */
static bool link_has_rdma(const char *pre, const char *ifname)
{
	char out[4096], want[64];

	sh_out(out, sizeof(out), "%srdma link show", pre);
	snprintf(want, sizeof(want), "netdev %s ", ifname);
	return strstr(out, want) != NULL;
}

/* Maps of our program still around (freed some time after their last fd). */
static int our_maps(void)
{
	static const char *const names[] = { RXDP_MAP_QP_TABLE,
		RXDP_MAP_QP_SLOTS, RXDP_MAP_DEV_CONFIG, RXDP_MAP_COUNTERS,
		RXDP_MAP_GID_TABLE, NULL };

	return bpf_map_count(names);
}

/* Everything attach makes is there, and says what it should. */
static void check_attached(struct __test_metadata *_metadata, const char *pre,
			   const char *ifname, const char *dev,
			   const char *mode)
{
	static const char *const maps[] = { RXDP_MAP_QP_TABLE,
		RXDP_MAP_QP_SLOTS, RXDP_MAP_DEV_CONFIG, RXDP_MAP_COUNTERS,
		RXDP_MAP_GID_TABLE };
	struct rxdp_dev_config cfg;
	struct rxdp_qp_entry e;
	struct rxdp_qp_slot s;
	char out[OUT_LEN], want[128];
	size_t i;
	int fd;

	/* the device, on the interface */
	ASSERT_EQ(0, sh_out(out, sizeof(out), "%srdma link show %s/1", pre,
			    dev));
	snprintf(want, sizeof(want), "netdev %s ", ifname);
	EXPECT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);

	/* the program */
	EXPECT_TRUE(link_has_xdp(pre, ifname,
				 strcmp(mode, "native") ? "xdpgeneric" : "xdp"));
	EXPECT_LE(1, bpf_prog_count(RXDP_XDP_PROG_NAME));
	if (!*pre) {
		ASSERT_EQ(0, sh_out(out, sizeof(out), "xdp-loader status %s",
				    ifname));
		EXPECT_NE(NULL, strstr(out, RXDP_XDP_PROG_NAME)) TH_LOG("%s", out);
	}

	/* the maps, pinned, with BTF */
	EXPECT_TRUE(pin_dir_present(ifname));
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		fd = pinned_map_fd(ifname, maps[i]);
		EXPECT_LE(0, fd) TH_LOG("%s", maps[i]);
		if (fd >= 0)
			close(fd);
	}
	ASSERT_EQ(0, sh_out(out, sizeof(out),
			    "bpftool map dump pinned %s/%s/%s", RXDP_PIN_DIR,
			    ifname, RXDP_MAP_QP_TABLE));
	EXPECT_NE(NULL, strstr(out, "\"qpn\": 1,")) TH_LOG("%s", out);

	/* dev_config: what the module says about the device */
	ASSERT_EQ(0, pinned_dev_config(ifname, &cfg));
	EXPECT_EQ(ifindex_in(pre, ifname), (int)cfg.ifindex);
	EXPECT_EQ(rdma_dev_index(dev), (int)cfg.dev_index);
	EXPECT_EQ(RXDP_CFG_F_ACTIVE | RXDP_CFG_F_ICRC, cfg.flags);
	EXPECT_LE(1024, cfg.mtu);
	EXPECT_EQ(1, cfg.pkey_tbl_len);
	EXPECT_EQ(RXDP_PKEY_DEFAULT, cfg.pkey[0]);

	/* bound: the module wrote QP1 of the device */
	ASSERT_EQ(0, pinned_qp_entry(ifname, 1, &e));
	EXPECT_EQ(1, e.qpn);
	EXPECT_EQ(RXDP_QPT_GSI, e.type);
	EXPECT_EQ(RXDP_QPS_RTS, e.state);
	EXPECT_EQ(cfg.dev_index, e.dev_index);
	ASSERT_EQ(0, pinned_qp_slot(ifname, 1, &s));
	EXPECT_EQ(1, s.qpn);
	EXPECT_EQ(RXDP_QPT_GSI, s.type);
	EXPECT_EQ(RXDP_QPS_RTS, s.state);
	EXPECT_EQ(cfg.dev_index, s.dev_index);

	/* status tells it all */
	ASSERT_EQ(0, ctl(pre, out, NULL, "status"));
	EXPECT_NE(NULL, strstr(out, ifname)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, dev)) TH_LOG("%s", out);
	snprintf(want, sizeof(want), "XDP %s", mode);
	EXPECT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);
	snprintf(want, sizeof(want), "%s/%s/", RXDP_PIN_DIR, ifname);
	EXPECT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);
}

/* Nothing of rxdp is left on ifname (nor anywhere, when all is true). */
static void check_nothing(struct __test_metadata *_metadata, const char *pre,
			  const char *ifname, bool all)
{
	EXPECT_FALSE(pin_dir_present(ifname));
	EXPECT_FALSE(link_has_rdma(pre, ifname));
	EXPECT_FALSE(link_has_xdp(pre, ifname, NULL));
	if (!all)
		return;
	EXPECT_NE(0, access(RXDP_PIN_DIR, F_OK));
	/* programs and maps go some time after their last reference */
	EXPECT_TRUE(WAIT_UNTIL(bpf_prog_count(RXDP_XDP_PROG_NAME) == 0, 20000));
	EXPECT_TRUE(WAIT_UNTIL(our_maps() == 0, 20000)) TH_LOG("%d maps",
							   our_maps());
}

/* ---- attach and detach ------------------------------------------------ */

FIXTURE(ctl) {
	char pre[64];
};

FIXTURE_VARIANT(ctl) {
	bool netns;	/* the interface in a namespace of its own */
	bool full_only;	/* not in the light run */
};

FIXTURE_VARIANT_ADD(ctl, init_ns) { .netns = false, .full_only = true };
FIXTURE_VARIANT_ADD(ctl, other_ns) { .netns = true };

/* Undo what a test did; the veth pair goes with IFB (IFA may be in NS). */
static void ctl_cleanup(void)
{
	if (pin_dir_present(IFA))
		sh("%s detach " IFA "; ip netns exec " NS " %s detach " IFA,
		   rxdpctl_path(), rxdpctl_path());
	ibdev_remove(DEV);
	netdev_remove(IFB);
	netns_remove(NS);
	pin_dir_remove(IFA);
}

/*
 * Tests the light run leaves out: what they add to the others is
 * rxdpctl's and libxdp's behaviour, not the module's, and each attach
 * costs most of a minute of verifier time under the debug kernel.
 */
static const char *const user_side[] = {
	"attach_detach", "generic_mode_and_default_name", "attach_twice",
	"next_to_other_xdp",
};

FIXTURE_SETUP(ctl)
{
	if (variant->full_only ||
	    name_in(_metadata->name, user_side, ARRAY_SIZE(user_side)))
		LIGHT_SKIP();
	ASSERT_EQ(0, rxdp_load());
	ctl_cleanup();
	ASSERT_EQ(0, sh("ip link add " IFA " type veth peer name " IFB));
	if (variant->netns) {
		ASSERT_EQ(0, sh("ip netns add " NS " && ip link set " IFA
				" netns " NS));
		snprintf(self->pre, sizeof(self->pre), "ip netns exec %s ", NS);
	}
	ASSERT_EQ(0, sh("%sip link set " IFA " up && ip link set " IFB " up",
			self->pre));
}

FIXTURE_TEARDOWN(ctl)
{
	ctl_cleanup();
}

TEST_F_TIMEOUT(ctl, attach_detach, 180)
{
	char out[OUT_LEN], err[OUT_LEN];

	ASSERT_EQ(0, ctl(self->pre, out, err, "attach " IFA " --name " DEV))
		TH_LOG("%s", err);
	EXPECT_STREQ("", err);
	EXPECT_EQ(1, count_lines(out));
	EXPECT_NE(NULL, strstr(out, "attached " DEV " to " IFA)) TH_LOG("%s", out);
	check_attached(_metadata, self->pre, IFA, DEV, "native");

	ASSERT_EQ(0, ctl(self->pre, out, err, "detach " IFA)) TH_LOG("%s", err);
	EXPECT_STREQ("", err);
	EXPECT_FALSE(ibdev_exists(DEV));
	check_nothing(_metadata, self->pre, IFA, true);
}

TEST_F_TIMEOUT(ctl, generic_mode_and_default_name, 180)
{
	char out[OUT_LEN], err[OUT_LEN], name[64] = "";

	ASSERT_EQ(0, ctl(self->pre, out, err, "attach " IFA " --mode generic"))
		TH_LOG("%s", err);
	/* "attached rxdpN to ..." */
	ASSERT_EQ(1, sscanf(out, "attached %63s to", name)) TH_LOG("%s", out);
	EXPECT_EQ(0, strncmp(name, "rxdp", 4));
	check_attached(_metadata, self->pre, IFA, name, "generic");
	ASSERT_EQ(0, ctl(self->pre, out, err, "detach " IFA)) TH_LOG("%s", err);
	EXPECT_FALSE(ibdev_exists(name));
	check_nothing(_metadata, self->pre, IFA, true);
}

TEST_F_TIMEOUT(ctl, qp_and_stats, 180)
{
	static const char *const names[RXDP_CNT_MAX] = RXDP_COUNTER_NAMES;
	char out[OUT_LEN], err[OUT_LEN], want[64];
	int i;

	ASSERT_EQ(0, ctl(self->pre, out, err, "attach " IFA " --name " DEV))
		TH_LOG("%s", err);

	ASSERT_EQ(0, ctl(self->pre, out, err, "qp --dev " DEV)) TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(out, DEV " on " IFA)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "rx_packets")) TH_LOG("%s", out);
	/* QP1: "       1 GSI  RTS ..." */
	EXPECT_NE(NULL, strstr(out, " 1 GSI  RTS ")) TH_LOG("%s", out);

	ASSERT_EQ(0, ctl(self->pre, out, err, "stats --dev " DEV));
	for (i = 0; i < RXDP_CNT_MAX; i++) {
		EXPECT_NE(NULL, strstr(out, names[i])) TH_LOG("counter %d", i);
	}
	/* and the device's port counters, as rdma statistic shows them */
	EXPECT_NE(NULL, strstr(out, "\n  port 1:\n")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\n    sent_pkts ")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\n    rcvd_icrc_err ")) TH_LOG("%s", out);

	ASSERT_EQ(0, ctl(self->pre, out, err, "stats --json"));
	EXPECT_EQ('[', out[0]) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\"interface\":\"" IFA "\""));
	EXPECT_NE(NULL, strstr(out, "\"device\":\"" DEV "\""));
	for (i = 0; i < RXDP_CNT_MAX; i++) {
		snprintf(want, sizeof(want), "\"%s\":", names[i]);
		EXPECT_NE(NULL, strstr(out, want)) TH_LOG("%s", want);
	}
	EXPECT_NE(NULL, strstr(out, "\"port\":{\"sent_pkts\":"))
		TH_LOG("%s", out);
	/* JSON lists are balanced, and the output one line */
	EXPECT_EQ(1, count_lines(out));
	EXPECT_NE(NULL, strstr(out, "}}]"));

	ASSERT_EQ(0, ctl(self->pre, out, err, "detach " IFA));
}

/* A second attach fails and leaves the first one as it was. */
TEST_F_TIMEOUT(ctl, attach_twice, 180)
{
	char out[OUT_LEN], err[OUT_LEN];

	ASSERT_EQ(0, ctl(self->pre, out, err, "attach " IFA " --name " DEV));
	EXPECT_NE(0, ctl(self->pre, out, err, "attach " IFA " --name rxdpc1"));
	EXPECT_EQ(1, count_lines(err)) TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "already attached")) TH_LOG("%s", err);
	EXPECT_FALSE(ibdev_exists("rxdpc1"));
	check_attached(_metadata, self->pre, IFA, DEV, "native");
	ASSERT_EQ(0, ctl(self->pre, out, err, "detach " IFA));
	check_nothing(_metadata, self->pre, IFA, true);
}

/* The interface went away (with its device): detach still cleans up. */
TEST_F_TIMEOUT(ctl, detach_after_interface_gone, 180)
{
	char out[OUT_LEN], err[OUT_LEN];

	ASSERT_EQ(0, ctl(self->pre, out, err, "attach " IFA " --name " DEV));
	if (variant->netns) {
		ASSERT_EQ(0, sh("ip netns del " NS));
	} else {
		ASSERT_EQ(0, sh("ip link del " IFA));
	}
	ASSERT_TRUE(WAIT_FOR(!ibdev_exists(DEV), 5000));
	EXPECT_TRUE(pin_dir_present(IFA));
	ASSERT_EQ(0, ctl("", out, err, "detach " IFA)) TH_LOG("%s", err);
	check_nothing(_metadata, "", IFA, true);
}

/*
 * Twelve rounds leave nothing behind: no pin, program, map or device (a
 * round costs seconds of verifier time under TCG; three under the debug
 * kernel).
 */
TEST_F_TIMEOUT(ctl, attach_detach_repeatedly, 900)
{
	char out[OUT_LEN], err[OUT_LEN];
	int i, rounds = test_rounds(12, 3);

	for (i = 0; i < rounds; i++) {
		ASSERT_EQ(0, ctl(self->pre, out, err, "attach " IFA " --name "
				 DEV)) TH_LOG("round %d: %s", i, err);
		ASSERT_EQ(0, ctl(self->pre, out, err, "detach " IFA))
			TH_LOG("round %d: %s", i, err);
	}
	EXPECT_FALSE(ibdev_exists(DEV));
	check_nothing(_metadata, self->pre, IFA, true);
}

/* Next to another program: both run (libxdp's dispatcher), ours goes alone. */
TEST_F_TIMEOUT(ctl, next_to_other_xdp, 180)
{
	char out[OUT_LEN], err[OUT_LEN];

	/*
	 * "ip netns exec" hides /sys/fs/bpf: show libxdp the host's, as
	 * rxdpctl does, or it attaches without a dispatcher (not shareable).
	 */
	const char *xl = variant->netns ?
		"env LIBXDP_BPFFS=/proc/1/root/sys/fs/bpf xdp-loader" :
		"xdp-loader";

	if (access(OTHER_XDP, R_OK))
		SKIP(return, "no %s", OTHER_XDP);
	ASSERT_EQ(0, sh("%s%s load -m native " IFA " " OTHER_XDP, self->pre,
			xl));
	ASSERT_EQ(0, ctl(self->pre, out, err, "attach " IFA " --name " DEV))
		TH_LOG("%s", err);
	check_attached(_metadata, self->pre, IFA, DEV, "native");
	EXPECT_EQ(1, bpf_prog_count("xsk_def_prog"));
	ASSERT_EQ(0, ctl(self->pre, out, err, "detach " IFA)) TH_LOG("%s", err);
	/* the other program stays */
	EXPECT_TRUE(link_has_xdp(self->pre, IFA, "xdp"));
	EXPECT_EQ(1, bpf_prog_count("xsk_def_prog"));
	EXPECT_TRUE(WAIT_UNTIL(bpf_prog_count(RXDP_XDP_PROG_NAME) == 0, 20000));
	EXPECT_FALSE(pin_dir_present(IFA));
	sh("%s%s unload --all " IFA, self->pre, xl);
}

/* ---- misuse: one line on stderr, non-zero exit, nothing created ------- */

#define MIF	"rxm0a"		/* the interface misused */
#define MPEER	"rxm0b"
#define MDUMMY	"rxm0d"		/* no native XDP */
#define MDEV	"rxdpm0"

FIXTURE(misuse) {
};

FIXTURE_VARIANT(misuse) {
	const char *setup;	/* shell command before, or NULL */
	const char *args;	/* rxdpctl's arguments */
	const char *expect;	/* in the error line */
	bool nobody;		/* run as user nobody */
	bool stale;		/* maps of another layout pinned for MIF */
};

FIXTURE_VARIANT_ADD(misuse, not_root) {
	.args = "attach " MIF, .expect = "root", .nobody = true,
};
FIXTURE_VARIANT_ADD(misuse, no_such_interface) {
	.args = "attach rxm_nosuch0", .expect = "no interface rxm_nosuch0",
};
FIXTURE_VARIANT_ADD(misuse, interface_name_too_long) {
	.args = "attach rxm_name_far_too_long0", .expect = "no interface",
};
FIXTURE_VARIANT_ADD(misuse, not_attached) {
	.args = "detach " MIF, .expect = "not attached",
};
FIXTURE_VARIANT_ADD(misuse, detach_no_such_interface) {
	.args = "detach rxm_nosuch0", .expect = "nothing to detach",
};
FIXTURE_VARIANT_ADD(misuse, native_unsupported) {
	.setup = "ip link add " MDUMMY " type dummy && ip link set " MDUMMY
		 " up",
	.args = "attach " MDUMMY " --mode native", .expect = "--mode generic",
};
FIXTURE_VARIANT_ADD(misuse, maps_of_older_version) {
	.setup = "mkdir -p " RXDP_PIN_DIR "/" MIF " && bpftool map create "
		 RXDP_PIN_DIR "/" MIF "/" RXDP_MAP_QP_TABLE " type hash key 4 "
		 "value 64 entries 1024 name " RXDP_MAP_QP_TABLE,
	.args = "attach " MIF, .expect = "another rxdp version",
	.stale = true,
};
FIXTURE_VARIANT_ADD(misuse, interface_has_rdma_device) {
	.setup = "rdma link add " MDEV " type rxdp netdev " MIF,
	.args = "attach " MIF, .expect = "already has the RDMA device " MDEV,
};
FIXTURE_VARIANT_ADD(misuse, name_taken) {
	.setup = "rdma link add " MDEV " type rxdp netdev " MPEER,
	.args = "attach " MIF " --name " MDEV, .expect = "exists already",
};
FIXTURE_VARIANT_ADD(misuse, bad_name) {
	.args = "attach " MIF " --name rx%d", .expect = "may not contain",
};
FIXTURE_VARIANT_ADD(misuse, bad_mode) {
	.args = "attach " MIF " --mode turbo", .expect = "unknown XDP mode",
};
FIXTURE_VARIANT_ADD(misuse, unknown_command) {
	.args = "frobnicate", .expect = "unknown command 'frobnicate'",
};
FIXTURE_VARIANT_ADD(misuse, unknown_option) {
	.args = "attach " MIF " --frob", .expect = "unknown option '--frob'",
};
FIXTURE_VARIANT_ADD(misuse, unknown_global_option) {
	.args = "--frob status", .expect = "unknown option '--frob'",
};
FIXTURE_VARIANT_ADD(misuse, missing_command) {
	.args = "", .expect = "missing command",
};
FIXTURE_VARIANT_ADD(misuse, missing_interface) {
	.args = "attach --mode generic", .expect = "missing interface",
};
FIXTURE_VARIANT_ADD(misuse, missing_value) {
	.args = "attach " MIF " --mode", .expect = "needs a value",
};
FIXTURE_VARIANT_ADD(misuse, extra_argument) {
	.args = "detach " MIF " " MPEER, .expect = "unexpected argument",
};
FIXTURE_VARIANT_ADD(misuse, status_argument) {
	.args = "status " MIF, .expect = "unexpected argument",
};
FIXTURE_VARIANT_ADD(misuse, qp_unknown_device) {
	.args = "qp --dev rxm_nosuch", .expect = "no attached rxdp device",
};
FIXTURE_VARIANT_ADD(misuse, stats_unknown_device) {
	.args = "stats --json --dev rxm_nosuch",
	.expect = "no attached rxdp device",
};

/* Undo the fixture and what any variant's setup made. */
static void misuse_cleanup(void)
{
	ibdev_remove(MDEV);
	netdev_remove(MIF);
	netdev_remove(MDUMMY);
	pin_dir_remove(MIF);
}

FIXTURE_SETUP(misuse)
{
	/*
	 * Not in the light run: rxdpctl refuses these in user space, before
	 * the module has a say (vm_xdp tests what the module refuses).
	 */
	LIGHT_SKIP();
	ASSERT_EQ(0, rxdp_load());
	misuse_cleanup();
	ASSERT_EQ(0, sh("ip link add " MIF " type veth peer name " MPEER
			" && ip link set " MIF " up && ip link set " MPEER
			" up"));
	if (variant->setup)
		ASSERT_EQ(0, sh("%s", variant->setup));
}

FIXTURE_TEARDOWN(misuse)
{
	misuse_cleanup();
}

TEST_F_TIMEOUT(misuse, one_line_nonzero_nothing_created, 60)
{
	char out[OUT_LEN], err[OUT_LEN], before[OUT_LEN], after[OUT_LEN];
	int ret;

	sh_out(before, sizeof(before), "rdma link show; ls -R " RXDP_PIN_DIR);
	ret = sh_split(out, sizeof(out), err, sizeof(err), "%s%s %s",
		       variant->nobody ? "setpriv --reuid=65534 --regid=65534 "
					 "--clear-groups " : "",
		       rxdpctl_path(), variant->args);
	EXPECT_NE(0, ret);
	EXPECT_STREQ("", out);
	EXPECT_EQ(1, count_lines(err)) TH_LOG("%s", err);
	EXPECT_EQ(0, strncmp(err, "rxdpctl: ", 9)) TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, variant->expect)) TH_LOG("%s", err);

	/* nothing created: devices, pins, programs as they were */
	sh_out(after, sizeof(after), "rdma link show; ls -R " RXDP_PIN_DIR);
	EXPECT_STREQ(before, after);
	EXPECT_FALSE(link_has_xdp("", MIF, "xdp"));
	EXPECT_FALSE(link_has_xdp("", MDUMMY, "xdp"));
	EXPECT_TRUE(WAIT_UNTIL(bpf_prog_count(RXDP_XDP_PROG_NAME) == 0, 20000));
	EXPECT_EQ(variant->stale, pin_dir_present(MIF));
}

/* Maps of another layout: detach removes them. */
TEST(detach_removes_maps_of_older_version)
{
	char out[OUT_LEN], err[OUT_LEN];

	ASSERT_EQ(0, rxdp_load());
	ASSERT_EQ(0, sh("mkdir -p " RXDP_PIN_DIR "/" MIF " && bpftool map "
			"create " RXDP_PIN_DIR "/" MIF "/" RXDP_MAP_DEV_CONFIG
			" type array key 4 value 16 entries 1 name "
			RXDP_MAP_DEV_CONFIG));
	EXPECT_EQ(0, ctl("", out, err, "detach " MIF)) TH_LOG("%s", err);
	EXPECT_FALSE(pin_dir_present(MIF));
	pin_dir_remove(MIF);
}

/*
 * Pins an older rxdpctl made have no qp_slots: status says so, attach
 * refuses, and detach takes the device, the program and the pins.
 */
TEST(pins_without_qp_slots)
{
	char out[OUT_LEN], err[OUT_LEN];

	ASSERT_EQ(0, rxdp_load());
	netdev_remove(MIF);
	ASSERT_EQ(0, sh("ip link add " MIF " type veth peer name " MPEER
			" && ip link set " MIF " up && ip link set " MPEER
			" up"));
	ASSERT_EQ(0, ctl("", out, err, "attach " MIF " --name " MDEV))
		TH_LOG("%s", err);
	ASSERT_EQ(0, sh("rm " RXDP_PIN_DIR "/" MIF "/" RXDP_MAP_QP_SLOTS));

	ASSERT_EQ(0, ctl("", out, err, "status")) TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(out, RXDP_MAP_QP_SLOTS " is missing"))
		TH_LOG("%s", out);
	EXPECT_NE(0, ctl("", out, err, "attach " MIF));
	EXPECT_NE(NULL, strstr(err, "detach it first")) TH_LOG("%s", err);
	EXPECT_EQ(0, ctl("", out, err, "detach " MIF)) TH_LOG("%s", err);
	EXPECT_FALSE(pin_dir_present(MIF));
	EXPECT_FALSE(link_has_rdma("", MIF));
	EXPECT_FALSE(link_has_xdp("", MIF, "xdp"));
	misuse_cleanup();
}

TEST(help)
{
	char out[OUT_LEN], err[OUT_LEN];

	ASSERT_EQ(0, ctl("", out, err, "--help"));
	EXPECT_EQ(0, strncmp(out, "usage: rxdpctl", 14));
	EXPECT_STREQ("", err);
	ASSERT_EQ(0, ctl("", out, err, "-h"));
	EXPECT_EQ(0, strncmp(out, "usage: rxdpctl", 14));
	ASSERT_EQ(0, ctl("", out, err, "attach --help"));
	EXPECT_EQ(0, strncmp(out, "usage: rxdpctl", 14));
}

FIXTURE(module) {
};

FIXTURE_SETUP(module)
{
}

FIXTURE_TEARDOWN(module)
{
}

/* Without the module: refused before anything is made. */
TEST_F_TIMEOUT(module, not_loaded, 120)
{
	char out[OUT_LEN], err[OUT_LEN];
	int ret;

	ASSERT_EQ(0, rxdp_load());
	if (sh("rdma link show | grep -q ' rxdp'") == 0)
		SKIP(return, "rxdp devices exist: the module stays");
	misuse_cleanup();
	ASSERT_EQ(0, sh("ip link add " MIF " type veth peer name " MPEER
			" && ip link set " MIF " up"));
	/* programs that used the kfuncs let go of the module lazily */
	if (!WAIT_UNTIL(sh("rmmod rxdp") == 0, 20000)) {
		misuse_cleanup();
		SKIP(return, "rxdp does not unload");
	}
	ret = ctl("", out, err, "attach " MIF);
	EXPECT_NE(0, ret);
	EXPECT_EQ(1, count_lines(err)) TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "module is not loaded")) TH_LOG("%s", err);
	EXPECT_FALSE(pin_dir_present(MIF));
	EXPECT_FALSE(link_has_xdp("", MIF, "xdp"));
	misuse_cleanup();
	ASSERT_EQ(0, rxdp_load());
}

TEST_HARNESS_MAIN

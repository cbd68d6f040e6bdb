// SPDX-License-Identifier: GPL-2.0
/*
 * A kernel ULP on rxdp: rxdp_ulp_test.ko (selftests/kmod), built for the
 * running kernel, moves SENDs between two RC QPs of a device through the
 * DMA lkey, moves them to ERR mid-transfer and frees each buffer as its
 * completion is polled, as ULPs do.  It fails to load when a WQE does not
 * complete exactly once or a message arrives damaged; a use of a buffer
 * after its completion is a KASAN report, which fails the debug kernel's
 * run.  Nothing of the ULP's may be left on the device afterwards.
 * With test=frwr it registers memory by fast registration as NVMe-oF
 * does, and checks what each key reaches.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "rxdp_test.h"

TESTDEV_DEFINE(tdev, "rxdpu0", "rxu0a", "rxu0b", "10.77.9.1");

static const char *const res_kinds[] = { "pd", "cq", "qp", "mr" };
#define NKINDS	4

/*
 * The test module built for the running kernel (see the Makefile):
 * $RXDP_ULP_KO, else build/ulp/<release>/ in the tree, else the installed
 * collection's modules/<release>/.
 */
static int ulp_ko(char *path, size_t len)
{
	char tree[128], inst[128];
	struct utsname u;
	const char *p;

	if (uname(&u))
		return -1;
	snprintf(tree, sizeof(tree), "build/ulp/%s/rxdp_ulp_test.ko", u.release);
	snprintf(inst, sizeof(inst), "modules/%s/rxdp_ulp_test.ko", u.release);
	p = test_file(path, len, "RXDP_ULP_KO", tree, inst);
	if (p != path)
		snprintf(path, len, "%s", p);
	return access(path, R_OK);
}

FIXTURE(ulp) {
	char ko[256];
	int gid;
	int res[NKINDS];
};

FIXTURE_SETUP(ulp)
{
	int i;

	ASSERT_EQ(0, ulp_ko(self->ko, sizeof(self->ko)))
		TH_LOG("%s: not built for this kernel", self->ko);
	ASSERT_EQ(0, testdev_ensure(&tdev));
	self->gid = testdev_gid_index(&tdev);
	ASSERT_LE(0, self->gid);
	for (i = 0; i < NKINDS; i++) {
		self->res[i] = rdma_res_count(tdev.name, res_kinds[i]);
		ASSERT_LE(0, self->res[i]);
	}
	sh("rmmod rxdp_ulp_test 2>/dev/null");
}

FIXTURE_TEARDOWN(ulp)
{
	sh("rmmod rxdp_ulp_test 2>/dev/null");
	testdev_release(&tdev);
}

/*
 * Every WQE completes once, successful messages are intact, and no
 * buffer is touched after its completion, with the QPs moved to ERR
 * (sender first or receiver first) at random points of a transfer.
 */
TEST_F(ulp, flush_then_free)
{
	int rounds = test_rounds(96, 24), i, ret;
	char out[4096];

	ret = sh("insmod %s dev=%s gid=%d rounds=%d", self->ko, tdev.name,
		 self->gid, rounds);
	if (ret) {
		sh_out(out, sizeof(out),
		       "dmesg | grep rxdp_ulp_test | tail -n 20");
		TH_LOG("the ULP failed:\n%s", out);
	}
	ASSERT_EQ(0, ret);
	if (!sh_out(out, sizeof(out),
		    "dmesg | grep 'rxdp_ulp_test: .* rounds' | tail -n 1"))
		printf("# %s", out);
	EXPECT_EQ(0, sh("rmmod rxdp_ulp_test"));
	for (i = 0; i < NKINDS; i++) {
		const char *kind = res_kinds[i];
		int now = rdma_res_count(tdev.name, kind);

		EXPECT_EQ(self->res[i], now)
			TH_LOG("%d %s objects, %d before", now, kind,
			       self->res[i]);
	}
}

/*
 * Fast registration: each REG_MR gives the MR a new key, by which the peer
 * writes and reads exactly the mapped bytes; LOCAL_INV and the peer's
 * SEND with Invalidate end it, and the old key is refused.
 */
TEST_F(ulp, fast_registration)
{
	char out[4096];
	int ret, i;

	ret = sh("insmod %s dev=%s gid=%d test=frwr", self->ko, tdev.name,
		 self->gid);
	if (ret) {
		sh_out(out, sizeof(out),
		       "dmesg | grep rxdp_ulp_test | tail -n 20");
		TH_LOG("the ULP failed:\n%s", out);
	}
	ASSERT_EQ(0, ret);
	if (!sh_out(out, sizeof(out),
		    "dmesg | grep 'rxdp_ulp_test: .* fast reg' | tail -n 1"))
		printf("# %s", out);
	EXPECT_EQ(0, sh("rmmod rxdp_ulp_test"));
	for (i = 0; i < NKINDS; i++)
		EXPECT_EQ(self->res[i], rdma_res_count(tdev.name,
						       res_kinds[i]));
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rxdp_test.h"

static int vsh(char *out, size_t len, const char *fmt, va_list ap)
{
	char *cmd, *full;
	size_t got = 0;
	FILE *p;
	int st;

	if (vasprintf(&cmd, fmt, ap) < 0)
		return -1;
	if (asprintf(&full, "(%s) 2>&1", cmd) < 0) {
		free(cmd);
		return -1;
	}
	free(cmd);
	p = popen(full, "r");
	free(full);
	if (!p)
		return -1;
	if (out && len) {
		got = fread(out, 1, len - 1, p);
		out[got] = '\0';
	}
	/* drain so the command never blocks on a full pipe */
	while (!feof(p) && !ferror(p)) {
		char sink[512];

		if (!fread(sink, 1, sizeof(sink), p))
			break;
	}
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int sh(const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vsh(NULL, 0, fmt, ap);
	va_end(ap);
	return ret;
}

int sh_out(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vsh(out, len, fmt, ap);
	va_end(ap);
	return ret;
}

bool ibdev_exists(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/class/infiniband/%s", name);
	return access(path, F_OK) == 0;
}

bool netdev_exists(const char *ifname)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/class/net/%s", ifname);
	return access(path, F_OK) == 0;
}

#include <sys/mman.h>

void *pmem_map(size_t len)
{
	const char *dax = "/dev/dax0.0";
	void *p;
	int fd;

	/* no labels on an emulated NVDIMM: its one namespace is made over */
	if (access(dax, F_OK) &&
	    (sh("modprobe -q -a nfit nd_pmem dax_pmem device_dax") ||
	     sh("ndctl create-namespace -f -e namespace0.0 -m devdax -a 2M "
		">/dev/null 2>&1")))
		return NULL;
	fd = open(dax, O_RDWR);
	if (fd < 0)
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

void ibdev_remove(const char *name)
{
	if (ibdev_exists(name))
		sh("rdma link delete %s", name);
}

void netdev_remove(const char *ifname)
{
	if (netdev_exists(ifname))
		sh("ip link del %s", ifname);
}

void netns_remove(const char *ns)
{
	char path[256];

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	if (access(path, F_OK) == 0)
		sh("ip netns del %s", ns);
}

struct ibv_context *ibdev_open(const char *name)
{
	struct ibv_context *ctx = NULL;
	struct ibv_device **list;
	int i, n;

	list = ibv_get_device_list(&n);
	if (!list)
		return NULL;
	for (i = 0; i < n; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			ctx = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	return ctx;
}

int ibdev_port_state(struct ibv_context *ctx)
{
	struct ibv_port_attr attr;

	if (ibv_query_port(ctx, 1, &attr))
		return -1;
	return attr.state;
}

bool ibdev_wait_event(struct ibv_context *ctx, enum ibv_event_type type,
		      int ms)
{
	struct pollfd pfd = { .fd = ctx->async_fd, .events = POLLIN };
	struct ibv_async_event ev;
	int flags = fcntl(ctx->async_fd, F_GETFL);
	bool found = false;

	fcntl(ctx->async_fd, F_SETFL, flags | O_NONBLOCK);
	ms *= test_timeout_scale();
	while (!found && poll(&pfd, 1, ms) > 0) {
		if (ibv_get_async_event(ctx, &ev))
			break;
		found = ev.event_type == type;
		ibv_ack_async_event(&ev);
	}
	fcntl(ctx->async_fd, F_SETFL, flags);
	return found;
}

int test_timeout_scale(void)
{
	static int scale;

	if (!scale) {
		const char *s = getenv("RXDP_TIMEOUT_SCALE");
		int v = s ? atoi(s) : 1;

		scale = v < 1 ? 1 : v > 20 ? 20 : v;
	}
	return scale;
}

/*
 * The kselftest harness bounds each test with alarm(timeout) and cancels
 * it with alarm(0); this definition takes the place of libc's in the test
 * binaries, so that those timeouts stretch with test_timeout_scale().
 */
unsigned int alarm(unsigned int seconds)
{
	struct itimerval it = {
		.it_value.tv_sec = (time_t)seconds * test_timeout_scale(),
	}, old;

	if (setitimer(ITIMER_REAL, &it, &old))
		return 0;
	return old.it_value.tv_sec + (old.it_value.tv_usec > 0);
}

int test_rounds(int full, int light)
{
	const char *l = getenv("RXDP_LIGHT");

	return l && *l && strcmp(l, "0") ? light : full;
}

bool test_light(void)
{
	return test_rounds(0, 1);
}

const char *test_file(char *buf, size_t len, const char *env,
		      const char *in_tree, const char *installed)
{
	const char *e = env ? getenv(env) : NULL;
	char exe[4096], *slash;
	ssize_t n;

	if (e && *e)
		return e;
	if (access(in_tree, F_OK) == 0)
		return in_tree;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return in_tree;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return in_tree;
	*slash = '\0';
	if (snprintf(buf, len, "%s/%s", exe, installed) < (int)len &&
	    access(buf, F_OK) == 0)
		return buf;
	return in_tree;
}

const char *rxdp_ko(void)
{
	static char buf[4096], inst[128];
	struct utsname u;

	if (!uname(&u))
		snprintf(inst, sizeof(inst), "modules/%s/rxdp.ko", u.release);
	return test_file(buf, sizeof(buf), "RXDP_KO", "kmod/rxdp.ko", inst);
}

int rxdp_load(void)
{
	if (access("/sys/module/rxdp", F_OK) == 0)
		return 0;
	/* modprobe is slow in the VM: only when the RDMA core is missing */
	if (access("/sys/module/rdma_ucm", F_OK) &&
	    sh("modprobe -a ib_core ib_uverbs rdma_ucm"))
		return -1;
	return sh("insmod %s", rxdp_ko());
}

static char *kmsg_seen;

/* Remember the current end of the kernel log. */
int kmsg_mark(void)
{
	char buf[64];

	free(kmsg_seen);
	kmsg_seen = NULL;
	if (sh_out(buf, sizeof(buf), "dmesg | wc -l"))
		return -1;
	kmsg_seen = strdup(buf);
	return 0;
}

/* Does the kernel log, since the last mark, contain needle? */
bool kmsg_has(const char *needle)
{
	char cmd[512];
	long from = kmsg_seen ? atol(kmsg_seen) : 0;

	snprintf(cmd, sizeof(cmd), "dmesg | tail -n +%ld | grep -qF -- '%s'",
		 from + 1, needle);
	return sh("%s", cmd) == 0;
}

#include <arpa/inet.h>
#include <ctype.h>
#include <sched.h>
#include <sys/socket.h>

int socket_in_ns(const char *ns, int domain, int type, int proto)
{
	int self_ns = open("/proc/self/ns/net", O_RDONLY), fd = -1, there;
	char path[128];

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	there = open(path, O_RDONLY);
	if (self_ns >= 0 && there >= 0 && !setns(there, CLONE_NEWNET)) {
		fd = socket(domain, type, proto);
		/* back, or the caller's later sockets land there too */
		if (setns(self_ns, CLONE_NEWNET)) {
			fprintf(stderr, "# setns back: %s\n", strerror(errno));
			exit(1);
		}
	}
	if (there >= 0)
		close(there);
	if (self_ns >= 0)
		close(self_ns);
	return fd;
}

/* ---- devices for the verbs tests ------------------------------------- */

const char *testdev_type(void)
{
	const char *t = getenv("RXDP_TEST_DEV_TYPE");

	return t && *t ? t : "rxdp";
}

bool testdev_is_rxdp(void)
{
	return !strcmp(testdev_type(), "rxdp");
}

int testdev_load(void)
{
	char path[128];

	if (testdev_is_rxdp())
		return rxdp_load();
	snprintf(path, sizeof(path), "/sys/module/rdma_%s", testdev_type());
	if (access(path, F_OK) == 0)
		return 0;
	return sh("modprobe rdma_%s || modprobe %s", testdev_type(),
		  testdev_type());
}

/* The sysfs form of the v4-mapped GID of addr. */
/* The GID of an address: IPv6 as it is, IPv4 v4-mapped.  0 or -1. */
static int gid_of_addr(const char *addr, uint8_t gid[16])
{
	memset(gid, 0, 16);
	if (inet_pton(AF_INET6, addr, gid) == 1)
		return 0;
	gid[10] = 0xff;
	gid[11] = 0xff;
	return inet_pton(AF_INET, addr, gid + 12) == 1 ? 0 : -1;
}

static int gid_sysfs_string(const char *addr, char *out, size_t len)
{
	uint8_t g[16];
	size_t at = 0;
	int i;

	if (gid_of_addr(addr, g))
		return -1;
	for (i = 0; i < 16 && at < len; i += 2)
		at += snprintf(out + at, len - at, "%s%02x%02x", i ? ":" : "",
			       g[i], g[i + 1]);
	return at < len ? 0 : -1;
}

static int read_line(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f)
		return -1;
	ok = fgets(out, len, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

int testdev_gid_index(const struct testdev *d)
{
	char want[64], path[256], got[128];
	int i;

	if (gid_sysfs_string(d->addr, want, sizeof(want)))
		return -1;
	/* the tests' devices have few addresses: the first entries do */
	for (i = 0; i < 16; i++) {
		snprintf(path, sizeof(path),
			 "/sys/class/infiniband/%s/ports/1/gids/%d", d->name, i);
		if (read_line(path, got, sizeof(got)) || strcmp(got, want))
			continue;
		snprintf(path, sizeof(path),
			 "/sys/class/infiniband/%s/ports/1/gid_attrs/types/%d",
			 d->name, i);
		if (!read_line(path, got, sizeof(got)) &&
		    !strcasecmp(got, "RoCE v2"))
			return i;
	}
	return -1;
}

void testdev_preload(void)
{
	struct ibv_device **list = ibv_get_device_list(NULL);

	if (list)
		ibv_free_device_list(list);
}

void testdev_remove(const struct testdev *d)
{
	sh("rdma link delete %s; ip link del %s", d->name, d->veth);
}

void testdev_release(const struct testdev *d)
{
	const char *fresh = getenv("RXDP_TEST_FRESH_DEV");

	if (fresh && *fresh && strcmp(fresh, "0"))
		testdev_remove(d);
}

static bool port_active(const char *name)
{
	char path[256], got[64];

	snprintf(path, sizeof(path), "/sys/class/infiniband/%s/ports/1/state",
		 name);
	return !read_line(path, got, sizeof(got)) && strstr(got, "ACTIVE");
}

int testdev_ensure(const struct testdev *d)
{
	if (testdev_load())
		return -1;
	if (ibdev_exists(d->name) && testdev_gid_index(d) >= 0 &&
	    port_active(d->name))
		return 0;
	testdev_remove(d);
	if (sh("ip link add %s type veth peer name %s && "
	       "ip link set %s up && ip link set %s up && "
	       "rdma link add %s type %s netdev %s && "
	       "ip addr add %s/24 dev %s",
	       d->veth, d->peer, d->veth, d->peer, d->name, testdev_type(),
	       d->veth, d->addr, d->veth))
		return -1;
	if (!WAIT_FOR(testdev_gid_index(d) >= 0, 5000))
		return -1;
	return WAIT_FOR(port_active(d->name), 5000) ? 0 : -1;
}

/* ---- a device opened for the verbs tests ---------------------------- */

#define QP_ENV_BUF	(64 * 1024)

int qp_env_use_addr(struct qp_env *e, const char *addr)
{
	uint8_t want[16];
	int i;

	if (gid_of_addr(addr, want))
		return -1;
	for (i = 0; i < 16 && i < e->port.gid_tbl_len; i++) {
		struct ibv_gid_entry g;

		if (ibv_query_gid_ex(e->ctx, 1, i, &g, 0) ||
		    g.gid_type != IBV_GID_TYPE_ROCE_V2 ||
		    memcmp(g.gid.raw, want, sizeof(want)))
			continue;
		e->gid = g.gid;
		e->gid_index = i;
		return 0;
	}
	return -1;
}

int qp_env_open(struct qp_env *e, const char *dev)
{
	int i;

	memset(e, 0, sizeof(*e));
	e->gid_index = -1;
	e->ctx = ibdev_open(dev);
	if (!e->ctx)
		return -1;
	if (ibv_query_device(e->ctx, &e->dev) ||
	    ibv_query_port(e->ctx, 1, &e->port))
		return -1;
	for (i = 0; i < 16 && i < e->port.gid_tbl_len; i++) {
		struct ibv_gid_entry g;

		if (ibv_query_gid_ex(e->ctx, 1, i, &g, 0) ||
		    g.gid_type != IBV_GID_TYPE_ROCE_V2)
			continue;
		/* v4-mapped: ::ffff:a.b.c.d */
		if (g.gid.global.subnet_prefix == 0 &&
		    g.gid.raw[10] == 0xff && g.gid.raw[11] == 0xff) {
			e->gid = g.gid;
			e->gid_index = i;
			break;
		}
	}
	if (e->gid_index < 0)
		return -1;
	e->pd = ibv_alloc_pd(e->ctx);
	e->scq = ibv_create_cq(e->ctx, 256, NULL, NULL, 0);
	e->rcq = ibv_create_cq(e->ctx, 256, NULL, NULL, 0);
	e->buf_len = QP_ENV_BUF;
	e->buf = aligned_alloc(4096, e->buf_len);
	if (!e->pd || !e->scq || !e->rcq || !e->buf)
		return -1;
	memset(e->buf, 0, e->buf_len);
	e->mr = ibv_reg_mr(e->pd, e->buf, e->buf_len,
			   IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
			   IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC);
	return e->mr ? 0 : -1;
}

void qp_env_close(struct qp_env *e)
{
	if (e->qp)
		ibv_destroy_qp(e->qp);
	if (e->mr)
		ibv_dereg_mr(e->mr);
	if (e->scq)
		ibv_destroy_cq(e->scq);
	if (e->rcq)
		ibv_destroy_cq(e->rcq);
	if (e->pd)
		ibv_dealloc_pd(e->pd);
	if (e->ctx)
		ibv_close_device(e->ctx);
	free(e->buf);
	memset(e, 0, sizeof(*e));
}

struct ibv_qp *qp_create_attr(struct ibv_pd *pd, struct ibv_qp_init_attr *ia)
{
	return ibv_create_qp(pd, ia);
}

struct ibv_qp *qp_create(struct qp_env *e, enum ibv_qp_type type, uint32_t wr)
{
	struct ibv_qp_init_attr ia = {
		.send_cq = e->scq,
		.recv_cq = e->rcq,
		.qp_type = type,
		.sq_sig_all = 1,
		.cap = {
			.max_send_wr = wr,
			.max_recv_wr = wr,
			.max_send_sge = 1,
			.max_recv_sge = 1,
		},
	};

	return qp_create_attr(e->pd, &ia);
}

int qp_query(struct ibv_qp *qp, struct ibv_qp_attr *a,
	     struct ibv_qp_init_attr *ia)
{
	struct ibv_qp_init_attr dummy;

	memset(a, 0, sizeof(*a));
	return verr(ibv_query_qp(qp, a, 0x1fffff, ia ? ia : &dummy));
}

int qp_state(struct ibv_qp *qp)
{
	struct ibv_qp_init_attr ia;
	struct ibv_qp_attr a;

	memset(&a, 0, sizeof(a));
	if (ibv_query_qp(qp, &a, IBV_QP_STATE, &ia))
		return -1;
	return a.qp_state;
}

void qp_attr_values(struct qp_env *e, struct ibv_qp *qp, int set,
		    struct ibv_qp_attr *a)
{
	bool rc = qp->qp_type == IBV_QPT_RC;

	memset(a, 0, sizeof(*a));
	a->pkey_index = 0;
	a->port_num = 1;
	a->qkey = set ? 0x22222222 : 0x11111111;
	if (qp->qp_type == IBV_QPT_UD)
		a->qp_access_flags = 0;
	else if (set)
		a->qp_access_flags = rc ? IBV_ACCESS_REMOTE_READ : 0;
	else
		a->qp_access_flags = IBV_ACCESS_REMOTE_WRITE |
			(rc ? IBV_ACCESS_REMOTE_READ |
			      IBV_ACCESS_REMOTE_ATOMIC : 0);
	a->ah_attr.is_global = 1;
	a->ah_attr.port_num = 1;
	a->ah_attr.grh.dgid = e->gid;
	a->ah_attr.grh.sgid_index = e->gid_index;
	a->ah_attr.grh.hop_limit = set ? 32 : 64;
	a->path_mtu = set ? IBV_MTU_512 : IBV_MTU_1024;
	a->dest_qp_num = set ? DEAD_QPN - 1 : DEAD_QPN;
	a->rq_psn = set ? 0x300 : 0x100;
	a->sq_psn = set ? 0x400 : 0x200;
	a->max_dest_rd_atomic = set ? 2 : 4;
	a->max_rd_atomic = set ? 2 : 4;
	a->min_rnr_timer = set ? 5 : 12;
	/* never time out by default: once packets flow, nothing acks them */
	a->timeout = set ? 20 : 31;
	a->retry_cnt = set ? 3 : 7;
	a->rnr_retry = set ? 2 : 7;
	a->en_sqd_async_notify = set;
	a->path_mig_state = IBV_MIG_MIGRATED;
}

/* The IB spec's table (ib_modify_qp_is_ok) for RC, UC and UD. */
struct qp_trans_masks {
	int req[3], opt[3];	/* [0] RC, [1] UC, [2] UD */
};

#define M_PKEY	IBV_QP_PKEY_INDEX
#define M_PORT	IBV_QP_PORT
#define M_QKEY	IBV_QP_QKEY
#define M_ACC	IBV_QP_ACCESS_FLAGS
#define M_CUR	IBV_QP_CUR_STATE
#define M_ALT	IBV_QP_ALT_PATH
#define M_MIG	IBV_QP_PATH_MIG_STATE

static const struct qp_trans_masks qp_table[7][7] = {
	[IBV_QPS_RESET] = {
		[IBV_QPS_RESET] = { { 0 } },
		[IBV_QPS_INIT] = { .req = { M_PKEY | M_PORT | M_ACC,
					    M_PKEY | M_PORT | M_ACC,
					    M_PKEY | M_PORT | M_QKEY } },
	},
	[IBV_QPS_INIT] = {
		[IBV_QPS_RESET] = { { 0 } },
		[IBV_QPS_ERR] = { { 0 } },
		[IBV_QPS_INIT] = { .opt = { M_PKEY | M_PORT | M_ACC,
					    M_PKEY | M_PORT | M_ACC,
					    M_PKEY | M_PORT | M_QKEY } },
		[IBV_QPS_RTR] = {
			.req = { IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
				 IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
				 IBV_QP_MIN_RNR_TIMER,
				 IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
				 IBV_QP_RQ_PSN, 0 },
			.opt = { M_ALT | M_ACC | M_PKEY, M_ALT | M_ACC | M_PKEY,
				 M_PKEY | M_QKEY } },
	},
	[IBV_QPS_RTR] = {
		[IBV_QPS_RESET] = { { 0 } },
		[IBV_QPS_ERR] = { { 0 } },
		[IBV_QPS_RTS] = {
			.req = { IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
				 IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
				 IBV_QP_MAX_QP_RD_ATOMIC,
				 IBV_QP_SQ_PSN, IBV_QP_SQ_PSN },
			.opt = { M_CUR | M_ALT | M_ACC | IBV_QP_MIN_RNR_TIMER |
				 M_MIG,
				 M_CUR | M_ALT | M_ACC | M_MIG,
				 M_CUR | M_QKEY } },
	},
	[IBV_QPS_RTS] = {
		[IBV_QPS_RESET] = { { 0 } },
		[IBV_QPS_ERR] = { { 0 } },
		[IBV_QPS_RTS] = {
			.opt = { M_CUR | M_ACC | M_ALT | M_MIG |
				 IBV_QP_MIN_RNR_TIMER,
				 M_CUR | M_ACC | M_ALT | M_MIG,
				 M_CUR | M_QKEY } },
		[IBV_QPS_SQD] = {
			.opt = { IBV_QP_EN_SQD_ASYNC_NOTIFY,
				 IBV_QP_EN_SQD_ASYNC_NOTIFY,
				 IBV_QP_EN_SQD_ASYNC_NOTIFY } },
	},
	[IBV_QPS_SQD] = {
		[IBV_QPS_RESET] = { { 0 } },
		[IBV_QPS_ERR] = { { 0 } },
		[IBV_QPS_RTS] = {
			.opt = { M_CUR | M_ALT | M_ACC | IBV_QP_MIN_RNR_TIMER |
				 M_MIG,
				 M_CUR | M_ALT | M_ACC | M_MIG,
				 M_CUR | M_QKEY } },
		[IBV_QPS_SQD] = {
			.opt = { M_PORT | IBV_QP_AV | IBV_QP_TIMEOUT |
				 IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
				 IBV_QP_MAX_QP_RD_ATOMIC |
				 IBV_QP_MAX_DEST_RD_ATOMIC | M_ALT | M_ACC |
				 M_PKEY | IBV_QP_MIN_RNR_TIMER | M_MIG,
				 IBV_QP_AV | M_ALT | M_ACC | M_PKEY | M_MIG,
				 M_PKEY | M_QKEY } },
	},
	[IBV_QPS_ERR] = {
		[IBV_QPS_RESET] = { { 0 } },
		[IBV_QPS_ERR] = { { 0 } },
	},
};

/* Which transitions exist at all (the table's .valid). */
static const bool qp_valid[7][7] = {
	[IBV_QPS_RESET] = { [IBV_QPS_RESET] = 1, [IBV_QPS_INIT] = 1 },
	[IBV_QPS_INIT] = { [IBV_QPS_RESET] = 1, [IBV_QPS_ERR] = 1,
			   [IBV_QPS_INIT] = 1, [IBV_QPS_RTR] = 1 },
	[IBV_QPS_RTR] = { [IBV_QPS_RESET] = 1, [IBV_QPS_ERR] = 1,
			  [IBV_QPS_RTS] = 1 },
	[IBV_QPS_RTS] = { [IBV_QPS_RESET] = 1, [IBV_QPS_ERR] = 1,
			  [IBV_QPS_RTS] = 1, [IBV_QPS_SQD] = 1 },
	[IBV_QPS_SQD] = { [IBV_QPS_RESET] = 1, [IBV_QPS_ERR] = 1,
			  [IBV_QPS_RTS] = 1, [IBV_QPS_SQD] = 1 },
	[IBV_QPS_SQE] = { [IBV_QPS_RESET] = 1, [IBV_QPS_ERR] = 1,
			  [IBV_QPS_RTS] = 1 },
	[IBV_QPS_ERR] = { [IBV_QPS_RESET] = 1, [IBV_QPS_ERR] = 1 },
};

static int qp_type_slot(enum ibv_qp_type type)
{
	switch (type) {
	case IBV_QPT_RC: return 0;
	case IBV_QPT_UC: return 1;
	case IBV_QPT_UD: return 2;
	default: return -1;
	}
}

bool qp_transition_ok(enum ibv_qp_state from, enum ibv_qp_state to)
{
	return from <= IBV_QPS_ERR && to <= IBV_QPS_ERR && qp_valid[from][to];
}

int qp_required_mask(enum ibv_qp_type type, enum ibv_qp_state from,
		     enum ibv_qp_state to)
{
	int t = qp_type_slot(type);

	if (t < 0 || !qp_transition_ok(from, to))
		return 0;
	return qp_table[from][to].req[t];
}

int qp_optional_mask(enum ibv_qp_type type, enum ibv_qp_state from,
		     enum ibv_qp_state to)
{
	int t = qp_type_slot(type);

	if (t < 0 || !qp_transition_ok(from, to))
		return 0;
	return qp_table[from][to].opt[t];
}

const char *qp_state_name(int state)
{
	static const char *const n[] = { "RESET", "INIT", "RTR", "RTS", "SQD",
					 "SQE", "ERR" };

	return state >= 0 && state <= IBV_QPS_ERR ? n[state] : "?";
}

const char *qp_type_name(enum ibv_qp_type type)
{
	switch (type) {
	case IBV_QPT_RC: return "RC";
	case IBV_QPT_UC: return "UC";
	case IBV_QPT_UD: return "UD";
	default: return "?";
	}
}

const char *qp_attr_name(int bit)
{
	static const char *const n[] = {
		"STATE", "CUR_STATE", "EN_SQD_ASYNC_NOTIFY", "ACCESS_FLAGS",
		"PKEY_INDEX", "PORT", "QKEY", "AV", "PATH_MTU", "TIMEOUT",
		"RETRY_CNT", "RNR_RETRY", "RQ_PSN", "MAX_QP_RD_ATOMIC",
		"ALT_PATH", "MIN_RNR_TIMER", "SQ_PSN", "MAX_DEST_RD_ATOMIC",
		"PATH_MIG_STATE", "CAP", "DEST_QPN",
	};
	int i;

	for (i = 0; i < (int)(sizeof(n) / sizeof(n[0])); i++)
		if (bit == 1 << i)
			return n[i];
	return "?";
}

static int qp_move(struct qp_env *e, struct ibv_qp *qp, enum ibv_qp_state to)
{
	enum ibv_qp_state from = qp_state(qp);
	struct ibv_qp_attr a;

	qp_attr_values(e, qp, 0, &a);
	a.qp_state = to;
	return verr(ibv_modify_qp(qp, &a, IBV_QP_STATE |
				  qp_required_mask(qp->qp_type, from, to)));
}

int qp_to_init(struct qp_env *e, struct ibv_qp *qp)
{
	return qp_move(e, qp, IBV_QPS_INIT);
}

int qp_to_rtr(struct qp_env *e, struct ibv_qp *qp)
{
	return qp_move(e, qp, IBV_QPS_RTR);
}

int qp_to_rts(struct qp_env *e, struct ibv_qp *qp)
{
	return qp_move(e, qp, IBV_QPS_RTS);
}

int qp_to_rts_timeout(struct ibv_qp *qp, uint8_t timeout, uint8_t retry_cnt)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_RTS,
		.timeout = timeout,
		.retry_cnt = retry_cnt,
		.rnr_retry = 7,
		.sq_psn = 0x200,
		.max_rd_atomic = 4,
	};

	return verr(ibv_modify_qp(qp, &a, IBV_QP_STATE |
				  qp_required_mask(qp->qp_type, IBV_QPS_RTR,
						   IBV_QPS_RTS)));
}

int qp_to_simple(struct ibv_qp *qp, enum ibv_qp_state state)
{
	struct ibv_qp_attr a = { .qp_state = state };

	return verr(ibv_modify_qp(qp, &a, IBV_QP_STATE));
}

int qp_bring_to(struct qp_env *e, struct ibv_qp *qp, enum ibv_qp_state state)
{
	static const enum ibv_qp_state path[] = {
		IBV_QPS_INIT, IBV_QPS_RTR, IBV_QPS_RTS, IBV_QPS_SQD,
	};
	size_t i;
	int ret;

	if (state == IBV_QPS_RESET)
		return 0;
	if (state == IBV_QPS_ERR) {
		ret = qp_to_init(e, qp);
		return ret ? ret : qp_to_simple(qp, IBV_QPS_ERR);
	}
	for (i = 0; i < sizeof(path) / sizeof(path[0]); i++) {
		ret = qp_move(e, qp, path[i]);
		if (ret || path[i] == state)
			return ret;
	}
	return EINVAL;
}

/* The number after " name " in what `rdma <what> show ... dev` prints. */
static long long rdma_show_value(const char *what, const char *dev,
				 const char *name)
{
	char out[4096], key[96];
	const char *p;

	if (sh_out(out, sizeof(out), "rdma %s %s", what, dev))
		return -1;
	/* "... dev: name value name value ...": name between spaces */
	snprintf(key, sizeof(key), " %s ", name);
	p = strstr(out, key);
	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

long long hw_counter(const char *dev, const char *name)
{
	char link[80];

	snprintf(link, sizeof(link), "%s/1", dev);
	return rdma_show_value("statistic show link", link, name);
}

long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int poll_n(struct ibv_cq *cq, int n, struct ibv_wc *wc, int ms)
{
	long end = now_ms() + ms;
	int got = 0, r;

	while (got < n) {
		r = ibv_poll_cq(cq, n - got, wc + got);
		if (r < 0)
			break;
		got += r;
		if (got >= n || now_ms() >= end)
			break;
		if (!r)
			usleep(1000);
	}
	return got;
}

static int post_recvs_to(struct ibv_qp *qp, struct ibv_srq *srq,
			 struct ibv_mr *mr, uint32_t len, int n, uint64_t base)
{
	int i, ret;

	for (i = 0; i < n; i++) {
		struct ibv_sge sge = {
			.addr = mr ? (uintptr_t)mr->addr + (uint64_t)i * len : 0,
			.length = len,
			.lkey = mr ? mr->lkey : 0,
		};
		struct ibv_recv_wr wr = {
			.wr_id = base + i,
			.sg_list = &sge,
			.num_sge = mr ? 1 : 0,
		}, *bad;

		/* stay inside the MR */
		if (mr && sge.addr + len > (uintptr_t)mr->addr + mr->length)
			sge.addr = (uintptr_t)mr->addr;
		ret = srq ? ibv_post_srq_recv(srq, &wr, &bad) :
			    ibv_post_recv(qp, &wr, &bad);
		if (ret)
			return verr(ret);
	}
	return 0;
}

int post_recvs(struct ibv_qp *qp, struct ibv_mr *mr, uint32_t len, int n,
	       uint64_t base)
{
	return post_recvs_to(qp, NULL, mr, len, n, base);
}

int post_srq_recvs(struct ibv_srq *srq, struct ibv_mr *mr, uint32_t len,
		   int n, uint64_t base)
{
	return post_recvs_to(NULL, srq, mr, len, n, base);
}

int post_sends(struct ibv_qp *qp, struct ibv_mr *mr, uint32_t len, int n,
	       uint64_t base, unsigned int send_flags)
{
	int i, ret;

	for (i = 0; i < n; i++) {
		struct ibv_sge sge = {
			.addr = (uintptr_t)mr->addr,
			.length = len,
			.lkey = mr->lkey,
		};
		struct ibv_send_wr wr = {
			.wr_id = base + i,
			.sg_list = &sge,
			.num_sge = 1,
			.opcode = IBV_WR_SEND,
			.send_flags = send_flags,
		}, *bad;

		ret = ibv_post_send(qp, &wr, &bad);
		if (ret)
			return verr(ret);
	}
	return 0;
}

bool ibdev_get_event(struct ibv_context *ctx, enum ibv_event_type type,
		     int ms, struct ibv_async_event *out)
{
	struct pollfd pfd = { .fd = ctx->async_fd, .events = POLLIN };
	int flags = fcntl(ctx->async_fd, F_GETFL);
	long end = now_ms() + (long)ms * test_timeout_scale();
	struct ibv_async_event ev;
	bool found = false;

	fcntl(ctx->async_fd, F_SETFL, flags | O_NONBLOCK);
	while (!found) {
		long left = end - now_ms();

		if (left < 0 || poll(&pfd, 1, left) <= 0)
			break;
		if (ibv_get_async_event(ctx, &ev))
			continue;
		found = ev.event_type == type;
		if (found && out)
			*out = ev;
		ibv_ack_async_event(&ev);
	}
	fcntl(ctx->async_fd, F_SETFL, flags);
	return found;
}

/* ---- rdma resource, debugfs, kernel log ------------------------------ */

int rdma_res_count(const char *dev, const char *what)
{
	/* "0: rxdpq0: pd 1 cq 1 qp 1 cm_id 0 mr 0 ctx 0 srq 0" */
	return (int)rdma_show_value("resource show", dev, what);
}

int rdma_res_qps(const char *dev, char *out, size_t len)
{
	/* no port: QPs in RESET have none yet and "DEV/1" would hide them */
	return sh_out(out, len, "rdma resource show qp link %s", dev);
}

/* Is there "name value" in line [l, end)? */
static bool line_field_is(const char *l, const char *end, const char *name,
			  const char *value)
{
	char key[64];
	const char *p = l;
	size_t vl = strlen(value);

	snprintf(key, sizeof(key), " %s ", name);
	while ((p = strstr(p, key)) && p < end) {
		p += strlen(key);
		if (!strncmp(p, value, vl) && (p[vl] == ' ' || p[vl] == '\n' ||
					       p[vl] == '\0'))
			return true;
	}
	return false;
}

bool rdma_res_has_qp(const char *out, uint32_t qpn, const char *type)
{
	const char *l = out;
	char num[16];

	snprintf(num, sizeof(num), "%u", qpn);
	while (l && *l) {
		const char *end = strchr(l, '\n');

		if (!end)
			end = l + strlen(l);
		if (line_field_is(l, end, "lqpn", num) &&
		    (!type || line_field_is(l, end, "type", type)))
			return true;
		l = *end ? end + 1 : end;
	}
	return false;
}

int debugfs_qps(const char *dev, char *out, size_t len)
{
	char path[256];
	size_t got;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/rxdp/%s/qps", dev);
	f = fopen(path, "r");
	if (!f)
		return -1;
	got = fread(out, 1, len - 1, f);
	out[got] = '\0';
	fclose(f);
	return 0;
}

bool name_in(const char *name, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

long debugfs_qp_col(const char *dev, uint32_t qpn, const char *name)
{
	static char out[1 << 16];
	char tok[20][24];
	int col = -1, i, n;
	char *l, *save = NULL;

	if (debugfs_qps(dev, out, sizeof(out)))
		return -1;
	for (l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *t, *s2 = NULL;

		n = 0;
		for (t = strtok_r(l, " \t", &s2); t && n < 20;
		     t = strtok_r(NULL, " \t", &s2))
			snprintf(tok[n++], sizeof(tok[0]), "%s", t);
		if (col < 0) {
			for (i = 0; i < n; i++)
				if (!strcmp(tok[i], name))
					col = i;
			continue;
		}
		if (n > col && isdigit((unsigned char)tok[0][0]) &&
		    strtoul(tok[0], NULL, 10) == qpn)
			return atol(tok[col]);
	}
	return -1;
}

/* Split a line into whitespace-separated tokens. */
static int line_tokens(const char *l, size_t n, char tok[][24], int max)
{
	int count = 0;
	size_t i = 0;

	while (i < n && count < max) {
		size_t s;

		while (i < n && isspace((unsigned char)l[i]))
			i++;
		s = i;
		while (i < n && !isspace((unsigned char)l[i]))
			i++;
		if (i > s) {
			size_t k = i - s < 23 ? i - s : 23;

			memcpy(tok[count], l + s, k);
			tok[count][k] = '\0';
			count++;
		}
	}
	return count;
}

static bool token_in(char tok[][24], int n, const char *want)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcasecmp(tok[i], want))
			return true;
	return false;
}

bool debugfs_qp_has(const char *out, uint32_t qpn, const char *type,
		    const char *state)
{
	const char *l = out;

	while (l && *l) {
		const char *end = strchr(l, '\n');
		char tok[16][24];
		int n;

		if (!end)
			end = l + strlen(l);
		n = line_tokens(l, end - l, tok, 16);
		/* "qpn type state ...": the number first, decimal */
		if (n > 0 && isdigit((unsigned char)tok[0][0]) &&
		    strtoul(tok[0], NULL, 0) == qpn &&
		    (!type || token_in(tok, n, type)) &&
		    (!state || token_in(tok, n, state)))
			return true;
		l = *end ? end + 1 : end;
	}
	return false;
}

int debugfs_qp_count(const char *dev)
{
	static char out[1 << 20];
	const char *l = out;
	int count = 0;

	if (debugfs_qps(dev, out, sizeof(out)))
		return -1;
	while (*l) {
		const char *end = strchr(l, '\n');

		if (isdigit((unsigned char)*l))
			count++;
		if (!end)
			break;
		l = end + 1;
	}
	return count;
}

int kmsg_bad_count(void)
{
	char buf[64];

	sh_out(buf, sizeof(buf), "dmesg | grep -c -E 'WARNING|BUG'");
	return atoi(buf);
}

/* ---- rxdpctl and the maps it pins ------------------------------------ */

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

const char *rxdpctl_path(void)
{
	static char buf[4096];

	return test_file(buf, sizeof(buf), "RXDP_CTL", "build/rxdpctl",
			 "rxdpctl");
}

/* Read all of fd into buf (NUL-terminated, truncated to len). */
static void read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	if (!buf || !len)
		return;
	lseek(fd, 0, SEEK_SET);
	while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += n;
	buf[got] = '\0';
}

int sh_split(char *out, size_t olen, char *err, size_t elen,
	     const char *fmt, ...)
{
	char opath[] = "/tmp/rxdp_test_out.XXXXXX";
	char epath[] = "/tmp/rxdp_test_err.XXXXXX";
	int ofd, efd, ret = -1;
	char *cmd;
	va_list ap;

	ofd = mkstemp(opath);
	efd = mkstemp(epath);
	va_start(ap, fmt);
	if (ofd < 0 || efd < 0 || vasprintf(&cmd, fmt, ap) < 0)
		cmd = NULL;
	va_end(ap);
	if (cmd) {
		ret = sh("(%s) >%s 2>%s", cmd, opath, epath);
		free(cmd);
		read_all(ofd, out, olen);
		read_all(efd, err, elen);
	}
	if (ofd >= 0) {
		close(ofd);
		unlink(opath);
	}
	if (efd >= 0) {
		close(efd);
		unlink(epath);
	}
	return ret;
}

int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		if (*s == '\n' || !s[1])
			n++;
	return n;
}

bool pin_dir_present(const char *ifname)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", RXDP_PIN_DIR, ifname);
	return access(path, F_OK) == 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) ? -1 : 0;
}

void pin_dir_remove(const char *ifname)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", RXDP_PIN_DIR, ifname);
	if (access(path, F_OK) == 0)
		nftw(path, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int pinned_map_fd(const char *ifname, const char *map)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s/%s", RXDP_PIN_DIR, ifname, map);
	return bpf_obj_get(path);
}

int pinned_qp_entry(const char *ifname, uint32_t qpn, struct rxdp_qp_entry *e)
{
	int fd = pinned_map_fd(ifname, RXDP_MAP_QP_TABLE), ret;

	if (fd < 0)
		return -1;
	ret = bpf_map_lookup_elem(fd, &qpn, e) ? -1 : 0;
	close(fd);
	return ret;
}

int pinned_qp_slot(const char *ifname, uint32_t qpn, struct rxdp_qp_slot *s)
{
	int fd = pinned_map_fd(ifname, RXDP_MAP_QP_SLOTS), ret;
	uint32_t slot = RXDP_QP_SLOT(qpn);

	if (fd < 0)
		return -1;
	ret = bpf_map_lookup_elem(fd, &slot, s) ? -1 : 0;
	close(fd);
	return ret;
}

int pinned_dev_config(const char *ifname, struct rxdp_dev_config *cfg)
{
	int fd = pinned_map_fd(ifname, RXDP_MAP_DEV_CONFIG), ret;
	uint32_t zero = 0;

	if (fd < 0)
		return -1;
	ret = bpf_map_lookup_elem(fd, &zero, cfg) ? -1 : 0;
	close(fd);
	return ret;
}

int pinned_counters(const char *ifname, uint64_t sum[RXDP_CNT_MAX])
{
	int fd = pinned_map_fd(ifname, RXDP_MAP_COUNTERS);
	int cpus = libbpf_num_possible_cpus(), c, ret = 0;
	uint64_t *v;
	uint32_t k;

	if (fd < 0)
		return -1;
	v = calloc(cpus > 0 ? cpus : 1, sizeof(*v));
	for (k = 0; v && cpus > 0 && k < RXDP_CNT_MAX; k++) {
		sum[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, v)) {
			ret = -1;
			break;
		}
		for (c = 0; c < cpus; c++)
			sum[k] += v[c];
	}
	if (!v || cpus <= 0)
		ret = -1;
	free(v);
	close(fd);
	return ret;
}

int rdma_dev_index(const char *name)
{
	char out[512];

	/* "3: rxdp0: node_type ca ..." */
	if (sh_out(out, sizeof(out), "rdma dev show %s", name) ||
	    !isdigit((unsigned char)out[0]))
		return -1;
	return atoi(out);
}

int bpf_prog_count(const char *name)
{
	struct bpf_prog_info info;
	__u32 id = 0, len;
	int fd, n = 0;

	while (!bpf_prog_get_next_id(id, &id)) {
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue;	/* gone since */
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    !strcmp(info.name, name))
			n++;
		close(fd);
	}
	return errno == ENOENT ? n : -1;
}

int bpf_map_count(const char *const *names)
{
	const char *const *name;
	struct bpf_map_info info;
	__u32 id = 0, len;
	int fd, n = 0;

	while (!bpf_map_get_next_id(id, &id)) {
		fd = bpf_map_get_fd_by_id(id);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			for (name = names; *name; name++)
				n += !strcmp(info.name, *name);
		close(fd);
	}
	return errno == ENOENT ? n : -1;
}

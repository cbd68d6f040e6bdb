// SPDX-License-Identifier: GPL-2.0
/*
 * bench-xdp: what the rxdp XDP program costs per packet.
 *
 * Runs the program through BPF_PROG_TEST_RUN with a repeat count on two
 * RoCEv2 SEND frames, an RC SEND_ONLY to an RC QP and a UD SEND_ONLY to
 * QP1, next to a program that only returns XDP_DROP, for payloads of
 * 64 B, 1 KiB and 4 KiB, with the ICRC check off and on; prints ns per
 * packet, XDP_DROP's, the ratio of the two and the ICRC's share.  Maps
 * are the program's own (nothing is pinned), so it runs next to attached
 * devices without touching them.
 *
 * The time is taken by the wall clock, not as the kernel's own average:
 * that is a whole number of ns, too coarse next to the few ns XDP_DROP
 * takes on some machines (4 or 5 moves the ratio by a quarter).  A test
 * run also has a fixed cost (system call, set-up, the XDP dispatcher's
 * update), 0.5 ms on one machine and 13 ms on another, which would add
 * a third to XDP_DROP's figure over a million repeats; so each figure is
 * the difference between a run of 2N repeats and one of N, divided by N.
 * Noise is left, in either run, so that a difference can come out too
 * low as well as too high: every figure is the median over the rounds,
 * not the best.  Every round times XDP_DROP right before the program,
 * and the ratio is the median of the rounds' ratios: on a shared machine
 * two figures taken seconds apart differ by a quarter or more, two taken
 * back to back mostly move together.
 *
 * Where the rxdp module is loaded the steer kfunc runs too: by default the
 * frame "arrives" on lo, which has no rxdp device (the kfunc's cost up to
 * its device lookup); with --ifname IF on an interface with an rxdp device
 * it is handed to that device's QP1, whose responder takes it from the
 * frame (into a WQE of ib_mad's while it has any, else it drops it; the
 * device has no QP of the RC frame's number, so the kfunc refuses that
 * one).  Without the module the kfunc is compiled out.  The
 * outcome column names the counter the frames moved: compare rows with
 * the same.
 *
 * --batch N runs N frames at a time with a pause in between, so that
 * ib_mad has WQEs posted again: every frame then lands in one, its ICRC
 * checked by the module when the check is on.  The time is the kernel's
 * figure, as a short run's wall clock is mostly system call.
 *
 * Where the module is loaded it also checks the ICRC in place of the
 * program.  --no-module loads the program as if the module were not
 * there (its BTF hidden from libbpf), for the program's own ICRC check
 * and no kfunc, to compare the two in one VM run.
 *
 * usage: bench-xdp [--ifname IF] [--time-ms MS] [--rounds N] [--batch N]
 *                  [--no-module]
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <uapi/rxdp.h>
#include "rxdp.skel.h"
#include "roce_frame.h"
#include "qp_maps.h"

#define QPN		1		/* QP1: every rxdp device has it */
#define RC_QPN		0x000012
#define DEV_INDEX	0x7fff		/* any: the program only compares */
#define FRAME_MAX	(4096 + 256)
#define BATCH_MAX	255		/* below the depth of a QP's queue */
#define BATCH_PAUSE_US	50000		/* for the module to drain it */
#define MAX_ROUNDS	100

static const char *const counter_names[RXDP_CNT_MAX] = RXDP_COUNTER_NAMES;

static int die(const char *fmt, ...)
{
	va_list ap;

	fputs("bench-xdp: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* ---- the frame ---------------------------------------------------------- */

/* The frames' destination, 10.78.0.2, as the device's GID. */
static const struct rxdp_gid_key dgid = { .raw = {
	[10] = 0xff, [11] = 0xff, 10, 78, 0, 2 } };
static const struct rxdp_gid_entry dgid_e = {
	.gid_index = 1, .dev_index = DEV_INDEX,
};

/*
 * Ethernet, IPv4, UDP to 4791, BTH (SEND_ONLY: RC to RC_QPN, else UD to
 * QPN), DETH for UD, payload, ICRC.  Returns the frame's length.
 */
static size_t build_frame(uint8_t *f, bool rc, size_t payload)
{
	static uint8_t data[FRAME_MAX];
	struct roce_send u = {
		.rc = rc,
		.dmac = { 0x02, 0, 0, 0, 0, 0x02 },
		.smac = { 0x02, 0, 0, 0, 0, 0x01 },
		.saddr = 0x0a4e0001,
		.daddr = 0x0a4e0002,
		.dqpn = rc ? RC_QPN : QPN,
		.sqpn = 0x42,
		.qkey = RXDP_GSI_QKEY,
		.psn = 0x123456,
		.payload = data,
		.len = payload,
		.solicited = true,
	};
	size_t i;

	for (i = 0; i < payload && i < sizeof(data); i++)
		data[i] = i * 7;
	return roce_send_frame(f, &u);
}

/* ---- running -------------------------------------------------------- */

struct bench {
	struct rxdp_bpf	*skel;
	int		drop_fd;
	int		ifindex;	/* ingress, 0: lo */
	long		time_ms;	/* per measurement */
	int		rounds;		/* measurements; their median counts */
	int		batch;		/* frames per run, 0: time_ms worth */
	bool		module_icrc;	/* the module checks the ICRC */
};

static int load_drop(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = XDP_DROP },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .prog_flags = BPF_F_XDP_HAS_FRAGS);
	int fd;

	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "xdp_drop", "GPL", insns, 2, &o);
	if (fd < 0)
		die("cannot load the XDP_DROP program: %s", strerror(errno));
	return fd;
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/*
 * One test run of repeat frames: its wall-clock ns, and in *kernel_ns the
 * kernel's own whole-ns average.
 */
static double run_once(const struct bench *b, int fd, uint8_t *frame,
		       size_t len, __u32 repeat, __u32 *verdict,
		       __u32 *kernel_ns)
{
	struct xdp_md ctx = {
		.data_end = len,
		.ingress_ifindex = b->ifindex,
	};
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = frame,
		.data_size_in = len,
		.repeat = repeat,
	);
	double start;

	if (b->ifindex) {
		o.ctx_in = &ctx;
		o.ctx_size_in = sizeof(ctx);
	}
	start = now_ns();
	if (bpf_prog_test_run_opts(fd, &o))
		die("test run: %s", strerror(errno));
	*verdict = o.retval;
	*kernel_ns = o.duration;
	return now_ns() - start;
}

/* ns per frame, the fixed cost of a run taken out: runs of 2N and N. */
static double per_frame(const struct bench *b, int fd, uint8_t *frame,
			size_t len, __u32 repeat, __u32 *verdict)
{
	__u32 kernel_ns;
	double once;

	once = run_once(b, fd, frame, len, repeat, verdict, &kernel_ns);
	return (run_once(b, fd, frame, len, 2 * repeat, verdict, &kernel_ns) -
		once) / repeat;
}

/*
 * Repeats for a run of about time_ms, from the kernel's figure for a short
 * run: the wall clock of one that short is mostly the fixed cost of a run.
 */
static __u32 repeats(const struct bench *b, int fd, uint8_t *frame,
		     size_t len)
{
	__u32 kernel_ns, verdict;
	long repeat;

	run_once(b, fd, frame, len, 1000, &verdict, &kernel_ns);
	repeat = kernel_ns ? (long)(b->time_ms * 1e6 / kernel_ns) : 1000000;
	if (repeat < 100)
		repeat = 100;
	if (repeat > 10000000)
		repeat = 10000000;
	return repeat;
}

/* What measure() finds: medians over the rounds. */
struct timing {
	double	ns;		/* the program's ns per frame */
	double	drop_ns;	/* XDP_DROP's */
	double	ratio;		/* of the rounds' ratios */
	__u32	verdict;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * The program on the frame, rounds times, each round timing XDP_DROP on
 * the same frame right before it.  Two figures timed seconds apart on a
 * shared machine differ by a quarter or more; two taken back to back
 * mostly move together, so the median of the rounds' ratios is what the
 * ratio column shows.  With batch the time is the kernel's figure for
 * batch frames, as a short run's wall clock is mostly system call.
 */
static void measure(const struct bench *b, int fd, uint8_t *frame,
		    size_t len, struct timing *t)
{
	double ratio[MAX_ROUNDS], ns[MAX_ROUNDS], drop_ns[MAX_ROUNDS];
	__u32 kernel_ns, verdict, rep = 0, drop_rep = 0;
	int i;

	if (!b->batch) {
		rep = repeats(b, fd, frame, len);
		drop_rep = repeats(b, b->drop_fd, frame, len);
	}
	for (i = 0; i < b->rounds; i++) {
		if (b->batch) {
			usleep(BATCH_PAUSE_US);
			run_once(b, b->drop_fd, frame, len, b->batch, &verdict,
				 &kernel_ns);
			drop_ns[i] = kernel_ns;
			usleep(BATCH_PAUSE_US);
			run_once(b, fd, frame, len, b->batch, &t->verdict,
				 &kernel_ns);
			ns[i] = kernel_ns;
		} else {
			drop_ns[i] = per_frame(b, b->drop_fd, frame, len,
					       drop_rep, &verdict);
			ns[i] = per_frame(b, fd, frame, len, rep, &t->verdict);
		}
		if (verdict != XDP_DROP)
			die("the XDP_DROP program returned %u", verdict);
		ratio[i] = drop_ns[i] > 0 ? ns[i] / drop_ns[i] : 0;
	}
	t->ns = median(ns, b->rounds);
	t->drop_ns = median(drop_ns, b->rounds);
	t->ratio = median(ratio, b->rounds);
}

static void counters(const struct bench *b, __u64 *sum)
{
	int cpus = libbpf_num_possible_cpus(), fd, c;
	__u64 v[cpus > 0 ? cpus : 1];
	__u32 k;

	fd = bpf_map__fd(b->skel->maps.rx_counters);
	for (k = 0; k < RXDP_CNT_MAX; k++) {
		sum[k] = 0;
		if (!bpf_map_lookup_elem(fd, &k, v))
			for (c = 0; c < cpus; c++)
				sum[k] += v[c];
	}
}

/* The counter that moved most between two reads: what the frames got. */
static const char *outcome(const __u64 *before, const __u64 *after)
{
	int i, best = 0;

	for (i = 1; i < RXDP_CNT_MAX; i++)
		if (after[i] - before[i] > after[best] - before[best])
			best = i;
	return counter_names[best];
}

static void set_config(const struct bench *b, bool icrc)
{
	struct rxdp_dev_config cfg = {
		.ifindex = b->ifindex,
		.dev_index = DEV_INDEX,
		.flags = RXDP_CFG_F_ACTIVE | (icrc ? RXDP_CFG_F_ICRC : 0),
		.mtu = 4096,
		.pkey_tbl_len = 1,
		.pkey = { RXDP_PKEY_DEFAULT },
	};
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(b->skel->maps.dev_config), &zero,
				&cfg, BPF_ANY))
		die("dev_config: %s", strerror(errno));
}

/* ---- the table ------------------------------------------------------ */

static const size_t sizes[] = { 64, 1024, 4096 };

#define NSIZES	(sizeof(sizes) / sizeof(sizes[0]))
/* RC, then UD; each size with the ICRC check off, then on */
#define ROWS	(2 * NSIZES * 2)

struct row {
	bool		rc, icrc;
	size_t		payload;
	struct timing	t;
	const char	*got;	/* the counter the frames moved */
};

static void measure_row(struct bench *b, size_t i, struct row *r)
{
	__u64 before[RXDP_CNT_MAX], after[RXDP_CNT_MAX];
	static uint8_t frame[ROCE_FRAME_MAX];
	size_t len;

	r->rc = i < ROWS / 2;
	r->payload = sizes[i / 2 % NSIZES];
	r->icrc = i % 2;
	len = build_frame(frame, r->rc, r->payload);
	set_config(b, r->icrc);
	counters(b, before);
	measure(b, bpf_program__fd(b->skel->progs.rxdp_rx), frame, len, &r->t);
	counters(b, after);
	r->got = outcome(before, after);
}

/*
 * A row; after an ICRC-on one, what the check itself cost, from the row
 * before it (off, same frame).
 */
static void print_row(const struct bench *b, const struct row *r,
		      const struct row *off)
{
	char name[64];

	snprintf(name, sizeof(name), "rxdp %s, %4zu B, ICRC %s",
		 r->rc ? "RC" : "UD", r->payload, r->icrc ? "on" : "off");
	printf("%-28s %9.1f %9.1f %8.2f  %s\n", name, r->t.ns, r->t.drop_ns,
	       r->t.ratio, r->got);
	if (!off)
		return;
	/* only a difference of like with like is the ICRC's */
	if (b->module_icrc && !b->ifindex)
		printf("%-28s %9s  (the module checks it: no device on lo)\n",
		       "  ICRC check alone", "-");
	else if (!strcmp(off->got, r->got))
		printf("%-28s %9.1f\n", "  ICRC check alone",
		       r->t.ns - off->t.ns);
	else
		printf("%-28s %9s  (outcomes differ: not comparable)\n",
		       "  ICRC check alone", "-");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ifname", required_argument, NULL, 'i' },
		{ "time-ms", required_argument, NULL, 't' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "batch", required_argument, NULL, 'b' },
		{ "no-module", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	LIBBPF_OPTS(bpf_object_open_opts, open_opts);
	struct bench b = { .time_ms = 150, .rounds = 7 };
	static const struct rxdp_qp_entry qps[] = {
		{ .qpn = QPN, .state = RXDP_QPS_RTS, .type = RXDP_QPT_GSI,
		  .port = 1, .qkey = RXDP_GSI_QKEY, .dev_index = DEV_INDEX },
		{ .qpn = RC_QPN, .state = RXDP_QPS_RTS, .type = RXDP_QPT_RC,
		  .port = 1, .dev_index = DEV_INDEX },
	};
	struct row rows[ROWS];
	const char *where;
	struct utsname u;
	size_t i;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			b.ifindex = if_nametoindex(optarg);
			if (!b.ifindex)
				die("no interface %s", optarg);
			break;
		case 't':
			b.time_ms = atol(optarg);
			break;
		case 'r':
			b.rounds = atoi(optarg);
			break;
		case 'n':
			/* vmlinux alone: no module type for CO-RE to find */
			open_opts.btf_custom_path = "/sys/kernel/btf/vmlinux";
			break;
		case 'b':
			b.batch = atoi(optarg);
			if (b.batch <= 0 || b.batch > BATCH_MAX)
				die("--batch takes 1..%d", BATCH_MAX);
			break;
		case 'h':
			printf("usage: bench-xdp [--ifname IF] [--time-ms MS] "
			       "[--rounds N] [--batch N] [--no-module]\n");
			return 0;
		default:
			die("unknown option; see bench-xdp --help");
		}
	}
	if (b.time_ms <= 0 || b.rounds <= 0 || b.rounds > MAX_ROUNDS)
		die("--time-ms takes a positive number, --rounds 1..%d",
		    MAX_ROUNDS);
	libbpf_set_print(quiet);

	b.skel = rxdp_bpf__open_opts(&open_opts);
	if (!b.skel || rxdp_bpf__load(b.skel))
		die("cannot load the rxdp XDP program: %s", strerror(errno));
	for (i = 0; i < sizeof(qps) / sizeof(qps[0]); i++)
		if (rxdp_put_qp(bpf_map__fd(b.skel->maps.qp_table),
				bpf_map__fd(b.skel->maps.qp_slots), &qps[i]))
			die("QP %#x: %s", qps[i].qpn, strerror(errno));
	if (bpf_map_update_elem(bpf_map__fd(b.skel->maps.gid_table), &dgid,
				&dgid_e, BPF_ANY))
		die("gid_table: %s", strerror(errno));
	b.drop_fd = load_drop();
	b.module_icrc = !access("/sys/module/rxdp", F_OK) &&
			!open_opts.btf_custom_path;

	uname(&u);
	if (access("/sys/module/rxdp", F_OK))
		where = "no rxdp module: steer kfunc compiled out";
	else if (open_opts.btf_custom_path)
		where = "rxdp module hidden: XDP checks the ICRC, no kfunc";
	else if (b.ifindex)
		where = "steer kfunc live, frames queued to QP1 of the device";
	else
		where = "steer kfunc live, frames arrive on lo (no device)";
	if (b.batch)
		printf("bench-xdp: kernel %s, %s; median of %d runs of %d "
		       "frames\n", u.release, where, b.rounds, b.batch);
	else
		printf("bench-xdp: kernel %s, %s; median of %d rounds of "
		       "~%ld ms\n", u.release, where, b.rounds, b.time_ms);
	printf("frames: Ethernet/IPv4/UDP/BTH RC SEND_ONLY to an RC QP, "
	       "and with a DETH UD SEND_ONLY to QP1\n\n");

	printf("%-28s %9s %9s %8s  %s\n", "program", "ns/packet",
	       "XDP_DROP", "x DROP", "outcome");
	for (i = 0; i < ROWS; i++) {
		measure_row(&b, i, &rows[i]);
		print_row(&b, &rows[i], rows[i].icrc ? &rows[i - 1] : NULL);
	}
	close(b.drop_fd);
	rxdp_bpf__destroy(b.skel);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * bench-xdp: what the rxdp XDP program costs per packet.
 *
 * Runs the program on a RoCEv2 UD SEND_ONLY to QP1 through
 * BPF_PROG_TEST_RUN with a repeat count, next to a program that only
 * returns XDP_DROP, for payloads of 64 B, 1 KiB and 4 KiB, with the ICRC
 * check off and on; prints ns per packet, the ratio to XDP_DROP and the
 * ICRC's share.  Maps are the program's own (nothing is pinned), so it runs
 * next to attached devices without touching them.
 *
 * The time is the wall clock around each test run divided by its repeat
 * count, not the kernel's own average: that is a whole number of ns,
 * too coarse next to the few ns of XDP_DROP (4 or 5 moves the ratio by
 * a quarter).  Over millions of repeats the fixed cost of a run (system
 * call and set-up, some 0.5 ms) is lost in the noise; preemption is not,
 * which is what taking the best round is for.
 *
 * Where the rxdp module is loaded the steer kfunc runs too: by default the
 * frame "arrives" on lo, which has no rxdp device (the kfunc's cost up to
 * its device lookup); with --ifname IF on an interface with an rxdp device
 * it is queued to that device's QP1 (copy and all, until the queue is
 * full).  Without the module the kfunc is compiled out.  The outcome
 * column names the counter the frames moved: compare rows with the same.
 *
 * A queue that is full refuses frames before copying them, so a long run
 * on such an interface mostly times the refusal.  --batch N runs N frames
 * at a time, fewer than the queue holds, with a pause for the module to
 * drain it in between: every frame is then queued, its ICRC checked by
 * the module when the check is on.  The time is the kernel's figure, as a
 * short run's wall clock is mostly system call.
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

#define QPN		1		/* QP1: every rxdp device has it */
#define DEV_INDEX	0x7fff		/* any: the program only compares */
#define FRAME_MAX	(4096 + 256)
#define BATCH_MAX	255		/* below the depth of a QP's queue */
#define BATCH_PAUSE_US	50000		/* for the module to drain it */

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

/*
 * Ethernet, IPv4, UDP to 4791, BTH (SEND_ONLY UD to QPN), DETH, payload,
 * ICRC.  Returns the frame's length.
 */
static size_t build_frame(uint8_t *f, size_t payload)
{
	static uint8_t data[FRAME_MAX];
	struct roce_ud u = {
		.dmac = { 0x02, 0, 0, 0, 0, 0x02 },
		.smac = { 0x02, 0, 0, 0, 0, 0x01 },
		.saddr = 0x0a4e0001,
		.daddr = 0x0a4e0002,
		.dqpn = QPN,
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
	return roce_ud_frame(f, &u);
}

/* ---- running -------------------------------------------------------- */

struct bench {
	struct rxdp_bpf	*skel;
	int		drop_fd;
	int		ifindex;	/* ingress, 0: lo */
	long		time_ms;	/* per measurement */
	int		rounds;		/* measurements, the best counts */
	int		batch;		/* frames per run, 0: time_ms worth */
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
 * One test run of repeat frames; average ns per frame by the wall clock,
 * and in *kernel_ns the kernel's own whole-ns average.
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
	return (now_ns() - start) / repeat;
}

/*
 * Best of the rounds, each about time_ms long.  The repeat count comes
 * from the kernel's figure for a short run: the wall clock of one that
 * short is mostly the fixed cost of a run.
 */
static double measure(const struct bench *b, int fd, uint8_t *frame,
		      size_t len, __u32 *verdict)
{
	double ns, best = 0;
	__u32 kernel_ns;
	long repeat;
	int i;

	if (b->batch) {
		for (i = 0; i < b->rounds; i++) {
			usleep(BATCH_PAUSE_US);
			run_once(b, fd, frame, len, b->batch, verdict,
				 &kernel_ns);
			if (!i || kernel_ns < best)
				best = kernel_ns;
		}
		return best;
	}
	run_once(b, fd, frame, len, 1000, verdict, &kernel_ns);
	repeat = kernel_ns ? (long)(b->time_ms * 1e6 / kernel_ns) : 1000000;
	if (repeat < 100)
		repeat = 100;
	if (repeat > 10000000)
		repeat = 10000000;
	for (i = 0; i < b->rounds; i++) {
		ns = run_once(b, fd, frame, len, repeat, verdict, &kernel_ns);
		if (!i || ns < best)
			best = ns;
	}
	return best;
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
	static const size_t sizes[] = { 64, 1024, 4096 };
	static uint8_t frame[ROCE_FRAME_MAX];
	LIBBPF_OPTS(bpf_object_open_opts, open_opts);
	struct bench b = { .time_ms = 300, .rounds = 5 };
	struct rxdp_qp_entry qp = {
		.qpn = QPN, .state = RXDP_QPS_RTS, .type = RXDP_QPT_GSI,
		.port = 1, .qkey = RXDP_GSI_QKEY, .dev_index = DEV_INDEX,
	};
	__u64 before[RXDP_CNT_MAX], after[RXDP_CNT_MAX];
	double drop_ns, ns[2];
	const char *where, *got[2];
	bool module_icrc;
	struct utsname u;
	__u32 verdict, key = QPN;
	size_t i, len;
	int c, k;

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
	if (b.time_ms <= 0 || b.rounds <= 0)
		die("--time-ms and --rounds take positive numbers");
	libbpf_set_print(quiet);

	b.skel = rxdp_bpf__open_opts(&open_opts);
	if (!b.skel || rxdp_bpf__load(b.skel))
		die("cannot load the rxdp XDP program: %s", strerror(errno));
	if (bpf_map_update_elem(bpf_map__fd(b.skel->maps.qp_table), &key, &qp,
				BPF_ANY))
		die("qp_table: %s", strerror(errno));
	b.drop_fd = load_drop();

	uname(&u);
	module_icrc = !access("/sys/module/rxdp", F_OK) &&
		      !open_opts.btf_custom_path;
	if (access("/sys/module/rxdp", F_OK))
		where = "no rxdp module: steer kfunc compiled out";
	else if (open_opts.btf_custom_path)
		where = "rxdp module hidden: XDP checks the ICRC, no kfunc";
	else if (b.ifindex)
		where = "steer kfunc live, frames queued to QP1 of the device";
	else
		where = "steer kfunc live, frames arrive on lo (no device)";
	if (b.batch)
		printf("bench-xdp: kernel %s, %s; best of %d runs of %d "
		       "frames\n", u.release, where, b.rounds, b.batch);
	else
		printf("bench-xdp: kernel %s, %s; best of %d runs of ~%ld "
		       "ms\n", u.release, where, b.rounds, b.time_ms);
	printf("frame: Ethernet/IPv4/UDP/BTH/DETH UD SEND_ONLY to QP1\n\n");

	len = build_frame(frame, 64);
	drop_ns = measure(&b, b.drop_fd, frame, len, &verdict);
	printf("%-28s %10s %8s  %s\n", "program", "ns/packet", "x DROP",
	       "outcome");
	printf("%-28s %10.1f %8.2f  %s\n", "XDP_DROP only", drop_ns, 1.0,
	       verdict == XDP_DROP ? "XDP_DROP" : "?");

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		len = build_frame(frame, sizes[i]);
		for (k = 0; k < 2; k++) {
			char name[64];

			set_config(&b, k);
			counters(&b, before);
			ns[k] = measure(&b, bpf_program__fd(b.skel->progs.rxdp_rx),
					frame, len, &verdict);
			counters(&b, after);
			got[k] = outcome(before, after);
			snprintf(name, sizeof(name), "rxdp, %4zu B, ICRC %s",
				 sizes[i], k ? "on" : "off");
			printf("%-28s %10.1f %8.2f  %s\n", name, ns[k],
			       drop_ns > 0 ? ns[k] / drop_ns : 0, got[k]);
		}
		/* only a difference of like with like is the ICRC's */
		if (module_icrc && !b.ifindex)
			printf("%-28s %10s  (the module checks it: no device "
			       "on lo)\n", "  ICRC check alone", "-");
		else if (!strcmp(got[0], got[1]))
			printf("%-28s %10.1f\n", "  ICRC check alone",
			       ns[1] - ns[0]);
		else
			printf("%-28s %10s  (outcomes differ: not comparable)\n",
			       "  ICRC check alone", "-");
	}
	close(b.drop_fd);
	rxdp_bpf__destroy(b.skel);
	return 0;
}

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
 * usage: bench-xdp [--ifname IF] [--time-ms MS] [--rounds N]
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

#define QPN		1		/* QP1: every rxdp device has it */
#define DEV_INDEX	0x7fff		/* any: the program only compares */
#define FRAME_MAX	(4096 + 256)

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

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t crc32_bits(uint32_t crc, const uint8_t *p, size_t n)
{
	int k;

	while (n--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return crc;
}

/*
 * Ethernet, IPv4, UDP to 4791, BTH (SEND_ONLY UD), DETH, payload, ICRC.
 * Returns the frame's length.
 */
static size_t build_frame(uint8_t *f, size_t payload)
{
	static const uint8_t ones[8] = { 0xff, 0xff, 0xff, 0xff,
					 0xff, 0xff, 0xff, 0xff };
	static uint8_t m[FRAME_MAX];
	size_t l3 = 14, l4 = l3 + 20, bth = l4 + 8, deth = bth + 12;
	size_t pl = deth + 8, icrc = pl + payload, i;
	uint32_t crc, sum = 0;

	memset(f, 0, icrc + 4);
	f[0] = 0x02; f[5] = 0x02; f[6] = 0x02; f[11] = 0x01;
	put16(f + 12, 0x0800);
	f[l3] = 0x45;
	f[l3 + 1] = 0x02;			/* ECT(0) */
	put16(f + l3 + 2, icrc + 4 - l3);
	put16(f + l3 + 6, 0x4000);		/* DF */
	f[l3 + 8] = 64;
	f[l3 + 9] = 17;
	put32(f + l3 + 12, 0x0a4e0001);
	put32(f + l3 + 16, 0x0a4e0002);
	for (i = 0; i < 20; i += 2)
		sum += f[l3 + i] << 8 | f[l3 + i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(f + l3 + 10, ~sum);
	put16(f + l4, 0xc001);
	put16(f + l4 + 2, RXDP_ROCE_PORT);
	put16(f + l4 + 4, icrc + 4 - l4);
	f[bth] = 0x64;				/* UD SEND_ONLY */
	f[bth + 1] = 0x80 | (-payload & 3) << 4;	/* SE, pad */
	put16(f + bth + 2, RXDP_PKEY_DEFAULT);
	put32(f + bth + 4, QPN);
	put32(f + bth + 8, 0x123456);
	put32(f + deth, RXDP_GSI_QKEY);
	put32(f + deth + 4, 0x42);		/* source QP */
	for (i = 0; i < payload; i++)
		f[pl + i] = i * 7;

	/* ICRC: 8 bytes of ones, then IP to the ICRC, variant fields ones */
	memcpy(m, f + l3, icrc - l3);
	m[1] = 0xff;
	m[8] = 0xff;
	m[10] = m[11] = 0xff;
	m[l4 - l3 + 6] = m[l4 - l3 + 7] = 0xff;
	m[bth - l3 + 4] = 0xff;
	crc = crc32_bits(0xffffffff, ones, sizeof(ones));
	crc = ~crc32_bits(crc, m, icrc - l3);
	f[icrc] = crc;
	f[icrc + 1] = crc >> 8;
	f[icrc + 2] = crc >> 16;
	f[icrc + 3] = crc >> 24;
	return icrc + 4;
}

/* ---- running -------------------------------------------------------- */

struct bench {
	struct rxdp_bpf	*skel;
	int		drop_fd;
	int		ifindex;	/* ingress, 0: lo */
	long		time_ms;	/* per measurement */
	int		rounds;		/* measurements, the best counts */
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const size_t sizes[] = { 64, 1024, 4096 };
	static uint8_t frame[FRAME_MAX];
	struct bench b = { .time_ms = 300, .rounds = 5 };
	struct rxdp_qp_entry qp = {
		.qpn = QPN, .state = RXDP_QPS_RTS, .type = RXDP_QPT_GSI,
		.port = 1, .qkey = RXDP_GSI_QKEY, .dev_index = DEV_INDEX,
	};
	__u64 before[RXDP_CNT_MAX], after[RXDP_CNT_MAX];
	double drop_ns, ns[2];
	const char *where, *got[2];
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
		case 'h':
			printf("usage: bench-xdp [--ifname IF] [--time-ms MS] "
			       "[--rounds N]\n");
			return 0;
		default:
			die("unknown option; see bench-xdp --help");
		}
	}
	if (b.time_ms <= 0 || b.rounds <= 0)
		die("--time-ms and --rounds take positive numbers");
	libbpf_set_print(quiet);

	b.skel = rxdp_bpf__open_and_load();
	if (!b.skel)
		die("cannot load the rxdp XDP program: %s", strerror(errno));
	if (bpf_map_update_elem(bpf_map__fd(b.skel->maps.qp_table), &key, &qp,
				BPF_ANY))
		die("qp_table: %s", strerror(errno));
	b.drop_fd = load_drop();

	uname(&u);
	if (access("/sys/module/rxdp", F_OK))
		where = "no rxdp module: steer kfunc compiled out";
	else if (b.ifindex)
		where = "steer kfunc live, frames queued to QP1 of the device";
	else
		where = "steer kfunc live, frames arrive on lo (no device)";
	printf("bench-xdp: kernel %s, %s; best of %d runs of ~%ld ms\n",
	       u.release, where, b.rounds, b.time_ms);
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
		if (!strcmp(got[0], got[1]))
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

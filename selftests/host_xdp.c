// SPDX-License-Identifier: GPL-2.0
/*
 * The rxdp XDP program on the host, through BPF_PROG_TEST_RUN: frames
 * built here byte by byte (with an ICRC from a bitwise CRC-32 of our own,
 * not the program's tables) go through the program, and each one must
 * get the right verdict, move exactly the right counter by one, and move
 * the right QP's counters.
 *
 * Every test of fixture rx runs for every encapsulation variant: IPv4,
 * IPv6, one VLAN tag, QinQ and IPv4 options.  Fixture capture runs real
 * rdma_rxe packets from fixtures/.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kselftest_harness.h"

#include <uapi/rxdp.h>
#include "rxdp.skel.h"
#include "roce_frame.h"
#include "qp_maps.h"

/* ---- wire format constants, independent of bpf/ --------------------- */

#define ETH_HLEN	14
#define VLAN_HLEN	4
#define IP4_HLEN	20
#define IP6_HLEN	40
#define UDP_HLEN	8
#define BTH_LEN		12
#define ICRC_LEN	4

#define ETYPE_IP4	0x0800
#define ETYPE_IP6	0x86dd
#define ETYPE_ARP	0x0806
#define ETYPE_8021Q	0x8100
#define ETYPE_8021AD	0x88a8

#define PROTO_TCP	6
#define PROTO_UDP	17
#define PROTO_ICMP6	58

/* extension headers and their lengths (IBA 9.3 - 9.6) */
enum ext { X_DETH, X_FETH, X_RETH, X_ATMETH, X_AETH, X_ATMACK, X_IMMDT,
	   X_IETH, X_NONE };
static const size_t ext_len[] = {
	[X_DETH] = 8, [X_FETH] = 4, [X_RETH] = 16, [X_ATMETH] = 28,
	[X_AETH] = 4, [X_ATMACK] = 8, [X_IMMDT] = 4, [X_IETH] = 4,
};

struct opcode {
	const char	*name;
	uint8_t		code;
	int		qpt;		/* RXDP_QPT_RC, _UC or _UD */
	bool		payload;	/* may carry one */
	enum ext	hdrs[3];	/* in wire order, X_NONE terminated */
};

#define N X_NONE
/* IBA table 38 and the 1.5 memory placement extensions, written out. */
static const struct opcode opcodes[] = {
	{ "RC_SEND_FIRST",		0x00, RXDP_QPT_RC, true,  { N } },
	{ "RC_SEND_MIDDLE",		0x01, RXDP_QPT_RC, true,  { N } },
	{ "RC_SEND_LAST",		0x02, RXDP_QPT_RC, true,  { N } },
	{ "RC_SEND_LAST_IMM",		0x03, RXDP_QPT_RC, true,  { X_IMMDT, N } },
	{ "RC_SEND_ONLY",		0x04, RXDP_QPT_RC, true,  { N } },
	{ "RC_SEND_ONLY_IMM",		0x05, RXDP_QPT_RC, true,  { X_IMMDT, N } },
	{ "RC_WRITE_FIRST",		0x06, RXDP_QPT_RC, true,  { X_RETH, N } },
	{ "RC_WRITE_MIDDLE",		0x07, RXDP_QPT_RC, true,  { N } },
	{ "RC_WRITE_LAST",		0x08, RXDP_QPT_RC, true,  { N } },
	{ "RC_WRITE_LAST_IMM",		0x09, RXDP_QPT_RC, true,  { X_IMMDT, N } },
	{ "RC_WRITE_ONLY",		0x0a, RXDP_QPT_RC, true,  { X_RETH, N } },
	{ "RC_WRITE_ONLY_IMM",		0x0b, RXDP_QPT_RC, true,  { X_RETH, X_IMMDT, N } },
	{ "RC_READ_REQUEST",		0x0c, RXDP_QPT_RC, false, { X_RETH, N } },
	{ "RC_READ_RESPONSE_FIRST",	0x0d, RXDP_QPT_RC, true,  { X_AETH, N } },
	{ "RC_READ_RESPONSE_MIDDLE",	0x0e, RXDP_QPT_RC, true,  { N } },
	{ "RC_READ_RESPONSE_LAST",	0x0f, RXDP_QPT_RC, true,  { X_AETH, N } },
	{ "RC_READ_RESPONSE_ONLY",	0x10, RXDP_QPT_RC, true,  { X_AETH, N } },
	{ "RC_ACKNOWLEDGE",		0x11, RXDP_QPT_RC, false, { X_AETH, N } },
	{ "RC_ATOMIC_ACKNOWLEDGE",	0x12, RXDP_QPT_RC, false, { X_AETH, X_ATMACK, N } },
	{ "RC_COMPARE_SWAP",		0x13, RXDP_QPT_RC, false, { X_ATMETH, N } },
	{ "RC_FETCH_ADD",		0x14, RXDP_QPT_RC, false, { X_ATMETH, N } },
	{ "RC_SEND_LAST_INV",		0x16, RXDP_QPT_RC, true,  { X_IETH, N } },
	{ "RC_SEND_ONLY_INV",		0x17, RXDP_QPT_RC, true,  { X_IETH, N } },
	{ "RC_FLUSH",			0x1c, RXDP_QPT_RC, false, { X_FETH, X_RETH, N } },
	{ "RC_ATOMIC_WRITE",		0x1d, RXDP_QPT_RC, true,  { X_RETH, N } },
	{ "UC_SEND_FIRST",		0x20, RXDP_QPT_UC, true,  { N } },
	{ "UC_SEND_MIDDLE",		0x21, RXDP_QPT_UC, true,  { N } },
	{ "UC_SEND_LAST",		0x22, RXDP_QPT_UC, true,  { N } },
	{ "UC_SEND_LAST_IMM",		0x23, RXDP_QPT_UC, true,  { X_IMMDT, N } },
	{ "UC_SEND_ONLY",		0x24, RXDP_QPT_UC, true,  { N } },
	{ "UC_SEND_ONLY_IMM",		0x25, RXDP_QPT_UC, true,  { X_IMMDT, N } },
	{ "UC_WRITE_FIRST",		0x26, RXDP_QPT_UC, true,  { X_RETH, N } },
	{ "UC_WRITE_MIDDLE",		0x27, RXDP_QPT_UC, true,  { N } },
	{ "UC_WRITE_LAST",		0x28, RXDP_QPT_UC, true,  { N } },
	{ "UC_WRITE_LAST_IMM",		0x29, RXDP_QPT_UC, true,  { X_IMMDT, N } },
	{ "UC_WRITE_ONLY",		0x2a, RXDP_QPT_UC, true,  { X_RETH, N } },
	{ "UC_WRITE_ONLY_IMM",		0x2b, RXDP_QPT_UC, true,  { X_RETH, X_IMMDT, N } },
	{ "UD_SEND_ONLY",		0x64, RXDP_QPT_UD, true,  { X_DETH, N } },
	{ "UD_SEND_ONLY_IMM",		0x65, RXDP_QPT_UD, true,  { X_DETH, X_IMMDT, N } },
};
#undef N

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* The layouts kmod, BPF and tools share; a change here is an ABI change. */
_Static_assert(sizeof(struct rxdp_qp_entry) == 96, "qp_table value");
_Static_assert(offsetof(struct rxdp_qp_entry, rx_packets) == 64,
	       "XDP-written counters start the second cache line");
_Static_assert(sizeof(struct rxdp_qp_slot) == 16, "qp_slots value");
_Static_assert(sizeof(struct rxdp_dev_config) == 88, "dev_config value");
_Static_assert(sizeof(struct rxdp_rx_info) == 32, "steer kfunc argument");

static const struct opcode *find_op(uint8_t code)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(opcodes); i++)
		if (opcodes[i].code == code)
			return &opcodes[i];
	return NULL;
}

static size_t op_ext_len(const struct opcode *op)
{
	size_t i, len = 0;

	for (i = 0; op && op->hdrs[i] != X_NONE; i++)
		len += ext_len[op->hdrs[i]];
	return len;
}

/* ---- the QPs and the device the fixture sets up ----------------------- */

#define DEV_INDEX	7
#define QKEY_UD		0x11111111u
#define PKEY_FULL2	0x8123		/* table entry 1 */
#define PKEY_LIMITED	0x0123		/* table entry 2 */

enum {
	QP_GSI		= 1,
	QP_RC		= 0x000011,
	QP_UC		= 0x000012,
	QP_UD		= 0x000013,
	QP_RC_RTR	= 0x000014,
	QP_RC_SQD	= 0x000015,
	QP_UD_SQE	= 0x000016,
	QP_RESET	= 0x000021,
	QP_INIT		= 0x000022,
	QP_ERR		= 0x000023,
	QP_OTHER_DEV	= 0x000024,
	QP_LIMITED	= 0x000025,	/* pkey_index 2: limited member */
	QP_FULL2	= 0x000026,	/* pkey_index 1 */
	QP_BAD_PKIDX	= 0x000027,	/* pkey_index past the table */
	QP_HIGH		= 0xabcdef,	/* all 24 bits */
	QP_NONE		= 0x000099,	/* not in the table */
};

static const struct rxdp_qp_entry qps[] = {
	{ .qpn = QP_GSI, .state = RXDP_QPS_RTS, .type = RXDP_QPT_GSI,
	  .qkey = RXDP_GSI_QKEY },
	{ .qpn = QP_RC, .state = RXDP_QPS_RTS, .type = RXDP_QPT_RC },
	{ .qpn = QP_UC, .state = RXDP_QPS_RTS, .type = RXDP_QPT_UC },
	{ .qpn = QP_UD, .state = RXDP_QPS_RTS, .type = RXDP_QPT_UD,
	  .qkey = QKEY_UD },
	{ .qpn = QP_RC_RTR, .state = RXDP_QPS_RTR, .type = RXDP_QPT_RC },
	{ .qpn = QP_RC_SQD, .state = RXDP_QPS_SQD, .type = RXDP_QPT_RC },
	{ .qpn = QP_UD_SQE, .state = RXDP_QPS_SQE, .type = RXDP_QPT_UD,
	  .qkey = QKEY_UD },
	{ .qpn = QP_RESET, .state = RXDP_QPS_RESET, .type = RXDP_QPT_RC },
	{ .qpn = QP_INIT, .state = RXDP_QPS_INIT, .type = RXDP_QPT_RC },
	{ .qpn = QP_ERR, .state = RXDP_QPS_ERR, .type = RXDP_QPT_RC },
	{ .qpn = QP_OTHER_DEV, .state = RXDP_QPS_RTS, .type = RXDP_QPT_RC,
	  .dev_index = DEV_INDEX + 1 },
	{ .qpn = QP_LIMITED, .state = RXDP_QPS_RTS, .type = RXDP_QPT_RC,
	  .pkey_index = 2 },
	{ .qpn = QP_FULL2, .state = RXDP_QPS_RTS, .type = RXDP_QPT_RC,
	  .pkey_index = 1 },
	{ .qpn = QP_BAD_PKIDX, .state = RXDP_QPS_RTS, .type = RXDP_QPT_RC,
	  .pkey_index = 3 },
	{ .qpn = QP_HIGH, .state = RXDP_QPS_RTS, .type = RXDP_QPT_RC },
};

/* The QP of each type that receives. */
static uint32_t qp_of_type(int qpt)
{
	switch (qpt) {
	case RXDP_QPT_RC: return QP_RC;
	case RXDP_QPT_UC: return QP_UC;
	case RXDP_QPT_UD: return QP_UD;
	case RXDP_QPT_GSI: return QP_GSI;
	}
	return QP_NONE;
}

/* ---- building frames ------------------------------------------------ */

#define FRAME_MAX	20000

struct frame {
	uint8_t	b[FRAME_MAX];
	size_t	len;
	bool	ipv6;
	/* offsets of each header; ext..icrc only for RoCE frames */
	size_t	l3, l4, bth, ext, payload, pad, icrc;
	size_t	vlan[2];
	size_t	nr_vlans;
	size_t	ext_end[4];	/* end of each extension header */
	size_t	nr_ext;
};

struct spec {
	int		vlans;		/* 0, 1 or 2 tags */
	bool		ipv6;
	int		ip_opts;	/* IPv4 option bytes, multiple of 4 */
	int		v6_ext;		/* IPv6: put this extension header
					 * before UDP; 0 none (0 is HBH, so
					 * HBH is asked for as 256) */
	uint16_t	dport;		/* 0: 4791 */
	uint8_t		opcode;
	uint8_t		tver;
	uint16_t	pkey;		/* 0: 0xffff */
	bool		pkey_set;	/* use pkey as is, even 0 */
	uint32_t	qpn;
	uint32_t	qkey;		/* 0: the QP's */
	bool		group;		/* to a multicast group (grp_gid4/6) */
	size_t		payload;
	int		pad;		/* -1: what the payload needs */
	size_t		ext_cut;	/* bytes cut off the extension headers */
	const struct opcode *op;	/* NULL: from opcode, else for unknowns */
};

static uint16_t get16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

static void ipv4_csum(struct frame *f)
{
	uint8_t *ip = f->b + f->l3;

	roce_put16(ip + 10, roce_ipv4_csum(ip, (ip[0] & 0x0f) * 4));
}

static uint32_t frame_icrc(const struct frame *f)
{
	return roce_icrc(f->b + f->l3, f->icrc - f->l3, f->l4 - f->l3,
			 f->bth - f->l3, f->ipv6);
}

static void put_icrc(struct frame *f)
{
	roce_put_icrc(f->b + f->icrc, frame_icrc(f));
}

/* Ethernet and VLAN tags; returns the offset of the L3 header. */
static size_t build_l2(struct frame *f, int vlans, uint16_t etype)
{
	static const uint8_t macs[12] = {
		0x02, 0, 0, 0, 0, 0x02,  0x02, 0, 0, 0, 0, 0x01,
	};
	size_t off = 12;
	int i;

	memset(f, 0, sizeof(*f));
	memcpy(f->b, macs, sizeof(macs));
	for (i = 0; i < vlans; i++) {
		/* QinQ: an 802.1ad S-tag outside the 802.1Q C-tag */
		roce_put16(f->b + off, vlans == 2 && i == 0 ? ETYPE_8021AD :
				  ETYPE_8021Q);
		roce_put16(f->b + off + 2, 100 + i);	/* VID */
		f->vlan[f->nr_vlans++] = off + 2;
		off += VLAN_HLEN;
	}
	roce_put16(f->b + off, etype);
	return off + 2;
}

/*
 * IP header, whose payload will be payload_len bytes of protocol proto;
 * returns the offset of the L4 header.
 */
static size_t build_l3(struct frame *f, const struct spec *s, size_t off,
		       uint8_t proto, size_t payload_len)
{
	uint8_t *ip = f->b + off;
	size_t i;

	f->l3 = off;
	f->ipv6 = s->ipv6;
	if (s->ipv6) {
		size_t ext = s->v6_ext ? 8 : 0;

		roce_put32(ip, 6u << 28 | 0x02u << 20 | 0x12345);	/* ECT(0), flow */
		roce_put16(ip + 4, payload_len + ext);
		ip[6] = s->v6_ext ? (s->v6_ext & 0xff) : proto;
		ip[7] = 64;
		ip[8] = 0x20; ip[9] = 0x01; ip[10] = 0x0d; ip[11] = 0xb8;
		ip[23] = 1;
		ip[24] = 0x20; ip[25] = 0x01; ip[26] = 0x0d; ip[27] = 0xb8;
		ip[39] = 2;
		if (s->group) {				/* ff0e::77 */
			memset(ip + 24, 0, 16);
			ip[24] = 0xff; ip[25] = 0x0e; ip[39] = 0x77;
		}
		off += IP6_HLEN;
		if (ext) {
			/* an empty options/routing/fragment header */
			memset(f->b + off, 0, 8);
			f->b[off] = proto;
			if ((s->v6_ext & 0xff) == 60 || (s->v6_ext & 0xff) == 0)
				f->b[off + 2] = 1, f->b[off + 3] = 4; /* PadN */
			off += 8;
		}
		return off;
	}
	ip[0] = 0x40 | (IP4_HLEN + s->ip_opts) / 4;
	ip[1] = 0x02;				/* ECT(0) */
	roce_put16(ip + 2, IP4_HLEN + s->ip_opts + payload_len);
	roce_put16(ip + 4, 0x1234);
	roce_put16(ip + 6, 0x4000);			/* DF: not a fragment */
	ip[8] = 64;
	ip[9] = proto;
	roce_put32(ip + 12, 0xc0a80101);
	roce_put32(ip + 16, s->group ? 0xef010203 : 0xc0a80102);
	for (i = 0; i < (size_t)s->ip_opts; i++)
		ip[IP4_HLEN + i] = 1;		/* NOP */
	ipv4_csum(f);
	return off + IP4_HLEN + s->ip_opts;
}

/* A RoCEv2 packet as the spec says, ICRC and all. */
static void build_roce(struct frame *f, const struct spec *s)
{
	const struct opcode *op = s->op ? s->op : find_op(s->opcode);
	size_t ext = op_ext_len(op) - s->ext_cut;
	int pad = s->pad >= 0 ? s->pad : (int)(-s->payload & 3);
	size_t tp_len = BTH_LEN + ext + s->payload + pad + ICRC_LEN;
	size_t off, i, e;
	uint8_t *bth;

	off = build_l2(f, s->vlans, s->ipv6 ? ETYPE_IP6 : ETYPE_IP4);
	off = build_l3(f, s, off, PROTO_UDP, UDP_HLEN + tp_len);

	f->l4 = off;
	roce_put16(f->b + off, 0xc000 | (s->qpn & 0x3fff));	/* as rxe hashes */
	roce_put16(f->b + off + 2, s->dport ? s->dport : RXDP_ROCE_PORT);
	roce_put16(f->b + off + 4, UDP_HLEN + tp_len);
	roce_put16(f->b + off + 6, s->ipv6 ? 0xbeef : 0);	/* not checked */
	off += UDP_HLEN;

	f->bth = off;
	bth = f->b + off;
	bth[0] = s->opcode;
	bth[1] = 0x80 | (pad & 3) << 4 | (s->tver & 0x0f);	/* SE */
	roce_put16(bth + 2, s->pkey_set ? s->pkey : s->pkey ? s->pkey : 0xffff);
	roce_put32(bth + 4, s->qpn & 0xffffff);	/* resv8a 0 */
	roce_put32(bth + 8, 0x80000000 | 0x123456);	/* AckReq, PSN */
	off += BTH_LEN;

	f->ext = off;
	for (i = 0; op && op->hdrs[i] != X_NONE; i++) {
		uint8_t *h = f->b + off;

		for (e = 0; e < ext_len[op->hdrs[i]]; e++)
			h[e] = 0xa0 + i + e;
		if (op->hdrs[i] == X_DETH) {
			roce_put32(h, s->qkey ? s->qkey :
			      s->qpn == QP_GSI ? RXDP_GSI_QKEY : QKEY_UD);
			roce_put32(h + 4, 0x000042);		/* source QP */
		}
		off += ext_len[op->hdrs[i]];
		f->ext_end[f->nr_ext++] = off;
	}
	off -= s->ext_cut;

	f->payload = off;
	for (i = 0; i < s->payload; i++)
		f->b[off + i] = i * 7;
	off += s->payload;
	f->pad = off;
	off += pad;
	f->icrc = off;
	f->len = off + ICRC_LEN;
	put_icrc(f);
}

/*
 * The spec of a good packet for the variant: an RC SEND_ONLY of 64 bytes
 * to QP_RC, with whatever the caller's designators override.
 */
#pragma GCC diagnostic ignored "-Woverride-init"
#define SPEC(v, ...) ((struct spec){					\
	.vlans = (v)->vlans, .ipv6 = (v)->ipv6, .ip_opts = (v)->ip_opts, \
	.pad = -1, .opcode = 0x04, .qpn = QP_RC, .payload = 64,		\
	__VA_ARGS__ })

/* ---- running frames and checking what moved ------------------------- */

/* The loaded program and its maps, as each fixture has them. */
struct xdp_env {
	struct rxdp_bpf *skel;
	int prog, qp_map, slot_map, cfg_map, cnt_map, gid_map;
	int ncpus;
	struct rxdp_dev_config cfg;
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	/* the verifier log when loading fails; quiet otherwise */
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static int set_config(struct xdp_env *x)
{
	uint32_t zero = 0;

	return bpf_map_update_elem(x->cfg_map, &zero, &x->cfg, BPF_ANY);
}

/*
 * The program is loaded once, before the harness forks a child per test:
 * loading (mostly libbpf reading the kernel's BTF) costs far more than
 * a test.  Each test starts from emptied maps instead.
 */
static struct rxdp_bpf *skel;

static void __attribute__((constructor)) load_program(void)
{
	/*
	 * With the module loaded, accepted packets would go to its kfunc,
	 * which refuses frames of the loopback device test runs use.
	 */
	if (access("/sys/module/rxdp", F_OK) == 0)
		return;
	libbpf_set_print(libbpf_print);
	skel = rxdp_bpf__open_and_load();
}

/* Every slot of qp_slots free again, in one system call. */
static int clear_slots(struct xdp_env *x)
{
	static struct rxdp_qp_slot zero[RXDP_QP_SLOTS];
	static uint32_t keys[RXDP_QP_SLOTS];
	uint32_t i, n = RXDP_QP_SLOTS;

	for (i = 0; i < n; i++)
		keys[i] = i;
	return bpf_map_update_batch(x->slot_map, keys, zero, &n, NULL);
}

/* The GIDs of the addresses build_roce() sends to. */
static const struct rxdp_gid_key dst_gid4 = { .raw = {
	[10] = 0xff, [11] = 0xff, 192, 168, 1, 2 } };
static const struct rxdp_gid_key dst_gid6 = { .raw = {
	0x20, 0x01, 0x0d, 0xb8, [15] = 2 } };

/* The multicast groups build_roce() sends to with .group */
static const struct rxdp_gid_key grp_gid4 = { .raw = {
	[10] = 0xff, [11] = 0xff, 239, 1, 2, 3 } };
static const struct rxdp_gid_key grp_gid6 = { .raw = {
	0xff, 0x0e, [15] = 0x77 } };

static int put_gid(struct xdp_env *x, const struct rxdp_gid_key *k)
{
	struct rxdp_gid_entry e = { .gid_index = 1, .dev_index = DEV_INDEX };

	return bpf_map_update_elem(x->gid_map, k, &e, BPF_ANY);
}

static int put_qp(struct xdp_env *x, const struct rxdp_qp_entry *e)
{
	return rxdp_put_qp(x->qp_map, x->slot_map, e);
}

/*
 * Empty the QP table; configure the device: active, ICRC checked.
 * False when the test cannot go on (failed or skipped).
 */
static bool env_setup(struct __test_metadata *_metadata, struct xdp_env *x)
{
	uint32_t key;

	if (access("/sys/module/rxdp", F_OK) == 0)
		SKIP(return false,
		     "rxdp.ko is loaded: its steer kfunc would get the packets");
	ASSERT_NE(NULL, skel) TH_LOG("loading the XDP program failed");
	x->skel = skel;
	x->prog = bpf_program__fd(x->skel->progs.rxdp_rx);
	x->qp_map = bpf_map__fd(x->skel->maps.qp_table);
	x->slot_map = bpf_map__fd(x->skel->maps.qp_slots);
	x->cfg_map = bpf_map__fd(x->skel->maps.dev_config);
	x->cnt_map = bpf_map__fd(x->skel->maps.rx_counters);
	x->gid_map = bpf_map__fd(x->skel->maps.gid_table);
	x->ncpus = libbpf_num_possible_cpus();
	ASSERT_GT(x->ncpus, 0);
	while (!bpf_map_get_next_key(x->qp_map, NULL, &key))
		ASSERT_EQ(0, bpf_map_delete_elem(x->qp_map, &key));
	/* the device has the addresses the frames go to */
	ASSERT_EQ(0, put_gid(x, &dst_gid4));
	ASSERT_EQ(0, put_gid(x, &dst_gid6));
	ASSERT_EQ(0, clear_slots(x)) TH_LOG("qp_slots: %s", strerror(errno));

	/* the map names are part of the interface: rxdpctl pins by them */
	EXPECT_STREQ(RXDP_MAP_QP_TABLE, bpf_map__name(x->skel->maps.qp_table));
	EXPECT_STREQ(RXDP_MAP_QP_SLOTS, bpf_map__name(x->skel->maps.qp_slots));
	EXPECT_STREQ(RXDP_MAP_DEV_CONFIG,
		     bpf_map__name(x->skel->maps.dev_config));
	EXPECT_STREQ(RXDP_MAP_COUNTERS,
		     bpf_map__name(x->skel->maps.rx_counters));
	EXPECT_STREQ(RXDP_MAP_GID_TABLE,
		     bpf_map__name(x->skel->maps.gid_table));

	memset(&x->cfg, 0, sizeof(x->cfg));
	x->cfg.ifindex = 1;
	x->cfg.dev_index = DEV_INDEX;
	x->cfg.flags = RXDP_CFG_F_ACTIVE | RXDP_CFG_F_ICRC;
	x->cfg.mtu = 4096;
	x->cfg.pkey_tbl_len = 3;
	x->cfg.pkey[0] = RXDP_PKEY_DEFAULT;
	x->cfg.pkey[1] = PKEY_FULL2;
	x->cfg.pkey[2] = PKEY_LIMITED;
	x->cfg.pkey[3] = 0x4444;	/* past pkey_tbl_len: unused */
	ASSERT_EQ(0, set_config(x));
	return true;
}

static void read_counters(struct xdp_env *x, uint64_t out[RXDP_CNT_MAX])
{
	uint64_t vals[x->ncpus];
	uint32_t k;
	int c;

	for (k = 0; k < RXDP_CNT_MAX; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(x->cnt_map, &k, vals))
			continue;
		for (c = 0; c < x->ncpus; c++)
			out[k] += vals[c];
	}
}

struct qp_cnt {
	uint64_t packets, bytes, drops;
};

/* The counters of QP qpn, all ones when there is none. */
static struct qp_cnt read_qp(struct xdp_env *x, uint32_t qpn)
{
	struct rxdp_qp_entry e;
	struct qp_cnt c;

	memset(&c, 0xff, sizeof(c));
	if (!bpf_map_lookup_elem(x->qp_map, &qpn, &e)) {
		c.packets = e.rx_packets;
		c.bytes = e.rx_bytes;
		c.drops = e.rx_drops;
	}
	return c;
}

static const char *cnt_name(unsigned int i)
{
	static const char *const names[RXDP_CNT_MAX] = RXDP_COUNTER_NAMES;

	return i < RXDP_CNT_MAX && names[i] ? names[i] : "?";
}

/*
 * Run a frame, linear bytes of it in the linear part (0: as much as
 * fits), and check: the verdict that goes with counter want, exactly one
 * count on want and none elsewhere, the frame untouched when passed, the
 * counters of QP qpn (0: none) moved as want says and those of the
 * other QPs of qps[] not at all.
 */
static void run_frame(struct __test_metadata *_metadata, struct xdp_env *x,
		      const struct frame *f, size_t linear,
		      enum rxdp_counter want, uint32_t qpn)
{
	static uint8_t out[FRAME_MAX + 256];
	uint64_t before[RXDP_CNT_MAX], after[RXDP_CNT_MAX];
	struct qp_cnt qb[ARRAY_LEN(qps)], qa[ARRAY_LEN(qps)], mb, ma;
	struct xdp_md ctx_in = { .data_end = linear };
	LIBBPF_OPTS(bpf_test_run_opts, topts,
		.data_in = f->b,
		.data_size_in = f->len,
		.data_out = out,
		.data_size_out = sizeof(out),
		.ctx_in = linear ? &ctx_in : NULL,
		.ctx_size_in = linear ? sizeof(ctx_in) : 0,
		.repeat = 1,
	);
	bool ok = want == RXDP_CNT_DELIVERED;
	size_t i;
	int err;

	read_counters(x, before);
	for (i = 0; i < ARRAY_LEN(qps); i++)
		qb[i] = read_qp(x, qps[i].qpn);
	mb = read_qp(x, qpn);
	err = bpf_prog_test_run_opts(x->prog, &topts);
	ASSERT_EQ(0, err) TH_LOG("test run: %s", strerror(errno));
	read_counters(x, after);
	for (i = 0; i < ARRAY_LEN(qps); i++)
		qa[i] = read_qp(x, qps[i].qpn);
	ma = read_qp(x, qpn);

	EXPECT_EQ(want == RXDP_CNT_PASSED ? XDP_PASS : XDP_DROP, topts.retval);
	for (i = 0; i < RXDP_CNT_MAX; i++) {
		unsigned long long moved = after[i] - before[i];

		EXPECT_EQ(i == want ? 1 : 0, moved) {
			TH_LOG("counter %s moved by %llu, expected %s",
			       cnt_name(i), moved, cnt_name(want));
		}
	}
	if (want == RXDP_CNT_PASSED) {
		EXPECT_EQ(f->len, topts.data_size_out);
		EXPECT_EQ(0, memcmp(out, f->b, f->len))
			TH_LOG("passed frame was changed");
	}
	if (qpn) {
		/* the module's to count; the program leaves them alone */
		EXPECT_EQ(0, ma.packets - mb.packets)
			TH_LOG("QP %#x rx_packets", qpn);
		EXPECT_EQ(0, ma.bytes - mb.bytes)
			TH_LOG("QP %#x rx_bytes", qpn);
		EXPECT_EQ(ok ? 0 : 1, ma.drops - mb.drops)
			TH_LOG("QP %#x rx_drops", qpn);
	}
	for (i = 0; i < ARRAY_LEN(qps); i++) {
		if (qps[i].qpn == qpn)
			continue;
		EXPECT_EQ(0, memcmp(&qa[i], &qb[i], sizeof(qa[i])))
			TH_LOG("QP %#x counters moved", qps[i].qpn);
	}
}

/* ---- the encapsulation fixture: every test for every variant -------- */

FIXTURE(rx) {
	struct xdp_env x;
};

FIXTURE_VARIANT(rx) {
	int vlans;
	bool ipv6;
	int ip_opts;
};

FIXTURE_VARIANT_ADD(rx, ipv4) { .vlans = 0, .ipv6 = false };
FIXTURE_VARIANT_ADD(rx, ipv6) { .vlans = 0, .ipv6 = true };
FIXTURE_VARIANT_ADD(rx, vlan_ipv4) { .vlans = 1, .ipv6 = false };
FIXTURE_VARIANT_ADD(rx, vlan_ipv6) { .vlans = 1, .ipv6 = true };
FIXTURE_VARIANT_ADD(rx, qinq_ipv4) { .vlans = 2, .ipv6 = false };
FIXTURE_VARIANT_ADD(rx, qinq_ipv6) { .vlans = 2, .ipv6 = true };
FIXTURE_VARIANT_ADD(rx, ipv4_options) { .vlans = 0, .ip_opts = 8 };
FIXTURE_VARIANT_ADD(rx, qinq_ipv4_max_options) { .vlans = 2, .ip_opts = 40 };

FIXTURE_SETUP(rx)
{
	size_t i;

	if (!env_setup(_metadata, &self->x))
		return;
	for (i = 0; i < ARRAY_LEN(qps); i++) {
		struct rxdp_qp_entry e = qps[i];

		if (!e.dev_index)
			e.dev_index = DEV_INDEX;
		e.port = 1;
		ASSERT_EQ(0, put_qp(&self->x, &e));
	}
}

FIXTURE_TEARDOWN(rx)
{
}

#define RUN(f, want, qpn)	run_frame(_metadata, &self->x, (f), 0, (want), (qpn))

static struct frame frame;	/* the one being tested */

/* ---- good packets --------------------------------------------------- */

/* Every opcode, with payloads around the pad boundaries and bigger. */
TEST_F(rx, every_opcode_delivered)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 4, 5, 255, 1024, 3000 };
	size_t i, j;

	for (i = 0; i < ARRAY_LEN(opcodes); i++) {
		const struct opcode *op = &opcodes[i];
		uint32_t qpn = qp_of_type(op->qpt);

		for (j = 0; j < ARRAY_LEN(sizes); j++) {
			if (!op->payload && sizes[j])
				break;
			build_roce(&frame, &SPEC(variant, .opcode = op->code,
						 .qpn = qpn,
						 .payload = sizes[j]));
			RUN(&frame, RXDP_CNT_DELIVERED, qpn);
			if (!__test_passed(_metadata)) {
				TH_LOG("%s, %zu bytes", op->name, sizes[j]);
				return;
			}
		}
	}
}

/* The GSI QP takes UD opcodes, with the GSI Q_Key and any table P_Key. */
TEST_F(rx, gsi)
{
	build_roce(&frame, &SPEC(variant, .opcode = 0x64, .qpn = QP_GSI));
	RUN(&frame, RXDP_CNT_DELIVERED, QP_GSI);
	build_roce(&frame, &SPEC(variant, .opcode = 0x65, .qpn = QP_GSI,
				 .pkey = PKEY_FULL2));
	RUN(&frame, RXDP_CNT_DELIVERED, QP_GSI);
	build_roce(&frame, &SPEC(variant, .opcode = 0x64, .qpn = QP_GSI,
				 .pkey = 0x9999));
	RUN(&frame, RXDP_CNT_BAD_PKEY, QP_GSI);
	build_roce(&frame, &SPEC(variant, .opcode = 0x64, .qpn = QP_GSI,
				 .qkey = QKEY_UD));
	RUN(&frame, RXDP_CNT_BAD_QKEY, QP_GSI);
	build_roce(&frame, &SPEC(variant, .opcode = 0x04, .qpn = QP_GSI));
	RUN(&frame, RXDP_CNT_BAD_OPCODE, QP_GSI);
}

/* All 24 bits of the QPN count; resv8a beside them does not. */
TEST_F(rx, qpn_24_bits)
{
	build_roce(&frame, &SPEC(variant, .qpn = QP_HIGH));
	RUN(&frame, RXDP_CNT_DELIVERED, QP_HIGH);
	build_roce(&frame, &SPEC(variant, .qpn = QP_RC | 0x010000));
	RUN(&frame, RXDP_CNT_UNKNOWN_QP, 0);
}

/* Changing what the ICRC masks keeps the packet good. */
TEST_F(rx, variant_fields_ignored)
{
	uint8_t *ip, *udp, *bth;

	build_roce(&frame, &SPEC(variant, .opcode = 0x0a));
	ip = frame.b + frame.l3;
	udp = frame.b + frame.l4;
	bth = frame.b + frame.bth;
	if (variant->ipv6) {
		ip[0] |= 0x0f;			/* traffic class */
		ip[1] ^= 0xf5;
		ip[2] ^= 0x5a;			/* flow label */
		ip[3] ^= 0xa5;
		ip[7] = 1;			/* hop limit */
	} else {
		ip[1] = 0xb8 | 3;		/* DSCP EF, CE */
		ip[8] = 3;			/* TTL */
		ipv4_csum(&frame);
	}
	roce_put16(udp + 6, 0x4321);			/* UDP checksum */
	bth[4] = 0xc0;				/* FECN, BECN */
	RUN(&frame, RXDP_CNT_DELIVERED, QP_RC);
}

/* Ethernet padding after the IP packet is allowed. */
TEST_F(rx, ethernet_padding)
{
	build_roce(&frame, &SPEC(variant, .opcode = 0x11, .payload = 0));
	memset(frame.b + frame.len, 0x5a, 30);
	frame.len += 30;
	RUN(&frame, RXDP_CNT_DELIVERED, QP_RC);
}

/* SQD and SQE receive, RTR too. */
TEST_F(rx, receiving_states)
{
	build_roce(&frame, &SPEC(variant, .qpn = QP_RC_RTR));
	RUN(&frame, RXDP_CNT_DELIVERED, QP_RC_RTR);
	build_roce(&frame, &SPEC(variant, .qpn = QP_RC_SQD));
	RUN(&frame, RXDP_CNT_DELIVERED, QP_RC_SQD);
	build_roce(&frame, &SPEC(variant, .opcode = 0x64, .qpn = QP_UD_SQE));
	RUN(&frame, RXDP_CNT_DELIVERED, QP_UD_SQE);
}

/* ---- not ours: passed untouched -------------------------------------- */

/*
 * RoCEv2 to an address that is not one of the device's GIDs is for
 * another endpoint on the link (rdma_rxe on a macvlan, a VM behind a
 * bridge): passed, though it names a receiving QP of this device.
 */
TEST_F(rx, other_destination)
{
	const struct rxdp_gid_key *mine = variant->ipv6 ? &dst_gid6 :
							  &dst_gid4;

	build_roce(&frame, &SPEC(variant));
	RUN(&frame, RXDP_CNT_DELIVERED, QP_RC);
	ASSERT_EQ(0, bpf_map_delete_elem(self->x.gid_map, mine));
	RUN(&frame, RXDP_CNT_PASSED, 0);
	/* and the other family's GID does not stand in for it */
	ASSERT_EQ(0, put_gid(&self->x, variant->ipv6 ? &dst_gid4 : &dst_gid6));
	RUN(&frame, RXDP_CNT_PASSED, 0);
	ASSERT_EQ(0, put_gid(&self->x, mine));
	RUN(&frame, RXDP_CNT_DELIVERED, QP_RC);
}

TEST_F(rx, other_udp_ports)
{
	static const uint16_t ports[] = { 4790, 4792, 53, 0x12b7 ^ 0xff00 };
	size_t i;

	for (i = 0; i < ARRAY_LEN(ports); i++) {
		build_roce(&frame, &SPEC(variant, .dport = ports[i]));
		RUN(&frame, RXDP_CNT_PASSED, 0);
	}
	/* RoCE from port 4791 to another port is not RoCE either */
	build_roce(&frame, &SPEC(variant, .dport = 5000));
	roce_put16(frame.b + frame.l4, RXDP_ROCE_PORT);
	RUN(&frame, RXDP_CNT_PASSED, 0);
}

TEST_F(rx, non_roce)
{
	struct spec s = SPEC(variant);
	size_t off;

	/* ARP request */
	off = build_l2(&frame, variant->vlans, ETYPE_ARP);
	roce_put16(frame.b + off, 1);
	roce_put16(frame.b + off + 2, ETYPE_IP4);
	frame.b[off + 4] = 6;
	frame.b[off + 5] = 4;
	roce_put16(frame.b + off + 6, 1);
	frame.len = off + 28;
	RUN(&frame, RXDP_CNT_PASSED, 0);

	/* TCP to port 4791 */
	off = build_l2(&frame, variant->vlans, s.ipv6 ? ETYPE_IP6 : ETYPE_IP4);
	off = build_l3(&frame, &s, off, PROTO_TCP, 20);
	roce_put16(frame.b + off + 2, RXDP_ROCE_PORT);
	frame.b[off + 12] = 5 << 4;
	frame.len = off + 20;
	RUN(&frame, RXDP_CNT_PASSED, 0);

	/* ICMP(v6) */
	off = build_l2(&frame, variant->vlans, s.ipv6 ? ETYPE_IP6 : ETYPE_IP4);
	off = build_l3(&frame, &s, off, s.ipv6 ? PROTO_ICMP6 : 1, 8);
	frame.b[off] = s.ipv6 ? 128 : 8;	/* echo request */
	frame.len = off + 8;
	RUN(&frame, RXDP_CNT_PASSED, 0);

	/* a third VLAN tag: more than rxdp looks through */
	if (variant->vlans == 2) {
		build_roce(&frame, &s);
		memmove(frame.b + 16, frame.b + 12, frame.len - 12);
		roce_put16(frame.b + 12, ETYPE_8021Q);
		roce_put16(frame.b + 14, 300);
		frame.len += VLAN_HLEN;
		RUN(&frame, RXDP_CNT_PASSED, 0);
	}

	/* an EtherType that says IP over a header that is not */
	build_roce(&frame, &s);
	frame.b[frame.l3] = (s.ipv6 ? 4 : 6) << 4 | 5;
	RUN(&frame, RXDP_CNT_PASSED, 0);
}

/*
 * IPv4 fragments are the stack's, the first one too.  (The flags are not
 * variant: the ICRC covers them.)
 */
static void set_frag(struct frame *f, uint16_t frag_off)
{
	roce_put16(f->b + f->l3 + 6, frag_off);
	ipv4_csum(f);
	put_icrc(f);
}

TEST_F(rx, ipv4_fragments)
{
	struct spec s = SPEC(variant, .ipv6 = false);

	build_roce(&frame, &s);
	set_frag(&frame, 0x2000);		/* MF, offset 0 */
	RUN(&frame, RXDP_CNT_PASSED, 0);
	set_frag(&frame, 0x0010);		/* offset 128 */
	RUN(&frame, RXDP_CNT_PASSED, 0);
	set_frag(&frame, 0x0000);		/* no DF, still whole */
	RUN(&frame, RXDP_CNT_DELIVERED, QP_RC);
}

/* An IPv4 header length below 5 words is no IPv4. */
TEST_F(rx, ipv4_bad_ihl)
{
	build_roce(&frame, &SPEC(variant, .ipv6 = false, .ip_opts = 0));
	frame.b[frame.l3] = 0x44;
	RUN(&frame, RXDP_CNT_PASSED, 0);
}

/* The rule: RoCE behind IPv6 extension headers goes to the stack. */
TEST_F(rx, ipv6_extension_headers)
{
	static const int exts[] = { 256 /* hop-by-hop */, 60, 43, 44 };
	size_t i;

	for (i = 0; i < ARRAY_LEN(exts); i++) {
		build_roce(&frame, &SPEC(variant, .ipv6 = true,
					 .v6_ext = exts[i]));
		RUN(&frame, RXDP_CNT_PASSED, 0);
	}
}

/* A device that is not bound yet passes everything. */
TEST_F(rx, inactive_device)
{
	self->x.cfg.flags &= ~RXDP_CFG_F_ACTIVE;
	ASSERT_EQ(0, set_config(&self->x));
	build_roce(&frame, &SPEC(variant));
	RUN(&frame, RXDP_CNT_PASSED, 0);
}

/* ---- malformed ------------------------------------------------------ */

/*
 * Cut the frame at every header boundary and one byte before each: it
 * is passed while no whole UDP header is in view (not recognisably
 * RoCE), and dropped as too short after that.
 */
TEST_F(rx, truncated)
{
	size_t cuts[32], n = 0, i, j;
	const struct spec s = SPEC(variant, .opcode = 0x0b, .payload = 40);

	build_roce(&frame, &s);
	cuts[n++] = ETH_HLEN;
	for (i = 0; i < frame.nr_vlans; i++)
		cuts[n++] = frame.vlan[i] + 2;
	cuts[n++] = frame.l3 + (variant->ipv6 ? IP6_HLEN : IP4_HLEN);
	cuts[n++] = frame.l4;
	cuts[n++] = frame.bth;
	cuts[n++] = frame.ext;
	for (i = 0; i < frame.nr_ext; i++)
		cuts[n++] = frame.ext_end[i];
	cuts[n++] = frame.pad;
	cuts[n++] = frame.icrc;
	cuts[n++] = frame.len;

	for (i = 0; i < n; i++) {
		for (j = 0; j < 2; j++) {
			size_t len = cuts[i] - j;

			if (len < ETH_HLEN)	/* test_run refuses those */
				continue;
			if (len >= frame.len)	/* whole */
				continue;
			build_roce(&frame, &s);
			frame.len = len;
			RUN(&frame, len < frame.bth ? RXDP_CNT_PASSED :
			    RXDP_CNT_BAD_LEN, 0);
			if (!__test_passed(_metadata)) {
				TH_LOG("cut at %zu", len);
				return;
			}
		}
	}
}

/*
 * Cut inside the transport headers with IP and UDP lengths (and ICRC)
 * that agree: only the transport length check catches it.
 */
TEST_F(rx, transport_too_short)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(opcodes); i++) {
		const struct opcode *op = &opcodes[i];
		size_t ext = op_ext_len(op);

		if (!ext)
			continue;
		build_roce(&frame, &SPEC(variant, .opcode = op->code,
					 .qpn = qp_of_type(op->qpt),
					 .payload = 0, .ext_cut = 1));
		RUN(&frame, RXDP_CNT_BAD_LEN, 0);
		build_roce(&frame, &SPEC(variant, .opcode = op->code,
					 .qpn = qp_of_type(op->qpt),
					 .payload = 0, .ext_cut = ext));
		RUN(&frame, RXDP_CNT_BAD_LEN, 0);
		if (!__test_passed(_metadata)) {
			TH_LOG("%s", op->name);
			return;
		}
	}
	/* a UDP payload that cannot hold a BTH and an ICRC */
	build_roce(&frame, &SPEC(variant, .opcode = 0x11, .payload = 0));
	frame.len = frame.bth + BTH_LEN + ICRC_LEN - 1;
	roce_put16(frame.b + frame.l4 + 4, frame.len - frame.l4);
	if (variant->ipv6)
		roce_put16(frame.b + frame.l3 + 4, frame.len - frame.l4);
	else
		roce_put16(frame.b + frame.l3 + 2, frame.len - frame.l3);
	RUN(&frame, RXDP_CNT_BAD_LEN, 0);
}

static void set_ip_len(struct frame *f, long delta)
{
	size_t at = f->l3 + (f->ipv6 ? 4 : 2);

	roce_put16(f->b + at, get16(f->b + at) + delta);
	if (!f->ipv6)
		ipv4_csum(f);
}

TEST_F(rx, lengths_disagree)
{
	const struct spec s = SPEC(variant, .payload = 100);

	/* IP longer than the frame */
	build_roce(&frame, &s);
	set_ip_len(&frame, 1);
	RUN(&frame, RXDP_CNT_BAD_LEN, 0);
	/* IP shorter than UDP says */
	build_roce(&frame, &s);
	set_ip_len(&frame, -4);
	RUN(&frame, RXDP_CNT_BAD_LEN, 0);
	/* UDP shorter than IP says */
	build_roce(&frame, &s);
	roce_put16(frame.b + frame.l4 + 4, get16(frame.b + frame.l4 + 4) - 4);
	RUN(&frame, RXDP_CNT_BAD_LEN, 0);
	/* UDP longer than IP says */
	build_roce(&frame, &s);
	roce_put16(frame.b + frame.l4 + 4, get16(frame.b + frame.l4 + 4) + 4);
	RUN(&frame, RXDP_CNT_BAD_LEN, 0);
	/* UDP length below its own header */
	build_roce(&frame, &s);
	roce_put16(frame.b + frame.l4 + 4, 4);
	RUN(&frame, RXDP_CNT_BAD_LEN, 0);
	/* IP length below its own header and UDP's */
	build_roce(&frame, &s);
	set_ip_len(&frame, -(long)(frame.len - frame.l4) - 1);
	RUN(&frame, RXDP_CNT_BAD_LEN, 0);
}

TEST_F(rx, bad_transport_version)
{
	build_roce(&frame, &SPEC(variant, .tver = 1));
	RUN(&frame, RXDP_CNT_BAD_TVER, 0);
	build_roce(&frame, &SPEC(variant, .tver = 15));
	RUN(&frame, RXDP_CNT_BAD_TVER, 0);
}

/* One flipped bit anywhere the ICRC covers, the ICRC itself included. */
TEST_F(rx, bad_icrc)
{
	const struct spec s = SPEC(variant, .opcode = 0x0a, .payload = 33);
	size_t at[8], n = 0, i;

	build_roce(&frame, &s);
	at[n++] = frame.l3 + (variant->ipv6 ? 8 : 12);	/* source address */
	at[n++] = frame.l4;				/* UDP source port */
	at[n++] = frame.bth + 7;			/* QPN */
	at[n++] = frame.bth + 11;			/* PSN */
	at[n++] = frame.ext + 3;			/* RETH */
	at[n++] = frame.payload + 32;			/* payload */
	at[n++] = frame.pad;				/* pad */
	at[n++] = frame.icrc + 3;			/* ICRC */
	for (i = 0; i < n; i++) {
		build_roce(&frame, &s);
		frame.b[at[i]] ^= 0x10;
		RUN(&frame, RXDP_CNT_BAD_ICRC, 0);
		if (!__test_passed(_metadata)) {
			TH_LOG("bit flipped at %zu", at[i]);
			return;
		}
	}
	/* IPv4 options are covered too */
	if (variant->ip_opts) {
		build_roce(&frame, &s);
		frame.b[frame.l3 + IP4_HLEN] = 0;	/* NOP -> EOL */
		ipv4_csum(&frame);
		RUN(&frame, RXDP_CNT_BAD_ICRC, 0);
	}
}

/* With checking off, a bad ICRC gets through. */
TEST_F(rx, icrc_check_off)
{
	self->x.cfg.flags &= ~RXDP_CFG_F_ICRC;
	ASSERT_EQ(0, set_config(&self->x));
	build_roce(&frame, &SPEC(variant));
	frame.b[frame.icrc] ^= 1;
	RUN(&frame, RXDP_CNT_DELIVERED, QP_RC);
	frame.b[frame.payload] ^= 1;
	RUN(&frame, RXDP_CNT_DELIVERED, QP_RC);
}

TEST_F(rx, pkeys)
{
	static const struct {
		uint16_t pkey;
		uint32_t qpn;
		enum rxdp_counter want;
	} cases[] = {
		{ 0xffff, QP_RC, RXDP_CNT_DELIVERED },
		{ 0x7fff, QP_RC, RXDP_CNT_DELIVERED },	/* limited - full */
		{ 0x1234, QP_RC, RXDP_CNT_BAD_PKEY },	/* other partition */
		{ 0x8000, QP_RC, RXDP_CNT_BAD_PKEY },	/* invalid key */
		{ 0x0000, QP_RC, RXDP_CNT_BAD_PKEY },
		{ 0x8123, QP_FULL2, RXDP_CNT_DELIVERED },
		{ 0x0123, QP_FULL2, RXDP_CNT_DELIVERED },
		{ 0xffff, QP_FULL2, RXDP_CNT_BAD_PKEY },
		{ 0x8123, QP_LIMITED, RXDP_CNT_DELIVERED }, /* full - limited */
		{ 0x0123, QP_LIMITED, RXDP_CNT_BAD_PKEY }, /* limited - limited */
		{ 0xffff, QP_BAD_PKIDX, RXDP_CNT_BAD_PKEY }, /* index past table */
		{ 0x4444, QP_BAD_PKIDX, RXDP_CNT_BAD_PKEY },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		build_roce(&frame, &SPEC(variant, .pkey = cases[i].pkey,
					 .pkey_set = true,
					 .qpn = cases[i].qpn));
		RUN(&frame, cases[i].want, cases[i].qpn);
		if (!__test_passed(_metadata)) {
			TH_LOG("P_Key %#x to QP %#x", cases[i].pkey,
			       cases[i].qpn);
			return;
		}
	}
}

TEST_F(rx, bad_qkey)
{
	build_roce(&frame, &SPEC(variant, .opcode = 0x64, .qpn = QP_UD,
				 .qkey = QKEY_UD + 1));
	RUN(&frame, RXDP_CNT_BAD_QKEY, QP_UD);
	build_roce(&frame, &SPEC(variant, .opcode = 0x65, .qpn = QP_UD,
				 .qkey = RXDP_GSI_QKEY));
	RUN(&frame, RXDP_CNT_BAD_QKEY, QP_UD);
}

/* A BTH pad count the packet does not have room for. */
static void set_bth_pad(struct frame *f, int pad)
{
	uint8_t *flags = f->b + f->bth + 1;

	*flags = (*flags & ~0x30) | pad << 4;
	put_icrc(f);
}

TEST_F(rx, bad_pad)
{
	build_roce(&frame, &SPEC(variant, .payload = 0));
	set_bth_pad(&frame, 1);
	RUN(&frame, RXDP_CNT_BAD_PAD, 0);
	build_roce(&frame, &SPEC(variant, .payload = 2, .pad = 0));
	set_bth_pad(&frame, 3);
	RUN(&frame, RXDP_CNT_BAD_PAD, 0);
	build_roce(&frame, &SPEC(variant, .opcode = 0x11, .payload = 0));
	set_bth_pad(&frame, 2);
	RUN(&frame, RXDP_CNT_BAD_PAD, 0);
	/* pad beside no payload at all, and all of a payload pad */
	build_roce(&frame, &SPEC(variant, .payload = 0, .pad = 3));
	RUN(&frame, RXDP_CNT_DELIVERED, QP_RC);
	build_roce(&frame, &SPEC(variant, .payload = 2, .pad = 0));
	set_bth_pad(&frame, 2);
	RUN(&frame, RXDP_CNT_DELIVERED, QP_RC);
}

/* Opcodes without a payload must not have one. */
TEST_F(rx, payload_where_none_belongs)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(opcodes); i++) {
		if (opcodes[i].payload)
			continue;
		build_roce(&frame, &SPEC(variant, .opcode = opcodes[i].code,
					 .payload = 4));
		RUN(&frame, RXDP_CNT_BAD_LEN, 0);
		if (!__test_passed(_metadata)) {
			TH_LOG("%s", opcodes[i].name);
			return;
		}
	}
}

TEST_F(rx, payload_over_mtu)
{
	self->x.cfg.mtu = 256;
	ASSERT_EQ(0, set_config(&self->x));
	build_roce(&frame, &SPEC(variant, .payload = 256));
	RUN(&frame, RXDP_CNT_DELIVERED, QP_RC);
	build_roce(&frame, &SPEC(variant, .payload = 257));
	RUN(&frame, RXDP_CNT_BAD_LEN, 0);
}

/* Every opcode outside the table, and every one to every wrong QP type. */
TEST_F(rx, opcodes_not_for_rxdp)
{
	static const struct opcode unknown = {
		"unknown", 0, 0, true, { X_NONE },
	};
	unsigned int code;

	for (code = 0; code < 256; code++) {
		if (find_op(code))
			continue;
		build_roce(&frame, &SPEC(variant, .opcode = code,
					 .op = &unknown));
		RUN(&frame, RXDP_CNT_BAD_OPCODE, 0);
		if (!__test_passed(_metadata)) {
			TH_LOG("opcode %#x", code);
			return;
		}
	}
}

TEST_F(rx, opcode_for_other_qp_type)
{
	static const int types[] = {
		RXDP_QPT_RC, RXDP_QPT_UC, RXDP_QPT_UD, RXDP_QPT_GSI
	};
	size_t i, t;

	for (i = 0; i < ARRAY_LEN(opcodes); i++) {
		for (t = 0; t < ARRAY_LEN(types); t++) {
			uint32_t qpn = qp_of_type(types[t]);

			if (types[t] == opcodes[i].qpt ||
			    (types[t] == RXDP_QPT_GSI &&
			     opcodes[i].qpt == RXDP_QPT_UD))
				continue;
			build_roce(&frame, &SPEC(variant,
						 .opcode = opcodes[i].code,
						 .qpn = qpn,
						 .payload = opcodes[i].payload ?
							    64 : 0));
			RUN(&frame, RXDP_CNT_BAD_OPCODE, qpn);
			if (!__test_passed(_metadata)) {
				TH_LOG("%s to QP %#x", opcodes[i].name, qpn);
				return;
			}
		}
	}
}

TEST_F(rx, rc_opcode_to_ud_qp)
{
	build_roce(&frame, &SPEC(variant, .opcode = 0x04, .qpn = QP_UD));
	RUN(&frame, RXDP_CNT_BAD_OPCODE, QP_UD);
}

/*
 * A UD datagram to QPN 0xFFFFFF and a group the device has QPs attached
 * to (its GID in gid_table, as the module puts it there) goes to the
 * module, which hands it to the group's QPs; without the group it is
 * another endpoint's; to a unicast address or of another transport it
 * is no datagram of a group's.
 */
TEST_F(rx, multicast)
{
	const struct rxdp_gid_key *grp = variant->ipv6 ? &grp_gid6 : &grp_gid4;
	struct rxdp_gid_entry e = {
		.gid_index = RXDP_GID_INDEX_MCAST, .dev_index = DEV_INDEX,
	};

	/* the maps outlive a test: the group of the one before goes */
	bpf_map_delete_elem(self->x.gid_map, grp);
	build_roce(&frame, &SPEC(variant, .opcode = 0x64, .group = true,
				 .qpn = RXDP_MCAST_QPN));
	RUN(&frame, RXDP_CNT_PASSED, 0);
	ASSERT_EQ(0, bpf_map_update_elem(self->x.gid_map, grp, &e, BPF_ANY));
	RUN(&frame, RXDP_CNT_DELIVERED, 0);
	build_roce(&frame, &SPEC(variant, .opcode = 0x65, .group = true,
				 .qpn = RXDP_MCAST_QPN, .payload = 3000));
	RUN(&frame, RXDP_CNT_DELIVERED, 0);
	build_roce(&frame, &SPEC(variant, .opcode = 0x04, .group = true,
				 .qpn = RXDP_MCAST_QPN));
	RUN(&frame, RXDP_CNT_BAD_OPCODE, 0);
	build_roce(&frame, &SPEC(variant, .opcode = 0x64,
				 .qpn = RXDP_MCAST_QPN));
	RUN(&frame, RXDP_CNT_UNKNOWN_QP, 0);
	/* a packet to a group's address for a QPN of its own is for none */
	build_roce(&frame, &SPEC(variant, .opcode = 0x64, .group = true,
				 .qpn = QP_NONE));
	RUN(&frame, RXDP_CNT_UNKNOWN_QP, 0);
	build_roce(&frame, &SPEC(variant, .opcode = 0x64, .group = true,
				 .qpn = QP_UD));
	RUN(&frame, RXDP_CNT_UNKNOWN_QP, QP_UD);
	build_roce(&frame, &SPEC(variant, .group = true));
	RUN(&frame, RXDP_CNT_UNKNOWN_QP, QP_RC);
}

TEST_F(rx, unknown_qp)
{
	build_roce(&frame, &SPEC(variant, .qpn = QP_NONE));
	RUN(&frame, RXDP_CNT_UNKNOWN_QP, 0);
	build_roce(&frame, &SPEC(variant, .qpn = 0));
	RUN(&frame, RXDP_CNT_UNKNOWN_QP, 0);
}

/*
 * A QP is found by its slot, the low 16 bits of its number: another
 * number with the same slot is not that QP, and moves nothing of it.
 */
TEST_F(rx, slot_of_other_number)
{
	static const uint32_t qpns[] = {
		QP_RC ^ RXDP_QP_SLOTS, QP_RC | 0xff0000, QP_HIGH & 0xffff,
		QP_GSI | RXDP_QP_SLOTS,
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(qpns); i++) {
		build_roce(&frame, &SPEC(variant, .qpn = qpns[i]));
		RUN(&frame, RXDP_CNT_UNKNOWN_QP, 0);
	}
}

/*
 * What the program checks comes from the slot alone: a QP that has no
 * qp_table entry (the module could not add one) still receives, and a
 * drop for it is counted by its reason only.
 */
TEST_F(rx, slot_without_table_entry)
{
	struct rxdp_qp_entry e = {
		.qpn = 0x000031, .state = RXDP_QPS_RTS, .type = RXDP_QPT_RC,
		.port = 1, .dev_index = DEV_INDEX,
	};

	ASSERT_EQ(0, put_qp(&self->x, &e));
	ASSERT_EQ(0, bpf_map_delete_elem(self->x.qp_map, &e.qpn));
	build_roce(&frame, &SPEC(variant, .qpn = e.qpn));
	RUN(&frame, RXDP_CNT_DELIVERED, 0);
	build_roce(&frame, &SPEC(variant, .qpn = e.qpn, .opcode = 0x64));
	RUN(&frame, RXDP_CNT_BAD_OPCODE, 0);
}

TEST_F(rx, wrong_qp_state)
{
	static const uint32_t qpns[] = { QP_RESET, QP_INIT, QP_ERR };
	size_t i;

	for (i = 0; i < ARRAY_LEN(qpns); i++) {
		build_roce(&frame, &SPEC(variant, .qpn = qpns[i]));
		RUN(&frame, RXDP_CNT_BAD_STATE, qpns[i]);
	}
}

TEST_F(rx, qp_of_other_device)
{
	build_roce(&frame, &SPEC(variant, .qpn = QP_OTHER_DEV));
	RUN(&frame, RXDP_CNT_WRONG_DEV, QP_OTHER_DEV);
}

/* ---- multi-buffer frames -------------------------------------------- */

/* Payload, pad and ICRC in fragments: the ICRC still adds up. */
TEST_F(rx, multi_buffer)
{
	const struct spec s = SPEC(variant, .opcode = 0x0b, .payload = 2001);

	build_roce(&frame, &s);
	run_frame(_metadata, &self->x, &frame, frame.payload + 1,
		  RXDP_CNT_DELIVERED, QP_RC);
	frame.b[frame.icrc - 1] ^= 0x80;		/* pad, in a fragment */
	run_frame(_metadata, &self->x, &frame, frame.payload + 1,
		  RXDP_CNT_BAD_ICRC, 0);
	/* the ICRC split between the linear part and a fragment */
	build_roce(&frame, &s);
	run_frame(_metadata, &self->x, &frame, frame.icrc + 2,
		  RXDP_CNT_DELIVERED, QP_RC);
}

/* A 4 KiB payload does not fit a page: it always has fragments. */
TEST_F(rx, jumbo)
{
	build_roce(&frame, &SPEC(variant, .opcode = 0x0a, .payload = 4096));
	RUN(&frame, RXDP_CNT_DELIVERED, QP_RC);
	frame.b[frame.payload + 4000] ^= 1;
	RUN(&frame, RXDP_CNT_BAD_ICRC, 0);
}

/* Headers must be in the linear part: if not, the stack gets the frame. */
TEST_F(rx, headers_not_linear)
{
	build_roce(&frame, &SPEC(variant, .opcode = 0x0a, .payload = 64));
	run_frame(_metadata, &self->x, &frame, frame.bth + 4, RXDP_CNT_PASSED, 0);
	run_frame(_metadata, &self->x, &frame, frame.ext + 8, RXDP_CNT_PASSED, 0);
	run_frame(_metadata, &self->x, &frame, frame.ext + 16,
		  RXDP_CNT_DELIVERED, QP_RC);
}

/*
 * The ICRC loop covers up to 16 KiB after the BTH; with the check on,
 * longer packets are refused (no RoCE MTU comes near).
 */
TEST_F(rx, too_long_for_icrc)
{
	self->x.cfg.mtu = 0;
	ASSERT_EQ(0, set_config(&self->x));
	build_roce(&frame, &SPEC(variant, .payload = 16384));
	RUN(&frame, RXDP_CNT_DELIVERED, QP_RC);
	build_roce(&frame, &SPEC(variant, .payload = 16385));
	RUN(&frame, RXDP_CNT_BAD_LEN, 0);
}

/* ---- real rdma_rxe traffic ------------------------------------------ */

/*
 * Packets of rdma_rxe talking to itself over veths, captured by
 * fixtures/capture-rxe.sh and thinned by fixtures/trim-pcap.py.  Each
 * must be accepted, ICRC and all, by a QP of the type its opcode is for;
 * our own ICRC must agree with rxe's; and any bit flipped in it must make
 * the ICRC fail.
 */
FIXTURE(capture) {
	struct xdp_env x;
	char path[4096];
};

FIXTURE_VARIANT(capture) {
	const char *file;
};

FIXTURE_VARIANT_ADD(capture, rc) { "rxe-rc.pcap" };
FIXTURE_VARIANT_ADD(capture, rc_small) { "rxe-rc-small.pcap" };
FIXTURE_VARIANT_ADD(capture, rc_ipv6) { "rxe-rc-ipv6.pcap" };
FIXTURE_VARIANT_ADD(capture, rc_vlan) { "rxe-rc-vlan.pcap" };
FIXTURE_VARIANT_ADD(capture, uc) { "rxe-uc.pcap" };
FIXTURE_VARIANT_ADD(capture, ud) { "rxe-ud.pcap" };
FIXTURE_VARIANT_ADD(capture, ud_ipv6) { "rxe-ud-ipv6.pcap" };
FIXTURE_VARIANT_ADD(capture, send) { "rxe-send.pcap" };
FIXTURE_VARIANT_ADD(capture, write) { "rxe-write.pcap" };
FIXTURE_VARIANT_ADD(capture, write_small) { "rxe-write-small.pcap" };
FIXTURE_VARIANT_ADD(capture, read) { "rxe-read.pcap" };
FIXTURE_VARIANT_ADD(capture, read_small) { "rxe-read-small.pcap" };
FIXTURE_VARIANT_ADD(capture, fetch_add) { "rxe-atomic.pcap" };
FIXTURE_VARIANT_ADD(capture, compare_swap) { "rxe-cas.pcap" };

/*
 * $RXDP_FIXTURES, else fixtures/ beside the binary (installed), else
 * selftests/fixtures of the tree the binary is in.
 */
static int fixture_path(char *buf, size_t len, const char *file)
{
	const char *dir = getenv("RXDP_FIXTURES");
	char exe[4096], *slash;
	ssize_t n;

	if (dir)
		return snprintf(buf, len, "%s/%s", dir, file) >= (int)len ? -1 : 0;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -1;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = 0;
	/* installed, they are beside the binary */
	if (snprintf(buf, len, "%s/fixtures/%s", exe, file) < (int)len &&
	    access(buf, R_OK) == 0)
		return 0;
	/* in the tree, the binary is build/selftests/host_xdp */
	return snprintf(buf, len, "%s/../../selftests/fixtures/%s", exe,
			file) >= (int)len ? -1 : 0;
}

#define PCAP_MAGIC		0xa1b2c3d4
#define PCAP_LINKTYPE_ETHERNET	1

struct pcap {
	FILE *f;
};

static int pcap_open(struct pcap *p, const char *path)
{
	uint32_t hdr[6];

	p->f = fopen(path, "rb");
	if (!p->f)
		return -1;
	if (fread(hdr, sizeof(hdr), 1, p->f) != 1 || hdr[0] != PCAP_MAGIC ||
	    hdr[5] != PCAP_LINKTYPE_ETHERNET) {
		fclose(p->f);
		return -1;
	}
	return 0;
}

/* The next packet into f->b; 1, 0 at the end, -1 if damaged. */
static int pcap_next(struct pcap *p, struct frame *f)
{
	uint32_t rec[4];	/* seconds, microseconds, kept, length */

	if (fread(rec, sizeof(rec), 1, p->f) != 1)
		return 0;
	if (rec[2] != rec[3] || rec[2] > sizeof(f->b) ||
	    fread(f->b, rec[2], 1, p->f) != 1)
		return -1;
	f->len = rec[2];
	return 1;
}

/*
 * Find the headers of a captured RoCEv2 frame, with our own reading of
 * the formats.  Returns false when it is none.
 */
static bool parse_capture(struct frame *f)
{
	size_t off = 12, ip_len;
	uint16_t etype = get16(f->b + off);

	while (etype == ETYPE_8021Q || etype == ETYPE_8021AD) {
		off += VLAN_HLEN;
		etype = get16(f->b + off);
	}
	f->l3 = off + 2;
	if (etype == ETYPE_IP4) {
		f->ipv6 = false;
		f->l4 = f->l3 + (f->b[f->l3] & 0x0f) * 4;
		ip_len = get16(f->b + f->l3 + 2);
	} else if (etype == ETYPE_IP6) {
		f->ipv6 = true;
		f->l4 = f->l3 + IP6_HLEN;
		ip_len = IP6_HLEN + get16(f->b + f->l3 + 4);
	} else {
		return false;
	}
	if (get16(f->b + f->l4 + 2) != RXDP_ROCE_PORT)
		return false;
	f->bth = f->l4 + UDP_HLEN;
	f->ext = f->bth + BTH_LEN;
	f->icrc = f->l3 + ip_len - ICRC_LEN;
	return true;
}

/* Make the QP the captured packet is for, of the type its opcode says. */
/* The destination of a captured frame becomes one of the device's GIDs. */
static int add_capture_gid(struct xdp_env *x, const struct frame *f)
{
	struct rxdp_gid_key k = { .raw = { [10] = 0xff, [11] = 0xff } };

	if (f->ipv6)
		memcpy(k.raw, f->b + f->l3 + 24, 16);
	else
		memcpy(k.raw + 12, f->b + f->l3 + 16, 4);
	return put_gid(x, &k);
}

static uint32_t add_capture_qp(struct __test_metadata *_metadata,
			       struct xdp_env *x, const struct frame *f)
{
	const uint8_t *bth = f->b + f->bth;
	const struct opcode *op = find_op(bth[0]);
	struct rxdp_qp_entry e = {
		.qpn = (bth[5] << 16) | (bth[6] << 8) | bth[7],
		.state = RXDP_QPS_RTS,
		.port = 1,
		.dev_index = DEV_INDEX,
	};

	EXPECT_NE(NULL, op) TH_LOG("opcode %#x", bth[0]);
	if (!op)
		return 0;
	e.type = op->qpt;
	if (op->hdrs[0] == X_DETH)
		e.qkey = get16(f->b + f->ext) << 16 | get16(f->b + f->ext + 2);
	EXPECT_EQ(0, put_qp(x, &e));
	return e.qpn;
}

FIXTURE_SETUP(capture)
{
	if (!env_setup(_metadata, &self->x))
		return;
	ASSERT_EQ(0, fixture_path(self->path, sizeof(self->path),
				  variant->file));
	if (access(self->path, R_OK))
		SKIP(return, "no %.900s (set RXDP_FIXTURES)", self->path);
}

FIXTURE_TEARDOWN(capture)
{
}

TEST_F(capture, accepted)
{
	struct pcap p;
	int n = 0, ret;

	ASSERT_EQ(0, pcap_open(&p, self->path)) TH_LOG("%s", self->path);
	while ((ret = pcap_next(&p, &frame)) > 0) {
		uint32_t icrc, qpn;
		const uint8_t *c;

		ASSERT_TRUE(parse_capture(&frame)) TH_LOG("packet %d", n);
		c = frame.b + frame.icrc;
		icrc = c[0] | c[1] << 8 | c[2] << 16 | (uint32_t)c[3] << 24;
		EXPECT_EQ(icrc, frame_icrc(&frame))
			TH_LOG("packet %d: our ICRC differs from rxe's", n);
		ASSERT_EQ(0, add_capture_gid(&self->x, &frame));
		qpn = add_capture_qp(_metadata, &self->x, &frame);
		run_frame(_metadata, &self->x, &frame, 0, RXDP_CNT_DELIVERED,
			  qpn);
		if (!__test_passed(_metadata)) {
			TH_LOG("packet %d, opcode %#x", n, frame.b[frame.bth]);
			break;
		}
		n++;
	}
	fclose(p.f);
	EXPECT_EQ(0, ret);
	EXPECT_GT(n, 0);
}

/* One bit flipped in each of a few places of every packet. */
TEST_F(capture, corrupted)
{
	struct pcap p;
	int n = 0, ret;

	ASSERT_EQ(0, pcap_open(&p, self->path)) TH_LOG("%s", self->path);
	while ((ret = pcap_next(&p, &frame)) > 0) {
		size_t at[] = { frame.len - 1, 0, 0, 0 }, i;

		ASSERT_TRUE(parse_capture(&frame));
		at[1] = frame.bth + 3;		/* P_Key */
		at[2] = frame.l3 + (frame.ipv6 ? 24 : 16);	/* dest. addr */
		at[3] = frame.icrc - 1;		/* last byte before the ICRC */
		ASSERT_EQ(0, add_capture_gid(&self->x, &frame));
		add_capture_qp(_metadata, &self->x, &frame);
		for (i = 0; i < ARRAY_LEN(at); i++) {
			frame.b[at[i]] ^= 0x04;
			/* another destination is another endpoint's */
			run_frame(_metadata, &self->x, &frame, 0,
				  i == 2 ? RXDP_CNT_PASSED : RXDP_CNT_BAD_ICRC,
				  0);
			frame.b[at[i]] ^= 0x04;
		}
		if (!__test_passed(_metadata)) {
			TH_LOG("packet %d", n);
			break;
		}
		n++;
	}
	fclose(p.f);
	EXPECT_EQ(0, ret);
	EXPECT_GT(n, 0);
}

TEST_HARNESS_MAIN

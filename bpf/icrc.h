/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The RoCEv2 invariant CRC (IBA annex A17.3.3), computed in BPF.
 *
 * It is the CRC-32 of Ethernet (reflected polynomial 0xedb88320, all ones
 * in, complemented out) over
 *   - 8 bytes of 0xff, standing in for InfiniBand's masked LRH,
 *   - the IP header with its variant fields set to ones: IPv4 TOS, TTL and
 *     header checksum; IPv6 traffic class, flow label and hop limit,
 *   - the UDP header with the checksum set to ones,
 *   - the BTH with resv8a (the FECN/BECN byte) set to ones,
 *   - everything after the BTH up to the ICRC: extension headers, payload
 *     and pad,
 * and is sent least significant byte first, as the Ethernet FCS is.
 * IPv4 options, which rxe never sends, are covered like the rest of the
 * IP header.
 *
 * The CRC is table driven, eight bytes per step (slicing-by-8, tables
 * generated at build time by gen_crc32table.c).  Bytes after the headers
 * are first copied out with bpf_xdp_load_bytes(), which also reaches
 * into the fragments of a multi-buffer frame.
 */
#ifndef RXDP_BPF_ICRC_H
#define RXDP_BPF_ICRC_H

#include <bpf/bpf_helpers.h>

#include "parse.h"
#include "maps.h"
#include "crc32table.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "crc32_word() folds in 8 bytes read as a little-endian word"
#endif

/* The CRC state after 8 bytes of 0xff, starting from all ones. */
#define RXDP_ICRC_SEED		0xdebb20e3u

#define RXDP_EINVAL		22
#define RXDP_E2BIG		7

static __always_inline __u32 crc32_byte(__u32 crc, __u8 b)
{
	return rxdp_crc32_table[0][(crc ^ b) & 0xff] ^ (crc >> 8);
}

/* Fold in the eight bytes of w, its least significant byte first. */
static __always_inline __u32 crc32_word(__u32 crc, __u64 w)
{
	w ^= crc;
	return rxdp_crc32_table[7][w & 0xff] ^
	       rxdp_crc32_table[6][(w >> 8) & 0xff] ^
	       rxdp_crc32_table[5][(w >> 16) & 0xff] ^
	       rxdp_crc32_table[4][(w >> 24) & 0xff] ^
	       rxdp_crc32_table[3][(w >> 32) & 0xff] ^
	       rxdp_crc32_table[2][(w >> 40) & 0xff] ^
	       rxdp_crc32_table[1][(w >> 48) & 0xff] ^
	       rxdp_crc32_table[0][w >> 56];
}

/*
 * Fold in len bytes of an 8-byte aligned buffer.  With a constant len
 * this unrolls; with a variable one the buffer must reach 7 bytes past
 * the last whole word, as far as the verifier can tell.  The tail is
 * found from len, not from the word loop's counter, so the verifier sees
 * one state after the loop, whichever round it left in, and walks the
 * tail once.
 */
static __always_inline __u32 crc32_buf(__u32 crc, const __u64 *buf, __u32 len)
{
	const __u8 *tail = (const __u8 *)buf + (len & ~7u);
	__u32 i;

	for (i = 0; i < RXDP_MAX_FRAME / 8 && i < len / 8; i++)
		crc = crc32_word(crc, buf[i]);
	for (i = 0; i < 7 && i < len % 8; i++)
		crc = crc32_byte(crc, tail[i]);
	return crc;
}

/*
 * Fold in len bytes of the frame from offset off, fragments included.
 * Returns the CRC state, or a negative errno if the frame is shorter.
 *
 * A global function: the verifier checks it once, not once per caller
 * and path, which keeps the program's verification cost flat.
 */
__noinline long rxdp_crc32_frame(struct xdp_md *ctx, __u32 crc, __u64 off,
				 __u64 len)
{
	struct rxdp_crc_scratch *buf;
	__u32 zero = 0;

	if (!len)
		return crc;
	if (len > RXDP_MAX_FRAME || off > RXDP_MAX_FRAME)
		return -RXDP_E2BIG;
	buf = bpf_map_lookup_elem(&crc_scratch, &zero);
	if (!buf)
		return -RXDP_EINVAL;
	if (bpf_xdp_load_bytes(ctx, off, buf, len))
		return -RXDP_EINVAL;
	return crc32_buf(crc, buf->w, len);
}

/* The headers as the ICRC sees them: variant fields set to ones. */
struct rxdp_icrc_l4 {
	struct rxdp_udp_hdr	udp;
	struct rxdp_bth		bth;
};

union rxdp_icrc_ip4 {
	struct rxdp_ipv4_hdr	ip;
	__u64			w[(sizeof(struct rxdp_ipv4_hdr) + 7) / 8];
};

union rxdp_icrc_ip6 {
	struct rxdp_ipv6_hdr	ip;
	__u64			w[sizeof(struct rxdp_ipv6_hdr) / 8];
};

union rxdp_icrc_tp {
	struct rxdp_icrc_l4	l4;
	__u64			w[(sizeof(struct rxdp_icrc_l4) + 7) / 8];
};

/* IPv6 traffic class and flow label: all of the first word but version */
#define RXDP_IPV6_TC_FLOW_MASK	0x0fffffff
/* resv8a, the BTH byte in front of the destination QP */
#define RXDP_BTH_RESV8A_MASK	(~(__u32)RXDP_BTH_QPN_MASK)

/*
 * Check the ICRC of a parsed packet: its IP, UDP and BTH headers are in
 * the linear part of the frame, pkt->tp_len bytes from the BTH are in
 * the frame.  Returns 1 when the CRC matches, 0 when it does not, or a
 * negative errno if the frame could not be read.
 */
static __always_inline int rxdp_icrc_check(struct xdp_md *ctx,
					   const struct rxdp_pkt *pkt)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	union rxdp_icrc_tp tp = {};
	__u32 icrc_off, crc = RXDP_ICRC_SEED;
	__u8 want[RXDP_ICRC_LEN];
	long ret;
	void *l3;

	if (pkt->l3_off > RXDP_MAX_FRAME || pkt->l4_off > RXDP_MAX_FRAME)
		return -RXDP_EINVAL;
	l3 = data + pkt->l3_off;

	if (pkt->ipv6) {
		union rxdp_icrc_ip6 ip6 = {};

		if (l3 + sizeof(ip6.ip) > data_end)
			return -RXDP_EINVAL;
		ip6.ip = *(const struct rxdp_ipv6_hdr *)l3;
		ip6.ip.ver_tc_flow |= bpf_htonl(RXDP_IPV6_TC_FLOW_MASK);
		ip6.ip.hop_limit = 0xff;
		crc = crc32_buf(crc, ip6.w, sizeof(ip6.ip));
	} else {
		union rxdp_icrc_ip4 ip4 = {};

		if (l3 + sizeof(ip4.ip) > data_end)
			return -RXDP_EINVAL;
		ip4.ip = *(const struct rxdp_ipv4_hdr *)l3;
		ip4.ip.tos = 0xff;
		ip4.ip.ttl = 0xff;
		ip4.ip.check = 0xffff;
		crc = crc32_buf(crc, ip4.w, sizeof(ip4.ip));
		/* the options, between the fixed header and UDP */
		if (pkt->l3_hlen > sizeof(ip4.ip)) {
			ret = rxdp_crc32_frame(ctx, crc,
					       pkt->l3_off + sizeof(ip4.ip),
					       pkt->l3_hlen - sizeof(ip4.ip));
			if (ret < 0)
				return ret;
			crc = ret;
		}
	}

	if (data + pkt->l4_off + sizeof(tp.l4) > data_end)
		return -RXDP_EINVAL;
	tp.l4 = *(const struct rxdp_icrc_l4 *)(data + pkt->l4_off);
	tp.l4.udp.check = 0xffff;
	tp.l4.bth.qpn |= bpf_htonl(RXDP_BTH_RESV8A_MASK);
	crc = crc32_buf(crc, tp.w, sizeof(tp.l4));

	/* extension headers, payload and pad */
	icrc_off = pkt->bth_off + pkt->tp_len - RXDP_ICRC_LEN;
	ret = rxdp_crc32_frame(ctx, crc, pkt->bth_off + sizeof(struct rxdp_bth),
			       icrc_off - pkt->bth_off - sizeof(struct rxdp_bth));
	if (ret < 0)
		return ret;
	crc = ~(__u32)ret;

	if (bpf_xdp_load_bytes(ctx, icrc_off, want, sizeof(want)))
		return -RXDP_EINVAL;
	return crc == (want[0] | want[1] << 8 | want[2] << 16 |
		       (__u32)want[3] << 24);
}

#endif /* RXDP_BPF_ICRC_H */

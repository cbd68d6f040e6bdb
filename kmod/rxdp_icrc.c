// SPDX-License-Identifier: GPL-2.0
/*
 * The RoCEv2 invariant CRC, computed for each packet the module sends and
 * checked on each packet it is handed, when the XDP program leaves the
 * check to it.  It is the crypto API's "crc32", the architecture's
 * accelerated CRC where there is one (PCLMULQDQ on x86); lib crc32_le(),
 * a table walk on 6.12, when the crypto API has none.  The debugfs file
 * icrc_bench times both.
 *
 * The ICRC is the inverted CRC-32 over eight bytes of ones and then the
 * packet from the IP header through the pad, with the fields the network
 * may change set to ones: IPv4 TOS, TTL and header checksum; IPv6 traffic
 * class, flow label and hop limit; the UDP checksum; and the BTH byte
 * holding FECN, BECN and the reserved bits.
 */
#include <crypto/hash.h>
#include <linux/crc32.h>
#include <linux/ktime.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/unaligned.h>
#include <rdma/ib_pack.h>

#include "rxdp.h"

#define RXDP_ICRC_ONES		8
#define RXDP_IPV4_MAX_HLEN	60
#define RXDP_BTH_RESV8A		4	/* offset of the FECN/BECN byte */

static struct crypto_shash *rxdp_crc32_tfm;

/*
 * The CRC-32 of hdr, then of bytes [off, end) of the frame, from all ones
 * and not inverted: through the crypto API's crc32 (seeded with all ones)
 * unless lib is asked for.  Return: false for a range past the frame.
 */
static bool rxdp_crc32(const u8 *hdr, u32 hlen, const struct rxdp_frame *fr,
		       u32 off, u32 end, bool lib, u32 *crc)
{
	struct crypto_shash *tfm = lib ? NULL : READ_ONCE(rxdp_crc32_tfm);
	SHASH_DESC_ON_STACK(desc, tfm);
	const u8 *p;
	__le32 out;
	u32 k;

	if (tfm) {
		desc->tfm = tfm;
		if (crypto_shash_init(desc) ||
		    crypto_shash_update(desc, hdr, hlen))
			tfm = NULL;
	}
	if (!tfm)
		*crc = crc32_le(~0u, hdr, hlen);
	for (; off < end; off += k) {
		p = rxdp_frame_piece(fr, off, end - off, &k);
		if (!p)
			return false;
		if (!tfm)
			*crc = crc32_le(*crc, p, k);
		else if (crypto_shash_update(desc, p, k))
			return false;
	}
	if (tfm) {
		if (crypto_shash_final(desc, (u8 *)&out))
			return false;
		*crc = le32_to_cpu(out);
	}
	return true;
}

/* Copy the IP, UDP and BTH headers with the variant fields set to ones. */
static int rxdp_icrc_headers(u8 *dst, const u8 *l3, u32 ip_hlen, bool ipv6)
{
	if (ipv6) {
		if (ip_hlen != sizeof(struct ipv6hdr) || l3[0] >> 4 != 6)
			return -EINVAL;
		memcpy(dst, l3, ip_hlen + sizeof(struct udphdr) + IB_BTH_BYTES);
		dst[0] |= 0x0f;			/* traffic class, */
		memset(dst + 1, 0xff, 3);	/* flow label */
		dst[offsetof(struct ipv6hdr, hop_limit)] = 0xff;
	} else {
		if (ip_hlen < sizeof(struct iphdr) ||
		    ip_hlen > RXDP_IPV4_MAX_HLEN || l3[0] >> 4 != 4)
			return -EINVAL;
		memcpy(dst, l3, ip_hlen + sizeof(struct udphdr) + IB_BTH_BYTES);
		dst[offsetof(struct iphdr, tos)] = 0xff;
		dst[offsetof(struct iphdr, ttl)] = 0xff;
		memset(dst + offsetof(struct iphdr, check), 0xff, 2);
	}
	memset(dst + ip_hlen + offsetof(struct udphdr, check), 0xff, 2);
	dst[ip_hlen + sizeof(struct udphdr) + RXDP_BTH_RESV8A] = 0xff;
	return 0;
}

/* rxdp_icrc_calc() of a frame in pieces, through lib crc32_le() if lib. */
static int rxdp_icrc_calc_with(const struct rxdp_frame *fr, u32 l3_off,
			       u32 bth_off, u32 icrc_off, bool ipv6, u32 *icrc,
			       bool lib)
{
	u8 hdr[RXDP_ICRC_ONES + RXDP_IPV4_MAX_HLEN + sizeof(struct udphdr) +
	       IB_BTH_BYTES];
	u32 ip_hlen, rest_off, crc;

	if (bth_off < l3_off + sizeof(struct udphdr))
		return -EINVAL;
	ip_hlen = bth_off - l3_off - sizeof(struct udphdr);
	rest_off = bth_off + IB_BTH_BYTES;
	/* the headers are in the frame's first piece */
	if (icrc_off < rest_off || rest_off > fr->head)
		return -EINVAL;
	memset(hdr, 0xff, RXDP_ICRC_ONES);
	if (rxdp_icrc_headers(hdr + RXDP_ICRC_ONES, fr->data + l3_off, ip_hlen,
			      ipv6))
		return -EINVAL;
	if (!rxdp_crc32(hdr, RXDP_ICRC_ONES + ip_hlen + sizeof(struct udphdr) +
			IB_BTH_BYTES, fr, rest_off, icrc_off, lib, &crc))
		return -EINVAL;
	*icrc = ~crc;
	return 0;
}

/**
 * rxdp_icrc_calc - the ICRC of a packet in one linear buffer
 * @frame: the frame
 * @l3_off: where its IP header starts
 * @bth_off: where its BTH starts (after the UDP header)
 * @icrc_off: where its ICRC goes (after the pad)
 * @ipv6: IPv6, else IPv4
 * @icrc: the ICRC, as it is on the wire (little-endian)
 *
 * Context: any; does not sleep.
 * Return: 0, or -EINVAL for offsets that do not make a RoCEv2 packet.
 */
int rxdp_icrc_calc(const u8 *frame, u32 l3_off, u32 bth_off, u32 icrc_off,
		   bool ipv6, u32 *icrc)
{
	const struct rxdp_frame fr = { .data = (u8 *)frame, .head = icrc_off };

	return rxdp_icrc_calc_with(&fr, l3_off, bth_off, icrc_off, ipv6, icrc,
				   false);
}

/*
 * rdma_rxe before its fix (Linux 6.12 among them) sums a FLUSH's headers
 * twice into its ICRC: after the IBA's sum, once more from the BTH on, as
 * if they were its payload.  The ICRC of such a packet, from icrc, the
 * IBA's.
 */
static bool rxdp_icrc_rxe_flush(const struct rxdp_frame *fr,
				const struct rxdp_rx_info *info, u32 icrc_off,
				u32 icrc, u32 *rxe)
{
	u32 crc = ~icrc, off, k;
	const u8 *p;

	for (off = info->bth_off; off < icrc_off; off += k) {
		p = rxdp_frame_piece(fr, off, icrc_off - off, &k);
		if (!p)
			return false;
		crc = crc32_le(crc, p, k);
	}
	*rxe = ~crc;
	return true;
}

/**
 * rxdp_icrc_ok - does the packet carry the right ICRC?
 * @fr: the whole frame, its headers through the BTH in its first piece
 * @len: its length
 * @info: where its headers are, as XDP found them
 *
 * Context: any; does not sleep.
 */
bool rxdp_icrc_ok(const struct rxdp_frame *fr, u32 len,
		  const struct rxdp_rx_info *info)
{
	u32 icrc_off = info->payload_off + info->payload_len + info->pad;
	u32 icrc, k, i;
	u8 got[IB_ICRC_BYTES];

	if (icrc_off + IB_ICRC_BYTES > len ||
	    rxdp_icrc_calc_with(fr, info->l3_off, info->bth_off, icrc_off,
				info->flags & RXDP_RX_F_IPV6, &icrc, false))
		return false;
	/* the ICRC itself may straddle two pieces */
	for (i = 0; i < IB_ICRC_BYTES; i += k) {
		const u8 *p = rxdp_frame_piece(fr, icrc_off + i,
					       IB_ICRC_BYTES - i, &k);

		if (!p)
			return false;
		memcpy(got + i, p, k);
	}
	if (icrc == get_unaligned_le32(got))
		return true;
	/* a FLUSH from rdma_rxe: its opcode is in the first piece */
	return fr->data[info->bth_off] == IB_OPCODE_RC_FLUSH &&
	       rxdp_icrc_rxe_flush(fr, info, icrc_off, icrc, &icrc) &&
	       icrc == get_unaligned_le32(got);
}

/*
 * The crypto API's crc32, if it has one; lib crc32_le() does without.  Its
 * seed is the key, 0 unless set: the ICRC's is all ones.  One sum made
 * both ways must agree before the crypto API's is used.
 */
void rxdp_icrc_init(void)
{
	struct crypto_shash *tfm = crypto_alloc_shash("crc32", 0, 0);
	static const u8 probe[] = "rxdp: one CRC both ways, the same";
	const struct rxdp_frame fr = { .data = (u8 *)probe,
				       .head = sizeof(probe) };
	__le32 seed = cpu_to_le32(~0u);
	u32 crc, lib;

	if (IS_ERR(tfm)) {
		pr_info("rxdp: no crc32 in the crypto API (%ld): ICRC by crc32_le\n",
			PTR_ERR(tfm));
		return;
	}
	if (crypto_shash_setkey(tfm, (const u8 *)&seed, sizeof(seed))) {
		crypto_free_shash(tfm);
		pr_info("rxdp: crc32 takes no seed: ICRC by crc32_le\n");
		return;
	}
	rxdp_crc32_tfm = tfm;
	if (!rxdp_crc32(probe, 8, &fr, 8, sizeof(probe), false, &crc) ||
	    !rxdp_crc32(probe, 8, &fr, 8, sizeof(probe), true, &lib) ||
	    crc != lib) {
		rxdp_crc32_tfm = NULL;
		pr_warn("rxdp: %s disagrees with crc32_le: ICRC by crc32_le\n",
			crypto_shash_driver_name(tfm));
		crypto_free_shash(tfm);
	}
}

void rxdp_icrc_exit(void)
{
	if (rxdp_crc32_tfm)
		crypto_free_shash(rxdp_crc32_tfm);
	rxdp_crc32_tfm = NULL;
}

#define RXDP_ICRC_BENCH_ROUNDS	2000

/* Nanoseconds per ICRC of a packet of payload len, by either CRC. */
static u64 rxdp_icrc_time(const u8 *frame, u32 len, bool lib)
{
	u32 icrc_off = ETH_HLEN + sizeof(struct iphdr) + sizeof(struct udphdr) +
		       IB_BTH_BYTES + len;
	u32 icrc, i;

	const struct rxdp_frame fr = { .data = (u8 *)frame, .head = icrc_off };
	u64 t0 = ktime_get_ns();

	for (i = 0; i < RXDP_ICRC_BENCH_ROUNDS; i++)
		rxdp_icrc_calc_with(&fr, ETH_HLEN, ETH_HLEN +
				    sizeof(struct iphdr) +
				    sizeof(struct udphdr), icrc_off, false,
				    &icrc, lib);
	return div_u64(ktime_get_ns() - t0, RXDP_ICRC_BENCH_ROUNDS);
}

/**
 * rxdp_icrc_bench - time the ICRC by the crypto API and by crc32_le()
 * @m: where to print one line per payload size
 *
 * Context: process (a debugfs read).
 * Return: 0 or -ENOMEM.
 */
int rxdp_icrc_bench(struct seq_file *m)
{
	static const u32 sizes[] = { 0, 256, 1024, 4096 };
	struct crypto_shash *tfm = READ_ONCE(rxdp_crc32_tfm);
	struct iphdr *ip;
	u8 *frame;
	int i;

	frame = kzalloc(ETH_HLEN + 64 + 4096 + IB_ICRC_BYTES, GFP_KERNEL);
	if (!frame)
		return -ENOMEM;
	ip = (struct iphdr *)(frame + ETH_HLEN);
	ip->version = 4;
	ip->ihl = 5;
	seq_printf(m, "crypto: %s\n",
		   tfm ? crypto_shash_driver_name(tfm) : "none");
	seq_puts(m, "payload crypto_ns crc32_le_ns\n");
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		seq_printf(m, "%u %llu %llu\n", sizes[i],
			   tfm ? rxdp_icrc_time(frame, sizes[i], false) : 0,
			   rxdp_icrc_time(frame, sizes[i], true));
		cond_resched();
	}
	kfree(frame);
	return 0;
}

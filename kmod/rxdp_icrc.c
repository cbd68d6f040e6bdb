// SPDX-License-Identifier: GPL-2.0
/*
 * The RoCEv2 invariant CRC, computed for each packet the module sends and
 * checked on the copy it makes of each packet it is handed, when the XDP
 * program leaves the check to it, with the kernel's crc32_le(): compiled
 * C rather than a verified BPF loop, and accelerated by the architecture
 * where the kernel does that.
 *
 * The ICRC is the inverted CRC-32 over eight bytes of ones and then the
 * packet from the IP header through the pad, with the fields the network
 * may change set to ones: IPv4 TOS, TTL and header checksum; IPv6 traffic
 * class, flow label and hop limit; the UDP checksum; and the BTH byte
 * holding FECN, BECN and the reserved bits.
 */
#include <linux/crc32.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/unaligned.h>
#include <rdma/ib_pack.h>

#include "rxdp.h"

#define RXDP_ICRC_ONES		8
#define RXDP_IPV4_MAX_HLEN	60
#define RXDP_BTH_RESV8A		4	/* offset of the FECN/BECN byte */

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
	u8 hdr[RXDP_ICRC_ONES + RXDP_IPV4_MAX_HLEN + sizeof(struct udphdr) +
	       IB_BTH_BYTES];
	u32 ip_hlen, rest_off, crc;

	if (bth_off < l3_off + sizeof(struct udphdr))
		return -EINVAL;
	ip_hlen = bth_off - l3_off - sizeof(struct udphdr);
	rest_off = bth_off + IB_BTH_BYTES;
	if (icrc_off < rest_off)
		return -EINVAL;
	memset(hdr, 0xff, RXDP_ICRC_ONES);
	if (rxdp_icrc_headers(hdr + RXDP_ICRC_ONES, frame + l3_off, ip_hlen,
			      ipv6))
		return -EINVAL;

	crc = crc32_le(~0u, hdr, RXDP_ICRC_ONES + ip_hlen +
		       sizeof(struct udphdr) + IB_BTH_BYTES);
	crc = crc32_le(crc, frame + rest_off, icrc_off - rest_off);
	*icrc = ~crc;
	return 0;
}

/**
 * rxdp_icrc_ok - does the packet carry the right ICRC?
 * @frame: the whole frame
 * @len: its length
 * @info: where its headers are, as XDP found them
 *
 * Context: any; does not sleep.
 */
bool rxdp_icrc_ok(const u8 *frame, u32 len, const struct rxdp_rx_info *info)
{
	u32 icrc_off = info->payload_off + info->payload_len + info->pad;
	u32 icrc;

	if (icrc_off + IB_ICRC_BYTES > len ||
	    rxdp_icrc_calc(frame, info->l3_off, info->bth_off, icrc_off,
			   info->flags & RXDP_RX_F_IPV6, &icrc))
		return false;
	return icrc == get_unaligned_le32(frame + icrc_off);
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Building RoCEv2 frames in user space, for the benchmark and the tests:
 * big-endian stores, the RoCEv2 ICRC, and a whole UD or RC SEND frame.
 * Bit by bit and plain: these make test input, they are not a fast path.
 */
#ifndef RXDP_ROCE_FRAME_H
#define RXDP_ROCE_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ROCE_FRAME_MAX	20000	/* past any jumbo frame: tests make longer ones */

static inline void roce_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static inline void roce_put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* CRC-32 of Ethernet, one bit at a time; state in, state out. */
static inline uint32_t roce_crc32(uint32_t crc, const uint8_t *p, size_t n)
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
 * The RoCEv2 ICRC of the n bytes at l3, from the IP header up to the ICRC
 * (udp and bth are the offsets of those headers from l3): CRC-32 over 8
 * bytes of ones, then the packet with its variant fields set to ones.
 */
static inline uint32_t roce_icrc(const uint8_t *l3, size_t n, size_t udp,
				 size_t bth, bool ipv6)
{
	static const uint8_t ones[8] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
	};
	static uint8_t m[ROCE_FRAME_MAX];
	uint32_t crc;

	if (n > sizeof(m))
		return 0;
	memcpy(m, l3, n);
	if (ipv6) {
		m[0] |= 0x0f;			/* traffic class, */
		m[1] = m[2] = m[3] = 0xff;	/* flow label */
		m[7] = 0xff;			/* hop limit */
	} else {
		m[1] = 0xff;			/* TOS */
		m[8] = 0xff;			/* TTL */
		m[10] = m[11] = 0xff;		/* header checksum */
	}
	m[udp + 6] = m[udp + 7] = 0xff;		/* UDP checksum */
	m[bth + 4] = 0xff;			/* resv8a: FECN, BECN */

	crc = roce_crc32(0xffffffff, ones, sizeof(ones));
	return ~roce_crc32(crc, m, n);
}

/* Store the ICRC at p, least significant byte first as the FCS. */
static inline void roce_put_icrc(uint8_t *p, uint32_t icrc)
{
	p[0] = icrc;
	p[1] = icrc >> 8;
	p[2] = icrc >> 16;
	p[3] = icrc >> 24;
}

/* The IPv4 header checksum of the hlen bytes at ip. */
static inline uint16_t roce_ipv4_csum(const uint8_t *ip, size_t hlen)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < hlen; i += 2)
		if (i != 10)
			sum += ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/*
 * What roce_send_frame() builds: Ethernet, IPv4 or IPv6, UDP, BTH, DETH
 * (UD only), payload, ICRC.
 */
struct roce_send {
	uint8_t		dmac[6], smac[6];
	bool		rc;			/* RC SEND_ONLY, else UD's */
	bool		ipv6;
	uint32_t	saddr, daddr;		/* IPv4, host order */
	uint8_t		saddr6[16], daddr6[16];	/* IPv6 */
	uint32_t	dqpn, sqpn, qkey, psn;	/* sqpn, qkey: UD only */
	const uint8_t	*payload;
	size_t		len;
	bool		solicited;
	/* forged: any BTH opcode, and these bytes (up to 28) after the BTH */
	bool		forge;
	uint8_t		opcode;
	const uint8_t	*ext;
	size_t		ext_len;
};

#define ROCE_L3		14

/* Where the headers after IP start in such a frame. */
static inline size_t roce_send_l4(const struct roce_send *u)
{
	return ROCE_L3 + (u->ipv6 ? 40 : 20);
}

static inline size_t roce_send_payload(const struct roce_send *u)
{
	/* UDP, BTH, DETH or what a forged frame has */
	return roce_send_l4(u) + 8 + 12 +
	       (u->forge ? u->ext_len : u->rc ? 0 : 8);
}

/*
 * A UD or RC SEND_ONLY frame in f (ROCE_FRAME_MAX bytes), ICRC included,
 * or a forged one of any opcode and extension headers.
 * Returns its length, 0 when the payload does not fit.
 */
static inline size_t roce_send_frame(uint8_t *f, const struct roce_send *u)
{
	size_t l4 = roce_send_l4(u), pl = roce_send_payload(u);
	size_t pad = -u->len & 3, icrc = pl + u->len + pad;
	uint8_t *ip = f + ROCE_L3, *udp = f + l4;
	uint8_t *bth = udp + 8, *deth = bth + 12;

	if (icrc + 4 > ROCE_FRAME_MAX || (u->forge && u->ext_len > 28))
		return 0;
	memset(f, 0, icrc + 4);
	memcpy(f, u->dmac, 6);
	memcpy(f + 6, u->smac, 6);
	if (u->ipv6) {
		roce_put16(f + 12, 0x86dd);
		ip[0] = 0x60;
		roce_put16(ip + 4, icrc + 4 - l4);
		ip[6] = 17;
		ip[7] = 64;
		memcpy(ip + 8, u->saddr6, 16);
		memcpy(ip + 24, u->daddr6, 16);
	} else {
		roce_put16(f + 12, 0x0800);
		ip[0] = 0x45;
		ip[1] = 0x02;			/* ECT(0) */
		roce_put16(ip + 2, icrc + 4 - ROCE_L3);
		roce_put16(ip + 6, 0x4000);	/* DF */
		ip[8] = 64;
		ip[9] = 17;
		roce_put32(ip + 12, u->saddr);
		roce_put32(ip + 16, u->daddr);
		roce_put16(ip + 10, roce_ipv4_csum(ip, 20));
	}
	roce_put16(udp, 0xc001);
	roce_put16(udp + 2, 4791);
	roce_put16(udp + 4, icrc + 4 - l4);
	bth[0] = u->rc ? 0x04 : 0x64;		/* RC or UD SEND_ONLY */
	bth[1] = (u->solicited ? 0x80 : 0) | pad << 4;
	roce_put16(bth + 2, 0xffff);		/* default P_Key */
	roce_put32(bth + 4, u->dqpn & 0xffffff);
	roce_put32(bth + 8, u->psn & 0xffffff);
	if (u->forge) {
		bth[0] = u->opcode;
		if (u->ext_len)
			memcpy(deth, u->ext, u->ext_len);
	} else if (!u->rc) {
		roce_put32(deth, u->qkey);
		roce_put32(deth + 4, u->sqpn & 0xffffff);
	}
	if (u->len)
		memcpy(f + pl, u->payload, u->len);
	roce_put_icrc(f + icrc, roce_icrc(ip, icrc - ROCE_L3, l4 - ROCE_L3,
					  l4 + 8 - ROCE_L3, u->ipv6));
	return icrc + 4;
}

#endif /* RXDP_ROCE_FRAME_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Accessors of the InfiniBand transport headers (IBA 9.2-9.5): the BTH
 * and the extension headers, read from and written into a packet at any
 * alignment.  Offsets of the extension headers come from the opcode
 * table, which the XDP program shares.
 */
#ifndef RXDP_HDR_H
#define RXDP_HDR_H

#include <linux/unaligned.h>
#include <rdma/ib_pack.h>

#include "../include/rxdp_opcode.h"

#define RXDP_PSN_MASK		0xffffffu
#define RXDP_QPN_MASK24		0xffffffu

/* BTH byte 1: solicited event, migration state, pad count, version */
#define RXDP_BTH_SE		0x80
#define RXDP_BTH_MIG		0x40
#define RXDP_BTH_PAD_SHIFT	4
/* BTH byte 8: acknowledge request */
#define RXDP_BTH_ACKREQ		0x80

static inline u8 rxdp_bth_opcode(const u8 *bth)
{
	return bth[0];
}

static inline bool rxdp_bth_se(const u8 *bth)
{
	return bth[1] & RXDP_BTH_SE;
}

static inline u8 rxdp_bth_pad(const u8 *bth)
{
	return (bth[1] >> RXDP_BTH_PAD_SHIFT) & 3;
}

static inline u16 rxdp_bth_pkey(const u8 *bth)
{
	return get_unaligned_be16(bth + 2);
}

static inline u32 rxdp_bth_qpn(const u8 *bth)
{
	return get_unaligned_be32(bth + 4) & RXDP_QPN_MASK24;
}

static inline bool rxdp_bth_ackreq(const u8 *bth)
{
	return bth[8] & RXDP_BTH_ACKREQ;
}

static inline u32 rxdp_bth_psn(const u8 *bth)
{
	return get_unaligned_be32(bth + 8) & RXDP_PSN_MASK;
}

/* Write a whole BTH; FECN, BECN and the reserved bits are zero. */
static inline void rxdp_bth_set(u8 *bth, u8 opcode, bool se, u8 pad,
				u16 pkey, u32 qpn, bool ackreq, u32 psn)
{
	bth[0] = opcode;
	bth[1] = (se ? RXDP_BTH_SE : 0) | RXDP_BTH_MIG |
		 (pad << RXDP_BTH_PAD_SHIFT);
	put_unaligned_be16(pkey, bth + 2);
	put_unaligned_be32(qpn & RXDP_QPN_MASK24, bth + 4);
	put_unaligned_be32((ackreq ? (u32)RXDP_BTH_ACKREQ << 24 : 0) |
			   (psn & RXDP_PSN_MASK), bth + 8);
}

/* Where extension header h of an opcode starts, from the BTH. */
static inline u8 *rxdp_ext(u8 *bth, u8 opcode, u8 h)
{
	u8 ext = rxdp_opcodes[opcode].ext;

	return bth + IB_BTH_BYTES + RXDP_EXT_LEN(ext & (h - 1));
}

static inline const u8 *rxdp_ext_c(const u8 *bth, u8 opcode, u8 h)
{
	return rxdp_ext((u8 *)bth, opcode, h);
}

/* The BTH and extension headers of an opcode, in bytes. */
static inline u32 rxdp_hdr_len(u8 opcode)
{
	return IB_BTH_BYTES + rxdp_opcodes[opcode].ext_len;
}

/* DETH: Q_Key, source QP */
static inline void rxdp_deth_set(u8 *p, u32 qkey, u32 src_qpn)
{
	put_unaligned_be32(qkey, p);
	put_unaligned_be32(src_qpn & RXDP_QPN_MASK24, p + 4);
}

static inline u32 rxdp_deth_qkey(const u8 *p)
{
	return get_unaligned_be32(p);
}

static inline u32 rxdp_deth_sqp(const u8 *p)
{
	return get_unaligned_be32(p + 4) & RXDP_QPN_MASK24;
}

/*
 * FETH (IBA A19.4.1): the placement type in bits 3-0 (IB_FLUSH_GLOBAL,
 * IB_FLUSH_PERSISTENT), the selectivity level in bits 5-4 (a range of
 * the key, IB_FLUSH_RANGE, or all of it, IB_FLUSH_MR).
 */
#define RXDP_FETH_PLT_MASK	0x0f
#define RXDP_FETH_SEL_SHIFT	4
#define RXDP_FETH_SEL_MASK	0x30

static inline void rxdp_feth_set(u8 *p, u8 type, u8 level)
{
	put_unaligned_be32((type & RXDP_FETH_PLT_MASK) |
			   ((level << RXDP_FETH_SEL_SHIFT) &
			    RXDP_FETH_SEL_MASK), p);
}

static inline u32 rxdp_feth_plt(const u8 *p)
{
	return get_unaligned_be32(p) & RXDP_FETH_PLT_MASK;
}

static inline u32 rxdp_feth_sel(const u8 *p)
{
	return (get_unaligned_be32(p) & RXDP_FETH_SEL_MASK) >>
	       RXDP_FETH_SEL_SHIFT;
}

/* RETH: virtual address, R_Key, DMA length */
static inline void rxdp_reth_set(u8 *p, u64 va, u32 rkey, u32 len)
{
	put_unaligned_be64(va, p);
	put_unaligned_be32(rkey, p + 8);
	put_unaligned_be32(len, p + 12);
}

static inline u64 rxdp_reth_va(const u8 *p)
{
	return get_unaligned_be64(p);
}

static inline u32 rxdp_reth_rkey(const u8 *p)
{
	return get_unaligned_be32(p + 8);
}

static inline u32 rxdp_reth_len(const u8 *p)
{
	return get_unaligned_be32(p + 12);
}

/* AETH: syndrome, MSN */
static inline void rxdp_aeth_set(u8 *p, u8 syndrome, u32 msn)
{
	put_unaligned_be32((u32)syndrome << 24 | (msn & RXDP_PSN_MASK), p);
}

static inline u8 rxdp_aeth_syndrome(const u8 *p)
{
	return p[0];
}

static inline u32 rxdp_aeth_msn(const u8 *p)
{
	return get_unaligned_be32(p) & RXDP_PSN_MASK;
}

/* AtomicETH: virtual address, R_Key, swap or add, compare */
static inline void rxdp_atmeth_set(u8 *p, u64 va, u32 rkey, u64 swap_add,
				   u64 compare)
{
	put_unaligned_be64(va, p);
	put_unaligned_be32(rkey, p + 8);
	put_unaligned_be64(swap_add, p + 12);
	put_unaligned_be64(compare, p + 20);
}

static inline u64 rxdp_atmeth_va(const u8 *p)
{
	return get_unaligned_be64(p);
}

static inline u32 rxdp_atmeth_rkey(const u8 *p)
{
	return get_unaligned_be32(p + 8);
}

static inline u64 rxdp_atmeth_swap_add(const u8 *p)
{
	return get_unaligned_be64(p + 12);
}

static inline u64 rxdp_atmeth_compare(const u8 *p)
{
	return get_unaligned_be64(p + 20);
}

/* AtomicAckETH: the original value */
static inline void rxdp_atmack_set(u8 *p, u64 orig)
{
	put_unaligned_be64(orig, p);
}

static inline u64 rxdp_atmack_orig(const u8 *p)
{
	return get_unaligned_be64(p);
}

/* ImmDt and IETH are one 32-bit field each, kept in network order. */
static inline __be32 rxdp_be32_get(const u8 *p)
{
	return get_unaligned((const __be32 *)p);
}

static inline void rxdp_be32_set(u8 *p, __be32 v)
{
	put_unaligned(v, (__be32 *)p);
}

/* 24-bit PSN arithmetic: a - b as a signed distance across the wrap. */
static inline s32 rxdp_psn_diff(u32 a, u32 b)
{
	return (s32)((a - b) << 8) >> 8;
}

static inline u32 rxdp_psn_add(u32 psn, u32 n)
{
	return (psn + n) & RXDP_PSN_MASK;
}

#endif /* RXDP_HDR_H */

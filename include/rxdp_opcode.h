/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The BTH opcodes rxdp knows, as one table for the XDP program and the
 * module: for each opcode, which QP types may receive it, which extension
 * headers follow the BTH and whether a payload may follow them (IBA 9.2,
 * table 38 "opcodes", and the 1.5 memory placement extensions FLUSH and
 * ATOMIC WRITE).  An opcode whose entry is all zero (RD, CNP, reserved,
 * manufacturer specific) is not for rxdp.
 */
#ifndef RXDP_OPCODE_H
#define RXDP_OPCODE_H

#include "uapi/rxdp.h"

/* The opcode's top three bits are the transport, the other five the op. */
#define RXDP_TR_RC		0x00
#define RXDP_TR_UC		0x20
#define RXDP_TR_UD		0x60

enum rxdp_op {
	RXDP_OP_SEND_FIRST			= 0x00,
	RXDP_OP_SEND_MIDDLE			= 0x01,
	RXDP_OP_SEND_LAST			= 0x02,
	RXDP_OP_SEND_LAST_IMM			= 0x03,
	RXDP_OP_SEND_ONLY			= 0x04,
	RXDP_OP_SEND_ONLY_IMM			= 0x05,
	RXDP_OP_WRITE_FIRST			= 0x06,
	RXDP_OP_WRITE_MIDDLE			= 0x07,
	RXDP_OP_WRITE_LAST			= 0x08,
	RXDP_OP_WRITE_LAST_IMM			= 0x09,
	RXDP_OP_WRITE_ONLY			= 0x0a,
	RXDP_OP_WRITE_ONLY_IMM			= 0x0b,
	RXDP_OP_READ_REQUEST			= 0x0c,
	RXDP_OP_READ_RESPONSE_FIRST		= 0x0d,
	RXDP_OP_READ_RESPONSE_MIDDLE		= 0x0e,
	RXDP_OP_READ_RESPONSE_LAST		= 0x0f,
	RXDP_OP_READ_RESPONSE_ONLY		= 0x10,
	RXDP_OP_ACKNOWLEDGE			= 0x11,
	RXDP_OP_ATOMIC_ACKNOWLEDGE		= 0x12,
	RXDP_OP_COMPARE_SWAP			= 0x13,
	RXDP_OP_FETCH_ADD			= 0x14,
	RXDP_OP_SEND_LAST_INV			= 0x16,
	RXDP_OP_SEND_ONLY_INV			= 0x17,
	RXDP_OP_FLUSH				= 0x1c,
	RXDP_OP_ATOMIC_WRITE			= 0x1d,
};

/*
 * Extension headers, one bit each, in the order they follow the BTH on
 * the wire, so that a header's offset is the length of the present
 * headers with lower bits (RDETH, which would come first, is RD only).
 */
enum rxdp_ext {
	RXDP_EXT_DETH	= 1 << 0,	/* datagram: Q_Key, source QP */
	RXDP_EXT_FETH	= 1 << 1,	/* flush */
	RXDP_EXT_RETH	= 1 << 2,	/* RDMA: VA, R_Key, length */
	RXDP_EXT_ATMETH	= 1 << 3,	/* atomic: VA, R_Key, swap/add, compare */
	RXDP_EXT_AETH	= 1 << 4,	/* ack: syndrome, MSN */
	RXDP_EXT_ATMACK	= 1 << 5,	/* atomic ack: original data */
	RXDP_EXT_IMMDT	= 1 << 6,	/* immediate data */
	RXDP_EXT_IETH	= 1 << 7,	/* invalidate: R_Key */
};

#define RXDP_DETH_LEN		8
#define RXDP_FETH_LEN		4
#define RXDP_RETH_LEN		16
#define RXDP_ATMETH_LEN		28
#define RXDP_AETH_LEN		4
#define RXDP_ATMACK_LEN		8
#define RXDP_IMMDT_LEN		4
#define RXDP_IETH_LEN		4

/* Bytes taken by the extension headers in the set e; a constant. */
#define RXDP_EXT_LEN(e)							\
	((((e) & RXDP_EXT_DETH) ? RXDP_DETH_LEN : 0) +			\
	 (((e) & RXDP_EXT_FETH) ? RXDP_FETH_LEN : 0) +			\
	 (((e) & RXDP_EXT_RETH) ? RXDP_RETH_LEN : 0) +			\
	 (((e) & RXDP_EXT_ATMETH) ? RXDP_ATMETH_LEN : 0) +		\
	 (((e) & RXDP_EXT_AETH) ? RXDP_AETH_LEN : 0) +			\
	 (((e) & RXDP_EXT_ATMACK) ? RXDP_ATMACK_LEN : 0) +		\
	 (((e) & RXDP_EXT_IMMDT) ? RXDP_IMMDT_LEN : 0) +		\
	 (((e) & RXDP_EXT_IETH) ? RXDP_IETH_LEN : 0))

/* Offset from the end of the BTH of extension header h in the set e. */
#define RXDP_EXT_OFF(e, h)	RXDP_EXT_LEN((e) & ((h) - 1))

/* QP types, as bits of rxdp_opcode_info.qp_types */
#define RXDP_QPT_BIT(t)		(1u << (t))
#define RXDP_OP_RC		RXDP_QPT_BIT(RXDP_QPT_RC)
#define RXDP_OP_UC		RXDP_QPT_BIT(RXDP_QPT_UC)
#define RXDP_OP_UD		(RXDP_QPT_BIT(RXDP_QPT_UD) | RXDP_QPT_BIT(RXDP_QPT_GSI))

/* rxdp_opcode_info.flags */
#define RXDP_OPF_PAYLOAD	0x01	/* may carry a payload */

struct rxdp_opcode_info {
	__u8	qp_types;	/* RXDP_QPT_BIT()s that may receive it; 0: none */
	__u8	ext;		/* enum rxdp_ext set */
	__u8	ext_len;	/* RXDP_EXT_LEN(ext) */
	__u8	flags;		/* RXDP_OPF_* */
};

#define OP(tr, op, exts, fl)						\
	[RXDP_TR_##tr | RXDP_OP_##op] = {				\
		.qp_types = RXDP_OP_##tr,				\
		.ext = (exts),						\
		.ext_len = RXDP_EXT_LEN(exts),				\
		.flags = (fl),						\
	}
#define PL	RXDP_OPF_PAYLOAD

/* Sends and writes, the same for RC and UC. */
#define RXDP_SEND_WRITE_OPS(tr)						\
	OP(tr, SEND_FIRST,	0,				PL),	\
	OP(tr, SEND_MIDDLE,	0,				PL),	\
	OP(tr, SEND_LAST,	0,				PL),	\
	OP(tr, SEND_LAST_IMM,	RXDP_EXT_IMMDT,			PL),	\
	OP(tr, SEND_ONLY,	0,				PL),	\
	OP(tr, SEND_ONLY_IMM,	RXDP_EXT_IMMDT,			PL),	\
	OP(tr, WRITE_FIRST,	RXDP_EXT_RETH,			PL),	\
	OP(tr, WRITE_MIDDLE,	0,				PL),	\
	OP(tr, WRITE_LAST,	0,				PL),	\
	OP(tr, WRITE_LAST_IMM,	RXDP_EXT_IMMDT,			PL),	\
	OP(tr, WRITE_ONLY,	RXDP_EXT_RETH,			PL),	\
	OP(tr, WRITE_ONLY_IMM,	RXDP_EXT_RETH | RXDP_EXT_IMMDT,	PL)

static const struct rxdp_opcode_info rxdp_opcodes[256] = {
	RXDP_SEND_WRITE_OPS(RC),
	OP(RC, READ_REQUEST,		RXDP_EXT_RETH,			0),
	OP(RC, READ_RESPONSE_FIRST,	RXDP_EXT_AETH,			PL),
	OP(RC, READ_RESPONSE_MIDDLE,	0,				PL),
	OP(RC, READ_RESPONSE_LAST,	RXDP_EXT_AETH,			PL),
	OP(RC, READ_RESPONSE_ONLY,	RXDP_EXT_AETH,			PL),
	OP(RC, ACKNOWLEDGE,		RXDP_EXT_AETH,			0),
	OP(RC, ATOMIC_ACKNOWLEDGE,	RXDP_EXT_AETH | RXDP_EXT_ATMACK, 0),
	OP(RC, COMPARE_SWAP,		RXDP_EXT_ATMETH,		0),
	OP(RC, FETCH_ADD,		RXDP_EXT_ATMETH,		0),
	OP(RC, SEND_LAST_INV,		RXDP_EXT_IETH,			PL),
	OP(RC, SEND_ONLY_INV,		RXDP_EXT_IETH,			PL),
	OP(RC, FLUSH,			RXDP_EXT_FETH | RXDP_EXT_RETH,	0),
	OP(RC, ATOMIC_WRITE,		RXDP_EXT_RETH,			PL),

	RXDP_SEND_WRITE_OPS(UC),

	OP(UD, SEND_ONLY,		RXDP_EXT_DETH,			PL),
	OP(UD, SEND_ONLY_IMM,		RXDP_EXT_DETH | RXDP_EXT_IMMDT,	PL),
};

#undef PL
#undef OP

#endif /* RXDP_OPCODE_H */

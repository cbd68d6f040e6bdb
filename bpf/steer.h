/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Handing a validated packet to the module.
 *
 * The module registers, for BPF_PROG_TYPE_XDP,
 *
 *	int rxdp_xdp_steer(struct xdp_md *ctx, struct rxdp_rx_info *info,
 *			   u32 info__sz);
 *
 * which hands the packet to QP info->qpn (slot info->slot): its
 * responder takes it from the frame there and then, or a copy of it
 * waits on the QP's receive queue.  It returns 0, -ENOSPC when that
 * queue is full, or another negative errno.  info__sz is sizeof(*info),
 * so the module can refuse a layout it does not know.  The program then
 * drops the frame: the module keeps nothing of it but a copy.
 *
 * The declaration is weak: where the module is not loaded (the host
 * tests) libbpf resolves it to zero, the call is dead code the verifier
 * removes, and the program counts the packet delivered and drops it.
 *
 * Whether the module is there is not asked with "if (rxdp_xdp_steer)":
 * libbpf 1.1 relocates that address load against vmlinux BTF even for a
 * module kfunc, and the kernel refuses the program ("ldimm64 insn
 * specifies invalid btf_id"); libbpf 1.2 fixed it along with adding
 * bpf_ksym_exists().  Instead a CO-RE relocation asks whether the
 * kernel's BTF knows struct rxdp_rx_info, which only the module's BTF
 * has (its kfunc takes one).  libbpf resolves that to a constant at load
 * time, so the verifier still sees only one of the two branches.
 */
#ifndef RXDP_BPF_STEER_H
#define RXDP_BPF_STEER_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include <uapi/rxdp.h>

#define RXDP_ENOSPC	28
#define RXDP_EBADMSG	74

extern int rxdp_xdp_steer(struct xdp_md *ctx, struct rxdp_rx_info *info,
			  __u32 info__sz) __ksym __weak;

/* Is the module there?  A constant once libbpf has loaded the program. */
static __always_inline bool rxdp_module_loaded(void)
{
	return bpf_core_type_exists(struct rxdp_rx_info);
}

/*
 * Returns the counter the packet moves: delivered, queue full, bad ICRC
 * (when the module checked it), error.
 *
 * The module test comes first and info is filled in only behind it:
 * clang cannot know the relocated constant, and would otherwise build
 * info on every packet even where the verifier then drops the call.
 */
static __always_inline enum rxdp_counter
rxdp_steer(struct xdp_md *ctx, const struct rxdp_pkt *pkt)
{
	struct rxdp_rx_info info;
	int ret;

	if (!rxdp_module_loaded())
		return RXDP_CNT_DELIVERED;	/* no module */

	info = (struct rxdp_rx_info){
		.qpn		= pkt->qpn,
		.slot		= RXDP_QP_SLOT(pkt->qpn),
		.psn		= pkt->psn,
		.flags		= (pkt->ipv6 ? RXDP_RX_F_IPV6 : 0) |
				  (pkt->icrc_ok ? RXDP_RX_F_ICRC_OK : 0) |
				  (pkt->icrc_module ? RXDP_RX_F_ICRC_CHECK : 0),
		.l3_off		= pkt->l3_off,
		.bth_off	= pkt->bth_off,
		.payload_off	= pkt->bth_off + pkt->hdr_len,
		.payload_len	= pkt->payload_len,
		.opcode		= pkt->opcode,
		.pad		= pkt->pad,
		.hdr_len	= pkt->hdr_len,
	};
	ret = rxdp_xdp_steer(ctx, &info, sizeof(info));
	if (!ret)
		return RXDP_CNT_DELIVERED;
	if (ret == -RXDP_ENOSPC)
		return RXDP_CNT_QUEUE_FULL;
	return ret == -RXDP_EBADMSG ? RXDP_CNT_BAD_ICRC : RXDP_CNT_STEER_ERR;
}

#endif /* RXDP_BPF_STEER_H */

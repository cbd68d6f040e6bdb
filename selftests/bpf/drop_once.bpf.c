// SPDX-License-Identifier: GPL-2.0
/*
 * A tc egress program that loses frames as a link would: the first
 * `left` RoCEv2 frames over IPv4 to QP `qpn` with PSN `psn` (and BTH
 * opcode `opcode`, unless 0xff) are taken off the wire; the rest pass.
 * The sender's dev_queue_xmit() sees the frame leave (TC_ACT_STOLEN), as
 * it sees one a link loses.  User space sets the fields in .bss and reads
 * `lost` (vm_wire's port counter tests).
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include <uapi/rxdp.h>

#define TC_ACT_OK	0
#define TC_ACT_STOLEN	4
#define ETH_P_IP	0x0800

__u32 qpn, psn, opcode, left, lost;

SEC("tc")
int drop_once(struct __sk_buff *skb)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	__u8 *bth = (void *)(udp + 1);

	if ((void *)(bth + 12) > data_end ||
	    eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 ||
	    ip->protocol != IPPROTO_UDP ||
	    udp->dest != bpf_htons(RXDP_ROCE_PORT))
		return TC_ACT_OK;
	if ((opcode != 0xff && bth[0] != opcode) ||
	    ((__u32)bth[5] << 16 | (__u32)bth[6] << 8 | bth[7]) != qpn ||
	    ((__u32)bth[9] << 16 | (__u32)bth[10] << 8 | bth[11]) != psn)
		return TC_ACT_OK;
	if (!left)
		return TC_ACT_OK;
	left--;
	lost++;
	return TC_ACT_STOLEN;
}

char LICENSE[] SEC("license") = "GPL";

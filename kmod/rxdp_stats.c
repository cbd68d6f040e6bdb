// SPDX-License-Identifier: GPL-2.0
/*
 * The device's transport counters, shown by the RDMA core as the port's
 * hw counters (`rdma statistic show link <dev>/1`, and
 * /sys/class/infiniband/<dev>/ports/1/hw_counters/).  Where a counter
 * means what one of rdma_rxe's means, it has rxe's name (ack_deferred,
 * rdma_sends and rdma_recvs too, whose names say less than what rxe
 * counts in them).  README.md lists what each one counts.
 *
 * Packets count what reaches the transport: a frame the XDP program
 * drops (its rx_counters, `rxdpctl stats`) never reaches the module, as
 * a packet with a bad header never reaches rxe's transport; but the
 * module checks the ICRC itself, and counts what fails.  Bytes are the
 * transport's, BTH through ICRC, as qp_table's rx_bytes.
 *
 * Per-CPU: they are bumped on the packet paths of every CPU, with no
 * shared cache line and no atomic.
 */
#include "rxdp.h"

static const struct rdma_stat_desc rxdp_stat_descs[RXDP_CNT_NUM] = {
	[RXDP_CNT_SENT_PKTS]		= { .name = "sent_pkts" },
	[RXDP_CNT_RCVD_PKTS]		= { .name = "rcvd_pkts" },
	[RXDP_CNT_DUP_REQ]		= { .name = "duplicate_request" },
	[RXDP_CNT_OUT_OF_SEQ_REQ]	= { .name = "out_of_seq_request" },
	[RXDP_CNT_RCV_RNR]		= { .name = "rcvd_rnr_err" },
	[RXDP_CNT_SND_RNR]		= { .name = "send_rnr_err" },
	[RXDP_CNT_RCV_SEQ_ERR]		= { .name = "rcvd_seq_err" },
	[RXDP_CNT_ANSWERS]		= { .name = "ack_deferred" },
	[RXDP_CNT_RETRY_EXCEEDED]	= { .name = "retry_exceeded_err" },
	[RXDP_CNT_RNR_RETRY_EXCEEDED]	= { .name = "retry_rnr_exceeded_err" },
	[RXDP_CNT_COMP_RETRY]		= { .name = "completer_retry_err" },
	[RXDP_CNT_SEND_ERR]		= { .name = "send_err" },
	[RXDP_CNT_LINK_DOWNED]		= { .name = "link_downed" },
	[RXDP_CNT_SENDS_DONE]		= { .name = "rdma_sends" },
	[RXDP_CNT_RECVS_DONE]		= { .name = "rdma_recvs" },
	[RXDP_CNT_ACK_TIMEOUT]		= { .name = "local_ack_timeout_err" },
	[RXDP_CNT_TX_WAIT]		= { .name = "tx_frames_waits" },
	[RXDP_CNT_RX_FULL]		= { .name = "rx_queue_full" },
	[RXDP_CNT_FLUSH_PERSISTED]	= { .name = "flush_persisted_bytes" },
	[RXDP_CNT_SENT_BYTES]		= { .name = "sent_bytes" },
	[RXDP_CNT_RCVD_BYTES]		= { .name = "rcvd_bytes" },
	[RXDP_CNT_RESENT_PKTS]		= { .name = "resent_pkts" },
	[RXDP_CNT_RCVD_ICRC_ERR]	= { .name = "rcvd_icrc_err" },
};

int rxdp_stats_init(struct rxdp_dev *rdev)
{
	rdev->stats = alloc_percpu(struct rxdp_stats);
	return rdev->stats ? 0 : -ENOMEM;
}

void rxdp_stats_free(struct rxdp_dev *rdev)
{
	free_percpu(rdev->stats);
	rdev->stats = NULL;
}

/* The sum over the CPUs of one counter. */
u64 rxdp_stat_read(struct rxdp_dev *rdev, enum rxdp_tp_counter c)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu_ptr(rdev->stats, cpu)->c[c]);
	return sum;
}

static struct rdma_hw_stats *rxdp_alloc_hw_port_stats(struct ib_device *ibdev,
						      u32 port)
{
	return rdma_alloc_hw_stats_struct(rxdp_stat_descs, RXDP_CNT_NUM,
					  RDMA_HW_STATS_DEFAULT_LIFESPAN);
}

static int rxdp_get_hw_stats(struct ib_device *ibdev,
			     struct rdma_hw_stats *stats, u32 port, int index)
{
	struct rxdp_dev *rdev = to_rdev(ibdev);
	int i;

	for (i = 0; i < RXDP_CNT_NUM; i++)
		stats->value[i] = rxdp_stat_read(rdev, i);
	return RXDP_CNT_NUM;
}

const struct ib_device_ops rxdp_stats_ops = {
	.alloc_hw_port_stats = rxdp_alloc_hw_port_stats,
	.get_hw_stats = rxdp_get_hw_stats,
};

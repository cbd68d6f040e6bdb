// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs: rxdp/<device>/qps lists every QP of a device.  The iterator
 * holds a reference on the QP it is at, so QPs may come and go meanwhile.
 * rxdp/<device>/qpn_last is the last QP number handed out; writing it
 * makes the numbers go on from there (for tests of the rotation).
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "rxdp.h"

static struct dentry *rxdp_debugfs_root;

static const char *const rxdp_qpt_names[] = {
	[IB_QPT_SMI] = "SMI", [IB_QPT_GSI] = "GSI", [IB_QPT_RC] = "RC",
	[IB_QPT_UC] = "UC", [IB_QPT_UD] = "UD",
};

static const char *const rxdp_qps_names[] = {
	[IB_QPS_RESET] = "RESET", [IB_QPS_INIT] = "INIT", [IB_QPS_RTR] = "RTR",
	[IB_QPS_RTS] = "RTS", [IB_QPS_SQD] = "SQD", [IB_QPS_SQE] = "SQE",
	[IB_QPS_ERR] = "ERR",
};

/*
 * *pos: 0 is the header; n > 0 means "continue from QPN n - 1".
 */
static void *rxdp_qps_start(struct seq_file *m, loff_t *pos)
{
	struct rxdp_dev *rdev = m->private;
	unsigned long qpn;
	struct rxdp_qp *qp;

	if (*pos == 0)
		return SEQ_START_TOKEN;
	qpn = *pos - 1;
	qp = rxdp_qp_next(&rdev->qpn, &qpn);
	if (qp)
		*pos = qpn + 1;
	return qp;
}

static void *rxdp_qps_next(struct seq_file *m, void *v, loff_t *pos)
{
	if (v != SEQ_START_TOKEN) {
		*pos = to_rqp(v)->ibqp.qp_num + 2;
		rxdp_qp_put(v);
	} else {
		*pos = 1;
	}
	return rxdp_qps_start(m, pos);
}

static void rxdp_qps_stop(struct seq_file *m, void *v)
{
	if (v && v != SEQ_START_TOKEN)
		rxdp_qp_put(v);
}

static int rxdp_qps_show(struct seq_file *m, void *v)
{
	struct rxdp_qp *qp = v;
	enum ib_qp_state state;
	s64 rx;

	if (v == SEQ_START_TOKEN) {
		seq_puts(m, "qpn\ttype\tstate\tsq_psn\trq_psn\tdest_qpn\tsq\trq\trx_queued\trx_pkts\trx_copied\trx_full\trx_dropped\treq_psn\tcomp_psn\tresp_psn\tinflight\towner\n");
		return 0;
	}
	state = READ_ONCE(qp->state);
	seq_printf(m, "%u\t%s\t%s\t%u\t%u\t%u\t%u/%u\t",
		   qp->ibqp.qp_num, rxdp_qpt_names[qp->ibqp.qp_type],
		   rxdp_qps_names[state], qp->attr.sq_psn, qp->attr.rq_psn,
		   qp->attr.dest_qp_num,
		   rxdp_queue_count(&qp->sq.q, rxdp_queue_load_prod(&qp->sq.q),
				    qp->sq.q.cons),
		   qp->sq.max_wr);
	if (qp->srq)
		seq_puts(m, "srq\t");
	else
		seq_printf(m, "%u/%u\t",
			   rxdp_queue_count(&qp->rq.q,
					    rxdp_queue_load_prod(&qp->rq.q),
					    qp->rq.q.cons),
			   qp->rq.max_wr);
	rx = atomic64_read(&qp->rx_packets);
	seq_printf(m, "%lld\t%lld\t%lld\t%lld\t%lld\t",
		   rx - atomic64_read(&qp->rx_consumed), rx,
		   atomic64_read(&qp->rx_copied), atomic64_read(&qp->rx_full),
		   atomic64_read(&qp->rx_dropped));
	/* the transport, read without its locks: a snapshot */
	seq_printf(m, "%u\t%u\t%u\t%d\t", READ_ONCE(qp->req_psn),
		   READ_ONCE(qp->comp_psn), READ_ONCE(qp->resp_psn),
		   atomic_read(&qp->tx->inflight));
	if (qp->owner)
		seq_printf(m, "%d:%s\n", qp->owner, qp->comm);
	else
		seq_puts(m, "kernel\n");
	return 0;
}

static const struct seq_operations rxdp_qps_sops = {
	.start = rxdp_qps_start,
	.next = rxdp_qps_next,
	.stop = rxdp_qps_stop,
	.show = rxdp_qps_show,
};
DEFINE_SEQ_ATTRIBUTE(rxdp_qps);

static int rxdp_qpn_last_get(void *data, u64 *val)
{
	struct rxdp_dev *rdev = data;

	*val = rxdp_qpn_last(&rdev->qpn);
	return 0;
}

static int rxdp_qpn_last_set(void *data, u64 val)
{
	struct rxdp_dev *rdev = data;

	if (val > U32_MAX)
		return -EINVAL;
	return rxdp_qpn_set_last(&rdev->qpn, val);
}

DEFINE_DEBUGFS_ATTRIBUTE(rxdp_qpn_last_fops, rxdp_qpn_last_get,
			 rxdp_qpn_last_set, "0x%06llx\n");

void rxdp_debugfs_add_dev(struct rxdp_dev *rdev)
{
	rdev->debugfs = debugfs_create_dir(dev_name(&rdev->ib_dev.dev),
					   rxdp_debugfs_root);
	debugfs_create_file("qps", 0400, rdev->debugfs, rdev, &rxdp_qps_fops);
	debugfs_create_file_unsafe("qpn_last", 0600, rdev->debugfs, rdev,
				   &rxdp_qpn_last_fops);
}

void rxdp_debugfs_remove_dev(struct rxdp_dev *rdev)
{
	debugfs_remove_recursive(rdev->debugfs);
	rdev->debugfs = NULL;
}

static int rxdp_icrc_bench_show(struct seq_file *m, void *v)
{
	return rxdp_icrc_bench(m);
}
DEFINE_SHOW_ATTRIBUTE(rxdp_icrc_bench);

void rxdp_debugfs_init(void)
{
	rxdp_debugfs_root = debugfs_create_dir("rxdp", NULL);
	debugfs_create_file("icrc_bench", 0400, rxdp_debugfs_root, NULL,
			    &rxdp_icrc_bench_fops);
}

void rxdp_debugfs_exit(void)
{
	debugfs_remove_recursive(rxdp_debugfs_root);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * rxdp module entry: the "rxdp" rdma link type.
 */
#include <linux/module.h>
#include <rdma/rdma_netlink.h>

#include "rxdp.h"

unsigned int rxdp_max_qp = RXDP_MAX_QP_DEFAULT;
module_param_named(max_qp, rxdp_max_qp, uint, 0444);
MODULE_PARM_DESC(max_qp, "QPs per device, QP1 included (default and most 65535)");

static int rxdp_newlink(const char *ibdev_name, struct net_device *ndev)
{
	return rxdp_dev_add(ibdev_name, ndev);
}

static struct rdma_link_ops rxdp_link_ops = {
	.type = "rxdp",
	.newlink = rxdp_newlink,
};

static int __init rxdp_init(void)
{
	int err;

	if (rxdp_max_qp < 2 || rxdp_max_qp > RXDP_QPN_MAX_QPS) {
		pr_err("rxdp: max_qp must be within 2..%u\n",
		       RXDP_QPN_MAX_QPS);
		return -EINVAL;
	}
	err = rxdp_lo_init();
	if (err)
		return err;
	/* nothing they reach needs more than the module loaded */
	err = rxdp_kfuncs_register();
	if (err)
		goto err_lo;
	rxdp_icrc_init();
	rxdp_debugfs_init();
	err = rxdp_net_init();
	if (err)
		goto err_debugfs;

	rdma_link_register(&rxdp_link_ops);
	return 0;

err_debugfs:
	rxdp_debugfs_exit();
	rxdp_icrc_exit();
err_lo:
	rxdp_lo_exit();
	return err;
}

static void __exit rxdp_exit(void)
{
	/* no new device after this; then remove the ones there are */
	rdma_link_unregister(&rxdp_link_ops);
	rxdp_dev_remove_all();
	rxdp_net_exit();
	rxdp_tx_exit();
	rxdp_debugfs_exit();
	rxdp_icrc_exit();
	rxdp_lo_exit();
}

module_init(rxdp_init);
module_exit(rxdp_exit);

MODULE_ALIAS_RDMA_LINK("rxdp");
MODULE_DESCRIPTION("Software RoCEv2 device with an XDP receive path");
MODULE_LICENSE("GPL");

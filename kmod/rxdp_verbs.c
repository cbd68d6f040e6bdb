// SPDX-License-Identifier: GPL-2.0
/*
 * rxdp verbs entry points: device and port queries, contexts and
 * protection domains, and the table of every verb.
 */
#include <rdma/ib_addr.h>
#include <rdma/ib_mad.h>
#include <rdma/uverbs_ioctl.h>
#include <rdma/rdma_user_rxe.h>

#include "rxdp.h"

static int rxdp_query_device(struct ib_device *ibdev,
			     struct ib_device_attr *attr,
			     struct ib_udata *udata)
{
	if (udata->inlen || udata->outlen)
		return -EINVAL;
	*attr = to_rdev(ibdev)->attr;
	return 0;
}

static int rxdp_query_port(struct ib_device *ibdev, u32 port,
			   struct ib_port_attr *attr)
{
	struct rxdp_dev *rdev = to_rdev(ibdev);
	struct net_device *ndev;

	/* ib_core zeroed *attr */
	attr->max_mtu = IB_MTU_4096;
	attr->gid_tbl_len = RXDP_GID_TBL_LEN;
	attr->port_cap_flags = IB_PORT_CM_SUP | IB_PORT_DEVICE_MGMT_SUP |
			       IB_PORT_VENDOR_CLASS_SUP;
	attr->max_msg_sz = RXDP_MAX_MSG_SZ;
	attr->pkey_tbl_len = RXDP_PKEYS;
	attr->max_vl_num = 1;

	ndev = ib_device_get_netdev(ibdev, port);
	if (!ndev) {
		/* the netdev is going away, and the device after it */
		attr->state = IB_PORT_DOWN;
		attr->phys_state = IB_PORT_PHYS_STATE_DISABLED;
		attr->active_mtu = IB_MTU_256;
		attr->active_speed = IB_SPEED_SDR;
		attr->active_width = IB_WIDTH_1X;
		return 0;
	}
	attr->state = READ_ONCE(rdev->port_state);
	if (attr->state == IB_PORT_ACTIVE)
		attr->phys_state = IB_PORT_PHYS_STATE_LINK_UP;
	else if (netif_running(ndev))
		attr->phys_state = IB_PORT_PHYS_STATE_POLLING;
	else
		attr->phys_state = IB_PORT_PHYS_STATE_DISABLED;
	attr->active_mtu = rxdp_active_mtu(ndev);
	dev_put(ndev);

	/* fails once the netdev is unregistering: the port is going */
	if (ib_get_eth_speed(ibdev, port, &attr->active_speed,
			     &attr->active_width)) {
		attr->active_speed = IB_SPEED_SDR;
		attr->active_width = IB_WIDTH_1X;
	}
	return 0;
}

static int rxdp_query_pkey(struct ib_device *ibdev, u32 port, u16 index,
			   u16 *pkey)
{
	if (index >= RXDP_PKEYS)
		return -EINVAL;
	*pkey = IB_DEFAULT_PKEY_FULL;
	return 0;
}

static int rxdp_modify_device(struct ib_device *ibdev, int mask,
			      struct ib_device_modify *modify)
{
	if (mask & ~(IB_DEVICE_MODIFY_SYS_IMAGE_GUID |
		     IB_DEVICE_MODIFY_NODE_DESC))
		return -EOPNOTSUPP;
	if (mask & IB_DEVICE_MODIFY_SYS_IMAGE_GUID)
		to_rdev(ibdev)->attr.sys_image_guid =
			cpu_to_be64(modify->sys_image_guid);
	if (mask & IB_DEVICE_MODIFY_NODE_DESC)
		memcpy(ibdev->node_desc, modify->node_desc,
		       sizeof(ibdev->node_desc));
	return 0;
}

static int rxdp_get_port_immutable(struct ib_device *ibdev, u32 port,
				   struct ib_port_immutable *immutable)
{
	immutable->core_cap_flags = RDMA_CORE_PORT_IBA_ROCE_UDP_ENCAP;
	immutable->pkey_tbl_len = RXDP_PKEYS;
	immutable->gid_tbl_len = RXDP_GID_TBL_LEN;
	immutable->max_mad_size = IB_MGMT_MAD_SIZE;
	return 0;
}

static enum rdma_link_layer rxdp_get_link_layer(struct ib_device *ibdev,
						u32 port)
{
	return IB_LINK_LAYER_ETHERNET;
}

static int rxdp_alloc_ucontext(struct ib_ucontext *ibuc,
			       struct ib_udata *udata)
{
	atomic_inc(&to_rdev(ibuc->device)->num_ucontext);
	return 0;
}

static void rxdp_dealloc_ucontext(struct ib_ucontext *ibuc)
{
	atomic_dec(&to_rdev(ibuc->device)->num_ucontext);
}

/*
 * The device goes (netdev or module removal, "rdma link delete", a move
 * to another namespace) while a process still has it open: the RDMA core
 * has destroyed every object of the context through the driver's destroy
 * calls before it calls this, and nothing of rxdp's runs for the context
 * afterwards.  Its rings stay mapped until the process unmaps them, on
 * pages the mapping holds (rxdp_mmap()), which rxdp no longer reads or
 * writes.  Having this callback also means that an open context holds
 * neither the device nor the module: both go at once, and the process
 * gets IBV_EVENT_DEVICE_FATAL and EIO.
 */
static void rxdp_disassociate_ucontext(struct ib_ucontext *ibuc)
{
}

static int rxdp_alloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	struct rxdp_dev *rdev = to_rdev(ibpd->device);

	if (atomic_inc_return(&rdev->num_pd) > rdev->attr.max_pd) {
		atomic_dec(&rdev->num_pd);
		return -ENOMEM;
	}
	return 0;
}

static int rxdp_dealloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	atomic_dec(&to_rdev(ibpd->device)->num_pd);
	return 0;
}

const struct ib_device_ops rxdp_dev_ops = {
	.owner = THIS_MODULE,
	.driver_id = RDMA_DRIVER_RXE,
	.uverbs_abi_ver = RXDP_UVERBS_ABI_VERSION,

	.add_gid = rxdp_add_gid,
	.attach_mcast = rxdp_attach_mcast,
	.alloc_mr = rxdp_alloc_mr,
	.alloc_mw = rxdp_alloc_mw,
	.alloc_pd = rxdp_alloc_pd,
	.alloc_ucontext = rxdp_alloc_ucontext,
	.create_ah = rxdp_create_ah,
	.create_cq = rxdp_create_cq,
	.create_qp = rxdp_create_qp,
	.create_srq = rxdp_create_srq,
	.create_user_ah = rxdp_create_ah,
	.dealloc_mw = rxdp_dealloc_mw,
	.dealloc_pd = rxdp_dealloc_pd,
	.dealloc_ucontext = rxdp_dealloc_ucontext,
	.disassociate_ucontext = rxdp_disassociate_ucontext,
	.del_gid = rxdp_del_gid,
	.dereg_mr = rxdp_dereg_mr,
	.destroy_ah = rxdp_destroy_ah,
	.destroy_cq = rxdp_destroy_cq,
	.destroy_qp = rxdp_destroy_qp,
	.destroy_srq = rxdp_destroy_srq,
	.detach_mcast = rxdp_detach_mcast,
	.get_dma_mr = rxdp_get_dma_mr,
	.get_link_layer = rxdp_get_link_layer,
	.get_netdev = rxdp_get_netdev,
	.get_port_immutable = rxdp_get_port_immutable,
	.map_mr_sg = rxdp_map_mr_sg,
	.mmap = rxdp_mmap,
	.mmap_free = rxdp_mmap_free,
	.modify_device = rxdp_modify_device,
	.modify_qp = rxdp_modify_qp,
	.modify_srq = rxdp_modify_srq,
	.poll_cq = rxdp_poll_cq,
	.post_recv = rxdp_post_recv,
	.post_send = rxdp_post_send,
	.post_srq_recv = rxdp_post_srq_recv,
	.query_ah = rxdp_query_ah,
	.query_device = rxdp_query_device,
	.query_pkey = rxdp_query_pkey,
	.query_port = rxdp_query_port,
	.query_qp = rxdp_query_qp,
	.query_srq = rxdp_query_srq,
	.reg_user_mr = rxdp_reg_user_mr,
	.rereg_user_mr = rxdp_rereg_user_mr,
	.req_notify_cq = rxdp_req_notify_cq,
	.resize_cq = rxdp_resize_cq,

	INIT_RDMA_OBJ_SIZE(ib_ah, rxdp_ah, ibah),
	INIT_RDMA_OBJ_SIZE(ib_cq, rxdp_cq, ibcq),
	INIT_RDMA_OBJ_SIZE(ib_mw, rxdp_mw, ibmw),
	INIT_RDMA_OBJ_SIZE(ib_pd, rxdp_pd, ibpd),
	INIT_RDMA_OBJ_SIZE(ib_qp, rxdp_qp, ibqp),
	INIT_RDMA_OBJ_SIZE(ib_srq, rxdp_srq, ibsrq),
	INIT_RDMA_OBJ_SIZE(ib_ucontext, rxdp_ucontext, ibuc),
};

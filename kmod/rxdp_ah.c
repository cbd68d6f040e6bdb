// SPDX-License-Identifier: GPL-2.0
/*
 * Address handles.  User space names an AH in a UD send WQE by its number,
 * so every AH is in a per-device table.  Each AH carries the headers of
 * the packets sent through it (struct rxdp_path), built when it is made.
 */
#include <rdma/ib_cache.h>
#include <rdma/uverbs_ioctl.h>

#include "rxdp.h"

/**
 * rxdp_check_ah_attr - is this a usable RoCEv2 address vector?
 * @rdev: the device
 * @attr: the address vector
 *
 * Return: 0 or -EINVAL.
 */
int rxdp_check_ah_attr(struct rxdp_dev *rdev, const struct rdma_ah_attr *attr)
{
	const struct ib_global_route *grh;

	if (rdma_ah_get_port_num(attr) != RXDP_PORT)
		return -EINVAL;
	/* RoCE addresses are GIDs: a GRH is required */
	if (!(rdma_ah_get_ah_flags(attr) & IB_AH_GRH))
		return -EINVAL;
	grh = rdma_ah_read_grh(attr);
	if (!grh->sgid_attr || grh->sgid_index >= RXDP_GID_TBL_LEN ||
	    grh->sgid_attr->gid_type != IB_GID_TYPE_ROCE_UDP_ENCAP)
		return -EINVAL;
	return 0;
}

int rxdp_create_ah(struct ib_ah *ibah, struct rdma_ah_init_attr *init,
		   struct ib_udata *udata)
{
	struct rxdp_dev *rdev = to_rdev(ibah->device);
	struct rxdp_ah *ah = to_rah(ibah);
	struct rxe_create_ah_resp resp = {};
	gfp_t gfp = init->flags & RDMA_CREATE_AH_SLEEPABLE ? GFP_KERNEL :
							     GFP_ATOMIC;
	unsigned long irqflags;
	int err;

	err = rxdp_check_ah_attr(rdev, init->ah_attr);
	if (err)
		return err;
	err = rxdp_path_init(rdev, &ah->path, init->ah_attr);
	if (err)
		return err;
	if (udata && udata->outlen < sizeof(resp))
		return -EINVAL;

	if (gfp == GFP_KERNEL) {
		err = xa_alloc_cyclic_irq(&rdev->ahs, &ah->ah_num, ah,
					  XA_LIMIT(1, rdev->attr.max_ah),
					  &rdev->next_ah, GFP_KERNEL);
	} else {
		xa_lock_irqsave(&rdev->ahs, irqflags);
		err = __xa_alloc_cyclic(&rdev->ahs, &ah->ah_num, ah,
					XA_LIMIT(1, rdev->attr.max_ah),
					&rdev->next_ah, GFP_ATOMIC);
		xa_unlock_irqrestore(&rdev->ahs, irqflags);
	}
	if (err < 0)
		return err == -EBUSY ? -ENOMEM : err;
	rdma_copy_ah_attr(&ah->attr, init->ah_attr);

	if (udata) {
		resp.ah_num = ah->ah_num;
		err = ib_copy_to_udata(udata, &resp, sizeof(resp));
		if (err) {
			rxdp_destroy_ah(ibah, 0);
			return err;
		}
	}
	return 0;
}

int rxdp_query_ah(struct ib_ah *ibah, struct rdma_ah_attr *attr)
{
	*attr = to_rah(ibah)->attr;
	attr->grh.sgid_attr = NULL;
	return 0;
}

int rxdp_destroy_ah(struct ib_ah *ibah, u32 flags)
{
	struct rxdp_dev *rdev = to_rdev(ibah->device);
	struct rxdp_ah *ah = to_rah(ibah);
	unsigned long irqflags;

	xa_lock_irqsave(&rdev->ahs, irqflags);
	__xa_erase(&rdev->ahs, ah->ah_num);
	xa_unlock_irqrestore(&rdev->ahs, irqflags);
	rdma_destroy_ah_attr(&ah->attr);
	return 0;
}

/**
 * rxdp_ah_check - may a UD WQE of this PD use this AH number?
 * @rdev: the device
 * @ah_num: the number from the WQE
 * @pd: the QP's PD
 *
 * Return: 0 or -EINVAL.
 */
int rxdp_ah_check(struct rxdp_dev *rdev, u32 ah_num, struct ib_pd *pd)
{
	struct rxdp_ah *ah;
	unsigned long flags;
	int err;

	xa_lock_irqsave(&rdev->ahs, flags);
	ah = xa_load(&rdev->ahs, ah_num);
	err = ah && ah->ibah.pd == pd ? 0 : -EINVAL;
	xa_unlock_irqrestore(&rdev->ahs, flags);
	return err;
}

/**
 * rxdp_ah_path - the headers of a UD send through an AH
 * @rdev: the device
 * @ah_num: the number from the WQE
 * @pd: the QP's PD
 * @path: a copy of the AH's
 *
 * The AH may be destroyed once this returns; the copy stays good.
 * Return: 0, or -EINVAL when there is no such AH of this PD (any more).
 */
int rxdp_ah_path(struct rxdp_dev *rdev, u32 ah_num, struct ib_pd *pd,
		 struct rxdp_path *path)
{
	struct rxdp_ah *ah;
	unsigned long flags;
	int err = -EINVAL;

	xa_lock_irqsave(&rdev->ahs, flags);
	ah = xa_load(&rdev->ahs, ah_num);
	if (ah && ah->ibah.pd == pd) {
		*path = ah->path;
		err = 0;
	}
	xa_unlock_irqrestore(&rdev->ahs, flags);
	return err;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Memory regions: registration pins user pages through ib_umem, keys are
 * "index << 8 | random byte" so a stale key from a freed MR does not match
 * the next MR of the same index.
 *
 * The responder writes into an MR through a reference (rxdp_mr_get), and
 * deregistration waits for those before it unpins the pages.
 */
#include <linux/highmem.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <rdma/ib_umem.h>

#include "rxdp.h"

#define RXDP_MR_INDEX_MAX	((1u << 24) - 1)

void rxdp_mr_init(struct rxdp_dev *rdev)
{
	xa_init_flags(&rdev->mrs, XA_FLAGS_ALLOC1);
}

void rxdp_mr_cleanup(struct rxdp_dev *rdev)
{
	WARN_ON(!xa_empty(&rdev->mrs));
	xa_destroy(&rdev->mrs);
}

static struct rxdp_mr *rxdp_mr_alloc(struct ib_pd *ibpd, int access)
{
	struct rxdp_dev *rdev = to_rdev(ibpd->device);
	struct rxdp_mr *mr;
	int err;

	if (atomic_inc_return(&rdev->num_mr) > rdev->attr.max_mr) {
		err = -ENOMEM;
		goto err_count;
	}
	mr = kzalloc(sizeof(*mr), GFP_KERNEL);
	if (!mr) {
		err = -ENOMEM;
		goto err_count;
	}
	mr->access = access;
	refcount_set(&mr->ref, 1);
	init_completion(&mr->done);
	mr->ibmr.pd = ibpd;
	mr->ibmr.device = ibpd->device;
	return mr;

err_count:
	atomic_dec(&rdev->num_mr);
	return ERR_PTR(err);
}

/* Make the MR findable by its key: the last step of registration. */
static int rxdp_mr_publish(struct rxdp_dev *rdev, struct rxdp_mr *mr)
{
	u32 key;
	int err;

	err = xa_alloc_cyclic(&rdev->mrs, &mr->index, NULL,
			      XA_LIMIT(1, RXDP_MR_INDEX_MAX), &rdev->next_mr,
			      GFP_KERNEL);
	if (err < 0)
		return err;
	key = mr->index << 8 | get_random_u8();
	mr->ibmr.lkey = key;
	mr->ibmr.rkey = key;
	xa_store(&rdev->mrs, mr->index, mr, GFP_KERNEL);
	return 0;
}

static void rxdp_mr_free(struct rxdp_dev *rdev, struct rxdp_mr *mr)
{
	kvfree(mr->pages);
	if (mr->umem)
		ib_umem_release(mr->umem);
	atomic_dec(&rdev->num_mr);
	/* post paths check keys under RCU */
	kfree_rcu_mightsleep(mr);
}

struct ib_mr *rxdp_get_dma_mr(struct ib_pd *ibpd, int access)
{
	struct rxdp_dev *rdev = to_rdev(ibpd->device);
	struct rxdp_mr *mr;
	int err;

	mr = rxdp_mr_alloc(ibpd, access);
	if (IS_ERR(mr))
		return ERR_CAST(mr);
	mr->iova = 0;
	mr->length = U64_MAX;
	err = rxdp_mr_publish(rdev, mr);
	if (err) {
		rxdp_mr_free(rdev, mr);
		return ERR_PTR(err);
	}
	return &mr->ibmr;
}

/* The pinned pages in order, so that an offset finds its page at once. */
static int rxdp_mr_map_pages(struct rxdp_mr *mr)
{
	struct sg_page_iter iter;
	size_t i = 0;

	mr->npages = ib_umem_num_pages(mr->umem);
	/* the pages are charged to RLIMIT_MEMLOCK, their array to the memcg */
	mr->pages = kvmalloc_array(mr->npages, sizeof(*mr->pages),
				   GFP_KERNEL_ACCOUNT);
	if (!mr->pages)
		return -ENOMEM;
	for_each_sgtable_page(&mr->umem->sgt_append.sgt, &iter, 0) {
		if (WARN_ON_ONCE(i >= mr->npages))
			return -EINVAL;
		mr->pages[i++] = sg_page_iter_page(&iter);
	}
	return i == mr->npages ? 0 : -EINVAL;
}

struct ib_mr *rxdp_reg_user_mr(struct ib_pd *ibpd, u64 start, u64 length,
			       u64 iova, int access, struct ib_udata *udata)
{
	struct rxdp_dev *rdev = to_rdev(ibpd->device);
	struct rxdp_mr *mr;
	int err;

	if (!length || length > rdev->attr.max_mr_size ||
	    iova + length < iova)
		return ERR_PTR(-EINVAL);
	err = ib_check_mr_access(ibpd->device, access);
	if (err)
		return ERR_PTR(err);
	if (access & (IB_ACCESS_ON_DEMAND | IB_ACCESS_MW_BIND))
		return ERR_PTR(-EOPNOTSUPP);

	mr = rxdp_mr_alloc(ibpd, access);
	if (IS_ERR(mr))
		return ERR_CAST(mr);
	mr->umem = ib_umem_get(ibpd->device, start, length, access);
	if (IS_ERR(mr->umem)) {
		err = PTR_ERR(mr->umem);
		mr->umem = NULL;
		goto err_free;
	}
	err = rxdp_mr_map_pages(mr);
	if (err)
		goto err_free;
	mr->iova = iova;
	mr->length = length;
	mr->ibmr.iova = iova;
	mr->ibmr.length = length;
	err = rxdp_mr_publish(rdev, mr);
	if (err)
		goto err_free;
	return &mr->ibmr;

err_free:
	rxdp_mr_free(rdev, mr);
	return ERR_PTR(err);
}

/*
 * As rdmavt does: a QP whose send queue still holds a WQE that uses the key
 * goes to the error state (flushing that WQE) before the MR goes away.
 */
static void rxdp_mr_clean_qps(struct rxdp_dev *rdev, u32 lkey)
{
	unsigned long qpn;
	struct rxdp_qp *qp;

	for (qpn = 0; (qp = rxdp_qp_next(&rdev->qpn, &qpn)); qpn++) {
		if (rxdp_qp_uses_lkey(qp, lkey))
			rxdp_qp_fatal(qp);
		rxdp_qp_put(qp);
		/* any user's dereg walks every QP of the device */
		cond_resched();
	}
}

int rxdp_dereg_mr(struct ib_mr *ibmr, struct ib_udata *udata)
{
	struct rxdp_dev *rdev = to_rdev(ibmr->device);
	struct rxdp_mr *mr = to_rmr(ibmr);

	/* no new WQE can name the key once it is out of the table */
	xa_erase(&rdev->mrs, mr->index);
	rxdp_mr_clean_qps(rdev, mr->ibmr.lkey);
	/* a receive may be writing into it */
	if (!refcount_dec_and_test(&mr->ref))
		wait_for_completion(&mr->done);
	rxdp_mr_free(rdev, mr);
	return 0;
}

/* The MR behind an SGE, if the SGE may use it.  Context: RCU read lock. */
static struct rxdp_mr *rxdp_mr_lookup(struct rxdp_dev *rdev,
				      struct ib_pd *pd, u32 lkey, u64 addr,
				      u32 length, int access)
{
	struct rxdp_mr *mr = xa_load(&rdev->mrs, lkey >> 8);

	if (!mr || mr->ibmr.lkey != lkey || mr->ibmr.pd != pd)
		return NULL;
	if ((mr->access & access) != access)
		return NULL;
	if (addr < mr->iova || addr + length < addr ||
	    addr + length - mr->iova > mr->length)
		return NULL;
	return mr;
}

/**
 * rxdp_check_sge - may a WQE use this piece of memory?
 * @rdev: the device
 * @pd: the QP's protection domain
 * @lkey: the SGE's key
 * @addr: the SGE's address
 * @length: the SGE's length
 * @access: the access the operation needs (IB_ACCESS_LOCAL_WRITE or 0)
 *
 * Return: 0, or -EINVAL when the key is unknown, of another PD, lacks the
 * access or does not cover the range.
 */
int rxdp_check_sge(struct rxdp_dev *rdev, struct ib_pd *pd, u32 lkey,
		   u64 addr, u32 length, int access)
{
	int err;

	rcu_read_lock();
	err = rxdp_mr_lookup(rdev, pd, lkey, addr, length, access) ?
	      0 : -EINVAL;
	rcu_read_unlock();
	return err;
}

/**
 * rxdp_mr_get - take a reference on the MR an SGE may use
 * @rdev: the device
 * @pd: the QP's protection domain
 * @lkey: the SGE's key
 * @addr: the SGE's address
 * @length: the SGE's length
 * @access: the access the operation needs
 *
 * Return: the MR, to be put with rxdp_mr_put(), or NULL when the SGE may
 * not use it (as rxdp_check_sge) or it is being deregistered.
 */
struct rxdp_mr *rxdp_mr_get(struct rxdp_dev *rdev, struct ib_pd *pd,
			    u32 lkey, u64 addr, u32 length, int access)
{
	struct rxdp_mr *mr;

	rcu_read_lock();
	mr = rxdp_mr_lookup(rdev, pd, lkey, addr, length, access);
	if (mr && !refcount_inc_not_zero(&mr->ref))
		mr = NULL;
	rcu_read_unlock();
	return mr;
}

void rxdp_mr_put(struct rxdp_mr *mr)
{
	if (refcount_dec_and_test(&mr->ref))
		complete(&mr->done);
}

/*
 * The kernel reaches every page of an MR through its linear map, as the
 * loopback path relies on (rxdp_mr_piece()).
 */
#ifdef CONFIG_HIGHMEM
#error "rxdp needs a kernel without HIGHMEM"
#endif

/**
 * rxdp_mr_piece - where a run of a user MR's bytes is in the kernel
 * @mr: the MR, referenced, with pages, and checked for [@addr, @addr + @n)
 * @addr: the run's first byte, in the MR's address space
 * @n: its length
 * @len: how many of its bytes from @addr on are contiguous there: at most
 *	@n, and the rest of the page
 *
 * Context: any; does not sleep.
 * Return: their kernel address, valid while @mr is referenced (it keeps
 * its pages pinned).
 */
void *rxdp_mr_piece(struct rxdp_mr *mr, u64 addr, u32 n, u32 *len)
{
	size_t off = addr - mr->iova + ib_umem_offset(mr->umem);

	*len = min_t(u32, n, PAGE_SIZE - offset_in_page(off));
	return page_address(mr->pages[off >> PAGE_SHIFT]) +
	       offset_in_page(off);
}

/* Copy between a referenced MR and kernel memory, either way. */
static void rxdp_mr_copy(struct rxdp_mr *mr, u64 addr, void *buf,
			 u32 length, bool to_mr)
{
	size_t off;
	u32 n;

	if (!mr->umem) {
		/* the DMA MR: kernel users hand over kernel addresses */
		void *va = (void *)(uintptr_t)addr;

		if (to_mr)
			memcpy(va, buf, length);
		else
			memcpy(buf, va, length);
		return;
	}
	off = addr - mr->iova + ib_umem_offset(mr->umem);
	while (length) {
		struct page *page = mr->pages[off >> PAGE_SHIFT];

		n = min_t(u32, length, PAGE_SIZE - offset_in_page(off));
		if (to_mr)
			memcpy_to_page(page, offset_in_page(off), buf, n);
		else
			memcpy_from_page(buf, page, offset_in_page(off), n);
		off += n;
		buf += n;
		length -= n;
	}
}

/**
 * rxdp_mr_write - copy bytes into a referenced MR
 * @mr: the MR, from rxdp_mr_get() for this range
 * @addr: where, in the MR's address space
 * @src: the bytes
 * @length: how many
 *
 * Context: any; does not sleep.
 */
void rxdp_mr_write(struct rxdp_mr *mr, u64 addr, const void *src,
		   u32 length)
{
	rxdp_mr_copy(mr, addr, (void *)src, length, true);
}

/**
 * rxdp_mr_read - copy bytes out of a referenced MR
 * @mr: the MR, from rxdp_mr_get() for this range
 * @addr: where, in the MR's address space
 * @dst: where to
 * @length: how many
 *
 * Context: any; does not sleep.
 */
void rxdp_mr_read(struct rxdp_mr *mr, u64 addr, void *dst, u32 length)
{
	rxdp_mr_copy(mr, addr, dst, length, false);
}

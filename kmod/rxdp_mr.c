// SPDX-License-Identifier: GPL-2.0
/*
 * Memory regions: registration pins user pages through ib_umem, keys are
 * "index << 8 | random byte" so a stale key from a freed MR does not match
 * the next MR of the same index.
 *
 * A fast-registration MR (a kernel ULP's, IB_MR_TYPE_MEM_REG) has no
 * memory until its pages are mapped (map_mr_sg) and a REG_MR work request
 * registers them under a key whose last byte the ULP chose; LOCAL_INV, or
 * a SEND with Invalidate from the peer, takes it back to free.
 *
 * The responder writes into an MR through a reference (rxdp_mr_get), and
 * deregistration waits for those before it unpins the pages.  An MR with
 * memory windows bound to it is not deregistered.
 */
#include <linux/highmem.h>
#include <linux/ioport.h>
#include <linux/libnvdimm.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <rdma/ib_umem.h>

#include "rxdp.h"

/* MR indexes: below those of the windows (rxdp_key_is_mw()) */
#define RXDP_MR_INDEX_MAX	(RXDP_KEY_MW - 1)

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
	atomic_set(&mr->num_mw, 0);
	spin_lock_init(&mr->lock);
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
	mr->key = key;
	mr->ibmr.lkey = key;
	mr->ibmr.rkey = key;
	xa_store(&rdev->mrs, mr->index, mr, GFP_KERNEL);
	return 0;
}

static void rxdp_mr_free(struct rxdp_dev *rdev, struct rxdp_mr *mr)
{
	kfree(mr->fast_pages);
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
	mr->kind = RXDP_MR_DMA;
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

/*
 * Persistence is asked of an MR whose pages are all persistent memory
 * (IB_ACCESS_FLUSH_PERSISTENT): a FLUSH writes the CPU caches back to them.
 */
static bool rxdp_mr_persistent(const struct rxdp_mr *mr)
{
	struct scatterlist *sg;
	unsigned int i;

	/* a pinned run of pages at a time: few lookups for a big MR */
	for_each_sgtable_sg(&mr->umem->sgt_append.sgt, sg, i)
		if (region_intersects(sg_phys(sg), sg->length, IORESOURCE_MEM,
				      IORES_DESC_PERSISTENT_MEMORY) !=
		    REGION_INTERSECTS)
			return false;
	return true;
}

static struct rxdp_mr *rxdp_mr_user(struct ib_pd *ibpd, u64 start,
				    u64 length, u64 iova, int access)
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
	if (access & (IB_ACCESS_ON_DEMAND | IB_ZERO_BASED))
		return ERR_PTR(-EOPNOTSUPP);

	mr = rxdp_mr_alloc(ibpd, access);
	if (IS_ERR(mr))
		return mr;
	mr->kind = RXDP_MR_USER;
	mr->umem = ib_umem_get(ibpd->device, start, length, access);
	if (IS_ERR(mr->umem)) {
		err = PTR_ERR(mr->umem);
		mr->umem = NULL;
		goto err_free;
	}
	err = rxdp_mr_map_pages(mr);
	if (err)
		goto err_free;
	if ((access & IB_ACCESS_FLUSH_PERSISTENT) && !rxdp_mr_persistent(mr)) {
		err = -EINVAL;
		goto err_free;
	}
	mr->iova = iova;
	mr->length = length;
	mr->ibmr.iova = iova;
	mr->ibmr.length = length;
	err = rxdp_mr_publish(rdev, mr);
	if (err)
		goto err_free;
	return mr;

err_free:
	rxdp_mr_free(rdev, mr);
	return ERR_PTR(err);
}

struct ib_mr *rxdp_reg_user_mr(struct ib_pd *ibpd, u64 start, u64 length,
			       u64 iova, int access, struct ib_udata *udata)
{
	struct rxdp_mr *mr = rxdp_mr_user(ibpd, start, length, iova, access);

	return IS_ERR(mr) ? ERR_CAST(mr) : &mr->ibmr;
}

/*
 * Take the MR out of the key table unless windows are bound to it.  Under
 * the windows' lock it is marked retired first, which a bind checks under
 * that lock: a bind either counted itself before, or finds it retired.
 */
static int rxdp_mr_unpublish(struct rxdp_dev *rdev, struct rxdp_mr *mr)
{
	unsigned long flags;
	int err = 0;

	xa_lock_irqsave(&rdev->mws, flags);
	if (atomic_read(&mr->num_mw))
		err = -EBUSY;
	else
		mr->retired = true;
	xa_unlock_irqrestore(&rdev->mws, flags);
	if (!err)
		/* once only: the index may be another MR's afterwards */
		xa_cmpxchg(&rdev->mrs, mr->index, mr, NULL, 0);
	return err;
}

/**
 * rxdp_rereg_user_mr - change a user MR's translation, access or PD
 * @ibmr: the MR
 * @flags: IB_MR_REREG_TRANS, IB_MR_REREG_ACCESS, IB_MR_REREG_PD
 * @start: the new user address (IB_MR_REREG_TRANS)
 * @length: the new length (IB_MR_REREG_TRANS)
 * @iova: the new I/O virtual address (IB_MR_REREG_TRANS)
 * @access: the new access (IB_MR_REREG_ACCESS)
 * @ibpd: the PD it ends up in
 * @udata: unused
 *
 * Access and PD change in place, keeping the keys: what a key allows is
 * checked at each use.  A new translation, or write access to pages that
 * were pinned for reading, pins new pages into a new MR, with new keys,
 * and the RDMA core deregisters the old one.  Refused while windows are
 * bound to the MR.
 *
 * Return: NULL when changed in place, the new MR, or an ERR_PTR.
 */
struct ib_mr *rxdp_rereg_user_mr(struct ib_mr *ibmr, int flags, u64 start,
				 u64 length, u64 iova, int access,
				 struct ib_pd *ibpd, struct ib_udata *udata)
{
	struct rxdp_dev *rdev = to_rdev(ibmr->device);
	struct rxdp_mr *mr = to_rmr(ibmr), *new;
	unsigned long irqflags;
	int err = 0;

	if (mr->kind != RXDP_MR_USER)
		return ERR_PTR(-EINVAL);
	if (!(flags & IB_MR_REREG_ACCESS))
		access = mr->access;
	if (access & (IB_ACCESS_ON_DEMAND | IB_ZERO_BASED))
		return ERR_PTR(-EOPNOTSUPP);
	if (atomic_read(&mr->num_mw))
		return ERR_PTR(-EBUSY);
	if (!(flags & IB_MR_REREG_TRANS) &&
	    (!ib_access_writable(access) || mr->umem->writable)) {
		if ((access & IB_ACCESS_FLUSH_PERSISTENT) &&
		    !rxdp_mr_persistent(mr))
			return ERR_PTR(-EINVAL);
		/*
		 * A bind checks the access and PD under this lock and counts
		 * itself: no window is bound over the change.  The core sets
		 * the same PD again once this returns (it counted the old
		 * one's users before).
		 */
		xa_lock_irqsave(&rdev->mws, irqflags);
		if (atomic_read(&mr->num_mw)) {
			err = -EBUSY;
		} else {
			WRITE_ONCE(mr->access, access);
			if (flags & IB_MR_REREG_PD)
				WRITE_ONCE(mr->ibmr.pd, ibpd);
		}
		xa_unlock_irqrestore(&rdev->mws, irqflags);
		return err ? ERR_PTR(err) : NULL;
	}
	if (!(flags & IB_MR_REREG_TRANS)) {
		start = mr->umem->address;
		length = mr->length;
		iova = mr->iova;
	}
	new = rxdp_mr_user(ibpd, start, length, iova, access);
	if (IS_ERR(new))
		return ERR_CAST(new);
	/* the old MR takes no new work; the core deregisters it */
	err = rxdp_mr_unpublish(rdev, mr);
	if (err) {
		rxdp_dereg_mr(&new->ibmr, NULL);
		return ERR_PTR(err);
	}
	return &new->ibmr;
}

/*
 * As rdmavt does: a QP whose send queue still holds a WQE that uses the key
 * goes to the error state (flushing that WQE) before the MR goes away.
 */
static void rxdp_mr_clean_qps(struct rxdp_dev *rdev, struct rxdp_mr *mr)
{
	unsigned long qpn;
	struct rxdp_qp *qp;

	for (qpn = 0; (qp = rxdp_qp_next(&rdev->qpn, &qpn)); qpn++) {
		if (rxdp_qp_uses_mr(qp, mr))
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
	int err;

	/* no new WQE can name the key once it is out of the table */
	err = rxdp_mr_unpublish(rdev, mr);
	if (err)
		return err;
	rxdp_mr_clean_qps(rdev, mr);
	/* a receive may be writing into it */
	if (!refcount_dec_and_test(&mr->ref))
		wait_for_completion(&mr->done);
	rxdp_mr_free(rdev, mr);
	return 0;
}

/**
 * rxdp_mr_find_rcu - the MR a key names, while the key is good
 * @rdev: the device
 * @key: an lkey or rkey (an MR's two are the same)
 *
 * Context: RCU read lock; the MR is freed after a grace period.
 * Return: the MR, or NULL for a key of no MR, a stale one, or one of a
 * fast-registration MR that is not registered.
 */
struct rxdp_mr *rxdp_mr_find_rcu(struct rxdp_dev *rdev, u32 key)
{
	struct rxdp_mr *mr;

	if (rxdp_key_is_mw(key))
		return NULL;
	mr = xa_load(&rdev->mrs, key >> 8);
	if (!mr)
		return NULL;
	/* pairs with the release that registers it (rxdp_mr_fast_reg()) */
	if (mr->kind == RXDP_MR_FAST && !smp_load_acquire(&mr->valid))
		return NULL;
	/* not ibmr's key: a ULP moves that on before its REG_MR runs */
	return READ_ONCE(mr->key) == key ? mr : NULL;
}

/**
 * rxdp_key_is_fast_mr - does a key name a fast-registration MR?
 * @rdev: the device
 * @key: the key
 *
 * A kernel ULP may post a REG_MR and, behind it, WQEs whose SGEs use the
 * key it registers (rdma_rw does): such an SGE is checked as its WQE
 * runs, not at the post.
 */
bool rxdp_key_is_fast_mr(struct rxdp_dev *rdev, u32 key)
{
	struct rxdp_mr *mr;
	bool fast;

	if (rxdp_key_is_mw(key))
		return false;
	rcu_read_lock();
	mr = xa_load(&rdev->mrs, key >> 8);
	fast = mr && mr->kind == RXDP_MR_FAST;
	rcu_read_unlock();
	return fast;
}

/* The MR behind an SGE, if the SGE may use it.  Context: RCU read lock. */
static struct rxdp_mr *rxdp_mr_lookup(struct rxdp_dev *rdev,
				      struct ib_pd *pd, u32 lkey, u64 addr,
				      u64 length, int access)
{
	struct rxdp_mr *mr = rxdp_mr_find_rcu(rdev, lkey);
	u64 iova, len;

	/* a rereg may change the PD and access under us: either will do */
	if (!mr || READ_ONCE(mr->ibmr.pd) != pd)
		return NULL;
	if ((READ_ONCE(mr->access) & access) != access)
		return NULL;
	iova = READ_ONCE(mr->iova);
	len = READ_ONCE(mr->length);
	if (addr < iova || addr + length < addr || addr + length - iova > len)
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
			    u32 lkey, u64 addr, u64 length, int access)
{
	struct rxdp_mr *mr;

	rcu_read_lock();
	mr = rxdp_mr_lookup(rdev, pd, lkey, addr, length, access);
	if (mr && !refcount_inc_not_zero(&mr->ref))
		mr = NULL;
	if (mr && mr->kind == RXDP_MR_FAST) {
		/*
		 * Counted, then the key checked again (a REG_MR may have
		 * registered it anew meanwhile): an invalidation either sees
		 * this reference and waits for it, or is seen here.  Pairs
		 * with the barrier in rxdp_mr_invalidate().
		 */
		smp_mb__after_atomic();
		if (rxdp_mr_lookup(rdev, pd, lkey, addr, length, access) != mr) {
			rxdp_mr_put(mr);
			mr = NULL;
		}
	}
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

/*
 * Copy between a fast-registration MR's pages and kernel memory.  Its
 * registration changes only while it is invalid, once no copy is under way
 * (rxdp_mr_invalidate()); whatever a ULP does, no page past those
 * registered is touched.
 */
static void rxdp_mr_fast_copy(struct rxdp_mr *mr, u64 addr, void *buf,
			      u32 length, bool to_mr)
{
	u32 shift = READ_ONCE(mr->fast_shift);
	u64 size = BIT_ULL(shift), n;
	u64 off = addr - READ_ONCE(mr->iova) + READ_ONCE(mr->fast_off);
	u32 npages = min_t(u32, READ_ONCE(mr->npages), mr->fast_max);

	while (length) {
		u64 i = off >> shift;
		void *va;

		if (i >= npages) {
			/* nothing of the stack or a frame leaves unwritten */
			if (!to_mr)
				memset(buf, 0, length);
			return;
		}
		va = (void *)(uintptr_t)(READ_ONCE(mr->fast_pages[i]) +
					 (off & (size - 1)));
		n = min_t(u64, length, size - (off & (size - 1)));
		if (to_mr)
			memcpy(va, buf, n);
		else
			memcpy(buf, va, n);
		off += n;
		buf += n;
		length -= n;
	}
}

/* Copy between a referenced MR and kernel memory, either way. */
static void rxdp_mr_copy(struct rxdp_mr *mr, u64 addr, void *buf,
			 u32 length, bool to_mr)
{
	size_t off;
	u32 n;

	if (mr->kind == RXDP_MR_DMA) {
		/* the DMA MR: kernel users hand over kernel addresses */
		void *va = (void *)(uintptr_t)addr;

		if (to_mr)
			memcpy(va, buf, length);
		else
			memcpy(buf, va, length);
		return;
	}
	if (mr->kind == RXDP_MR_FAST) {
		rxdp_mr_fast_copy(mr, addr, buf, length, to_mr);
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

/**
 * rxdp_mr_persist - write a range of a referenced MR back to its media
 * @mr: the MR, from rxdp_mr_get() for this range and
 *	IB_ACCESS_FLUSH_PERSISTENT
 * @addr: the first byte, in the MR's address space
 * @length: how many
 *
 * Only a user MR has that access (its pages are persistent memory,
 * rxdp_mr_persistent()).  A kernel ULP's MR has no such pages.
 *
 * Context: any; does not sleep.
 * Return: 0, or -EINVAL for an MR that is not a user MR.
 */
int rxdp_mr_persist(struct rxdp_mr *mr, u64 addr, u64 length)
{
	u32 n;

	if (mr->kind != RXDP_MR_USER)
		return -EINVAL;
	while (length) {
		void *va = rxdp_mr_piece(mr, addr, min_t(u64, length, SZ_1G),
					 &n);

		arch_wb_cache_pmem(va, n);
		addr += n;
		length -= n;
	}
	return 0;
}

/**
 * rxdp_alloc_mr - a fast-registration MR for a kernel ULP
 * @ibpd: its PD
 * @type: IB_MR_TYPE_MEM_REG, the only type rxdp has
 * @max_num_sg: the most pages it maps at once
 *
 * Return: the MR, free (no key reaches it) until a REG_MR registers it.
 */
struct ib_mr *rxdp_alloc_mr(struct ib_pd *ibpd, enum ib_mr_type type,
			    u32 max_num_sg)
{
	struct rxdp_dev *rdev = to_rdev(ibpd->device);
	struct rxdp_mr *mr;
	int err;

	if (type != IB_MR_TYPE_MEM_REG)
		return ERR_PTR(-EINVAL);
	if (!max_num_sg || max_num_sg > RXDP_MAX_FAST_PAGES)
		return ERR_PTR(-EINVAL);
	mr = rxdp_mr_alloc(ibpd, 0);
	if (IS_ERR(mr))
		return ERR_CAST(mr);
	mr->kind = RXDP_MR_FAST;
	mr->fast_max = max_num_sg;
	/* the pages registered, then those mapped: one allocation */
	mr->fast_pages = kcalloc(2 * max_num_sg, sizeof(*mr->fast_pages),
				 GFP_KERNEL);
	if (!mr->fast_pages) {
		err = -ENOMEM;
		goto err_free;
	}
	mr->fast_map = mr->fast_pages + max_num_sg;
	mr->fast_shift = PAGE_SHIFT;
	err = rxdp_mr_publish(rdev, mr);
	if (err)
		goto err_free;
	return &mr->ibmr;

err_free:
	rxdp_mr_free(rdev, mr);
	return ERR_PTR(err);
}

static int rxdp_mr_set_page(struct ib_mr *ibmr, u64 addr)
{
	struct rxdp_mr *mr = to_rmr(ibmr);

	if (mr->fast_n >= mr->fast_max)
		return -ENOMEM;
	mr->fast_map[mr->fast_n++] = addr;
	return 0;
}

/**
 * rxdp_map_mr_sg - the pages a fast-registration MR will register
 * @ibmr: the MR
 * @sg: the ULP's scatterlist, DMA-mapped: rxdp's DMA addresses are the
 *	kernel's virtual addresses (ib_uses_virt_dma())
 * @sg_nents: its entries
 * @sg_offset: into the first one
 *
 * Return: the entries mapped, as ib_sg_to_pages().
 */
int rxdp_map_mr_sg(struct ib_mr *ibmr, struct scatterlist *sg, int sg_nents,
		   unsigned int *sg_offset)
{
	struct rxdp_mr *mr = to_rmr(ibmr);
	int n;

	if (mr->kind != RXDP_MR_FAST || !is_power_of_2(ibmr->page_size) ||
	    ibmr->page_size < SZ_4K)
		return -EINVAL;
	mr->fast_n = 0;
	n = ib_sg_to_pages(ibmr, sg, sg_nents, sg_offset, rxdp_mr_set_page);
	/* the first byte's place in the first page, before the ULP moves iova */
	if (mr->fast_n)
		mr->fast_map_off = ibmr->iova - mr->fast_map[0];
	return n;
}

/**
 * rxdp_mr_fast_reg - execute a REG_MR work request
 * @qp: the kernel QP it was posted on
 * @wqe: the WQE
 *
 * The MR must be free, of the QP's PD, and the key's index its own; it
 * gets the key and access of the request, and the pages, address and
 * length of its last map_mr_sg.
 * Return: 0 or -EINVAL.
 */
int rxdp_mr_fast_reg(struct rxdp_qp *qp, const struct rxe_send_wqe *wqe)
{
	struct rxdp_mr *mr = to_rmr(wqe->wr.wr.reg.mr);
	u32 key = wqe->wr.wr.reg.key;
	int access = wqe->wr.wr.reg.access;
	unsigned long flags;
	int err = 0;

	if (mr->ibmr.device != qp->ibqp.device || mr->kind != RXDP_MR_FAST ||
	    mr->ibmr.pd != qp->ibqp.pd || (key >> 8) != mr->index ||
	    ib_check_mr_access(qp->ibqp.device, access) ||
	    (access & (IB_ACCESS_ON_DEMAND | IB_ZERO_BASED |
		       IB_ACCESS_FLUSH_PERSISTENT)))
		return -EINVAL;
	spin_lock_irqsave(&mr->lock, flags);
	if (mr->valid || !mr->fast_n) {
		err = -EINVAL;
		goto out;
	}
	mr->access = access;
	WRITE_ONCE(mr->key, key);
	mr->ibmr.lkey = key;
	mr->ibmr.rkey = key;
	mr->iova = mr->ibmr.iova;
	mr->length = mr->ibmr.length;
	memcpy(mr->fast_pages, mr->fast_map,
	       mr->fast_n * sizeof(*mr->fast_pages));
	mr->npages = mr->fast_n;
	mr->fast_shift = ilog2(mr->ibmr.page_size);
	mr->fast_off = mr->fast_map_off;
	/* the registration before the key works: rxdp_mr_find_rcu() */
	smp_store_release(&mr->valid, true);
out:
	spin_unlock_irqrestore(&mr->lock, flags);
	return err;
}

/**
 * rxdp_mr_invalidate - take a fast-registration MR back to free
 * @qp: the QP of the LOCAL_INV, or the one a SEND with Invalidate came to
 * @key: its key
 *
 * Only a registered fast-registration MR of the QP's PD, with the key as
 * it is now and no windows bound, is invalidated.  A copy into or out of
 * it that found the key before (on another CPU: one is done with it
 * before it can invalidate a key) is waited for, so that the pages are
 * the ULP's again when the invalidation completes.  Copies hold their
 * reference for one piece of a packet, with BH disabled; nothing holds
 * one on a fast-registration MR for longer (rxdp_lo_gather() copies).
 * Context: BH disabled.
 * Return: 0 or -EINVAL.
 */
int rxdp_mr_invalidate(struct rxdp_qp *qp, u32 key)
{
	struct rxdp_mr *mr;
	unsigned long flags;
	int err = -EINVAL;

	rcu_read_lock();
	mr = rxdp_key_is_mw(key) ? NULL : xa_load(&qp->rdev->mrs, key >> 8);
	if (!mr || mr->kind != RXDP_MR_FAST || mr->ibmr.pd != qp->ibqp.pd)
		goto out;
	spin_lock_irqsave(&mr->lock, flags);
	/* invalidating a free MR by its last key is no error (as rxe) */
	if (mr->key == key && !atomic_read(&mr->num_mw)) {
		WRITE_ONCE(mr->valid, false);
		err = 0;
	}
	spin_unlock_irqrestore(&mr->lock, flags);
	if (!err) {
		/* pairs with the barrier in rxdp_mr_get() */
		smp_mb();
		while (refcount_read(&mr->ref) > 1)
			cpu_relax();
	}
out:
	rcu_read_unlock();
	return err;
}

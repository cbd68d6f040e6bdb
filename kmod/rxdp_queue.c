// SPDX-License-Identifier: GPL-2.0
/*
 * Ring buffers in the rxe userspace ABI layout.
 */
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <rdma/uverbs_ioctl.h>

#include "rxdp.h"

#define RXDP_QUEUE_MAX_SLOTS	BIT(20)

/*
 * A buffer handed to user space: it lives until the owning object is gone
 * and the last mapping of it is closed, whichever comes later.
 */
struct rxdp_mmap {
	struct rdma_user_mmap_entry	entry;
	void				*buf;
};

/*
 * A user ring is charged to the memory cgroup of the process that creates
 * it: an unprivileged process may ask for many large ones.  vmalloc_user()
 * cannot charge (and nothing exported can both charge and mark the area
 * for remap_vmalloc_range()), so user rings come from __vmalloc() and
 * rxdp_mmap() inserts their pages itself.
 */
static struct rxe_queue_buf *rxdp_queue_alloc(u32 slots, u32 log2_elem,
					      bool user, size_t *size)
{
	gfp_t gfp = GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN;
	struct rxe_queue_buf *buf;

	/* over its cgroup's limit, the creating verb fails: no OOM kill */
	if (user)
		gfp |= __GFP_ACCOUNT | __GFP_RETRY_MAYFAIL;
	*size = PAGE_ALIGN(sizeof(*buf) + ((size_t)slots << log2_elem));
	buf = __vmalloc(*size, gfp);
	if (!buf)
		return NULL;
	buf->log2_elem_size = log2_elem;
	buf->index_mask = slots - 1;
	return buf;
}

static int rxdp_queue_export(struct rxdp_queue *q, struct ib_udata *udata,
			     struct mminfo *mi)
{
	struct rxdp_ucontext *uctx = rdma_udata_to_drv_context(udata,
					struct rxdp_ucontext, ibuc);
	struct rxdp_mmap *m;
	int err;

	if (!uctx)
		return -EINVAL;
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	m->buf = q->buf;
	err = rdma_user_mmap_entry_insert(&uctx->ibuc, &m->entry, q->buf_size);
	if (err) {
		kfree(m);
		return err;
	}
	q->mmap = m;
	mi->offset = rdma_user_mmap_get_offset(&m->entry);
	mi->size = q->buf_size;
	return 0;
}

/**
 * rxdp_queue_init - allocate a ring
 * @q: the queue
 * @ibdev: the device
 * @num_elem: in: entries wanted; out: entries the ring holds (>= wanted)
 * @elem_size: bytes per entry, rounded up to a power of two
 * @udata: user data of the creating verb, NULL for a kernel object
 * @mi: filled with the mmap offset and size for user space
 *
 * Return: 0 or a negative errno.
 */
int rxdp_queue_init(struct rxdp_queue *q, struct ib_device *ibdev,
		    u32 *num_elem, size_t elem_size, struct ib_udata *udata,
		    struct mminfo *mi)
{
	u32 slots;
	int err;

	if (*num_elem >= RXDP_QUEUE_MAX_SLOTS)
		return -EINVAL;
	slots = roundup_pow_of_two(max(*num_elem, 1u) + 1);
	memset(q, 0, sizeof(*q));
	q->log2_elem_size = order_base_2(elem_size);
	q->index_mask = slots - 1;
	q->buf = rxdp_queue_alloc(slots, q->log2_elem_size, !!udata,
				  &q->buf_size);
	if (!q->buf)
		return -ENOMEM;

	if (udata) {
		err = rxdp_queue_export(q, udata, mi);
		if (err) {
			vfree(q->buf);
			q->buf = NULL;
			return err;
		}
	}
	*num_elem = rxdp_queue_capacity(q);
	return 0;
}

/**
 * rxdp_queue_free - release a ring
 * @q: the queue
 *
 * A mapped buffer stays until user space unmaps it; the kernel forgets it
 * now.
 */
void rxdp_queue_free(struct rxdp_queue *q)
{
	if (q->mmap)
		rdma_user_mmap_entry_remove(&q->mmap->entry);
	else
		vfree(q->buf);
	q->buf = NULL;
	q->mmap = NULL;
}

/**
 * rxdp_queue_resize_prepare - allocate the ring a queue is to move into
 * @nq: the new ring
 * @q: the queue
 * @ibdev: the device
 * @num_elem: in: entries wanted; out: entries the new ring holds
 * @udata: user data of the verb, NULL for a kernel object
 * @mi: filled with the new ring's mmap offset and size
 *
 * The caller copies @mi out to user space, then commits or frees @nq:
 * nothing of the queue changes until the commit, which cannot fault.
 * Context: may sleep.
 */
int rxdp_queue_resize_prepare(struct rxdp_queue *nq,
			      const struct rxdp_queue *q,
			      struct ib_device *ibdev, u32 *num_elem,
			      struct ib_udata *udata, struct mminfo *mi)
{
	return rxdp_queue_init(nq, ibdev, num_elem, 1ul << q->log2_elem_size,
			       udata, mi);
}

/**
 * rxdp_queue_resize_commit - move a queue's entries into its new ring
 * @q: the queue
 * @nq: the ring from rxdp_queue_resize_prepare(), consumed
 * @lock: the lock that serializes the queue's users, taken here
 * @kernel_produces: true for a CQ, false for a receive queue
 *
 * Entries not yet consumed keep their order.  Fails with -EINVAL when they
 * would not fit; the old ring is untouched then.
 */
int rxdp_queue_resize_commit(struct rxdp_queue *q, struct rxdp_queue *nq,
			     spinlock_t *lock, bool kernel_produces)
{
	size_t elem = 1ul << q->log2_elem_size;
	struct rxdp_queue old;
	u32 prod, cons, n, i;

	spin_lock_irq(lock);
	prod = kernel_produces ? q->prod : rxdp_queue_load_prod(q);
	cons = kernel_produces ? rxdp_queue_load_cons(q) : q->cons;
	n = rxdp_queue_count(q, prod, cons);
	if (rxdp_queue_capacity(nq) < n) {
		spin_unlock_irq(lock);
		rxdp_queue_free(nq);
		return -EINVAL;
	}
	for (i = 0; i < n; i++)
		memcpy(rxdp_queue_addr(nq, i), rxdp_queue_addr(q, cons + i),
		       elem);
	nq->prod = n;
	nq->buf->producer_index = n;
	old = *q;
	*q = *nq;
	spin_unlock_irq(lock);

	rxdp_queue_free(&old);
	return 0;
}

int rxdp_mmap(struct ib_ucontext *uctx, struct vm_area_struct *vma)
{
	struct rdma_user_mmap_entry *entry;
	struct rxdp_mmap *m;
	unsigned long off;
	int err = 0;

	entry = rdma_user_mmap_entry_get(uctx, vma);
	if (!entry)
		return -EINVAL;
	m = container_of(entry, struct rxdp_mmap, entry);
	/*
	 * The core checked that the mapping is as long as the entry.  Each
	 * inserted page is referenced by the mapping: the buffer may be
	 * freed first.
	 */
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	for (off = 0; off < vma->vm_end - vma->vm_start; off += PAGE_SIZE) {
		err = vm_insert_page(vma, vma->vm_start + off,
				     vmalloc_to_page(m->buf + off));
		if (err)
			break;
	}
	rdma_user_mmap_entry_put(entry);
	return err;
}

void rxdp_mmap_free(struct rdma_user_mmap_entry *entry)
{
	struct rxdp_mmap *m = container_of(entry, struct rxdp_mmap, entry);

	vfree(m->buf);
	kfree(m);
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Rings in the rxe userspace ABI layout (struct rxe_queue_buf): work
 * queues, shared receive queues and completion queues, mapped into the
 * owning process when it is a user object.
 *
 * Whatever user space can write (both indexes, the header, the elements)
 * is untrusted: the kernel keeps its own copy of the geometry and of the
 * index it owns, and masks every index it reads.
 */
#ifndef RXDP_QUEUE_H
#define RXDP_QUEUE_H

#include <linux/types.h>
#include <rdma/ib_verbs.h>
#include <rdma/rdma_user_rxe.h>

struct rxdp_mmap;

struct rxdp_queue {
	struct rxe_queue_buf	*buf;
	size_t			buf_size;
	u32			log2_elem_size;
	u32			index_mask;	/* slots - 1; one slot stays empty */
	u32			prod;		/* when the kernel produces */
	u32			cons;		/* when the kernel consumes */
	struct rxdp_mmap	*mmap;		/* set when user space maps it */
};

int rxdp_queue_init(struct rxdp_queue *q, struct ib_device *ibdev,
		    u32 *num_elem, size_t elem_size, struct ib_udata *udata,
		    struct mminfo *mi);
void rxdp_queue_free(struct rxdp_queue *q);
int rxdp_queue_resize_prepare(struct rxdp_queue *nq,
			      const struct rxdp_queue *q,
			      struct ib_device *ibdev, u32 *num_elem,
			      struct ib_udata *udata, struct mminfo *mi);
int rxdp_queue_resize_commit(struct rxdp_queue *q, struct rxdp_queue *nq,
			     spinlock_t *lock, bool kernel_produces);

static inline u32 rxdp_queue_capacity(const struct rxdp_queue *q)
{
	return q->index_mask;
}

static inline void *rxdp_queue_addr(const struct rxdp_queue *q, u32 index)
{
	return q->buf->data + ((size_t)(index & q->index_mask) <<
			       q->log2_elem_size);
}

/*
 * Index loads acquire and stores release: an element is written before
 * the producer index that covers it, and read before the consumer index
 * that releases it, on either side of the user/kernel boundary.
 */

/* The producer index as the other side (or a kernel poster) published it. */
static inline u32 rxdp_queue_load_prod(const struct rxdp_queue *q)
{
	/* pairs with the producer's release */
	return smp_load_acquire(&q->buf->producer_index) & q->index_mask;
}

static inline u32 rxdp_queue_load_cons(const struct rxdp_queue *q)
{
	/* pairs with the consumer's release */
	return smp_load_acquire(&q->buf->consumer_index) & q->index_mask;
}

static inline u32 rxdp_queue_count(const struct rxdp_queue *q, u32 prod,
				   u32 cons)
{
	return (prod - cons) & q->index_mask;
}

/* Kernel producer: publish the element at q->prod. */
static inline void rxdp_queue_advance_prod(struct rxdp_queue *q)
{
	q->prod = (q->prod + 1) & q->index_mask;
	/* the element is complete before the index covers it */
	smp_store_release(&q->buf->producer_index, q->prod);
}

/* Kernel consumer: release every element before index. */
static inline void rxdp_queue_set_cons(struct rxdp_queue *q, u32 index)
{
	q->cons = index & q->index_mask;
	/* done reading the elements before the slots are reused */
	smp_store_release(&q->buf->consumer_index, q->cons);
}

/* Kernel consumer: release the element at q->cons. */
static inline void rxdp_queue_advance_cons(struct rxdp_queue *q)
{
	rxdp_queue_set_cons(q, q->cons + 1);
}

/* Drop every element without looking at it (RESET). */
static inline void rxdp_queue_empty(struct rxdp_queue *q)
{
	q->prod = rxdp_queue_load_prod(q);
	rxdp_queue_set_cons(q, q->prod);
}

/* mmap support, called from the device's mmap ops */
int rxdp_mmap(struct ib_ucontext *uctx, struct vm_area_struct *vma);
void rxdp_mmap_free(struct rdma_user_mmap_entry *entry);

#endif /* RXDP_QUEUE_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * The rings of the rxe ABI as a hostile process sees them, and becoming
 * that process.  Apart from rxdp_test.c: the rxe ABI header pulls in the
 * kernel's <linux/in.h>, which clashes with libc's <netinet/in.h>.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <rdma/ib_user_verbs.h>
#include <rdma/rdma_user_rxe.h>

#include "rxdp_test.h"

struct rxe_queue_buf *uverbs_ring(uint32_t index_mask)
{
	unsigned long start, end;
	char line[512];
	FILE *f;
	void *found = NULL;

	f = fopen("/proc/self/maps", "r");
	if (!f)
		return NULL;
	while (!found && fgets(line, sizeof(line), f)) {
		struct rxe_queue_buf *q;

		if (!strstr(line, "/dev/infiniband/uverbs") ||
		    sscanf(line, "%lx-%lx", &start, &end) != 2 ||
		    end - start < sizeof(*q))
			continue;
		q = (struct rxe_queue_buf *)start;
		if (q->index_mask == index_mask)
			found = q;
	}
	fclose(f);
	return found;
}

int uverbs_write(struct ibv_context *ctx, uint32_t command, void *req,
		 size_t len, size_t out_len)
{
	struct ib_uverbs_cmd_hdr *hdr = req;

	hdr->command = command;
	hdr->in_words = len / 4;
	hdr->out_words = out_len / 4;
	if (write(ctx->cmd_fd, req, len) != (ssize_t)len)
		return errno;
	return 0;
}

int uverbs_sq_doorbell(struct ibv_qp *qp)
{
	struct ib_uverbs_post_send_resp resp;
	struct {
		struct ib_uverbs_cmd_hdr hdr;
		struct ib_uverbs_post_send cmd;
	} req = {
		.cmd = {
			.response = (uintptr_t)&resp,
			.qp_handle = qp->handle,
			.wqe_size = sizeof(struct ib_uverbs_send_wr),
		},
	};

	return uverbs_write(qp->context, IB_USER_VERBS_CMD_POST_SEND, &req,
			    sizeof(req), sizeof(resp));
}

/* 6.12's FLUSH member of the WQE's union, newer than this system's header */
struct rxe_flush_wr {
	uint64_t remote_addr;
	uint32_t length;
	uint32_t rkey;
	uint8_t type;
	uint8_t level;
};

int uverbs_post_flush(struct ibv_qp *qp, uint32_t sq_mask, uint64_t wr_id,
		      uint32_t rkey, uint64_t addr, uint32_t len,
		      uint8_t type, uint8_t level)
{
	struct rxe_queue_buf *q = uverbs_ring(sq_mask);
	struct rxe_flush_wr f = {
		.remote_addr = addr, .length = len, .rkey = rkey,
		.type = type, .level = level,
	};
	struct rxe_send_wqe *w;
	uint32_t prod, cons;

	if (!q)
		return ENOENT;
	prod = atomic_load_explicit((_Atomic uint32_t *)&q->producer_index,
				    memory_order_relaxed);
	cons = atomic_load_explicit((_Atomic uint32_t *)&q->consumer_index,
				    memory_order_acquire);
	if (((prod + 1) & sq_mask) == (cons & sq_mask))
		return ENOSPC;
	w = (struct rxe_send_wqe *)(q->data +
				    ((size_t)(prod & sq_mask) <<
				     q->log2_elem_size));
	memset(w, 0, (size_t)1 << q->log2_elem_size);
	w->wr.wr_id = wr_id;
	w->wr.opcode = WR_FLUSH;
	w->wr.send_flags = IBV_SEND_SIGNALED;
	memcpy(&w->wr.wr, &f, sizeof(f));
	w->iova = addr;
	w->dma.length = len;
	w->dma.resid = len;
	atomic_store_explicit((_Atomic uint32_t *)&q->producer_index,
			      (prod + 1) & sq_mask, memory_order_release);
	return uverbs_sq_doorbell(qp);
}

int become_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		return -1;
	/* a uid change from root clears the capability sets: check */
	return setresuid(0, 0, 0) == 0 ? -1 : 0;
}

int run_as_nobody(int (*fn)(void *), void *arg, int ms)
{
	long end = now_ms() + (long)ms * test_timeout_scale();
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (become_nobody()) {
			fprintf(stderr, "# cannot become nobody: %s\n",
				strerror(errno));
			_exit(125);
		}
		_exit(fn(arg));
	}
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid && WIFEXITED(status))
			return WEXITSTATUS(status);
		if (r == pid) {
			fprintf(stderr, "# the unprivileged process died of signal %d\n",
				WTERMSIG(status));
			return -1;
		}
		if (r < 0 || now_ms() > end)
			break;
		usleep(20000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fprintf(stderr, "# the unprivileged process did not finish in time\n");
	return -1;
}

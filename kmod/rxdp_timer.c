// SPDX-License-Identifier: GPL-2.0
/*
 * Requester timers of an RC QP: the retransmit timer (Local ACK Timeout)
 * and the RNR NAK timer.
 *
 * The retransmit timer runs while packets are in flight and restarts on
 * progress; when it expires the completer sends again from the oldest
 * PSN not acknowledged, using up a retry (rxdp_comp_retry()).  The RNR
 * timer holds the requester back after an RNR NAK.  Both fire in softirq.
 */
#include "rxdp.h"

/* IB spec RNR NAK timer field -> microseconds (0 means the longest). */
static const u32 rxdp_rnr_usec[32] = {
	655360, 10, 20, 30, 40, 60, 80, 120, 160, 240, 320, 480, 640, 960,
	1280, 1920, 2560, 3840, 5120, 7680, 10240, 15360, 20480, 30720, 40960,
	61440, 81920, 122880, 163840, 245760, 327680, 491520,
};

/* Local ACK Timeout: 4.096 us * 2^timeout; 0 means infinite. */
static unsigned long rxdp_ack_timeout(u8 timeout)
{
	u64 ns = 4096ull << min_t(u8, timeout, 31);

	return max(nsecs_to_jiffies(ns), 1ul);
}

static void rxdp_retry_expired(struct timer_list *t)
{
	struct rxdp_qp *qp = from_timer(qp, t, retry_timer);

	rxdp_comp_retry(qp);
}

static void rxdp_rnr_expired(struct timer_list *t)
{
	struct rxdp_qp *qp = from_timer(qp, t, rnr_timer);
	unsigned long flags;

	/* the wait is over: the requester may send again */
	spin_lock_irqsave(&qp->sq.lock, flags);
	qp->req_rnr_wait = false;
	spin_unlock_irqrestore(&qp->sq.lock, flags);
	rxdp_req_kick(qp);
}

void rxdp_timers_init(struct rxdp_qp *qp)
{
	timer_setup(&qp->retry_timer, rxdp_retry_expired, 0);
	timer_setup(&qp->rnr_timer, rxdp_rnr_expired, 0);
}

/**
 * rxdp_retry_timer_arm - packets are in flight: run the retransmit timer
 * @qp: an RC QP
 *
 * Context: sq.lock held.
 */
void rxdp_retry_timer_arm(struct rxdp_qp *qp)
{
	if (qp->ibqp.qp_type != IB_QPT_RC || !qp->attr.timeout ||
	    timer_pending(&qp->retry_timer))
		return;
	mod_timer(&qp->retry_timer,
		  jiffies + rxdp_ack_timeout(qp->attr.timeout));
}

/**
 * rxdp_retry_timer_restart - progress: a full timeout from now, or none
 * @qp: an RC QP
 *
 * Context: sq.lock held.
 */
void rxdp_retry_timer_restart(struct rxdp_qp *qp)
{
	if (!rxdp_req_in_flight(qp)) {
		timer_delete(&qp->retry_timer);
		return;
	}
	if (qp->ibqp.qp_type == IB_QPT_RC && qp->attr.timeout)
		mod_timer(&qp->retry_timer,
			  jiffies + rxdp_ack_timeout(qp->attr.timeout));
}

/**
 * rxdp_rnr_timer_start - wait before sending again after an RNR NAK
 * @qp: the QP
 * @rnr_timer: the timer field of the NAK
 */
void rxdp_rnr_timer_start(struct rxdp_qp *qp, u8 rnr_timer)
{
	mod_timer(&qp->rnr_timer,
		  jiffies + usecs_to_jiffies(rxdp_rnr_usec[rnr_timer & 31]));
}

/* Stop both timers; one may be running on another CPU. */
void rxdp_timers_stop(struct rxdp_qp *qp)
{
	timer_delete(&qp->retry_timer);
	timer_delete(&qp->rnr_timer);
}

/* Stop both timers and wait for their handlers; they may be armed again. */
void rxdp_timers_stop_sync(struct rxdp_qp *qp)
{
	timer_delete_sync(&qp->retry_timer);
	timer_delete_sync(&qp->rnr_timer);
}

/* For destroy: stop them for good, nothing runs after this returns. */
void rxdp_timers_shutdown(struct rxdp_qp *qp)
{
	timer_shutdown_sync(&qp->retry_timer);
	timer_shutdown_sync(&qp->rnr_timer);
}

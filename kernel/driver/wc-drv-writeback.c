// SPDX-License-Identifier: GPL-2.0
/*
 * Writeback passes, their throttle and drains; retiring finished jobs; and
 * the commit work.
 */
#include "wc-drv-priv.h"

void wc_drv_commit(struct wc_driver *d)
{
	wc_drv_lock(d);
	/* A failed commit has latched the error state: nothing to add. */
	wc_drv_run(d, WC_PROG_COMMIT, 0, 0);
	wc_drv_unlock(d);
}

/* Plans the pass; the lock is held, and dropped only by the waits. */
static void wc_drv_plan(struct wc_driver *d, int *requeue)
{
	int st;

restart:
	wc_core_writeback_begin(d->core);
	for (;;) {
		st = wc_core_writeback_plan(d->core, d->ops->now_ms(d->ctx),
					    d->writeback_all, requeue);
		if (st == WC_WB_NEED_COMMIT) {
			/* The commit's error is latched: stop planning. */
			if (wc_drv_run(d, WC_PROG_COMMIT, 0, 0))
				return;
			continue;
		}
		if (st == WC_WB_WAIT_CACHE_WRITES) {
			d->ops->wait_cache_io(d->ctx, 1);
			continue;
		}
		if (st == WC_WB_WAIT) {
			if (wc_drv_sleep(d, WC_DRV_WAIT_WRITEBACK))
				return;
			goto restart;
		}
		return;
	}
}

void wc_drv_writeback(struct wc_driver *d)
{
	const struct wc_drv_ops *ops = d->ops;
	unsigned int max_jobs = wc_core_writeback_jobs(d->core);
	struct wc_wb_job job;
	int requeue = 0;

	wc_drv_lock(d);
	wc_drv_plan(d, &requeue);
	wc_drv_handle_events(d);
	if (requeue && !ops->suspended(d->ctx))
		ops->queue(d->ctx, WC_DRV_WORK_WRITEBACK);

	while (wc_core_writeback_next_job(d->core, &job)) {
		wc_drv_unlock(d);
		ops->submit_job(d->ctx, &job);
		wc_drv_lock(d);
		/* writeback_jobs: at most that many blocks in flight. */
		while (max_jobs && !wc_core_error(d->core) &&
		       wc_core_writeback_blocks(d->core) -
		       wc_core_writeback_queued(d->core) >= max_jobs)
			if (wc_drv_sleep(d, WC_DRV_WAIT_JOBS))
				break;
	}
	if (d->writeback_all) {
		while (wc_core_writeback_blocks(d->core))
			if (wc_drv_sleep(d, WC_DRV_WAIT_WRITEBACK))
				break;
	}
	wc_drv_unlock(d);
}

/* Frees the blocks of finished jobs; the core flushes the origin first (I3). */
void wc_drv_retire(struct wc_driver *d)
{
	struct wc_block head;
	int error;

	wc_drv_lock(d);
	while (d->ops->pop_done(d->ctx, &head, &error))
		wc_core_writeback_done(d->core, head, error);
	/* A failed origin flush latches the error; the blocks stay cached. */
	wc_drv_run(d, WC_PROG_RETIRE, 0, 0);
	wc_drv_unlock(d);
}

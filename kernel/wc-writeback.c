// SPDX-License-Identifier: GPL-2.0
/*
 * Writeback jobs through dm-kcopyd (SSD) or bios built from the mapping
 * (PMEM), their retirement in process context, and the work items that run
 * the driver's writeback passes and commits.
 */
#include <linux/blkdev.h>
#include <linux/mempool.h>
#include <linux/sched.h>

#include "wc-target.h"

/* --- pause_writeback: idle tracking of origin writes ---------------------- */

void wc_origin_write_begin(struct wc_origin_tracker *t)
{
	unsigned long flags;

	spin_lock_irqsave(&t->lock, flags);
	t->in_flight++;
	spin_unlock_irqrestore(&t->lock, flags);
}

void wc_origin_write_end(struct wc_origin_tracker *t)
{
	unsigned long flags;

	spin_lock_irqsave(&t->lock, flags);
	if (!--t->in_flight)
		t->idle_since = jiffies;
	spin_unlock_irqrestore(&t->lock, flags);
}

static unsigned long wc_origin_idle_jiffies(struct wc_origin_tracker *t)
{
	unsigned long flags, idle;

	spin_lock_irqsave(&t->lock, flags);
	idle = t->in_flight ? 0 : jiffies - t->idle_since;
	spin_unlock_irqrestore(&t->lock, flags);
	return idle;
}

/* --- jobs ------------------------------------------------------------------- */

/* From the copy's completion, possibly in interrupt context. */
static void wc_copy_done(struct wc_copy *c)
{
	struct wc_target *wc = c->wc;
	unsigned long flags;

	spin_lock_irqsave(&wc->retire_lock, flags);
	list_add_tail(&c->list, &wc->retire_list);
	spin_unlock_irqrestore(&wc->retire_lock, flags);
	queue_work(wc->retire_wq, &wc->retire_work);
}

static void wc_kcopyd_done(int read_err, unsigned long write_err, void *context)
{
	struct wc_copy *c = context;

	c->error = (read_err || write_err) ? -EIO : 0;
	wc_copy_done(c);
}

static void wc_pmem_writeback_endio(struct bio *bio)
{
	struct wc_copy *c = bio->bi_private;

	c->error = blk_status_to_errno(bio->bi_status);
	bio_put(bio);
	wc_copy_done(c);
}

void wc_submit_job(void *ctx, const struct wc_wb_job *job)
{
	struct wc_target *wc = ctx;
	struct dm_io_region from, to;
	struct wc_copy *c = mempool_alloc(&wc->copy_pool, GFP_NOIO);
	struct bio *bio;

	c->wc = wc;
	c->head = job->head;
	c->error = 0;
	if (!job->nr_sectors) {
		/* Beyond the end of a shrunken origin: nothing to copy. */
		wc_copy_done(c);
		return;
	}
	if (wc->pmem) {
		bio = wc_pmem_writeback_bio(wc, job);
		if (!bio) {
			/* cannot happen: nr_blocks vecs of at most a page */
			c->error = -EIO;
			wc_copy_done(c);
			return;
		}
		bio->bi_private = c;
		bio->bi_end_io = wc_pmem_writeback_endio;
		submit_bio(bio);
		return;
	}
	from.bdev = wc->cache->bdev;
	from.sector = job->cache_sector;
	from.count = job->nr_sectors;
	to.bdev = wc->origin->bdev;
	to.sector = job->origin_sector;
	to.count = job->nr_sectors;
	dm_kcopyd_copy(wc->kcopyd, &from, 1, &to, 0, wc_kcopyd_done, c);
}

/* The retire work's completions, one by one; only that work calls this. */
int wc_pop_done(void *ctx, struct wc_block *head, int *error)
{
	struct wc_target *wc = ctx;
	struct wc_copy *c = list_first_entry_or_null(&wc->retiring, struct wc_copy, list);

	if (!c)
		return 0;
	*head = c->head;
	*error = c->error;
	list_del(&c->list);
	mempool_free(c, &wc->copy_pool);
	return 1;
}

void wc_retire_work(struct work_struct *work)
{
	struct wc_target *wc = container_of(work, struct wc_target, retire_work);

	spin_lock_irq(&wc->retire_lock);
	list_splice_init(&wc->retire_list, &wc->retiring);
	spin_unlock_irq(&wc->retire_lock);
	if (list_empty(&wc->retiring))
		return;
	wc_drv_retire(&wc->drv);
}

/* --- work items ---------------------------------------------------------------- */

void wc_commit_work(struct work_struct *work)
{
	struct wc_target *wc = container_of(work, struct wc_target, commit_work);

	wc_drv_commit(&wc->drv);
}

void wc_writeback_work(struct work_struct *work)
{
	struct wc_target *wc = container_of(work, struct wc_target, writeback_work);
	unsigned long pause = msecs_to_jiffies(wc_core_pause_ms(wc->core));

	/* Let kcopyd finish what it has, so completions can retire. */
	if (wc->kcopyd)
		dm_kcopyd_client_flush(wc->kcopyd);

	/* pause_writeback: wait until the origin has been idle that long. */
	while (pause && !wc_core_cleaner(wc->core) && !READ_ONCE(wc->drv.writeback_all) &&
	       !dm_suspended(wc->ti)) {
		unsigned long idle = wc_origin_idle_jiffies(&wc->origin_writes);

		if (idle >= pause)
			break;
		schedule_timeout_idle(min(pause - idle, (unsigned long)HZ));
	}
	wc_drv_writeback(&wc->drv);
}

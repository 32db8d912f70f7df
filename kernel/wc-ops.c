// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel half of the driver (wc_driver.h): its lock, sleeps, work,
 * bios and metadata I/O.
 */
#include <linux/blkdev.h>
#include <linux/sched.h>

#include "wc-target.h"

unsigned long long wc_now_ms(void)
{
	return jiffies_to_msecs(jiffies);
}

/* From end_io, possibly in interrupt context: latched at the next lock. */
void wc_note_error(struct wc_target *wc, unsigned int what)
{
	atomic_or(what, &wc->pending_errors);
	/* Writers sleeping on a full cache must see the error. */
	wake_up(&wc->freelist_wait);
}

/* Before wc_note_error: the driver takes the ranges when it sees the bit. */
void wc_note_failed_write(struct wc_target *wc, const struct wc_per_bio *pb)
{
	struct wc_failed_writes *f = &wc->failed_writes;
	unsigned long flags;

	spin_lock_irqsave(&f->lock, flags);
	if (f->nr < WC_FAILED_WRITES) {
		f->range[f->nr].sector = pb->sector;
		f->range[f->nr].nr_sectors = pb->nr_sectors;
		f->nr++;
	} else {
		f->overflow = true;
	}
	spin_unlock_irqrestore(&f->lock, flags);
}

static int wc_op_take_failed_write(void *ctx, unsigned long long *sector,
				   unsigned int *nr_sectors)
{
	struct wc_failed_writes *f = &((struct wc_target *)ctx)->failed_writes;
	unsigned long flags;
	int r = WC_DRV_FAILED_NONE;

	spin_lock_irqsave(&f->lock, flags);
	if (f->overflow) {
		f->overflow = false;
		f->nr = 0;
		r = WC_DRV_FAILED_UNKNOWN;
	} else if (f->nr) {
		f->nr--;
		*sector = f->range[f->nr].sector;
		*nr_sectors = f->range[f->nr].nr_sectors;
		r = WC_DRV_FAILED_RANGE;
	}
	spin_unlock_irqrestore(&f->lock, flags);
	return r;
}

static void wc_op_lock(void *ctx)
{
	struct wc_target *wc = ctx;

	mutex_lock(&wc->lock);
}

static void wc_op_unlock(void *ctx)
{
	struct wc_target *wc = ctx;

	mutex_unlock(&wc->lock);
}

static unsigned int wc_op_take_errors(void *ctx)
{
	struct wc_target *wc = ctx;

	if (likely(!atomic_read(&wc->pending_errors)))
		return 0;
	return atomic_xchg(&wc->pending_errors, 0);
}

static unsigned long long wc_op_now_ms(void *ctx)
{
	return wc_now_ms();
}

/* Every WC_DRV_WAIT_* reason sleeps on freelist_wait. */
static int wc_op_sleep(void *ctx, int why)
{
	struct wc_target *wc = ctx;
	DEFINE_WAIT(wait);

	prepare_to_wait(&wc->freelist_wait, &wait, TASK_UNINTERRUPTIBLE);
	mutex_unlock(&wc->lock);
	io_schedule();
	finish_wait(&wc->freelist_wait, &wait);
	mutex_lock(&wc->lock);
	return 0;
}

static void wc_op_queue(void *ctx, unsigned int work)
{
	struct wc_target *wc = ctx;

	if (work & WC_DRV_WORK_WRITEBACK)
		queue_work(wc->wq, &wc->writeback_work);
	if (work & WC_DRV_WORK_COMMIT)
		queue_work(wc->wq, &wc->commit_work);
	if ((work & WC_DRV_WORK_ARM_AUTOCOMMIT) && !timer_pending(&wc->autocommit_timer))
		mod_timer(&wc->autocommit_timer, jiffies + wc->autocommit_jiffies);
	if (work & WC_DRV_WORK_WAKE)
		wake_up(&wc->freelist_wait);
}

static void wc_op_wait_cache_io(void *ctx, int write)
{
	struct wc_target *wc = ctx;
	int dir = write ? WRITE : READ;

	wait_event(wc->cache_in_flight_wait[dir], !atomic_read(&wc->cache_in_flight[dir]));
}

static void wc_op_accept_partial(void *ctx, void *bio, unsigned int sectors)
{
	dm_accept_partial_bio(bio, sectors);
}

static void wc_op_remap(void *ctx, void *b, const struct wc_bio *wb,
			const struct wc_map_result *res)
{
	struct wc_target *wc = ctx;
	struct bio *bio = b;
	struct wc_per_bio *pb = dm_per_bio_data(bio, sizeof(*pb));
	int dir;

	if (res->action == WC_MAP_REMAP_ORIGIN) {
		if (res->flags & WC_MAPF_ORIGIN_WRITE) {
			pb->flags |= WC_PB_ORIGIN_WRITE;
			wc_origin_write_begin(&wc->origin_writes);
		}
		if ((wb->flags & WC_BIO_WRITE) &&
		    !(wb->flags & (WC_BIO_DISCARD | WC_BIO_PREFLUSH)))
			pb->flags |= WC_PB_ORIGIN_WRITE_ANY;
		bio_set_dev(bio, wc->origin->bdev);
		return;
	}
	bio_set_dev(bio, wc->cache->bdev);
	bio->bi_iter.bi_sector = res->sector;
	dir = bio_data_dir(bio);
	pb->flags |= dir == WRITE ? WC_PB_CACHE_WRITE : WC_PB_CACHE_READ;
	pb->sector = wb->sector;
	pb->nr_sectors = wb->nr_sectors;
	if (res->flags & WC_MAPF_COMMIT_AFTER)
		pb->flags |= WC_PB_COMMIT_AFTER;
	atomic_inc(&wc->cache_in_flight[dir]);
}

static void wc_op_copy_pmem(void *ctx, void *bio, void *pmem, unsigned int bytes)
{
	wc_pmem_copy_block(ctx, bio, pmem, bytes);
}

static int wc_op_suspended(void *ctx)
{
	struct wc_target *wc = ctx;

	return dm_suspended(wc->ti);
}

static void wc_op_finish_work(void *ctx, int drain)
{
	struct wc_target *wc = ctx;

	if (drain)
		drain_workqueue(wc->wq);
	else
		flush_workqueue(wc->wq);
}

static void wc_op_bug(void *ctx, const char *what)
{
	WARN_ONCE(1, "writecache: %s\n", what);
}

const struct wc_drv_ops wc_kernel_ops = {
	.lock = wc_op_lock,
	.unlock = wc_op_unlock,
	.take_errors = wc_op_take_errors,
	.take_failed_write = wc_op_take_failed_write,
	.now_ms = wc_op_now_ms,
	.sleep = wc_op_sleep,
	.queue = wc_op_queue,
	.meta_read = wc_meta_read,
	.meta_write = wc_meta_write,
	.meta_write_fua = wc_meta_write_fua,
	.meta_wait = wc_meta_wait,
	.flush = wc_flush_device,
	.wait_cache_io = wc_op_wait_cache_io,
	.accept_partial = wc_op_accept_partial,
	.remap = wc_op_remap,
	.copy_pmem = wc_op_copy_pmem,
	.submit_job = wc_submit_job,
	.pop_done = wc_pop_done,
	.suspended = wc_op_suspended,
	.finish_work = wc_op_finish_work,
	.bug = wc_op_bug,
};

// SPDX-License-Identifier: GPL-2.0
/*
 * The I/O the core asks for: metadata programs through dm-io, writeback
 * through dm-kcopyd, and the threads and work items that run them.
 */
#include <linux/blkdev.h>
#include <linux/kthread.h>
#include <linux/mempool.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "wc-target.h"

unsigned long long wc_now_ms(void)
{
	return jiffies_to_msecs(jiffies);
}

/*
 * Takes the lock, and hands the core the device errors end_io saw since:
 * a failed write to either device, or a failed read of the cache, latches
 * the error state (new writes fail, committed data stays readable).
 */
void wc_lock(struct wc_target *wc)
{
	int what;

	mutex_lock(&wc->lock);
	what = atomic_xchg(&wc->pending_errors, 0);
	if (likely(!what))
		return;
	if (what & WC_ERR_CACHE_WRITE)
		wc_core_set_error(wc->core, -EIO, "I/O error writing to the cache device");
	else if (what & WC_ERR_CACHE_READ)
		wc_core_set_error(wc->core, -EIO, "I/O error reading from the cache device");
	else
		wc_core_set_error(wc->core, -EIO, "I/O error writing to the origin device");
	wc_handle_events(wc);
}

/* From end_io, possibly in interrupt context. */
void wc_note_error(struct wc_target *wc, int what)
{
	atomic_or(what, &wc->pending_errors);
	/* Writers sleeping on a full cache must see the error. */
	wake_up(&wc->freelist_wait);
}

void wc_wait_on_freelist(struct wc_target *wc)
{
	DEFINE_WAIT(wait);

	prepare_to_wait(&wc->freelist_wait, &wait, TASK_UNINTERRUPTIBLE);
	mutex_unlock(&wc->lock);
	io_schedule();
	finish_wait(&wc->freelist_wait, &wait);
	wc_lock(wc);
}

/* Acts on what the last calls into the core asked for.  Lock held. */
void wc_handle_events(struct wc_target *wc)
{
	unsigned int ev = wc_core_take_events(wc->core);

	if ((ev & WC_EV_KICK_WRITEBACK) && !wc->suspending)
		queue_work(wc->wq, &wc->writeback_work);
	if ((ev & WC_EV_COMMIT_SOON) && !wc->suspending)
		queue_work(wc->wq, &wc->commit_work);
	if ((ev & WC_EV_ARM_AUTOCOMMIT) && !timer_pending(&wc->autocommit_timer))
		mod_timer(&wc->autocommit_timer, jiffies + wc->autocommit_jiffies);
	if (ev & WC_EV_WAKE_FREELIST)
		wake_up(&wc->freelist_wait);
}

/* --- metadata programs ------------------------------------------------- */

struct wc_async {
	struct completion done;
	atomic_t count;
	int error;
};

static void wc_async_notify(unsigned long error, void *context)
{
	struct wc_async *a = context;

	if (error)
		WRITE_ONCE(a->error, -EIO);
	if (atomic_dec_and_test(&a->count))
		complete(&a->done);
}

/* Waits for every async write issued so far; returns their first error. */
static int wc_async_wait(struct wc_async *a)
{
	int error;

	wc_async_notify(0, a);
	wait_for_completion_io(&a->done);
	error = a->error;
	reinit_completion(&a->done);
	atomic_set(&a->count, 1);
	a->error = 0;
	return error;
}

static int wc_meta_io(struct wc_target *wc, blk_opf_t opf, void *buf,
		      sector_t sector, unsigned int nr_sectors,
		      struct wc_async *async)
{
	struct dm_io_region region = {
		.bdev = wc->cache->bdev,
		.sector = sector,
		.count = nr_sectors,
	};
	struct dm_io_request req = {
		.bi_opf = opf,
		.mem.type = DM_IO_VMA,
		.mem.ptr.vma = buf,
		.client = wc->dm_io,
	};

	if (async) {
		req.notify.fn = wc_async_notify;
		req.notify.context = async;
		atomic_inc(&async->count);
	}
	return dm_io(&req, 1, &region, NULL, IOPRIO_DEFAULT);
}

int wc_read_sync(struct wc_target *wc, void *buf, sector_t sector,
		 unsigned int nr_sectors)
{
	return wc_meta_io(wc, REQ_OP_READ | REQ_SYNC, buf, sector, nr_sectors, NULL);
}

static int wc_flush_device(struct wc_target *wc, struct dm_dev *dev)
{
	struct dm_io_region region = {
		.bdev = dev->bdev,
		.sector = 0,
		.count = 0,
	};
	struct dm_io_request req = {
		.bi_opf = REQ_OP_WRITE | REQ_PREFLUSH,
		.mem.type = DM_IO_KMEM,
		.mem.ptr.addr = NULL,
		.client = wc->dm_io,
	};

	return dm_io(&req, 1, &region, NULL, IOPRIO_DEFAULT);
}

static void wc_wait_cache_io(struct wc_target *wc, int dir)
{
	wait_event(wc->cache_in_flight_wait[dir],
		   !atomic_read(&wc->cache_in_flight[dir]));
}

/*
 * Executes one of the core's programs to its end.  Lock held throughout:
 * the ordering the core relies on assumes no bio is mapped meanwhile.
 */
int wc_run_program(struct wc_target *wc, int program,
		   unsigned long long arg0, unsigned long long arg1)
{
	struct wc_async async;
	struct wc_io_op op;
	unsigned int slot = 0;
	int result = 0;

	init_completion(&async.done);
	atomic_set(&async.count, 1);
	async.error = 0;

	wc_core_program_start(wc->core, program, arg0, arg1);
	for (;;) {
		op.buf = wc->meta_buf[slot];
		wc_core_program_step(wc->core, &op, result);
		result = 0;
		switch (op.kind) {
		case WC_IO_DONE:
			/* Programs end with a WAIT after their writes. */
			WARN_ON_ONCE(atomic_read(&async.count) != 1);
			wc_handle_events(wc);
			return op.error;
		case WC_IO_META_WRITE:
			wc_meta_io(wc, REQ_OP_WRITE | REQ_SYNC, op.buf, op.sector,
				   op.nr_sectors, &async);
			if (++slot == WC_META_BUFS) {
				/* Out of buffers: wait, keep the error. */
				int e = wc_async_wait(&async);

				if (e)
					async.error = e;
				slot = 0;
			}
			break;
		case WC_IO_META_WRITE_FUA:
			result = wc_meta_io(wc, REQ_OP_WRITE | REQ_SYNC | REQ_FUA,
					    op.buf, op.sector, op.nr_sectors, NULL);
			break;
		case WC_IO_META_READ:
			result = wc_read_sync(wc, op.buf, op.sector, op.nr_sectors);
			break;
		case WC_IO_WAIT:
			result = wc_async_wait(&async);
			slot = 0;
			break;
		case WC_IO_WAIT_CACHE_WRITES:
			wc_wait_cache_io(wc, WRITE);
			break;
		case WC_IO_WAIT_CACHE_READS:
			wc_wait_cache_io(wc, READ);
			break;
		case WC_IO_FLUSH_CACHE:
			result = wc_flush_device(wc, wc->cache);
			break;
		case WC_IO_FLUSH_ORIGIN:
			result = wc_flush_device(wc, wc->origin);
			break;
		default:
			WARN_ON_ONCE(1);
			return -EINVAL;
		}
	}
}

/* --- pause_writeback: idle tracking of origin writes ----------------------- */

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

/* --- commits and flushes ------------------------------------------------------ */

void wc_commit_work(struct work_struct *work)
{
	struct wc_target *wc = container_of(work, struct wc_target, commit_work);

	wc_lock(wc);
	wc_run_program(wc, WC_PROG_COMMIT, 0, 0);
	mutex_unlock(&wc->lock);
}

/* Called from map and from end_io, which may run in interrupt context. */
void wc_defer_bio(struct wc_target *wc, struct bio *bio)
{
	unsigned long flags;
	bool wake;

	spin_lock_irqsave(&wc->flush_lock, flags);
	wake = bio_list_empty(&wc->flush_list);
	bio_list_add(&wc->flush_list, bio);
	spin_unlock_irqrestore(&wc->flush_lock, flags);
	if (wake)
		wake_up_process(wc->flush_thread);
}

int wc_flush_thread(void *data)
{
	struct wc_target *wc = data;

	for (;;) {
		struct bio *bio;
		int r;

		spin_lock_irq(&wc->flush_lock);
		bio = bio_list_pop(&wc->flush_list);
		if (!bio)
			set_current_state(TASK_INTERRUPTIBLE);
		spin_unlock_irq(&wc->flush_lock);

		if (!bio) {
			if (kthread_should_stop()) {
				set_current_state(TASK_RUNNING);
				break;
			}
			schedule();
			continue;
		}

		wc_lock(wc);
		if (bio_op(bio) == REQ_OP_DISCARD) {
			wc_run_program(wc, WC_PROG_DISCARD, bio->bi_iter.bi_sector,
				       bio_end_sector(bio));
			mutex_unlock(&wc->lock);
			bio_set_dev(bio, wc->origin->bdev);
			submit_bio_noacct(bio);
			continue;
		}
		/* An empty flush, or a FUA write that reached the cache. */
		r = wc_run_program(wc, WC_PROG_COMMIT, 0, 0);
		if (!r && wc_core_error(wc->core))
			r = -EIO;
		mutex_unlock(&wc->lock);
		if (r)
			bio->bi_status = BLK_STS_IOERR;
		bio_endio(bio);
	}
	return 0;
}

/* --- writeback -------------------------------------------------------------------- */

void wc_copy_done(struct wc_copy *c)
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

/*
 * Frees the blocks whose copies completed.  The core flushes the origin
 * before it frees anything (invariant I3).
 */
void wc_retire_work(struct work_struct *work)
{
	struct wc_target *wc = container_of(work, struct wc_target, retire_work);
	struct wc_copy *c, *tmp;
	LIST_HEAD(list);

	spin_lock_irq(&wc->retire_lock);
	list_splice_init(&wc->retire_list, &list);
	spin_unlock_irq(&wc->retire_lock);
	if (list_empty(&list))
		return;

	wc_lock(wc);
	list_for_each_entry_safe(c, tmp, &list, list) {
		wc_core_writeback_done(wc->core, c->head, c->error);
		list_del(&c->list);
		mempool_free(c, &wc->copy_pool);
	}
	wc_run_program(wc, WC_PROG_RETIRE, 0, 0);
	mutex_unlock(&wc->lock);
}

static void wc_submit_job(struct wc_target *wc, const struct wc_wb_job *job)
{
	struct dm_io_region from, to;
	struct wc_copy *c = mempool_alloc(&wc->copy_pool, GFP_NOIO);

	c->wc = wc;
	c->head = job->head;
	c->error = 0;
	if (!job->nr_sectors) {
		/* Beyond the end of a shrunken origin: nothing to copy. */
		wc_copy_done(c);
		return;
	}
	if (wc->pmem) {
		wc_pmem_submit_job(wc, job, c);
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

void wc_writeback_work(struct work_struct *work)
{
	struct wc_target *wc = container_of(work, struct wc_target, writeback_work);
	unsigned long pause = msecs_to_jiffies(wc_core_pause_ms(wc->core));
	unsigned int max_jobs = wc_core_writeback_jobs(wc->core);
	struct wc_wb_job job;
	int requeue = 0;

	/* Let kcopyd finish what it has, so completions can retire. */
	if (wc->kcopyd)
		dm_kcopyd_client_flush(wc->kcopyd);

	/* pause_writeback: wait until the origin has been idle that long. */
	while (pause && !wc_core_cleaner(wc->core) && !READ_ONCE(wc->writeback_all) &&
	       !dm_suspended(wc->ti)) {
		unsigned long idle = wc_origin_idle_jiffies(&wc->origin_writes);

		if (idle >= pause)
			break;
		schedule_timeout_idle(min(pause - idle, (unsigned long)HZ));
	}

	wc_lock(wc);
restart:
	wc_core_writeback_begin(wc->core);
	for (;;) {
		int st = wc_core_writeback_plan(wc->core, wc_now_ms(),
						wc->writeback_all, &requeue);

		if (st == WC_WB_NEED_COMMIT) {
			if (wc_run_program(wc, WC_PROG_COMMIT, 0, 0))
				break;
			continue;
		}
		if (st == WC_WB_WAIT_CACHE_WRITES) {
			wc_wait_cache_io(wc, WRITE);
			continue;
		}
		if (st == WC_WB_WAIT) {
			wc_wait_on_freelist(wc);
			goto restart;
		}
		break;
	}
	wc_handle_events(wc);
	if (requeue && !dm_suspended(wc->ti))
		queue_work(wc->wq, &wc->writeback_work);

	while (wc_core_writeback_next_job(wc->core, &job)) {
		mutex_unlock(&wc->lock);
		wc_submit_job(wc, &job);
		cond_resched();
		wc_lock(wc);
		while (max_jobs && !wc_core_error(wc->core) &&
		       wc_core_writeback_blocks(wc->core) -
		       wc_core_writeback_queued(wc->core) >= max_jobs)
			wc_wait_on_freelist(wc);
	}
	if (wc->writeback_all) {
		while (wc_core_writeback_blocks(wc->core))
			wc_wait_on_freelist(wc);
	}
	mutex_unlock(&wc->lock);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The lock and its error latch, the core's events, and the executor of the
 * core's I/O programs.
 */
#include "wc-drv-priv.h"

/*
 * A failed write to either device, or a failed read of the cache, seen by
 * end_io (possibly in interrupt context, so the platform only records it),
 * latches the error state at the next lock: new writes fail, committed data
 * stays readable, no metadata is written again (I4).
 */
static void wc_drv_latch_errors(struct wc_driver *d)
{
	unsigned int what = d->ops->take_errors(d->ctx);

	if (!what)
		return;
	if (what & WC_DRV_ERR_CACHE_WRITE) {
		unsigned long long sector;
		unsigned int nr_sectors;
		int r;

		wc_core_set_error(d->core, -WC_EIO, "I/O error writing to the cache device");
		/*
		 * Before any later bio is mapped: a read of a block whose write
		 * failed must not find what that write left in the cache.
		 */
		while ((r = d->ops->take_failed_write(d->ctx, &sector, &nr_sectors)) !=
		       WC_DRV_FAILED_NONE) {
			if (r == WC_DRV_FAILED_RANGE)
				wc_core_forget_failed_write(d->core, sector, nr_sectors);
			else
				wc_core_forget_uncommitted(d->core);
		}
	} else if (what & WC_DRV_ERR_CACHE_READ) {
		wc_core_set_error(d->core, -WC_EIO, "I/O error reading from the cache device");
	} else {
		wc_core_set_error(d->core, -WC_EIO, "I/O error writing to the origin device");
	}
	wc_drv_handle_events(d);
}

void wc_drv_lock(struct wc_driver *d)
{
	d->ops->lock(d->ctx);
	wc_drv_latch_errors(d);
}

void wc_drv_unlock(struct wc_driver *d)
{
	d->ops->unlock(d->ctx);
}

int wc_drv_sleep(struct wc_driver *d, int why)
{
	int r = d->ops->sleep(d->ctx, why);

	wc_drv_latch_errors(d);
	return r;
}

void wc_drv_handle_events(struct wc_driver *d)
{
	unsigned int ev = wc_core_take_events(d->core);
	unsigned int work = 0;

	/* A suspending target starts no new commit or writeback. */
	if ((ev & WC_EV_KICK_WRITEBACK) && !d->suspending)
		work |= WC_DRV_WORK_WRITEBACK;
	if ((ev & WC_EV_COMMIT_SOON) && !d->suspending)
		work |= WC_DRV_WORK_COMMIT;
	if (ev & WC_EV_ARM_AUTOCOMMIT)
		work |= WC_DRV_WORK_ARM_AUTOCOMMIT;
	if (ev & WC_EV_WAKE_FREELIST)
		work |= WC_DRV_WORK_WAKE;
	if (work)
		d->ops->queue(d->ctx, work);
}

/*
 * The lock is held throughout: the ordering the core relies on (I1, I2)
 * assumes that no bio is mapped while a program runs.  Metadata writes are
 * asynchronous, WC_DRV_META_BUFS at a time; running out of buffers waits
 * for them and keeps their error for the program's own WC_IO_WAIT.
 */
int wc_drv_run(struct wc_driver *d, int program, unsigned long long arg0,
	       unsigned long long arg1)
{
	const struct wc_drv_ops *ops = d->ops;
	struct wc_io_op op;
	unsigned int slot = 0, pending = 0;
	int result = 0, write_error = 0;

	wc_core_program_start(d->core, program, arg0, arg1);
	for (;;) {
		op.buf = d->meta_buf[slot];
		wc_core_program_step(d->core, &op, result);
		result = 0;
		switch (op.kind) {
		case WC_IO_DONE:
			if (pending) {
				/* Buffers must not be reused while written. */
				ops->bug(d->ctx, "program ended with metadata writes in flight");
				ops->meta_wait(d->ctx);
			}
			wc_drv_handle_events(d);
			return op.error;
		case WC_IO_META_WRITE:
			ops->meta_write(d->ctx, op.buf, op.sector, op.nr_sectors);
			pending = 1;
			if (++slot == WC_DRV_META_BUFS) {
				int e = ops->meta_wait(d->ctx);

				if (e && !write_error)
					write_error = e;
				slot = 0;
				pending = 0;
			}
			break;
		case WC_IO_META_WRITE_FUA:
#ifdef WC_DRV_MUTANT_FUA_AS_PLAIN_WRITE
			/*
			 * Mutant (tests/mutants.list): the superblock written
			 * without FUA, so the commit it makes may not be
			 * durable when the flush is acknowledged.
			 */
			ops->meta_write(d->ctx, op.buf, op.sector, op.nr_sectors);
			result = ops->meta_wait(d->ctx);
			break;
#endif
			result = ops->meta_write_fua(d->ctx, op.buf, op.sector,
						     op.nr_sectors);
			break;
		case WC_IO_META_READ:
			result = ops->meta_read(d->ctx, op.buf, op.sector, op.nr_sectors);
			break;
		case WC_IO_WAIT:
			result = ops->meta_wait(d->ctx);
			if (!result)
				result = write_error;
			write_error = 0;
			slot = 0;
			pending = 0;
			break;
		case WC_IO_WAIT_CACHE_WRITES:
			ops->wait_cache_io(d->ctx, 1);
			/*
			 * A data write that failed during the wait must stop
			 * a commit before its superblock: else a committed
			 * entry would map data that never reached the cache.
			 */
			wc_drv_latch_errors(d);
			break;
		case WC_IO_WAIT_CACHE_READS:
			ops->wait_cache_io(d->ctx, 0);
			break;
		case WC_IO_FLUSH_CACHE:
#ifdef WC_DRV_MUTANT_SKIP_CACHE_FLUSH
			/*
			 * Mutant (tests/mutants.list; built only to show that
			 * the crash tests catch it): the commit's superblock is
			 * written without the data and entries before it being
			 * flushed (breaks I1).
			 */
			break;
#endif
			result = ops->flush(d->ctx, WC_DRV_CACHE);
			break;
		case WC_IO_FLUSH_ORIGIN:
#ifdef WC_DRV_MUTANT_SKIP_ORIGIN_FLUSH
			/*
			 * Mutant (tests/mutants.list): retire frees blocks
			 * whose writeback may still sit in the origin's
			 * volatile cache (breaks I3).
			 */
			break;
#endif
			result = ops->flush(d->ctx, WC_DRV_ORIGIN);
			break;
		default:
			ops->bug(d->ctx, "unknown program op");
			if (pending)
				ops->meta_wait(d->ctx);
			return -WC_EINVAL;
		}
	}
}

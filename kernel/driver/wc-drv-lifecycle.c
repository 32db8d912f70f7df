// SPDX-License-Identifier: GPL-2.0
/*
 * Open and format, resume (load), suspend, and the messages that need the
 * driver.
 */
#include "wc-drv-priv.h"

int wc_drv_open(struct wc_driver *d, unsigned int flags, const char **error)
{
	const void *first_block = 0;
	int need_format, r;

	if (!wc_core_is_pmem(d->core)) {
		r = wc_core_ssd_geometry(d->core, error);
		if (r)
			return r;
		r = d->ops->meta_read(d->ctx, d->meta_buf[0],
				      wc_core_start_sector(d->core),
				      wc_core_block_size(d->core) >> 9);
		if (r) {
			*error = "Unable to read first block of metadata";
			return r;
		}
		first_block = d->meta_buf[0];
	}
	r = wc_core_check_superblock(d->core, first_block, &need_format, error);
	if (r || !need_format)
		return r;
	if (flags & WC_DRV_OPEN_NO_FORMAT) {
		*error = "blank cache device";
		return -WC_ENODATA;
	}
	r = wc_drv_run(d, WC_PROG_FORMAT, 0, 0);
	if (r) {
		*error = "Unable to initialize device";
		return r;
	}
	return wc_core_check_superblock(d->core, 0, &need_format, error);
}

int wc_drv_resume(struct wc_driver *d, unsigned long long origin_sectors)
{
	int r;

	wc_drv_lock(d);
	/*
	 * The load fails only when the metadata cannot be read; anything else
	 * (its own metadata writes failing) latches the error state, which the
	 * status shows and which fails every write.  After a refused load
	 * the target stays suspended; with the error latched, any work the
	 * load queued does nothing.
	 */
	d->suspending = 0;
	r = wc_drv_run(d, WC_PROG_LOAD, origin_sectors, d->ops->now_ms(d->ctx));
	if (r)
		d->suspending = 1;
	wc_drv_unlock(d);
	return r;
}

void wc_drv_suspend(struct wc_driver *d)
{
	int flush_on_suspend;

	wc_drv_lock(d);
	/* postsuspend cannot fail: a failed commit latches the error state. */
	wc_drv_run(d, WC_PROG_COMMIT, 0, 0);
	flush_on_suspend = wc_core_flush_on_suspend(d->core);
	if (flush_on_suspend) {
		d->writeback_all++;
		d->ops->queue(d->ctx, WC_DRV_WORK_WRITEBACK);
	}
	d->suspending = 1;
	wc_drv_unlock(d);

	d->ops->finish_work(d->ctx, 1);

	wc_drv_lock(d);
	if (flush_on_suspend)
		d->writeback_all--;
	while (wc_core_writeback_blocks(d->core))
		if (wc_drv_sleep(d, WC_DRV_WAIT_WRITEBACK))
			break;
	wc_drv_unlock(d);
}

/* "flush": commit, then write everything back and wait for it. */
static int wc_drv_flush_message(struct wc_driver *d)
{
	int r = 0;

	wc_drv_lock(d);
	if (d->ops->suspended(d->ctx)) {
		wc_drv_unlock(d);
		return -WC_EBUSY;
	}
	if (wc_core_error(d->core)) {
		wc_drv_unlock(d);
		return -WC_EIO;
	}
	/* A failed commit latches the error, which the end checks. */
	wc_drv_run(d, WC_PROG_COMMIT, 0, 0);
	d->writeback_all++;
	d->ops->queue(d->ctx, WC_DRV_WORK_WRITEBACK);
	wc_drv_unlock(d);

	d->ops->finish_work(d->ctx, 0);

	wc_drv_lock(d);
	d->writeback_all--;
	if (wc_core_error(d->core))
		r = -WC_EIO;
	wc_drv_unlock(d);
	return r;
}

int wc_drv_message(struct wc_driver *d, unsigned int argc, char **argv)
{
	int action, r;

	wc_drv_lock(d);
	r = wc_core_message(d->core, argc, argv, &action);
	if (!r && action == WC_MSG_CLEANER && !d->ops->suspended(d->ctx))
		d->ops->queue(d->ctx, WC_DRV_WORK_WRITEBACK);
	wc_drv_unlock(d);
	if (!r && action == WC_MSG_FLUSH)
		r = wc_drv_flush_message(d);
	return r;
}

void wc_drv_status(struct wc_driver *d, char *buf, unsigned int len)
{
	wc_drv_lock(d);
	wc_core_status(d->core, buf, len);
	wc_drv_unlock(d);
}

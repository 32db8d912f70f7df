// SPDX-License-Identifier: GPL-2.0
/*
 * The driver's metadata I/O and device flushes, through dm-io.
 */
#include <linux/blkdev.h>

#include "wc-target.h"

void wc_meta_init(struct wc_target *wc)
{
	init_completion(&wc->meta_done);
	atomic_set(&wc->meta_count, 1);
	wc->meta_error = 0;
}

static void wc_meta_notify(unsigned long error, void *context)
{
	struct wc_target *wc = context;

	if (error)
		WRITE_ONCE(wc->meta_error, -EIO);
	if (atomic_dec_and_test(&wc->meta_count))
		complete(&wc->meta_done);
}

static int wc_meta_io(struct wc_target *wc, blk_opf_t opf, void *buf,
		      sector_t sector, unsigned int nr_sectors, bool async)
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
		req.notify.fn = wc_meta_notify;
		req.notify.context = wc;
		atomic_inc(&wc->meta_count);
	}
	return dm_io(&req, 1, &region, NULL, IOPRIO_DEFAULT);
}

int wc_meta_read(void *ctx, void *buf, unsigned long long sector,
		 unsigned int nr_sectors)
{
	return wc_meta_io(ctx, REQ_OP_READ | REQ_SYNC, buf, sector, nr_sectors, false);
}

void wc_meta_write(void *ctx, void *buf, unsigned long long sector,
		   unsigned int nr_sectors)
{
	/* An error submitting is reported by the completion, as any other. */
	wc_meta_io(ctx, REQ_OP_WRITE | REQ_SYNC, buf, sector, nr_sectors, true);
}

int wc_meta_write_fua(void *ctx, void *buf, unsigned long long sector,
		      unsigned int nr_sectors)
{
	return wc_meta_io(ctx, REQ_OP_WRITE | REQ_SYNC | REQ_FUA, buf, sector,
			  nr_sectors, false);
}

/* Waits for every async write issued so far; returns their first error. */
int wc_meta_wait(void *ctx)
{
	struct wc_target *wc = ctx;
	int error;

	wc_meta_notify(0, wc);
	wait_for_completion_io(&wc->meta_done);
	error = wc->meta_error;
	reinit_completion(&wc->meta_done);
	atomic_set(&wc->meta_count, 1);
	wc->meta_error = 0;
	return error;
}

int wc_flush_device(void *ctx, int dev)
{
	struct wc_target *wc = ctx;
	struct dm_io_region region = {
		.bdev = dev == WC_DRV_CACHE ? wc->cache->bdev : wc->origin->bdev,
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

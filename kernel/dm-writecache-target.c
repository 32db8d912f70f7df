// SPDX-License-Identifier: GPL-2.0
/*
 * writecache: a device-mapper target that caches writes on a fast device,
 * compatible with the in-tree dm-writecache (target version 1.6.0): the
 * same table line, messages, status line and on-disk format.
 *
 * This file is the target's face to device-mapper.  The decisions are the
 * core's (kernel/core, C++), their sequencing the driver's (kernel/driver,
 * shared with the userspace model), and the I/O, threads and waits are
 * the ops of wc-ops.c, wc-meta.c, wc-writeback.c and wc-flush.c.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mempool.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "wc-target.h"

static_assert(WC_EIO == EIO && WC_ENOMEM == ENOMEM && WC_EBUSY == EBUSY);
static_assert(WC_EINVAL == EINVAL && WC_EFBIG == EFBIG && WC_ENOSPC == ENOSPC);
static_assert(WC_EOVERFLOW == EOVERFLOW && WC_EOPNOTSUPP == EOPNOTSUPP);

static void wc_autocommit_timer(struct timer_list *t)
{
	struct wc_target *wc = from_timer(wc, t, autocommit_timer);

	if (!wc_core_error(wc->core))
		queue_work(wc->wq, &wc->commit_work);
}

static void wc_max_age_timer(struct timer_list *t)
{
	struct wc_target *wc = from_timer(wc, t, max_age_timer);

	if (!dm_suspended(wc->ti) && !wc_core_error(wc->core)) {
		queue_work(wc->wq, &wc->writeback_work);
		mod_timer(&wc->max_age_timer,
			  jiffies + max(wc->max_age_jiffies / 16, 1UL));
	}
}

/* --- construction ---------------------------------------------------- */

static void wc_dtr(struct dm_target *ti)
{
	struct wc_target *wc = ti->private;
	int i;

	if (!wc)
		return;
	timer_delete_sync(&wc->autocommit_timer);
	timer_delete_sync(&wc->max_age_timer);
	if (wc->flush_thread)
		kthread_stop(wc->flush_thread);
	if (wc->wq)
		destroy_workqueue(wc->wq);
	if (wc->kcopyd)
		dm_kcopyd_client_destroy(wc->kcopyd);
	if (wc->retire_wq)
		destroy_workqueue(wc->retire_wq);
	bioset_exit(&wc->bio_set);
	wc_pmem_release(wc);
	mempool_exit(&wc->copy_pool);
	if (wc->dm_io)
		dm_io_client_destroy(wc->dm_io);
	if (wc->origin)
		dm_put_device(ti, wc->origin);
	if (wc->cache)
		dm_put_device(ti, wc->cache);
	for (i = 0; i < WC_DRV_META_BUFS; i++)
		vfree(wc->drv.meta_buf[i]);
	wc_core_destroy(wc->core);
	kfree(wc);
}

static int wc_alloc(struct dm_target *ti, struct wc_target *wc)
{
	int i, r;

	mutex_init(&wc->lock);
	atomic_set(&wc->pending_errors, 0);
	spin_lock_init(&wc->failed_writes.lock);
	wc_meta_init(wc);
	for (i = 0; i < 2; i++) {
		atomic_set(&wc->cache_in_flight[i], 0);
		init_waitqueue_head(&wc->cache_in_flight_wait[i]);
	}
	spin_lock_init(&wc->origin_writes.lock);
	wc->origin_writes.idle_since = jiffies;
	init_waitqueue_head(&wc->freelist_wait);
	INIT_WORK(&wc->writeback_work, wc_writeback_work);
	INIT_WORK(&wc->commit_work, wc_commit_work);
	INIT_WORK(&wc->retire_work, wc_retire_work);
	spin_lock_init(&wc->retire_lock);
	INIT_LIST_HEAD(&wc->retire_list);
	INIT_LIST_HEAD(&wc->retiring);
	spin_lock_init(&wc->flush_lock);
	bio_list_init(&wc->flush_list);
	timer_setup(&wc->autocommit_timer, wc_autocommit_timer, 0);
	timer_setup(&wc->max_age_timer, wc_max_age_timer, 0);

	wc->core = wc_core_create();
	if (!wc->core) {
		ti->error = "Cannot allocate writecache structure";
		return -ENOMEM;
	}
	wc->drv.core = wc->core;
	wc->drv.ops = &wc_kernel_ops;
	wc->drv.ctx = wc;
	wc->dm_io = dm_io_client_create();
	if (IS_ERR(wc->dm_io)) {
		r = PTR_ERR(wc->dm_io);
		wc->dm_io = NULL;
		ti->error = "Unable to allocate dm-io client";
		return r;
	}
	wc->wq = alloc_workqueue("writecache-writeback", WQ_MEM_RECLAIM, 1);
	wc->retire_wq = alloc_workqueue("writecache-retire", WQ_MEM_RECLAIM, 1);
	if (!wc->wq || !wc->retire_wq) {
		ti->error = "Could not allocate writeback workqueue";
		return -ENOMEM;
	}
	r = mempool_init_kmalloc_pool(&wc->copy_pool, 1, sizeof(struct wc_copy));
	if (r) {
		ti->error = "Could not allocate mempool";
		return r;
	}
	for (i = 0; i < WC_DRV_META_BUFS; i++) {
		wc->drv.meta_buf[i] = vmalloc(WC_META_BUF_BYTES);
		if (!wc->drv.meta_buf[i]) {
			ti->error = "Unable to allocate memory for metadata";
			return -ENOMEM;
		}
	}
	return 0;
}

static int wc_open_ssd(struct dm_target *ti, struct wc_target *wc)
{
	const char *error = NULL;
	int r;

	wc->kcopyd = dm_kcopyd_client_create(NULL);
	if (IS_ERR(wc->kcopyd)) {
		r = PTR_ERR(wc->kcopyd);
		wc->kcopyd = NULL;
		ti->error = "Unable to allocate dm-kcopyd client";
		return r;
	}
	/* Reads the superblock; a blank cache area is formatted. */
	r = wc_drv_open(&wc->drv, 0, &error);
	/* The core's and the driver's messages are string literals. */
	if (r)
		ti->error = (char *)error;
	return r;
}

static int wc_open_pmem(struct dm_target *ti, struct wc_target *wc)
{
	unsigned long long start = wc_core_start_sector(wc->core) << SECTOR_SHIFT;
	const char *error = NULL;
	int r;

	r = bioset_init(&wc->bio_set, BIO_POOL_SIZE, 0, BIOSET_NEED_BVECS);
	if (r) {
		ti->error = "Could not allocate bio set";
		return r;
	}
	r = wc_pmem_claim(wc, &error);
	if (!r) {
		wc_core_set_pmem(wc->core, wc->pmem + start,
				 bdev_nr_bytes(wc->cache->bdev) - start);
		r = wc_drv_open(&wc->drv, 0, &error);
	}
	if (r)
		ti->error = (char *)error;
	return r;
}

static int wc_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct wc_dev_info info;
	struct dm_arg_set as;
	const char *error = NULL;
	struct wc_target *wc;
	const char *s;
	u64 open_ns;
	int r;

	as.argc = argc;
	as.argv = argv;

	wc = kzalloc(sizeof(*wc), GFP_KERNEL);
	if (!wc) {
		ti->error = "Cannot allocate writecache structure";
		return -ENOMEM;
	}
	ti->private = wc;
	wc->ti = ti;
	r = wc_alloc(ti, wc);
	if (r)
		goto bad;

	s = dm_shift_arg(&as);
	if (!s || wc_core_parse_mode(wc->core, s))
		goto bad_arguments;

	s = dm_shift_arg(&as);
	if (!s)
		goto bad_arguments;
	r = dm_get_device(ti, s, dm_table_get_mode(ti->table), &wc->origin);
	if (r) {
		ti->error = "Origin data device lookup failed";
		goto bad;
	}
	s = dm_shift_arg(&as);
	if (!s)
		goto bad_arguments;
	r = dm_get_device(ti, s, dm_table_get_mode(ti->table), &wc->cache);
	if (r) {
		ti->error = "Cache data device lookup failed";
		goto bad;
	}

	info.cache_bytes = bdev_nr_bytes(wc->cache->bdev);
	info.origin_logical_block_size = bdev_logical_block_size(wc->origin->bdev);
	info.cache_logical_block_size = bdev_logical_block_size(wc->cache->bdev);
	info.page_size = PAGE_SIZE;
	info.default_writeback_jobs = min(0x10000000UL / PAGE_SIZE, totalram_pages() / 16);
	r = wc_core_parse_args(wc->core, as.argc, as.argv, &info, &error);
	if (r) {
		ti->error = (char *)error;
		goto bad;
	}

	wc->autocommit_jiffies = msecs_to_jiffies(wc_core_autocommit_ms(wc->core));
	wc->max_age_set = wc_core_max_age_ms(wc->core) >= 0;
	if (wc->max_age_set)
		wc->max_age_jiffies = msecs_to_jiffies(wc_core_max_age_ms(wc->core));

	/* The open's cost (make bench-load reads it with dynamic debug). */
	open_ns = ktime_get_ns();
	if (wc_core_is_pmem(wc->core)) {
		r = wc_open_pmem(ti, wc);
		if (r)
			goto bad;
		ti->num_flush_bios = 1;
		goto done;
	}

	wc->flush_thread = kthread_run(wc_flush_thread, wc, "dm_writecache_flush");
	if (IS_ERR(wc->flush_thread)) {
		r = PTR_ERR(wc->flush_thread);
		wc->flush_thread = NULL;
		ti->error = "Couldn't spawn flush thread";
		goto bad;
	}
	r = wc_open_ssd(ti, wc);
	if (r)
		goto bad;

	ti->num_flush_bios = 2;
done:
	DMDEBUG("open: %llu ms", div_u64(ktime_get_ns() - open_ns, NSEC_PER_MSEC));
	ti->flush_supported = true;
	ti->num_discard_bios = 1;
	ti->per_io_data_size = sizeof(struct wc_per_bio);
	return 0;

bad_arguments:
	r = -EINVAL;
	ti->error = "Bad arguments";
bad:
	wc_dtr(ti);
	return r;
}

/* --- I/O ----------------------------------------------------------------- */

static int wc_map(struct dm_target *ti, struct bio *bio)
{
	struct wc_target *wc = ti->private;
	struct wc_per_bio *pb = dm_per_bio_data(bio, sizeof(*pb));
	struct wc_bio b = { 0 };

	pb->flags = 0;
	if (bio->bi_opf & REQ_PREFLUSH) {
		b.flags |= WC_BIO_PREFLUSH;
		/* The core relies on dm's two flush bios (num_flush_bios). */
		if (dm_bio_get_target_bio_nr(bio))
			b.flags |= WC_BIO_SECOND_FLUSH;
	} else {
		bio->bi_iter.bi_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
		b.sector = bio->bi_iter.bi_sector;
	}
	b.nr_sectors = bio_sectors(bio);
	if (bio_op(bio) == REQ_OP_DISCARD)
		b.flags |= WC_BIO_DISCARD | WC_BIO_WRITE;
	else if (op_is_write(bio_op(bio)))
		b.flags |= WC_BIO_WRITE;
	if (bio->bi_opf & REQ_FUA)
		b.flags |= WC_BIO_FUA;
	if (bio->bi_opf & REQ_META)
		b.flags |= WC_BIO_META;

	switch (wc_drv_map(&wc->drv, &b, bio)) {
	case WC_DRV_REMAPPED:
		return DM_MAPIO_REMAPPED;
	case WC_DRV_COMPLETE:
		/* with the status a PMEM copy may have set */
		bio_endio(bio);
		return DM_MAPIO_SUBMITTED;
	case WC_DRV_DEFER:
		wc_defer_bio(wc, bio);
		return DM_MAPIO_SUBMITTED;
	case WC_DRV_FAILED:
	default:
		bio_io_error(bio);
		return DM_MAPIO_SUBMITTED;
	}
}

static int wc_end_io(struct dm_target *ti, struct bio *bio, blk_status_t *status)
{
	struct wc_target *wc = ti->private;
	struct wc_per_bio *pb = dm_per_bio_data(bio, sizeof(*pb));

	if (pb->flags & (WC_PB_CACHE_READ | WC_PB_CACHE_WRITE)) {
		int dir = (pb->flags & WC_PB_CACHE_WRITE) ? WRITE : READ;

		if (unlikely(*status)) {
			if (dir == WRITE)
				wc_note_failed_write(wc, pb);
			wc_note_error(wc, dir == WRITE ? WC_DRV_ERR_CACHE_WRITE
						       : WC_DRV_ERR_CACHE_READ);
		}
		if (atomic_dec_and_test(&wc->cache_in_flight[dir]))
			wake_up(&wc->cache_in_flight_wait[dir]);
	}
	if (pb->flags & WC_PB_ORIGIN_WRITE)
		wc_origin_write_end(&wc->origin_writes);
	if (unlikely(*status) && (pb->flags & WC_PB_ORIGIN_WRITE_ANY))
		wc_note_error(wc, WC_DRV_ERR_ORIGIN_WRITE);
	if ((pb->flags & WC_PB_COMMIT_AFTER) && !*status) {
		/*
		 * A FUA write reached the cache: commit its entries before it
		 * completes.  The flush thread ends the bio again after the
		 * commit; this function then sees no flags.  The in-flight
		 * count was dropped above, or the commit would wait for us.
		 */
		pb->flags = 0;
		wc_defer_bio(wc, bio);
		return DM_ENDIO_INCOMPLETE;
	}
	pb->flags = 0;
	return DM_ENDIO_DONE;
}

/* --- suspend and resume ------------------------------------------------------ */

static void wc_postsuspend(struct dm_target *ti)
{
	struct wc_target *wc = ti->private;

	timer_delete_sync(&wc->autocommit_timer);
	timer_delete_sync(&wc->max_age_timer);
	wc_drv_suspend(&wc->drv);
	flush_workqueue(wc->retire_wq);
}

/*
 * The load runs in preresume, which can fail: metadata that cannot be read
 * refuses the resume (dm keeps the device suspended, and dmsetup create
 * removes it again) instead of serving the origin's stale data for the
 * blocks the cache holds.  In-tree loads in resume and takes them as free.
 */
static int wc_preresume(struct dm_target *ti)
{
	struct wc_target *wc = ti->private;
	u64 start = ktime_get_ns();
	int r = wc_drv_resume(&wc->drv, bdev_nr_sectors(wc->origin->bdev));

	/* The load's cost (make bench-load reads it with dynamic debug). */
	DMDEBUG("load: %llu ms", div_u64(ktime_get_ns() - start, NSEC_PER_MSEC));
	return r;
}

static void wc_resume(struct dm_target *ti)
{
	struct wc_target *wc = ti->private;

	if (wc->max_age_set)
		mod_timer(&wc->max_age_timer,
			  jiffies + max(wc->max_age_jiffies / 16, 1UL));
}

/* --- messages, status, limits ------------------------------------------------ */

static int wc_message(struct dm_target *ti, unsigned int argc, char **argv,
		      char *result, unsigned int maxlen)
{
	struct wc_target *wc = ti->private;

	return wc_drv_message(&wc->drv, argc, argv);
}

static void wc_status(struct dm_target *ti, status_type_t type,
		      unsigned int status_flags, char *result, unsigned int maxlen)
{
	struct wc_target *wc = ti->private;

	switch (type) {
	case STATUSTYPE_INFO:
		wc_drv_status(&wc->drv, result, maxlen);
		break;
	case STATUSTYPE_TABLE:
		wc_core_table(wc->core, wc->origin->name, wc->cache->name,
			      result, maxlen);
		break;
	case STATUSTYPE_IMA:
		*result = '\0';
		break;
	}
}

static int wc_iterate_devices(struct dm_target *ti,
			      iterate_devices_callout_fn fn, void *data)
{
	struct wc_target *wc = ti->private;

	return fn(ti, wc->origin, 0, ti->len, data);
}

static void wc_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	struct wc_target *wc = ti->private;
	unsigned int bs = wc_core_block_size(wc->core);

	if (limits->logical_block_size < bs)
		limits->logical_block_size = bs;
	if (limits->physical_block_size < bs)
		limits->physical_block_size = bs;
	if (limits->io_min < bs)
		limits->io_min = bs;
}

static struct target_type wc_target_type = {
	.name = WC_TARGET_NAME,
	.version = {1, 6, 0},
	.module = THIS_MODULE,
	.ctr = wc_ctr,
	.dtr = wc_dtr,
	.map = wc_map,
	.end_io = wc_end_io,
	.postsuspend = wc_postsuspend,
	.preresume = wc_preresume,
	.resume = wc_resume,
	.message = wc_message,
	.status = wc_status,
	.iterate_devices = wc_iterate_devices,
	.io_hints = wc_io_hints,
};

static int __init wc_init(void)
{
	int r = dm_register_target(&wc_target_type);

	if (r < 0)
		DMERR("register failed %d", r);
	return r;
}

static void __exit wc_exit(void)
{
	dm_unregister_target(&wc_target_type);
}

module_init(wc_init);
module_exit(wc_exit);

MODULE_DESCRIPTION("device-mapper writecache target, compatible with the in-tree dm-writecache");
MODULE_LICENSE("GPL");
MODULE_VERSION(WC_VERSION);

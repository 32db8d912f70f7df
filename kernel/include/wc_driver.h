/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The writecache driver: the one sequencing of the core's decisions, shared
 * by the kernel target and the userspace model.
 *
 * The core (wc_core.h) decides; the driver carries its decisions out in
 * order: it runs the core's I/O programs op by op, loops a bio through the
 * core's map answers, runs writeback passes with their throttle and waits,
 * and opens, loads, suspends and flushes the cache.  It does so through an
 * ops table that each side implements: the kernel over dm-io, kcopyd, DAX
 * and its wait queues (kernel/wc-*.c), the model over simulated devices,
 * with crash injection at every op (userspace-model/).  So the crash tests
 * run the kernel's own sequencing, not a copy of it.
 *
 * What only one side does (sleeping, threads, timers, bio plumbing) stays
 * behind the ops.  The driver keeps no state across calls beyond struct
 * wc_driver, and never sleeps except through ops that say so.
 *
 * Builtin types only, and no header: this is compiled unchanged into the
 * module and into the userspace build, as C.
 */
#ifndef WC_DRIVER_H
#define WC_DRIVER_H

#include "wc_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Buffers lent to the core's metadata I/O; async writes use them in turn. */
#define WC_DRV_META_BUFS	4

/* Devices, for flush and remap. */
enum wc_drv_dev {
	WC_DRV_ORIGIN = 0,
	WC_DRV_CACHE = 1,
};

/* Device errors the platform saw complete (wc_drv_ops.take_errors). */
enum wc_drv_error {
	WC_DRV_ERR_CACHE_READ = 1U << 0,
	WC_DRV_ERR_CACHE_WRITE = 1U << 1,
	WC_DRV_ERR_ORIGIN_WRITE = 1U << 2,
};

/* wc_drv_ops.take_failed_write */
enum wc_drv_failed_write {
	WC_DRV_FAILED_NONE,		/* no failed cache data write left */
	WC_DRV_FAILED_RANGE,		/* one, at *sector, *nr_sectors */
	WC_DRV_FAILED_UNKNOWN,		/* some were not recorded */
};

/* Why the driver sleeps (wc_drv_ops.sleep). */
enum wc_drv_wait {
	WC_DRV_WAIT_FREELIST = 1,	/* map: no free block; writeback frees */
	WC_DRV_WAIT_WRITEBACK,		/* writeback in flight must retire */
	WC_DRV_WAIT_JOBS,		/* the writeback_jobs throttle */
};

/* What to run later, outside the lock (wc_drv_ops.queue). */
enum wc_drv_work {
	WC_DRV_WORK_WRITEBACK = 1U << 0,	/* a writeback pass */
	WC_DRV_WORK_COMMIT = 1U << 1,		/* wc_drv_commit() */
	WC_DRV_WORK_ARM_AUTOCOMMIT = 1U << 2,	/* the autocommit timer, if idle */
	WC_DRV_WORK_WAKE = 1U << 3,		/* wake every WC_DRV_WAIT_* sleeper */
};

/* What became of a bio in wc_drv_map(). */
enum wc_drv_outcome {
	WC_DRV_REMAPPED = 1,	/* ops->remap() was called: submit it */
	WC_DRV_COMPLETE,	/* end it (with the status copy_pmem set) */
	WC_DRV_DEFER,		/* hand it to wc_drv_deferred(), in a thread */
	WC_DRV_FAILED,		/* end it with -EIO */
};

/*
 * The platform.  `ctx` is the platform's target; `bio` its bio.  Every op
 * is called with the lock held unless it says otherwise.
 */
struct wc_drv_ops {
	/* The one lock every call into the core holds. */
	void (*lock)(void *ctx);
	void (*unlock)(void *ctx);
	/* The errors end_io saw since the last call, cleared (WC_DRV_ERR_*). */
	unsigned int (*take_errors)(void *ctx);
	/*
	 * The origin range of a cache data write that end_io saw fail, taken
	 * off the platform's record (WC_DRV_FAILED_*).  A platform records a
	 * range before it notes WC_DRV_ERR_CACHE_WRITE, and when it runs out
	 * of room it says WC_DRV_FAILED_UNKNOWN once instead.
	 */
	int (*take_failed_write)(void *ctx, unsigned long long *sector,
				 unsigned int *nr_sectors);
	unsigned long long (*now_ms)(void *ctx);
	/*
	 * Drop the lock, sleep until a WC_DRV_WORK_WAKE (or anything else
	 * that may change the answer: a completion, an error), take the lock
	 * again.  Nonzero: nothing can change while the caller waits (the
	 * model, which has no other thread); the driver gives up waiting.
	 */
	int (*sleep)(void *ctx, int why);
	/* Queue the WC_DRV_WORK_* bits for later, outside this call. */
	void (*queue)(void *ctx, unsigned int work);

	/* Metadata I/O on the cache device, at absolute sectors. */
	int (*meta_read)(void *ctx, void *buf, unsigned long long sector,
			 unsigned int nr_sectors);
	/* Asynchronous; its error is reported by the next meta_wait. */
	void (*meta_write)(void *ctx, void *buf, unsigned long long sector,
			   unsigned int nr_sectors);
	/* Synchronous, with FUA. */
	int (*meta_write_fua)(void *ctx, void *buf, unsigned long long sector,
			      unsigned int nr_sectors);
	/* Wait for every meta_write issued so far: their first error, or 0. */
	int (*meta_wait)(void *ctx);
	/* An empty REQ_PREFLUSH to a device (enum wc_drv_dev). */
	int (*flush)(void *ctx, int dev);
	/* Wait until no remapped bio to the cache is in flight (1: writes). */
	void (*wait_cache_io)(void *ctx, int write);

	/* Bios: accept only the first `sectors` (dm_accept_partial_bio). */
	void (*accept_partial)(void *ctx, void *bio, unsigned int sectors);
	/*
	 * Send the accepted part to `res->sector` of the origin or the cache
	 * (res->action), counting a cache bio as in flight until its end_io.
	 */
	void (*remap)(void *ctx, void *bio, const struct wc_bio *b,
		      const struct wc_map_result *res);
	/*
	 * PMEM: copy `bytes` between the bio and the mapping at `pmem`, and
	 * advance the bio past them.  A media error on a read latches the
	 * error state (wc_core_set_error) and fails the bio.
	 */
	void (*copy_pmem)(void *ctx, void *bio, void *pmem, unsigned int bytes);

	/*
	 * Writeback, without the lock: copy one job to the origin and, once it
	 * is done, make it available to pop_done (which the platform's retire
	 * work reaches through wc_drv_retire()).
	 */
	void (*submit_job)(void *ctx, const struct wc_wb_job *job);
	/* The next finished job: 1 and its head and error, or 0. */
	int (*pop_done)(void *ctx, struct wc_block *head, int *error);
	/* Is the target suspended (dm_suspended)? */
	int (*suspended)(void *ctx);
	/*
	 * Without the lock: wait until the queued work (commits, writeback
	 * passes) has run: flush_workqueue, or with `drain` also the work it
	 * queues meanwhile (drain_workqueue).
	 */
	void (*finish_work)(void *ctx, int drain);
	/* A broken contract between core and driver (WARN_ONCE; tests fail). */
	void (*bug)(void *ctx, const char *what);
};

struct wc_driver {
	struct wc_core *core;
	const struct wc_drv_ops *ops;
	void *ctx;
	/* WC_META_BUF_BYTES each, lent by the platform. */
	void *meta_buf[WC_DRV_META_BUFS];
	/* Draining: the flush message and flush_on_suspend (lock held). */
	unsigned int writeback_all;
	/* Between postsuspend and resume: no new commit or writeback work. */
	int suspending;
};

/* Flags of wc_drv_open(). */
enum wc_drv_open_flags {
	/* a blank cache device is refused (-WC_ENODATA), not formatted */
	WC_DRV_OPEN_NO_FORMAT = 1U << 0,
};

/*
 * After wc_core_parse_args() (and, in PMEM mode, wc_core_set_pmem()):
 * read the superblock, format a blank device, check it.  On failure, a
 * negative errno and *error for ti->error.  Lock not needed: the target is
 * not live yet.
 */
int wc_drv_open(struct wc_driver *d, unsigned int flags, const char **error);

/*
 * preresume: load the metadata and recover.  A negative errno when the
 * metadata cannot be read: the resume must then fail, so that the target
 * stays suspended (the core has logged why).
 */
int wc_drv_resume(struct wc_driver *d, unsigned long long origin_sectors);
/*
 * postsuspend, with the platform's timers stopped: commit, write back
 * everything when flush_on_suspend was asked, and wait for writeback in
 * flight.
 */
void wc_drv_suspend(struct wc_driver *d);

/*
 * Map one bio.  `b` describes it; it is advanced by COPY_PMEM steps and
 * trimmed to the part accepted.  The lock is taken and dropped here.
 */
int wc_drv_map(struct wc_driver *d, struct wc_bio *b, void *bio);
/*
 * A bio wc_drv_map() deferred, or a FUA write whose end_io asked for the
 * commit (WC_MAPF_COMMIT_AFTER), in a thread that may sleep: a discard
 * drops the range and returns 0 (then send it to the origin); a flush or a
 * FUA write commits: 0, or -WC_EIO to fail it.
 */
int wc_drv_deferred(struct wc_driver *d, const struct wc_bio *b);

/* The commit work (autocommit timer, autocommit_blocks). */
void wc_drv_commit(struct wc_driver *d);
/*
 * One writeback pass, after the platform's own wait for pause_writeback:
 * plan, submit the jobs under the writeback_jobs throttle, and while
 * draining wait for all of them.
 */
void wc_drv_writeback(struct wc_driver *d);
/* The retire work: hand the finished jobs to the core and free their blocks. */
void wc_drv_retire(struct wc_driver *d);

/* The status line, with the errors end_io saw latched first. */
void wc_drv_status(struct wc_driver *d, char *buf, unsigned int len);

/* Messages: 0, or a negative errno for the message's result. */
int wc_drv_message(struct wc_driver *d, unsigned int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif /* WC_DRIVER_H */

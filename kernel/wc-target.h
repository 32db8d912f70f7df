/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel side of the writecache target: devices, bios, threads and the
 * lock.  Every decision is the core's (wc_core.h) and their order is the
 * driver's (wc_driver.h); this side supplies the driver's ops.
 */
#ifndef WC_TARGET_H
#define WC_TARGET_H

#include <linux/bio.h>
#include <linux/completion.h>
#include <linux/device-mapper.h>
#include <linux/dm-io.h>
#include <linux/dm-kcopyd.h>
#include <linux/mempool.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "wc_core.h"
#include "wc_driver.h"

#define DM_MSG_PREFIX WC_TARGET_NAME

/* Idle tracking of origin writes, for pause_writeback. */
struct wc_origin_tracker {
	spinlock_t lock;		/* protects the two fields below */
	unsigned int in_flight;
	unsigned long idle_since;	/* jiffies */
};

/*
 * Cache data writes that failed, by origin range, recorded by end_io (any
 * context) until the next lock hands them to the core (take_failed_write).
 * More failures than fit before that lock set `overflow`: the core then
 * forgets every uncommitted block.
 */
#define WC_FAILED_WRITES	16

struct wc_failed_writes {
	spinlock_t lock;		/* end_io runs in interrupt context */
	unsigned int nr;
	bool overflow;
	struct {
		sector_t sector;
		unsigned int nr_sectors;
	} range[WC_FAILED_WRITES];
};

struct wc_target {
	struct dm_target *ti;
	struct dm_dev *origin;
	struct dm_dev *cache;
	struct wc_core *core;
	/* The shared sequencing (wc_driver.h), over the ops in wc-ops.c. */
	struct wc_driver drv;

	/* Held around every call into the core. */
	struct mutex lock;
	/* Device errors seen in end_io (WC_DRV_ERR_*), latched at the next lock. */
	atomic_t pending_errors;
	struct wc_failed_writes failed_writes;

	struct dm_io_client *dm_io;
	struct dm_kcopyd_client *kcopyd;
	/* The metadata writes of the running program, and their first error. */
	struct completion meta_done;
	atomic_t meta_count;
	int meta_error;

	/* Bios remapped to the cache and not yet completed: READ, WRITE. */
	atomic_t cache_in_flight[2];
	wait_queue_head_t cache_in_flight_wait[2];
	struct wc_origin_tracker origin_writes;

	/* Writers blocked on a full cache, writeback throttle, drains. */
	wait_queue_head_t freelist_wait;

	/* Commits and writeback run here, one at a time, as in-tree. */
	struct workqueue_struct *wq;
	struct work_struct writeback_work;
	struct work_struct commit_work;

	/* Writeback completions, retired in process context. */
	struct workqueue_struct *retire_wq;
	struct work_struct retire_work;
	spinlock_t retire_lock;		/* protects retire_list */
	struct list_head retire_list;
	/* The completions the running retire work hands to the core. */
	struct list_head retiring;
	mempool_t copy_pool;

	/* Flushes and discards wait for metadata I/O: a thread of their own. */
	struct task_struct *flush_thread;
	spinlock_t flush_lock;		/* protects flush_list */
	struct bio_list flush_list;

	/* PMEM mode: the DAX mapping of the cache device, and writeback bios. */
	void *pmem;
	bool pmem_vmapped;
	struct bio_set bio_set;

	struct timer_list autocommit_timer;
	struct timer_list max_age_timer;
	unsigned long autocommit_jiffies;
	unsigned long max_age_jiffies;	/* 0 when max_age is not set */
	bool max_age_set;
};

/* A writeback job between its completion and its retirement. */
struct wc_copy {
	struct list_head list;
	struct wc_target *wc;
	struct wc_block head;
	int error;
};

/* Per-bio state, for end_io. */
enum {
	WC_PB_CACHE_READ = 1,
	WC_PB_CACHE_WRITE = 2,
	WC_PB_ORIGIN_WRITE = 4,		/* an origin write pause_writeback sees */
	WC_PB_COMMIT_AFTER = 8,
	WC_PB_ORIGIN_WRITE_ANY = 16,	/* any data write sent to the origin */
};

struct wc_per_bio {
	unsigned int flags;
	/* WC_PB_CACHE_WRITE: the origin range, should the write fail */
	unsigned int nr_sectors;
	sector_t sector;
};

/* wc-ops.c: the platform half of the driver */
extern const struct wc_drv_ops wc_kernel_ops;
void wc_note_error(struct wc_target *wc, unsigned int what);
void wc_note_failed_write(struct wc_target *wc, const struct wc_per_bio *pb);
unsigned long long wc_now_ms(void);

/* wc-meta.c: metadata I/O and device flushes through dm-io */
int wc_meta_read(void *ctx, void *buf, unsigned long long sector,
		 unsigned int nr_sectors);
void wc_meta_write(void *ctx, void *buf, unsigned long long sector,
		   unsigned int nr_sectors);
int wc_meta_write_fua(void *ctx, void *buf, unsigned long long sector,
		      unsigned int nr_sectors);
int wc_meta_wait(void *ctx);
int wc_flush_device(void *ctx, int dev);
void wc_meta_init(struct wc_target *wc);

/* wc-writeback.c: writeback jobs, their retirement, the work items */
void wc_submit_job(void *ctx, const struct wc_wb_job *job);
int wc_pop_done(void *ctx, struct wc_block *head, int *error);
void wc_writeback_work(struct work_struct *work);
void wc_commit_work(struct work_struct *work);
void wc_retire_work(struct work_struct *work);
void wc_origin_write_begin(struct wc_origin_tracker *t);
void wc_origin_write_end(struct wc_origin_tracker *t);

/* wc-flush.c: the flush thread */
int wc_flush_thread(void *data);
void wc_defer_bio(struct wc_target *wc, struct bio *bio);

/* wc-pmem.c */
int wc_pmem_claim(struct wc_target *wc, const char **error);
void wc_pmem_release(struct wc_target *wc);
void wc_pmem_copy_block(struct wc_target *wc, struct bio *bio, void *data,
			unsigned int size);
struct bio *wc_pmem_writeback_bio(struct wc_target *wc, const struct wc_wb_job *job);

#endif /* WC_TARGET_H */

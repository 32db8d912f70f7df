/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel side of the writecache target: devices, bios, threads and the
 * lock.  Every decision is the core's (wc_core.h); this side executes them.
 */
#ifndef WC_TARGET_H
#define WC_TARGET_H

#include <linux/bio.h>
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

#define DM_MSG_PREFIX WC_TARGET_NAME

/* Buffers lent to the core's metadata I/O; async writes use them in turn. */
#define WC_META_BUFS	4

/* Idle tracking of origin writes, for pause_writeback. */
struct wc_origin_tracker {
	spinlock_t lock;		/* protects the two fields below */
	unsigned int in_flight;
	unsigned long idle_since;	/* jiffies */
};

struct wc_target {
	struct dm_target *ti;
	struct dm_dev *origin;
	struct dm_dev *cache;
	struct wc_core *core;

	/* Held around every call into the core. */
	struct mutex lock;
	/* Device errors seen in end_io, latched at the next wc_lock(). */
	atomic_t pending_errors;

	struct dm_io_client *dm_io;
	struct dm_kcopyd_client *kcopyd;
	void *meta_buf[WC_META_BUFS];

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
	unsigned int writeback_all;
	bool suspending;

	/* Writeback completions, retired in process context. */
	struct workqueue_struct *retire_wq;
	struct work_struct retire_work;
	spinlock_t retire_lock;		/* protects retire_list */
	struct list_head retire_list;
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

/* A writeback job between its kcopyd completion and its retirement. */
struct wc_copy {
	struct list_head list;
	struct wc_target *wc;
	unsigned int head;
	int error;
};

/* What end_io saw fail (wc_target.pending_errors). */
enum {
	WC_ERR_CACHE_READ = 1,
	WC_ERR_CACHE_WRITE = 2,
	WC_ERR_ORIGIN_WRITE = 4,
};

/* wc-io.c */
void wc_lock(struct wc_target *wc);
void wc_note_error(struct wc_target *wc, int what);
int wc_run_program(struct wc_target *wc, int program,
		   unsigned long long arg0, unsigned long long arg1);
int wc_read_sync(struct wc_target *wc, void *buf, sector_t sector,
		 unsigned int nr_sectors);
void wc_handle_events(struct wc_target *wc);
void wc_wait_on_freelist(struct wc_target *wc);
unsigned long long wc_now_ms(void);
void wc_writeback_work(struct work_struct *work);
void wc_commit_work(struct work_struct *work);
void wc_retire_work(struct work_struct *work);
int wc_flush_thread(void *data);
void wc_defer_bio(struct wc_target *wc, struct bio *bio);
void wc_origin_write_begin(struct wc_origin_tracker *t);
void wc_origin_write_end(struct wc_origin_tracker *t);
void wc_copy_done(struct wc_copy *c);

/* wc-pmem.c */
int wc_pmem_claim(struct wc_target *wc, const char **error);
void wc_pmem_release(struct wc_target *wc);
void wc_pmem_copy_block(struct wc_target *wc, struct bio *bio, void *data,
			unsigned int size);
void wc_pmem_submit_job(struct wc_target *wc, const struct wc_wb_job *job,
			struct wc_copy *c);

#endif /* WC_TARGET_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * The flush thread: flushes, discards and FUA writes whose commit waits for
 * metadata I/O, in a thread of their own, as in-tree; unlike in-tree, one
 * commit for all the flushes and FUA writes queued at once.
 */
#include <linux/blkdev.h>
#include <linux/kthread.h>
#include <linux/sched.h>

#include "wc-target.h"

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

/* A discard, in its place among the flushes: to the origin after the program. */
static void wc_discard_one(struct wc_target *wc, struct bio *bio)
{
	struct wc_bio b = {
		.sector = bio->bi_iter.bi_sector,
		.nr_sectors = bio_sectors(bio),
		.flags = WC_BIO_DISCARD | WC_BIO_WRITE,
	};

	wc_drv_deferred(&wc->drv, &b);
	bio_set_dev(bio, wc->origin->bdev);
	submit_bio_noacct(bio);
}

/*
 * Group commit: one commit ends every empty flush and FUA write of the
 * group.  Invariant: each bio of the group was queued before the commit
 * starts, so the commit covers every write it stands for (an empty
 * flush: the writes completed before it was sent; a FUA write: its own
 * blocks, which reached the cache before end_io queued it).
 */
static void wc_commit_group(struct wc_target *wc, struct bio_list *group)
{
	struct wc_bio b = { 0 };
	struct bio *bio;
	int r;

	if (bio_list_empty(group))
		return;
	r = wc_drv_deferred(&wc->drv, &b);
	while ((bio = bio_list_pop(group))) {
		if (r)
			bio->bi_status = BLK_STS_IOERR;
		bio_endio(bio);
	}
}

/*
 * Everything queued, in order: the flushes and FUA writes before a discard
 * are committed (and completed) before it runs, those after it after.
 */
static void wc_flush_batch(struct wc_target *wc, struct bio_list *batch)
{
	struct bio_list group;
	struct bio *bio;

	bio_list_init(&group);
	while ((bio = bio_list_pop(batch))) {
		if (bio_op(bio) == REQ_OP_DISCARD) {
			wc_commit_group(wc, &group);
			wc_discard_one(wc, bio);
		} else {
			bio_list_add(&group, bio);
		}
	}
	wc_commit_group(wc, &group);
}

int wc_flush_thread(void *data)
{
	struct wc_target *wc = data;

	for (;;) {
		struct bio_list batch;

		spin_lock_irq(&wc->flush_lock);
		batch = wc->flush_list;
		bio_list_init(&wc->flush_list);
		if (bio_list_empty(&batch))
			set_current_state(TASK_INTERRUPTIBLE);
		spin_unlock_irq(&wc->flush_lock);

		if (bio_list_empty(&batch)) {
			if (kthread_should_stop()) {
				set_current_state(TASK_RUNNING);
				break;
			}
			schedule();
			continue;
		}
		wc_flush_batch(wc, &batch);
	}
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The flush thread: flushes, discards and FUA writes whose commit waits for
 * metadata I/O, in a thread of their own, as in-tree.
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

static void wc_flush_one(struct wc_target *wc, struct bio *bio)
{
	struct wc_bio b = {
		.sector = bio->bi_iter.bi_sector,
		.nr_sectors = bio_sectors(bio),
	};
	int r;

	if (bio_op(bio) == REQ_OP_DISCARD)
		b.flags = WC_BIO_DISCARD | WC_BIO_WRITE;
	r = wc_drv_deferred(&wc->drv, &b);
	if (b.flags & WC_BIO_DISCARD) {
		bio_set_dev(bio, wc->origin->bdev);
		submit_bio_noacct(bio);
		return;
	}
	if (r)
		bio->bi_status = BLK_STS_IOERR;
	bio_endio(bio);
}

int wc_flush_thread(void *data)
{
	struct wc_target *wc = data;

	for (;;) {
		struct bio *bio;

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
		wc_flush_one(wc, bio);
	}
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Mapping a bio: the loop over the core's answers for its runs, and the
 * deferred half of flushes, discards and FUA writes.
 */
#include "wc-drv-priv.h"

/*
 * The core answers for the first run of the bio.  A remap ends the loop:
 * the platform submits the accepted part, and dm resubmits the rest as a
 * new bio.  PMEM copies advance the bio and map it again, also when nothing
 * is left: the core decides then whether the write commits.
 */
int wc_drv_map(struct wc_driver *d, struct wc_bio *b, void *bio)
{
	const struct wc_drv_ops *ops = d->ops;
	struct wc_map_result res;
	int outcome;

	wc_drv_lock(d);
	for (;;) {
		wc_core_map(d->core, b, ops->now_ms(d->ctx), &res);
		wc_drv_handle_events(d);

		switch (res.action) {
		case WC_MAP_REMAP_ORIGIN:
		case WC_MAP_REMAP_CACHE:
			/*
			 * A bio advanced by copies is never remapped: dm
			 * would restart its remainder at the wrong sector.
			 */
			if (b->flags & WC_BIO_CONTINUED) {
				ops->bug(d->ctx, "remap of a bio advanced by PMEM copies");
				outcome = WC_DRV_FAILED;
				goto out;
			}
			if (res.accept_sectors < b->nr_sectors) {
				ops->accept_partial(d->ctx, bio, res.accept_sectors);
				b->nr_sectors = res.accept_sectors;
			}
			/*
			 * Under the lock, so that a commit that starts after
			 * the unlock waits for this bio (I1).
			 */
			if (res.flags & WC_MAPF_WAIT_CACHE_WRITES)
				ops->wait_cache_io(d->ctx, 1);
			ops->remap(d->ctx, bio, b, &res);
			outcome = WC_DRV_REMAPPED;
			goto out;

		case WC_MAP_COPY_PMEM:
			/*
			 * Split first, while the bio is untouched: dm cannot
			 * split a bio that was already advanced.
			 */
			if (res.accept_sectors < b->nr_sectors) {
				ops->accept_partial(d->ctx, bio, res.accept_sectors);
				b->nr_sectors = res.accept_sectors;
			}
			ops->copy_pmem(d->ctx, bio, res.pmem, res.copy_sectors << 9);
			b->sector += res.copy_sectors;
			b->nr_sectors -= res.copy_sectors;
			b->flags |= WC_BIO_CONTINUED;
			continue;

		case WC_MAP_COMPLETE:
			outcome = WC_DRV_COMPLETE;
			goto out;

		case WC_MAP_DEFER:
			outcome = WC_DRV_DEFER;
			goto out;

		case WC_MAP_WAIT_FREELIST:
			if (wc_drv_sleep(d, WC_DRV_WAIT_FREELIST)) {
				outcome = WC_DRV_FAILED;
				goto out;
			}
			continue;

		case WC_MAP_ERROR:
			outcome = WC_DRV_FAILED;
			goto out;

		default:
			ops->bug(d->ctx, "unknown map action");
			outcome = WC_DRV_FAILED;
			goto out;
		}
	}
out:
	wc_drv_unlock(d);
	return outcome;
}

int wc_drv_deferred(struct wc_driver *d, const struct wc_bio *b)
{
	int r;

	wc_drv_lock(d);
	if (b->flags & WC_BIO_DISCARD) {
		/*
		 * Whatever the program's result, the discard goes on to the
		 * origin, as in-tree's does: a metadata write that failed has
		 * latched the error state, which fails the writes after it.
		 */
		wc_drv_run(d, WC_PROG_DISCARD, b->sector, b->sector + b->nr_sectors);
		wc_drv_unlock(d);
		return 0;
	}
	/* An empty flush, or a FUA write that reached the cache. */
	r = wc_drv_run(d, WC_PROG_COMMIT, 0, 0);
	if (!r && wc_core_error(d->core))
		r = -WC_EIO;
	wc_drv_unlock(d);
	return r;
}

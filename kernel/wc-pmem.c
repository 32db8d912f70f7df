// SPDX-License-Identifier: GPL-2.0
/*
 * Persistent-memory mode: the DAX mapping of the cache device, copies
 * between bios and that mapping, and writeback bios built straight from it.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/dax.h>
#include <linux/highmem.h>
#include <linux/libnvdimm.h>
#include <linux/mm.h>
#include <linux/pfn_t.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/vmalloc.h>

#include "wc-target.h"

/*
 * Maps the whole cache device.  dax_direct_access() may return less than
 * asked when the pages are not contiguous; they are then vmapped.
 */
int wc_pmem_claim(struct wc_target *wc, const char **error)
{
	struct dax_device *dax = wc->cache->dax_dev;
	sector_t offset = get_start_sect(wc->cache->bdev);
	long pages = bdev_nr_bytes(wc->cache->bdev) >> PAGE_SHIFT;
	struct page **list = NULL;
	void *addr = NULL;
	long da, i;
	pfn_t pfn;
	int id, r = 0;

	if (!dax) {
		/* In-tree 6.1 dereferences the missing dax_dev here. */
		*error = "Cache device does not support DAX";
		return -EOPNOTSUPP;
	}
	if (!dax_synchronous(dax)) {
		*error = "Asynchronous persistent memory not supported as pmem cache";
		return -EOPNOTSUPP;
	}
	*error = "Unable to map persistent memory for cache";
	if (!pages)
		return -EINVAL;
	if (offset & (PAGE_SIZE / SECTOR_SIZE - 1))
		return -EINVAL;
	offset >>= PAGE_SHIFT - SECTOR_SHIFT;

	id = dax_read_lock();
	da = dax_direct_access(dax, offset, pages, DAX_ACCESS, &addr, &pfn);
	if (da < 0) {
		r = da;
		goto out;
	}
	if (!pfn_t_has_page(pfn)) {
		r = -EOPNOTSUPP;
		goto out;
	}
	if (da == pages) {
		wc->pmem = addr;
		goto out;
	}

	list = kvmalloc_array(pages, sizeof(*list), GFP_KERNEL);
	if (!list) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < pages;) {
		long n = dax_direct_access(dax, offset + i, pages - i, DAX_ACCESS,
					   NULL, &pfn);

		if (n <= 0) {
			r = n ? n : -EINVAL;
			goto out;
		}
		if (!pfn_t_has_page(pfn)) {
			r = -EOPNOTSUPP;
			goto out;
		}
		while (n-- && i < pages) {
			list[i++] = pfn_t_to_page(pfn);
			pfn.val++;
			if (!(i & 15))
				cond_resched();
		}
	}
	wc->pmem = vmap(list, pages, VM_MAP, PAGE_KERNEL);
	if (!wc->pmem) {
		r = -ENOMEM;
		goto out;
	}
	wc->pmem_vmapped = true;
out:
	dax_read_unlock(id);
	kvfree(list);
	if (!r)
		*error = NULL;
	return r;
}

void wc_pmem_release(struct wc_target *wc)
{
	if (wc->pmem_vmapped)
		vunmap(wc->pmem);
	wc->pmem = NULL;
	wc->pmem_vmapped = false;
}

static struct page *wc_pmem_page(void *addr)
{
	return is_vmalloc_addr(addr) ? vmalloc_to_page(addr) : virt_to_page(addr);
}

/*
 * Copies `size` bytes (a cache block, or blocks adjacent in the mapping)
 * between the bio and the mapping, and advances the bio past them.  A media
 * error on a read fails the bio and latches the error state.  Lock held.
 */
void wc_pmem_copy_block(struct wc_target *wc, struct bio *bio, void *data,
			unsigned int size)
{
	bool read = bio_data_dir(bio) == READ;

	while (size) {
		struct bio_vec bv = bio_iter_iovec(bio, bio->bi_iter);
		unsigned int len = min(bv.bv_len, size);
		void *buf = bvec_kmap_local(&bv);

		if (read) {
			unsigned long left = copy_mc_to_kernel(buf, data, len);

			if (unlikely(left)) {
				char what[64];

				/* in-tree's words, with the bytes not copied */
				snprintf(what, sizeof(what),
					 "hardware memory error when reading data: %lu", left);
				wc_core_set_error(wc->core, -EIO, what);
				bio->bi_status = BLK_STS_IOERR;
			}
			flush_dcache_page(bv.bv_page);
		} else {
			flush_dcache_page(bv.bv_page);
			memcpy_flushcache(data, buf, len);
		}
		kunmap_local(buf);
		data += len;
		size -= len;
		bio_advance(bio, len);
	}
}

/*
 * A bio that writes one job back, whose pages are the cache blocks
 * themselves, for the writeback code to submit; NULL if one cannot be
 * built.  Never past the origin's end (job->nr_sectors is clipped).
 */
struct bio *wc_pmem_writeback_bio(struct wc_target *wc, const struct wc_wb_job *job)
{
	unsigned int bs = wc_core_block_size(wc->core);
	unsigned int left = job->nr_sectors << SECTOR_SHIFT;
	struct wc_block b = job->head;
	struct bio *bio;

	bio = bio_alloc_bioset(wc->origin->bdev, job->nr_blocks,
			       REQ_OP_WRITE | (wc_core_writeback_fua(wc->core) ? REQ_FUA : 0),
			       GFP_NOIO, &wc->bio_set);
	bio->bi_iter.bi_sector = job->origin_sector;
	while (left) {
		void *addr = wc_core_block_data(wc->core, b);
		unsigned int len = min(left, bs);

		if (is_vmalloc_addr(addr))
			flush_kernel_vmap_range(addr, len);
		if (!bio_add_page(bio, wc_pmem_page(addr), len, offset_in_page(addr))) {
			bio_put(bio);
			return NULL;
		}
		left -= len;
		b = wc_core_job_next(wc->core, b);
	}
	return bio;
}

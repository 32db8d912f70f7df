// SPDX-License-Identifier: GPL-2.0
// The cache: containers, bio mapping, writeback planning, status.
#include "cache.h"
#include "memory.h"
#include "../include/wc_env.h"

namespace wc {

Cache::~Cache()
{
	env_free_array(entries_);
	env_free_array(dirty_);
}

// --- geometry and superblock --------------------------------------------

// The in-tree layout rule: as many blocks as fit together with their
// entries, the data starting at the first block boundary after them.
int calculate_layout(u64 bytes, u32 block_size, u64 *n_blocks, u64 *meta_bytes)
{
	u64 n = bytes / (block_size + sizeof(disk::Entry));
	u64 offset;

	for (;;) {
		if (!n)
			return -WC_ENOSPC;
		if (n >= (~0ULL - sizeof(disk::Superblock)) / sizeof(disk::Entry))
			return -WC_EFBIG;
		offset = disk::entry_offset(n);
		offset = (offset + block_size - 1) & ~u64(block_size - 1);
		if (offset + n * block_size <= bytes)
			break;
		n--;
	}
	if (n >= 1ULL << 47)
		return -WC_EFBIG;
	*n_blocks = n;
	*meta_bytes = offset;
	return 0;
}

int Cache::ssd_geometry(const char **error)
{
	u64 n, meta;
	int r;

	area_bytes_ -= cfg.start_sector << kSectorShift;
	r = calculate_layout(area_bytes_, cfg.block_size, &n, &meta);
	if (r) {
		*error = "Invalid device size";
		return r;
	}
	n_blocks_ = n;
	metadata_bytes_ = meta;
	return 0;
}

void Cache::set_pmem(void *base, u64 bytes)
{
	pmem_ = static_cast<u8 *>(base);
	area_bytes_ = bytes;
}

int Cache::check_superblock(const void *first_block, int *need_format,
			    const char **error)
{
	disk::Superblock s;
	u64 n, offset, data;

	*need_format = 0;
	if (first_block) {
		mem_copy(&s, first_block, sizeof(s));
	} else if (cfg.pmem) {
		if (wc_env_pmem_read(&s, pmem_, sizeof(s))) {
			*error = "Hardware memory error when reading superblock";
			return -WC_EIO;
		}
	} else {
		s = sb_;
	}
	if (!s.magic && !s.version) {
		*need_format = 1;
		return 0;
	}
	if (s.magic != disk::kMagic) {
		*error = "Invalid magic in the superblock";
		return -WC_EINVAL;
	}
	if (s.version != disk::kVersion) {
		*error = "Invalid version in the superblock";
		return -WC_EINVAL;
	}
	if (s.block_size != cfg.block_size) {
		*error = "Block size does not match superblock";
		return -WC_EINVAL;
	}
	n = s.n_blocks;
	offset = n * sizeof(disk::Entry);
	if (offset / sizeof(disk::Entry) != n)
		goto overflow;
	offset += sizeof(disk::Superblock);
	if (offset < sizeof(disk::Superblock))
		goto overflow;
	offset = (offset + cfg.block_size - 1) & ~u64(cfg.block_size - 1);
	data = n * cfg.block_size;
	if (!offset || data / cfg.block_size != n || offset + data < offset)
		goto overflow;
	if (offset + data > area_bytes_) {
		*error = "Memory area is too small";
		return -WC_EINVAL;
	}
	if (n > kMaxBlocks) {
		*error = "Cache has more blocks than this target supports (4294967294)";
		return -WC_EFBIG;
	}
	if (s.seq_count >= Entry::kFreeSeq - 1) {
		*error = "Sequence count in the superblock is too large";
		return -WC_EOVERFLOW;
	}

	sb_ = s;
	n_blocks_ = n;
	metadata_bytes_ = offset;

	freelist_high_ = (n * u64(100 - cfg.high_wm) + 50) / 100;
	freelist_low_ = (n * u64(100 - cfg.low_wm) + 50) / 100;
	if (cfg.cleaner) {
		flush_on_suspend_ = true;
		cleaner_ = true;
		freelist_high_ = freelist_low_ = n_blocks_;
	}

	entries_ = env_alloc_array<Entry>(entry_slots(n_blocks_));
	dirty_ = env_alloc_array<u64>(dirty_words(metadata_bytes_));
	if (!entries_ || !dirty_) {
		*error = "Cannot allocate memory";
		return -WC_ENOMEM;
	}
	reset_containers();
	return 0;

overflow:
	*error = "Overflow in size calculation";
	return -WC_EINVAL;
}

u64 Cache::ram_bytes(u64 n_blocks, u64 metadata_bytes)
{
	return env_array_bytes<Entry>(entry_slots(n_blocks)) +
	       env_array_bytes<u64>(dirty_words(metadata_bytes));
}

// --- containers -----------------------------------------------------------

void Cache::reset_containers()
{
	index_.init(entries_);
	free_tree_.init(entries_);
	free_list_.init(entries_);
	lru_.init(entries_);
	superseded_.init(entries_);
	duplicates_ = false;
	current_free_ = kNil;
	freelist_size_ = 0;
	writeback_size_ = 0;
	uncommitted_blocks_ = 0;
	wb_queue_head_ = wb_queue_tail_ = kNil;
	wb_queued_blocks_ = 0;
	retire_head_ = kNil;
}

u32 Cache::find_exact(u64 sector) const
{
	u32 e = index_.last_where([&](u32 n) { return entries_[n].sector() <= sector; });

	return (e != kNil && entries_[e].sector() == sector) ? e : kNil;
}

u32 Cache::find_following(u64 sector) const
{
	u32 e = find_exact(sector);

	if (e != kNil)
		return e;
	return index_.lower_bound([&](u32 n) { return entries_[n].sector() <= sector; });
}

u32 Cache::find_lowest_at_or_after(u64 sector) const
{
	return index_.lower_bound([&](u32 n) { return entries_[n].sector() < sector; });
}

// `replaces`: a committed block of the same sector that `i` supersedes
// (I5); `i` takes its place in the index and the LRU.
void Cache::insert_entry(u32 i, u64 now_ms, u32 replaces)
{
	entries_[i].set_free(false);
	if (replaces != kNil) {
		index_.replace(replaces, i);
		lru_.remove(replaces);
		superseded_.push_back(replaces);
	} else {
		index_.insert(i);
	}
	lru_.push_front(i);
	entries_[i].set_age(age_stamp(now_ms));
}

// SSD mode keeps free blocks sorted by position and hands them out in
// order from a cursor, so that consecutive writes land contiguously; PMEM
// mode has no use for that and keeps a FIFO, as in-tree does (O(1)).
// A block just taken from the free list now caches `sector`, uncommitted.
void Cache::cache_new_block(u32 i, u64 sector, u64 now_ms, u32 replaces)
{
	entries_[i].set_sector(sector);
	entries_[i].set_seq(seq_count_);
	entry_changed(i);
	insert_entry(i, now_ms, replaces);
	uncommitted_blocks_++;
}

// Frees the superseded blocks (I5) whose sector is in [start, end): all of
// them after a commit, those of a discarded range otherwise.  Returns
// whether it freed any: the caller fences the freed entries.
bool Cache::free_superseded(u64 start, u64 end)
{
	bool freed = false;

	for (u32 i = superseded_.front(); i != kNil;) {
		u32 next = superseded_.next(i);

		if (entries_[i].sector() >= start && entries_[i].sector() < end) {
			superseded_.remove(i);
			add_to_freelist(i);
			entries_[i].set_seq(disk::kFreeSeq);
			entry_changed(i, true);
			events_ |= WC_EV_WAKE_FREELIST;
			freed = true;
		}
		i = next;
	}
	return freed;
}

void Cache::add_to_freelist(u32 i)
{
	entries_[i].set_free(true);
	if (cfg.pmem) {
		free_list_.push_back(i);
	} else {
		if (free_tree_.empty())
			current_free_ = i;
		free_tree_.insert(i);
	}
	freelist_size_++;
}

u32 Cache::pop_from_freelist(u64 expected_cache_sector)
{
	u32 e, next;

	if (cfg.pmem) {
		e = free_list_.front();
		if (e == kNil)
			return kNil;
		free_list_.remove(e);
	} else {
		e = current_free_;
		if (e == kNil)
			return kNil;
		if (expected_cache_sector != ~0ULL && cache_sector(e) != expected_cache_sector)
			return kNil;
		next = free_tree_.next(e);
		free_tree_.erase(e);
		if (next == kNil)
			next = free_tree_.first();
		current_free_ = next;
	}
	freelist_size_--;
	verify_watermark();
	return e;
}

void Cache::free_entry(u32 i, bool in_lru)
{
	index_.erase(i);
	if (in_lru)
		lru_.remove(i);
	add_to_freelist(i);
	entries_[i].set_seq(disk::kFreeSeq);
	entry_changed(i, true);
	events_ |= WC_EV_WAKE_FREELIST;
}

void Cache::entry_changed(u32 i, bool seq_only)
{
	if (!cfg.pmem) {
		mark_dirty(i);
		return;
	}
	if (error_)
		return;
	if (seq_only) {
		// As in-tree: freeing stores only the seq, the sector stays.
		u64 seq = entries_[i].disk_seq();

		wc_env_pmem_copy(&pmem_entry(i)->seq_count, &seq, sizeof(u64));
		return;
	}
	disk::Entry de = {entries_[i].disk_sector(), entries_[i].disk_seq()};

	wc_env_pmem_copy(pmem_entry(i), &de, sizeof(de));
}

void Cache::mark_dirty(u32 i)
{
	u64 chunk = disk::entry_offset(i) / kMetaChunkBytes;

	dirty_[chunk / 64] |= 1ULL << (chunk % 64);
}

void Cache::verify_watermark()
{
	if (freelist_size_ + writeback_size_ <= freelist_high_)
		events_ |= WC_EV_KICK_WRITEBACK;
}

void Cache::set_error(int error, const char *what)
{
	if (!error_) {
		error_ = error;
		text::Message<160> m;

		m().str(what);
		wc_env_log(WC_LOG_ERR, m.c_str());
	}
	events_ |= WC_EV_WAKE_FREELIST;
}

// --- mapping --------------------------------------------------------------

void Cache::map(const wc_bio &bio, u64 now_ms, wc_map_result &res)
{
	res.action = WC_MAP_ERROR;
	res.flags = 0;
	res.accept_sectors = bio.nr_sectors;
	res.sector = bio.sector;
	res.pmem = nullptr;
	res.copy_sectors = block_sectors();

	if (bio.flags & WC_BIO_PREFLUSH) {
		map_flush(bio, res);
		return;
	}
	if ((u32(bio.sector) | bio.nr_sectors) & (block_sectors() - 1)) {
		text::Message<128> m;

		m().str("I/O is not aligned, sector ").dec(bio.sector);
		m().str(", size ").dec(u64(bio.nr_sectors) << kSectorShift);
		m().str(", block size ").dec(cfg.block_size);
		wc_env_log(WC_LOG_ERR, m.c_str());
		return;
	}
	if (bio.flags & WC_BIO_DISCARD)
		map_discard(bio, res);
	else if (!(bio.flags & WC_BIO_WRITE))
		cfg.pmem ? map_pmem_read(bio, res) : map_read(bio, res);
	else
		cfg.pmem ? map_pmem_write(bio, now_ms, res) : map_write(bio, now_ms, res);

	if (res.action == WC_MAP_REMAP_ORIGIN && cfg.pause_ms &&
	    (bio.flags & WC_BIO_WRITE) && !(bio.flags & WC_BIO_DISCARD))
		res.flags |= WC_MAPF_ORIGIN_WRITE;
}

void Cache::map_flush(const wc_bio &bio, wc_map_result &res)
{
	if (error_)
		return;
	if (cfg.pmem) {
		// The commit is stores and fences: done right here.
		stats_.flushes++;
		commit_pmem();
		if (error_)
			return;
		res.action = (cleaner_ || cfg.metadata_only) ? WC_MAP_REMAP_ORIGIN
							     : WC_MAP_COMPLETE;
		return;
	}
	// dm sends two empty flushes in SSD mode: the second one flushes the
	// origin, for the writes that went around the cache.
	if (bio.flags & WC_BIO_SECOND_FLUSH) {
		res.action = WC_MAP_REMAP_ORIGIN;
		return;
	}
	stats_.flushes++;
	res.action = WC_MAP_DEFER;
}

void Cache::map_discard(const wc_bio &bio, wc_map_result &res)
{
	stats_.discards += block_count(bio.nr_sectors);
	if (error_)
		return;
	if (cfg.pmem) {
		discard_range(bio.sector, bio.sector + bio.nr_sectors);
		res.action = WC_MAP_REMAP_ORIGIN;
		return;
	}
	res.action = WC_MAP_DEFER;
}

void Cache::remap_origin(const wc_bio &bio, u32 following, wc_map_result &res)
{
	res.action = WC_MAP_REMAP_ORIGIN;
	res.sector = bio.sector;
	if (following != kNil) {
		u64 boundary = entries_[following].sector() - bio.sector;

		if (boundary < bio.nr_sectors)
			res.accept_sectors = u32(boundary);
	}
}

void Cache::map_read(const wc_bio &bio, wc_map_result &res)
{
	u32 e = find_following(bio.sector);

	stats_.reads++;
	if (e != kNil && entries_[e].sector() == bio.sector) {
		// In-tree sends every cached block as a bio of its own; the
		// blocks that follow this one on both devices go in the same
		// bio here, and count as if they had been sent one by one.
		bool uncommitted;
		u32 blocks = adjacent_run(e, block_count(bio.nr_sectors), &uncommitted);

		stats_.reads += blocks - 1;
		stats_.read_hits += blocks;
		res.action = WC_MAP_REMAP_CACHE;
		res.accept_sectors = blocks * block_sectors();
		res.sector = cache_sector(e);
		res.flags |= WC_MAPF_TRACK_CACHE_IO;
		// A block allocated by a write still in flight holds stale
		// data of another sector until that write lands.
		if (uncommitted)
			res.flags |= WC_MAPF_WAIT_CACHE_WRITES;
		return;
	}
	read_miss(bio, e, res);
}

// A read that starts at an uncached block goes to the origin, up to the
// next cached block; in-tree counts the blocks after the first here.
void Cache::read_miss(const wc_bio &bio, u32 following, wc_map_result &res)
{
	remap_origin(bio, following, res);
	stats_.reads += block_count(res.accept_sectors) - 1;
}

void Cache::map_write(const wc_bio &bio, u64 now_ms, wc_map_result &res)
{
	bool found_entry = false;
	u32 e;

	if (error_) {
		stats_.writes += block_count(bio.nr_sectors);
		return;
	}
	e = find_exact(bio.sector);
	if (e != kNil) {
		if (!committed(e)) {
			stats_.write_hits_uncommitted++;
			write_ssd_run(bio, e, true, now_ms, res);
			return;
		}
		stats_.write_hits_committed++;
		// SSD mode rewrites a committed block in place, unless it is
		// being written back; the next commit must then flush the
		// cache device even if it has no new entries.
		if (!entries_[e].write_in_progress()) {
			overwrote_committed_ = true;
			write_ssd_run(bio, e, true, now_ms, res);
			return;
		}
		found_entry = true;
	} else if (cleaner_ || (cfg.metadata_only && !(bio.flags & WC_BIO_META))) {
		goto direct_write;
	}

	e = pop_from_freelist(~0ULL);
	if (e == kNil) {
		if (!found_entry)
			goto direct_write;
		stats_.writes_blocked_on_freelist++;
		res.action = WC_MAP_WAIT_FREELIST;
		return;
	}
	if (found_entry)
		duplicates_ = true;
	cache_new_block(e, bio.sector, now_ms);
	stats_.writes_allocate++;
	write_ssd_run(bio, e, false, now_ms, res);
	return;

direct_write:
	remap_origin(bio, find_following(bio.sector), res);
	stats_.writes_around += block_count(res.accept_sectors);
	stats_.writes += block_count(res.accept_sectors);
}

// Extends a write that starts at cache block `e` over the following blocks
// while they stay contiguous on both devices, allocating (a new write) or
// reusing (an overwrite) them, and remaps that run to the cache.
void Cache::write_ssd_run(const wc_bio &bio, u32 e, bool overwrite, u64 now_ms,
			  wc_map_result &res)
{
	u32 size = block_sectors();
	u64 start = cache_sector(e);
	u64 next_cache = start + size;

	while (size < bio.nr_sectors) {
		if (!overwrite) {
			// A sector already cached ends the run: its block is
			// rewritten by the next map call.  (In-tree allocates
			// a second block with the same sector and seq there,
			// which a crash right after the commit turns into "two
			// identical entries".)
			if (find_exact(bio.sector + size) != kNil)
				break;
			u32 f = pop_from_freelist(next_cache);

			if (f == kNil)
				break;
			cache_new_block(f, bio.sector + size, now_ms);
		} else {
			u32 f = index_.next(e);

			if (f == kNil || f != e + 1)
				break;
			if (entries_[f].sector() != entries_[e].sector() + block_sectors())
				break;
			if (entries_[f].write_in_progress())
				break;
			if (committed(f))
				overwrote_committed_ = true;
			e = f;
		}
		size += block_sectors();
		next_cache += block_sectors();
	}

	res.action = WC_MAP_REMAP_CACHE;
	res.sector = start;
	res.accept_sectors = size;
	res.flags |= WC_MAPF_TRACK_CACHE_IO;
	if (bio.flags & WC_BIO_FUA)
		res.flags |= WC_MAPF_COMMIT_AFTER;
	stats_.writes += block_count(size);
	// As in-tree: every block after the first counts as allocated.
	stats_.writes_allocate += block_count(size) - 1;

	if (uncommitted_blocks_ >= cfg.autocommit_blocks) {
		uncommitted_blocks_ = 0;
		events_ |= WC_EV_COMMIT_SOON;
	} else {
		events_ |= WC_EV_ARM_AUTOCOMMIT;
	}
}

// Blocks from cached block `e` on, at most max_blocks, that follow each
// other both on the origin and in the cache area (read with one bio or one
// copy).  *uncommitted (if given) is set when one of them is uncommitted.
u32 Cache::adjacent_run(u32 e, u32 max_blocks, bool *uncommitted) const
{
	u64 sector = entries_[e].sector();
	u32 blocks = 1;

	if (uncommitted)
		*uncommitted = !committed(e);
	for (u32 prev = e; blocks < max_blocks; blocks++) {
		u32 f = find_exact(sector + u64(blocks) * block_sectors());

		if (f != prev + 1)
			break;
		if (uncommitted && !committed(f))
			*uncommitted = true;
		prev = f;
	}
	return blocks;
}

// Sectors from `sector` on, at most nr_sectors, whose blocks are all cached.
u32 Cache::cached_run(u64 sector, u32 nr_sectors) const
{
	u32 run = 0;

	while (run < nr_sectors && find_exact(sector + run) != kNil)
		run += block_sectors();
	return run;
}

// PMEM mode: the caller copies one block at a time between the bio and the
// mapping (WC_MAP_COPY_PMEM), advances the bio and maps the rest; a final
// call with nothing left completes it.  The first call says how much of
// the bio the copies will cover: dm can split a bio only before it is
// advanced (in-tree splits an advanced bio, and with dm's accounting since
// 5.19 the remainder of such a split restarts at the wrong sector).
void Cache::map_pmem_read(const wc_bio &bio, wc_map_result &res)
{
	if (!bio.nr_sectors) {
		res.action = WC_MAP_COMPLETE;
		return;
	}
	u32 e = find_following(bio.sector);

	stats_.reads++;
	if (e != kNil && entries_[e].sector() == bio.sector) {
		// The blocks that follow this one in the mapping too are
		// copied at once; they count as if mapped one by one.  The
		// first call also says how far the cached run goes, from
		// where the adjacent blocks end.
		u32 blocks = adjacent_run(e, block_count(bio.nr_sectors), nullptr);
		u32 copy = blocks * block_sectors();

		res.action = WC_MAP_COPY_PMEM;
		res.accept_sectors = (bio.flags & WC_BIO_CONTINUED)
					     ? bio.nr_sectors
					     : copy + cached_run(bio.sector + copy, bio.nr_sectors - copy);
		res.pmem = pmem_data(e);
		stats_.reads += blocks - 1;
		stats_.read_hits += blocks;
		res.copy_sectors = copy;
		return;
	}
	read_miss(bio, e, res);
}

void Cache::map_pmem_write(const wc_bio &bio, u64 now_ms, wc_map_result &res)
{
	u32 e, replaces = kNil;

	if (!bio.nr_sectors) {
		// Every block is in the cache: FUA or a full batch commits.
		if ((bio.flags & WC_BIO_FUA) || uncommitted_blocks_ >= cfg.autocommit_blocks)
			commit_pmem();
		else
			events_ |= WC_EV_ARM_AUTOCOMMIT;
		res.action = error_ ? WC_MAP_ERROR : WC_MAP_COMPLETE;
		return;
	}
	if (error_) {
		stats_.writes += block_count(bio.nr_sectors);
		return;
	}
	bool only_cached = cleaner_ || (cfg.metadata_only && !(bio.flags & WC_BIO_META));

	e = find_exact(bio.sector);
	// cleaner and metadata_only promote only cached blocks: the copies
	// then cover the run of cached blocks, otherwise all of the bio.
	res.accept_sectors = (bio.flags & WC_BIO_CONTINUED) || !only_cached
				     ? bio.nr_sectors
				     : cached_run(bio.sector, bio.nr_sectors);
	if (e != kNil) {
		if (!committed(e)) {
			stats_.write_hits_uncommitted++;
			goto copy;
		}
		// A committed block is never rewritten in place here: its
		// old data must stay valid until the new copy commits (I5).
		// One being written back stays in the index beside the new
		// copy until its writeback ends.
		stats_.write_hits_committed++;
		if (entries_[e].write_in_progress())
			duplicates_ = true;
		else
			replaces = e;
	} else if (only_cached && !(bio.flags & WC_BIO_CONTINUED)) {
		// (An advanced bio cannot be remapped: a block that left the
		// cache while the caller waited for a free block is cached
		// again below instead.)
		res.accept_sectors = bio.nr_sectors;
		remap_origin(bio, find_following(bio.sector), res);
		stats_.writes_around += block_count(res.accept_sectors);
		stats_.writes += block_count(res.accept_sectors);
		return;
	}
	e = pop_from_freelist(~0ULL);
	if (e == kNil) {
		stats_.writes_blocked_on_freelist++;
		res.action = WC_MAP_WAIT_FREELIST;
		return;
	}
	cache_new_block(e, bio.sector, now_ms, replaces);
	stats_.writes_allocate++;
copy:
	stats_.writes++;
	res.action = WC_MAP_COPY_PMEM;
	res.pmem = pmem_data(e);
}

// PMEM commit: the entries and data were stored with cache-line write-back;
// one fence makes them durable, then the superblock's seq_count commits
// them and a second fence makes that durable (invariant I1 for PMEM).
void Cache::commit_pmem()
{
	uncommitted_blocks_ = 0;
	if (error_ || lru_.empty() || committed(lru_.front()))
		return;
	if (seq_count_ + 1 >= Entry::kFreeSeq) {
		set_error(-WC_EOVERFLOW, "sequence count exhausted");
		return;
	}
	wc_env_pmem_fence();
	seq_count_++;
	sb_.seq_count = seq_count_;
	wc_env_pmem_copy(pmem_ + __builtin_offsetof(disk::Superblock, seq_count),
			 &seq_count_, sizeof(u64));
	wc_env_pmem_fence();
	bool freed = free_superseded(0, ~0ULL);

	if (free_older_duplicates() || freed)
		wc_env_pmem_fence();
}

// Drops the cached blocks of [start, end) that are not being written back.
void Cache::discard_range(u64 start, u64 end)
{
	bool freed = false;

	for (u32 e = find_lowest_at_or_after(start);
	     e != kNil && entries_[e].sector() < end;) {
		u32 next = index_.next(e);

		if (!entries_[e].write_in_progress()) {
			if (!committed(e) && uncommitted_blocks_)
				uncommitted_blocks_--;
			free_entry(e);
			freed = true;
		}
		e = next;
	}
	// In-tree frees both copies of a discarded block; so does this.
	if (free_superseded(start, end))
		freed = true;
	if (freed && cfg.pmem)
		wc_env_pmem_fence();
}

// --- writeback planning ---------------------------------------------------

// Ages are 16-bit stamps in units of max_age/4096 (at least 1 ms): they
// compare correctly up to 16 times max_age, and an older block that reads
// as young is caught a little later, once the stamp difference has grown
// past the threshold again.
u32 Cache::age_unit_ms() const
{
	return max<u32>(1, (cfg.max_age_ms + 4095) / 4096);
}

u16 Cache::age_stamp(u64 now_ms) const
{
	return u16(now_ms / age_unit_ms());
}

bool Cache::aged(u32 i, u64 now_ms) const
{
	if (!cfg.max_age_set)
		return false;
	u16 age = u16(age_stamp(now_ms) - entries_[i].age());
	u32 threshold = (cfg.max_age_ms - cfg.max_age_ms / kMaxAgeDiv) / age_unit_ms();

	return age >= threshold;
}

void Cache::writeback_begin()
{
	wb_walked_ = 0;
	wb_waited_writes_ = false;
	wb_sweep_started_ = false;
	wb_sweep_cursor_ = kNil;
}

int Cache::writeback_plan(u64 now_ms, bool writeback_all, int *requeue)
{
	u32 skipped_head = kNil, skipped_tail = kNil;
	bool planned = false;

	*requeue = 0;
	if (error_)
		return WC_WB_IDLE;
	if (writeback_all && !wb_sweep_started_) {
		// Drain what is in flight, commit, then sweep the whole index
		// in origin order.
		if (writeback_size_)
			return WC_WB_WAIT;
		wb_sweep_started_ = true;
		wb_sweep_cursor_ = kSweepUnpositioned;
		return WC_WB_NEED_COMMIT;
	}
	// A committed block rewritten in place may still have that write in
	// flight; copying it now could retire the block under the new data.
	if (overwrote_committed_ && !wb_waited_writes_) {
		wb_waited_writes_ = true;
		return WC_WB_WAIT_CACHE_WRITES;
	}
	if (writeback_all && wb_sweep_cursor_ == kSweepUnpositioned)
		wb_sweep_cursor_ = index_.first();

	for (;;) {
		u32 e, f;

		if (writeback_all) {
			e = wb_sweep_cursor_;
			while (e != kNil && entries_[e].write_in_progress())
				e = index_.next(e);
			if (e == kNil)
				break;
		} else {
			if (lru_.empty())
				break;
			e = lru_.back();
			if (!(freelist_size_ + writeback_size_ <= freelist_low_ ||
			      aged(e, now_ms)))
				break;
		}
		wb_walked_++;
		if (wb_walked_ > kWritebackLatency && !writeback_all) {
			*requeue = 1;
			break;
		}
		if (!committed(e)) {
			wb_sweep_cursor_ = e;
			return WC_WB_NEED_COMMIT;
		}

		// An older copy of the same sector is still being written
		// back: writing this one concurrently could reorder them.
		f = index_.prev(e);
		if (f != kNil && entries_[f].sector() == entries_[e].sector()) {
			wb_sweep_cursor_ = index_.next(e);
			lru_.remove(e);
			entries_[e].lru[1] = kNil;
			entries_[e].lru[0] = skipped_tail;
			if (skipped_tail != kNil)
				entries_[skipped_tail].lru[1] = e;
			else
				skipped_head = e;
			skipped_tail = e;
			continue;
		}

		// Start a job at e and extend it over blocks that follow it on
		// the origin and, in SSD mode, on the cache too.
		u32 head = e, count = 1;

		lru_.remove(e);
		entries_[e].set_write_in_progress(true);
		entries_[e].lru[1] = kNil;
		writeback_size_++;
		f = e;
		for (;;) {
			u32 g = index_.next(f);

			if (g == kNil)
				break;
			if (entries_[g].sector() == entries_[f].sector()) {
				f = g;
				continue;
			}
			if (entries_[g].sector() != entries_[f].sector() + block_sectors())
				break;
			if (entries_[g].write_in_progress() || !committed(g))
				break;
			if (!cfg.pmem && g != e + 1)
				break;
			wb_walked_++;
			lru_.remove(g);
			entries_[g].set_write_in_progress(true);
			entries_[g].lru[1] = kNil;
			entries_[e].lru[1] = g;
			writeback_size_++;
			e = g;
			f = g;
			if (++count == kMaxWritebackRun)
				break;
		}
		wb_sweep_cursor_ = index_.next(f);

		entries_[head].lru[0] = kNil;
		if (wb_queue_tail_ != kNil)
			entries_[wb_queue_tail_].lru[0] = head;
		else
			wb_queue_head_ = head;
		wb_queue_tail_ = head;
		wb_queued_blocks_ += count;
		planned = true;
	}

	// Skipped blocks go back as the oldest.
	for (u32 s = skipped_head; s != kNil;) {
		u32 next = entries_[s].lru[1];

		lru_.push_back(s);
		s = next;
	}
	if (skipped_head != kNil && !planned)
		return WC_WB_WAIT;
	return planned ? WC_WB_JOBS : WC_WB_IDLE;
}

bool Cache::writeback_next_job(wc_wb_job *job)
{
	u32 head = wb_queue_head_;
	u32 n = 0;

	if (head == kNil)
		return false;
	wb_queue_head_ = entries_[head].lru[0];
	if (wb_queue_head_ == kNil)
		wb_queue_tail_ = kNil;
	for (u32 e = head; e != kNil; e = entries_[e].lru[1])
		n++;
	wb_queued_blocks_ -= n;

	job->head = head;
	job->nr_blocks = n;
	job->cache_sector = cache_sector(head);
	job->origin_sector = entries_[head].sector();
	u64 sectors = u64(n) << (cfg.block_shift - kSectorShift);

	// The origin may have shrunk since the block was cached.
	if (job->origin_sector >= origin_sectors_)
		sectors = 0;
	else if (job->origin_sector + sectors > origin_sectors_)
		sectors = origin_sectors_ - job->origin_sector;
	job->nr_sectors = u32(sectors);
	return true;
}

void Cache::writeback_done(u32 head, int error)
{
	if (error)
		set_error(error, "copy error");
	entries_[head].lru[0] = retire_head_;
	retire_head_ = head;
}

// --- messages and status --------------------------------------------------

int Cache::message(u32 argc, char **argv, int *action)
{
	*action = WC_MSG_HANDLED;
	if (text::equal_nocase(argv[0], "flush")) {
		if (argc != 1)
			return -WC_EINVAL;
		*action = WC_MSG_FLUSH;
	} else if (text::equal_nocase(argv[0], "flush_on_suspend")) {
		if (argc != 1)
			return -WC_EINVAL;
		flush_on_suspend_ = true;
	} else if (text::equal_nocase(argv[0], "cleaner")) {
		if (argc != 1)
			return -WC_EINVAL;
		flush_on_suspend_ = true;
		cleaner_ = true;
		freelist_high_ = freelist_low_ = n_blocks_;
		*action = WC_MSG_CLEANER;
	} else if (text::equal_nocase(argv[0], "clear_stats")) {
		if (argc != 1)
			return -WC_EINVAL;
		stats_ = {};
	} else {
		text::Message<160> m;

		m().str("unrecognised message received: ").str(argv[0]);
		wc_env_log(WC_LOG_ERR, m.c_str());
		return -WC_EINVAL;
	}
	return 0;
}

void Cache::status(text::Emitter &out) const
{
	out.dec(error_ ? 1 : 0).chr(' ').dec(n_blocks_).chr(' ');
	out.dec(freelist_size_).chr(' ').dec(writeback_size_).chr(' ');
	out.dec(stats_.reads).chr(' ').dec(stats_.read_hits).chr(' ');
	out.dec(stats_.writes).chr(' ').dec(stats_.write_hits_uncommitted).chr(' ');
	out.dec(stats_.write_hits_committed).chr(' ').dec(stats_.writes_around).chr(' ');
	out.dec(stats_.writes_allocate).chr(' ');
	out.dec(stats_.writes_blocked_on_freelist).chr(' ');
	out.dec(stats_.flushes).chr(' ').dec(stats_.discards);
}

bool Cache::validate() const
{
	u64 cached = 0, free = 0, wip = 0;

	if (!entries_)
		return true;
	if (index_.validate() < 0 || free_tree_.validate() < 0)
		return false;
	for (u64 i = 0; i < n_blocks_; i++) {
		const Entry &e = entries_[i];

		if (e.is_free()) {
			free++;
			if (e.write_in_progress())
				return false;
		} else {
			cached++;
			wip += e.write_in_progress();
		}
	}
	for (u32 i = superseded_.front(); i != kNil; i = superseded_.next(i))
		if (!committed(i) || entries_[i].write_in_progress() || find_exact(entries_[i].sector()) == kNil)
			return false;
	return free == freelist_size_ &&
	       free == (cfg.pmem ? free_list_.size() : free_tree_.size()) &&
	       cached == index_.size() + superseded_.size() && wip == writeback_size_ &&
	       lru_.size() + wip <= index_.size();
}

} // namespace wc

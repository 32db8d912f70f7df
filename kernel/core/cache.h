// SPDX-License-Identifier: GPL-2.0
// The writecache state machine: the facade over the core's concerns.
//
// Cache is the one object behind wc_core.h (api.cpp).  Its state is the
// sub-objects of the headers below; its member functions are spread over
// one file per concern, each with at most one header of its own:
//   cache.cpp      construction: the mode, geometry, superblock check,
//                  allocation
//   layout.*       the layout rule and the superblock checks (pure)
//   blocks.*       the entry table, index, LRU, superseded list, lookups,
//                  caching and freeing, validate()
//   load_index.cpp the load's decoding and bulk build of the containers
//                  (radix_sort.h)
//   freelist.*     the free blocks (sorted or FIFO) and the watermarks
//   list.h         the intrusive lists through the entries
//   map.cpp        what the two modes' map paths share
//   map_ssd.cpp    SSD mode's map paths and its deferred discard
//   map_pmem.cpp   PMEM mode's map paths
//   writeback.*    the planner, the job queues, retire (I3)
//   program.*      the I/O programs' runner and their named steps
//   meta_ssd.*     SSD metadata: dirty chunks, encoding, the sync, format,
//                  load and commit (I1, I2, I4)
//   meta_pmem.*    PMEM metadata: stores, fences, commit, load, format (I5)
//   control.*      messages, status, the error latch
//   debug.h        the invariant checks of debug builds
// The mode (SSD or PMEM) is chosen once: Mode below.
#pragma once

#include "blocks.h"
#include "config.h"
#include "control.h"
#include "debug.h"
#include "entry.h"
#include "freelist.h"
#include "layout.h"
#include "meta_pmem.h"
#include "meta_ssd.h"
#include "ondisk.h"
#include "program.h"
#include "radix_sort.h"
#include "rbtree.h"
#include "writeback.h"
#include "../include/wc_core.h"

namespace wc {

class Cache {
public:
	Cache() = default;
	~Cache();
	Cache(const Cache &) = delete;
	Cache &operator=(const Cache &) = delete;

	Config cfg;

	// construction
	int ssd_geometry(const char **error);
	void set_pmem(void *base, u64 bytes);
	void *pmem_base() const { return pmem_.base(); }
	int check_superblock(const void *first_block, int *need_format,
			     const char **error);
	u64 metadata_sectors() const { return metadata_bytes_ >> kSectorShift; }
	u64 n_blocks() const { return n_blocks_; }
	// What check_superblock allocates for a cache of that geometry.
	static u64 ram_bytes(u64 n_blocks, u64 metadata_bytes);

	// programs
	void program_start(int program, u64 arg0, u64 arg1);
	void program_step(wc_io_op *op, int result);

	// bios
	void map(const wc_bio &bio, u64 now_ms, wc_map_result &res);

	// writeback
	void writeback_begin();
	int writeback_plan(u64 now_ms, bool writeback_all, int *requeue);
	bool writeback_next_job(wc_wb_job *job);
	void writeback_done(BlockId head, int error);
	u64 writeback_blocks() const { return writeback_size_; }
	void *block_data(BlockId e) const { return pmem_data(e); }
	BlockId job_next(BlockId e) const { return wb_.job_next(e); }
	u64 writeback_queued() const { return wb_.planned_blocks(); }

	// state
	void set_error(int error, const char *what);
	int error() const { return error_; }
	void forget_failed_write(u64 sector, u32 nr_sectors);
	void forget_uncommitted();
	unsigned take_events()
	{
		unsigned e = events_;

		events_ = 0;
		return e;
	}
	int message(u32 argc, char **argv, int *action);
	bool take_flush_on_suspend()
	{
		bool f = flush_on_suspend_;

		flush_on_suspend_ = false;
		return f;
	}
	bool cleaner() const { return cleaner_; }
	void status(text::Emitter &out) const;
	void status_fields(u64 (&fields)[WC_STATUS_NR_FIELDS]) const;

	// For tests and tools: read-only views.
	u64 free_blocks() const { return free_.size(); }
	u64 seq_count() const { return seq_count_; }
	// The superblock as last read or written.
	const disk::Superblock &superblock() const { return sb_; }
	const Stats &stats() const { return stats_; }
	const Entry *entries() const { return entries_; }
	// Block i's entry (i below n_blocks()).
	const Entry &entry(BlockId i) const { return entry_at(entries_, i); }
	// The cached block for an origin sector with the highest seq, or nil.
	BlockId lookup(u64 sector) const { return find_exact(sector); }
	bool committed(BlockId i) const { return entry(i).seq() < seq_count_; }
	u64 cache_sector_of(BlockId i) const { return cache_sector(i); }
	// Checks the containers against each other; returns false if broken.
	bool validate() const;

private:
	// Block i's entry, to change it (the view above reads it).
	Entry &entry(BlockId i) { return entry_at(entries_, i); }

	// geometry
	u64 cache_sector(BlockId i) const
	{
		return cfg.start_sector + (metadata_bytes_ >> kSectorShift) +
		       (u64(i.index()) << (cfg.block_shift - kSectorShift));
	}
	u32 block_sectors() const { return cfg.block_size >> kSectorShift; }
	u32 block_count(u32 sectors) const
	{
		return sectors >> (cfg.block_shift - kSectorShift);
	}

	// blocks.cpp
	void reset_containers();
	BlockId find_exact(u64 sector) const;
	BlockId find_following(u64 sector) const;
	BlockId find_lowest_at_or_after(u64 sector) const;
	void insert_entry(BlockId i, u64 now_ms, BlockId replaces = BlockId::nil());
	void cache_new_block(BlockId i, u64 sector, u64 now_ms,
			     BlockId replaces = BlockId::nil());
	BlockId pop_from_freelist(BlockId expected_block);
	void free_entry(BlockId i, bool in_lru = true);
	bool free_superseded(u64 start, u64 end);
	bool discard_range(u64 start, u64 end);
	bool free_older_duplicates();
	int refuse_load(int error);
	// load_index.cpp
	void load_entry(BlockId i, u64 sector, u64 seq);
	void load_drop(BlockId i);
	void load_build();
	// An entry's metadata changed, its block just cached or freed: SSD
	// mode marks its chunk dirty for the next metadata write; PMEM mode
	// stores it (durable at the next fence).
	void entry_cached(BlockId i) { (this->*mode_->store_cached)(i); }
	void entry_freed(BlockId i)
	{
		note_free_unsynced(true);
		(this->*mode_->store_freed)(i);
	}
	// I2, checked in debug builds: no block is allocated while a free is
	// not yet durable (synced, or fenced in PMEM mode).
	void note_free_unsynced(bool unsynced)
	{
#ifdef WC_CORE_DEBUG
		frees_unsynced_ = unsynced;
#else
		(void)unsynced;
#endif
	}
	bool frees_unsynced() const
	{
#ifdef WC_CORE_DEBUG
		return frees_unsynced_;
#else
		return false;
#endif
	}

	u8 *pmem_data(BlockId i) const
	{
		return pmem_.block(i, metadata_bytes_, cfg.block_shift);
	}

	// What the two modes do differently, chosen once (set_pmem, when the
	// table has been parsed) instead of tested at every turn.
	struct Mode {
		void (Cache::*map_flush)(const wc_bio &bio, wc_map_result &res);
		// An aligned discard, read or write.
		void (Cache::*map_bio)(const wc_bio &bio, u64 now_ms, wc_map_result &res);
		void (Cache::*program_step)(wc_io_op *op, int result);
		int (Cache::*read_superblock)(disk::Superblock *s, const char **error);
		void (Cache::*store_cached)(BlockId i);
		void (Cache::*store_freed)(BlockId i);
		Freelist::Order free_order;
		// Writeback runs must be contiguous in the cache too (kcopyd
		// copies a run as one region).
		bool contiguous_runs;
	};
	static const Mode kSsdMode;
	static const Mode kPmemMode;

	// map.cpp
	u32 cached_run(u64 sector, u32 nr_sectors) const;
	u32 adjacent_run(BlockId e, u32 max_blocks, bool *uncommitted) const;
	void remap_origin(const wc_bio &bio, BlockId following, wc_map_result &res);
	void read_miss(const wc_bio &bio, BlockId following, wc_map_result &res);
	// map_ssd.cpp
	void map_ssd_bio(const wc_bio &bio, u64 now_ms, wc_map_result &res);
	void map_ssd_flush(const wc_bio &bio, wc_map_result &res);
	void map_ssd_discard(const wc_bio &bio, wc_map_result &res);
	void map_ssd_read(const wc_bio &bio, wc_map_result &res);
	void map_ssd_write(const wc_bio &bio, u64 now_ms, wc_map_result &res);
	void write_ssd_run(const wc_bio &bio, BlockId e, bool overwrite, u64 now_ms,
			   wc_map_result &res);
	void step_discard(wc_io_op *op, int result);
	// map_pmem.cpp
	void map_pmem_bio(const wc_bio &bio, u64 now_ms, wc_map_result &res);
	void map_pmem_flush(const wc_bio &bio, wc_map_result &res);
	void map_pmem_discard(const wc_bio &bio, wc_map_result &res);
	void map_pmem_read(const wc_bio &bio, wc_map_result &res);
	void map_pmem_write(const wc_bio &bio, u64 now_ms, wc_map_result &res);

	// writeback.cpp (the age stamps and the watermark check, on the map
	// path, are inline below)
	bool aged(BlockId i, u64 now_ms) const;
	u32 age_unit_ms() const;
	u16 age_stamp(u64 now_ms) const;
	void verify_watermark();
	void retire_jobs(int flush_result);
	void step_retire(wc_io_op *op, int result);
	void step_retire_pmem(wc_io_op *op, int result);

	// program.cpp
	void step_ssd(wc_io_op *op, int result);
	void finish(wc_io_op *op, int error);
	void sync_then_finish(wc_io_op *op, int result);

	// meta_ssd.cpp
	enum class Sync { kRunning, kDone, kFailed };
	Sync sync_step(wc_io_op *op, int result);
	void meta_write(wc_io_op *op, int kind, u64 first, u64 count);
	bool emit_dirty_write(wc_io_op *op);
	bool emit_meta_read(wc_io_op *op);
	void load_unreadable(wc_io_op *op, int result);
	void encode_chunk(u64 chunk, u8 *buf, bool blank_entries) const;
	u64 chunk_count() const { return DirtyChunks::chunk_count(metadata_bytes_); }
	void step_format(wc_io_op *op, int result);
	void step_load(wc_io_op *op, int result);
	void load_entries(const u8 *buf, u64 first_byte, u64 bytes);
	void step_commit(wc_io_op *op, int result);
	int read_superblock_ssd(disk::Superblock *s, const char **error);
	void mark_entry_dirty(BlockId i) { dirty_.mark_entry(i); }

	// meta_pmem.cpp
	void commit_pmem();
	int format_pmem();
	int load_pmem();
	void step_pmem(wc_io_op *op, int result);
	int read_superblock_pmem(disk::Superblock *s, const char **error);
	void store_entry_pmem(BlockId i);
	void store_seq_pmem(BlockId i);
	void pmem_store(void *dst, const void *src, u64 bytes);
	void pmem_fence();

	// control.cpp
	void flush_failed(int result);
	void forget_if_uncommitted(BlockId e);

	// geometry
	u64 area_bytes_ = 0;		// cache bytes from start_sector on
	u64 n_blocks_ = 0;
	u64 metadata_bytes_ = 0;
	PmemMap pmem_;			// PMEM: the mapping
	const Mode *mode_ = &kSsdMode;
#ifdef WC_CORE_DEBUG
	bool frees_unsynced_ = false;
#endif

	// the superblock as last read or written; seq_count is the live one
	disk::Superblock sb_ = {};
	u64 seq_count_ = 0;
	u64 origin_sectors_ = 0;

	Entry *entries_ = nullptr;
	DirtyChunks dirty_;		// SSD: one bit per metadata chunk
	RbTree<ByOrigin> index_;
	LruList lru_;
	SupersededList superseded_;	// PMEM: old copies freed at the commit (I5)
	Freelist free_;

	u64 writeback_size_ = 0;
	u64 uncommitted_blocks_ = 0;
	int error_ = 0;
	// The last load could not read the metadata: every bio fails.
	bool load_refused_ = false;
	bool overwrote_committed_ = false;
	// A new copy of a block was cached beside an old one that was being
	// written back: the next commit frees the old one if it is done.
	bool duplicates_ = false;
	bool flush_on_suspend_ = false;
	bool cleaner_ = false;
	unsigned events_ = 0;
	Stats stats_ = {};

	// writeback: planned jobs not yet handed out, and finished ones
	// waiting for WC_PROG_RETIRE
	WritebackQueue wb_;
	u32 wb_walked_ = 0;
	bool wb_waited_writes_ = false;
	bool wb_sweep_started_ = false;
	// A reserved id, never a block's (block_id.h).
	static constexpr BlockId kSweepUnpositioned = BlockId::reserved();
	BlockId wb_sweep_cursor_ = BlockId::nil();

	Program prog_;		// the running program
	u32 radix_counts_[kRadixPasses][kRadixBuckets];	// load_build's sort
	// What load_entry saw of the committed entries, so that load_build
	// needs no scan of its own to size the sort (reset_containers
	// clears it; every load starts there).
	struct LoadStats {
		u64 cached = 0;
		u64 lo = ~0ULL, hi = 0;	// origin sectors
	} load_stats_;
	// PMEM load: entries are read a page at a time, not one by one.
	disk::Entry load_page_[4096 / sizeof(disk::Entry)];
};

// On the map path, and so inline: the lookup, the age stamps, the
// watermark check.
inline BlockId Cache::find_exact(u64 sector) const
{
	BlockId e = index_.last_where([&](BlockId n) { return entry(n).sector() <= sector; });

	return (!e.is_nil() && entry(e).sector() == sector) ? e : BlockId::nil();
}

// Ages are 16-bit stamps in units of max_age/4096 (at least 1 ms): they
// compare correctly up to 16 times max_age, and an older block that reads
// as young is caught a little later, once the stamp difference has grown
// past the threshold again.
inline u32 Cache::age_unit_ms() const
{
	return max<u32>(1, (cfg.max_age_ms + 4095) / 4096);
}

inline u16 Cache::age_stamp(u64 now_ms) const
{
	return u16(now_ms / age_unit_ms());
}

// Free blocks fell to the high watermark: writeback must run.
inline void Cache::verify_watermark()
{
	if (free_.size() + writeback_size_ <= free_.high())
		events_ |= WC_EV_KICK_WRITEBACK;
}

} // namespace wc

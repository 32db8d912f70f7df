// SPDX-License-Identifier: GPL-2.0
// The writecache state machine.
//
// Persistence invariants (SSD mode), kept by every program in program.cpp:
//  I1. A block's data is durable on the cache device before any on-disk
//      entry that maps it becomes committed: commit writes the entries,
//      waits for the remapped data writes, flushes the cache device, and
//      only then writes the superblock's new seq_count with FUA.
//  I2. A cache block is reused only after the on-disk entry that mapped it
//      says "free" durably: freeing marks the entry's metadata dirty and the
//      same locked section writes and flushes it before any allocation can
//      run (the caller's lock is held across the whole program).
//  I3. A block is freed after writeback only once its data is durable on
//      the origin: WC_PROG_RETIRE flushes the origin first.
//  I4. Once the error state is latched, no metadata is written again: a
//      failing device must not turn a transient error into lost entries.
//
// PMEM mode:
//  I5. A committed block is never rewritten in place.  Its new copy takes
//      its place in the index and the LRU at once; the old block leaves
//      both for the superseded list but stays allocated, and its entry
//      stays valid on the media, until the commit that makes the new copy
//      durable has been fenced.  Only then is it freed (commit_pmem).
//      A power loss before that finds the old copy, committed, and drops
//      the new uncommitted one.
#pragma once

#include "config.h"
#include "entry.h"
#include "ondisk.h"
#include "rbtree.h"
#include "../include/wc_core.h"

namespace wc {

struct ByOrigin {
	static bool less(const Entry *base, u32 a, u32 b)
	{
		u64 sa = base[a].sector(), sb = base[b].sector();

		return sa < sb || (sa == sb && base[a].seq() < base[b].seq());
	}
};

struct ByPosition {
	static bool less(const Entry *, u32 a, u32 b) { return a < b; }
};

struct Stats {
	u64 reads;
	u64 read_hits;
	u64 writes;
	u64 write_hits_uncommitted;
	u64 write_hits_committed;
	u64 writes_around;
	u64 writes_allocate;
	u64 writes_blocked_on_freelist;
	u64 flushes;
	u64 discards;
};

// The metadata area is written in chunks of this size; a dirty bit per chunk.
constexpr u32 kMetaChunkBytes = 4096;
// Writeback runs are at most this many blocks (BIO_MAX_VECS).
constexpr u32 kMaxWritebackRun = 256;
// Blocks walked per writeback pass before the work is requeued.
constexpr u32 kWritebackLatency = 64;
constexpr u32 kMaxAgeDiv = 16;

int calculate_layout(u64 bytes, u32 block_size, u64 *n_blocks, u64 *meta_bytes);

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
	void *pmem_base() const { return pmem_; }
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
	void writeback_done(u32 head, int error);
	u64 writeback_blocks() const { return writeback_size_; }
	void *block_data(u32 e) const { return pmem_data(e); }
	u32 job_next(u32 e) const { return entries_[e].lru[1]; }
	u64 writeback_queued() const { return wb_queued_blocks_; }

	// state
	void set_error(int error, const char *what);
	int error() const { return error_; }
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

	// For tests and tools: read-only views.
	u64 free_blocks() const { return freelist_size_; }
	u64 seq_count() const { return seq_count_; }
	// The superblock as last read or written.
	const disk::Superblock &superblock() const { return sb_; }
	const Stats &stats() const { return stats_; }
	const Entry *entries() const { return entries_; }
	// The cached block for an origin sector with the highest seq, or kNil.
	u32 lookup(u64 sector) const { return find_exact(sector); }
	bool committed(u32 i) const { return entries_[i].seq() < seq_count_; }
	u64 cache_sector_of(u32 i) const { return cache_sector(i); }
	// Checks the containers against each other; returns false if broken.
	bool validate() const;

private:
	// geometry
	u64 cache_sector(u32 i) const
	{
		return cfg.start_sector + (metadata_bytes_ >> kSectorShift) +
		       (u64(i) << (cfg.block_shift - kSectorShift));
	}
	u32 block_sectors() const { return cfg.block_size >> kSectorShift; }
	u32 block_count(u32 sectors) const
	{
		return sectors >> (cfg.block_shift - kSectorShift);
	}

	// containers
	void reset_containers();
	u32 find_exact(u64 sector) const;
	u32 find_following(u64 sector) const;
	u32 find_lowest_at_or_after(u64 sector) const;
	void insert_entry(u32 i, u64 now_ms, u32 replaces = kNil);
	void cache_new_block(u32 i, u64 sector, u64 now_ms, u32 replaces = kNil);
	bool free_superseded(u64 start, u64 end);
	void add_to_freelist(u32 i);
	u32 pop_from_freelist(u64 expected_cache_sector);
	void free_entry(u32 i, bool in_lru = true);
	// An entry's metadata changed: SSD mode marks its chunk dirty for
	// the next metadata write; PMEM mode stores it (durable at the next
	// fence).  Nothing is stored once the error state is latched (I4).
	void entry_changed(u32 i, bool seq_only = false);
	void mark_dirty(u32 i);
	void verify_watermark();

	// PMEM mode: the mapping of metadata and data
	disk::Entry *pmem_entry(u32 i) const
	{
		return reinterpret_cast<disk::Entry *>(pmem_ + disk::entry_offset(i));
	}
	u8 *pmem_data(u32 i) const
	{
		return pmem_ + metadata_bytes_ + (u64(i) << cfg.block_shift);
	}
	void commit_pmem();
	void discard_range(u64 start, u64 end);
	int format_pmem();
	void load_pmem();

	// map
	u32 cached_run(u64 sector, u32 nr_sectors) const;
	u32 adjacent_run(u32 e, u32 max_blocks, bool *uncommitted) const;
	void map_pmem_read(const wc_bio &bio, wc_map_result &res);
	void map_pmem_write(const wc_bio &bio, u64 now_ms, wc_map_result &res);
	void map_flush(const wc_bio &bio, wc_map_result &res);
	void map_discard(const wc_bio &bio, wc_map_result &res);
	void map_read(const wc_bio &bio, wc_map_result &res);
	void map_write(const wc_bio &bio, u64 now_ms, wc_map_result &res);
	void remap_origin(const wc_bio &bio, u32 following, wc_map_result &res);
	void read_miss(const wc_bio &bio, u32 following, wc_map_result &res);
	void write_ssd_run(const wc_bio &bio, u32 e, bool overwrite, u64 now_ms,
			   wc_map_result &res);

	// programs (program.cpp)
	enum class Sync { kRunning, kDone, kFailed };
	Sync sync_step(wc_io_op *op, int result);
	bool emit_dirty_write(wc_io_op *op);
	void encode_chunk(u64 chunk, u8 *buf, bool blank_entries) const;
	static u64 chunk_count(u64 metadata_bytes)
	{
		return (metadata_bytes + kMetaChunkBytes - 1) / kMetaChunkBytes;
	}
	u64 chunk_count() const { return chunk_count(metadata_bytes_); }
	static u64 entry_slots(u64 n_blocks) { return n_blocks ? n_blocks : 1; }
	// The dirty bitmap, one bit per chunk, and a guard word.
	static u64 dirty_words(u64 metadata_bytes)
	{
		return (chunk_count(metadata_bytes) + 63) / 64 + 1;
	}
	void finish(wc_io_op *op, int error);
	void sync_then_finish(wc_io_op *op, int result);
	void flush_failed(int result);
	void step_format(wc_io_op *op, int result);
	void step_load(wc_io_op *op, int result);
	void step_commit(wc_io_op *op, int result);
	void step_retire(wc_io_op *op, int result);
	void step_discard(wc_io_op *op, int result);
	void step_pmem(wc_io_op *op, int result);
	void retire_jobs(int flush_result);
	void load_entries(const u8 *buf, u64 first_byte, u64 bytes);
	void load_one(u32 i, u64 sector, u64 seq);
	bool free_older_duplicates();

	bool aged(u32 i, u64 now_ms) const;
	u32 age_unit_ms() const;
	u16 age_stamp(u64 now_ms) const;

	// geometry
	u64 area_bytes_ = 0;		// cache bytes from start_sector on
	u64 n_blocks_ = 0;
	u64 metadata_bytes_ = 0;
	u8 *pmem_ = nullptr;

	// the superblock as last read or written; seq_count is the live one
	disk::Superblock sb_ = {};
	u64 seq_count_ = 0;
	u64 origin_sectors_ = 0;

	Entry *entries_ = nullptr;
	u64 *dirty_ = nullptr;		// one bit per metadata chunk
	RbTree<ByOrigin> index_;
	RbTree<ByPosition> free_tree_;	// SSD: free blocks by position
	EntryList free_list_;		// PMEM: free blocks, FIFO
	EntryList lru_;
	EntryList superseded_;		// PMEM: old copies freed at the commit (I5)
	u32 current_free_ = kNil;

	u64 freelist_size_ = 0;
	u64 writeback_size_ = 0;
	u64 uncommitted_blocks_ = 0;
	u64 freelist_high_ = 0;
	u64 freelist_low_ = 0;
	int error_ = 0;
	bool overwrote_committed_ = false;
	// A new copy of a block was cached beside an old one that was being
	// written back: the next commit frees the old one if it is done.
	bool duplicates_ = false;
	bool flush_on_suspend_ = false;
	bool cleaner_ = false;
	unsigned events_ = 0;
	Stats stats_ = {};

	// writeback: planned jobs not yet handed out, and finished ones
	// waiting for WC_PROG_RETIRE.  Job entries chain through lru[1]; job
	// heads chain through lru[0].
	u32 wb_queue_head_ = kNil;
	u32 wb_queue_tail_ = kNil;
	u64 wb_queued_blocks_ = 0;
	u32 retire_head_ = kNil;
	u32 wb_walked_ = 0;
	bool wb_waited_writes_ = false;
	bool wb_sweep_started_ = false;
	static constexpr u32 kSweepUnpositioned = 0xfffffffeU;
	u32 wb_sweep_cursor_ = kNil;

	// the running program
	struct Program {
		int kind = 0;
		int pc = 0;
		u64 cursor = 0;		// chunk or byte position
		u64 arg0 = 0, arg1 = 0;
		bool writes_pending = false;
		int sync_pc = 0;
		u64 sync_cursor = 0;
	} prog_;
};

} // namespace wc

// SPDX-License-Identifier: GPL-2.0
// The extern "C" shims of wc_core.h.
#include "cache.h"
#include "memory.h"

struct wc_core {
	wc::Cache cache;
};

using wc::BlockId;
using wc::Cache;

namespace {

Cache &C(wc_core *core) { return core->cache; }
const Cache &C(const wc_core *core) { return core->cache; }

// Cache blocks cross the ABI as struct wc_block; inside they are BlockIds.
BlockId from_abi(wc_block b) { return BlockId(b.index); }
wc_block to_abi(BlockId b) { return {b.index()}; }

} // namespace

extern "C" {

wc_core *wc_core_create(void)
{
	return wc::env_alloc_array<wc_core>(1);
}

void wc_core_destroy(wc_core *core)
{
	if (!core)
		return;
	core->~wc_core();
	wc::env_free_array(core);
}

int wc_core_parse_mode(wc_core *core, const char *arg)
{
	return C(core).cfg.parse_mode(arg);
}

int wc_core_is_pmem(const wc_core *core) { return C(core).cfg.pmem; }

int wc_core_parse_args(wc_core *core, unsigned int argc, char **argv,
		       const wc_dev_info *info, const char **error)
{
	int r = C(core).cfg.parse_args(argc, argv, *info, error);

	if (!r)
		C(core).set_pmem(nullptr, info->cache_bytes);
	return r;
}

unsigned int wc_core_block_size(const wc_core *core) { return C(core).cfg.block_size; }

unsigned long long wc_core_start_sector(const wc_core *core)
{
	return C(core).cfg.start_sector;
}

int wc_core_ssd_geometry(wc_core *core, const char **error)
{
	return C(core).ssd_geometry(error);
}

void wc_core_set_pmem(wc_core *core, void *base, unsigned long long bytes)
{
	C(core).set_pmem(base, bytes);
}

void *wc_core_pmem_base(const wc_core *core) { return C(core).pmem_base(); }

int wc_core_check_superblock(wc_core *core, const void *first_block,
			     int *need_format, const char **error)
{
	return C(core).check_superblock(first_block, need_format, error);
}

unsigned long long wc_core_metadata_sectors(const wc_core *core)
{
	return C(core).metadata_sectors();
}

unsigned long long wc_core_n_blocks(const wc_core *core) { return C(core).n_blocks(); }

int wc_core_layout(unsigned long long bytes, unsigned int block_size,
		   unsigned long long *n_blocks, unsigned long long *metadata_bytes)
{
	wc::u64 n, meta;
	int r;

	if (!wc::is_power_of_two(block_size) || block_size < wc::kSectorSize)
		return -WC_EINVAL;
	r = wc::calculate_layout(bytes, block_size, &n, &meta);
	if (r)
		return r;
	if (n > wc::kMaxBlocks)
		return -WC_EFBIG;
	*n_blocks = n;
	*metadata_bytes = meta;
	return 0;
}

unsigned long long wc_core_ram_bytes(unsigned long long n_blocks,
				     unsigned long long metadata_bytes)
{
	return wc::env_array_bytes<wc_core>(1) + Cache::ram_bytes(n_blocks, metadata_bytes);
}

void wc_core_superblock(const wc_core *core, struct wc_superblock_info *sb)
{
	const wc::disk::Superblock &s = C(core).superblock();

	sb->magic = s.magic;
	sb->version = s.version;
	sb->block_size = s.block_size;
	sb->n_blocks = s.n_blocks;
	sb->seq_count = C(core).seq_count();
}

int wc_core_block_state(const wc_core *core, wc_block b,
			unsigned long long *sector, unsigned long long *seq)
{
	const Cache &c = C(core);
	BlockId i = from_abi(b);

	if (i.index() >= c.n_blocks() || c.entry(i).is_free())
		return 0;
	*sector = c.entry(i).sector();
	*seq = c.entry(i).seq();
	return c.committed(i) ? 2 : 1;
}

void wc_core_program_start(wc_core *core, int program, unsigned long long arg0,
			   unsigned long long arg1)
{
	C(core).program_start(program, arg0, arg1);
}

void wc_core_program_step(wc_core *core, wc_io_op *op, int result)
{
	C(core).program_step(op, result);
}

void wc_core_map(wc_core *core, const wc_bio *bio, unsigned long long now_ms,
		 wc_map_result *res)
{
	C(core).map(*bio, now_ms, *res);
}

void wc_core_set_error(wc_core *core, int error, const char *what)
{
	C(core).set_error(error, what);
}

int wc_core_error(const wc_core *core) { return C(core).error(); }

void wc_core_forget_failed_write(wc_core *core, unsigned long long sector,
				 unsigned int nr_sectors)
{
	C(core).forget_failed_write(sector, nr_sectors);
}

void wc_core_forget_uncommitted(wc_core *core) { C(core).forget_uncommitted(); }

unsigned int wc_core_take_events(wc_core *core) { return C(core).take_events(); }

void wc_core_writeback_begin(wc_core *core) { C(core).writeback_begin(); }

int wc_core_writeback_plan(wc_core *core, unsigned long long now_ms,
			   int writeback_all, int *requeue)
{
	return C(core).writeback_plan(now_ms, writeback_all, requeue);
}

int wc_core_writeback_next_job(wc_core *core, wc_wb_job *job)
{
	return C(core).writeback_next_job(job);
}

void *wc_core_block_data(const wc_core *core, wc_block b)
{
	return C(core).block_data(from_abi(b));
}

wc_block wc_core_job_next(const wc_core *core, wc_block b)
{
	return to_abi(C(core).job_next(from_abi(b)));
}

unsigned long long wc_core_writeback_queued(const wc_core *core)
{
	return C(core).writeback_queued();
}

void wc_core_writeback_done(wc_core *core, wc_block head, int error)
{
	C(core).writeback_done(from_abi(head), error);
}

unsigned long long wc_core_writeback_blocks(const wc_core *core)
{
	return C(core).writeback_blocks();
}

int wc_core_message(wc_core *core, unsigned int argc, char **argv, int *action)
{
	return C(core).message(argc, argv, action);
}

int wc_core_flush_on_suspend(wc_core *core) { return C(core).take_flush_on_suspend(); }

int wc_core_cleaner(const wc_core *core) { return C(core).cleaner(); }

int wc_core_writeback_pending(const wc_core *core)
{
	return C(core).writeback_blocks() != 0;
}

unsigned int wc_core_pause_ms(const wc_core *core) { return C(core).cfg.pause_ms; }

unsigned int wc_core_autocommit_ms(const wc_core *core)
{
	return C(core).cfg.autocommit_ms;
}

long long wc_core_max_age_ms(const wc_core *core)
{
	return C(core).cfg.max_age_set ? (long long)C(core).cfg.max_age_ms : -1;
}

unsigned int wc_core_writeback_jobs(const wc_core *core)
{
	return C(core).cfg.writeback_jobs;
}

int wc_core_writeback_fua(const wc_core *core) { return C(core).cfg.writeback_fua; }

void wc_core_status_fields(const wc_core *core, unsigned long long *fields)
{
	wc::u64 f[WC_STATUS_NR_FIELDS];

	C(core).status_fields(f);
	for (unsigned int i = 0; i < WC_STATUS_NR_FIELDS; i++)
		fields[i] = f[i];
}

void wc_core_status(const wc_core *core, char *buf, unsigned int len)
{
	wc::text::Emitter out(buf, len);

	C(core).status(out);
}

void wc_core_table(const wc_core *core, const char *origin_name,
		   const char *cache_name, char *buf, unsigned int len)
{
	wc::text::Emitter out(buf, len);

	C(core).cfg.format_table(out, origin_name, cache_name);
}

int wc_core_validate(const wc_core *core) { return C(core).validate(); }

} // extern "C"

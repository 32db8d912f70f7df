// SPDX-License-Identifier: GPL-2.0
#include "model.h"

#include <algorithm>
#include <cstring>

#include "wc_env.h"

namespace wc::model {

constexpr uint32_t kSector = 512;
constexpr unsigned kBufs = 4;

Model::Model(BlockDevice &origin, BlockDevice &cache, SimPmem *pmem)
	: origin_(origin), cache_(cache), pmem_(pmem), bufs_(size_t(kBufs) * WC_META_BUF_BYTES)
{
}

Model::~Model() { wc_core_destroy(core_); }

int Model::create(const std::vector<std::string> &table, std::string *error)
{
	std::vector<std::string> words = table;
	std::vector<char *> argv;
	const char *err = nullptr;
	int need_format = 0, r;

	*error = "";
	core_ = wc_core_create();
	for (auto &w : words)
		argv.push_back(w.data());
	if (argv.size() < 1 || wc_core_parse_mode(core_, argv[0]) || argv.size() < 3) {
		*error = "Bad arguments";
		return -WC_EINVAL;
	}
	wc_dev_info info = {};
	info.cache_bytes = pmem_ ? pmem_->size() : cache_.sectors() * kSector;
	info.origin_logical_block_size = 512;
	info.cache_logical_block_size = 512;
	info.page_size = 4096;
	info.default_writeback_jobs = 65536;
	r = wc_core_parse_args(core_, unsigned(argv.size() - 3), argv.data() + 3, &info, &err);
	if (r) {
		*error = err;
		return r;
	}
	const void *first_block = nullptr;

	if (wc_core_is_pmem(core_)) {
		if (!pmem_) {
			*error = "Cache device does not support DAX";
			return -WC_EOPNOTSUPP;
		}
		uint64_t start = wc_core_start_sector(core_) * kSector;

		wc_core_set_pmem(core_, pmem_->data() + start, pmem_->size() - start);
	} else {
		r = wc_core_ssd_geometry(core_, &err);
		if (r) {
			*error = err;
			return r;
		}
		r = cache_.read(wc_core_start_sector(core_), bufs_.data(),
				wc_core_block_size(core_) / kSector);
		if (r) {
			*error = "Unable to read first block of metadata";
			return r;
		}
		first_block = bufs_.data();
	}
	// As the kernel's ctr: a blank device is formatted, then checked.
	r = wc_core_check_superblock(core_, first_block, &need_format, &err);
	if (!r && need_format && !format_blank) {
		blank = true;
		*error = "blank cache device";
		return -WC_EINVAL;
	}
	if (!r && need_format) {
		r = run_program(WC_PROG_FORMAT);
		if (r) {
			*error = "Unable to initialize device";
			return r;
		}
		r = wc_core_check_superblock(core_, nullptr, &need_format, &err);
	}
	if (r) {
		*error = err;
		return r;
	}
	resume();
	return 0;
}

int Model::run_program(int program, uint64_t a0, uint64_t a1)
{
	wc_io_op op = {};
	unsigned slot = 0;
	int result = 0, async_error = 0;

	wc_core_program_start(core_, program, a0, a1);
	for (;;) {
		op.buf = &bufs_[size_t(slot) * WC_META_BUF_BYTES];
		wc_core_program_step(core_, &op, result);
		result = 0;
		switch (op.kind) {
		case WC_IO_DONE:
			handle_events();
			return op.error;
		case WC_IO_META_WRITE: {
			int e = cache_.write(op.sector, static_cast<uint8_t *>(op.buf),
					     op.nr_sectors, false);
			if (e && !async_error)
				async_error = e;
			slot = (slot + 1) % kBufs;
			break;
		}
		case WC_IO_META_WRITE_FUA:
			result = cache_.write(op.sector, static_cast<uint8_t *>(op.buf),
					      op.nr_sectors, true);
			break;
		case WC_IO_META_READ:
			result = cache_.read(op.sector, static_cast<uint8_t *>(op.buf),
					     op.nr_sectors);
			break;
		case WC_IO_WAIT:
			result = async_error;
			async_error = 0;
			slot = 0;
			break;
		case WC_IO_WAIT_CACHE_WRITES:
		case WC_IO_WAIT_CACHE_READS:
			// Bios complete synchronously here: nothing in flight.
			break;
		case WC_IO_FLUSH_CACHE:
			result = cache_.flush();
			break;
		case WC_IO_FLUSH_ORIGIN:
			result = origin_.flush();
			break;
		default:
			return -WC_EINVAL;
		}
	}
}

void Model::handle_events()
{
	unsigned ev = wc_core_take_events(core_);

	if (ev & WC_EV_ARM_AUTOCOMMIT)
		autocommit_armed = true;
	if (ev & WC_EV_KICK_WRITEBACK)
		writeback_kicked = true;
	if (ev & WC_EV_COMMIT_SOON)
		run_program(WC_PROG_COMMIT);
}

// Maps one bio until every part of it is done.
int Model::submit(const wc_bio &bio_in, uint8_t *data, bool is_write)
{
	wc_bio bio = bio_in;
	wc_bio rest = bio_in;
	uint8_t *rest_data = nullptr;
	int stalls = 0;
	bool failed = false;	// a part of the bio failed (its status)

	rest.nr_sectors = 0;

	for (;;) {
		wc_map_result res;

		wc_core_map(core_, &bio, now_ms, &res);
		handle_events();
		BlockDevice *dev = nullptr;
		int r = 0;

		switch (res.action) {
		case WC_MAP_COMPLETE:
			if (rest.nr_sectors) {
				bio = rest;
				data = rest_data;
				rest.nr_sectors = 0;
				continue;
			}
			return failed ? -WC_EIO : 0;
		case WC_MAP_ERROR:
			return -WC_EIO;
		case WC_MAP_DEFER:
			if (bio.flags & WC_BIO_DISCARD) {
				run_program(WC_PROG_DISCARD, bio.sector, bio.sector + bio.nr_sectors);
				return 0;
			}
			r = run_program(WC_PROG_COMMIT);
			if (!r && wc_core_error(core_))
				r = -WC_EIO;
			return r;
		case WC_MAP_WAIT_FREELIST:
			// Nothing runs concurrently here: make room ourselves.
			if (!writeback() && ++stalls > 3)
				return -WC_ENOSPC;
			continue;
		case WC_MAP_REMAP_ORIGIN:
			dev = &origin_;
			break;
		case WC_MAP_REMAP_CACHE:
			dev = &cache_;
			break;
		case WC_MAP_COPY_PMEM: {
			size_t len = size_t(res.copy_sectors) * kSector;

			// As dm does: the accepted part is one clone, mapped
			// to its end; the rest is a new clone afterwards.
			if (res.accept_sectors < bio.nr_sectors) {
				rest.sector = bio.sector + res.accept_sectors;
				rest.nr_sectors = bio.nr_sectors - res.accept_sectors;
				rest_data = data + size_t(res.accept_sectors) * kSector;
				bio.nr_sectors = res.accept_sectors;
			}
			if (is_write) {
				wc_env_pmem_copy(res.pmem, data, len);
			} else if (pmem_ && pmem_->poisoned(res.pmem, len)) {
				// As wc_pmem_copy_block(): the bio fails and the
				// error state latches.
				wc_core_set_error(core_, -WC_EIO,
						  "hardware memory error when reading data");
				failed = true;
			} else {
				memcpy(data, res.pmem, len);
			}
			bio.sector += len / kSector;
			bio.nr_sectors -= uint32_t(len / kSector);
			bio.flags |= WC_BIO_CONTINUED;
			data += len;
			// Mapped again even when nothing is left: the core
			// decides then whether the write commits.
			continue;
		}
		default:
			return -WC_EINVAL;
		}
		// The contract dm imposes: a bio advanced by copies is never
		// remapped (its split would restart at the wrong sector).
		if (bio.flags & WC_BIO_CONTINUED)
			return -WC_EINVAL;
		if (bio.flags & WC_BIO_PREFLUSH)
			return dev->flush();
		if (bio.flags & WC_BIO_DISCARD)
			return 0;
		if (is_write)
			r = dev->write(res.sector, data, res.accept_sectors,
				       bio.flags & WC_BIO_FUA);
		else
			r = dev->read(res.sector, data, res.accept_sectors);
		if (!r && (res.flags & WC_MAPF_COMMIT_AFTER)) {
			r = run_program(WC_PROG_COMMIT);
			if (!r && wc_core_error(core_))
				r = -WC_EIO;
		}
		if (r)
			return r;
		bio.sector += res.accept_sectors;
		bio.nr_sectors -= res.accept_sectors;
		data += size_t(res.accept_sectors) * kSector;
		if (!bio.nr_sectors)
			return failed ? -WC_EIO : 0;
	}
}

int Model::write(uint64_t sector, const std::vector<uint8_t> &data, unsigned flags)
{
	std::vector<uint8_t> copy = data;
	wc_bio bio = {sector, uint32_t(data.size() / kSector), flags | WC_BIO_WRITE};

	return submit(bio, copy.data(), true);
}

int Model::read(uint64_t sector, uint32_t nr, std::vector<uint8_t> *out)
{
	wc_bio bio = {sector, nr, 0};

	out->assign(size_t(nr) * kSector, 0);
	return submit(bio, out->data(), false);
}

int Model::flush()
{
	wc_bio first = {0, 0, WC_BIO_PREFLUSH | WC_BIO_WRITE};
	wc_bio second = {0, 0, WC_BIO_PREFLUSH | WC_BIO_WRITE | WC_BIO_SECOND_FLUSH};
	int r = submit(first, nullptr, true);
	int r2 = submit(second, nullptr, true);

	return r ? r : r2;
}

int Model::discard(uint64_t sector, uint32_t nr)
{
	wc_bio bio = {sector, nr, WC_BIO_DISCARD | WC_BIO_WRITE};

	return submit(bio, nullptr, true);
}

uint64_t Model::writeback(bool all)
{
	uint64_t blocks = 0;
	int requeue = 0;
	wc_wb_job job;

	writeback_kicked = false;
	wc_core_writeback_begin(core_);
	for (;;) {
		int st = wc_core_writeback_plan(core_, now_ms, all, &requeue);

		if (st == WC_WB_NEED_COMMIT) {
			if (run_program(WC_PROG_COMMIT))
				break;
			continue;
		}
		if (st == WC_WB_WAIT_CACHE_WRITES)
			continue;
		if (st == WC_WB_WAIT) {
			// Writeback in flight retires synchronously below, so
			// waiting means the plan could not proceed.
			break;
		}
		break;
	}
	while (wc_core_writeback_next_job(core_, &job)) {
		int error = copy_job ? copy_job(job) : copy_job_default(job);

		if (error == kKeepJob)
			continue;
		wc_core_writeback_done(core_, job.head, error);
		blocks += job.nr_blocks;
	}
	run_program(WC_PROG_RETIRE);
	if (requeue)
		writeback_kicked = true;
	return blocks;
}

int Model::copy_job_default(const wc_wb_job &job)
{
	std::vector<uint8_t> &data = wb_data_;
	int error = 0;

	if (!job.nr_sectors)
		return 0;
	data.resize(size_t(job.nr_sectors) * kSector);
	if (pmem_) {
		// Straight from the mapping, block by block.
		size_t bs = wc_core_block_size(core_);
		unsigned e = job.head;

		for (size_t off = 0; off < data.size(); off += bs) {
			memcpy(&data[off], wc_core_block_data(core_, e),
			       std::min(bs, data.size() - off));
			e = wc_core_job_next(core_, e);
		}
	} else {
		error = cache_.read(job.cache_sector, data.data(), job.nr_sectors);
	}
	if (!error)
		error = origin_.write(job.origin_sector, data.data(), job.nr_sectors,
				      pmem_ && wc_core_writeback_fua(core_));
	return error;
}

void Model::drain()
{
	while (writeback(true))
		;
}

int Model::autocommit()
{
	autocommit_armed = false;
	if (wc_core_error(core_))
		return 0;
	return run_program(WC_PROG_COMMIT);
}

int Model::message(const std::vector<std::string> &words)
{
	std::vector<std::string> copy = words;
	std::vector<char *> argv;
	int action, r;

	for (auto &w : copy)
		argv.push_back(w.data());
	r = wc_core_message(core_, unsigned(argv.size()), argv.data(), &action);
	if (r || action != WC_MSG_FLUSH)
		return r;
	if (wc_core_error(core_))
		return -WC_EIO;
	run_program(WC_PROG_COMMIT);
	drain();
	return wc_core_error(core_) ? -WC_EIO : 0;
}

void Model::suspend()
{
	run_program(WC_PROG_COMMIT);
	if (wc_core_flush_on_suspend(core_))
		drain();
}

void Model::resume()
{
	run_program(WC_PROG_LOAD, origin_.sectors(), now_ms);
}

std::string Model::status() const
{
	char buf[512];

	wc_core_status(core_, buf, sizeof(buf));
	return buf;
}

std::string Model::table() const
{
	char buf[512];

	wc_core_table(core_, "253:0", "253:1", buf, sizeof(buf));
	return buf;
}

} // namespace wc::model

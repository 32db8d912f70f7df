// SPDX-License-Identifier: GPL-2.0
#include "model.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "wc_env.h"

namespace wc::model {

constexpr uint32_t kSector = 512;

// A bio in flight through wc_drv_map(): what the ops did to it.
struct Model::Bio {
	wc_bio b;
	uint8_t *data;
	bool is_write;
	bool failed = false;	// a PMEM copy failed: the bio's status
	// accept_partial: the rest, which dm resubmits as a new bio
	wc_bio rest = {};
	uint8_t *rest_data = nullptr;
	// remap
	int dev = WC_DRV_ORIGIN;
	uint64_t sector = 0;
	unsigned map_flags = 0;
};

const wc_drv_ops Model::kOps = {
	// One thread: the lock has nothing to exclude.
	.lock = [](void *) {},
	.unlock = [](void *) {},
	.take_errors = op_take_errors,
	.take_failed_write = op_take_failed_write,
	.now_ms = op_now_ms,
	.sleep = op_sleep,
	.queue = op_queue,
	.meta_read = op_meta_read,
	.meta_write = op_meta_write,
	.meta_write_fua = op_meta_write_fua,
	.meta_wait = op_meta_wait,
	.flush = op_flush,
	.wait_cache_io = op_wait_cache_io,
	.accept_partial = op_accept_partial,
	.remap = op_remap,
	.copy_pmem = op_copy_pmem,
	.submit_job = op_submit_job,
	.pop_done = op_pop_done,
	.suspended = op_suspended,
	.finish_work = op_finish_work,
	.bug = op_bug,
};

static Model *self(void *ctx) { return static_cast<Model *>(ctx); }

Model::Model(BlockDevice &origin, BlockDevice &cache, SimPmem *pmem)
	: origin_(origin), cache_(cache), pmem_(pmem),
	  bufs_(size_t(WC_DRV_META_BUFS) * WC_META_BUF_BYTES)
{
}

Model::~Model() { wc_core_destroy(core_); }

void Model::log_op(const char *what, uint64_t a, uint64_t b, bool args)
{
	if (!op_log)
		return;
	std::string s = what;
	if (args)
		s += " " + std::to_string(a) + "+" + std::to_string(b);
	op_log->push_back(s);
}

int Model::create(const std::vector<std::string> &table, std::string *error)
{
	std::vector<std::string> words = table;
	std::vector<char *> argv;
	const char *err = nullptr;
	int r;

	*error = "";
	core_ = wc_core_create();
	drv_.core = core_;
	drv_.ops = &kOps;
	drv_.ctx = this;
	for (unsigned i = 0; i < WC_DRV_META_BUFS; i++)
		drv_.meta_buf[i] = &bufs_[size_t(i) * WC_META_BUF_BYTES];
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
	if (wc_core_is_pmem(core_)) {
		if (!pmem_) {
			*error = "Cache device does not support DAX";
			return -WC_EOPNOTSUPP;
		}
		uint64_t start = wc_core_start_sector(core_) * kSector;

		wc_core_set_pmem(core_, pmem_->data() + start, pmem_->size() - start);
	}
	r = wc_drv_open(&drv_, format_blank ? 0 : WC_DRV_OPEN_NO_FORMAT, &err);
	if (r == -WC_ENODATA) {
		blank = true;
		*error = err;
		return -WC_EINVAL;
	}
	if (r) {
		*error = err;
		return r;
	}
	// dmsetup create removes the device again when its resume fails.
	r = resume();
	if (r) {
		*error = "resume failed: the metadata could not be read";
		return r;
	}
	return 0;
}

// --- the driver's ops --------------------------------------------------------

unsigned Model::op_take_errors(void *ctx)
{
	Model *m = self(ctx);
	unsigned e = m->pending_errors_;

	m->pending_errors_ = 0;
	return e;
}

int Model::op_take_failed_write(void *ctx, unsigned long long *sector, unsigned *nr)
{
	Model *m = self(ctx);

	if (m->failed_writes_.empty())
		return WC_DRV_FAILED_NONE;
	*sector = m->failed_writes_.back().first;
	*nr = m->failed_writes_.back().second;
	m->failed_writes_.pop_back();
	return WC_DRV_FAILED_RANGE;
}

unsigned long long Model::op_now_ms(void *ctx) { return self(ctx)->now_ms; }

// Where the kernel sleeps for another thread, the model runs that thread's
// work: the writeback a full cache waits for, the retirement of finished
// jobs.  When that work cannot change anything, waiting would never end:
// the driver is told to give up.
int Model::op_sleep(void *ctx, int why)
{
	Model *m = self(ctx);

	m->log_op("sleep");
	if (why == WC_DRV_WAIT_FREELIST) {
		if (m->writeback_pass())
			return 0;
		return ++m->freelist_stalls_ > 3;
	}
	if (m->done_.empty())
		return 1;
	wc_drv_retire(&m->drv_);
	return 0;
}

void Model::op_queue(void *ctx, unsigned work)
{
	Model *m = self(ctx);

	if (work & WC_DRV_WORK_WRITEBACK)
		m->writeback_kicked = true;
	if (work & WC_DRV_WORK_COMMIT)
		m->commit_queued_ = true;
	if (work & WC_DRV_WORK_ARM_AUTOCOMMIT)
		m->autocommit_armed = true;
}

int Model::op_meta_read(void *ctx, void *buf, unsigned long long sector, unsigned nr)
{
	Model *m = self(ctx);

	m->log_op("meta_read", sector, nr, true);
	return m->cache_.read(sector, static_cast<uint8_t *>(buf), nr);
}

// Synchronous here: the error waits for the next meta_wait, as the
// kernel's completion's would.
void Model::op_meta_write(void *ctx, void *buf, unsigned long long sector, unsigned nr)
{
	Model *m = self(ctx);

	m->log_op("meta_write", sector, nr, true);
	int e = m->cache_.write(sector, static_cast<uint8_t *>(buf), nr, false);
	if (e && !m->meta_write_error_)
		m->meta_write_error_ = e;
}

int Model::op_meta_write_fua(void *ctx, void *buf, unsigned long long sector, unsigned nr)
{
	Model *m = self(ctx);

	m->log_op("meta_write_fua", sector, nr, true);
	return m->cache_.write(sector, static_cast<uint8_t *>(buf), nr, true);
}

int Model::op_meta_wait(void *ctx)
{
	Model *m = self(ctx);
	int e = m->meta_write_error_;

	m->log_op("meta_wait");
	m->meta_write_error_ = 0;
	return e;
}

int Model::op_flush(void *ctx, int dev)
{
	Model *m = self(ctx);

	m->log_op(dev == WC_DRV_CACHE ? "flush cache" : "flush origin");
	return (dev == WC_DRV_CACHE ? m->cache_ : m->origin_).flush();
}

// Bios complete before the next op: nothing is ever in flight.
void Model::op_wait_cache_io(void *ctx, int write)
{
	Model *m = self(ctx);

	m->log_op(write ? "wait cache writes" : "wait cache reads");
	if (write && m->on_wait_cache_writes)
		m->on_wait_cache_writes();
}

void Model::op_accept_partial(void *, void *bio, unsigned sectors)
{
	Bio *mb = static_cast<Bio *>(bio);

	mb->rest = mb->b;
	mb->rest.sector = mb->b.sector + sectors;
	mb->rest.nr_sectors = mb->b.nr_sectors - sectors;
	mb->rest_data = mb->data ? mb->data + size_t(sectors) * kSector : nullptr;
}

void Model::op_remap(void *ctx, void *bio, const wc_bio *, const wc_map_result *res)
{
	Bio *mb = static_cast<Bio *>(bio);

	self(ctx)->log_op(res->action == WC_MAP_REMAP_CACHE ? "remap cache" : "remap origin",
			  res->sector, res->accept_sectors, true);
	mb->dev = res->action == WC_MAP_REMAP_CACHE ? WC_DRV_CACHE : WC_DRV_ORIGIN;
	mb->sector = res->sector;
	mb->map_flags = res->flags;
}

void Model::op_copy_pmem(void *ctx, void *bio, void *pmem, unsigned bytes)
{
	Model *m = self(ctx);
	Bio *mb = static_cast<Bio *>(bio);

	m->log_op("copy_pmem", 0, bytes, true);
	if (mb->is_write) {
		wc_env_pmem_copy(pmem, mb->data, bytes);
	} else if (m->pmem_ && m->pmem_->poisoned(pmem, bytes)) {
		// As wc_pmem_copy_block(): the bio fails and the error
		// state latches.
		wc_core_set_error(m->core_, -WC_EIO, "hardware memory error when reading data");
		mb->failed = true;
	} else {
		memcpy(mb->data, pmem, bytes);
	}
	mb->data += bytes;
}

// The copy completes at once; its retirement waits for the retire work
// (wc_drv_retire), as the kernel's does.
void Model::op_submit_job(void *ctx, const wc_wb_job *job)
{
	Model *m = self(ctx);

	m->log_op("submit_job", job->origin_sector, job->nr_sectors, true);
	int error = m->copy_job ? m->copy_job(*job) : m->copy_job_default(*job);

	if (error == kKeepJob)
		return;
	m->done_.push_back({job->head, error});
	m->wb_blocks_ += job->nr_blocks;
}

int Model::op_pop_done(void *ctx, wc_block *head, int *error)
{
	Model *m = self(ctx);

	if (m->done_.empty())
		return 0;
	m->log_op("pop_done");
	*head = m->done_.front().first;
	*error = m->done_.front().second;
	m->done_.pop_front();
	return 1;
}

int Model::op_suspended(void *ctx) { return self(ctx)->suspended_; }

void Model::op_finish_work(void *ctx, int)
{
	Model *m = self(ctx);

	// One thread: draining and flushing the queue are the same here.
	m->run_queued_commit();
	m->run_queued_writeback();
}

void Model::op_bug(void *, const char *what)
{
	fprintf(stderr, "writecache driver: broken contract: %s\n", what);
	abort();
}

// --- the work the kernel runs in its threads ---------------------------------

void Model::run_queued_commit()
{
	if (!commit_queued_)
		return;
	commit_queued_ = false;
	wc_drv_commit(&drv_);
}

// The writeback work runs until it stops queueing itself.  A pass that
// moves nothing and queues itself again would do so forever here: at most
// a few of those.
void Model::run_queued_writeback()
{
	unsigned idle = 0;

	while (writeback_kicked && idle < 16) {
		writeback_kicked = false;
		idle = writeback_pass() ? 0 : idle + 1;
	}
}

// One writeback work item, then the retire work it leads to.
uint64_t Model::writeback_pass()
{
	uint64_t before = wb_blocks_;

	wc_drv_writeback(&drv_);
	wc_drv_retire(&drv_);
	return wb_blocks_ - before;
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
		wc_block e = job.head;

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

// --- bios ------------------------------------------------------------------------

// The remapped part of a bio, and its end_io: a failed write to either
// device or a failed read of the cache is noted for the driver's latch.
int Model::do_io(Bio &mb)
{
	BlockDevice &dev = mb.dev == WC_DRV_CACHE ? cache_ : origin_;
	const wc_bio &b = mb.b;
	int r;

	if (b.flags & WC_BIO_PREFLUSH)
		r = dev.flush();
	else if (b.flags & WC_BIO_DISCARD)
		return 0;	// the simulated origin takes no discards
	else if (mb.is_write)
		r = dev.write(mb.sector, mb.data, b.nr_sectors, b.flags & WC_BIO_FUA);
	else
		r = dev.read(mb.sector, mb.data, b.nr_sectors);
	if (r && mb.dev == WC_DRV_CACHE && mb.is_write &&
	    !(b.flags & (WC_BIO_PREFLUSH | WC_BIO_DISCARD)))
		failed_writes_.push_back({b.sector, b.nr_sectors});
	if (r && mb.dev == WC_DRV_CACHE)
		pending_errors_ |= mb.is_write ? WC_DRV_ERR_CACHE_WRITE : WC_DRV_ERR_CACHE_READ;
	else if (r && mb.is_write && !(b.flags & (WC_BIO_PREFLUSH | WC_BIO_DISCARD)))
		pending_errors_ |= WC_DRV_ERR_ORIGIN_WRITE;
	if (r)
		return r;
	if (mb.map_flags & WC_MAPF_COMMIT_AFTER)
		return wc_drv_deferred(&drv_, &b);
	return 0;
}

// One bio, and the bios dm makes of its rest when a part is accepted.
int Model::submit(const wc_bio &bio_in, uint8_t *data, bool is_write)
{
	Bio mb = {bio_in, data, is_write};
	int r = 0;

	freelist_stalls_ = 0;
	for (;;) {
		mb.rest.nr_sectors = 0;
		switch (wc_drv_map(&drv_, &mb.b, &mb)) {
		case WC_DRV_REMAPPED:
			r = do_io(mb);
			break;
		case WC_DRV_COMPLETE:
			r = mb.failed ? -WC_EIO : 0;
			break;
		case WC_DRV_DEFER:
			r = wc_drv_deferred(&drv_, &mb.b);
			break;
		default:
			r = -WC_EIO;
			break;
		}
		if (r || !mb.rest.nr_sectors)
			break;
		Bio next = {mb.rest, mb.rest_data, is_write};
		mb = next;
	}
	run_queued_commit();
	return r;
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

// dm sends two empty flush bios in SSD mode (num_flush_bios), one in PMEM.
int Model::flush()
{
	wc_bio first = {0, 0, WC_BIO_PREFLUSH | WC_BIO_WRITE};
	wc_bio second = {0, 0, WC_BIO_PREFLUSH | WC_BIO_WRITE | WC_BIO_SECOND_FLUSH};
	int r = submit(first, nullptr, true);

	if (wc_core_is_pmem(core_))
		return r;
	int r2 = submit(second, nullptr, true);
	return r ? r : r2;
}

int Model::discard(uint64_t sector, uint32_t nr)
{
	wc_bio bio = {sector, nr, WC_BIO_DISCARD | WC_BIO_WRITE};

	return submit(bio, nullptr, true);
}

// --- the rest of the target ---------------------------------------------------------

uint64_t Model::writeback(bool all)
{
	writeback_kicked = false;
	drv_.writeback_all += all;
	uint64_t blocks = writeback_pass();
	drv_.writeback_all -= all;
	return blocks;
}

void Model::drain()
{
	while (writeback(true))
		;
}

int Model::autocommit()
{
	autocommit_armed = false;
	// As the timer: no commit once the error state is latched.
	if (wc_core_error(core_))
		return 0;
	wc_drv_commit(&drv_);
	return wc_core_error(core_) ? -WC_EIO : 0;
}

int Model::message(const std::vector<std::string> &words)
{
	std::vector<std::string> copy = words;
	std::vector<char *> argv;

	for (auto &w : copy)
		argv.push_back(w.data());
	int r = wc_drv_message(&drv_, unsigned(argv.size()), argv.data());
	run_queued_commit();
	return r;
}

void Model::suspend()
{
	wc_drv_suspend(&drv_);
	suspended_ = true;
}

int Model::resume()
{
	int r = wc_drv_resume(&drv_, origin_.sectors());

	// dm keeps a target whose preresume failed suspended.
	suspended_ = r != 0;
	run_queued_commit();
	return r;
}

std::string Model::status() const
{
	char buf[512];

	wc_drv_status(const_cast<wc_driver *>(&drv_), buf, sizeof(buf));
	return buf;
}

std::string Model::table() const
{
	char buf[512];

	wc_core_table(core_, "253:0", "253:1", buf, sizeof(buf));
	return buf;
}

} // namespace wc::model

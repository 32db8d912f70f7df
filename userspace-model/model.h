// SPDX-License-Identifier: GPL-2.0
// The userspace target: the core driven by the kernel's own driver
// (kernel/driver, wc_driver.h) over simulated devices, synchronously and
// deterministically.  This file only supplies the driver's ops: it has no
// sequencing of its own.
//
// Each call is one bio (or one message, one suspend...) carried to its
// end.  A commit the core queues runs when the bio is done, as the
// kernel's commit work would; writeback and timers run only when a test
// asks, so a test decides every interleaving.  Where the kernel would
// sleep for another thread, the model runs that thread's work itself
// (see sleep() in model.cpp).
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "block_device.h"
#include "sim_pmem.h"
#include "wc_core.h"
#include "wc_driver.h"

namespace wc::model {

class Model {
public:
	// `pmem` is the cache in p mode (`cache` is then unused).
	Model(BlockDevice &origin, BlockDevice &cache, SimPmem *pmem = nullptr);
	~Model();
	Model(const Model &) = delete;
	Model &operator=(const Model &) = delete;

	// The table line after the target name, e.g. {"s", "o", "c", "4096",
	// "0"} (device names are not looked up).  Runs the constructor and
	// the first resume; on failure *error is the ti->error text (or says
	// that the resume failed).
	int create(const std::vector<std::string> &table, std::string *error);

	int write(uint64_t sector, const std::vector<uint8_t> &data, unsigned flags = 0);
	int read(uint64_t sector, uint32_t nr_sectors, std::vector<uint8_t> *out);
	int flush();
	int discard(uint64_t sector, uint32_t nr_sectors);
	int message(const std::vector<std::string> &words);

	// One writeback pass: plan, copy, retire.  Returns blocks written.
	uint64_t writeback(bool all = false);
	// Runs writeback until the cache is clean or nothing moves.
	void drain();
	// The autocommit timer fires.
	int autocommit();
	void suspend();
	// 0, or why the preresume failed (the target then stays suspended).
	int resume();

	std::string status() const;
	std::string table() const;
	wc_core *core() { return core_; }

	// create() formats a blank cache device, as the kernel's constructor
	// does; with this off it refuses one ("blank cache device") and sets
	// `blank`.
	bool format_blank = true;
	bool blank = false;

	// How writeback copies one job; unset, it reads the cache and writes
	// the origin.  It returns 0 or a negative errno for
	// wc_core_writeback_done(), or kKeepJob: the job was not copied and
	// its blocks stay in flight, cached, never retired while this model
	// lives (a rescue that could not read them).
	static constexpr int kKeepJob = 1;
	std::function<int(const wc_wb_job &job)> copy_job;

	uint64_t now_ms = 0;
	bool autocommit_armed = false;
	bool writeback_kicked = false;

	// Every op the driver called, in order, when set (tests of the
	// driver's exact sequences): "meta_write 8+8", "flush cache", ...
	std::vector<std::string> *op_log = nullptr;
	// Called in the driver's wait for cache writes in flight: a test can
	// fail a data write there (note_error), as end_io would meanwhile.
	std::function<void()> on_wait_cache_writes;
	void note_error(unsigned what) { pending_errors_ |= what; }

private:
	struct Bio;
	static const wc_drv_ops kOps;

	int submit(const wc_bio &bio, uint8_t *data, bool is_write);
	int do_io(Bio &mb);
	void run_queued_commit();
	void run_queued_writeback();
	uint64_t writeback_pass();
	int copy_job_default(const wc_wb_job &job);
	void log_op(const char *what, uint64_t a = 0, uint64_t b = 0, bool args = false);

	// the ops (model.cpp)
	static unsigned op_take_errors(void *ctx);
	static int op_take_failed_write(void *ctx, unsigned long long *sector, unsigned *nr);
	static unsigned long long op_now_ms(void *ctx);
	static int op_sleep(void *ctx, int why);
	static void op_queue(void *ctx, unsigned work);
	static int op_meta_read(void *ctx, void *buf, unsigned long long sector, unsigned nr);
	static void op_meta_write(void *ctx, void *buf, unsigned long long sector, unsigned nr);
	static int op_meta_write_fua(void *ctx, void *buf, unsigned long long sector, unsigned nr);
	static int op_meta_wait(void *ctx);
	static int op_flush(void *ctx, int dev);
	static void op_wait_cache_io(void *ctx, int write);
	static void op_accept_partial(void *ctx, void *bio, unsigned sectors);
	static void op_remap(void *ctx, void *bio, const wc_bio *b, const wc_map_result *res);
	static void op_copy_pmem(void *ctx, void *bio, void *pmem, unsigned bytes);
	static void op_submit_job(void *ctx, const wc_wb_job *job);
	static int op_pop_done(void *ctx, wc_block *head, int *error);
	static int op_suspended(void *ctx);
	static void op_finish_work(void *ctx, int drain);
	static void op_bug(void *ctx, const char *what);

	BlockDevice &origin_;
	BlockDevice &cache_;
	SimPmem *pmem_;
	wc_core *core_ = nullptr;
	wc_driver drv_ = {};
	std::vector<uint8_t> bufs_;
	std::vector<uint8_t> wb_data_;

	unsigned pending_errors_ = 0;	// WC_DRV_ERR_*, as end_io notes them
	// Origin ranges of failed cache data writes, as end_io records them.
	std::vector<std::pair<uint64_t, uint32_t>> failed_writes_;
	int meta_write_error_ = 0;
	bool commit_queued_ = false;
	bool suspended_ = false;
	unsigned freelist_stalls_ = 0;
	uint64_t wb_blocks_ = 0;	// blocks handed to copy_job, ever
	// finished jobs, popped from the front: a deque, as a vector's
	// erase(begin()) made a writeback pass of n jobs O(n^2)
	std::deque<std::pair<wc_block, int>> done_;
};

} // namespace wc::model

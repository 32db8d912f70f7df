// SPDX-License-Identifier: GPL-2.0
// The userspace target: the core driven the way kernel/ drives it, with
// simulated devices, synchronously and deterministically.
//
// Each call is one bio (or one message, one suspend...) carried to its
// end.  Commits the core asks for run right after the bio; writeback and
// timers run only when a test asks, so a test decides every interleaving.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "block_device.h"
#include "sim_pmem.h"
#include "wc_core.h"

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
	// the first resume; on failure *error is the ti->error text.
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
	void resume();

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

private:
	int run_program(int program, uint64_t a0 = 0, uint64_t a1 = 0);
	void handle_events();
	int submit(const wc_bio &bio, uint8_t *data, bool is_write);

	int copy_job_default(const wc_wb_job &job);

	BlockDevice &origin_;
	BlockDevice &cache_;
	SimPmem *pmem_;
	wc_core *core_ = nullptr;
	std::vector<uint8_t> bufs_;
	std::vector<uint8_t> wb_data_;
};

} // namespace wc::model

// SPDX-License-Identifier: GPL-2.0
// Simulated persistent memory with the x86 persistence rules.
//
// The memory is a file mapped through PMDK's libpmem2 (stores with its
// memcpy, fences with its drain), or anonymous memory when no file is
// given.  A shadow copy tracks what is durable.
//
// Stores (wc_env_pmem_copy, memcpy_flushcache in the kernel) reach the
// media only at the next fence (wc_env_pmem_fence); until then any subset
// of them, 8-byte word by word, may survive a power loss, and a word
// stored twice may survive with either value.  before_op runs at every
// store and fence, where a crash test takes power-loss images
// (image_keeping) without stopping the run, so no exception has to cross
// the core's frames.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

struct pmem2_map;
struct pmem2_source;
struct pmem2_config;

namespace wc::model {

class SimPmem {
public:
	// `path`: a file to create and map with libpmem2; empty: anonymous.
	explicit SimPmem(uint64_t bytes, const std::string &path = "");
	// Benchmarks: anonymous memory that is only used where touched (a
	// cache of 100M blocks costs its metadata), and no durability
	// tracking: stores are memcpy, fences nothing, no power-loss images.
	struct Untracked {};
	SimPmem(uint64_t bytes, Untracked);
	~SimPmem();
	SimPmem(const SimPmem &) = delete;
	SimPmem &operator=(const SimPmem &) = delete;

	uint8_t *data() { return current_; }
	uint64_t size() const { return size_; }
	bool file_backed() const { return map_ != nullptr; }
	bool contains(const void *p) const;

	void store(void *dst, const void *src, uint64_t len);
	void fence();

	// A power-loss image now: durable words plus a random subset of the
	// pending ones.
	std::vector<uint8_t> power_loss_image(std::mt19937_64 &rng) const;
	// The word stores since the last fence, numbered 0.. in issue order,
	// each with the value it stored; and the image a power loss leaves
	// when it keeps those keep(i) picks (of a word's kept stores the
	// latest wins; none kept, the durable value stays).
	size_t pending_units() const { return pending_.size(); }
	std::vector<uint8_t> image_keeping(const std::function<bool(size_t)> &keep) const;
	// Replaces the content, as after a reboot onto a saved image.
	void load_image(const std::vector<uint8_t> &image);

	uint64_t ops = 0;		// stores and fences seen
	// Called before every store and fence.
	std::function<void()> before_op;

	// Hardware memory errors: a read of a poisoned range (the core's
	// wc_env_pmem_read, the model's data copies) fails, as
	// copy_mc_to_kernel does on a machine check.  Stores do not clear it.
	void poison(uint64_t offset, uint64_t len) { poison_.push_back({offset, len}); }
	void clear_poison() { poison_.clear(); }
	bool poisoned(const void *p, uint64_t len) const;

	// The instance the environment's pmem functions act on.
	static SimPmem *active;

private:
	void tick();

	uint64_t size_;
	uint8_t *current_ = nullptr;
	std::vector<uint8_t> anonymous_;
	struct pmem2_map *map_ = nullptr;
	struct pmem2_source *source_ = nullptr;
	struct pmem2_config *config_ = nullptr;
	int fd_ = -1;
	bool tracked_ = true;
	void *memcpy_fn_ = nullptr;
	void *drain_fn_ = nullptr;
	struct Store {
		uint64_t word;	// index
		uint64_t value;
	};
	std::vector<uint8_t> durable_;
	std::vector<Store> pending_;
	std::vector<std::pair<uint64_t, uint64_t>> poison_;	// offset, length
};

} // namespace wc::model

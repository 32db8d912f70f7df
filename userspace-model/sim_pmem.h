// SPDX-License-Identifier: GPL-2.0
// Simulated persistent memory with the x86 persistence rules.
//
// Stores (wc_env_pmem_copy, memcpy_flushcache in the kernel) reach the
// media only at the next fence (wc_env_pmem_fence); until then any subset
// of them, 8-byte word by word, may survive a power loss.  snapshot_at
// takes such a power-loss image at the k-th store or fence, without
// stopping the run, so no exception has to cross the core's frames.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <vector>

namespace wc::model {

class SimPmem {
public:
	explicit SimPmem(uint64_t bytes);
	~SimPmem();

	uint8_t *data() { return current_.data(); }
	uint64_t size() const { return current_.size(); }
	bool contains(const void *p) const;

	void store(void *dst, const void *src, uint64_t len);
	void fence();

	// A power-loss image now: durable words plus a random subset of the
	// pending ones.
	std::vector<uint8_t> power_loss_image(std::mt19937_64 &rng) const;
	// Replaces the content, as after a reboot onto a saved image.
	void load_image(const std::vector<uint8_t> &image);

	uint64_t ops = 0;		// stores and fences seen
	uint64_t snapshot_at = 0;	// 0: never
	std::function<void()> on_snapshot;	// called at op snapshot_at

	// The instance the environment's pmem functions act on.
	static SimPmem *active;

private:
	void tick();

	std::vector<uint8_t> current_;
	std::vector<uint8_t> durable_;
	std::vector<uint64_t> pending_;		// word indices
	std::vector<bool> is_pending_;
};

} // namespace wc::model

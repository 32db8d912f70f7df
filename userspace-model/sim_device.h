// SPDX-License-Identifier: GPL-2.0
// A simulated block device with a volatile write cache.
//
// Writes land in a volatile layer that reads see at once; a flush makes them
// durable; FUA makes one write durable.  A power loss keeps the durable
// state plus an arbitrary subset of the volatile writes, in atomic units
// (`atomic_sectors`, 512 bytes unless set: a 4 KiB write may tear) and in
// issue order, which is everything a real device may do.  The pending
// units are numbered, so a crash test can pick any subset of them
// (image_keeping) and enumerate every one when there are few.
// Every operation is counted, and faults can be injected.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "block_device.h"

namespace wc::model {

class SimDevice : public BlockDevice {
public:
	explicit SimDevice(uint64_t sectors);

	uint64_t sectors() const override { return sectors_; }
	int write(uint64_t sector, const uint8_t *data, uint32_t nr_sectors,
		  bool fua) override;
	int read(uint64_t sector, uint8_t *data, uint32_t nr_sectors) const override;
	int flush() override;
	void crash(std::mt19937_64 &rng);
	// What a power loss now would leave, without losing anything yet; and
	// a reboot onto such an image.
	std::vector<uint8_t> power_loss_image(std::mt19937_64 &rng) const;
	void load_image(const std::vector<uint8_t> &image);

	// The volatile units not yet durable, numbered 0.. in issue order, and
	// the image a power loss leaves when it keeps those keep(i) picks
	// (a later unit over the same sectors wins when both are kept).
	size_t pending_units() const { return pending_.size(); }
	std::vector<uint8_t> image_keeping(const std::function<bool(size_t)> &keep) const;

	// The device's atomic write unit, in sectors; a write is split into
	// units aligned to it, each kept or lost whole.
	uint32_t atomic_sectors = 1;

	// Content as reads see it / as it would survive a power loss with no
	// volatile write persisting.
	const std::vector<uint8_t> &current() const { return current_; }
	const std::vector<uint8_t> &durable() const { return durable_; }

	// Fault injection: operations fail with -EIO while set.
	bool fail_writes = false;
	bool fail_reads = false;
	bool fail_flushes = false;
	// Reads that reach this sector or beyond fail (a bad area).
	uint64_t fail_reads_from = ~0ULL;
	// Asked before every operation, after the flags above: true fails
	// it with -EIO (the fault sweep's "the N-th and every later write").
	enum class Io { kRead, kWrite, kFlush };
	std::function<bool(Io)> fail_io;

	// Called before every write or flush; may throw to model a crash.
	std::function<void()> before_op;

	uint64_t writes = 0, reads = 0, flushes = 0, fua_writes = 0;

private:
	struct Pending {
		uint64_t sector;
		std::vector<uint8_t> data;	// one atomic unit, or less at the ends
	};
	uint64_t sectors_;
	std::vector<uint8_t> current_;
	std::vector<uint8_t> durable_;
	std::vector<Pending> pending_;
};

} // namespace wc::model

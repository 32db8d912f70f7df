// SPDX-License-Identifier: GPL-2.0
#include "sim_pmem.h"

#include <cstring>

namespace wc::model {

SimPmem *SimPmem::active = nullptr;

SimPmem::SimPmem(uint64_t bytes)
	: current_(bytes), durable_(bytes), is_pending_(bytes / 8 + 1)
{
	active = this;
}

SimPmem::~SimPmem()
{
	if (active == this)
		active = nullptr;
}

bool SimPmem::contains(const void *p) const
{
	auto *b = static_cast<const uint8_t *>(p);
	return b >= current_.data() && b < current_.data() + current_.size();
}

void SimPmem::tick()
{
	if (++ops == snapshot_at && on_snapshot)
		on_snapshot();
}

void SimPmem::store(void *dst, const void *src, uint64_t len)
{
	tick();
	uint64_t off = static_cast<uint8_t *>(dst) - current_.data();

	memcpy(dst, src, len);
	for (uint64_t w = off / 8; w * 8 < off + len; w++) {
		if (!is_pending_[w]) {
			is_pending_[w] = true;
			pending_.push_back(w);
		}
	}
}

void SimPmem::fence()
{
	tick();
	for (uint64_t w : pending_) {
		memcpy(&durable_[w * 8], &current_[w * 8], 8);
		is_pending_[w] = false;
	}
	pending_.clear();
}

std::vector<uint8_t> SimPmem::power_loss_image(std::mt19937_64 &rng) const
{
	std::vector<uint8_t> image = durable_;

	for (uint64_t w : pending_)
		if (rng() & 1)
			memcpy(&image[w * 8], &current_[w * 8], 8);
	return image;
}

void SimPmem::load_image(const std::vector<uint8_t> &image)
{
	current_ = image;
	durable_ = image;
	pending_.clear();
	std::fill(is_pending_.begin(), is_pending_.end(), false);
}

} // namespace wc::model

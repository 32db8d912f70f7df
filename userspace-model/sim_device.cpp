// SPDX-License-Identifier: GPL-2.0
#include "sim_device.h"

#include <cstring>

namespace wc::model {

constexpr uint32_t kSector = 512;

SimDevice::SimDevice(uint64_t sectors)
	: sectors_(sectors), current_(sectors * kSector), durable_(sectors * kSector)
{
}

int SimDevice::write(uint64_t sector, const uint8_t *data, uint32_t nr, bool fua)
{
	if (before_op)
		before_op();
	if (fail_writes || sector + nr > sectors_)
		return -5;
	writes++;
	memcpy(&current_[sector * kSector], data, size_t(nr) * kSector);
	if (fua) {
		// Durable now; no older volatile copy of these sectors may
		// resurface after a crash.
		fua_writes++;
		memcpy(&durable_[sector * kSector], data, size_t(nr) * kSector);
		std::erase_if(pending_, [&](const Pending &p) {
			return p.sector >= sector && p.sector < sector + nr;
		});
		return 0;
	}
	for (uint32_t i = 0; i < nr; i++)
		pending_.push_back({sector + i, std::vector<uint8_t>(data + size_t(i) * kSector,
								   data + size_t(i + 1) * kSector)});
	return 0;
}

int SimDevice::read(uint64_t sector, uint8_t *data, uint32_t nr) const
{
	if (fail_reads || sector + nr > sectors_ || sector + nr > fail_reads_from)
		return -5;
	const_cast<SimDevice *>(this)->reads++;
	memcpy(data, &current_[sector * kSector], size_t(nr) * kSector);
	return 0;
}

int SimDevice::flush()
{
	if (before_op)
		before_op();
	if (fail_flushes)
		return -5;
	flushes++;
	durable_ = current_;
	pending_.clear();
	return 0;
}

std::vector<uint8_t> SimDevice::power_loss_image(std::mt19937_64 &rng) const
{
	std::vector<uint8_t> image = durable_;

	for (const Pending &p : pending_)
		if (rng() & 1)
			memcpy(&image[p.sector * kSector], p.data.data(), kSector);
	return image;
}

void SimDevice::load_image(const std::vector<uint8_t> &image)
{
	current_ = image;
	durable_ = image;
	pending_.clear();
}

void SimDevice::crash(std::mt19937_64 &rng)
{
	for (const Pending &p : pending_)
		if (rng() & 1)
			memcpy(&durable_[p.sector * kSector], p.data.data(), kSector);
	pending_.clear();
	current_ = durable_;
}

} // namespace wc::model

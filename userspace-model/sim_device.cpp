// SPDX-License-Identifier: GPL-2.0
#include "sim_device.h"

#include <algorithm>
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
	if (fail_writes || sector + nr > sectors_ || (fail_io && fail_io(Io::kWrite)))
		return -5;
	writes++;
	memcpy(&current_[sector * kSector], data, size_t(nr) * kSector);
	if (fua) {
		// Durable now; no older volatile copy of these sectors may
		// resurface after a crash.
		fua_writes++;
		memcpy(&durable_[sector * kSector], data, size_t(nr) * kSector);
		// A unit partly covered keeps only the sectors outside.
		std::vector<Pending> kept;
		for (Pending &p : pending_) {
			uint64_t end = p.sector + p.data.size() / kSector;

			if (end <= sector || p.sector >= sector + nr) {
				kept.push_back(std::move(p));
				continue;
			}
			if (p.sector < sector)
				kept.push_back({p.sector, std::vector<uint8_t>(
					p.data.begin(), p.data.begin() + (sector - p.sector) * kSector)});
			if (end > sector + nr)
				kept.push_back({sector + nr, std::vector<uint8_t>(
					p.data.end() - (end - sector - nr) * kSector, p.data.end())});
		}
		pending_ = std::move(kept);
		return 0;
	}
	for (uint64_t s = sector; s < sector + nr;) {
		uint64_t unit_end = (s / atomic_sectors + 1) * atomic_sectors;
		uint64_t end = std::min<uint64_t>(unit_end, sector + nr);
		const uint8_t *from = data + (s - sector) * kSector;

		pending_.push_back({s, std::vector<uint8_t>(from, from + (end - s) * kSector)});
		s = end;
	}
	return 0;
}

int SimDevice::read(uint64_t sector, uint8_t *data, uint32_t nr) const
{
	if (fail_reads || sector + nr > sectors_ || sector + nr > fail_reads_from ||
	    (fail_io && fail_io(Io::kRead)))
		return -5;
	const_cast<SimDevice *>(this)->reads++;
	memcpy(data, &current_[sector * kSector], size_t(nr) * kSector);
	return 0;
}

int SimDevice::flush()
{
	if (before_op)
		before_op();
	if (fail_flushes || (fail_io && fail_io(Io::kFlush)))
		return -5;
	flushes++;
	durable_ = current_;
	pending_.clear();
	return 0;
}

std::vector<uint8_t> SimDevice::image_keeping(const std::function<bool(size_t)> &keep) const
{
	std::vector<uint8_t> image = durable_;

	for (size_t i = 0; i < pending_.size(); i++)
		if (keep(i))
			memcpy(&image[pending_[i].sector * kSector], pending_[i].data.data(),
			       pending_[i].data.size());
	return image;
}

std::vector<uint8_t> SimDevice::power_loss_image(std::mt19937_64 &rng) const
{
	return image_keeping([&](size_t) { return rng() & 1; });
}

void SimDevice::load_image(const std::vector<uint8_t> &image)
{
	current_ = image;
	durable_ = image;
	pending_.clear();
}

void SimDevice::crash(std::mt19937_64 &rng)
{
	load_image(power_loss_image(rng));
}

} // namespace wc::model

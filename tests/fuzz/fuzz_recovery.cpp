// SPDX-License-Identifier: GPL-2.0
// libFuzzer: recovery from arbitrary metadata images, in both modes.
//
// The input is a mode byte and then the cache device's first bytes: the
// superblock and the entries (the rest of the device keeps a pattern that
// names each sector, so every data block is recognisable).  Seeds are
// images of real caches (tests/fuzz/corpus/recovery, from fuzz_seeds).
//
// Loading must never crash.  A cache that loads must have containers that
// agree, and every origin sector must read what the image says: the data
// block of the highest committed entry for it, or the origin's data when
// no valid committed entry names it.  Sectors with two committed entries
// of the same sequence number (the image is ambiguous; the error state is
// latched) are not checked.  Then a write, a flush and a reload must keep
// the new data.
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model.h"
#include "sim_device.h"
#include "sim_pmem.h"
#include "wc_core.h"

namespace {

constexpr uint64_t kSector = 512;
constexpr uint64_t kOriginSectors = 2048;	// 1 MiB
constexpr uint64_t kCacheBytes = 288 * 1024;
constexpr uint64_t kFreeSeq = ~0ULL;
constexpr uint64_t kMaxSector = (1ULL << 56) - 1;	// Entry::kMaxSector

// A sector's content on a device: its index and a tag, in every word.
void fill(uint8_t *p, uint64_t sectors, uint64_t tag)
{
	for (uint64_t s = 0; s < sectors; s++)
		for (uint64_t w = 0; w < kSector; w += 8) {
			uint64_t v = (tag << 56) ^ (s << 12) ^ w;
			memcpy(p + s * kSector + w, &v, 8);
		}
}

uint64_t le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

uint32_t le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const bool pmem = data[0] & 1;
	const uint32_t bs = (data[0] & 2) ? 512 : 4096;
	const uint32_t bsec = bs / kSector;
	data++;
	size = std::min<size_t>(size - 1, kCacheBytes);

	wc::model::SimDevice origin(kOriginSectors), cache(kCacheBytes / kSector);
	wc::model::SimPmem pm(kCacheBytes);
	std::vector<uint8_t> image(kCacheBytes);

	fill(image.data(), kCacheBytes / kSector, 0xca);
	memcpy(image.data(), data, size);
	std::vector<uint8_t> origin_data(kOriginSectors * kSector);
	fill(origin_data.data(), kOriginSectors, 0x0d);
	origin.load_image(origin_data);
	if (pmem)
		pm.load_image(image);
	else
		cache.load_image(image);

	std::vector<std::string> table = {pmem ? "p" : "s", "o", "c", std::to_string(bs), "0"};
	auto target = std::make_unique<wc::model::Model>(origin, cache, pmem ? &pm : nullptr);
	target->format_blank = false;
	std::string error;
	if (target->create(table, &error)) {
		if (error.empty())
			__builtin_trap();	// a refusal says why
		return 0;
	}
	if (!wc_core_validate(target->core()))
		__builtin_trap();

	// What the image commits, worked out here independently of the core.
	const uint64_t n = le64(image.data() + 16), seq_count = le64(image.data() + 24);
	if (le32(image.data() + 8) != bs)
		__builtin_trap();	// the core checks the block size
	const uint64_t data_start = (64 + 16 * n + bs - 1) / bs * bs;
	struct Winner {
		uint64_t block, seq;
		bool tie;
	};
	std::map<uint64_t, Winner> winner;
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *e = image.data() + 64 + 16 * i;
		uint64_t sector = le64(e), seq = le64(e + 8);

		if (seq == kFreeSeq || seq >= seq_count || sector >= kMaxSector || sector % bsec)
			continue;
		auto it = winner.find(sector);
		if (it == winner.end() || it->second.seq < seq)
			winner[sector] = {i, seq, false};
		else if (it->second.seq == seq)
			it->second.tie = true;
	}

	std::vector<uint8_t> out;
	for (uint64_t s = 0; s < kOriginSectors; s += bsec) {
		auto it = winner.find(s);
		const uint8_t *want;

		if (it != winner.end() && it->second.tie)
			continue;
		if (it != winner.end())
			want = image.data() + data_start + it->second.block * bs;
		else
			want = origin_data.data() + s * kSector;
		if (target->read(s, bsec, &out))
			__builtin_trap();
		if (memcmp(out.data(), want, bs))
			__builtin_trap();
	}

	// The loaded cache goes on working: a new write survives a reload.
	if (wc_core_error(target->core()))
		return 0;
	std::vector<uint8_t> block(bs, 0x5a);
	uint64_t at = (size ? data[size - 1] : 0) % (kOriginSectors / bsec) * bsec;
	unsigned long long st[WC_STATUS_NR_FIELDS];
	wc_core_status_fields(target->core(), st);
	int r = target->write(at, block);
	if (r && !st[WC_STATUS_FREE])
		return 0;	// nothing to write back, nowhere to write
	if (r || target->flush())
		__builtin_trap();
	target->suspend();
	target = std::make_unique<wc::model::Model>(origin, cache, pmem ? &pm : nullptr);
	if (target->create(table, &error))
		__builtin_trap();
	if (target->read(at, bsec, &out) || memcmp(out.data(), block.data(), bs))
		__builtin_trap();
	return 0;
}

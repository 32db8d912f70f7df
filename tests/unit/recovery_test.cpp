// SPDX-License-Identifier: GPL-2.0
// Recovery's rule, as a table: for each damaged superblock field and each
// kind of damaged entry, in both modes, the load is refused with a given
// message, or loads with the error flag and a given message, or loads
// clean.  A cache that loads serves every block it accepted, and no block
// that an entry it rejected named from the cache.
// (fuzz_recovery checks the same rule on arbitrary images.)
#include <gtest/gtest.h>

#include "model_helpers.h"
#include "ondisk.h"
#include "sim_pmem.h"

using namespace wc;
using namespace wc::test;

namespace {

constexpr uint64_t kOriginSectors = 8 * 1024 * 2;
constexpr uint64_t kCacheBytes = 1024 * 1024;

enum class Outcome { kRefused, kLoadedInError, kLoaded };

struct Damage {
	const char *name;
	// Changes the metadata (the cache device's first bytes); `victim` is
	// the entry of the block at sector 8, `other` the one at sector 16.
	void (*apply)(uint8_t *meta, uint64_t victim, uint64_t other);
	Outcome outcome;
	// The ti->error text when refused, else a line of the log ("" none).
	const char *message;
	// Loaded: what sector 8 reads: its cached data, the origin's (the
	// entry was dropped), or either tied block's.
	enum Victim { kData, kOrigin, kTied } victim;
	// Loaded: do the untouched committed blocks read their data?
	bool others = true;
};

template <typename T>
void put(uint8_t *p, uint64_t off, T v)
{
	memcpy(p + off, &v, sizeof(v));
}

template <typename T>
T get(const uint8_t *p, uint64_t off)
{
	T v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

uint64_t sector_off(uint64_t e) { return disk::entry_offset(e); }
uint64_t seq_off(uint64_t e) { return disk::entry_offset(e) + 8; }

const Damage kDamages[] = {
	{"magic", [](uint8_t *m, uint64_t, uint64_t) { put<uint32_t>(m, 0, 0x12345678); },
	 Outcome::kRefused, "Invalid magic in the superblock", Damage::kOrigin},
	{"version", [](uint8_t *m, uint64_t, uint64_t) { put<uint32_t>(m, 4, 2); },
	 Outcome::kRefused, "Invalid version in the superblock", Damage::kOrigin},
	{"block size", [](uint8_t *m, uint64_t, uint64_t) { put<uint32_t>(m, 8, 512); },
	 Outcome::kRefused, "Block size does not match superblock", Damage::kOrigin},
	{"n_blocks larger than the device",
	 [](uint8_t *m, uint64_t, uint64_t) { put<uint64_t>(m, 16, get<uint64_t>(m, 16) + 1); },
	 Outcome::kRefused, "Memory area is too small", Damage::kOrigin},
	{"n_blocks overflowing", [](uint8_t *m, uint64_t, uint64_t) { put<uint64_t>(m, 16, ~0ULL / 8); },
	 Outcome::kRefused, "Overflow in size calculation", Damage::kOrigin},
	{"seq_count too large",
	 [](uint8_t *m, uint64_t, uint64_t) { put<uint64_t>(m, 24, (1ULL << 48) - 2); },
	 Outcome::kRefused, "Sequence count in the superblock is too large", Damage::kOrigin},
	// seq_count 0 commits nothing: every entry is uncommitted.
	{"seq_count zero", [](uint8_t *m, uint64_t, uint64_t) { put<uint64_t>(m, 24, 0); },
	 Outcome::kLoaded, "", Damage::kOrigin, false},
	// Reserved words are not checked (in-tree does not either).
	{"superblock padding", [](uint8_t *m, uint64_t, uint64_t) { put<uint64_t>(m, 32, 7); },
	 Outcome::kLoaded, "", Damage::kData},
	{"entry sector out of range",
	 [](uint8_t *m, uint64_t v, uint64_t) { put<uint64_t>(m, sector_off(v), ~0ULL - 1); },
	 Outcome::kLoadedInError, "has an invalid sector", Damage::kOrigin},
	{"entry sector not block aligned",
	 [](uint8_t *m, uint64_t v, uint64_t) { put<uint64_t>(m, sector_off(v), 9); },
	 Outcome::kLoadedInError, "has an invalid sector", Damage::kOrigin},
	{"two identical entries",
	 [](uint8_t *m, uint64_t v, uint64_t o) {
		 put<uint64_t>(m, sector_off(o), 8);
		 put<uint64_t>(m, seq_off(o), get<uint64_t>(m, seq_off(v)));
	 },
	 Outcome::kLoadedInError, "two identical entries", Damage::kTied},
	// An older copy of the same sector: the newer one wins, quietly.
	{"older duplicate",
	 [](uint8_t *m, uint64_t v, uint64_t o) {
		 uint64_t vs = get<uint64_t>(m, seq_off(v));

		 put<uint64_t>(m, sector_off(o), 8);
		 if (vs + 1 < get<uint64_t>(m, 24)) {
			 put<uint64_t>(m, seq_off(o), vs);
			 put<uint64_t>(m, seq_off(v), vs + 1);
		 } else {
			 put<uint64_t>(m, seq_off(o), vs - 1);
		 }
	 },
	 Outcome::kLoaded, "", Damage::kData},
	// Uncommitted (written after the last commit): dropped.
	{"entry seq at seq_count",
	 [](uint8_t *m, uint64_t v, uint64_t) { put<uint64_t>(m, seq_off(v), get<uint64_t>(m, 24)); },
	 Outcome::kLoaded, "", Damage::kOrigin},
	{"entry seq beyond 48 bits",
	 [](uint8_t *m, uint64_t v, uint64_t) { put<uint64_t>(m, seq_off(v), 1ULL << 60); },
	 Outcome::kLoaded, "", Damage::kOrigin},
	{"entry free", [](uint8_t *m, uint64_t v, uint64_t) { put<uint64_t>(m, seq_off(v), ~0ULL); },
	 Outcome::kLoaded, "", Damage::kOrigin},
	// Beyond the origin's end: kept (in-tree too); writeback clips it.
	{"entry sector beyond the origin",
	 [](uint8_t *m, uint64_t v, uint64_t) { put<uint64_t>(m, sector_off(v), kOriginSectors * 4); },
	 Outcome::kLoaded, "", Damage::kOrigin},
};

struct Rig {
	bool pmem;
	model::SimDevice origin{kOriginSectors};
	model::SimDevice cache{kCacheBytes / 512};
	model::SimPmem pm{kCacheBytes};
	std::vector<std::string> table;

	explicit Rig(bool p) : pmem(p), table({p ? "p" : "s", "o", "c", "4096", "0"}) {}

	uint8_t *meta() { return pmem ? pm.data() : const_cast<uint8_t *>(cache.current().data()); }
	void store(const std::vector<uint8_t> &img)
	{
		if (pmem)
			pm.load_image(img);
		else
			cache.load_image(img);
	}
	std::vector<uint8_t> image() const
	{
		if (pmem)
			return std::vector<uint8_t>(const_cast<model::SimPmem &>(pm).data(),
						    const_cast<model::SimPmem &>(pm).data() + kCacheBytes);
		return cache.current();
	}
	std::unique_ptr<model::Model> open(int *r, std::string *error)
	{
		auto m = std::make_unique<model::Model>(origin, cache, pmem ? &pm : nullptr);
		m->format_blank = false;
		*r = m->create(table, error);
		return m;
	}
};

// The entry that caches origin `sector`, from the metadata.
uint64_t entry_of(uint8_t *meta, uint64_t sector)
{
	uint64_t n = get<uint64_t>(meta, 16);

	for (uint64_t i = 0; i < n; i++)
		if (get<uint64_t>(meta, sector_off(i)) == sector &&
		    get<uint64_t>(meta, seq_off(i)) != ~0ULL)
			return i;
	ADD_FAILURE() << "no entry for sector " << sector;
	return 0;
}

bool logged(const std::string &what)
{
	for (auto &l : model::log_lines())
		if (l.find(what) != std::string::npos)
			return true;
	return false;
}

class RecoveryRule : public ::testing::TestWithParam<bool> {};

TEST_P(RecoveryRule, EachDamageHasItsOutcome)
{
	for (const Damage &d : kDamages) {
		SCOPED_TRACE(std::string(GetParam() ? "p mode: " : "s mode: ") + d.name);
		Rig rig(GetParam());
		int r;
		std::string e;
		{
			model::Model f(rig.origin, rig.cache, rig.pmem ? &rig.pm : nullptr);
			ASSERT_EQ(f.create(rig.table, &e), 0) << e;
			ASSERT_EQ(f.write(8, pattern(8, 8, 1)), 0);
			ASSERT_EQ(f.write(16, pattern(16, 8, 2)), 0);
			ASSERT_EQ(f.write(64, pattern(64, 8, 3)), 0);
			ASSERT_EQ(f.flush(), 0);
			ASSERT_EQ(f.write(8, pattern(8, 8, 4)), 0);	// in place (s), new copy (p)
			ASSERT_EQ(f.flush(), 0);
			f.suspend();
		}
		std::vector<uint8_t> img = rig.image();
		d.apply(img.data(), entry_of(img.data(), 8), entry_of(img.data(), 16));
		rig.store(img);

		model::clear_log();
		auto m = rig.open(&r, &e);
		if (d.outcome == Outcome::kRefused) {
			EXPECT_NE(r, 0);
			EXPECT_EQ(e, d.message);
			continue;
		}
		ASSERT_EQ(r, 0) << e;
		EXPECT_TRUE(wc_core_validate(m->core()));
		EXPECT_EQ(status_fields(m->status())[WC_STATUS_ERROR],
			  d.outcome == Outcome::kLoadedInError ? 1u : 0u);
		if (*d.message) {
			EXPECT_TRUE(logged(d.message));
		}
		std::vector<uint8_t> out;
		// Untouched blocks read their data, or the origin's when
		// nothing is committed.
		ASSERT_EQ(m->read(64, 8, &out), 0);
		EXPECT_EQ(out, d.others ? pattern(64, 8, 3) : std::vector<uint8_t>(8 * 512, 0));
		// The damaged one reads its data, or the origin's (zeros):
		// never another block's, unless the image itself names two.
		ASSERT_EQ(m->read(8, 8, &out), 0);
		switch (d.victim) {
		case Damage::kData:
			EXPECT_EQ(out, pattern(8, 8, 4));
			break;
		case Damage::kOrigin:
			EXPECT_EQ(out, std::vector<uint8_t>(8 * 512, 0));
			break;
		case Damage::kTied:
			EXPECT_TRUE(out == pattern(8, 8, 4) || out == pattern(16, 8, 2));
			break;
		}
	}
}

INSTANTIATE_TEST_SUITE_P(BothModes, RecoveryRule, ::testing::Bool(),
			 [](const ::testing::TestParamInfo<bool> &i) {
				 return std::string(i.param ? "Pmem" : "Ssd");
			 });

} // namespace

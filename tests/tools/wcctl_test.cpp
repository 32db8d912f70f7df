// SPDX-License-Identifier: GPL-2.0
// wcctl's offline commands, run as the binary, on image files that the core
// itself makes (through the model) in both modes: clean caches, caches with
// committed and uncommitted entries, power-cut images and damaged ones.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "../unit/model_helpers.h"
#include "ondisk.h"
#include "sim_pmem.h"
#include "wc_core.h"

namespace {

using wc::test::pattern;
using wc::model::Model;
using wc::model::SimDevice;
using wc::model::SimPmem;

constexpr uint64_t kOriginSectors = 8192;	// 4 MiB
constexpr uint64_t kCacheSectors = 2048;	// 1 MiB
constexpr uint32_t kBlock = 4096, kBlockSectors = 8;

struct Result {
	int rc;
	std::string out, err;
};

class Dir {
public:
	Dir()
	{
		char tmpl[] = "/tmp/wcctl-test.XXXXXX";
		path_ = mkdtemp(tmpl);
	}
	~Dir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
	std::string file(const std::string &name) const { return path_ + "/" + name; }

private:
	std::string path_;
};

std::string slurp(const std::string &path)
{
	std::ifstream f(path, std::ios::binary);
	std::stringstream s;

	s << f.rdbuf();
	return s.str();
}

std::vector<uint8_t> read_file(const std::string &path)
{
	std::string s = slurp(path);
	return std::vector<uint8_t>(s.begin(), s.end());
}

void write_file(const std::string &path, const std::vector<uint8_t> &data)
{
	std::ofstream f(path, std::ios::binary | std::ios::trunc);
	f.write(reinterpret_cast<const char *>(data.data()), std::streamsize(data.size()));
}

Result wcctl(const Dir &d, const std::string &args)
{
	std::string out = d.file("stdout"), err = d.file("stderr");
	std::string cmd = std::string(WCCTL_BIN) + " " + args + " </dev/null >" + out + " 2>" + err;
	int st = std::system(cmd.c_str());

	return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(out), slurp(err)};
}

// Writes `count` blocks with `version`, from block `first`, through a model.
void write_blocks(Model &m, uint64_t first, uint64_t count, uint64_t version)
{
	for (uint64_t b = first; b < first + count; b++)
		ASSERT_EQ(m.write(b * kBlockSectors, pattern(b * kBlockSectors, kBlockSectors, version)), 0);
}

// An SSD-mode cache and its origin, made by the core; saved as images.
struct SsdImages {
	SimDevice origin{kOriginSectors};
	SimDevice cache{kCacheSectors};
	std::unique_ptr<Model> m;
	std::vector<std::string> table = {"s", "o", "c", "4096", "0"};

	SsdImages(std::vector<std::string> t = {})
	{
		if (!t.empty())
			table = t;
		std::string e;
		m = std::make_unique<Model>(origin, cache);
		EXPECT_EQ(m->create(table, &e), 0) << e;
	}
	// A clean shutdown: suspend commits.
	void save(const Dir &d)
	{
		m->suspend();
		write_file(d.file("cache"), cache.durable());
		write_file(d.file("origin"), origin.durable());
	}
	// A power cut: what reached the media, and some of what did not.
	void save_power_cut(const Dir &d, uint64_t seed)
	{
		std::mt19937_64 rng(seed);
		write_file(d.file("cache"), cache.power_loss_image(rng));
		write_file(d.file("origin"), origin.power_loss_image(rng));
	}
};

// What the device reads, block by block, over the cache and origin images:
// the model loading those images as the module would.
std::vector<uint8_t> read_through_cache(const Dir &d, std::vector<std::string> table = {})
{
	auto c = read_file(d.file("cache")), o = read_file(d.file("origin"));
	SimDevice cache(c.size() / 512), origin(o.size() / 512);
	std::string e;

	cache.load_image(c);
	origin.load_image(o);
	Model m(origin, cache);
	EXPECT_EQ(m.create(table.empty() ? std::vector<std::string>{"s", "o", "c", "4096", "0"} : table,
			   &e), 0) << e;
	std::vector<uint8_t> all, part;
	for (uint64_t s = 0; s < origin.sectors(); s += 256) {
		EXPECT_EQ(m.read(s, 256, &part), 0);
		all.insert(all.end(), part.begin(), part.end());
	}
	return all;
}

nlohmann::json dump_json(const Dir &d, const std::string &extra = "")
{
	Result r = wcctl(d, "dump --json " + extra + d.file("cache"));
	EXPECT_EQ(r.rc, 0) << r.err;
	return nlohmann::json::parse(r.out);
}

// Patches one on-disk entry of a cache image.
void set_entry(const Dir &d, uint64_t i, uint64_t sector, uint64_t seq, uint64_t start = 0)
{
	auto img = read_file(d.file("cache"));
	wc::disk::Entry e = {sector, seq};

	memcpy(&img[start * 512 + wc::disk::entry_offset(i)], &e, sizeof(e));
	write_file(d.file("cache"), img);
}

wc::disk::Entry get_entry(const Dir &d, uint64_t i)
{
	auto img = read_file(d.file("cache"));
	wc::disk::Entry e;

	memcpy(&e, &img[wc::disk::entry_offset(i)], sizeof(e));
	return e;
}

void patch_superblock(const Dir &d, const std::function<void(wc::disk::Superblock &)> &fn)
{
	auto img = read_file(d.file("cache"));
	wc::disk::Superblock sb;

	memcpy(&sb, img.data(), sizeof(sb));
	fn(sb);
	memcpy(img.data(), &sb, sizeof(sb));
	write_file(d.file("cache"), img);
}

} // namespace

TEST(Wcctl, VersionAndUsage)
{
	Dir d;
	Result r = wcctl(d, "--version");
	EXPECT_EQ(r.rc, 0);
	EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "0.1.0");
	EXPECT_EQ(wcctl(d, "no-such-command").rc, 1);
	EXPECT_EQ(wcctl(d, "check").rc, 16);
	EXPECT_EQ(wcctl(d, "check a b c").rc, 16);
	EXPECT_EQ(wcctl(d, "repair " + d.file("x")).rc, 16);	// no --backup
	EXPECT_EQ(wcctl(d, "check " + d.file("missing")).rc, 8);
	EXPECT_EQ(wcctl(d, "dump " + d.file("missing")).rc, 1);
	r = wcctl(d, "--help");
	EXPECT_EQ(r.rc, 0);
	EXPECT_NE(r.out.find("writeback"), std::string::npos);
}

TEST(Wcctl, DumpShowsWhatALoadAccepts)
{
	Dir d;
	SsdImages img;

	write_blocks(*img.m, 0, 20, 1);
	ASSERT_EQ(img.m->flush(), 0);
	write_blocks(*img.m, 5, 3, 2);	// overwrites, committed by the suspend
	img.save(d);

	auto j = dump_json(d);
	EXPECT_EQ(j["superblock"]["magic"], wc::disk::kMagic);
	EXPECT_EQ(j["superblock"]["version"], 1);
	EXPECT_EQ(j["superblock"]["block_size"], 4096);
	EXPECT_EQ(j["dirty_blocks"], 20);
	ASSERT_EQ(j["entries"].size(), 20u);
	std::set<uint64_t> sectors;
	for (auto &e : j["entries"]) {
		sectors.insert(e["origin_sector"].get<uint64_t>());
		EXPECT_LT(e["seq"].get<uint64_t>(), j["superblock"]["seq_count"].get<uint64_t>());
	}
	for (uint64_t b = 0; b < 20; b++)
		EXPECT_TRUE(sectors.count(b * kBlockSectors)) << b;

	Result r = wcctl(d, "dump " + d.file("cache"));
	EXPECT_EQ(r.rc, 0);
	EXPECT_NE(r.out.find("dirty blocks: 20"), std::string::npos) << r.out;
	// Read-only: the image is untouched.
	auto before = read_file(d.file("cache"));
	wcctl(d, "check " + d.file("cache"));
	EXPECT_EQ(read_file(d.file("cache")), before);
}

TEST(Wcctl, PowerCutDropsUncommittedEntries)
{
	Dir d;
	SsdImages img;

	write_blocks(*img.m, 0, 10, 1);
	ASSERT_EQ(img.m->flush(), 0);
	write_blocks(*img.m, 10, 10, 1);	// never committed
	img.save_power_cut(d, 7);

	auto j = dump_json(d);
	EXPECT_EQ(j["dirty_blocks"], 10);
	for (auto &e : j["entries"])
		EXPECT_LT(e["origin_sector"].get<uint64_t>(), 10 * kBlockSectors);
	Result r = wcctl(d, "check " + d.file("cache"));
	EXPECT_EQ(r.rc, 0) << r.out << r.err;
	EXPECT_NE(r.out.find("committed dirty blocks: 10"), std::string::npos) << r.out;
}

TEST(Wcctl, CheckExitCodes)
{
	struct Case {
		const char *what;
		std::function<void(const Dir &)> damage;
		int rc;
		const char *says;
	} cases[] = {
		{"clean", [](const Dir &) {}, 0, "clean"},
		{"bad magic", [](const Dir &d) { patch_superblock(d, [](auto &s) { s.magic ^= 1; }); },
		 4, "Invalid magic in the superblock"},
		{"bad version", [](const Dir &d) { patch_superblock(d, [](auto &s) { s.version = 2; }); },
		 4, "Invalid version in the superblock"},
		{"impossible block size",
		 [](const Dir &d) { patch_superblock(d, [](auto &s) { s.block_size = 3000; }); },
		 4, "Block size does not match superblock"},
		{"too many blocks",
		 [](const Dir &d) { patch_superblock(d, [](auto &s) { s.n_blocks *= 4; }); },
		 4, "Memory area is too small"},
		{"seq_count too large",
		 [](const Dir &d) { patch_superblock(d, [](auto &s) { s.seq_count = 1ULL << 62; }); },
		 4, "Sequence count in the superblock is too large"},
		{"blank", [](const Dir &d) { patch_superblock(d, [](auto &s) { s = {}; }); },
		 4, "blank"},
		{"invalid sector", [](const Dir &d) { set_entry(d, 3, 1ULL << 60, 0); }, 4,
		 "invalid origin sector"},
		{"identical entries",
		 [](const Dir &d) {
			 auto e = get_entry(d, 2);
			 set_entry(d, 100, e.original_sector, e.seq_count);
		 },
		 4, "two identical entries"},
		{"truncated", [](const Dir &d) { truncate(d.file("cache").c_str(), 8192); }, 4,
		 "Memory area is too small"},
	};
	for (auto &c : cases) {
		Dir d;
		SsdImages img;

		write_blocks(*img.m, 0, 8, 1);
		img.save(d);
		c.damage(d);
		Result r = wcctl(d, "check " + d.file("cache"));
		EXPECT_EQ(r.rc, c.rc) << c.what << "\n" << r.out << r.err;
		EXPECT_NE((r.out + r.err).find(c.says), std::string::npos) << c.what << "\n" << r.out;
	}
}

TEST(Wcctl, CheckAgainstTheOrigin)
{
	Dir d;
	SsdImages img;

	write_blocks(*img.m, 500, 4, 1);	// blocks 500-503: sectors 4000-4031
	img.save(d);
	EXPECT_EQ(wcctl(d, "check " + d.file("cache") + " --origin " + d.file("origin")).rc, 0);
	truncate(d.file("origin").c_str(), 4016 * 512);	// blocks 502 and 503 are past the end
	Result r = wcctl(d, "check " + d.file("cache") + " --origin " + d.file("origin"));
	EXPECT_EQ(r.rc, 4) << r.out;
	EXPECT_NE(r.out.find("2 errors"), std::string::npos) << r.out;
	EXPECT_NE(r.out.find("beyond the origin's end"), std::string::npos) << r.out;
}

TEST(Wcctl, RepairAndUndo)
{
	Dir d;
	SsdImages img;

	write_blocks(*img.m, 0, 8, 1);
	img.save(d);

	auto e = get_entry(d, 2);
	set_entry(d, 100, e.original_sector, e.seq_count);	// two identical entries
	set_entry(d, 4, 1ULL << 60, 0);			// an invalid sector
	auto damaged = read_file(d.file("cache"));
	ASSERT_EQ(wcctl(d, "check " + d.file("cache")).rc, 4);

	Result r = wcctl(d, "repair " + d.file("cache") + " --backup " + d.file("b1"));
	EXPECT_EQ(r.rc, 1) << r.out << r.err;
	Result c = wcctl(d, "check " + d.file("cache"));
	EXPECT_EQ(c.rc, 0) << c.out;
	// What the load kept is kept: block 2's copy at 100 (the later one),
	// and every other block but the one whose sector was invalid.
	auto j = dump_json(d);
	EXPECT_EQ(j["dirty_blocks"], 7);
	// Nothing to repair: the cache is not changed; the backup is made.
	auto repaired = read_file(d.file("cache"));
	EXPECT_EQ(wcctl(d, "repair " + d.file("cache") + " --backup " + d.file("b0")).rc, 0);
	EXPECT_EQ(read_file(d.file("cache")), repaired);
	EXPECT_EQ(read_file(d.file("b0")).size(), 8192u);	// the whole metadata area
	EXPECT_EQ(read_file(d.file("b1")).size(), 8192u);

	EXPECT_EQ(wcctl(d, "repair " + d.file("cache") + " --undo " + d.file("b1")).rc, 0);
	EXPECT_EQ(read_file(d.file("cache")), damaged);
	EXPECT_EQ(wcctl(d, "check " + d.file("cache")).rc, 4);
	// An existing backup is never overwritten (without --force).
	EXPECT_EQ(wcctl(d, "repair " + d.file("cache") + " --backup " + d.file("b1")).rc, 8);
	EXPECT_EQ(read_file(d.file("cache")), damaged);

	// A superblock the core refuses cannot be repaired.
	patch_superblock(d, [](auto &s) { s.magic = 1; });
	EXPECT_EQ(wcctl(d, "repair " + d.file("cache") + " --backup " + d.file("b2")).rc, 4);
}

TEST(Wcctl, WritebackMatchesWhatTheCacheServes)
{
	for (bool power_cut : {false, true}) {
		Dir d;
		SsdImages img;

		write_blocks(*img.m, 0, 64, 1);
		ASSERT_EQ(img.m->flush(), 0);
		write_blocks(*img.m, 32, 64, 2);
		ASSERT_EQ(img.m->flush(), 0);
		write_blocks(*img.m, 200, 40, 3);
		if (power_cut)
			img.save_power_cut(d, 11);
		else
			img.save(d);

		auto expected = read_through_cache(d);
		auto stale = read_file(d.file("origin"));
		ASSERT_NE(expected, stale);

		// A dry run reads everything and changes nothing.
		auto cache_before = read_file(d.file("cache"));
		Result r = wcctl(d, "writeback --dry-run " + d.file("cache") + " " + d.file("origin"));
		EXPECT_EQ(r.rc, 0) << r.err;
		EXPECT_EQ(read_file(d.file("cache")), cache_before);
		EXPECT_EQ(read_file(d.file("origin")), stale);

		r = wcctl(d, "writeback -y " + d.file("cache") + " " + d.file("origin"));
		EXPECT_EQ(r.rc, 0) << r.out << r.err;
		EXPECT_TRUE(read_file(d.file("origin")) == expected) << "power cut " << power_cut;
		// The cache loads empty, and clean.
		EXPECT_EQ(dump_json(d)["dirty_blocks"], 0);
		EXPECT_EQ(wcctl(d, "check " + d.file("cache")).rc, 0);
		EXPECT_TRUE(read_through_cache(d) == expected);
	}
}

TEST(Wcctl, WritebackWithoutMetadataUpdate)
{
	Dir d;
	SsdImages img;

	write_blocks(*img.m, 10, 30, 1);
	img.save(d);
	auto expected = read_through_cache(d);
	auto cache_before = read_file(d.file("cache"));
	Result r = wcctl(d, "writeback -y --no-metadata-update " + d.file("cache") + " " +
			     d.file("origin"));
	EXPECT_EQ(r.rc, 0) << r.err;
	EXPECT_EQ(read_file(d.file("cache")), cache_before);
	EXPECT_TRUE(read_file(d.file("origin")) == expected);
	EXPECT_EQ(dump_json(d)["dirty_blocks"], 30);
}

TEST(Wcctl, WritebackRefusesACacheWithErrors)
{
	Dir d;
	SsdImages img;

	write_blocks(*img.m, 0, 8, 1);
	img.save(d);
	auto e = get_entry(d, 2);
	set_entry(d, 100, e.original_sector, e.seq_count);
	auto origin_before = read_file(d.file("origin"));
	Result r = wcctl(d, "writeback -y " + d.file("cache") + " " + d.file("origin"));
	EXPECT_EQ(r.rc, 1);
	EXPECT_NE(r.err.find("two identical entries"), std::string::npos) << r.err;
	EXPECT_EQ(read_file(d.file("origin")), origin_before);
}

TEST(Wcctl, WritebackKeepsBlocksPastTheOriginsEnd)
{
	Dir d;
	SsdImages img;

	write_blocks(*img.m, 0, 4, 1);
	write_blocks(*img.m, 900, 4, 1);
	img.save(d);
	truncate(d.file("origin").c_str(), 4096 * 512);	// block 900 is at sector 7200
	Result r = wcctl(d, "writeback -y " + d.file("cache") + " " + d.file("origin"));
	EXPECT_EQ(r.rc, 1);
	EXPECT_NE(r.err.find("beyond the end"), std::string::npos) << r.err;
	EXPECT_EQ(dump_json(d)["dirty_blocks"], 4);
}

TEST(Wcctl, StartSectorAndSmallBlocks)
{
	Dir d;
	std::vector<std::string> table = {"s", "o", "c", "512", "2", "start_sector", "7"};
	SsdImages img(table);

	for (uint64_t s = 0; s < 40; s++)
		ASSERT_EQ(img.m->write(s * 3, pattern(s * 3, 1, 1)), 0);
	img.save(d);
	auto expected = read_through_cache(d, table);
	// Without the start sector there is no superblock where it looks.
	EXPECT_EQ(wcctl(d, "check " + d.file("cache")).rc, 4);
	auto j = dump_json(d, "--start-sector 7 ");
	EXPECT_EQ(j["superblock"]["block_size"], 512);
	EXPECT_EQ(j["dirty_blocks"], 40);
	Result r = wcctl(d, "writeback -y --start-sector 7 " + d.file("cache") + " " + d.file("origin"));
	EXPECT_EQ(r.rc, 0) << r.err;
	EXPECT_TRUE(read_file(d.file("origin")) == expected);
}

TEST(Wcctl, PmemModeImages)
{
	Dir d;
	SimDevice origin(kOriginSectors), unused(8);
	SimPmem pmem(1 << 20);
	SimPmem::active = &pmem;
	std::vector<std::string> table = {"p", "o", "c", "4096", "0"};
	std::string e;
	{
		Model m(origin, unused, &pmem);
		ASSERT_EQ(m.create(table, &e), 0) << e;
		write_blocks(m, 3, 50, 1);
		ASSERT_EQ(m.flush(), 0);
		write_blocks(m, 20, 10, 2);
		m.suspend();
	}
	write_file(d.file("cache"), std::vector<uint8_t>(pmem.data(), pmem.data() + pmem.size()));
	write_file(d.file("origin"), origin.durable());
	SimPmem::active = nullptr;

	// The format is the same in both modes: the offline tools read both.
	auto j = dump_json(d);
	EXPECT_EQ(j["dirty_blocks"], 50);
	auto expected = read_through_cache(d);
	Result r = wcctl(d, "writeback -y " + d.file("cache") + " " + d.file("origin"));
	EXPECT_EQ(r.rc, 0) << r.err;
	EXPECT_TRUE(read_file(d.file("origin")) == expected);

	// And the cache, written back offline, loads empty in p mode too.
	auto img = read_file(d.file("cache"));
	SimPmem again(img.size());
	SimPmem::active = &again;
	again.load_image(img);
	Model m(origin, unused, &again);
	ASSERT_EQ(m.create(table, &e), 0) << e;
	EXPECT_EQ(wc::test::status_fields(m.status())[WC_STATUS_FREE],
		  wc::test::status_fields(m.status())[WC_STATUS_BLOCKS]);
	SimPmem::active = nullptr;
}

TEST(Wcctl, SizeFollowsTheCoresLayout)
{
	Dir d;
	unsigned long long n, meta;

	ASSERT_EQ(wc_core_layout(1ULL << 30, 4096, &n, &meta), 0);
	Result r = wcctl(d, "size 1GiB --json");
	ASSERT_EQ(r.rc, 0) << r.err;
	auto j = nlohmann::json::parse(r.out);
	EXPECT_EQ(j["blocks"], n);
	EXPECT_EQ(j["metadata_bytes"], meta);
	EXPECT_EQ(j["ram_bytes"], wc_core_ram_bytes(n, meta));
	EXPECT_LE(j["ram_bytes"].get<double>() / double(n), 32.1);
	EXPECT_EQ(wcctl(d, "size 100").rc, 1);	// not one block
	EXPECT_EQ(wcctl(d, "size 12parsecs").rc, 1);
	r = wcctl(d, "size 64M --block-size 512 --mode p");
	EXPECT_EQ(r.rc, 0);
	EXPECT_NE(r.out.find("in-tree"), std::string::npos);
}

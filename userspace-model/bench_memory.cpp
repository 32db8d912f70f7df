// SPDX-License-Identifier: GPL-2.0
// RAM the core holds per cache block, for caches of several sizes in both
// modes, measured by counting what it allocates through the environment.
// A cache of n blocks is described by its superblock alone, so even 2^32
// blocks need no device here.
//
// The in-tree target needs about 88 bytes per block (lvm2's estimate): an
// rb_node, a list_head and more per entry, plus in SSD mode a RAM copy of
// all metadata (16 bytes per block).
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "env_user.h"
#include "ondisk.h"
#include "wc_core.h"

namespace {

double bytes_per_block(const char *mode, unsigned long long n_blocks)
{
	const unsigned bs = 4096;
	unsigned long long meta = (64 + 16 * n_blocks + bs - 1) / bs * bs;
	unsigned long long bytes = meta + n_blocks * bs;
	std::vector<std::string> words = {"4096", "0"};
	std::vector<char *> argv = {words[0].data(), words[1].data()};
	wc_dev_info info = {bytes, 512, 512, 4096, 65536};
	const char *err = "";
	int need_format = 0;
	static std::vector<unsigned char> pmem_header(4096);

	unsigned long long before = wc::model::core_bytes_allocated();
	wc_core *core = wc_core_create();
	wc_core_parse_mode(core, mode);
	if (wc_core_parse_args(core, 2, argv.data(), &info, &err)) {
		fprintf(stderr, "parse: %s\n", err);
		return -1;
	}
	wc::disk::Superblock sb = {};
	sb.magic = wc::disk::kMagic;
	sb.version = wc::disk::kVersion;
	sb.block_size = bs;
	sb.n_blocks = n_blocks;
	if (mode[0] == 's') {
		wc_core_ssd_geometry(core, &err);
		if (wc_core_check_superblock(core, &sb, &need_format, &err)) {
			fprintf(stderr, "check: %s\n", err);
			return -1;
		}
	} else {
		memcpy(pmem_header.data(), &sb, sizeof(sb));
		wc_core_set_pmem(core, pmem_header.data(), bytes);
		if (wc_core_check_superblock(core, nullptr, &need_format, &err)) {
			fprintf(stderr, "check: %s\n", err);
			return -1;
		}
	}
	double per = double(wc::model::core_bytes_allocated() - before) / double(n_blocks);
	wc_core_destroy(core);
	return per;
}

} // namespace

int main()
{
	printf("%-6s %14s %16s %10s\n", "mode", "blocks", "cache (4 KiB)", "B/block");
	for (const char *mode : {"s", "p"}) {
		// 2^32 blocks would need 128 GiB here, more than this
		// machine has; the per-block cost does not depend on n.
		for (unsigned long long n : {1ULL << 16, 1ULL << 20, 1ULL << 24, 1ULL << 27}) {
			double per = bytes_per_block(mode, n);
			printf("%-6s %14llu %13.1f GiB %10.2f\n", mode, n,
			       double(n) * 4096 / (1ULL << 30), per);
		}
	}
	printf("in-tree dm-writecache: about 88 B/block (lvm2's estimate)\n");
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
// The userspace implementation of the core's environment (wc_env.h).
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "env_user.h"
#include "sim_pmem.h"
#include "wc_env.h"

namespace wc::model {

static std::vector<std::string> g_log;
unsigned long long g_alloc_bytes = 0;

unsigned long long core_bytes_allocated() { return g_alloc_bytes; }
static bool g_echo = false;

const std::vector<std::string> &log_lines() { return g_log; }
void clear_log() { g_log.clear(); }
void echo_log(bool on) { g_echo = on; }

} // namespace wc::model

extern "C" {

// Each block carries its size in front, so that the bytes the core holds
// can be counted (bench_memory).
void *wc_env_alloc(unsigned long size)
{
	auto *p = static_cast<unsigned long *>(calloc(1, size + 16));

	if (!p)
		return nullptr;
	p[0] = size;
	wc::model::g_alloc_bytes += size;
	return p + 2;
}

void wc_env_free(void *ptr)
{
	if (!ptr)
		return;
	auto *p = static_cast<unsigned long *>(ptr) - 2;

	wc::model::g_alloc_bytes -= p[0];
	free(p);
}

void wc_env_log(int level, const char *msg)
{
	wc::model::g_log.emplace_back(msg);
	if (wc::model::g_echo)
		fprintf(stderr, "writecache[%d]: %s\n", level, msg);
}

void wc_env_pmem_copy(void *dst, const void *src, unsigned long len)
{
	auto *pmem = wc::model::SimPmem::active;

	if (pmem && pmem->contains(dst))
		pmem->store(dst, src, len);
	else
		memcpy(dst, src, len);
}

void wc_env_pmem_fence(void)
{
	if (wc::model::SimPmem::active)
		wc::model::SimPmem::active->fence();
}

int wc_env_pmem_read(void *dst, const void *src, unsigned long len)
{
	auto *pmem = wc::model::SimPmem::active;

	if (pmem && pmem->poisoned(src, len))
		return -5;	// -EIO, as the kernel's copy_mc_to_kernel() caller
	memcpy(dst, src, len);
	return 0;
}

void wc_env_yield(void) {}

} // extern "C"

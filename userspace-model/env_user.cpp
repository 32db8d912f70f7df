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
static bool g_echo = false;

const std::vector<std::string> &log_lines() { return g_log; }
void clear_log() { g_log.clear(); }
void echo_log(bool on) { g_echo = on; }

} // namespace wc::model

extern "C" {

void *wc_env_alloc(unsigned long size) { return calloc(1, size ? size : 1); }

void wc_env_free(void *ptr) { free(ptr); }

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
	memcpy(dst, src, len);
	return 0;
}

void wc_env_yield(void) {}

} // extern "C"

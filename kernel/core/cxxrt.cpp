// SPDX-License-Identifier: GPL-2.0
// The few C++ runtime symbols the compiler may reference (kernel build
// only; userspace has the real runtime).  The core creates its objects
// with placement new in memory from wc_env_alloc (memory.h) and never
// calls operator new or delete: these exist so that a stray use links,
// and fails loudly.  operator new logs an error and returns no memory; the
// delete operators, which can then only be handed nullptr, free nothing.
#include "types.h"
#include "../include/wc_env.h"

namespace {

void *stray(const char *what)
{
	wc_env_log(WC_LOG_ERR, what);
	return nullptr;
}

} // namespace

void *operator new(wc::usize) { return stray("operator new called in the core"); }
void *operator new[](wc::usize) { return stray("operator new[] called in the core"); }
void operator delete(void *) noexcept {}
void operator delete[](void *) noexcept {}
void operator delete(void *, wc::usize) noexcept {}
void operator delete[](void *, wc::usize) noexcept {}

extern "C" void __cxa_pure_virtual(void);
extern "C" void __cxa_pure_virtual(void)
{
	wc_env_log(WC_LOG_ERR, "pure virtual function called");
}

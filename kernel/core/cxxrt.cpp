// SPDX-License-Identifier: GPL-2.0
// The few C++ runtime symbols the compiler may reference.  The core creates
// its objects with placement new only; these exist so that a stray use links
// to something that fails loudly rather than to nothing.
#include "types.h"
#include "../include/wc_env.h"

void *operator new(wc::usize size) { return wc_env_alloc(size); }
void *operator new[](wc::usize size) { return wc_env_alloc(size); }
void operator delete(void *p) noexcept { wc_env_free(p); }
void operator delete[](void *p) noexcept { wc_env_free(p); }
void operator delete(void *p, wc::usize) noexcept { wc_env_free(p); }
void operator delete[](void *p, wc::usize) noexcept { wc_env_free(p); }

extern "C" void __cxa_pure_virtual(void);
extern "C" void __cxa_pure_virtual(void)
{
	wc_env_log(WC_LOG_ERR, "pure virtual function called");
}

// SPDX-License-Identifier: GPL-2.0
// Checks of the persistence invariants in debug builds: WC_CORE_DEBUG,
// which the userspace Debug (ASan) build defines.  A violation is logged
// and traps.  Elsewhere the condition is compiled but never evaluated.
#pragma once

#include "../include/wc_env.h"

#ifdef WC_CORE_DEBUG

namespace wc {

[[noreturn]] inline void debug_check_failed(const char *what)
{
	wc_env_log(WC_LOG_ERR, what);
	__builtin_trap();
}

} // namespace wc

#define WC_DEBUG_CHECK(cond, what)				\
	do {							\
		if (!(cond))					\
			::wc::debug_check_failed(what);		\
	} while (0)

#else

#define WC_DEBUG_CHECK(cond, what)				\
	do {							\
		(void)sizeof(cond);				\
	} while (0)

#endif

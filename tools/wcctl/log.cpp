// SPDX-License-Identifier: GPL-2.0
#include "log.h"

#include <cstdarg>
#include <cstdio>

namespace wcctl {

volatile int g_interrupted = 0;

void err(const char *fmt, ...)
{
	va_list ap;

	fputs("wcctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

} // namespace wcctl

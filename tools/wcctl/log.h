// SPDX-License-Identifier: GPL-2.0
// Messages on stderr, each prefixed "wcctl: ", and the flag that stops
// long work at a safe point.
#pragma once

namespace wcctl {

void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

// Set by SIGINT/SIGTERM.
extern volatile int g_interrupted;

} // namespace wcctl

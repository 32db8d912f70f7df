// SPDX-License-Identifier: GPL-2.0
// Messages on stderr, each prefixed "wcctl: ".
#pragma once

namespace wcctl {

void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

} // namespace wcctl

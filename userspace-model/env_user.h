// SPDX-License-Identifier: GPL-2.0
// What the userspace environment records, for tests.
#pragma once

#include <string>
#include <vector>

namespace wc::model {

// Every line the core logged (dmesg in the kernel), oldest first.
const std::vector<std::string> &log_lines();
void clear_log();
void echo_log(bool on);
// Bytes the core currently holds through wc_env_alloc().
unsigned long long core_bytes_allocated();

} // namespace wc::model

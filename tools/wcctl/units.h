// SPDX-License-Identifier: GPL-2.0
// Sizes as people write them ("64M", "1GiB") and as they read them.
#pragma once

#include <cstdint>
#include <string>

namespace wcctl {

// "64M", "1GiB", "512s", "4096": bytes, or false.
bool parse_size(const std::string &text, uint64_t *bytes);
// "1.0 GiB"
std::string human_bytes(uint64_t bytes);

} // namespace wcctl

// SPDX-License-Identifier: GPL-2.0
// Fixed-width integers and small helpers for the freestanding core.
//
// The core includes no library header: it is built with -nostdinc for the
// kernel.  Widths come from the compiler's builtin macros, so they are the
// same in both builds.
#pragma once

namespace wc {

using u8 = __UINT8_TYPE__;
using u16 = __UINT16_TYPE__;
using u32 = __UINT32_TYPE__;
using u64 = __UINT64_TYPE__;
using i32 = __INT32_TYPE__;
using i64 = __INT64_TYPE__;
using usize = __SIZE_TYPE__;

static_assert(sizeof(u64) == 8 && sizeof(u32) == 4 && sizeof(u16) == 2);
static_assert(sizeof(usize) == 8, "the core is built for 64-bit machines");

constexpr u32 kSectorShift = 9;
constexpr u32 kSectorSize = 1U << kSectorShift;

template <typename T>
constexpr T min(T a, T b) { return a < b ? a : b; }
template <typename T>
constexpr T max(T a, T b) { return a > b ? a : b; }

constexpr bool is_power_of_two(u64 x) { return x && !(x & (x - 1)); }

constexpr u32 log2_exact(u64 x)
{
	u32 r = 0;
	while (x > 1) {
		x >>= 1;
		r++;
	}
	return r;
}

inline void mem_set(void *dst, int c, usize n) { __builtin_memset(dst, c, n); }
inline void mem_copy(void *dst, const void *src, usize n) { __builtin_memcpy(dst, src, n); }

} // namespace wc

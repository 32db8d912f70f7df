// SPDX-License-Identifier: GPL-2.0
// Allocation through the environment.  Nothing in the core allocates on the
// I/O path: everything is sized when the target is constructed or resumed.
#pragma once

#include "types.h"
#include "../include/wc_env.h"

// Placement new: from <new> where there is a C++ library (userspace), our
// own in the freestanding kernel build, which has none.
#if __has_include(<new>)
#include <new>
#else
inline void *operator new(wc::usize, void *p) noexcept { return p; }
#endif

namespace wc {

// Bytes env_alloc_array<T>(n) takes from the environment.
template <typename T>
constexpr u64 env_array_header()
{
	return (sizeof(u64) + alignof(T) - 1) / alignof(T) * alignof(T);
}

template <typename T>
constexpr u64 env_array_bytes(u64 n)
{
	return env_array_header<T>() + n * sizeof(T);
}

// Zeroed storage for n objects, default-constructed; nullptr on failure or
// overflow.  The count is kept in front so that the free knows it.
template <typename T>
T *env_alloc_array(u64 n)
{
	constexpr u64 header = env_array_header<T>();

	if (n > (~0ULL - header) / sizeof(T))
		return nullptr;
	u8 *raw = static_cast<u8 *>(wc_env_alloc(header + n * sizeof(T)));

	if (!raw)
		return nullptr;
	*reinterpret_cast<u64 *>(raw) = n;
	T *arr = reinterpret_cast<T *>(raw + header);

	for (u64 i = 0; i < n; i++)
		new (&arr[i]) T();
	return arr;
}

template <typename T>
void env_free_array(T *arr)
{
	constexpr u64 header = env_array_header<T>();

	if (arr)
		wc_env_free(reinterpret_cast<u8 *>(arr) - header);
}

} // namespace wc

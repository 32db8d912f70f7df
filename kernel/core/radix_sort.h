// SPDX-License-Identifier: GPL-2.0
// A stable LSD radix sort of u64 words, for the load's index build
// (load_index.cpp): O(n * key_bits / 8), no comparisons, no allocation.
//
// The two arrays are accessors rather than memory (the load keeps them
// in the entries' link words), with get(k) and set(k, v).  The sort is
// stable, so words with equal keys keep the order they came in.
#pragma once

#include "types.h"
#include "../include/wc_env.h"

namespace wc {

constexpr u32 kRadixBits = 8;
constexpr u32 kRadixBuckets = 1U << kRadixBits;
constexpr u32 kRadixPasses = 64 / kRadixBits;

// Sorts a[0..n) by key(word), a key of key_bits bits, using b as the
// other buffer; the result is in a.  `counts` is the caller's, so that
// the sort needs no stack beyond a few words (the kernel's is small).
template <typename Array, typename Key>
void radix_sort(Array &a, Array &b, u64 n, u32 key_bits, Key key,
		u32 (&counts)[kRadixPasses][kRadixBuckets])
{
	const u32 passes = (key_bits + kRadixBits - 1) / kRadixBits;
	Array *from = &a, *to = &b;

	if (n < 2 || !passes)
		return;
	// One sweep counts the digits of every pass: each pass only reorders
	// the same words, so the counts hold for all of them (and the words,
	// in the entries' link words, are read once instead of per pass).
	for (u32 p = 0; p < passes; p++)
		for (u32 d = 0; d < kRadixBuckets; d++)
			counts[p][d] = 0;
	for (u64 k = 0; k < n; k++) {
		const u64 kk = key(a.get(k));

		for (u32 p = 0; p < passes; p++)
			counts[p][(kk >> (p * kRadixBits)) & (kRadixBuckets - 1)]++;
		if (!(k & 0xffff))
			wc_env_yield();
	}
	for (u32 p = 0; p < passes; p++) {
		const u32 shift = p * kRadixBits;
		u32 *c = counts[p];

		// A digit every word shares moves nothing: skip the pass.
		if (c[(key(from->get(0)) >> shift) & (kRadixBuckets - 1)] == n)
			continue;
		u32 sum = 0;

		for (u32 d = 0; d < kRadixBuckets; d++) {
			u32 v = c[d];

			c[d] = sum;
			sum += v;
		}
		for (u64 k = 0; k < n; k++) {
			u64 w = from->get(k);

			to->set(c[(key(w) >> shift) & (kRadixBuckets - 1)]++, w);
			if (!(k & 0xffff))
				wc_env_yield();
		}
		Array *t = from;

		from = to;
		to = t;
	}
	if (from != &a)
		for (u64 k = 0; k < n; k++)
			a.set(k, b.get(k));
}

} // namespace wc

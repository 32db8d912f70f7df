// SPDX-License-Identifier: GPL-2.0
// An intrusive red-black tree over the entry array, with no parent links.
//
// Insertion and deletion are top-down (Guibas and Sedgewick's scheme as
// Julienne Walker describes it), so they need neither parent pointers nor
// recursion: the whole per-block cost is two 32-bit child links and a color
// bit.  Neighbours are found by a search from the root, O(log n).
//
// `Less::less(base, a, b)` orders two entries; keys must be unique.
#pragma once

#include "entry.h"

namespace wc {

template <typename Less>
class RbTree {
public:
	void init(Entry *base)
	{
		base_ = base;
		root_ = kNil;
		size_ = 0;
	}

	bool empty() const { return root_ == kNil; }
	u64 size() const { return size_; }

	void insert(u32 x);
	void erase(u32 x);
	// `neu` (not in the tree) takes `old`'s place: its links and color.
	// `neu` must order against every other node exactly as `old` does.
	// One search from the root, no rebalancing.
	void replace(u32 old, u32 neu)
	{
		u32 *link = &root_;

		while (*link != old)
			link = &base_[*link].child[Less::less(base_, *link, old)];
		*link = neu;
		base_[neu].child[0] = base_[old].child[0];
		base_[neu].child[1] = base_[old].child[1];
		base_[neu].set_red(base_[old].red());
		base_[old].child[0] = base_[old].child[1] = kNil;
	}

	u32 first() const { return extreme(0); }
	u32 last() const { return extreme(1); }

	// In-order neighbours of a node in the tree (kNil at the ends).
	u32 next(u32 x) const
	{
		return lower_bound([&](u32 n) { return !Less::less(base_, x, n); });
	}
	u32 prev(u32 x) const
	{
		return last_where([&](u32 n) { return Less::less(base_, n, x); });
	}

	// The first node for which `before(node)` is false.  `before` must be
	// true for a prefix of the in-order sequence.
	template <typename Before>
	u32 lower_bound(Before before) const
	{
		u32 res = kNil, c = root_;

		while (c != kNil) {
			if (before(c)) {
				c = base_[c].child[1];
			} else {
				res = c;
				c = base_[c].child[0];
			}
		}
		return res;
	}

	// The last node for which `before(node)` is true.
	template <typename Before>
	u32 last_where(Before before) const
	{
		u32 res = kNil, c = root_;

		while (c != kNil) {
			if (before(c)) {
				res = c;
				c = base_[c].child[1];
			} else {
				c = base_[c].child[0];
			}
		}
		return res;
	}

	// Checks the red-black invariants and the order; returns the black
	// height, or -1.  For tests.
	int validate() const { return root_ == kNil ? 1 : check(root_, kNil, kNil); }

private:
	static constexpr u32 kHead = 0xfffffffeU;

	Entry &node(u32 i) { return i == kHead ? head_ : base_[i]; }
	const Entry &node(u32 i) const { return i == kHead ? head_ : base_[i]; }
	bool is_red(u32 i) const { return i != kNil && node(i).red(); }

	u32 extreme(int dir) const
	{
		u32 c = root_;

		if (c == kNil)
			return kNil;
		while (base_[c].child[dir] != kNil)
			c = base_[c].child[dir];
		return c;
	}

	u32 rotate1(u32 root, int dir)
	{
		u32 save = node(root).child[!dir];

		node(root).child[!dir] = node(save).child[dir];
		node(save).child[dir] = root;
		node(root).set_red(true);
		node(save).set_red(false);
		return save;
	}

	u32 rotate2(u32 root, int dir)
	{
		node(root).child[!dir] = rotate1(node(root).child[!dir], !dir);
		return rotate1(root, dir);
	}

	int check(u32 n, u32 lo, u32 hi) const;

	Entry *base_ = nullptr;
	Entry head_;
	u32 root_ = kNil;
	u64 size_ = 0;
};

template <typename Less>
void RbTree<Less>::insert(u32 x)
{
	Entry &e = node(x);

	e.child[0] = e.child[1] = kNil;
	size_++;
	if (root_ == kNil) {
		e.set_red(false);
		root_ = x;
		return;
	}
	e.set_red(true);
	head_.set_red(false);
	head_.child[0] = kNil;
	head_.child[1] = root_;

	u32 t = kHead, g = kNil, p = kNil, q = root_;
	int dir = 0, last = 0;

	for (;;) {
		if (q == kNil) {
			q = x;
			node(p).child[dir] = q;
		} else if (is_red(node(q).child[0]) && is_red(node(q).child[1])) {
			// Split a 4-node on the way down.
			node(q).set_red(true);
			node(node(q).child[0]).set_red(false);
			node(node(q).child[1]).set_red(false);
		}
		if (is_red(q) && is_red(p)) {
			int dir2 = node(t).child[1] == g;

			if (q == node(p).child[last])
				node(t).child[dir2] = rotate1(g, !last);
			else
				node(t).child[dir2] = rotate2(g, !last);
		}
		if (q == x)
			break;
		last = dir;
		dir = Less::less(base_, q, x);
		if (g != kNil)
			t = g;
		g = p;
		p = q;
		q = node(q).child[dir];
	}
	root_ = head_.child[1];
	node(root_).set_red(false);
}

template <typename Less>
void RbTree<Less>::erase(u32 x)
{
	u32 q = kHead, p = kNil, g = kNil, found = kNil;
	int dir = 1;

	head_.set_red(false);
	head_.child[0] = kNil;
	head_.child[1] = root_;

	// Walk to the in-order predecessor of x (or x itself), pushing a red
	// node down so that the node finally unlinked is red.
	while (node(q).child[dir] != kNil) {
		int last = dir;

		g = p;
		p = q;
		q = node(q).child[dir];
		dir = Less::less(base_, q, x);
		if (q == x)
			found = q;

		if (is_red(q) || is_red(node(q).child[dir]))
			continue;
		if (is_red(node(q).child[!dir])) {
			u32 r = rotate1(q, dir);

			node(p).child[last] = r;
			p = r;
		} else {
			u32 s = node(p).child[!last];

			if (s == kNil)
				continue;
			if (!is_red(node(s).child[!last]) && !is_red(node(s).child[last])) {
				node(p).set_red(false);
				node(s).set_red(true);
				node(q).set_red(true);
			} else {
				int dir2 = node(g).child[1] == p;

				if (is_red(node(s).child[last]))
					node(g).child[dir2] = rotate2(p, last);
				else
					node(g).child[dir2] = rotate1(p, last);
				u32 gd = node(g).child[dir2];

				node(q).set_red(true);
				node(gd).set_red(true);
				node(node(gd).child[0]).set_red(false);
				node(node(gd).child[1]).set_red(false);
			}
		}
	}

	if (found != kNil) {
		// Unlink q, which has at most one child.
		node(p).child[node(p).child[1] == q] =
			node(q).child[node(q).child[0] == kNil];
		if (q != found) {
			// q takes x's place: the tree stores entries, not keys,
			// so x's node cannot be overwritten with q's data.
			u32 parent = kHead, c = head_.child[1];

			while (c != found) {
				parent = c;
				c = node(c).child[Less::less(base_, c, found)];
			}
			node(q).child[0] = node(found).child[0];
			node(q).child[1] = node(found).child[1];
			node(q).set_red(node(found).red());
			node(parent).child[node(parent).child[1] == found] = q;
		}
		size_--;
	}
	root_ = head_.child[1];
	if (root_ != kNil)
		node(root_).set_red(false);
	node(x).child[0] = node(x).child[1] = kNil;
}

template <typename Less>
int RbTree<Less>::check(u32 n, u32 lo, u32 hi) const
{
	if (n == kNil)
		return 1;
	const Entry &e = base_[n];

	if (lo != kNil && !Less::less(base_, lo, n))
		return -1;
	if (hi != kNil && !Less::less(base_, n, hi))
		return -1;
	if (e.red() && (is_red(e.child[0]) || is_red(e.child[1])))
		return -1;
	int l = check(e.child[0], lo, n), r = check(e.child[1], n, hi);

	if (l < 0 || r < 0 || l != r)
		return -1;
	return l + (e.red() ? 0 : 1);
}

} // namespace wc

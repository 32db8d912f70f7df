// SPDX-License-Identifier: GPL-2.0
// An intrusive red-black tree over the entry array, with no parent links.
//
// Insertion and deletion are top-down (Guibas and Sedgewick's scheme as
// Julienne Walker describes it), so they need neither parent pointers nor
// recursion: the whole per-block cost is two child links (block ids, 32
// bits each) and a color bit.  Neighbours are found by a search from the root, O(log n).
//
// `Less::less(base, a, b)` orders two entries by their block ids; keys
// must be unique.
#pragma once

#include "entry.h"

namespace wc {

template <typename Less>
class RbTree {
public:
	void init(Entry *base)
	{
		base_ = base;
		root_ = BlockId::nil();
		size_ = 0;
	}

	bool empty() const { return root_.is_nil(); }
	u64 size() const { return size_; }

	void insert(BlockId x);
	void erase(BlockId x);
	// Replaces the tree with the n nodes that next() returns in order:
	// O(n), for the load.  Each subtree splits its nodes in halves, so
	// every nil link is at one of the two deepest depths; the nodes of
	// the deepest level are red, all others black, which gives every
	// path the same black height.
	template <typename Next>
	void build(u64 n, Next next)
	{
		u32 levels = 0;

		while (levels < 64 && (n + 1) > (1ULL << levels))
			levels++;
		root_ = build_subtree(n, 0, levels ? levels - 1 : 0, next);
		size_ = n;
		if (!root_.is_nil())
			node(root_).set_red(false);
	}
	// `neu` (not in the tree) takes `old`'s place: its links and color.
	// `neu` must order against every other node exactly as `old` does.
	// One search from the root, no rebalancing.
	void replace(BlockId old, BlockId neu)
	{
		BlockId *link = &root_;

		while (*link != old)
			link = &entry_at(base_, *link).child[Less::less(base_, *link, old)];
		*link = neu;
		Entry &n = entry_at(base_, neu), &o = entry_at(base_, old);

		set_pair(n.child, o.child[0], o.child[1]);
		n.set_red(o.red());
		set_pair(o.child, BlockId::nil(), BlockId::nil());
	}

	BlockId first() const { return extreme(0); }
	BlockId last() const { return extreme(1); }

	// In-order neighbours of a node in the tree (nil at the ends).
	BlockId next(BlockId x) const
	{
		return lower_bound([&](BlockId n) { return !Less::less(base_, x, n); });
	}
	BlockId prev(BlockId x) const
	{
		return last_where([&](BlockId n) { return Less::less(base_, n, x); });
	}

	// The first node for which `before(node)` is false.  `before` must be
	// true for a prefix of the in-order sequence.
	template <typename Before>
	BlockId lower_bound(Before before) const
	{
		BlockId res = BlockId::nil(), c = root_;

		while (!c.is_nil()) {
			if (before(c)) {
				c = entry_at(base_, c).child[1];
			} else {
				res = c;
				c = entry_at(base_, c).child[0];
			}
		}
		return res;
	}

	// The last node for which `before(node)` is true.
	template <typename Before>
	BlockId last_where(Before before) const
	{
		BlockId res = BlockId::nil(), c = root_;

		while (!c.is_nil()) {
			if (before(c)) {
				res = c;
				c = entry_at(base_, c).child[1];
			} else {
				c = entry_at(base_, c).child[0];
			}
		}
		return res;
	}

	// Checks the red-black invariants and the order; returns the black
	// height, or -1.  For tests.
	int validate() const
	{
		return root_.is_nil() ? 1 : check(root_, BlockId::nil(), BlockId::nil());
	}

private:
	// The head sentinel's id: a reserved value, never a block's.
	static constexpr BlockId kHead = BlockId::reserved();

	Entry &node(BlockId i) { return i == kHead ? head_ : entry_at(base_, i); }
	const Entry &node(BlockId i) const { return i == kHead ? head_ : entry_at(base_, i); }
	bool is_red(BlockId i) const { return !i.is_nil() && node(i).red(); }

	BlockId extreme(int dir) const
	{
		BlockId c = root_;

		if (c.is_nil())
			return BlockId::nil();
		while (!entry_at(base_, c).child[dir].is_nil())
			c = entry_at(base_, c).child[dir];
		return c;
	}

	BlockId rotate1(BlockId root, int dir)
	{
		BlockId save = node(root).child[!dir];

		node(root).child[!dir] = node(save).child[dir];
		node(save).child[dir] = root;
		node(root).set_red(true);
		node(save).set_red(false);
		return save;
	}

	BlockId rotate2(BlockId root, int dir)
	{
		node(root).child[!dir] = rotate1(node(root).child[!dir], !dir);
		return rotate1(root, dir);
	}

	int check(BlockId n, BlockId lo, BlockId hi) const;

	// Recursion as deep as the tree (at most 33 levels), a few words each.
	template <typename Next>
	BlockId build_subtree(u64 n, u32 depth, u32 red_depth, Next &next)
	{
		if (!n)
			return BlockId::nil();
		u64 left = (n - 1) / 2;
		BlockId l = build_subtree(left, depth + 1, red_depth, next);
		BlockId x = next();
		BlockId r = build_subtree(n - 1 - left, depth + 1, red_depth, next);
		Entry &e = node(x);

		set_pair(e.child, l, r);
		e.set_red(depth == red_depth);
		return x;
	}

	Entry *base_ = nullptr;
	Entry head_;
	BlockId root_ = BlockId::nil();
	u64 size_ = 0;
};

template <typename Less>
void RbTree<Less>::insert(BlockId x)
{
	Entry &e = node(x);

	set_pair(e.child, BlockId::nil(), BlockId::nil());
	size_++;
	if (root_.is_nil()) {
		e.set_red(false);
		root_ = x;
		return;
	}
	e.set_red(true);
	head_.set_red(false);
	head_.child[0] = BlockId::nil();
	head_.child[1] = root_;

	BlockId t = kHead, g = BlockId::nil(), p = BlockId::nil(), q = root_;
	int dir = 0, last = 0;

	for (;;) {
		if (q.is_nil()) {
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
		if (!g.is_nil())
			t = g;
		g = p;
		p = q;
		q = node(q).child[dir];
	}
	root_ = head_.child[1];
	node(root_).set_red(false);
}

template <typename Less>
void RbTree<Less>::erase(BlockId x)
{
	BlockId q = kHead, p = BlockId::nil(), g = BlockId::nil(), found = BlockId::nil();
	int dir = 1;

	head_.set_red(false);
	head_.child[0] = BlockId::nil();
	head_.child[1] = root_;

	// Walk to the in-order predecessor of x (or x itself), pushing a red
	// node down so that the node finally unlinked is red.
	while (!node(q).child[dir].is_nil()) {
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
			BlockId r = rotate1(q, dir);

			node(p).child[last] = r;
			p = r;
		} else {
			BlockId s = node(p).child[!last];

			if (s.is_nil())
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
				BlockId gd = node(g).child[dir2];

				node(q).set_red(true);
				node(gd).set_red(true);
				node(node(gd).child[0]).set_red(false);
				node(node(gd).child[1]).set_red(false);
			}
		}
	}

	if (!found.is_nil()) {
		// Unlink q, which has at most one child.
		node(p).child[node(p).child[1] == q] =
			node(q).child[node(q).child[0].is_nil()];
		if (q != found) {
			// q takes x's place: the tree stores entries, not keys,
			// so x's node cannot be overwritten with q's data.
			BlockId parent = kHead, c = head_.child[1];

			while (c != found) {
				parent = c;
				c = node(c).child[Less::less(base_, c, found)];
			}
			set_pair(node(q).child, node(found).child[0], node(found).child[1]);
			node(q).set_red(node(found).red());
			node(parent).child[node(parent).child[1] == found] = q;
		}
		size_--;
	}
	root_ = head_.child[1];
	if (!root_.is_nil())
		node(root_).set_red(false);
	set_pair(node(x).child, BlockId::nil(), BlockId::nil());
}

template <typename Less>
int RbTree<Less>::check(BlockId n, BlockId lo, BlockId hi) const
{
	if (n.is_nil())
		return 1;
	const Entry &e = entry_at(base_, n);

	if (!lo.is_nil() && !Less::less(base_, lo, n))
		return -1;
	if (!hi.is_nil() && !Less::less(base_, n, hi))
		return -1;
	if (e.red() && (is_red(e.child[0]) || is_red(e.child[1])))
		return -1;
	int l = check(e.child[0], lo, n), r = check(e.child[1], n, hi);

	if (l < 0 || r < 0 || l != r)
		return -1;
	return l + (e.red() ? 0 : 1);
}

} // namespace wc

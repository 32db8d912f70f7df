// SPDX-License-Identifier: GPL-2.0
#include "text.h"

namespace wc::text {
namespace {

bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	       c == '\r';
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

// The digits of simple_strntoull(): wraps silently on overflow, as the kernel
// does.  Returns the first character after the number.
const char *accumulate(const char *s, u64 *out)
{
	u64 v = 0;

	while (is_digit(*s))
		v = v * 10 + u64(*s++ - '0');
	*out = v;
	return s;
}

// One integer conversion followed by "%c".  `allow_minus` is %d.
bool scan(const char *s, bool allow_minus, u64 *out)
{
	bool negative = false;
	u64 v;

	if (!s)
		return false;
	while (is_space(*s))
		s++;
	if (allow_minus && *s == '-') {
		negative = true;
		s++;
	}
	if (!is_digit(*s))
		return false;
	s = accumulate(s, &v);
	*out = negative ? u64(0) - v : v;
	// "%c" matches any following character: two conversions, a failure.
	return *s == '\0';
}

} // namespace

bool equal_nocase(const char *a, const char *b)
{
	while (*a && lower(*a) == lower(*b)) {
		a++;
		b++;
	}
	return lower(*a) == lower(*b);
}

bool scan_u32(const char *s, u32 *out)
{
	u64 v;

	if (!scan(s, false, &v))
		return false;
	*out = u32(v);
	return true;
}

bool scan_i32(const char *s, i32 *out)
{
	u64 v;

	if (!scan(s, true, &v))
		return false;
	*out = i32(u32(v));
	return true;
}

bool scan_u64(const char *s, u64 *out)
{
	return scan(s, false, out);
}

Emitter &Emitter::str(const char *s)
{
	while (*s)
		chr(*s++);
	return *this;
}

Emitter &Emitter::chr(char c)
{
	if (pos_ + 1 < len_) {
		buf_[pos_++] = c;
		buf_[pos_] = '\0';
	}
	return *this;
}

Emitter &Emitter::dec(u64 v)
{
	char digits[20];
	int n = 0;

	do {
		digits[n++] = char('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		chr(digits[--n]);
	return *this;
}

Emitter &Emitter::sdec(i64 v)
{
	if (v < 0) {
		chr('-');
		return dec(u64(0) - u64(v));
	}
	return dec(u64(v));
}

} // namespace wc::text

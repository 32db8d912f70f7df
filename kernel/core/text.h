// SPDX-License-Identifier: GPL-2.0
// Text helpers with the kernel's exact semantics.
//
// Table arguments must be accepted and refused exactly as the in-tree target
// does, which parses them with the kernel's sscanf("%u%c"): leading white
// space is skipped, the first character must be a digit (or '-' for %d),
// digits accumulate modulo 2^64 and are then truncated to the target type,
// and any trailing character makes the conversion count two, a failure.
#pragma once

#include "types.h"

namespace wc::text {

bool equal_nocase(const char *a, const char *b);

// sscanf(s, "%u%c") == 1, with the value stored as the kernel would.
bool scan_u32(const char *s, u32 *out);
// sscanf(s, "%d%c") == 1
bool scan_i32(const char *s, i32 *out);
// sscanf(s, "%llu%c") == 1
bool scan_u64(const char *s, u64 *out);

// Appends to a bounded buffer the way DMEMIT does: output past the end is
// dropped and the buffer stays NUL-terminated.
class Emitter {
public:
	Emitter(char *buf, u32 len) : buf_(buf), len_(len)
	{
		if (len_)
			buf_[0] = '\0';
	}
	Emitter &str(const char *s);
	Emitter &chr(char c);
	Emitter &dec(u64 v);
	Emitter &sdec(i64 v);

private:
	char *buf_;
	u32 len_;
	u32 pos_ = 0;
};

// Formats into a fixed local buffer, for log messages.
template <u32 N>
class Message {
public:
	Message() : emit_(buf_, N) {}
	Emitter &operator()() { return emit_; }
	const char *c_str() const { return buf_; }

private:
	char buf_[N];
	Emitter emit_;
};

} // namespace wc::text

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The environment the writecache core runs in.
 *
 * The core is a deterministic state machine that its caller drives under
 * the caller's own lock, so it needs no threads, timers or locks: only
 * memory, logging and persistent-memory stores.  There is one kernel and one
 * userspace implementation of this header.  Builtin types only: this header
 * is compiled as C and as freestanding C++.
 */
#ifndef WC_ENV_H
#define WC_ENV_H

#ifdef __cplusplus
extern "C" {
#endif

enum wc_log_level {
	WC_LOG_ERR = 3,
	WC_LOG_WARN = 4,
	WC_LOG_INFO = 6,
};

/* Zeroed memory, or NULL.  May sleep; never called on the I/O path. */
void *wc_env_alloc(unsigned long size);
void wc_env_free(void *ptr);

/* One preformatted message line, without a trailing newline. */
void wc_env_log(int level, const char *msg);

/*
 * Persistent memory.  wc_env_pmem_copy() stores and writes the cache lines
 * back (memcpy_flushcache); the stores are durable only after the next
 * wc_env_pmem_fence().  wc_env_pmem_read() copies out of persistent memory
 * and returns nonzero when it hit a media error.
 */
void wc_env_pmem_copy(void *dst, const void *src, unsigned long len);
void wc_env_pmem_fence(void);
int wc_env_pmem_read(void *dst, const void *src, unsigned long len);

/* A point where a long loop may give the CPU away (cond_resched). */
void wc_env_yield(void);

#ifdef __cplusplus
}
#endif

#endif /* WC_ENV_H */

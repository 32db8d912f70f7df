// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel implementation of the core's environment (wc_env.h).
 */
#include <linux/device-mapper.h>
#include <linux/libnvdimm.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "wc_env.h"

#define DM_MSG_PREFIX WC_TARGET_NAME

/*
 * The core sizes its arrays once per table load; they can be far larger
 * than kmalloc or kvmalloc (INT_MAX) allow, hence vmalloc past a few pages.
 */
void *wc_env_alloc(unsigned long size)
{
	if (size <= 8 * PAGE_SIZE)
		return kzalloc(size, GFP_KERNEL);
	return vzalloc(size);
}

void wc_env_free(void *ptr)
{
	kvfree(ptr);
}

void wc_env_log(int level, const char *msg)
{
	switch (level) {
	case WC_LOG_ERR:
		DMERR("%s", msg);
		break;
	case WC_LOG_WARN:
		DMWARN("%s", msg);
		break;
	default:
		DMINFO("%s", msg);
		break;
	}
}

void wc_env_pmem_copy(void *dst, const void *src, unsigned long len)
{
	memcpy_flushcache(dst, src, len);
}

void wc_env_pmem_fence(void)
{
	pmem_wmb();
}

int wc_env_pmem_read(void *dst, const void *src, unsigned long len)
{
	return copy_mc_to_kernel(dst, src, len) ? -EIO : 0;
}

void wc_env_yield(void)
{
	cond_resched();
}

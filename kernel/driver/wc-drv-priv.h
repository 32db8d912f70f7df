/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the driver's files share: the lock with its error latch, events,
 * sleeping, and the program executor.
 */
#ifndef WC_DRV_PRIV_H
#define WC_DRV_PRIV_H

#include "wc_driver.h"

/* Takes the lock and latches the errors end_io saw since. */
void wc_drv_lock(struct wc_driver *d);
void wc_drv_unlock(struct wc_driver *d);
/* ops->sleep, then the latch; nonzero: give up waiting. */
int wc_drv_sleep(struct wc_driver *d, int why);
/* Acts on what the last calls into the core asked for. */
void wc_drv_handle_events(struct wc_driver *d);
/* Runs one of the core's programs to its end; lock held throughout. */
int wc_drv_run(struct wc_driver *d, int program, unsigned long long arg0,
	       unsigned long long arg1);

#endif /* WC_DRV_PRIV_H */

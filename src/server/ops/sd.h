/* SPDX-License-Identifier: Apache-2.0 */
/* Thin glue over libsystemd: readiness/status/watchdog notifications, socket
 * activation and journald detection. Every call is a no-op returning 0 when the
 * daemon was not started by systemd, so callers need no "under systemd?" test.
 * Errors are returned as negative errno values; the caller decides whether to log. */
#ifndef SHUFFLED_SERVER_SD_H
#define SHUFFLED_SERVER_SD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int systemd_notify_ready(void);     /* READY=1: listening and registrations loaded */
int systemd_notify_reloading(void); /* RELOADING=1 (+MONOTONIC_USEC), then READY=1 when done */
int systemd_notify_stopping(void);  /* STOPPING=1 */
int systemd_notify_watchdog(void);  /* WATCHDOG=1 */
/* STATUS=<text>: one human-readable line (newlines become spaces). */
int systemd_notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The watchdog timeout in microseconds if systemd expects WATCHDOG=1 pings from this
 * process (WatchdogSec=), else 0. Ping at least every half of it. */
uint64_t systemd_watchdog_usec(void);

/* Sockets passed by socket activation (LISTEN_FDS/LISTEN_PID), each checked to be a
 * listening stream socket and made close-on-exec; the environment variables are
 * cleared so children do not inherit them. Returns the count (0: none passed) with
 * *fds a malloc'd array the caller frees, or a negative errno with err filled. */
int systemd_listen_fds(int **fds, char *err, size_t errlen);

/* True when stderr is connected to journald (JOURNAL_STREAM matches fd 2): log lines
 * should then carry "<N>" priority prefixes instead of timestamps. */
bool systemd_journal_stderr(void);

#endif

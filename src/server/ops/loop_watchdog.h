/* SPDX-License-Identifier: Apache-2.0 */
/* Proof that every event loop is alive, for the systemd watchdog and /healthz: each tick
 * (on the main loop) posts a heartbeat to every I/O loop; the result callback hears
 * "all alive" (the daemon then pings WATCHDOG=1) only if all loops ran the previous
 * round's heartbeat, else which loop is late. A stuck loop stops the pings, so systemd
 * restarts the service after WatchdogSec. */
#ifndef SHUFFLED_SERVER_LOOP_WATCHDOG_H
#define SHUFFLED_SERVER_LOOP_WATCHDOG_H

#include <stdint.h>

struct event_base;
struct loop_watchdog;

/* Runs fn(arg) on loop i's thread (e.g. worker_post); must not fail. */
typedef void (*loop_post_fn)(void *loops, int i, void (*fn)(void *arg), void *arg);
/* A tick's verdict: late_loop == -1 when every loop answered (send WATCHDOG=1), else the
 * index of a loop that has not run its heartbeat (withhold the ping). */
typedef void (*watchdog_result_fn)(void *ctx, int late_loop);

/* Ticks every interval_usec on main_base (use half of systemd_watchdog_usec()). With
 * interval_usec == 0 the timer is not armed (ticks only by loop_watchdog_tick). Returns
 * NULL on out of memory. */
struct loop_watchdog *loop_watchdog_create(struct event_base *main_base, uint64_t interval_usec,
                                           int nloops, loop_post_fn post, void *loops,
                                           watchdog_result_fn result, void *result_ctx);
/* One round: report, and if every loop answered the last heartbeat, post the next one.
 * Returns 1 if all loops were alive, 0 if one is late. */
int loop_watchdog_tick(struct loop_watchdog *wd);
/* Stops the timer (at the start of shutdown: no pings while draining). */
void loop_watchdog_stop(struct loop_watchdog *wd);
/* Frees wd. Heartbeats still queued on a loop touch wd: free only after the loops ran or
 * dropped their queued work (after worker_destroy). NULL is a no-op. */
void loop_watchdog_free(struct loop_watchdog *wd);

#endif

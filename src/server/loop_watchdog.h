/* systemd watchdog pings that prove every event loop is alive: each tick (on the main
 * loop) posts a heartbeat to every I/O loop and pings (WATCHDOG=1) only if all loops ran
 * the previous round's heartbeat. A stuck loop stops the pings, so systemd restarts the
 * service after WatchdogSec. */
#ifndef SHUFFLED_SERVER_LOOP_WATCHDOG_H
#define SHUFFLED_SERVER_LOOP_WATCHDOG_H

#include <stdint.h>

struct event_base;
struct loop_watchdog;

/* Runs fn(arg) on loop i's thread (e.g. worker_post); must not fail. */
typedef void (*loop_post_fn)(void *loops, int i, void (*fn)(void *arg), void *arg);
/* Sends the ping (systemd_notify_watchdog in the daemon). */
typedef void (*watchdog_ping_fn)(void *ctx);

/* Ticks every interval_usec on main_base (use half of systemd_watchdog_usec()). With
 * interval_usec == 0 the timer is not armed (ticks only by loop_watchdog_tick). Returns
 * NULL on out of memory. */
struct loop_watchdog *loop_watchdog_create(struct event_base *main_base, uint64_t interval_usec,
                                           int nloops, loop_post_fn post, void *loops,
                                           watchdog_ping_fn ping, void *ping_ctx);
/* One round: ping if every loop answered the last heartbeat, then post the next one to
 * the loops that answered. Returns 1 if it pinged, 0 if a loop is late. */
int loop_watchdog_tick(struct loop_watchdog *wd);
/* Stops the timer (at the start of shutdown: no pings while draining). */
void loop_watchdog_stop(struct loop_watchdog *wd);
/* Frees wd. Heartbeats still queued on a loop touch wd: free only after the loops ran or
 * dropped their queued work (after worker_destroy). NULL is a no-op. */
void loop_watchdog_free(struct loop_watchdog *wd);

#endif

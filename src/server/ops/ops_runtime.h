/* SPDX-License-Identifier: Apache-2.0 */
/* The operations side of a running daemon, in one place so main.c only marks its
 * life-cycle: the admin HTTP endpoint, systemd READY/RELOADING/STOPPING and a periodic
 * STATUS= line, WATCHDOG=1 pings proven by every I/O loop (loop_watchdog.h), and the
 * metrics gauges whose truth is in struct server (connections, chunks in flight). */
#ifndef SHUFFLED_SERVER_OPS_RUNTIME_H
#define SHUFFLED_SERVER_OPS_RUNTIME_H

struct server;
struct event_base;
struct ops_runtime;

#include <stddef.h>

/* Call on the main thread once the workers run. The admin endpoint listens on
 * admin_listen:admin_port (0: an ephemeral port) and guards its /admin/... actions with the
 * token in admin_token_file ("" = none; admin_http.h). Failing to bind it, or to read the
 * token, is fatal: returns NULL with err naming the address or file (health checks would
 * otherwise fail with no clear cause); also NULL when out of memory. */
struct ops_runtime *ops_start(struct server *srv, struct event_base *main_base,
                              const char *admin_listen, int admin_port,
                              const char *admin_token_file, char *err, size_t errlen);
/* Listening and registrations loaded: READY=1, /healthz serving. */
void ops_ready(struct ops_runtime *o);
/* Around a SIGHUP reload: RELOADING=1 ... READY=1. */
void ops_reloading(struct ops_runtime *o);
void ops_reloaded(struct ops_runtime *o);
/* Stop begins: STOPPING=1, /healthz draining, no more watchdog pings. */
void ops_stopping(struct ops_runtime *o);
/* After the workers were destroyed (queued heartbeats ran): stops the admin endpoint
 * and frees everything. NULL is a no-op. */
void ops_free(struct ops_runtime *o);

#endif

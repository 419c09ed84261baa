/* SPDX-License-Identifier: Apache-2.0 */
/* The admin HTTP endpoint (libevent evhttp), loopback by default:
 *   GET  /metrics                      Prometheus text (metrics.h)
 *   GET  /healthz                      200 "serving" | 503 "starting" / "draining" / "unhealthy"
 *   POST /admin/remove-application?app_id=A[&cleanup_local_dirs=true|false]
 *   POST /admin/remove-executor?app_id=A&exec_id=E
 *   GET  /admin/apps                   the applications as JSON (block/app_listing.c)
 *   POST /admin/reload                 202: the configuration is reloaded as on SIGHUP
 * POST parameters come from the query string or an x-www-form-urlencoded body.
 * Bad requests get a 4xx with a one-line reason.
 *
 * The state-changing endpoints (/admin/...) are guarded, /metrics and /healthz never are:
 * with a token, a request needs "Authorization: Bearer <token>" (401 otherwise; compared in
 * constant time); without one, they answer only on a loopback address (403 on any other,
 * naming admin_token_file), like Redis's protected mode.
 *
 * It runs on its own thread and event_base, so a slow scrape (counting 100k fds) or an
 * admin action never delays the daemon's accept loop, signals or watchdog pings, and
 * the daemon's loops need no knowledge of it. */
#ifndef SHUFFLED_SERVER_ADMIN_HTTP_H
#define SHUFFLED_SERVER_ADMIN_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* Admin actions supplied by the daemon (the block service implements them, protocol.md 9.5).
 * Called on the admin thread, never on an I/O loop, so they may delete files before
 * returning (later requests to the admin endpoint wait meanwhile). Return 0 on success;
 * -ENOENT if the application/executor is not registered (404); -EINVAL for an id they
 * refuse (400); any other negative errno is a 500. msg (initially "") may carry the
 * reason on failure or details on success (e.g. "removed 3 executors of app-1") for the
 * reply body. A NULL function answers 501. */
struct admin_actions {
    void *ctx;
    int (*remove_application)(void *ctx, const char *app_id, bool cleanup_local_dirs, char *msg,
                              size_t msglen);
    int (*remove_executor)(void *ctx, const char *app_id, const char *exec_id, char *msg,
                           size_t msglen);
    /* The applications as a JSON document (malloc'd; NULL: out of memory, a 500). */
    char *(*apps_json)(void *ctx);
    /* Starts a reload (ctx unused: the daemon's, set by ops_runtime.c); msg says how. */
    int (*reload)(void *ctx, char *msg, size_t msglen);
};

/* 200 "serving"; 503 "starting", "draining" or "unhealthy" (an I/O loop is stuck). */
enum admin_health { ADMIN_STARTING, ADMIN_SERVING, ADMIN_DRAINING, ADMIN_UNHEALTHY };

struct admin_http;

/* Binds addr:port (addr NULL = "127.0.0.1"; port 0 = ephemeral) and starts the admin
 * thread. actions is copied; token (NULL or "" = none) is the bearer token the /admin/...
 * endpoints require (copied). Returns NULL with err filled (naming the address) when binding
 * fails. */
struct admin_http *admin_http_start(const char *addr, int port, const struct admin_actions *actions,
                                    const char *token, char *err, size_t errlen);
/* True when addr (numeric) is a loopback address: 127.0.0.0/8, ::1, or ::ffff:127.x.y.z. */
bool admin_addr_is_loopback(const char *addr);
/* The bound port (useful with port 0). */
int admin_http_port(const struct admin_http *a);
/* What /healthz reports; starts as ADMIN_STARTING. Callable from any thread. */
void admin_http_set_health(struct admin_http *a, enum admin_health h);
/* Stops the thread, closes the socket and frees a (NULL is a no-op). */
void admin_http_stop(struct admin_http *a);

#endif

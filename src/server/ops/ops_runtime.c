/* SPDX-License-Identifier: Apache-2.0 */
/* Operations runtime; see ops_runtime.h. */
#include <config.h>

#include "server/ops/ops_runtime.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/ops/admin_http.h"
#include "common/log.h"
#include "server/ops/loop_watchdog.h"
#include "server/ops/metrics.h"
#include "server/ops/sd.h"
#include "server/server.h"
#include "server/net/auth_secret.h"
#include "server/net/handler.h"
#include "server/net/worker.h"

#define STATUS_INTERVAL_SECONDS 10
#define HEARTBEAT_USEC 1000000 /* without systemd's watchdog */

struct ops_runtime {
    struct server *srv;
    struct admin_http *admin;
    struct loop_watchdog *wd;
    struct event *status_ev;
    bool watchdog_enabled; /* systemd expects WATCHDOG=1 */
    bool serving;          /* between ops_ready and ops_stopping */
    bool unhealthy;        /* an I/O loop missed its last heartbeat */
    uint64_t last_bytes;
    double last_time;
};

static void collect(void *arg)
{
    struct server *srv = arg;
    if (srv->handler->collect_metrics)
        srv->handler->collect_metrics(srv->handler->ctx);
    const struct shuffled_config *cfg = server_config(srv);
    static const enum metric_gauge used[3] = {MG_STREAM_BYTES, MG_INPUT_BYTES, MG_OUTPUT_BYTES};
    static const enum metric_gauge limit[3] = {MG_STREAM_BYTES_LIMIT, MG_INPUT_BYTES_LIMIT,
                                               MG_OUTPUT_BYTES_LIMIT};
    uint64_t limits[3] = {cfg->max_stream_bytes, cfg->max_input_bytes, cfg->max_output_bytes};
    for (int k = 0; k < 3; k++) {
        metrics_gauge_set(used[k], (int64_t)atomic_load(&srv->budget_used[k]));
        metrics_gauge_set(limit[k], (int64_t)limits[k]);
    }
    int64_t conns = (int64_t)atomic_load(&srv->conns);
    metrics_gauge_set(MG_ACTIVE_CONNECTIONS, conns);
    metrics_gauge_set(MG_REGISTERED_CONNECTIONS, conns);
    metrics_gauge_set(MG_CHUNKS_IN_FLIGHT, (int64_t)atomic_load(&srv->chunks_in_flight));
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void send_status(struct ops_runtime *o)
{
    collect(o->srv);
    uint64_t bytes = metrics_counter(MC_BLOCK_TRANSFER_BYTES);
    double t = now_seconds();
    double rate = t > o->last_time ? (double)(bytes - o->last_bytes) / (t - o->last_time) : 0;
    o->last_bytes = bytes;
    o->last_time = t;
    systemd_notify_status("%lld connections, %lld executors, %.1f MB/s sent, %lld chunks in flight",
                          (long long)metrics_gauge(MG_ACTIVE_CONNECTIONS),
                          (long long)metrics_gauge(MG_REGISTERED_EXECUTORS), rate / 1e6,
                          (long long)metrics_gauge(MG_CHUNKS_IN_FLIGHT));
}

static void status_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    send_status(arg);
}

static void post_to_worker(void *loops, int i, void (*fn)(void *), void *arg)
{
    struct server *srv = loops;
    worker_post(srv->workers[i], fn, arg);
}

/* The loop watchdog's verdict: ping systemd and report /healthz accordingly. */
static void loops_checked(void *ctx, int late_loop)
{
    struct ops_runtime *o = ctx;
    bool unhealthy = late_loop >= 0;
    if (!unhealthy && o->watchdog_enabled) {
        int r = systemd_notify_watchdog();
        if (r < 0)
            log_warn("cannot send the systemd watchdog ping: error %d", -r);
    }
    if (o->serving && o->admin && unhealthy != o->unhealthy)
        admin_http_set_health(o->admin, unhealthy ? ADMIN_UNHEALTHY : ADMIN_SERVING);
    o->unhealthy = unhealthy;
}

/* POST /admin/reload: a SIGHUP to ourselves, so the main loop reloads as for systemctl reload. */
static int request_reload(void *ctx, char *msg, size_t msglen)
{
    (void)ctx;
    if (kill(getpid(), SIGHUP) != 0) {
        int e = errno;
        snprintf(msg, msglen, "cannot signal the daemon: %s", strerror(e));
        return -e;
    }
    snprintf(msg, msglen, "reload requested (as SIGHUP); the log says what was applied");
    return 0;
}

struct ops_runtime *ops_start(struct server *srv, struct event_base *main_base,
                              const char *admin_listen, int admin_port,
                              const char *admin_token_file, char *err, size_t errlen)
{
    struct ops_runtime *o = calloc(1, sizeof(*o));
    char *token = NULL, why[512];
    if (!o) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!admin_listen)
        admin_listen = "127.0.0.1";
    if (admin_token_file && admin_token_file[0] &&
        auth_secret_read(admin_token_file, &token, why, sizeof why) != 0) {
        snprintf(err, errlen, "admin_token_file: %s", why);
        free(o);
        return NULL;
    }
    o->srv = srv;
    o->last_time = now_seconds();
    struct admin_actions actions = {0};
    if (srv->handler->admin_actions)
        actions = *srv->handler->admin_actions(srv->handler->ctx);
    actions.reload = request_reload;
    o->admin = admin_http_start(admin_listen, admin_port, &actions, token, err, errlen);
    if (token) {
        explicit_bzero(token, strlen(token));
        free(token);
    }
    if (!o->admin) {
        free(o);
        return NULL;
    }
    metrics_set_collector(collect, srv);
    log_info("admin http on %s:%d (/metrics, /healthz, /admin/...%s)", admin_listen,
             admin_http_port(o->admin),
             admin_token_file && admin_token_file[0] ? " with a bearer token" : "");
    if (!(admin_token_file && admin_token_file[0]) && !admin_addr_is_loopback(admin_listen))
        log_warn("admin_listen %s is not a loopback address and no admin_token_file is set: "
                 "the /admin/... actions answer 403 (set admin_token_file to enable them)",
                 admin_listen);

    /* Heartbeats run without systemd too: /healthz reports a stuck loop. */
    uint64_t wd_usec = systemd_watchdog_usec();
    o->watchdog_enabled = wd_usec > 0;
    o->wd = loop_watchdog_create(main_base, o->watchdog_enabled ? wd_usec / 2 : HEARTBEAT_USEC,
                                 srv->nworkers, post_to_worker, srv, loops_checked, o);
    if (!o->wd)
        log_error("cannot start the loop heartbeats (out of memory)%s",
                  o->watchdog_enabled ? "; systemd will restart the service" : "");
    o->status_ev = event_new(main_base, -1, EV_PERSIST, status_cb, o);
    struct timeval tv = {STATUS_INTERVAL_SECONDS, 0};
    if (o->status_ev)
        event_add(o->status_ev, &tv);
    return o;
}

void ops_ready(struct ops_runtime *o)
{
    if (!o)
        return;
    send_status(o);
    int r = systemd_notify_ready();
    if (r < 0)
        log_warn("cannot notify systemd of readiness: error %d", -r);
    o->serving = true;
    if (o->admin)
        admin_http_set_health(o->admin, o->unhealthy ? ADMIN_UNHEALTHY : ADMIN_SERVING);
}

void ops_reloading(struct ops_runtime *o)
{
    if (!o)
        return;
    systemd_notify_reloading();
}

void ops_reloaded(struct ops_runtime *o)
{
    if (!o)
        return;
    send_status(o);
    systemd_notify_ready();
}

void ops_stopping(struct ops_runtime *o)
{
    if (!o)
        return;
    o->serving = false;
    loop_watchdog_stop(o->wd);
    if (o->admin) /* before STOPPING=1: whoever sees that sees "draining" too */
        admin_http_set_health(o->admin, ADMIN_DRAINING);
    systemd_notify_stopping();
    systemd_notify_status("stopping: draining %lld connections",
                          (long long)atomic_load(&o->srv->conns));
    if (o->status_ev)
        event_del(o->status_ev);
}

void ops_free(struct ops_runtime *o)
{
    if (!o)
        return;
    admin_http_stop(o->admin);
    metrics_set_collector(NULL, NULL);
    loop_watchdog_free(o->wd);
    if (o->status_ev)
        event_free(o->status_ev);
    free(o);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* app_ttl_ms: activity noted per RPC and per connection, the sweep timer, the removals; see
 * app_expiry.h. */
#include <config.h>

#include "server/block/app_expiry.h"

#include <event2/event.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "server/block/cleanup.h"
#include "server/net/conn.h"
#include "server/ops/metrics.h"
#include "server/stream/blocking_pool.h"

#define SWEEP_OFF_MS 1000 /* how often an app_ttl_ms of 0 is looked at again (SIGHUP) */
#define SWEEP_MIN_MS 10
#define SWEEP_MAX_MS 10000

struct app_expiry {
    struct resolver *res;
    struct registry_store *store;
    struct app_activity *activity;
    atomic_uint_fast64_t ttl_ms;
    atomic_bool cleanup_local_dirs;
    struct event *timer; /* on the main loop */
    struct blocking_pool *pool;
    app_removed_fn on_removed; /* optional */
    void *on_removed_arg;
};

/* The applications one connection named, each with the generation of the entry it holds. */
struct held_apps {
    struct app_activity *activity;
    size_t n, cap;
    struct held {
        char *app;
        uint64_t gen;
    } * v;
};

static void restore_one(void *arg, const char *app, const char *exec,
                        const struct executor_info *info)
{
    (void)exec;
    (void)info;
    app_activity_add(arg, app, app_activity_now_ms()); /* out of memory: never expires */
}

struct app_expiry *app_expiry_create(struct resolver *r, struct registry_store *store)
{
    struct app_expiry *x = calloc(1, sizeof(*x));
    if (!x || !(x->activity = app_activity_create())) {
        free(x);
        return NULL;
    }
    x->res = r;
    x->store = store;
    atomic_init(&x->ttl_ms, 0);
    atomic_init(&x->cleanup_local_dirs, false);
    /* the clock of every reloaded application starts now, not at its last activity before
     * the restart (not recorded) */
    resolver_foreach(r, restore_one, x->activity);
    return x;
}

void app_expiry_destroy(struct app_expiry *x)
{
    if (!x)
        return;
    if (x->timer)
        event_free(x->timer);
    app_activity_destroy(x->activity);
    free(x);
}

void app_expiry_configure(struct app_expiry *x, uint64_t ttl_ms, bool cleanup_local_dirs)
{
    atomic_store(&x->ttl_ms, ttl_ms);
    atomic_store(&x->cleanup_local_dirs, cleanup_local_dirs);
}

uint64_t app_expiry_ttl_ms(struct app_expiry *x)
{
    return atomic_load(&x->ttl_ms);
}

bool app_expiry_cleans_local_dirs(struct app_expiry *x)
{
    return atomic_load(&x->cleanup_local_dirs);
}

struct app_activity *app_expiry_activity(struct app_expiry *x)
{
    return x->activity;
}

/* ---- activity ---- */

static void release_held(struct conn *c, void *state)
{
    (void)c;
    struct held_apps *h = state;
    uint64_t now = app_activity_now_ms();
    for (size_t i = 0; i < h->n; i++) {
        app_activity_hold(h->activity, h->v[i].app, h->v[i].gen, -1, now);
        free(h->v[i].app);
    }
    free(h->v);
    free(h);
}

/* Adds app (entry gen) to h, or renews it when its entry was made again since. */
static void add_held(struct held_apps *h, const char *app, uint64_t gen, uint64_t now)
{
    for (size_t i = 0; i < h->n; i++) {
        if (strcmp(h->v[i].app, app) != 0)
            continue;
        if (h->v[i].gen != gen) { /* removed and registered again since */
            h->v[i].gen = gen;
            app_activity_hold(h->activity, app, gen, 1, now);
        }
        return;
    }
    if (h->n == h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 2;
        struct held *more = realloc(h->v, nc * sizeof(*more));
        if (!more)
            return; /* out of memory: the RPC was activity all the same */
        h->v = more;
        h->cap = nc;
    }
    if (!(h->v[h->n].app = strdup(app)))
        return;
    h->v[h->n++].gen = gen;
    app_activity_hold(h->activity, app, gen, 1, now);
}

/* c holds app's entry gen until it closes (once per generation). */
static void hold(struct app_expiry *x, struct conn *c, const char *app, uint64_t gen, uint64_t now)
{
    struct held_apps *h = conn_attachment(c, CONN_ATTACH_APPS);
    bool fresh = !h;
    if (fresh && !(h = calloc(1, sizeof(*h))))
        return;
    h->activity = x->activity;
    add_held(h, app, gen, now);
    if (fresh)
        conn_attach(c, CONN_ATTACH_APPS, h, release_held);
}

void app_expiry_note(struct app_expiry *x, struct conn *c, const char *app)
{
    uint64_t now = app_activity_now_ms();
    uint64_t gen = app_activity_touch(x->activity, app, now);
    if (gen && c)
        hold(x, c, app, gen, now);
}

void app_expiry_registered(struct app_expiry *x, const char *app)
{
    app_activity_add(x->activity, app, app_activity_now_ms());
}

/* ---- removal ---- */

void app_expiry_on_removed(struct app_expiry *x, app_removed_fn fn, void *arg)
{
    x->on_removed = fn;
    x->on_removed_arg = arg;
}

int app_expiry_remove(struct app_expiry *x, const char *app, bool cleanup_local_dirs,
                      const char *why, char *err, size_t errlen)
{
    /* forgotten first: a registration racing with the removal makes a new entry, so the
     * application is tracked again if it survives (an entry left without executors is
     * removed by a later sweep, quietly) */
    app_activity_forget(x->activity, app);
    if (x->on_removed)
        x->on_removed(x->on_removed_arg, app, cleanup_local_dirs);
    int n = cleanup_application_removed(x->res, x->store, app, cleanup_local_dirs, err, errlen);
    if (n > 0)
        log_info("application %s removed (%s): %d executor registration(s)%s", app, why, n,
                 cleanup_local_dirs ? "; its local dirs deleted (those it owns)"
                                    : "; local dirs kept");
    return n;
}

struct expiry_job {
    struct app_expiry *x;
    char *app;
};

/* On the blocking pool: the application is removed if still idle. */
static void expire_run(void *arg)
{
    struct expiry_job *j = arg;
    struct app_expiry *x = j->x;
    uint64_t ttl = atomic_load(&x->ttl_ms);
    if (ttl && app_activity_still_idle(x->activity, j->app, app_activity_now_ms(), ttl)) {
        char why[128], err[512] = "";
        snprintf(why, sizeof(why), "idle for app_ttl_ms %llu ms, no connection open",
                 (unsigned long long)ttl);
        int n = app_expiry_remove(x, j->app, atomic_load(&x->cleanup_local_dirs), why, err,
                                  sizeof(err));
        if (n > 0)
            metrics_inc(MC_APPS_EXPIRED);
        if (n < 0)
            log_error("application %s idle for app_ttl_ms: removal not recorded: %s", j->app, err);
    }
    free(j->app);
    free(j);
}

static uint64_t sweep_period_ms(uint64_t ttl)
{
    if (ttl == 0)
        return SWEEP_OFF_MS;
    uint64_t p = ttl / 4;
    return p < SWEEP_MIN_MS ? SWEEP_MIN_MS : p > SWEEP_MAX_MS ? SWEEP_MAX_MS : p;
}

static void arm(struct app_expiry *x, uint64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(x->timer, &tv);
}

/* Main loop: memory only, O(applications). */
static void sweep(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct app_expiry *x = arg;
    uint64_t ttl = atomic_load(&x->ttl_ms);
    size_t n = 0;
    char **idle = ttl ? app_activity_idle(x->activity, app_activity_now_ms(), ttl, &n) : NULL;
    for (size_t i = 0; i < n; i++) {
        struct expiry_job *j = malloc(sizeof(*j));
        if (j) {
            *j = (struct expiry_job){x, idle[i]};
            if (blocking_pool_submit(x->pool, expire_run, j) == 0)
                continue;
            free(j);
        }
        /* not queued: end the claim so the next sweep tries again */
        app_activity_still_idle(x->activity, idle[i], 0, ttl);
        free(idle[i]);
    }
    free(idle);
    arm(x, sweep_period_ms(ttl));
}

int app_expiry_start(struct app_expiry *x, struct event_base *base, struct blocking_pool *pool)
{
    x->pool = pool;
    x->timer = evtimer_new(base, sweep, x);
    if (!x->timer)
        return -1;
    arm(x, sweep_period_ms(atomic_load(&x->ttl_ms)));
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* GET /admin/apps: what the registry holds per application, with its activity (app_ttl_ms),
 * as one JSON document:
 *   {"app_ttl_ms": N, "app_ttl_cleanup_local_dirs": B, "apps": {APP: {
 *      "executors": {EXEC: {"local_dirs": N, "sub_dirs": N, "shuffle_manager": S}},
 *      "executor_count": N, "local_dir_count": N (distinct dirs it owns),
 *      "open_connections": N, "idle_ms": N, "last_activity": "UTC ISO 8601",
 *      "expires_in_ms": N (null when app_ttl_ms is 0 or a connection is open)}}}
 * Keys sorted, so two listings compare line by line. */
#include <config.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/block/app_activity.h"
#include "server/block/app_expiry.h"
#include "server/block/block_service.h"

struct listing {
    json_t *apps; /* app id -> its object */
    json_t *dirs; /* app id -> {canonical dir: true}, for the distinct count */
    bool no_memory;
};

static json_t *child(json_t *parent, const char *key)
{
    json_t *o = json_object_get(parent, key);
    if (!o && json_object_set_new(parent, key, json_object()) == 0)
        o = json_object_get(parent, key);
    return o;
}

static void add_executor(void *arg, const char *app, const char *exec,
                         const struct executor_info *info)
{
    struct listing *l = arg;
    json_t *a = child(l->apps, app), *execs = a ? child(a, "executors") : NULL;
    json_t *owned = child(l->dirs, app);
    json_t *e = json_pack("{s:I, s:i, s:s}", "local_dirs", (json_int_t)info->n_dirs, "sub_dirs",
                          (int)info->sub_dirs, "shuffle_manager",
                          info->shuffle_manager ? info->shuffle_manager : "");
    if (!execs || !owned || !e || json_object_set_new(execs, exec, e) != 0) {
        l->no_memory = true;
        return;
    }
    for (uint32_t k = 0; k < info->n_dirs; k++) {
        const char *d = info->canonical_dirs ? info->canonical_dirs[k] : info->local_dirs[k];
        if (json_object_set_new(owned, d, json_true()) != 0)
            l->no_memory = true;
    }
}

static void utc_text(uint64_t unix_ms, char *buf, size_t len)
{
    time_t t = (time_t)(unix_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03uZ", (unsigned)(unix_ms % 1000));
}

/* Adds the counts and activity of each application listed. */
static int add_activity(struct listing *l, struct app_expiry *x)
{
    struct app_activity *act = app_expiry_activity(x);
    uint64_t ttl = app_expiry_ttl_ms(x), now = app_activity_now_ms();
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    uint64_t wall_ms = (uint64_t)wall.tv_sec * 1000u + (uint64_t)wall.tv_nsec / 1000000u;
    const char *app;
    json_t *a;
    json_object_foreach(l->apps, app, a)
    {
        struct app_activity_entry e = {app, now, 0};
        bool known = app_activity_get(act, app, &e);
        uint64_t idle = known && now > e.last_ms ? now - e.last_ms : 0;
        char when[40];
        utc_text(wall_ms - idle, when, sizeof(when));
        json_t *expires = ttl && e.open_connections == 0
                              ? json_integer((json_int_t)(idle >= ttl ? 0 : ttl - idle))
                              : json_null();
        if (json_object_set_new(
                a, "executor_count",
                json_integer((json_int_t)json_object_size(json_object_get(a, "executors")))) != 0 ||
            json_object_set_new(
                a, "local_dir_count",
                json_integer((json_int_t)json_object_size(json_object_get(l->dirs, app)))) != 0 ||
            json_object_set_new(a, "open_connections", json_integer(e.open_connections)) != 0 ||
            json_object_set_new(a, "idle_ms", json_integer((json_int_t)idle)) != 0 ||
            json_object_set_new(a, "last_activity", json_string(when)) != 0 ||
            json_object_set_new(a, "expires_in_ms", expires) != 0)
            return -1;
    }
    return 0;
}

char *block_service_apps_json(void *ctx)
{
    struct block_service *s = ctx;
    struct listing l = {json_object(), json_object(), false};
    json_t *doc = NULL;
    char *text = NULL;
    if (!l.apps || !l.dirs)
        goto out;
    resolver_foreach(s->res, add_executor, &l);
    if (l.no_memory || add_activity(&l, s->expiry) != 0)
        goto out;
    doc = json_pack("{s:I, s:b, s:O}", "app_ttl_ms", (json_int_t)app_expiry_ttl_ms(s->expiry),
                    "app_ttl_cleanup_local_dirs", app_expiry_cleans_local_dirs(s->expiry), "apps",
                    l.apps);
    if (doc)
        text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (text) { /* a final newline, as curl users expect */
        size_t n = strlen(text);
        char *lined = realloc(text, n + 2);
        if (lined) {
            memcpy(lined + n, "\n", 2);
            text = lined;
        }
    }
out:
    json_decref(doc);
    json_decref(l.apps);
    json_decref(l.dirs);
    return text;
}

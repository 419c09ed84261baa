/* SPDX-License-Identifier: Apache-2.0 */
/* The block service's operations hooks (rpc_handler's admin_actions, collect_metrics): admin
 * actions for the admin HTTP endpoint, and its gauges for /metrics and STATUS=. */
#include <config.h>

#include <errno.h>
#include <stdio.h>

#include "server/block/block_service.h"
#include "server/block/cleanup.h"
#include "server/push/merge_apps.h"
#include "server/block/index_cache.h"
#include "server/block/map_output_cache.h"
#include "server/ops/metrics.h"
#include "server/block/resolver.h"
#include "server/ops/admin_http.h"

int block_service_application_removed(struct block_service *s, const char *app, bool cleanup_dirs,
                                      char *err, size_t errlen)
{
    block_push_app_removed(s, app, cleanup_dirs);
    if (s->merge_apps) /* its merge dirs go with it (their files: the merge manager's) */
        merge_apps_remove(s->merge_apps, app, NULL);
    return cleanup_application_removed(s->res, s->store, app, cleanup_dirs, err, errlen);
}

long block_service_executor_removed(struct block_service *s, const char *app, const char *exec)
{
    return cleanup_executor_removed(s->res, app, exec, s->fetch_rdd_enabled);
}

/* On the admin thread: deleting local dirs here keeps every I/O loop free. */
static int admin_remove_application(void *ctx, const char *app, bool cleanup, char *msg,
                                    size_t msglen)
{
    char err[256] = "";
    int n = block_service_application_removed(ctx, app, cleanup, err, sizeof(err));
    if (n < 0) {
        snprintf(msg, msglen, "%s", err);
        return -EIO;
    }
    if (n == 0) {
        snprintf(msg, msglen, "application %s has no registered executors", app);
        return -ENOENT;
    }
    snprintf(msg, msglen, "removed %d executor(s) of %s%s", n, app,
             cleanup ? " and deleted their local dirs" : "");
    return 0;
}

static int admin_remove_executor(void *ctx, const char *app, const char *exec, char *msg,
                                 size_t msglen)
{
    long n = block_service_executor_removed(ctx, app, exec);
    if (n < 0) {
        snprintf(msg, msglen, "executor %s of %s is not registered", exec, app);
        return -ENOENT;
    }
    snprintf(msg, msglen, "deleted %ld non-shuffle file(s) of executor %s of %s", n, exec, app);
    return 0;
}

const struct admin_actions *block_service_admin_actions(void *ctx)
{
    static struct admin_actions a; /* one service per process; admin_http_start copies it */
    a = (struct admin_actions){ctx, admin_remove_application, admin_remove_executor};
    return &a;
}

void block_service_collect_metrics(void *ctx)
{
    struct block_service *s = ctx;
    struct index_cache *ic = resolver_index_cache(s->res);
    metrics_gauge_set(MG_REGISTERED_EXECUTORS, (int64_t)resolver_count(s->res));
    struct index_cache_stats st = index_cache_stats(ic);
    metrics_gauge_set(MG_INDEX_CACHE_BYTES, (int64_t)st.weight);
    metrics_counter_set(MC_INDEX_CACHE_HITS, st.hits);
    metrics_counter_set(MC_INDEX_CACHE_MISSES, st.misses);
    struct map_output_cache_stats mo = map_output_cache_stats(resolver_open_maps(s->res));
    metrics_gauge_set(MG_OPEN_MAP_OUTPUTS, (int64_t)mo.entries);
    metrics_counter_set(MC_OPEN_MAP_OUTPUTS_STALE, mo.dropped_stale);
}

/* The block service's operations hooks (service_admin.h): admin actions for the admin
 * HTTP endpoint, and its gauges for /metrics and STATUS=. */
#include <errno.h>
#include <stdio.h>

#include "server/block/block_service.h"
#include "server/block/index_cache.h"
#include "server/ops/metrics.h"
#include "server/block/resolver.h"
#include "server/ops/service_admin.h"

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

const struct admin_actions *shuffle_service_admin_actions(struct rpc_handler *h)
{
    static struct admin_actions a; /* one service per process; admin_http_start copies it */
    a = (struct admin_actions){block_service_of(h), admin_remove_application,
                               admin_remove_executor};
    return &a;
}

void shuffle_service_collect_metrics(struct rpc_handler *h)
{
    struct block_service *s = block_service_of(h);
    struct index_cache *ic = resolver_index_cache(s->res);
    metrics_gauge_set(MG_REGISTERED_EXECUTORS, (int64_t)resolver_count(s->res));
    struct index_cache_stats st = index_cache_stats(ic);
    metrics_gauge_set(MG_INDEX_CACHE_BYTES, (int64_t)st.weight);
    metrics_counter_set(MC_INDEX_CACHE_HITS, st.hits);
    metrics_counter_set(MC_INDEX_CACHE_MISSES, st.misses);
}

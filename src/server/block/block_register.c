/* SPDX-License-Identifier: Apache-2.0 */
/* RegisterExecutor (protocol.md 9): the request checked on the loop (dir syntax, counts), then
 * on the blocking pool the dirs checked against allowed_local_dir_roots, the registration
 * admitted and persisted before the reply, and push-based shuffle's merge dirs noted. */
#include <config.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "server/block/block_service.h"
#include "server/ops/metrics.h"
#include "server/push/merge_registration.h"

#define MAX_SUB_DIRS 65536

struct register_job {
    struct block_service *s;
    struct rpc_reply *reply;
    char *app, *exec;
    struct executor_info info;
    bool stored;
};

/* Syntax only (no disk): absolute, no NUL, no "." or ".." components. */
static bool dir_syntax_ok(const struct proto_bytes *d)
{
    if (!d->data || d->len == 0 || strlen(d->data) != d->len || d->data[0] != '/' ||
        d->len > PATH_MAX - 64)
        return false;
    for (const char *p = d->data; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return false;
    for (const char *p = d->data; (p = strchr(p, '/')); p++) {
        const char *q = p + 1;
        size_t n = strcspn(q, "/");
        if ((n == 1 && q[0] == '.') || (n == 2 && q[0] == '.' && q[1] == '.'))
            return false;
    }
    return true;
}

static bool under_root(const struct root_set *roots, const char *real)
{
    return path_under_roots(roots->dirs, roots->n, real);
}

static void register_run(void *arg)
{
    struct register_job *j = arg;
    char err[1024];
    const struct root_set *roots = resolver_roots(j->s->res);
    for (uint32_t i = 0; roots && roots->n && i < j->info.n_dirs; i++) {
        char *real = realpath(j->info.local_dirs[i], NULL);
        bool ok = real && under_root(roots, real);
        if (!ok) {
            snprintf(err, sizeof(err),
                     "java.lang.IllegalArgumentException: local dir %s of executor %s is %s "
                     "allowed_local_dir_roots",
                     j->info.local_dirs[i], j->exec, real ? "not under" : "missing, so not under");
            log_warn("RegisterExecutor(appId=%s, execId=%s) refused: %s", j->app, j->exec, err);
            free(real);
            rpc_reply_fail(j->reply, err);
            return;
        }
        free(real);
    }
    if (resolver_canonicalize(&j->info) < 0) { /* the dirs it would own, resolved once */
        rpc_reply_fail(j->reply, "java.lang.OutOfMemoryError: RegisterExecutor");
        return;
    }
    int rc = registry_store_put(j->s->store, j->app, j->exec, &j->info, err, sizeof(err));
    if (rc > 0) {
        static const enum metric_counter refused[] = {
            [RESOLVER_REFUSED_PER_APP] = MC_REGISTRATIONS_REFUSED_PER_APP,
            [RESOLVER_REFUSED_TOTAL] = MC_REGISTRATIONS_REFUSED_TOTAL,
            [RESOLVER_REFUSED_DIR_OWNED] = MC_REGISTRATIONS_REFUSED_DIR_OWNED,
        };
        if (rc != RESOLVER_NO_MEMORY)
            metrics_inc(refused[rc]);
        if (rc == RESOLVER_REFUSED_DIR_OWNED)
            log_warn("%s", err);
        else
            log_info("%s", err);
        rpc_reply_fail(j->reply, err);
        return;
    }
    if (rc < 0) {
        log_error("RegisterExecutor(appId=%s, execId=%s): %s", j->app, j->exec, err);
        char msg[1100];
        snprintf(msg, sizeof(msg), "java.io.IOException: %s", err);
        rpc_reply_fail(j->reply, msg);
        return;
    }
    log_info("RegisterExecutor(appId=%s, execId=%s): %u local dir(s), shuffle manager %s", j->app,
             j->exec, j->info.n_dirs, j->info.shuffle_manager);
    j->stored = true;
    app_expiry_registered(j->s->expiry, j->app);
    /* push-based shuffle: the executor stays registered even if its merge info is refused */
    int merge = j->s->merge_apps
                    ? merge_registration_note(j->s->merge_apps, j->app, &j->info, err, sizeof(err))
                    : 0;
    if (merge < 0) {
        rpc_reply_fail(j->reply, err);
        return;
    }
    static const uint8_t empty[1];
    rpc_reply_ok(j->reply, empty, 0);
    /* a newer attempt: the older one's merged files are deleted now, after the answer (as
     * Spark's cleanup task), not at the new attempt's first push */
    if (merge > 0)
        block_push_attempt_replaced(j->s, j->app);
}

static void register_done(struct conn *c, void *arg)
{
    struct register_job *j = arg;
    if (j->stored && c) /* the connection that registered app holds it */
        app_expiry_note(j->s->expiry, c, j->app);
    executor_info_free(&j->info);
    free(j->app);
    free(j->exec);
    free(j);
}

void block_register_executor(struct block_service *s, struct conn *c, struct rpc_reply *reply,
                             const struct blockmsg *m)
{
    const struct executor_shuffle_info *in = &m->u.register_executor.info;
    char err[512];
    if (in->local_dirs.count == 0 || in->sub_dirs_per_local_dir <= 0 ||
        in->sub_dirs_per_local_dir > MAX_SUB_DIRS) {
        snprintf(err, sizeof(err),
                 "java.lang.IllegalArgumentException: RegisterExecutor needs at least one local "
                 "dir and 1..%d subDirsPerLocalDir (got %u dirs, %d)",
                 MAX_SUB_DIRS, in->local_dirs.count, in->sub_dirs_per_local_dir);
        rpc_reply_fail(reply, err);
        return;
    }
    for (uint32_t i = 0; i < in->local_dirs.count; i++) {
        if (!dir_syntax_ok(&in->local_dirs.items[i])) {
            snprintf(err, sizeof(err),
                     "java.lang.IllegalArgumentException: local dir #%u is not an absolute, "
                     "normalized path: '%.200s'",
                     i, in->local_dirs.items[i].data ? in->local_dirs.items[i].data : "");
            rpc_reply_fail(reply, err);
            return;
        }
    }
    struct register_job *j = calloc(1, sizeof(*j));
    if (!j) {
        rpc_reply_fail(reply, "java.lang.OutOfMemoryError: RegisterExecutor");
        return;
    }
    j->s = s;
    j->reply = reply;
    j->app = strdup(m->u.register_executor.app_id.data);
    j->exec = strdup(m->u.register_executor.exec_id.data);
    j->info.local_dirs = calloc(in->local_dirs.count, sizeof(char *));
    j->info.sub_dirs = in->sub_dirs_per_local_dir;
    j->info.shuffle_manager = strdup(in->shuffle_manager.data ? in->shuffle_manager.data : "");
    bool ok = j->app && j->exec && j->info.local_dirs && j->info.shuffle_manager;
    for (uint32_t i = 0; ok && i < in->local_dirs.count; i++) {
        j->info.local_dirs[i] = strdup(in->local_dirs.items[i].data);
        ok = j->info.local_dirs[i] != NULL;
        j->info.n_dirs = i + 1;
    }
    if (!ok) {
        rpc_reply_fail(reply, "java.lang.OutOfMemoryError: RegisterExecutor");
        register_done(c, j);
        return;
    }
    conn_run_blocking(c, register_run, register_done, j);
}

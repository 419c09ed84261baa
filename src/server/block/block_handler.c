/* SPDX-License-Identifier: Apache-2.0 */
/* The shuffle RPCs (Spark's ExternalBlockHandler, protocol.md 9): dispatch, RemoveBlocks,
 * GetLocalDirsForExecutors, and Spark's replies to everything else (RegisterExecutor:
 * block_register.c); the service's lifecycle. Disk work
 * runs on the blocking pool via conn_run_blocking(); the event loop only
 * decodes, validates and touches memory. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/codec.h"
#include "server/block/block_service.h"
#include "server/block/blockid.h"
#include "server/block/diagnose.h"
#include "server/push/merge_apps.h"
#include "server/push/merge_registration.h"
#include "server/push/merged_fetch.h"
#include "common/log.h"
#include "server/ops/metrics.h"
#include "server/service.h"
#include "server/stream/file_open.h"

/* Bound on the dir bytes of one LocalDirsForExecutors reply: the same executor may be named
 * any number of times, so without it a few KB of request could make us copy and encode one
 * large registration thousands of times over. */
#define LOCAL_DIRS_REPLY_MAX (16u << 20)

struct block_service *block_service_of(struct rpc_handler *h)
{
    return (struct block_service *)h;
}

/* ---- RemoveBlocks ---- */

struct remove_job {
    struct block_service *s;
    struct rpc_reply *reply;
    char *app, *exec;
    char **names;
    uint32_t n;
};

static void remove_run(void *arg)
{
    struct remove_job *j = arg;
    char path[PATH_MAX], err[512];
    int32_t removed = 0;
    for (uint32_t i = 0; i < j->n; i++) {
        if (!file_name_is_safe(j->names[i], strlen(j->names[i]))) {
            log_warn("RemoveBlocks(appId=%s, execId=%s): refusing block name '%.100s'", j->app,
                     j->exec, j->names[i]);
            continue;
        }
        if (resolver_file_path(j->s->res, j->app, j->exec, j->names[i], path, sizeof(path), err,
                               sizeof(err)) < 0) {
            rpc_reply_fail(j->reply, err); /* unregistered meanwhile */
            return;
        }
        /* Delete through a dir fd opened refusing symlinks on the canonical dir that was
         * checked: a subdir swapped for a symlink afterwards cannot redirect the unlink. */
        char *slash = strrchr(path, '/');
        if (!slash)
            continue;
        *slash = 0; /* path: the sub-dir; the last component is the (single-component) name */
        const char *name = j->names[i];
        int confined = resolver_confine_path(j->s->res, path, sizeof(path), err, sizeof(err));
        if (confined < 0) {
            log_warn("RemoveBlocks(appId=%s, execId=%s): %s; not deleted", j->app, j->exec, err);
            continue;
        }
        int dir_fd = file_open_dir(path, confined == 1);
        if (dir_fd >= 0 && unlinkat(dir_fd, name, 0) == 0)
            removed++;
        else
            log_warn("Failed to delete block: %s/%s (%s)", path, name, strerror(errno));
        if (dir_fd >= 0)
            close(dir_fd);
    }
    /* no block of a deleted file may be served from a file kept open */
    resolver_forget_open_files(j->s->res, j->app, j->exec);
    struct blockmsg m = {.type = BLOCKMSG_BLOCKS_REMOVED};
    m.u.blocks_removed.num_removed_blocks = removed;
    block_reply_msg(j->reply, &m);
}

static void remove_done(struct conn *c, void *arg)
{
    struct remove_job *j = arg;
    for (uint32_t i = 0; i < j->n; i++)
        free(j->names[i]);
    free(j->names);
    free(j->app);
    free(j->exec);
    free(j);
}

static void handle_remove(struct block_service *s, struct conn *c, struct rpc_reply *reply,
                          const struct blockmsg *m)
{
    const char *app = m->u.remove_blocks.app_id.data, *exec = m->u.remove_blocks.exec_id.data;
    struct executor_info info;
    char err[512];
    if (resolver_get(s->res, app, exec, &info) < 0) {
        resolver_not_registered(app, exec, err, sizeof(err));
        rpc_reply_fail(reply, err);
        return;
    }
    executor_info_free(&info);
    const struct proto_string_array *ids = &m->u.remove_blocks.block_ids;
    struct remove_job *j = calloc(1, sizeof(*j));
    bool ok = j != NULL;
    if (ok) {
        j->s = s;
        j->reply = reply;
        j->app = strdup(app);
        j->exec = strdup(exec);
        j->names = calloc(ids->count ? ids->count : 1, sizeof(char *));
        ok = j->app && j->exec && j->names;
        for (uint32_t i = 0; ok && i < ids->count; i++) {
            /* an embedded NUL would cut the name: make it fail the safety check */
            const struct proto_bytes *b = &ids->items[i];
            j->names[i] = strdup(b->data && strlen(b->data) == b->len ? b->data : "/");
            ok = j->names[i] != NULL;
            j->n = i + 1;
        }
    }
    if (!ok) {
        rpc_reply_fail(reply, "java.lang.OutOfMemoryError: RemoveBlocks");
        if (j)
            remove_done(c, j);
        return;
    }
    conn_run_blocking(c, remove_run, remove_done, j);
}

/* ---- GetLocalDirsForExecutors (memory only) ---- */

/* The id under which a reducer on the merger's host asks for the merge dirs of push-based
 * shuffle (Spark 3.2+, SHUFFLE_MERGER_IDENTIFIER); never looked up as an executor. */
#define PUSH_MERGER_ID "shuffle-push-merger"

static bool is_push_merger(const struct proto_bytes *e)
{
    return e->data && e->len == sizeof PUSH_MERGER_ID - 1 && strcmp(e->data, PUSH_MERGER_ID) == 0;
}

/* As Spark's ExternalBlockHandler: the executors named (each must be registered), then, when
 * "shuffle-push-merger" is among the ids, the application's merge dirs under that id (push
 * off: Spark's NoOpMergedShuffleFileManager text; no merge dirs: RemoteBlockPushResolver's). */
static void handle_local_dirs(struct block_service *s, struct rpc_reply *reply,
                              const struct blockmsg *m)
{
    const char *app = m->u.get_local_dirs.app_id.data;
    const struct proto_string_array *execs = &m->u.get_local_dirs.exec_ids;
    uint32_t n = execs->count;
    struct executor_info *infos = calloc(n ? n : 1, sizeof(*infos));
    struct blockmsg r = {.type = BLOCKMSG_LOCAL_DIRS_FOR_EXECUTORS};
    int32_t *counts = calloc(n ? n : 1, sizeof(int32_t));
    struct proto_bytes *ids = calloc(n ? n : 1, sizeof(*ids));
    struct merge_dirs merged = {0};
    struct proto_bytes *dirs = NULL;
    bool want_merged = false;
    uint32_t got = 0, rows = 0, total = 0;
    uint64_t bytes = 0;
    char err[512];
    if (!infos || !counts || !ids) {
        rpc_reply_fail(reply, "java.lang.OutOfMemoryError: GetLocalDirsForExecutors");
        goto out;
    }
    for (uint32_t i = 0; i < n; i++) {
        const struct proto_bytes *e = &execs->items[i];
        if (is_push_merger(e)) {
            want_merged = true;
            continue;
        }
        if (!block_id_field_ok(e) || resolver_get(s->res, app, e->data, &infos[got]) < 0) {
            resolver_not_registered(app, block_id_field_ok(e) ? e->data : "?", err, sizeof(err));
            rpc_reply_fail(reply, err);
            goto out;
        }
        ids[rows] = *e;
        counts[rows++] = (int32_t)infos[got].n_dirs;
        total += infos[got].n_dirs;
        for (uint32_t d = 0; d < infos[got].n_dirs; d++)
            bytes += 4 + strlen(infos[got].local_dirs[d]);
        got++;
        if (bytes > LOCAL_DIRS_REPLY_MAX) {
            snprintf(err, sizeof(err),
                     "java.lang.IllegalArgumentException: GetLocalDirsForExecutors: the reply "
                     "for %u executor ids would exceed %u bytes of dirs",
                     n, LOCAL_DIRS_REPLY_MAX);
            rpc_reply_fail(reply, err);
            goto out;
        }
    }
    if (want_merged) {
        if (!s->merge_apps) {
            rpc_reply_fail(reply, "java.lang.UnsupportedOperationException: Cannot handle "
                                  "shuffle block merge");
            goto out;
        }
        if (merge_apps_get(s->merge_apps, app, &merged) < 0) {
            merge_apps_not_registered(app, err, sizeof(err));
            rpc_reply_fail(reply, err);
            goto out;
        }
        ids[rows] = (struct proto_bytes){(char *)PUSH_MERGER_ID, sizeof PUSH_MERGER_ID - 1};
        counts[rows++] = (int32_t)merged.n_dirs;
        total += merged.n_dirs;
    }
    dirs = calloc(total ? total : 1, sizeof(*dirs));
    if (!dirs) {
        rpc_reply_fail(reply, "java.lang.OutOfMemoryError: GetLocalDirsForExecutors");
        goto out;
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < got; i++)
        for (uint32_t d = 0; d < infos[i].n_dirs; d++)
            dirs[k++] = (struct proto_bytes){infos[i].local_dirs[d],
                                             (uint32_t)strlen(infos[i].local_dirs[d])};
    for (uint32_t d = 0; d < merged.n_dirs; d++)
        dirs[k++] = (struct proto_bytes){merged.dirs[d], (uint32_t)strlen(merged.dirs[d])};
    r.u.local_dirs.exec_ids = (struct proto_string_array){ids, rows}; /* borrowed */
    r.u.local_dirs.num_local_dirs_by_exec = (struct proto_int_array){counts, rows};
    r.u.local_dirs.all_local_dirs = (struct proto_string_array){dirs, total};
    block_reply_msg(reply, &r);
out:
    for (uint32_t i = 0; infos && i < got; i++)
        executor_info_free(&infos[i]);
    merge_dirs_free(&merged);
    free(dirs);
    free(infos);
    free(counts);
    free(ids);
}

/* ---- dispatch ---- */

/* The appId (and execId) a message carries, for the isolation and id checks. */
static void ids_of(const struct blockmsg *m, const struct proto_bytes **app,
                   const struct proto_bytes **exec)
{
    *app = *exec = NULL;
    switch (m->type) {
    case BLOCKMSG_OPEN_BLOCKS:
    case BLOCKMSG_REMOVE_BLOCKS:
        *app = &m->u.open_blocks.app_id;
        *exec = &m->u.open_blocks.exec_id;
        break;
    case BLOCKMSG_REGISTER_EXECUTOR:
        *app = &m->u.register_executor.app_id;
        *exec = &m->u.register_executor.exec_id;
        break;
    case BLOCKMSG_FETCH_SHUFFLE_BLOCKS:
        *app = &m->u.fetch_shuffle_blocks.app_id;
        *exec = &m->u.fetch_shuffle_blocks.exec_id;
        break;
    case BLOCKMSG_GET_LOCAL_DIRS_FOR_EXECUTORS:
        *app = &m->u.get_local_dirs.app_id;
        break;
    case BLOCKMSG_FINALIZE_SHUFFLE_MERGE:
        *app = &m->u.finalize_shuffle_merge.app_id;
        break;
    case BLOCKMSG_REMOVE_SHUFFLE_MERGE:
        *app = &m->u.remove_shuffle_merge.app_id;
        break;
    case BLOCKMSG_FETCH_SHUFFLE_BLOCK_CHUNKS:
        *app = &m->u.fetch_shuffle_block_chunks.app_id;
        *exec = &m->u.fetch_shuffle_block_chunks.exec_id;
        break;
    case BLOCKMSG_DIAGNOSE_CORRUPTION:
        *app = &m->u.diagnose_corruption.app_id;
        *exec = &m->u.diagnose_corruption.exec_id;
        break;
    default:
        break;
    }
}

static void handle_one_way(struct block_service *s, struct conn *c, const uint8_t *body, size_t len)
{
    struct blockmsg m;
    char why[256];
    const struct proto_bytes *app, *exec;
    if (s->push && len > 0 && body[0] == BLOCKMSG_REMOVE_SHUFFLE_MERGE &&
        blockmsg_decode(body, len, &m, why, sizeof(why)) == 0) {
        ids_of(&m, &app, &exec);
        const char *client = conn_client_id(c);
        if (block_id_field_ok(app) && (!client || strcmp(client, app->data) == 0))
            block_push_rpc(s, c, NULL, &m);
        else
            log_warn("%s: RemoveShuffleMerge for another or an invalid appId ignored",
                     conn_peer(c));
        blockmsg_free(&m);
        return;
    }
    log_debug("ignoring OneWayMessage (%zu bytes) from %s", len, c ? conn_peer(c) : "?");
}

static void on_rpc(void *ctx, struct conn *c, struct rpc_reply *reply, const uint8_t *body,
                   size_t len)
{
    struct block_service *s = ctx;
    struct blockmsg m;
    char err[1024];
    if (!reply) { /* OneWayMessage: RemoveShuffleMerge, else only logged (Mesos heartbeats) */
        handle_one_way(s, c, body, len);
        return;
    }
    if (len > 0 && body[0] >= BLOCKMSG_TYPE_COUNT) {
        snprintf(err, sizeof(err), "java.lang.IllegalArgumentException: Unknown message type: %d",
                 (int)(int8_t)body[0]);
        rpc_reply_fail(reply, err);
        return;
    }
    char why[512];
    if (blockmsg_decode(body, len, &m, why, sizeof(why)) < 0) {
        snprintf(err, sizeof(err), "java.lang.IllegalArgumentException: %s", why);
        rpc_reply_fail(reply, err);
        return;
    }
    const struct proto_bytes *app, *exec;
    ids_of(&m, &app, &exec);
    const char *client = conn_client_id(c);
    if (app && client && (!app->data || strcmp(client, app->data) != 0)) {
        snprintf(
            err, sizeof(err),
            "java.lang.SecurityException: Client for %s not authorized for application %.300s.",
            client, app->data ? app->data : "");
        rpc_reply_fail(reply, err);
        goto out;
    }
    if ((app && !block_id_field_ok(app)) || (exec && !block_id_field_ok(exec))) {
        snprintf(err, sizeof(err),
                 "java.lang.IllegalArgumentException: invalid %s in %s: ids must be 1-%d "
                 "printable ASCII bytes without '/', '\\\\', spaces, or be '.'/'..'",
                 app && !block_id_field_ok(app) ? "appId" : "execId", blockmsg_type_name(m.type),
                 BLOCKID_MAX_LEN);
        rpc_reply_fail(reply, err);
        goto out;
    }
    if (app)
        app_expiry_note(s->expiry, c, app->data);
    switch (m.type) {
    case BLOCKMSG_OPEN_BLOCKS:
        if (s->merge_apps && merged_open_blocks_wanted(&m))
            merged_open_chunks(s, c, reply, &m);
        else
            block_open_blocks(s, c, reply, &m);
        break;
    case BLOCKMSG_FETCH_SHUFFLE_BLOCKS:
        block_fetch_shuffle_blocks(s, c, reply, &m);
        break;
    case BLOCKMSG_REGISTER_EXECUTOR:
        block_register_executor(s, c, reply, &m);
        break;
    case BLOCKMSG_REMOVE_BLOCKS:
        handle_remove(s, c, reply, &m);
        break;
    case BLOCKMSG_GET_LOCAL_DIRS_FOR_EXECUTORS:
        handle_local_dirs(s, reply, &m);
        break;
    case BLOCKMSG_DIAGNOSE_CORRUPTION:
        block_diagnose_corruption(s, c, reply, &m);
        break;
    case BLOCKMSG_FETCH_SHUFFLE_BLOCK_CHUNKS:
        if (!s->merge_apps)
            goto unexpected;
        merged_fetch_chunks(s, c, reply, &m);
        break;
    case BLOCKMSG_FINALIZE_SHUFFLE_MERGE:
        if (!block_push_rpc(s, c, reply, &m))
            rpc_reply_fail(reply, "java.lang.UnsupportedOperationException: Cannot handle "
                                  "shuffle block merge");
        break;
    default:
    unexpected : {
        char desc[700];
        blockmsg_describe(&m, desc, sizeof(desc));
        snprintf(err, sizeof(err),
                 "java.lang.UnsupportedOperationException: Unexpected message: %s", desc);
        rpc_reply_fail(reply, err);
        break;
    }
    }
out:
    blockmsg_free(&m);
}

/* ---- lifecycle ---- */

static void service_destroy(void *ctx)
{
    struct block_service *s = ctx;
    app_expiry_destroy(s->expiry);
    block_push_stop(s);
    registry_store_close(s->store);
    merge_apps_destroy(s->merge_apps);
    resolver_destroy(s->res);
    while (s->roots) {
        struct root_set *older = s->roots->older;
        for (size_t i = 0; i < s->roots->n; i++)
            free(s->roots->dirs[i]);
        free(s->roots);
        s->roots = older;
    }
    free(s);
}

/* Canonical (realpath'ed) copies of cfg's allowed_local_dir_roots, or NULL with err set. */
static struct root_set *root_set_make(const struct shuffled_config *cfg, char *err, size_t errlen)
{
    size_t n = cfg->allowed_local_dir_roots_count;
    struct root_set *set = calloc(1, sizeof(*set) + n * sizeof(char *));
    if (!set) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const char *root = cfg->allowed_local_dir_roots[i];
        set->dirs[i] = realpath(root, NULL);
        if (!set->dirs[i]) {
            snprintf(err, errlen, "allowed_local_dir_roots: '%s': %s", root, strerror(errno));
            for (size_t k = 0; k < i; k++)
                free(set->dirs[k]);
            free(set);
            return NULL;
        }
        set->n = i + 1;
    }
    return set;
}

/* SIGHUP (handler.h): the new roots apply to every check that starts from now on. */
static int service_reload(void *ctx, const struct shuffled_config *cfg, char *err, size_t errlen)
{
    struct block_service *s = ctx;
    struct root_set *set = root_set_make(cfg, err, errlen);
    if (!set)
        return -1;
    set->older = s->roots;
    s->roots = set;
    resolver_set_roots(s->res, set);
    resolver_set_limits(s->res, cfg->max_executors_per_app, cfg->max_executors);
    app_expiry_configure(s->expiry, cfg->app_ttl_ms, cfg->app_ttl_cleanup_local_dirs);
    return 0;
}

/* The daemon is up: the app_ttl_ms sweep starts on its main loop. */
static int service_started(void *ctx, struct event_base *main_base, struct blocking_pool *pool,
                           char *err, size_t errlen)
{
    struct block_service *s = ctx;
    if (app_expiry_start(s->expiry, main_base, pool) != 0) {
        snprintf(err, errlen, "app_ttl_ms: cannot create the sweep timer");
        return -1;
    }
    return 0;
}

struct rpc_handler *shuffle_service_create(const struct shuffled_config *cfg, char *err,
                                           size_t errlen)
{
    struct block_service *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->handler.ctx = s;
    s->handler.on_rpc = on_rpc;
    s->handler.reload = service_reload;
    s->handler.admin_actions = block_service_admin_actions;
    s->handler.collect_metrics = block_service_collect_metrics;
    s->handler.destroy = service_destroy;
    s->handler.started = service_started;
    s->fetch_rdd_enabled = cfg->fetch_rdd_enabled;
    s->res = resolver_create(cfg->index_cache_bytes);
    if (!s->res) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    s->roots = root_set_make(cfg, err, errlen);
    if (!s->roots)
        goto fail;
    resolver_set_roots(s->res, s->roots);
    resolver_set_limits(s->res, cfg->max_executors_per_app, cfg->max_executors);
    struct registry_store_stats st;
    char why[512];
    s->store = registry_store_open(cfg->state_dir, s->res, &st, why, sizeof(why));
    if (!s->store) {
        snprintf(err, errlen, "state_dir: %s", why);
        goto fail;
    }
    registry_store_set_sync(s->store, cfg->state_sync);
    if (st.skipped_bytes)
        log_warn("%s/registrations.wal: skipped %zu bytes of damaged or partial records; "
                 "%zu records replayed",
                 cfg->state_dir, st.skipped_bytes, st.records);
    log_info("%zu executor registrations restored from %s", st.live, cfg->state_dir);
    s->expiry = app_expiry_create(s->res, s->store);
    if (!s->expiry) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    app_expiry_configure(s->expiry, cfg->app_ttl_ms, cfg->app_ttl_cleanup_local_dirs);
    app_expiry_on_removed(s->expiry, block_service_app_state_removed, s);
    if (cfg->push_enabled) { /* the merged fetch; merge dirs from every registration */
        s->merge_apps = merge_apps_create();
        if (!s->merge_apps) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        merge_registration_replay(s->merge_apps, s->res);
        s->handler.on_merged_meta = merged_meta_on_msg;
    }
    if (block_push_start(s, cfg, err, errlen) != 0)
        goto fail;
    return &s->handler;
fail:
    service_destroy(s);
    return NULL;
}

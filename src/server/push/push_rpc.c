/* SPDX-License-Identifier: Apache-2.0 */
/* The push service's life and its RPCs: FinalizeShuffleMerge (MergeStatuses) and
 * RemoveShuffleMerge, both on the blocking pool since they cut and delete files. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "server/net/conn.h"
#include "server/ops/config.h"
#include "server/ops/metrics.h"
#include "server/push/merge_compact.h"
#include "server/push/merge_journal.h"
#include "server/push/push_service.h"

struct push_service *push_service_create(const struct shuffled_config *cfg,
                                         struct merge_apps *attempts)
{
    struct push_service *ps = calloc(1, sizeof *ps);
    if (!ps)
        return NULL;
    struct merge_limits lim = {
        .min_chunk_bytes = cfg->push_min_chunk_bytes,
        .max_open_partitions = cfg->push_max_open_files / 3 ? cfg->push_max_open_files / 3 : 1,
        .max_partitions = cfg->push_max_partitions,
        .max_app_bytes = cfg->push_max_app_merge_bytes,
    };
    ps->max_deferred_bytes = cfg->push_max_deferred_bytes;
    pthread_mutex_init(&ps->spare_lock, NULL);
    ps->journal_sync = cfg->state_sync;
    loop_write_guard_init(&ps->loop_writes, LOOP_WRITE_GUARD_MAX_USEC, LOOP_WRITE_GUARD_PAUSE_USEC);
    ps->attempts = attempts;
    ps->merges = merge_manager_create(&lim, attempts);
    if (!ps->merges) {
        push_service_destroy(ps);
        return NULL;
    }
    return ps;
}

void push_service_destroy(struct push_service *ps)
{
    if (!ps)
        return;
    merge_manager_destroy(ps->merges);
    merge_journal_close(ps->journal);
    push_upload_spares_free(ps);
    pthread_mutex_destroy(&ps->spare_lock);
    free(ps);
}

int push_service_restore(struct push_service *ps, const struct shuffled_config *cfg, char *err,
                         size_t errlen)
{
    ps->journal = merge_journal_open(cfg->state_dir, cfg->state_sync, merge_manager_replay,
                                     &merge_manager_keeper, ps->merges, err, errlen);
    if (!ps->journal)
        return -1;
    merge_manager_set_journal(ps->merges, ps->journal); /* replay_done may journal */
    merge_manager_replay_done(ps->merges);
    if (!cfg->state_sync) { /* the loops' records: one write per read callback, before answers */
        static const struct conn_output_hooks hooks = {merge_journal_loop_begin,
                                                       merge_journal_loop_flush};
        conn_set_output_hooks(&hooks);
    }
    return 0;
}

struct merge_job {
    struct push_service *ps;
    struct rpc_reply *reply; /* NULL: RemoveShuffleMerge */
    char *app;
    int32_t attempt, shuffle, merge_id;
    uint64_t start_usec;
};

static void finalize_run(void *arg)
{
    struct merge_job *j = arg;
    struct blockmsg out;
    char err[1024];
    int rc = merge_manager_finalize(j->ps->merges, j->app, j->attempt, j->shuffle, j->merge_id,
                                    &out, err, sizeof err);
    /* before the answer, so a client that has it sees the count (failures timed too, as Spark) */
    metrics_observe_usec(MH_FINALIZE_LATENCY, metrics_now_usec() - j->start_usec);
    if (rc != 0) {
        rpc_reply_fail(j->reply, err);
        return;
    }
    struct proto_writer w;
    proto_writer_init(&w);
    blockmsg_encode(&w, &out);
    if (w.failed)
        rpc_reply_fail(j->reply, "java.lang.OutOfMemoryError: MergeStatuses");
    else
        rpc_reply_ok(j->reply, w.buf, w.len);
    proto_writer_free(&w);
    blockmsg_free(&out);
}

static void compact_run(void *arg)
{
    struct merge_job *j = arg;
    merge_manager_compact(j->ps->merges);
}

static void remove_run(void *arg)
{
    struct merge_job *j = arg;
    merge_manager_remove(j->ps->merges, j->app, j->attempt, j->shuffle, j->merge_id);
}

static void job_free(struct conn *c, void *arg)
{
    struct merge_job *j = arg;
    (void)c;
    free(j->app);
    free(j);
}

/* The finalize or removal is done: the connection's next frames may be read. */
static void merge_job_done(struct conn *c, void *arg)
{
    if (c)
        conn_hold_input(c, false);
    job_free(c, arg);
}

/* The finalize is answered: the connection's next frames may be read, and the journal is
 * compacted meanwhile on the pool if the finalized merge's commit records made that due. */
static void finalize_done(struct conn *c, void *arg)
{
    if (!c) {
        job_free(c, arg); /* the next finalize or removal compacts */
        return;
    }
    conn_hold_input(c, false);
    conn_run_blocking(c, compact_run, job_free, arg);
}

static struct merge_job *job_new(struct push_service *ps, struct rpc_reply *reply,
                                 const struct proto_bytes *app, int32_t attempt, int32_t shuffle,
                                 int32_t merge_id)
{
    struct merge_job *j = calloc(1, sizeof *j);
    char *name = j ? strdup(app->data ? app->data : "") : NULL;
    if (!name) {
        free(j);
        return NULL;
    }
    *j = (struct merge_job){ps, reply, name, attempt, shuffle, merge_id, metrics_now_usec()};
    return j;
}

void push_finalize(struct push_service *ps, struct conn *c, struct rpc_reply *reply,
                   const struct blockmsg *m)
{
    if (m->u.finalize_shuffle_merge.layout != BLOCKMSG_LAYOUT_32) {
        /* Spark 3.1's layout: answered as 3.1.2 does */
        rpc_reply_fail(
            reply, "java.lang.UnsupportedOperationException: Cannot handle shuffle block merge");
        return;
    }
    struct merge_job *j = job_new(
        ps, reply, &m->u.finalize_shuffle_merge.app_id, m->u.finalize_shuffle_merge.app_attempt_id,
        m->u.finalize_shuffle_merge.shuffle_id, m->u.finalize_shuffle_merge.shuffle_merge_id);
    if (!j) {
        rpc_reply_fail(reply, "java.lang.OutOfMemoryError: finalize");
        return;
    }
    /* Spark finalizes before it reads the connection's next frame (a push right behind is
     * too late): reading holds until the merge is finalized and answered */
    conn_hold_input(c, true);
    conn_run_blocking(c, finalize_run, finalize_done, j);
}

void push_remove_merge(struct push_service *ps, struct conn *c, const struct blockmsg *m)
{
    struct merge_job *j = job_new(
        ps, NULL, &m->u.remove_shuffle_merge.app_id, m->u.remove_shuffle_merge.app_attempt_id,
        m->u.remove_shuffle_merge.shuffle_id, m->u.remove_shuffle_merge.shuffle_merge_id);
    if (!j) {
        log_warn("%s: RemoveShuffleMerge dropped: out of memory", conn_peer(c));
        return;
    }
    /* Spark decides a removal before it reads the connection's next frame (a push or a
     * finalize of the removed merge that follows at once is too late or stale): reading
     * holds until it is done (its files deleted too). */
    conn_hold_input(c, true);
    conn_run_blocking(c, remove_run, merge_job_done, j);
}

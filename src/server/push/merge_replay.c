/* SPDX-License-Identifier: Apache-2.0 */
/* Rebuilding the merge manager's state from its journal at start (merge_manager.h,
 * merge_journal.h). Single-threaded: before the daemon serves. */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "server/push/merge_apps.h"
#include "server/push/merge_journal.h"
#include "server/push/merge_manager.h"
#include "server/push/merge_state.h"

/* A commit of an attempt a newer one replaced before the restart: the files it merged into
 * are deleted, as the replacing registration would have had them deleted (a crash may have
 * come first). merge_apps knows where they are from that attempt's registrations. */
static void unlink_superseded(struct merge_manager *m, const struct merge_journal_rec *r)
{
    static const enum merged_file kinds[] = {MERGED_DATA, MERGED_INDEX, MERGED_META};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char path[PATH_MAX];
        if (merge_apps_superseded_path(m->attempts, r->app, r->attempt, r->shuffle, r->merge_id,
                                       r->reduce, kinds[i], path, sizeof path) != 0)
            return;
        if (unlink(path) == 0)
            log_info("deleted %s of attempt %d of %s (a newer attempt registered)", path,
                     (int)r->attempt, r->app);
        else if (errno != ENOENT)
            log_warn("cannot delete %s of a replaced attempt: %s", path, strerror(errno));
    }
}

/* The state r belongs to, if r's attempt is still the app's current one. */
static struct app_entry *replay_app(struct merge_manager *m, const struct merge_journal_rec *r)
{
    char err[256];
    struct app_entry *a = merge_app_current(m, r->app, err, sizeof err);
    if (a && a->dirs.attempt_id != r->attempt && r->op == MJ_COMMIT)
        unlink_superseded(m, r);
    return a && a->dirs.attempt_id == r->attempt ? a : NULL;
}

void merge_manager_replay(void *arg, const struct merge_journal_rec *r)
{
    struct merge_manager *m = arg;
    pthread_mutex_lock(&m->lock);
    if (r->op == MJ_APP_REMOVED) {
        struct app_entry **pp = merge_find_app(m, r->app);
        if (*pp) {
            struct app_entry *a = *pp;
            *pp = a->next;
            merge_app_drop(m, a, false, NULL);
        }
        pthread_mutex_unlock(&m->lock);
        return;
    }
    struct app_entry *a = replay_app(m, r);
    struct shuffle_entry *s = a ? merge_find_shuffle(a, r->shuffle) : NULL;
    if (!a || (s && s->merge_id > r->merge_id && r->merge_id != -1)) {
        pthread_mutex_unlock(&m->lock);
        return; /* an older attempt's or a superseded merge's */
    }
    if (r->op == MJ_REMOVE) {
        /* Compaction may have dropped the removed merge's other records: the removal alone
         * still marks it done, so later pushes of it stay TOO_LATE. */
        if (!s && r->merge_id != -1)
            merge_shuffle_for(m, a, r->shuffle, r->merge_id, NULL);
        pthread_mutex_unlock(&m->lock);
        merge_manager_remove(m, r->app, r->attempt, r->shuffle, r->merge_id);
        return;
    }
    s = merge_shuffle_for(m, a, r->shuffle, r->merge_id, NULL);
    char err[256];
    struct merge_push_key k = {r->app,      r->attempt,   r->shuffle,
                               r->merge_id, r->map_index, r->reduce};
    if (s && r->op == MJ_COMMIT) {
        struct merge_claim *cl = merge_part_for(m, a, s, &k, true, err, sizeof err);
        if (cl) {
            uint64_t before = cl->p.data_pos;
            merge_partition_replay_commit(&cl->p, r->map_index, (uint64_t)r->end, r->chunk_closed);
            a->merged_bytes += cl->p.data_pos - before;
        } else
            log_warn("merge journal: %s", err);
    } else if (s && r->op == MJ_FINALIZE) {
        s->finalized = true;
        for (size_t i = 0; i < s->n; i++) {
            merge_part_closed(m, s->parts[i]);
            merge_partition_replay_finalize(&s->parts[i]->p);
        }
    }
    pthread_mutex_unlock(&m->lock);
}

void merge_manager_replay_done(struct merge_manager *m)
{
    pthread_mutex_lock(&m->lock);
    for (struct app_entry *a = m->apps; a; a = a->next)
        for (struct shuffle_entry *s = a->shuffles; s; s = s->next)
            for (size_t i = 0; i < s->n; i++)
                if (merge_partition_replay_done(&s->parts[i]->p) != 0)
                    log_warn("merge journal: cannot cut %s back", s->parts[i]->p.paths[0]);
    pthread_mutex_unlock(&m->lock);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Dropping merge state (merge_manager.h, merge_state.h): application removal,
 * RemoveShuffleMerge, a newer shuffleMergeId. What is dropped is taken out of the maps under
 * the manager's lock; its files are deleted and closed after the lock is released (the
 * trash), so pushes and finalizes of other merges go on meanwhile. Deleting a large merged
 * file frees its blocks, which may take a while. */
#include <config.h>

#include <pthread.h>
#include <stdlib.h>

#include "common/array_room.h"
#include "common/log.h"
#include "server/push/merge_apps.h"
#include "server/push/merge_compact.h"
#include "server/push/merge_journal.h"
#include "server/push/merge_journal_attempt.h"
#include "server/push/merge_journal_part.h"
#include "server/push/merge_removal.h"
#include "server/push/merge_state.h"

/* Takes cl's reference over into t; false out of memory (the caller deletes at once). */
static bool trash_add(struct merge_trash *t, struct merge_claim *cl, bool unlink)
{
    struct merge_claim **parts = array_room(t->parts, t->n, &t->cap, sizeof *parts);
    if (!parts)
        return false;
    t->parts = parts;
    cl->unlink_files = unlink;
    t->parts[t->n++] = cl;
    return true;
}

void merge_shuffle_drop_parts(struct merge_manager *m, struct shuffle_entry *s, bool unlink,
                              struct merge_trash *t)
{
    for (size_t i = 0; i < s->n; i++) {
        struct merge_claim *cl = s->parts[i];
        merge_part_retire(m, cl); /* its files closed when deleted or freed */
        pthread_mutex_lock(&cl->p.lock);
        cl->app->merged_bytes -= cl->p.data_pos; /* its bytes no longer count for the app */
        cl->dropped = true;                      /* a writer still holding it writes nothing more */
        uint64_t blocks = roaring_bitmap_get_cardinality(cl->p.maps);
        bool later = t && trash_add(t, cl, unlink);
        /* its commit records, or (finalized: those counted already) its partition record */
        if (t && blocks)
            t->dead_bytes += s->fold_counted ? merge_journal_part_bytes(cl->app->app, cl->p.maps)
                                             : blocks * merge_journal_commit_bytes(cl->app->app);
        if (!later && unlink)
            merge_partition_unlink(&cl->p);
        pthread_mutex_unlock(&cl->p.lock);
        if (!later)
            merge_part_unref(m, cl);
    }
    free(s->parts);
    s->parts = NULL;
    s->n = s->cap = 0;
    s->fold_counted = s->finalize_logged = false; /* no partition left to fold */
}

void merge_app_drop(struct merge_manager *m, struct app_entry *a, bool unlink,
                    struct merge_trash *t)
{
    while (a->shuffles) {
        struct shuffle_entry *s = a->shuffles;
        a->shuffles = s->next;
        merge_shuffle_drop_parts(m, s, unlink, t);
        free(s);
    }
    if (t && a->dirs_journaled) /* its attempt record goes at the next compaction */
        t->dead_bytes += merge_journal_attempt_bytes(a->app, &a->dirs);
    merge_app_unref(a); /* partitions still in t point to a: it goes with the last one */
}

void merge_trash_empty(struct merge_manager *m, struct merge_trash *t)
{
    for (size_t i = 0; i < t->n; i++) {
        struct merge_claim *cl = t->parts[i];
        if (m->drop_hook)
            m->drop_hook(m->drop_hook_arg);
        if (cl->unlink_files) {
            pthread_mutex_lock(&cl->p.lock); /* a finalize may still be cutting it */
            merge_partition_unlink(&cl->p);
            pthread_mutex_unlock(&cl->p.lock);
        }
    }
    if (t->n > 0) {
        pthread_mutex_lock(&m->lock);
        for (size_t i = 0; i < t->n; i++)
            merge_part_unref(m, t->parts[i]);
        pthread_mutex_unlock(&m->lock);
    }
    free(t->parts);
    if (m->journal && t->dead_bytes > 0) {
        merge_journal_note_dead(m->journal, t->dead_bytes);
        merge_manager_compact(m);
    }
    *t = (struct merge_trash){0};
}

void merge_manager_attempt_replaced(struct merge_manager *m, const char *app)
{
    struct merge_trash t = {0};
    int32_t current;
    pthread_mutex_lock(&m->lock);
    struct app_entry **pp = merge_find_app(m, app);
    struct app_entry *old = *pp;
    if (old && merge_apps_attempt(m->attempts, app, &current) == 1 &&
        old->dirs.attempt_id != current) {
        bool shared = merge_apps_share_dirs(m->attempts, app, &old->dirs);
        log_info("application %s: deleting the merged files of attempt %d (attempt %d registered)",
                 app, old->dirs.attempt_id, current);
        *pp = old->next;
        /* no journal record: replay skips records of an attempt that is not current, and
         * deletes their files where its attempt record (or a registration) says they are */
        merge_app_drop(m, old, true, shared ? NULL : &t);
    }
    pthread_mutex_unlock(&m->lock);
    merge_trash_empty(m, &t);
}

void merge_manager_app_removed(struct merge_manager *m, const char *app, bool cleanup)
{
    struct merge_trash t = {0};
    pthread_mutex_lock(&m->lock);
    struct app_entry **pp = merge_find_app(m, app);
    if (*pp) {
        struct app_entry *a = *pp;
        struct merge_journal_rec r = {
            .op = MJ_APP_REMOVED, .app = app, .attempt = a->dirs.attempt_id, .cleanup = cleanup};
        merge_note(m, &r);
        *pp = a->next;
        merge_app_drop(m, a, cleanup, &t);
    }
    pthread_mutex_unlock(&m->lock);
    merge_trash_empty(m, &t);
}

void merge_manager_set_drop_hook(struct merge_manager *m, void (*fn)(void *arg), void *arg)
{
    m->drop_hook = fn;
    m->drop_hook_arg = arg;
}

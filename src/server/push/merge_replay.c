/* SPDX-License-Identifier: Apache-2.0 */
/* Rebuilding the merge manager's state from its journal at start (merge_manager.h,
 * merge_journal.h). Single-threaded: before the daemon serves. Merged files of attempts a
 * newer one replaced are deleted here, where the attempt records say they are. */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/array_room.h"
#include "common/log.h"
#include "server/push/merge_apps.h"
#include "server/push/merge_journal.h"
#include "server/push/merge_manager.h"
#include "server/push/merge_replay_removed.h"
#include "server/push/merge_state.h"

/* A partition of an attempt that is not current, whose merge dirs were not known yet when its
 * commit was replayed (a journal of the previous version has the attempt record after it). */
struct merge_old_part {
    char *app;
    int32_t attempt, shuffle, merge_id, reduce;
};

/* A commit of an attempt a newer one replaced before the restart: the files it merged into
 * are deleted, as the replacing registration would have had them deleted (a crash may have
 * come first). merge_apps knows where they are from that attempt's record in the journal
 * (replayed before, as a rule) or its registrations. false when it does not (yet). */
static bool unlink_superseded(struct merge_manager *m, const char *app, int32_t attempt,
                              int32_t shuffle, int32_t merge_id, int32_t reduce)
{
    static const enum merged_file kinds[] = {MERGED_DATA, MERGED_INDEX, MERGED_META};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char path[PATH_MAX];
        if (merge_apps_superseded_path(m->attempts, app, attempt, shuffle, merge_id, reduce,
                                       kinds[i], path, sizeof path) != 0)
            return false;
        if (unlink(path) == 0)
            log_info("deleted %s of attempt %d of %s (a newer attempt registered)", path,
                     (int)attempt, app);
        else if (errno != ENOENT)
            log_warn("cannot delete %s of a replaced attempt: %s", path, strerror(errno));
    }
    return true;
}

/* Keeps r's partition for when its attempt's dirs are known (one entry per partition as
 * long as its commits come in a row). */
static void defer_old(struct merge_manager *m, const struct merge_journal_rec *r)
{
    struct merge_old_part *last = m->n_replay_old ? &m->replay_old[m->n_replay_old - 1] : NULL;
    if (last && last->attempt == r->attempt && last->shuffle == r->shuffle &&
        last->merge_id == r->merge_id && last->reduce == r->reduce && !strcmp(last->app, r->app))
        return;
    struct merge_old_part *grown =
        array_room(m->replay_old, m->n_replay_old, &m->cap_replay_old, sizeof *grown);
    if (!grown)
        goto oom;
    m->replay_old = grown;
    char *app = strdup(r->app);
    if (!app)
        goto oom;
    m->replay_old[m->n_replay_old++] =
        (struct merge_old_part){app, r->attempt, r->shuffle, r->merge_id, r->reduce};
    return;
oom:
    log_warn("merge journal: out of memory; merged files of attempt %d of %s may stay",
             (int)r->attempt, r->app);
}

/* The deferred partitions whose dirs are now known are deleted and forgotten. */
static void unlink_deferred(struct merge_manager *m)
{
    size_t kept = 0;
    for (size_t i = 0; i < m->n_replay_old; i++) {
        struct merge_old_part *o = &m->replay_old[i];
        if (unlink_superseded(m, o->app, o->attempt, o->shuffle, o->merge_id, o->reduce))
            free(o->app);
        else
            m->replay_old[kept++] = *o;
    }
    m->n_replay_old = kept;
}

/* Frees what the replay keeps until it is done (also m->replay_forget: what a replay that
 * did not finish left, at merge_manager_destroy). */
static void replay_forget(struct merge_manager *m)
{
    for (size_t i = 0; i < m->n_replay_old; i++)
        free(m->replay_old[i].app);
    free(m->replay_old);
    m->replay_old = NULL;
    m->n_replay_old = m->cap_replay_old = 0;
    merge_replay_removed_forget(m);
}

/* An attempt record: the current attempt's state starts (its record is there: the journal
 * keeps it); an older attempt's dirs are where its files a restart still finds are. */
static void replay_attempt(struct merge_manager *m, const struct merge_journal_rec *r)
{
    int32_t current;
    if (merge_apps_attempt(m->attempts, r->app, &current) != 1) {
        merge_replay_removed_note(m, r); /* the application was removed */
        return;
    }
    if (current == r->attempt) {
        char err[256];
        struct app_entry *a = merge_app_current(m, r->app, err, sizeof err);
        if (a)
            a->dirs_journaled = true;
    } else if (r->attempt < current) {
        /* taken as the older attempt's (the registration rule for an older attempt): the
         * superseded dirs, unless a newer older attempt's are known */
        if (merge_apps_register(m->attempts, r->app, r->dirs, NULL) < 0)
            log_warn("merge journal: out of memory for the dirs of attempt %d of %s",
                     (int)r->attempt, r->app);
        if (m->n_replay_old)
            unlink_deferred(m);
    }
}

/* A partition record: the finalized partition as it was (its files hold the chunks). */
static void replay_partition(struct merge_partition *p, const struct merge_journal_rec *r)
{
    roaring_bitmap_clear(p->maps);
    roaring_bitmap_or_inplace(p->maps, (const roaring_bitmap_t *)r->maps);
    roaring_bitmap_clear(p->chunk);
    p->data_pos = p->chunk_start = (uint64_t)r->end;
    p->index_pos = (uint64_t)r->index_len;
    p->meta_pos = (uint64_t)r->meta_len;
}

/* The state r belongs to, if r's attempt is still the app's current one. */
static struct app_entry *replay_app(struct merge_manager *m, const struct merge_journal_rec *r)
{
    char err[256];
    struct app_entry *a = merge_app_current(m, r->app, err, sizeof err);
    if (!a)
        merge_replay_removed_note(m, r); /* no merge dirs: no longer registered */
    if (a && a->dirs.attempt_id != r->attempt && (r->op == MJ_COMMIT || r->op == MJ_PARTITION) &&
        !unlink_superseded(m, r->app, r->attempt, r->shuffle, r->merge_id, r->reduce))
        defer_old(m, r);
    return a && a->dirs.attempt_id == r->attempt ? a : NULL;
}

void merge_manager_replay(void *arg, const struct merge_journal_rec *r)
{
    struct merge_manager *m = arg;
    pthread_mutex_lock(&m->lock);
    m->replay_forget = replay_forget;
    if (r->op == MJ_APP_REMOVED) {
        struct app_entry **pp = merge_find_app(m, r->app);
        struct app_entry *a = *pp; /* still registered: its state was rebuilt */
        if (a)
            *pp = a->next;
        merge_replay_removed_apply(m, r, a); /* its files, with cleanup: at the end */
        if (a)
            merge_app_drop(m, a, false, NULL);
        pthread_mutex_unlock(&m->lock);
        return;
    }
    merge_replay_removed_later(m, r);
    if (r->op == MJ_ATTEMPT) {
        replay_attempt(m, r);
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
    if (s && (r->op == MJ_COMMIT || r->op == MJ_PARTITION)) {
        struct merge_claim *cl = merge_part_for(m, a, s, r->reduce, true, err, sizeof err);
        if (cl) {
            uint64_t before = cl->p.data_pos;
            if (r->op == MJ_PARTITION)
                replay_partition(&cl->p, r);
            else
                merge_partition_replay_commit(&cl->p, r->map_index, (uint64_t)r->end,
                                              r->chunk_closed);
            a->merged_bytes += cl->p.data_pos - before;
        } else
            log_warn("merge journal: %s", err);
    } else if (s && r->op == MJ_FINALIZE) {
        s->finalized = true;
        for (size_t i = 0; i < s->n; i++) {
            merge_part_retire(m, s->parts[i]);
            merge_part_closed(m, s->parts[i]); /* none open while replaying */
            merge_partition_replay_finalize(&s->parts[i]->p);
        }
    }
    pthread_mutex_unlock(&m->lock);
}

void merge_manager_replay_done(struct merge_manager *m)
{
    pthread_mutex_lock(&m->lock);
    if (m->n_replay_old) /* dirs neither journaled nor registered, or the current attempt's */
        log_warn("merge journal: merged files of %zu partitions of replaced attempts (the first "
                 "of %s) left as they are: no record says where they are, or their dirs are "
                 "the current attempt's",
                 m->n_replay_old, m->replay_old[0].app);
    merge_replay_removed_finish(m);
    replay_forget(m);
    for (struct app_entry *a = m->apps; a; a = a->next) {
        merge_note_attempt(m, a); /* replayed without its record: a previous version's journal */
        for (struct shuffle_entry *s = a->shuffles; s; s = s->next)
            for (size_t i = 0; i < s->n; i++)
                if (merge_partition_replay_done(&s->parts[i]->p) != 0)
                    log_warn("merge journal: cannot cut %s back", s->parts[i]->p.paths[0]);
    }
    pthread_mutex_unlock(&m->lock);
}

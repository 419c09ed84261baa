/* SPDX-License-Identifier: Apache-2.0 */
/* The merge manager's state (merge_state.h): finding entries, their references, journaling a
 * decision; used by merge_manager.c, merge_removal.c and merge_replay.c. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "server/push/merge_journal.h"
#include "server/push/merge_state.h"

void merge_app_unref(struct app_entry *a)
{
    if (--a->refs > 0)
        return;
    merge_dirs_free(&a->dirs);
    free(a->app);
    free(a);
}

/* Records r in the journal (if any); a failure is logged: the merge stands, but a restart
 * before finalize would drop it. */
void merge_note(struct merge_manager *m, const struct merge_journal_rec *r)
{
    char err[256];
    if (m->journal && merge_journal_append(m->journal, r, err, sizeof err) != 0)
        log_error("merge journal: %s", err);
}

/* Once per attempt the merge manager keeps state of (before any file of it is made): where
 * its files are, for a restart after a newer attempt re-registered every executor id. */
void merge_note_attempt(struct merge_manager *m, struct app_entry *a)
{
    char err[256];
    struct merge_journal_rec r = {
        .op = MJ_ATTEMPT, .app = a->app, .attempt = a->dirs.attempt_id, .dirs = &a->dirs};
    if (!m->journal || a->dirs_journaled)
        return;
    if (merge_journal_append(m->journal, &r, err, sizeof err) == 0)
        a->dirs_journaled = true;
    else
        log_error("merge journal: merge dirs of attempt %d of %s: %s (a restart after a newer "
                  "attempt registers may leave its merged files)",
                  (int)a->dirs.attempt_id, a->app, err);
}

/* A record about a whole merge (finalize, removal). */
void merge_note_merge(struct merge_manager *m, int op, const char *app, int32_t attempt,
                      int32_t shuffle, int32_t merge_id)
{
    struct merge_journal_rec r = {.op = (enum merge_journal_op)op,
                                  .app = app,
                                  .attempt = attempt,
                                  .shuffle = shuffle,
                                  .merge_id = merge_id};
    merge_note(m, &r);
}

/* Under m->lock. */
void merge_part_retire(struct merge_manager *m, struct merge_claim *cl)
{
    merge_open_files_hold(&m->files, &cl->files);
    if (cl->merging)
        m->merging_parts--;
    cl->merging = false;
}

/* Under m->lock. */
void merge_part_closed(struct merge_manager *m, struct merge_claim *cl)
{
    merge_open_files_closed(&m->files, &cl->files);
}

/* Under m->lock. */
void merge_part_unref(struct merge_manager *m, struct merge_claim *cl)
{
    if (--cl->refs > 0)
        return;
    merge_part_retire(m, cl);
    merge_part_closed(m, cl);
    merge_app_unref(cl->app);
    merge_partition_destroy(&cl->p);
    free(cl);
}

struct app_entry **merge_find_app(struct merge_manager *m, const char *app)
{
    struct app_entry **pp = &m->apps;
    while (*pp && strcmp((*pp)->app, app) != 0)
        pp = &(*pp)->next;
    return pp;
}

struct shuffle_entry *merge_find_shuffle(struct app_entry *a, int32_t shuffle)
{
    for (struct shuffle_entry *s = a->shuffles; s; s = s->next)
        if (s->shuffle_id == shuffle)
            return s;
    return NULL;
}

/* Index of reduce in s->parts, or where it would go (*found false). */
size_t merge_part_slot(const struct shuffle_entry *s, int32_t reduce, bool *found)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->parts[mid]->p.reduce_id < reduce)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < s->n && s->parts[lo]->p.reduce_id == reduce;
    return lo;
}

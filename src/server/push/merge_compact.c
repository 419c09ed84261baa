/* SPDX-License-Identifier: Apache-2.0 */
/* See merge_compact.h. */
#include <config.h>

#include "server/push/merge_compact.h"

#include <pthread.h>

#include "common/log.h"
#include "server/push/merge_journal.h"
#include "server/push/merge_journal_part.h"
#include "server/push/merge_state.h"

/* The live shuffle entry of r's merge (its attempt current, its merge id the shuffle's), or
 * NULL. Under m->lock. */
static struct shuffle_entry *merge_of(struct merge_manager *m, const char *app, int32_t attempt,
                                      int32_t shuffle, int32_t merge_id)
{
    struct app_entry *a = *merge_find_app(m, app);
    struct shuffle_entry *s =
        a && a->dirs.attempt_id == attempt ? merge_find_shuffle(a, shuffle) : NULL;
    return s && s->merge_id == merge_id ? s : NULL;
}

/* Whether every partition of s fits in one partition record. */
static bool parts_fit(const char *app, struct shuffle_entry *s)
{
    bool fit = true;
    for (size_t i = 0; fit && i < s->n; i++) {
        struct merge_partition *p = &s->parts[i]->p;
        pthread_mutex_lock(&p->lock);
        fit = merge_journal_part_bytes(app, p->maps) - 12 <= MERGE_JOURNAL_MAX_RECORD;
        pthread_mutex_unlock(&p->lock);
    }
    return fit;
}

/* A finalize record in the log being judged: its merge's commits may be folded. */
static void look(void *arg, const struct merge_journal_rec *r)
{
    struct merge_manager *m = arg;
    if (r->op != MJ_FINALIZE)
        return;
    pthread_mutex_lock(&m->lock);
    struct shuffle_entry *s = merge_of(m, r->app, r->attempt, r->shuffle, r->merge_id);
    if (s && s->finalized && !s->finalize_logged && parts_fit(r->app, s))
        s->finalize_logged = true;
    pthread_mutex_unlock(&m->lock);
}

/* One partition record per partition of s that merged anything, into out (r: s's finalize
 * record). */
static void fold(struct shuffle_entry *s, const struct merge_journal_rec *r,
                 struct proto_writer *out)
{
    for (size_t i = 0; i < s->n; i++) {
        struct merge_partition *p = &s->parts[i]->p;
        pthread_mutex_lock(&p->lock);
        struct merge_journal_rec part = {.op = MJ_PARTITION,
                                         .app = r->app,
                                         .attempt = r->attempt,
                                         .shuffle = r->shuffle,
                                         .merge_id = r->merge_id,
                                         .reduce = p->reduce_id,
                                         .end = (int64_t)p->data_pos,
                                         .index_len = (int64_t)p->index_pos,
                                         .meta_len = (int64_t)p->meta_pos,
                                         .maps = p->maps};
        if (!roaring_bitmap_is_empty(p->maps) && !merge_journal_encode(out, &part))
            out->failed = true; /* out of memory: this compaction fails, the old log stays */
        pthread_mutex_unlock(&p->lock);
    }
}

/* Whether the journal keeps r: the live state needs it. */
static bool keep(void *arg, const struct merge_journal_rec *r, struct proto_writer *out)
{
    struct merge_manager *m = arg;
    if (r->op == MJ_APP_REMOVED)
        return false;
    pthread_mutex_lock(&m->lock);
    struct app_entry *a = *merge_find_app(m, r->app);
    struct shuffle_entry *s = a && a->dirs.attempt_id == r->attempt && r->op != MJ_ATTEMPT
                                  ? merge_find_shuffle(a, r->shuffle)
                                  : NULL;
    /* an attempt's dirs: while its state is the manager's (an older attempt's files are
     * deleted when a newer one registers, or at the restart replaying its records) */
    bool keep = r->op == MJ_ATTEMPT ? a && a->dirs.attempt_id == r->attempt
                                    : s && (s->merge_id == r->merge_id || r->op == MJ_REMOVE);
    bool folded = keep && s && s->merge_id == r->merge_id && s->finalize_logged;
    if (keep && (r->op == MJ_COMMIT || r->op == MJ_PARTITION)) {
        bool found;
        merge_part_slot(s, r->reduce, &found); /* its partition is still there */
        keep = found && !folded;               /* folded: written again at the finalize */
    }
    if (keep && folded && r->op == MJ_FINALIZE) {
        fold(s, r, out);
        s->fold_counted = true; /* its records are those partition records from now on */
    }
    pthread_mutex_unlock(&m->lock);
    return keep;
}

const struct merge_journal_keeper merge_manager_keeper = {look, keep};

void merge_compact_finalized(struct merge_manager *m, const char *app, int32_t attempt,
                             int32_t shuffle, int32_t merge_id)
{
    struct shuffle_entry *s = merge_of(m, app, attempt, shuffle, merge_id);
    if (!m->journal || !s || !s->finalized || s->fold_counted)
        return;
    uint64_t dead = 0;
    for (size_t i = 0; i < s->n; i++) {
        struct merge_partition *p = &s->parts[i]->p;
        pthread_mutex_lock(&p->lock);
        uint64_t blocks = roaring_bitmap_get_cardinality(p->maps);
        uint64_t commits = blocks * merge_journal_commit_bytes(app);
        uint64_t part = blocks ? merge_journal_part_bytes(app, p->maps) : 0;
        if (commits > part)
            dead += commits - part;
        pthread_mutex_unlock(&p->lock);
    }
    s->fold_counted = true;
    merge_journal_note_dead(m->journal, dead);
}

void merge_manager_compact(struct merge_manager *m)
{
    if (m->journal)
        merge_journal_maybe_compact(m->journal, &merge_manager_keeper, m);
}

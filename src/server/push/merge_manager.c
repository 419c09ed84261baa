/* SPDX-License-Identifier: Apache-2.0 */
/* See merge_manager.h. One mutex guards the maps (apps -> shuffles -> partitions); a
 * partition's files are written outside it by its one writer (the claim) under the
 * partition's own lock. Entries are counted (refs) so a partition dropped by a newer merge or
 * a removal stays valid for the writer still holding it. */
#include <config.h>

#include "server/push/merge_manager.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "server/push/merge_bitmap.h"
#include "server/push/merge_compact.h"
#include "server/push/merge_journal.h"
#include "server/push/merge_partition.h"
#include "server/push/merge_state.h"

struct merge_manager *merge_manager_create(const struct merge_limits *lim,
                                           struct merge_apps *attempts)
{
    struct merge_manager *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    pthread_mutex_init(&m->lock, NULL);
    m->lim.min_chunk_bytes = lim->min_chunk_bytes;
    m->lim.max_partitions = lim->max_partitions;
    merge_open_files_init(&m->files, lim->max_open_partitions);
    m->lim.max_app_bytes = lim->max_app_bytes;
    m->attempts = attempts;
    return m;
}

void merge_manager_destroy(struct merge_manager *m)
{
    if (!m)
        return;
    while (m->apps) {
        struct app_entry *a = m->apps;
        m->apps = a->next;
        merge_app_drop(m, a, false, NULL);
    }
    if (m->replay_forget)
        m->replay_forget(m);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* The shuffle entry for merge_id, made current: a newer merge id drops the older merge's
 * partitions and files. NULL out of memory. */
struct shuffle_entry *merge_shuffle_for(struct merge_manager *m, struct app_entry *a,
                                        int32_t shuffle, int32_t merge_id, struct merge_trash *t)
{
    struct shuffle_entry *s = merge_find_shuffle(a, shuffle);
    if (s && s->merge_id >= merge_id)
        return s;
    if (s) {
        merge_shuffle_drop_parts(m, s, true, t);
        s->merge_id = merge_id;
        s->finalized = false;
    } else if ((s = calloc(1, sizeof *s)) != NULL) {
        s->shuffle_id = shuffle;
        s->merge_id = merge_id;
        s->next = a->shuffles;
        a->shuffles = s;
    }
    /* the read side refuses merged fetches of older merge ids from now on */
    if (s && merge_apps_note_merge_id(m->attempts, a->app, shuffle, merge_id) < 0)
        log_warn("no memory to note shuffle %d's merge id %d of %s", shuffle, merge_id, a->app);
    return s;
}

/* app's merge state for its current attempt (merge_apps.h): made on first use; state of an
 * older attempt is dropped with its files. NULL with err when app has no merge dirs. Under
 * m->lock. */
struct app_entry *merge_app_current(struct merge_manager *m, const char *app, char *err,
                                    size_t errlen)
{
    struct merge_dirs dirs;
    int32_t attempt;
    struct app_entry **pp = merge_find_app(m, app);
    /* the usual case, without copying the dirs: the state of the current attempt exists */
    if (*pp && merge_apps_attempt(m->attempts, app, &attempt) == 1 &&
        (*pp)->dirs.attempt_id == attempt)
        return *pp;
    if (merge_apps_get(m->attempts, app, &dirs) != 0) {
        merge_apps_not_registered(app, err, errlen);
        return NULL;
    }
    if (*pp && (*pp)->dirs.attempt_id == dirs.attempt_id) {
        merge_dirs_free(&dirs);
        return *pp;
    }
    if (*pp) { /* a newer attempt registered: the older one's merges go; at once, under the
                  lock, as the new attempt may create files of the same names next */
        struct app_entry *old = *pp;
        *pp = old->next;
        merge_app_drop(m, old, true, NULL);
    }
    struct app_entry *a = calloc(1, sizeof *a);
    if (!a || !(a->app = strdup(app))) {
        free(a);
        merge_dirs_free(&dirs);
        snprintf(err, errlen, "java.lang.OutOfMemoryError: merge state");
        return NULL;
    }
    a->dirs = dirs;
    a->refs = 1;
    a->next = m->apps;
    m->apps = a;
    merge_note_attempt(m, a);
    return a;
}

/* The verdict for k on its partition cl: duplicate, busy, or claimed; MERGE_NEED_POOL when
 * only_try and a commit holds the partition (it may be waiting for the journal), or when it
 * would be claimed and its files are closed (only the pool reopens them). Under m->lock. */
static enum merge_verdict claim_for(struct merge_manager *m, struct merge_claim *cl,
                                    const struct merge_push_key *k, bool only_try,
                                    struct merge_claim **claim)
{
    /* a commit may be adding to maps */
    if (!only_try)
        pthread_mutex_lock(&cl->p.lock);
    else if (pthread_mutex_trylock(&cl->p.lock) != 0)
        return MERGE_NEED_POOL;
    bool merged = roaring_bitmap_contains(cl->p.maps, (uint32_t)k->map_index);
    pthread_mutex_unlock(&cl->p.lock);
    if (merged)
        return MERGE_DUPLICATE;
    if (cl->writing)
        return MERGE_BUSY;
    if (only_try && !cl->files.open)
        return MERGE_NEED_POOL;
    merge_open_files_touch(&m->files, &cl->files);
    cl->writing = true;
    cl->map_index = k->map_index;
    cl->refs++;
    *claim = cl;
    return MERGE_WRITE;
}

enum merge_verdict merge_manager_push(struct merge_manager *m, const struct merge_push_key *k,
                                      uint64_t body_len, struct merge_claim **claim, char *err,
                                      size_t errlen)
{
    *claim = NULL;
    struct merge_trash t = {0};
    pthread_mutex_lock(&m->lock);
    enum merge_verdict v = MERGE_FAILED;
    struct app_entry *a = merge_app_current(m, k->app, err, errlen);
    struct shuffle_entry *s = NULL;
    if (!a)
        goto out;
    if (a->dirs.attempt_id != k->attempt) {
        v = MERGE_TOO_OLD_ATTEMPT;
        goto out;
    }
    s = merge_find_shuffle(a, k->shuffle);
    if (s && s->merge_id > k->merge_id) {
        v = MERGE_STALE;
        goto out;
    }
    if (s && s->merge_id == k->merge_id && s->finalized) {
        v = MERGE_TOO_LATE;
        goto out;
    }
    if (m->lim.max_app_bytes && a->merged_bytes + body_len > m->lim.max_app_bytes) {
        snprintf(err, errlen,
                 "java.lang.IllegalStateException: application %s has merged %llu bytes, a "
                 "block of %llu more is over push_max_app_merge_bytes",
                 k->app, (unsigned long long)a->merged_bytes, (unsigned long long)body_len);
        goto out;
    }
    if (!(s = merge_shuffle_for(m, a, k->shuffle, k->merge_id, &t))) {
        snprintf(err, errlen, "java.lang.OutOfMemoryError: shuffle entry");
        goto out;
    }
    struct merge_claim *cl = merge_part_for(m, a, s, k->reduce, false, err, errlen);
    if (cl)
        v = claim_for(m, cl, k, false, claim);
    if (v == MERGE_WRITE && merge_part_files_open(m, cl, err, errlen) != 0) {
        cl->writing = false; /* the claim given back: the push is refused */
        merge_part_unref(m, cl);
        *claim = NULL;
        v = MERGE_FAILED;
    }
out:
    pthread_mutex_unlock(&m->lock);
    merge_trash_empty(m, &t); /* an older merge of the shuffle's files */
    return v;
}

void merge_manager_journal_wait(struct merge_manager *m, uint64_t seq)
{
    char err[256];
    if (m->journal && seq && merge_journal_wait(m->journal, seq, err, sizeof err) != 0)
        log_error("merge journal: %s", err);
}

enum merge_verdict merge_manager_push_fast(struct merge_manager *m, const struct merge_push_key *k,
                                           uint64_t body_len, struct merge_claim **claim)
{
    *claim = NULL;
    if (pthread_mutex_trylock(&m->lock) != 0)
        return MERGE_NEED_POOL; /* held by disk work (creating files), or just busy */
    enum merge_verdict v = MERGE_NEED_POOL;
    int32_t attempt;
    struct app_entry *a = *merge_find_app(m, k->app);
    /* Anything that may create or delete files, or fail with a text, goes to the pool: the
     * app's first push or a new attempt, a new shuffle or merge id, a new partition, the
     * byte limit. The checks run in merge_manager_push's order. */
    if (!a || merge_apps_attempt(m->attempts, k->app, &attempt) != 1 ||
        a->dirs.attempt_id != attempt)
        goto out;
    if (attempt != k->attempt) {
        v = MERGE_TOO_OLD_ATTEMPT;
        goto out;
    }
    struct shuffle_entry *s = merge_find_shuffle(a, k->shuffle);
    if (s && s->merge_id > k->merge_id)
        v = MERGE_STALE;
    else if (s && s->merge_id == k->merge_id && s->finalized)
        v = MERGE_TOO_LATE;
    if (v != MERGE_NEED_POOL || !s || s->merge_id != k->merge_id ||
        (m->lim.max_app_bytes && a->merged_bytes + body_len > m->lim.max_app_bytes))
        goto out;
    bool found;
    size_t at = merge_part_slot(s, k->reduce, &found);
    if (found)
        v = claim_for(m, s->parts[at], k, true, claim);
out:
    pthread_mutex_unlock(&m->lock);
    return v;
}

int merge_claim_write(struct merge_claim *cl, const void *buf, size_t len, uint64_t at, char *err,
                      size_t errlen)
{
    pthread_mutex_lock(&cl->p.lock);
    /* Finalized or dropped meanwhile: the bytes go nowhere; the commit says why. */
    int rc = cl->dropped || cl->p.finalized
                 ? 0
                 : merge_partition_write(&cl->p, buf, len, at, err, errlen);
    pthread_mutex_unlock(&cl->p.lock);
    return rc;
}

static void claim_release(struct merge_manager *m, struct merge_claim *cl)
{
    pthread_mutex_lock(&m->lock);
    cl->writing = false;
    merge_part_unref(m, cl);
    pthread_mutex_unlock(&m->lock);
}

/* Gives the claim back and unlocks cl->p.lock (held). Without m->lock unless cl was dropped:
 * the shuffle's list lets go of its reference only after marking it dropped under p.lock, so
 * until then this reference is not the last. */
static void release_locked(struct merge_manager *m, struct merge_claim *cl)
{
    bool dropped = cl->dropped;
    if (!dropped) {
        cl->writing = false;
        cl->refs--;
    }
    pthread_mutex_unlock(&cl->p.lock);
    if (dropped)
        claim_release(m, cl);
}

/* merge_claim_commit with cl->p.lock held; unlocks it. wait_seq: the journal record is not
 * waited for when another thread is writing (merge_journal_append_nowait). */
static enum merge_verdict commit_locked(struct merge_manager *m, struct merge_claim *cl,
                                        uint64_t len, uint64_t *wait_seq, char *err, size_t errlen)
{
    enum merge_verdict v = MERGE_SUCCESS;
    if (cl->dropped) {
        v = MERGE_STALE;
    } else if (cl->p.finalized) {
        v = MERGE_TOO_LATE;
    } else if (merge_partition_commit(&cl->p, cl->map_index, len, m->lim.min_chunk_bytes, err,
                                      errlen) != 0) {
        v = MERGE_FAILED;
    } else {
        struct merge_journal_rec r = {MJ_COMMIT,
                                      cl->app->app,
                                      cl->app->dirs.attempt_id,
                                      cl->shuffle,
                                      cl->merge_id,
                                      cl->p.reduce_id,
                                      cl->map_index,
                                      (int64_t)cl->p.data_pos,
                                      cl->p.chunk_start == cl->p.data_pos,
                                      NULL,
                                      0,
                                      0,
                                      NULL,
                                      false};
        char jerr[256];
        if (!wait_seq || !m->journal)
            merge_note(m, &r);
        else if (merge_journal_append_nowait(m->journal, &r, wait_seq, jerr, sizeof jerr) < 0)
            log_error("merge journal: %s", jerr);
        cl->app->merged_bytes += len;
    }
    if (v != MERGE_SUCCESS && !cl->dropped)
        merge_partition_rollback(&cl->p);
    release_locked(m, cl);
    return v;
}

enum merge_verdict merge_claim_commit(struct merge_manager *m, struct merge_claim *cl, uint64_t len,
                                      char *err, size_t errlen)
{
    pthread_mutex_lock(&cl->p.lock);
    return commit_locked(m, cl, len, NULL, err, errlen);
}

enum merge_verdict merge_claim_finish(struct merge_manager *m, struct merge_claim *cl,
                                      const void *buf, size_t n, uint64_t at, uint64_t *wait_seq,
                                      char *err, size_t errlen)
{
    bool only_try = wait_seq != NULL;
    if (wait_seq)
        *wait_seq = 0;
    if (!only_try)
        pthread_mutex_lock(&cl->p.lock);
    else if (pthread_mutex_trylock(&cl->p.lock) != 0)
        return MERGE_NEED_POOL; /* a finalize or removal is at its files */
    if (!cl->dropped && !cl->p.finalized &&
        merge_partition_write(&cl->p, buf, n, at, err, errlen) != 0) {
        merge_partition_rollback(&cl->p);
        release_locked(m, cl);
        return MERGE_FAILED;
    }
    return commit_locked(m, cl, at + n, wait_seq, err, errlen);
}

void merge_claim_abort(struct merge_manager *m, struct merge_claim *cl)
{
    pthread_mutex_lock(&cl->p.lock);
    if (!cl->dropped && !cl->p.finalized)
        merge_partition_rollback(&cl->p);
    pthread_mutex_unlock(&cl->p.lock);
    claim_release(m, cl);
}

/* MergeStatuses of s's partitions that merged anything (finalizing them). */
static int statuses_of(struct merge_claim *const *parts, size_t nparts, int32_t shuffle,
                       int32_t merge_id, struct blockmsg *out, char *err, size_t errlen)
{
    struct proto_bytes *bitmaps = calloc(nparts ? nparts : 1, sizeof *bitmaps);
    int32_t *reduces = calloc(nparts ? nparts : 1, sizeof *reduces);
    int64_t *sizes = calloc(nparts ? nparts : 1, sizeof *sizes);
    uint32_t n = 0;
    int rc = (bitmaps && reduces && sizes) ? 0 : -1;
    if (rc != 0)
        snprintf(err, errlen, "java.lang.OutOfMemoryError: MergeStatuses");
    for (size_t i = 0; rc == 0 && i < nparts; i++) {
        struct merge_partition *p = &parts[i]->p;
        pthread_mutex_lock(&p->lock);
        rc = merge_partition_finalize(p, err, errlen);
        if (rc != 0) { /* left out, the others answered: Spark catches it per partition */
            log_warn("finalize of shuffle %d merge %d: %s; reduce %d left out", shuffle, merge_id,
                     err, p->reduce_id);
            rc = 0;
            pthread_mutex_unlock(&p->lock);
            continue;
        }
        uint8_t *bm = NULL;
        size_t len = 0;
        if (rc == 0 && !roaring_bitmap_is_empty(p->maps)) {
            rc = merge_bitmap_serialize(p->maps, true, &bm, &len);
            if (rc == 0) {
                bitmaps[n].data = (char *)bm;
                bitmaps[n].len = (uint32_t)len;
                reduces[n] = p->reduce_id;
                sizes[n] = (int64_t)p->data_pos;
                n++;
            } else {
                snprintf(err, errlen, "java.lang.OutOfMemoryError: bitmap");
            }
        }
        pthread_mutex_unlock(&p->lock);
    }
    out->type = BLOCKMSG_MERGE_STATUSES;
    out->u.merge_statuses.layout = BLOCKMSG_LAYOUT_32;
    out->u.merge_statuses.shuffle_id = shuffle;
    out->u.merge_statuses.shuffle_merge_id = merge_id;
    out->u.merge_statuses.bitmaps = bitmaps;
    out->u.merge_statuses.bitmap_count = n;
    out->u.merge_statuses.reduce_ids = (struct proto_int_array){reduces, n};
    out->u.merge_statuses.sizes = (struct proto_long_array){sizes, n};
    if (rc != 0)
        blockmsg_free(out);
    return rc;
}

int merge_manager_finalize(struct merge_manager *m, const char *app, int32_t attempt,
                           int32_t shuffle, int32_t merge_id, struct blockmsg *out, char *err,
                           size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct merge_trash t = {0};
    pthread_mutex_lock(&m->lock);
    int rc = -1;
    struct app_entry *a = merge_app_current(m, app, err, errlen);
    struct shuffle_entry *s;
    if (!a)
        goto out;
    if (a->dirs.attempt_id != attempt) {
        snprintf(err, errlen,
                 "java.lang.IllegalArgumentException: The attempt id %d in this "
                 "FinalizeShuffleMerge message does not match with the current attempt id %d "
                 "stored in shuffle service for application %s",
                 attempt, a->dirs.attempt_id, app);
        goto out;
    }
    s = merge_find_shuffle(a, shuffle);
    /* Spark refuses while the shuffle's merge is finalized, whatever the merge id (a second
     * finalize, one after its removal, or of a newer merge id nothing was pushed of yet) */
    if (s && (s->merge_id > merge_id || s->finalized)) {
        snprintf(err, errlen,
                 "java.lang.RuntimeException: Shuffle merge finalize request for shuffle %d "
                 "with shuffleMergeId %d is stale shuffle finalize request as shuffle blocks of "
                 "a higher shuffleMergeId for the shuffle is already being pushed",
                 shuffle, merge_id);
        goto out;
    }
    if (!(s = merge_shuffle_for(m, a, shuffle, merge_id, &t))) {
        snprintf(err, errlen, "java.lang.OutOfMemoryError: shuffle entry");
        goto out;
    }
    s->finalized = true; /* no push gets in from now on */
    /* The files are cut and closed outside the lock (pushes to other merges go on); the
     * partitions are held meanwhile, since a newer merge may drop them. */
    size_t n = s->n;
    struct merge_claim **parts = malloc((n ? n : 1) * sizeof *parts);
    if (!parts) {
        snprintf(err, errlen, "java.lang.OutOfMemoryError: finalize");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        parts[i] = s->parts[i];
        parts[i]->refs++;
        merge_part_retire(m, parts[i]); /* its files are finalize's to close */
    }
    pthread_mutex_unlock(&m->lock);
    rc = statuses_of(parts, n, shuffle, merge_id, out, err, errlen);
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < n; i++) {
        merge_part_closed(m, parts[i]); /* finalizing closed its files */
        merge_part_unref(m, parts[i]);
    }
    free(parts);
    if (rc == 0) {
        merge_note_merge(m, MJ_FINALIZE, app, attempt, shuffle, merge_id);
        merge_compact_finalized(m, app, attempt, shuffle, merge_id); /* commits to fold */
    }
out:
    pthread_mutex_unlock(&m->lock);
    merge_trash_empty(m, &t);
    return rc;
}

uint64_t merge_manager_open_partitions(struct merge_manager *m)
{
    pthread_mutex_lock(&m->lock);
    uint64_t n = m->files.open;
    pthread_mutex_unlock(&m->lock);
    return n;
}

uint64_t merge_manager_merging_partitions(struct merge_manager *m)
{
    pthread_mutex_lock(&m->lock);
    uint64_t n = m->merging_parts;
    pthread_mutex_unlock(&m->lock);
    return n;
}

/* ---- wiring ---- */

void merge_manager_set_journal(struct merge_manager *m, struct merge_journal *j)
{
    m->journal = j;
}

void merge_manager_set_resolver(struct merge_manager *m, struct resolver *res)
{
    m->res = res;
}

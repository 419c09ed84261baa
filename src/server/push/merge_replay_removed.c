/* SPDX-License-Identifier: Apache-2.0 */
/* See merge_replay_removed.h. */
#include <config.h>

#include "server/push/merge_replay_removed.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/array_room.h"
#include "common/log.h"
#include "server/block/blockid.h"
#include "server/push/merge_journal.h"
#include "server/push/merge_state.h"

struct removed_part {
    int32_t attempt, shuffle, merge_id, reduce;
};

/* What the journal says of an application no longer registered. */
struct merge_removed_app {
    char *app;
    struct merge_dirs *dirs; /* one per attempt record */
    size_t n_dirs;
    struct removed_part *parts; /* a partition once per run of its records */
    size_t n_parts, cap_parts;
    bool cleanup; /* its removal with cleanup replayed, no record of it after */
    struct merge_removed_app *next;
};

static void app_free(struct merge_removed_app *a)
{
    for (size_t i = 0; i < a->n_dirs; i++)
        merge_dirs_free(&a->dirs[i]);
    free(a->dirs);
    free(a->parts);
    free(a->app);
    free(a);
}

/* app's entry, by address for unlinking it (*pp NULL: none). Found, it moves to the front:
 * a journal's records of one application come in runs, each record looks its application up. */
static struct merge_removed_app **find(struct merge_manager *m, const char *app)
{
    struct merge_removed_app **pp = &m->replay_removed;
    while (*pp && strcmp((*pp)->app, app) != 0)
        pp = &(*pp)->next;
    struct merge_removed_app *a = *pp;
    if (!a || pp == &m->replay_removed)
        return pp;
    *pp = a->next;
    a->next = m->replay_removed;
    m->replay_removed = a;
    return &m->replay_removed;
}

static bool add_dirs(struct merge_removed_app *a, const struct merge_dirs *d)
{
    struct merge_dirs *grown = realloc(a->dirs, (a->n_dirs + 1) * sizeof *grown);
    if (!grown)
        return false;
    a->dirs = grown;
    if (merge_dirs_copy(&a->dirs[a->n_dirs], d) != 0)
        return false;
    a->dirs[a->n_dirs++].attempt_id = d->attempt_id;
    return true;
}

static bool add_part(struct merge_removed_app *a, const struct merge_journal_rec *r)
{
    struct removed_part p = {r->attempt, r->shuffle, r->merge_id, r->reduce};
    if (a->n_parts && !memcmp(&a->parts[a->n_parts - 1], &p, sizeof p))
        return true; /* the same partition's records in a row */
    struct removed_part *grown = array_room(a->parts, a->n_parts, &a->cap_parts, sizeof *grown);
    if (!grown)
        return false;
    a->parts = grown;
    a->parts[a->n_parts++] = p;
    return true;
}

void merge_replay_removed_later(struct merge_manager *m, const struct merge_journal_rec *r)
{
    struct merge_removed_app **pp = find(m, r->app), *a = *pp;
    if (!a || !a->cleanup)
        return;
    log_warn("merge journal: %s was removed with cleanup, then came back: its merged files from "
             "before are left as they are",
             a->app);
    *pp = a->next;
    app_free(a);
}

/* app's entry, made if new; NULL out of memory. */
static struct merge_removed_app *entry(struct merge_manager *m, const char *app)
{
    struct merge_removed_app **pp = find(m, app), *a = *pp;
    if (a)
        return a;
    if (!(a = calloc(1, sizeof *a)) || !(a->app = strdup(app))) {
        free(a);
        return NULL;
    }
    *pp = a;
    return a;
}

static void oom(const char *app)
{
    log_warn("merge journal: out of memory; merged files of %s may stay if it was removed", app);
}

void merge_replay_removed_note(struct merge_manager *m, const struct merge_journal_rec *r)
{
    if (r->op != MJ_ATTEMPT && r->op != MJ_COMMIT && r->op != MJ_PARTITION)
        return;
    if (!id_is_safe(r->app, strlen(r->app)))
        return; /* no file of it was made */
    struct merge_removed_app *a = entry(m, r->app);
    if (!a || !(r->op == MJ_ATTEMPT ? add_dirs(a, r->dirs) : add_part(a, r)))
        oom(r->app);
}

/* The partitions and dirs of the rebuilt state st, noted in a. */
static bool note_state(struct merge_removed_app *a, const struct app_entry *st)
{
    if (!add_dirs(a, &st->dirs))
        return false;
    for (const struct shuffle_entry *s = st->shuffles; s; s = s->next)
        for (size_t i = 0; i < s->n; i++) {
            struct merge_journal_rec r = {.attempt = st->dirs.attempt_id,
                                          .shuffle = s->shuffle_id,
                                          .merge_id = s->merge_id,
                                          .reduce = s->parts[i]->p.reduce_id};
            if (!add_part(a, &r))
                return false;
        }
    return true;
}

/* The dirs of attempt in a, or NULL. */
static const struct merge_dirs *dirs_of(const struct merge_removed_app *a, int32_t attempt)
{
    for (size_t i = a->n_dirs; i-- > 0;)
        if (a->dirs[i].attempt_id == attempt)
            return &a->dirs[i];
    return NULL;
}

/* Deletes the files of a's partitions whose dirs are known; how many were deleted. */
static size_t unlink_parts(const struct merge_removed_app *a, size_t *unknown)
{
    static const enum merged_file kinds[] = {MERGED_DATA, MERGED_INDEX, MERGED_META};
    size_t deleted = 0;
    for (size_t i = 0; i < a->n_parts; i++) {
        const struct removed_part *p = &a->parts[i];
        const struct merge_dirs *d = dirs_of(a, p->attempt);
        *unknown += d == NULL;
        for (size_t k = 0; d && k < sizeof kinds / sizeof kinds[0]; k++) {
            char path[PATH_MAX];
            if (merged_file_path(d, a->app, p->shuffle, p->merge_id, p->reduce, kinds[k], path,
                                 sizeof path) != 0)
                continue;
            if (unlink(path) == 0)
                deleted++;
            else if (errno != ENOENT)
                log_warn("cannot delete %s of removed application %s: %s", path, a->app,
                         strerror(errno));
        }
    }
    return deleted;
}

void merge_replay_removed_apply(struct merge_manager *m, const struct merge_journal_rec *r,
                                const struct app_entry *st)
{
    struct merge_removed_app **pp = find(m, r->app), *a = *pp;
    if (!r->cleanup) {
        if (a) {
            *pp = a->next;
            app_free(a);
        }
        return;
    }
    if (!(a = entry(m, r->app)) || (st && !note_state(a, st)))
        oom(r->app);
    if (a)
        a->cleanup = true;
}

void merge_replay_removed_finish(struct merge_manager *m)
{
    for (struct merge_removed_app *a = m->replay_removed; a; a = a->next) {
        if (!a->cleanup)
            continue;
        size_t unknown = 0, deleted = unlink_parts(a, &unknown);
        if (deleted)
            log_info("deleted %zu merged files of %s (removed with cleanup before the restart)",
                     deleted, a->app);
        if (unknown)
            log_warn("merge journal: %zu partitions of removed application %s left as they are: "
                     "no attempt record says where they are",
                     unknown, a->app);
    }
    merge_replay_removed_forget(m);
}

void merge_replay_removed_forget(struct merge_manager *m)
{
    while (m->replay_removed) {
        struct merge_removed_app *a = m->replay_removed;
        m->replay_removed = a->next;
        app_free(a);
    }
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Application attempts and their merge dirs; see merge_apps.h. */
#include <config.h>

#include "server/push/merge_apps.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array_room.h"

/* The newest shuffleMergeId noted for one shuffle. */
struct merge_id {
    int32_t shuffle_id, shuffle_merge_id;
};

struct merge_app {
    char *app;
    struct merge_dirs dirs;
    /* the newest older attempt registered (n_dirs 0: none): where its merged files were, for
     * deleting what a restart finds of them (merge_apps_superseded_path) */
    struct merge_dirs superseded;
    struct merge_id *merges; /* unordered; a few per application */
    size_t n_merges, cap_merges;
};

/* Applications sorted by id: found by binary search; registering a new application (rare:
 * once per application) moves the ones after it. */
struct merge_apps {
    pthread_mutex_t lock;
    struct merge_app *apps;
    size_t count, cap;
};

struct merge_apps *merge_apps_create(void)
{
    struct merge_apps *t = calloc(1, sizeof(*t));
    if (t)
        pthread_mutex_init(&t->lock, NULL);
    return t;
}

void merge_apps_destroy(struct merge_apps *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->count; i++) {
        merge_dirs_free(&t->apps[i].dirs);
        merge_dirs_free(&t->apps[i].superseded);
        free(t->apps[i].merges);
        free(t->apps[i].app);
    }
    free(t->apps);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* The index of app, or where it would go (*found false). */
static size_t find(const struct merge_apps *t, const char *app, bool *found)
{
    size_t lo = 0, hi = t->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(t->apps[mid].app, app);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* Inserts app with dirs (taken) at i. 0, or -1 out of memory (dirs left to the caller). */
static int insert_at(struct merge_apps *t, size_t i, const char *app, struct merge_dirs *dirs)
{
    struct merge_app *grown = array_room(t->apps, t->count, &t->cap, sizeof(*grown));
    if (!grown)
        return -1;
    t->apps = grown;
    char *name = strdup(app);
    if (!name)
        return -1;
    memmove(&t->apps[i + 1], &t->apps[i], (t->count - i) * sizeof(*t->apps));
    t->apps[i] = (struct merge_app){.app = name, .dirs = *dirs};
    t->count++;
    *dirs = (struct merge_dirs){0};
    return 0;
}

int merge_apps_register(struct merge_apps *t, const char *app, const struct merge_dirs *dirs,
                        struct merge_dirs *replaced)
{
    if (replaced)
        memset(replaced, 0, sizeof(*replaced));
    struct merge_dirs copy;
    if (merge_dirs_copy(&copy, dirs) < 0)
        return -1;
    int rc = 0;
    bool found;
    pthread_mutex_lock(&t->lock);
    size_t i = find(t, app, &found);
    if (!found) {
        rc = insert_at(t, i, app, &copy) < 0 ? -1 : 1;
    } else if (dirs->attempt_id != MERGE_NO_ATTEMPT &&
               dirs->attempt_id > t->apps[i].dirs.attempt_id) {
        struct merge_app *a = &t->apps[i];
        if (replaced && merge_dirs_copy(replaced, &a->dirs) < 0)
            memset(replaced, 0, sizeof(*replaced));
        merge_dirs_free(&a->superseded);
        a->superseded = a->dirs;
        a->dirs = copy;
        a->n_merges = 0; /* a new attempt merges anew */
        copy = (struct merge_dirs){0};
        rc = 1;
    } else if (dirs->attempt_id != MERGE_NO_ATTEMPT &&
               dirs->attempt_id < t->apps[i].dirs.attempt_id &&
               (t->apps[i].superseded.n_dirs == 0 ||
                dirs->attempt_id > t->apps[i].superseded.attempt_id)) {
        /* an older attempt's executor noted after the current one's (registrations replayed
         * at start come in no particular order) */
        merge_dirs_free(&t->apps[i].superseded);
        t->apps[i].superseded = copy;
        copy = (struct merge_dirs){0};
    }
    pthread_mutex_unlock(&t->lock);
    merge_dirs_free(&copy);
    return rc;
}

int merge_apps_get(struct merge_apps *t, const char *app, struct merge_dirs *out)
{
    int rc = -1;
    bool found;
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&t->lock);
    size_t i = find(t, app, &found);
    if (found)
        rc = merge_dirs_copy(out, &t->apps[i].dirs);
    pthread_mutex_unlock(&t->lock);
    return rc;
}

int merge_apps_attempt(struct merge_apps *t, const char *app, int32_t *attempt_id)
{
    bool found;
    pthread_mutex_lock(&t->lock);
    size_t i = find(t, app, &found);
    if (found)
        *attempt_id = t->apps[i].dirs.attempt_id;
    pthread_mutex_unlock(&t->lock);
    return found ? 1 : 0;
}

int merge_apps_file_path(struct merge_apps *t, const char *app, int32_t shuffle_id,
                         int32_t shuffle_merge_id, int32_t reduce_id, enum merged_file kind,
                         char *buf, size_t buflen, int32_t *attempt_id)
{
    int rc = 1;
    bool found;
    pthread_mutex_lock(&t->lock);
    size_t i = find(t, app, &found);
    if (found) {
        rc = merged_file_path(&t->apps[i].dirs, app, shuffle_id, shuffle_merge_id, reduce_id, kind,
                              buf, buflen);
        if (attempt_id)
            *attempt_id = t->apps[i].dirs.attempt_id;
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

/* Whether d and e share a merge dir (then files of one attempt may be the other's). */
static bool dirs_overlap(const struct merge_dirs *d, const struct merge_dirs *e)
{
    for (uint32_t i = 0; i < d->n_dirs; i++)
        for (uint32_t k = 0; k < e->n_dirs; k++)
            if (strcmp(d->dirs[i], e->dirs[k]) == 0)
                return true;
    return false;
}

int merge_apps_superseded_path(struct merge_apps *t, const char *app, int32_t attempt_id,
                               int32_t shuffle_id, int32_t shuffle_merge_id, int32_t reduce_id,
                               enum merged_file kind, char *buf, size_t buflen)
{
    int rc = 1;
    bool found;
    pthread_mutex_lock(&t->lock);
    size_t i = find(t, app, &found);
    const struct merge_app *a = found ? &t->apps[i] : NULL;
    if (a && a->superseded.n_dirs > 0 && a->superseded.attempt_id == attempt_id &&
        !dirs_overlap(&a->superseded, &a->dirs))
        rc = merged_file_path(&a->superseded, app, shuffle_id, shuffle_merge_id, reduce_id, kind,
                              buf, buflen);
    pthread_mutex_unlock(&t->lock);
    return rc;
}

bool merge_apps_share_dirs(struct merge_apps *t, const char *app, const struct merge_dirs *d)
{
    bool found, shared = false;
    pthread_mutex_lock(&t->lock);
    size_t i = find(t, app, &found);
    if (found)
        shared = dirs_overlap(&t->apps[i].dirs, d);
    pthread_mutex_unlock(&t->lock);
    return shared;
}

bool merge_apps_remove(struct merge_apps *t, const char *app, struct merge_dirs *out)
{
    struct merge_app gone = {0};
    bool found;
    pthread_mutex_lock(&t->lock);
    size_t i = find(t, app, &found);
    if (found) {
        gone = t->apps[i];
        memmove(&t->apps[i], &t->apps[i + 1], (t->count - i - 1) * sizeof(*t->apps));
        t->count--;
    }
    pthread_mutex_unlock(&t->lock);
    free(gone.app);
    free(gone.merges);
    merge_dirs_free(&gone.superseded);
    if (out)
        *out = gone.dirs;
    else
        merge_dirs_free(&gone.dirs);
    return found;
}

/* The entry of shuffle in a, or NULL. */
static struct merge_id *merge_of(struct merge_app *a, int32_t shuffle_id)
{
    for (size_t k = 0; k < a->n_merges; k++)
        if (a->merges[k].shuffle_id == shuffle_id)
            return &a->merges[k];
    return NULL;
}

int merge_apps_note_merge_id(struct merge_apps *t, const char *app, int32_t shuffle_id,
                             int32_t shuffle_merge_id)
{
    int rc = 0;
    bool found;
    pthread_mutex_lock(&t->lock);
    size_t i = find(t, app, &found);
    struct merge_app *a = found ? &t->apps[i] : NULL;
    struct merge_id *m = a ? merge_of(a, shuffle_id) : NULL;
    if (m) {
        if (shuffle_merge_id > m->shuffle_merge_id)
            m->shuffle_merge_id = shuffle_merge_id;
    } else if (a) {
        struct merge_id *grown = array_room(a->merges, a->n_merges, &a->cap_merges, sizeof(*grown));
        if (grown)
            a->merges = grown;
        if (a->n_merges < a->cap_merges)
            a->merges[a->n_merges++] = (struct merge_id){shuffle_id, shuffle_merge_id};
        else
            rc = -1;
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

int merge_apps_newest_merge_id(struct merge_apps *t, const char *app, int32_t shuffle_id,
                               int32_t *shuffle_merge_id)
{
    bool found;
    pthread_mutex_lock(&t->lock);
    size_t i = find(t, app, &found);
    struct merge_id *m = found ? merge_of(&t->apps[i], shuffle_id) : NULL;
    if (m)
        *shuffle_merge_id = m->shuffle_merge_id;
    pthread_mutex_unlock(&t->lock);
    return m != NULL;
}

size_t merge_apps_count(struct merge_apps *t)
{
    pthread_mutex_lock(&t->lock);
    size_t n = t->count;
    pthread_mutex_unlock(&t->lock);
    return n;
}

void merge_apps_not_registered(const char *app, char *err, size_t errlen)
{
    snprintf(err, errlen,
             "java.lang.IllegalArgumentException: application %s is not registered or NM was "
             "restarted.",
             app);
}

void merge_apps_stale_fetch(const char *what, int32_t shuffle_id, int32_t shuffle_merge_id,
                            int32_t reduce_id, char *err, size_t errlen)
{
    snprintf(err, errlen,
             "java.lang.RuntimeException: %s fetch for shuffle %d with shuffleMergeId %d reduceId "
             "%d is stale shuffle block fetch request as shuffle blocks of a higher "
             "shuffleMergeId for the shuffle is available",
             what, (int)shuffle_id, (int)shuffle_merge_id, (int)reduce_id);
}

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

struct merge_app {
    char *app;
    struct merge_dirs dirs;
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
    if (t->count == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        struct merge_app *grown = realloc(t->apps, cap * sizeof(*grown));
        if (!grown)
            return -1;
        t->apps = grown;
        t->cap = cap;
    }
    char *name = strdup(app);
    if (!name)
        return -1;
    memmove(&t->apps[i + 1], &t->apps[i], (t->count - i) * sizeof(*t->apps));
    t->apps[i] = (struct merge_app){name, *dirs};
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
        struct merge_dirs old = t->apps[i].dirs;
        t->apps[i].dirs = copy;
        copy = old;
        if (replaced) {
            *replaced = old;
            copy = (struct merge_dirs){0};
        }
        rc = 1;
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
    if (out)
        *out = gone.dirs;
    else
        merge_dirs_free(&gone.dirs);
    return found;
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

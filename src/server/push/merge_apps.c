/* SPDX-License-Identifier: Apache-2.0 */
/* Application attempts and their merge dirs; see merge_apps.h. A chained hash table keyed
 * by appId under one mutex. */
#include <config.h>

#include "server/push/merge_apps.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct merge_app {
    struct merge_app *next;
    char *app;
    struct merge_dirs dirs;
};

struct merge_apps {
    pthread_mutex_t lock;
    struct merge_app **buckets;
    size_t nbuckets, count;
};

static uint64_t app_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

struct merge_apps *merge_apps_create(void)
{
    struct merge_apps *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->nbuckets = 64;
    t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
    if (!t->buckets) {
        free(t);
        return NULL;
    }
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

static void app_free(struct merge_app *a)
{
    merge_dirs_free(&a->dirs);
    free(a->app);
    free(a);
}

void merge_apps_destroy(struct merge_apps *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nbuckets; i++)
        while (t->buckets[i]) {
            struct merge_app *a = t->buckets[i];
            t->buckets[i] = a->next;
            app_free(a);
        }
    free(t->buckets);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static struct merge_app **find(struct merge_apps *t, const char *app)
{
    struct merge_app **pp = &t->buckets[app_hash(app) % t->nbuckets];
    while (*pp && strcmp((*pp)->app, app) != 0)
        pp = &(*pp)->next;
    return pp;
}

/* Doubles the buckets when the table is fuller than one entry per bucket (best effort). */
static void grow(struct merge_apps *t)
{
    size_t nb = t->nbuckets * 2;
    struct merge_app **b = calloc(nb, sizeof(*b));
    if (!b)
        return;
    for (size_t i = 0; i < t->nbuckets; i++)
        while (t->buckets[i]) {
            struct merge_app *a = t->buckets[i];
            t->buckets[i] = a->next;
            size_t k = app_hash(a->app) % nb;
            a->next = b[k];
            b[k] = a;
        }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = nb;
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
    pthread_mutex_lock(&t->lock);
    struct merge_app **pp = find(t, app);
    struct merge_app *a = *pp;
    if (!a) {
        a = calloc(1, sizeof(*a));
        char *name = a ? strdup(app) : NULL;
        if (!name) {
            free(a);
            rc = -1;
        } else {
            a->app = name;
            a->dirs = copy;
            *pp = a;
            if (++t->count > t->nbuckets)
                grow(t);
            copy.dirs = NULL;
            rc = 1;
        }
    } else if (dirs->attempt_id != MERGE_NO_ATTEMPT && dirs->attempt_id > a->dirs.attempt_id) {
        if (replaced)
            *replaced = a->dirs;
        else
            merge_dirs_free(&a->dirs);
        a->dirs = copy;
        copy.dirs = NULL;
        rc = 1;
    }
    pthread_mutex_unlock(&t->lock);
    if (copy.dirs)
        merge_dirs_free(&copy);
    return rc;
}

int merge_apps_get(struct merge_apps *t, const char *app, struct merge_dirs *out)
{
    int rc = -1;
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&t->lock);
    struct merge_app *a = *find(t, app);
    if (a)
        rc = merge_dirs_copy(out, &a->dirs);
    pthread_mutex_unlock(&t->lock);
    return rc;
}

int merge_apps_file_path(struct merge_apps *t, const char *app, int32_t shuffle_id,
                         int32_t shuffle_merge_id, int32_t reduce_id, enum merged_file kind,
                         char *buf, size_t buflen, int32_t *attempt_id)
{
    int rc = 1;
    pthread_mutex_lock(&t->lock);
    struct merge_app *a = *find(t, app);
    if (a) {
        rc = merged_file_path(&a->dirs, app, shuffle_id, shuffle_merge_id, reduce_id, kind, buf,
                              buflen);
        if (attempt_id)
            *attempt_id = a->dirs.attempt_id;
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

bool merge_apps_remove(struct merge_apps *t, const char *app, struct merge_dirs *out)
{
    if (out)
        memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&t->lock);
    struct merge_app **pp = find(t, app), *a = *pp;
    if (a) {
        *pp = a->next;
        t->count--;
        if (out) {
            *out = a->dirs;
            a->dirs = (struct merge_dirs){0};
        }
    }
    pthread_mutex_unlock(&t->lock);
    if (a)
        app_free(a);
    return a != NULL;
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

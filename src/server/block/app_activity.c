/* SPDX-License-Identifier: Apache-2.0 */
/* Per-application activity for app_ttl_ms; see app_activity.h. A chained hash table of
 * entries keyed by application id, under one mutex. */
#include <config.h>

#include "server/block/app_activity.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct entry {
    struct entry *next;
    uint64_t hash, gen, last_ms;
    uint32_t open_connections;
    bool claimed; /* handed out by app_activity_idle, its removal pending */
    char app[];
};

struct app_activity {
    pthread_mutex_t lock;
    struct entry **buckets;
    size_t nbuckets, count;
    uint64_t next_gen;
};

static uint64_t hash_app(const char *app)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *s = app; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

uint64_t app_activity_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct app_activity *app_activity_create(void)
{
    struct app_activity *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->nbuckets = 64;
    a->buckets = calloc(a->nbuckets, sizeof(*a->buckets));
    if (!a->buckets) {
        free(a);
        return NULL;
    }
    pthread_mutex_init(&a->lock, NULL);
    return a;
}

void app_activity_destroy(struct app_activity *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nbuckets; i++)
        for (struct entry *e = a->buckets[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    free(a->buckets);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

/* Under the lock: the link to app's entry, or to the NULL ending its chain. */
static struct entry **find(struct app_activity *a, const char *app, uint64_t h)
{
    struct entry **pp = &a->buckets[h & (a->nbuckets - 1)];
    while (*pp && ((*pp)->hash != h || strcmp((*pp)->app, app) != 0))
        pp = &(*pp)->next;
    return pp;
}

static void grow(struct app_activity *a)
{
    size_t nb = a->nbuckets * 2;
    struct entry **b = calloc(nb, sizeof(*b));
    if (!b)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < a->nbuckets; i++)
        for (struct entry *e = a->buckets[i], *next; e; e = next) {
            next = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
        }
    free(a->buckets);
    a->buckets = b;
    a->nbuckets = nb;
}

uint64_t app_activity_add(struct app_activity *a, const char *app, uint64_t now_ms)
{
    uint64_t h = hash_app(app), gen = 0;
    size_t len = strlen(app);
    pthread_mutex_lock(&a->lock);
    struct entry **pp = find(a, app, h);
    if (!*pp) {
        struct entry *e = calloc(1, sizeof(*e) + len + 1);
        if (e) {
            memcpy(e->app, app, len + 1);
            e->hash = h;
            e->gen = ++a->next_gen;
            if (++a->count > a->nbuckets) {
                grow(a);
                pp = find(a, app, h);
            }
            *pp = e;
        }
    }
    if (*pp) {
        (*pp)->last_ms = now_ms;
        gen = (*pp)->gen;
    }
    pthread_mutex_unlock(&a->lock);
    return gen;
}

uint64_t app_activity_touch(struct app_activity *a, const char *app, uint64_t now_ms)
{
    uint64_t h = hash_app(app), gen = 0;
    pthread_mutex_lock(&a->lock);
    struct entry *e = *find(a, app, h);
    if (e) {
        e->last_ms = now_ms;
        gen = e->gen;
    }
    pthread_mutex_unlock(&a->lock);
    return gen;
}

void app_activity_hold(struct app_activity *a, const char *app, uint64_t gen, int delta,
                       uint64_t now_ms)
{
    uint64_t h = hash_app(app);
    pthread_mutex_lock(&a->lock);
    struct entry *e = *find(a, app, h);
    if (e && e->gen == gen && (delta > 0 || e->open_connections > 0)) {
        e->open_connections += (uint32_t)delta;
        e->last_ms = now_ms;
    }
    pthread_mutex_unlock(&a->lock);
}

void app_activity_forget(struct app_activity *a, const char *app)
{
    uint64_t h = hash_app(app);
    pthread_mutex_lock(&a->lock);
    struct entry **pp = find(a, app, h), *e = *pp;
    if (e) {
        *pp = e->next;
        a->count--;
        free(e);
    }
    pthread_mutex_unlock(&a->lock);
}

static bool idle(const struct entry *e, uint64_t now_ms, uint64_t ttl_ms)
{
    return e->open_connections == 0 && now_ms >= e->last_ms && now_ms - e->last_ms >= ttl_ms;
}

char **app_activity_idle(struct app_activity *a, uint64_t now_ms, uint64_t ttl_ms, size_t *n)
{
    char **ids = NULL;
    size_t cap = 0;
    *n = 0;
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < a->nbuckets; i++)
        for (struct entry *e = a->buckets[i]; e; e = e->next) {
            if (e->claimed || !idle(e, now_ms, ttl_ms))
                continue;
            if (*n == cap) {
                size_t nc = cap ? cap * 2 : 8;
                char **more = realloc(ids, nc * sizeof(*ids));
                if (!more)
                    goto out; /* the rest waits for the next sweep */
                ids = more;
                cap = nc;
            }
            if (!(ids[*n] = strdup(e->app)))
                goto out;
            e->claimed = true;
            (*n)++;
        }
out:
    pthread_mutex_unlock(&a->lock);
    if (*n == 0) {
        free(ids);
        ids = NULL;
    }
    return ids;
}

bool app_activity_still_idle(struct app_activity *a, const char *app, uint64_t now_ms,
                             uint64_t ttl_ms)
{
    uint64_t h = hash_app(app);
    pthread_mutex_lock(&a->lock);
    struct entry *e = *find(a, app, h);
    bool still = e && idle(e, now_ms, ttl_ms);
    if (e)
        e->claimed = false;
    pthread_mutex_unlock(&a->lock);
    return still;
}

static struct app_activity_entry view(const struct entry *e)
{
    return (struct app_activity_entry){e->app, e->last_ms, e->open_connections};
}

bool app_activity_get(struct app_activity *a, const char *app, struct app_activity_entry *out)
{
    uint64_t h = hash_app(app);
    pthread_mutex_lock(&a->lock);
    struct entry *e = *find(a, app, h);
    if (e)
        *out = view(e);
    pthread_mutex_unlock(&a->lock);
    if (e)
        out->app = app;
    return e != NULL;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* See map_output_cache.h. */
#include <config.h>

#include "server/block/map_output_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/lru.h"

struct map_output {
    struct map_output *hnext;
    struct lru_node lru;
    uint64_t reg;
    int64_t map;
    int32_t shuffle;
    bool cached; /* still in the table (false: evicted or dropped, freed at refs 0) */
    int fd;
    atomic_uint refs; /* the table's (while cached) + one per user */
    size_t count;
    uint64_t *offs;
};

struct map_output_cache {
    pthread_mutex_t mu;
    size_t max_entries, count, nbuckets;
    struct map_output **buckets;
    struct lru_list lru;
    uint64_t hits, misses, dropped_stale;
};

static uint64_t key_hash(uint64_t reg, int32_t shuffle, int64_t map)
{
    uint64_t h = reg * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uint32_t)shuffle * 0xc2b2ae3d27d4eb4full;
    h ^= (uint64_t)map * 0x165667b19e3779f9ull;
    return h ^ (h >> 29);
}

struct map_output_cache *map_output_cache_create(size_t max_entries)
{
    struct map_output_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->max_entries = max_entries;
    c->nbuckets = 64;
    while (c->nbuckets < max_entries)
        c->nbuckets *= 2;
    c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
    if (!c->buckets) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

static void entry_free(struct map_output *e)
{
    close(e->fd);
    free(e->offs);
    free(e);
}

void map_output_release(void *entry, int fd)
{
    struct map_output *e = entry;
    (void)fd;
    if (atomic_fetch_sub(&e->refs, 1) == 1)
        entry_free(e);
}

static struct map_output **slot_of(struct map_output_cache *c, uint64_t reg, int32_t shuffle,
                                   int64_t map)
{
    struct map_output **pp = &c->buckets[key_hash(reg, shuffle, map) & (c->nbuckets - 1)];
    while (*pp && !((*pp)->reg == reg && (*pp)->shuffle == shuffle && (*pp)->map == map))
        pp = &(*pp)->hnext;
    return pp;
}

static struct map_output *oldest(struct map_output_cache *c)
{
    return lru_entry(c->lru.oldest, struct map_output, lru);
}

/* Under the lock: out of the table; the table's reference goes (the last user frees it). */
static void unlink_entry(struct map_output_cache *c, struct map_output *e)
{
    struct map_output **pp = slot_of(c, e->reg, e->shuffle, e->map);
    if (*pp == e)
        *pp = e->hnext;
    lru_unlink(&c->lru, &e->lru);
    e->cached = false;
    c->count--;
    map_output_release(e, e->fd);
}

struct map_output *map_output_cache_insert(struct map_output_cache *c, uint64_t reg,
                                           int32_t shuffle, int64_t map, int fd, uint64_t *offs,
                                           size_t count)
{
    if (!c || c->max_entries == 0)
        return NULL;
    struct map_output *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    *e = (struct map_output){.reg = reg,
                             .map = map,
                             .shuffle = shuffle,
                             .cached = true,
                             .fd = fd,
                             .count = count,
                             .offs = offs};
    atomic_init(&e->refs, 2); /* the table's and the caller's */
    pthread_mutex_lock(&c->mu);
    struct map_output **pp = slot_of(c, reg, shuffle, map);
    if (*pp) { /* resolved twice at once: keep the first */
        struct map_output *old = *pp;
        atomic_fetch_add(&old->refs, 1);
        pthread_mutex_unlock(&c->mu);
        e->refs = 0;
        entry_free(e);
        return old;
    }
    while (c->count >= c->max_entries && c->lru.oldest)
        unlink_entry(c, oldest(c));
    *slot_of(c, reg, shuffle, map) = e;
    lru_push_newest(&c->lru, &e->lru);
    c->count++;
    pthread_mutex_unlock(&c->mu);
    return e;
}

struct map_output *map_output_cache_get(struct map_output_cache *c, uint64_t reg, int32_t shuffle,
                                        int64_t map)
{
    if (!c)
        return NULL;
    pthread_mutex_lock(&c->mu);
    struct map_output *e = *slot_of(c, reg, shuffle, map);
    if (e) {
        atomic_fetch_add(&e->refs, 1);
        lru_touch(&c->lru, &e->lru);
        c->hits++;
    } else {
        c->misses++;
    }
    pthread_mutex_unlock(&c->mu);
    return e;
}

int map_output_fd(const struct map_output *e)
{
    return e->fd;
}

bool map_output_range(struct map_output_cache *c, struct map_output *e, int32_t start, int32_t end,
                      uint64_t *offset, uint64_t *length)
{
    if (start < 0 || end < start || (size_t)end >= e->count)
        return false; /* the slow path words the error as Spark does */
    *offset = e->offs[start];
    *length = e->offs[end] - e->offs[start];
    struct stat st;
    if (fstat(e->fd, &st) == 0 && st.st_nlink > 0 && (uint64_t)st.st_size >= *offset + *length)
        return true;
    /* deleted, replaced (renamed over) or truncated since it was opened */
    pthread_mutex_lock(&c->mu);
    if (e->cached) {
        unlink_entry(c, e);
        c->dropped_stale++;
    }
    pthread_mutex_unlock(&c->mu);
    return false;
}

void map_output_cache_drop_registration(struct map_output_cache *c, uint64_t reg)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    for (struct lru_node *n = c->lru.oldest, *newer; n; n = newer) {
        newer = n->newer;
        struct map_output *e = lru_entry(n, struct map_output, lru);
        if (e->reg == reg)
            unlink_entry(c, e);
    }
    pthread_mutex_unlock(&c->mu);
}

void map_output_cache_drop_all(struct map_output_cache *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    while (c->lru.oldest)
        unlink_entry(c, oldest(c));
    pthread_mutex_unlock(&c->mu);
}

struct map_output_cache_stats map_output_cache_stats(struct map_output_cache *c)
{
    struct map_output_cache_stats s = {0};
    if (!c)
        return s;
    pthread_mutex_lock(&c->mu);
    s.hits = c->hits;
    s.misses = c->misses;
    s.entries = c->count;
    s.dropped_stale = c->dropped_stale;
    pthread_mutex_unlock(&c->mu);
    return s;
}

void map_output_cache_destroy(struct map_output_cache *c)
{
    if (!c)
        return;
    while (c->lru.oldest)
        unlink_entry(c, oldest(c));
    free(c->buckets);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

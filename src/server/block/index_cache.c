/* SPDX-License-Identifier: Apache-2.0 */
/* LRU cache of parsed index files; see index_cache.h. */
#include <config.h>

#include "server/block/index_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/lru.h"
#include "server/stream/file_open.h"

/* Index files larger than this are never read whole: two preads serve them. */
#define INDEX_READ_WHOLE_MAX (64u << 20)

struct entry {
    struct entry *hnext; /* hash chain */
    struct lru_node lru;
    uint64_t hash;
    uint64_t weight;
    size_t count;
    char *path; /* points into the same allocation, after offs */
    uint64_t offs[];
};

struct index_cache {
    pthread_mutex_t mu;
    uint64_t max_bytes, weight, hits, misses;
    size_t count, nbuckets;
    struct entry **buckets;
    struct lru_list lru;
};

static uint64_t hash_path(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

struct index_cache *index_cache_create(uint64_t max_bytes)
{
    struct index_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->nbuckets = 64;
    c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
    if (!c->buckets) {
        free(c);
        return NULL;
    }
    c->max_bytes = max_bytes;
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

void index_cache_destroy(struct index_cache *c)
{
    if (!c)
        return;
    for (struct lru_node *n = c->lru.newest, *next; n; n = next) {
        next = n->older;
        struct entry *e = lru_entry(n, struct entry, lru);
        free(e);
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static struct entry *find(struct index_cache *c, const char *path, uint64_t h)
{
    for (struct entry *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->hnext)
        if (e->hash == h && strcmp(e->path, path) == 0)
            return e;
    return NULL;
}

static void remove_entry(struct index_cache *c, struct entry *e)
{
    struct entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(&c->lru, &e->lru);
    c->weight -= e->weight;
    c->count--;
    free(e);
}

static void grow(struct index_cache *c)
{
    size_t nb = c->nbuckets * 2;
    struct entry **b = calloc(nb, sizeof(*b));
    if (!b)
        return; /* keep the longer chains; still correct */
    for (size_t i = 0; i < c->nbuckets; i++) {
        for (struct entry *e = c->buckets[i], *next; e; e = next) {
            next = e->hnext;
            e->hnext = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = nb;
}

/* Takes ownership of e. Caller holds the lock. */
static void insert(struct index_cache *c, struct entry *e)
{
    if (e->weight > c->max_bytes || find(c, e->path, e->hash)) {
        free(e);
        return;
    }
    while (c->weight + e->weight > c->max_bytes && c->lru.oldest)
        remove_entry(c, lru_entry(c->lru.oldest, struct entry, lru));
    if (c->count + 1 > c->nbuckets)
        grow(c);
    size_t b = e->hash & (c->nbuckets - 1);
    e->hnext = c->buckets[b];
    c->buckets[b] = e;
    lru_push_newest(&c->lru, &e->lru);
    c->weight += e->weight;
    c->count++;
}

int index_parse(const uint8_t *buf, size_t len, uint64_t *offs, size_t *count, char *why,
                size_t whylen)
{
    if (len < 8 || len % 8 != 0) {
        snprintf(why, whylen, "size %zu is not a positive multiple of 8", len);
        return -1;
    }
    size_t n = len / 8;
    uint64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = buf + 8 * i;
        uint64_t v = 0;
        for (int k = 0; k < 8; k++)
            v = (v << 8) | p[k];
        if (v > (uint64_t)INT64_MAX || (i == 0 && v != 0) || v < prev) {
            snprintf(why, whylen, "offset %zu (%llu) is negative, decreasing or not 0 at start", i,
                     (unsigned long long)v);
            return -1;
        }
        prev = v;
        if (offs)
            offs[i] = v;
    }
    *count = n;
    return 0;
}

static void open_error(const char *path, int errnum, char *err, size_t errlen)
{
    if (errnum == ENOENT)
        snprintf(err, errlen,
                 "java.lang.RuntimeException: Failed to open file: %s\nCaused by: "
                 "java.nio.file.NoSuchFileException: %s",
                 path, path);
    else
        snprintf(err, errlen,
                 "java.lang.RuntimeException: Failed to open file: %s\nCaused by: "
                 "java.io.IOException: %s",
                 path, strerror(errnum));
}

static int read_full(int fd, uint8_t *buf, size_t len, off_t at)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, buf + done, len - done, at + (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

static int check_range(size_t count, int32_t start, int32_t end, char *err, size_t errlen)
{
    if (start < 0 || end < start || (size_t)end >= count) {
        snprintf(err, errlen, "java.lang.IndexOutOfBoundsException");
        return -1;
    }
    return 0;
}

/* Huge index: read just the two offsets, no caching. */
static int range_by_pread(int fd, const char *path, size_t size, int32_t start, int32_t end,
                          uint64_t *offset, uint64_t *length, char *err, size_t errlen)
{
    uint8_t a[8], b[8];
    size_t count = size / 8;
    uint64_t va, vb;
    if (check_range(count, start, end, err, errlen) < 0)
        return -1;
    if (size % 8 != 0 || read_full(fd, a, 8, (off_t)start * 8) < 0 ||
        read_full(fd, b, 8, (off_t)end * 8) < 0) {
        snprintf(err, errlen, "java.io.IOException: Corrupt shuffle index file %s", path);
        return -1;
    }
    va = ((uint64_t)a[0] << 56) | ((uint64_t)a[1] << 48) | ((uint64_t)a[2] << 40) |
         ((uint64_t)a[3] << 32) | ((uint64_t)a[4] << 24) | ((uint64_t)a[5] << 16) |
         ((uint64_t)a[6] << 8) | a[7];
    vb = ((uint64_t)b[0] << 56) | ((uint64_t)b[1] << 48) | ((uint64_t)b[2] << 40) |
         ((uint64_t)b[3] << 32) | ((uint64_t)b[4] << 24) | ((uint64_t)b[5] << 16) |
         ((uint64_t)b[6] << 8) | b[7];
    if (va > (uint64_t)INT64_MAX || vb > (uint64_t)INT64_MAX || vb < va) {
        snprintf(err, errlen, "java.io.IOException: Corrupt shuffle index file %s", path);
        return -1;
    }
    *offset = va;
    *length = vb - va;
    return 0;
}

/* Reads and parses the file into a new entry; for huge files answers directly
 * (returns 1). */
static int load(const char *path, bool no_symlinks, struct entry **out, int32_t start, int32_t end,
                uint64_t *offset, uint64_t *length, char *err, size_t errlen)
{
    int fd = file_open_for_read(path, no_symlinks);
    if (fd < 0) {
        open_error(path, errno, err, errlen);
        return -1;
    }
    struct stat st;
    int st_rc = fstat(fd, &st);
    if (st_rc < 0 || !S_ISREG(st.st_mode)) {
        open_error(path, st_rc < 0 ? errno : EISDIR, err, errlen);
        close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    if (size > INDEX_READ_WHOLE_MAX) {
        int rc = range_by_pread(fd, path, size, start, end, offset, length, err, errlen);
        close(fd);
        return rc < 0 ? -1 : 1;
    }
    size_t plen = strlen(path) + 1;
    size_t n = size / 8;
    struct entry *e = malloc(sizeof(*e) + n * 8 + plen);
    uint8_t *raw = malloc(size ? size : 1);
    if (!e || !raw) {
        free(e);
        free(raw);
        close(fd);
        snprintf(err, errlen, "java.lang.OutOfMemoryError: index file %s", path);
        return -1;
    }
    char why[128];
    if (read_full(fd, raw, size, 0) < 0) {
        snprintf(err, errlen, "java.io.IOException: Short read of shuffle index file %s", path);
        goto fail;
    }
    if (index_parse(raw, size, e->offs, &e->count, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "java.io.IOException: Corrupt shuffle index file %s: %s", path, why);
        goto fail;
    }
    close(fd);
    free(raw);
    e->path = (char *)(e->offs + n);
    memcpy(e->path, path, plen);
    e->hash = hash_path(path);
    e->weight = sizeof(*e) + n * 8 + plen;
    e->hnext = NULL;
    e->lru = (struct lru_node){0};
    *out = e;
    return 0;
fail:
    close(fd);
    free(raw);
    free(e);
    return -1;
}

int index_cache_range(struct index_cache *c, const char *path, bool no_symlinks, int32_t start,
                      int32_t end, uint64_t *offset, uint64_t *length, char *err, size_t errlen)
{
    uint64_t h = hash_path(path);
    pthread_mutex_lock(&c->mu);
    struct entry *e = find(c, path, h);
    if (e) {
        c->hits++;
        lru_touch(&c->lru, &e->lru);
        int rc = check_range(e->count, start, end, err, errlen);
        if (rc == 0) {
            *offset = e->offs[start];
            *length = e->offs[end] - e->offs[start];
        }
        pthread_mutex_unlock(&c->mu);
        return rc;
    }
    c->misses++;
    pthread_mutex_unlock(&c->mu);

    int rc = load(path, no_symlinks, &e, start, end, offset, length, err, errlen);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    rc = check_range(e->count, start, end, err, errlen);
    if (rc == 0) {
        *offset = e->offs[start];
        *length = e->offs[end] - e->offs[start];
    }
    pthread_mutex_lock(&c->mu);
    insert(c, e);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* A malloc'd copy of e's offsets; -1 with err when out of memory. */
static int copy_offsets(const struct entry *e, uint64_t **offs, size_t *count, char *err,
                        size_t errlen)
{
    *count = e->count;
    *offs = malloc(e->count * sizeof **offs);
    if (!*offs) {
        snprintf(err, errlen, "java.lang.OutOfMemoryError: index file %s", e->path);
        return -1;
    }
    memcpy(*offs, e->offs, e->count * sizeof **offs);
    return 0;
}

int index_cache_offsets(struct index_cache *c, const char *path, bool no_symlinks, uint64_t **offs,
                        size_t *count, char *err, size_t errlen)
{
    uint64_t h = hash_path(path), unused_offset, unused_length;
    pthread_mutex_lock(&c->mu);
    struct entry *e = find(c, path, h);
    if (e) {
        c->hits++;
        lru_touch(&c->lru, &e->lru);
        int rc = copy_offsets(e, offs, count, err, errlen);
        pthread_mutex_unlock(&c->mu);
        return rc;
    }
    c->misses++;
    pthread_mutex_unlock(&c->mu);
    int rc = load(path, no_symlinks, &e, 0, 0, &unused_offset, &unused_length, err, errlen);
    if (rc != 0)
        return rc;
    rc = copy_offsets(e, offs, count, err, errlen);
    pthread_mutex_lock(&c->mu);
    insert(c, e); /* may free e */
    pthread_mutex_unlock(&c->mu);
    return rc;
}

struct index_cache_stats index_cache_stats(struct index_cache *c)
{
    pthread_mutex_lock(&c->mu);
    struct index_cache_stats st = {c->weight, c->count, c->hits, c->misses};
    pthread_mutex_unlock(&c->mu);
    return st;
}

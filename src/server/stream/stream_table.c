/* SPDX-License-Identifier: Apache-2.0 */
#include <config.h>

#include "server/stream/stream_table.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static atomic_int_fast64_t next_stream_id;
static atomic_uint_fast64_t live_streams;
static pthread_once_t id_once = PTHREAD_ONCE_INIT;

static void init_stream_ids(void)
{
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
    int64_t base = (int64_t)(r % 2147483647u) * 1000;
    atomic_store(&next_stream_id, base);
}

int64_t stream_next_id(void)
{
    pthread_once(&id_once, init_stream_ids);
    return atomic_fetch_add(&next_stream_id, 1);
}

uint64_t stream_live_count(void)
{
    return atomic_load(&live_streams);
}

static uint32_t bucket_of(const struct stream_table *t, int64_t id)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ULL;
    return (uint32_t)(h >> 32) & (t->nbuckets - 1);
}

static int grow(struct stream_table *t)
{
    uint32_t n = t->nbuckets ? t->nbuckets * 2 : 4;
    struct stream **b = calloc(n, sizeof *b);
    if (!b)
        return -1;
    struct stream_table nt = {b, n, t->count, t->weight, t->bytes};
    for (uint32_t i = 0; i < t->nbuckets; i++) {
        struct stream *s = t->buckets[i];
        while (s) {
            struct stream *next = s->hnext;
            uint32_t k = bucket_of(&nt, s->id);
            s->hnext = b[k];
            b[k] = s;
            s = next;
        }
    }
    free(t->buckets);
    *t = nt;
    return 0;
}

struct stream *stream_table_add(struct stream_table *t, const char *app_id,
                                struct stream_source src)
{
    struct stream *s = calloc(1, sizeof *s);
    if (!s || (app_id && !(s->app_id = strdup(app_id))) ||
        (t->count + 1 > t->nbuckets && grow(t) != 0)) {
        if (s)
            free(s->app_id);
        free(s);
        if (src.free_ctx)
            src.free_ctx(src.ctx);
        return NULL;
    }
    s->id = stream_next_id();
    s->src = src;
    uint32_t k = bucket_of(t, s->id);
    s->hnext = t->buckets[k];
    t->buckets[k] = s;
    t->count++;
    t->weight += stream_weight(s);
    t->bytes += stream_bytes(s);
    atomic_fetch_add(&live_streams, 1);
    return s;
}

struct stream *stream_table_find(const struct stream_table *t, int64_t id)
{
    if (t->nbuckets == 0)
        return NULL;
    for (struct stream *s = t->buckets[bucket_of(t, id)]; s; s = s->hnext) {
        if (s->id == id)
            return s;
    }
    return NULL;
}

void stream_table_remove(struct stream_table *t, struct stream *s)
{
    if (s->removed)
        return;
    struct stream **pp = &t->buckets[bucket_of(t, s->id)];
    while (*pp && *pp != s)
        pp = &(*pp)->hnext;
    if (*pp) {
        *pp = s->hnext;
        t->count--;
        t->weight -= stream_weight(s);
        t->bytes -= stream_bytes(s);
    }
    s->hnext = NULL;
    s->removed = true;
}

void stream_table_drain(struct stream_table *t, void (*fn)(struct stream *s, void *arg), void *arg)
{
    for (uint32_t i = 0; i < t->nbuckets; i++) {
        while (t->buckets[i]) {
            struct stream *s = t->buckets[i];
            t->buckets[i] = s->hnext;
            t->count--;
            t->weight -= stream_weight(s);
            t->bytes -= stream_bytes(s);
            s->hnext = NULL;
            s->removed = true;
            fn(s, arg);
        }
    }
}

void stream_table_free(struct stream_table *t)
{
    free(t->buckets);
    t->buckets = NULL;
    t->nbuckets = 0;
    t->count = 0;
    t->weight = 0;
    t->bytes = 0;
}

int stream_begin_chunk(struct stream *s, int32_t index, uint32_t pending, uint32_t *iter, char *err,
                       size_t errlen)
{
    if (index < 0 || (uint32_t)index != s->next_index) {
        snprintf(err, errlen,
                 "java.lang.IllegalStateException: Received out-of-order chunk index %d "
                 "(expected %u)",
                 index, s->next_index);
        return -1;
    }
    if ((uint64_t)s->iter_index + pending >= s->src.num_chunks) {
        if (pending > 0)
            return 1;
        snprintf(err, errlen,
                 "java.lang.IllegalStateException: Requested chunk index beyond end %d", index);
        return -1;
    }
    s->next_index++;
    *iter = s->iter_index + pending;
    return 0;
}

void stream_unbegin_chunks(struct stream *s, uint32_t n)
{
    s->next_index -= n;
}

bool stream_end_chunk(struct stream *s, bool resolved)
{
    if (resolved)
        s->iter_index++;
    return resolved && s->iter_index >= s->src.num_chunks;
}

void stream_free(struct stream *s)
{
    if (s->src.free_ctx)
        s->src.free_ctx(s->src.ctx);
    free(s->app_id);
    free(s);
    atomic_fetch_sub(&live_streams, 1);
}

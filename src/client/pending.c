/* SPDX-License-Identifier: Apache-2.0 */
/* Outstanding requests of one connection: see pending.h. */
#include <config.h>

#include <stdlib.h>

#include "client/pending.h"

static size_t hash_key(enum pend_kind k, int64_t a, int32_t b)
{
    uint64_t x = (uint64_t)a * 0x9E3779B97F4A7C15ULL ^ ((uint64_t)(uint32_t)b << 1) ^ (uint64_t)k;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 29;
    return (size_t)x;
}

struct pending *pending_new(enum pend_kind k, int64_t a, int32_t b)
{
    struct pending *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->kind = k;
    p->a = a;
    p->b = b;
    return p;
}

void pending_complete(struct pending *p, int status, const char *err, const uint8_t *body,
                      size_t len)
{
    if (p->kind == PEND_STREAM)
        p->scb.on_done(p->scb.arg, status, err);
    else
        p->fn(p->arg, status, err, body, len);
    free(p);
}

struct pending *pending_find(struct pending_set *s, enum pend_kind k, int64_t a, int32_t b,
                             bool unlink_it)
{
    if (!s->nbuckets)
        return NULL;
    struct pending **pp = &s->buckets[hash_key(k, a, b) & (s->nbuckets - 1)];
    for (; *pp; pp = &(*pp)->hnext) {
        struct pending *p = *pp;
        if (p->kind == k && p->a == a && p->b == b) {
            if (unlink_it)
                *pp = p->hnext;
            return p;
        }
    }
    return NULL;
}

int pending_index(struct pending_set *s, struct pending *p)
{
    if (s->count + 1 > s->nbuckets) {
        size_t n = s->nbuckets ? s->nbuckets * 2 : 16;
        struct pending **nb = calloc(n, sizeof(*nb));
        if (!nb)
            return -1;
        for (size_t i = 0; i < s->nbuckets; i++) {
            struct pending *q = s->buckets[i];
            while (q) {
                struct pending *nx = q->hnext;
                size_t h = hash_key(q->kind, q->a, q->b) & (n - 1);
                q->hnext = nb[h];
                nb[h] = q;
                q = nx;
            }
        }
        free(s->buckets);
        s->buckets = nb;
        s->nbuckets = n;
    }
    size_t h = hash_key(p->kind, p->a, p->b) & (s->nbuckets - 1);
    p->hnext = s->buckets[h];
    s->buckets[h] = p;
    return 0;
}

void pending_append(struct pending_set *s, struct pending *p)
{
    p->prev = s->last;
    p->next = NULL;
    if (s->last)
        s->last->next = p;
    else
        s->first = p;
    s->last = p;
    s->count++;
}

void pending_unlink(struct pending_set *s, struct pending *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        s->first = p->next;
    if (p->next)
        p->next->prev = p->prev;
    else
        s->last = p->prev;
    p->prev = p->next = NULL;
    s->count--;
}

void pending_fifo_push(struct pending_set *s, struct pending *p)
{
    p->fifo_next = NULL;
    if (s->fifo_tail)
        s->fifo_tail->fifo_next = p;
    else
        s->fifo_head = p;
    s->fifo_tail = p;
}

struct pending *pending_fifo_pop(struct pending_set *s)
{
    struct pending *p = s->fifo_head;
    if (p) {
        s->fifo_head = p->fifo_next;
        if (!s->fifo_head)
            s->fifo_tail = NULL;
    }
    return p;
}

void pending_drop_index(struct pending_set *s)
{
    free(s->buckets);
    s->buckets = NULL;
    s->nbuckets = 0;
    s->fifo_head = s->fifo_tail = NULL;
}

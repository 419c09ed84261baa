/* SPDX-License-Identifier: Apache-2.0 */
/* Asks awaiting answers; see asks.h. */
#include <config.h>

#include "client/rpcenv/asks.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <event2/event.h>

#include "shuffle/client.h"

struct rpc_asks {
    struct event_base *base;
    struct rpc_ask **buckets;
    size_t nbuckets, count; /* started asks */
    atomic_int_fast64_t next_id;
    atomic_int_fast64_t in_flight;
    int64_t max_in_flight;
};

struct rpc_asks *rpc_asks_new(struct event_base *base, int max_in_flight)
{
    struct rpc_asks *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->nbuckets = 1024;
    t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
    if (!t->buckets) {
        free(t);
        return NULL;
    }
    t->base = base;
    t->max_in_flight = max_in_flight;
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        seed = (uint64_t)(uintptr_t)t;
    /* random non-negative start, far from the top so increments stay non-negative */
    atomic_init(&t->next_id, (int_fast64_t)(seed >> 2));
    atomic_init(&t->in_flight, 0);
    return t;
}

static size_t bucket_of(const struct rpc_asks *t, int64_t id)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 32) & (t->nbuckets - 1);
}

static void grow(struct rpc_asks *t)
{
    size_t n = t->nbuckets * 2;
    struct rpc_ask **b = calloc(n, sizeof *b);
    if (!b)
        return; /* longer chains, still correct */
    struct rpc_ask **old = t->buckets;
    size_t oldn = t->nbuckets;
    t->buckets = b;
    t->nbuckets = n;
    for (size_t i = 0; i < oldn; i++) {
        for (struct rpc_ask *a = old[i], *next; a; a = next) {
            next = a->hash_next;
            size_t k = bucket_of(t, a->id);
            a->hash_next = b[k];
            b[k] = a;
        }
    }
    free(old);
}

struct rpc_ask *rpc_ask_new(struct rpc_asks *t, shuffle_rpc_ask_fn fn, void *arg, int timeout_ms,
                            int *status)
{
    if (atomic_fetch_add(&t->in_flight, 1) >= t->max_in_flight) {
        atomic_fetch_sub(&t->in_flight, 1);
        *status = SHUFFLE_RPC_EOVERFLOW;
        return NULL;
    }
    struct rpc_ask *a = calloc(1, sizeof *a);
    if (!a) {
        atomic_fetch_sub(&t->in_flight, 1);
        *status = SHUFFLE_ELOCAL;
        return NULL;
    }
    a->table = t;
    a->id = atomic_fetch_add(&t->next_id, 1);
    a->timeout_ms = timeout_ms;
    a->fn = fn;
    a->arg = arg;
    *status = SHUFFLE_OK;
    return a;
}

void rpc_ask_free(struct rpc_ask *a)
{
    if (a->timer)
        event_free(a->timer);
    atomic_fetch_sub(&a->table->in_flight, 1);
    free(a);
}

uint64_t rpc_asks_in_flight(struct rpc_asks *t)
{
    return (uint64_t)atomic_load(&t->in_flight);
}

static void group_unlink(struct rpc_ask *a)
{
    if (!a->group)
        return;
    if (a->group_prev)
        a->group_prev->group_next = a->group_next;
    else
        a->group->head = a->group_next;
    if (a->group_next)
        a->group_next->group_prev = a->group_prev;
    a->group = NULL;
    a->group_prev = a->group_next = NULL;
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct rpc_ask *a = arg;
    struct rpc_ask *taken = rpc_asks_take(a->table, a->id);
    if (taken) {
        char why[64];
        snprintf(why, sizeof why, "no answer within %d ms", a->timeout_ms);
        rpc_ask_complete(taken, SHUFFLE_RPC_ETIMEDOUT, why, NULL, 0);
    }
}

void rpc_asks_start(struct rpc_asks *t, struct rpc_ask *a, struct rpc_ask_group *group)
{
    if (t->count >= t->nbuckets)
        grow(t);
    size_t k = bucket_of(t, a->id);
    a->hash_next = t->buckets[k];
    t->buckets[k] = a;
    t->count++;
    if (group) {
        a->group = group;
        a->group_prev = NULL;
        a->group_next = group->head;
        if (group->head)
            group->head->group_prev = a;
        group->head = a;
    }
    a->timer = evtimer_new(t->base, on_timeout, a);
    if (a->timer && a->timeout_ms > 0) {
        struct timeval tv = {a->timeout_ms / 1000, (a->timeout_ms % 1000) * 1000};
        evtimer_add(a->timer, &tv);
    }
}

struct rpc_ask *rpc_asks_take(struct rpc_asks *t, int64_t id)
{
    struct rpc_ask **p = &t->buckets[bucket_of(t, id)];
    while (*p && (*p)->id != id)
        p = &(*p)->hash_next;
    struct rpc_ask *a = *p;
    if (!a)
        return NULL;
    *p = a->hash_next;
    t->count--;
    group_unlink(a);
    if (a->timer)
        evtimer_del(a->timer);
    return a;
}

void rpc_ask_complete(struct rpc_ask *a, int status, const char *error, const uint8_t *data,
                      size_t len)
{
    /* freed (no longer in flight) before the caller learns of it */
    shuffle_rpc_ask_fn fn = a->fn;
    void *arg = a->arg;
    rpc_ask_free(a);
    fn(arg, status, status == SHUFFLE_OK ? NULL : (error ? error : ""), data, len);
}

void rpc_asks_fail_group(struct rpc_asks *t, struct rpc_ask_group *group, int status,
                         const char *why)
{
    while (group->head) {
        struct rpc_ask *a = rpc_asks_take(t, group->head->id);
        rpc_ask_complete(a, status, why, NULL, 0);
    }
}

void rpc_asks_free(struct rpc_asks *t, int status, const char *why)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        while (t->buckets[i]) {
            struct rpc_ask *a = rpc_asks_take(t, t->buckets[i]->id);
            rpc_ask_complete(a, status, why, NULL, 0);
        }
    }
    free(t->buckets);
    free(t);
}

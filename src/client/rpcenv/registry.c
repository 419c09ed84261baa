/* SPDX-License-Identifier: Apache-2.0 */
/* The endpoint table; see registry.h. A short array: envs hold few endpoints. */
#include <config.h>

#include "client/rpcenv/registry.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "shuffle/client.h"

struct rpc_registry {
    pthread_rwlock_t lock;
    struct rpc_inbox **items;
    size_t count, cap;
};

struct rpc_registry *rpc_registry_new(void)
{
    struct rpc_registry *r = calloc(1, sizeof *r);
    if (r)
        pthread_rwlock_init(&r->lock, NULL);
    return r;
}

void rpc_registry_free(struct rpc_registry *r)
{
    if (!r)
        return;
    pthread_rwlock_destroy(&r->lock);
    free(r->items);
    free(r);
}

/* With the lock held: the index of (name, len), or -1. */
static long find(const struct rpc_registry *r, const char *name, size_t len)
{
    for (size_t i = 0; i < r->count; i++) {
        const char *n = rpc_inbox_name(r->items[i]);
        if (strncmp(n, name, len) == 0 && n[len] == 0)
            return (long)i;
    }
    return -1;
}

int rpc_registry_add(struct rpc_registry *r, struct rpc_inbox *ib)
{
    const char *name = rpc_inbox_name(ib);
    int status = SHUFFLE_OK;
    pthread_rwlock_wrlock(&r->lock);
    if (find(r, name, strlen(name)) >= 0) {
        status = SHUFFLE_EINVAL;
    } else if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        struct rpc_inbox **items = realloc(r->items, cap * sizeof *items);
        if (items) {
            r->items = items;
            r->cap = cap;
        } else {
            status = SHUFFLE_ELOCAL;
        }
    }
    if (status == SHUFFLE_OK)
        r->items[r->count++] = ib;
    pthread_rwlock_unlock(&r->lock);
    return status;
}

static struct rpc_inbox *take_locked(struct rpc_registry *r, long i)
{
    if (i < 0)
        return NULL;
    struct rpc_inbox *ib = r->items[i];
    memmove(&r->items[i], &r->items[i + 1], (r->count - (size_t)i - 1) * sizeof *r->items);
    r->count--;
    return ib;
}

struct rpc_inbox *rpc_registry_remove(struct rpc_registry *r, const char *name)
{
    pthread_rwlock_wrlock(&r->lock);
    struct rpc_inbox *ib = take_locked(r, find(r, name, strlen(name)));
    pthread_rwlock_unlock(&r->lock);
    return ib;
}

struct rpc_inbox *rpc_registry_remove_last(struct rpc_registry *r)
{
    pthread_rwlock_wrlock(&r->lock);
    struct rpc_inbox *ib = take_locked(r, (long)r->count - 1);
    pthread_rwlock_unlock(&r->lock);
    return ib;
}

bool rpc_registry_has(struct rpc_registry *r, const char *name, size_t len)
{
    pthread_rwlock_rdlock(&r->lock);
    bool has = find(r, name, len) >= 0;
    pthread_rwlock_unlock(&r->lock);
    return has;
}

int rpc_registry_post(struct rpc_registry *r, const char *name, size_t len, struct rpc_msg *m)
{
    pthread_rwlock_rdlock(&r->lock);
    long i = find(r, name, len);
    int status;
    if (i < 0)
        status = SHUFFLE_RPC_ENOENDPOINT;
    else if (rpc_inbox_requires_auth(r->items[i]) && !m->view.authenticated)
        status = SHUFFLE_EAUTH;
    else
        status = rpc_inbox_post(r->items[i], m);
    pthread_rwlock_unlock(&r->lock);
    return status;
}

struct rpc_msg *rpc_registry_post_list(struct rpc_registry *r, const char *name, size_t len,
                                       struct rpc_msg *first, int n, int *status)
{
    pthread_rwlock_rdlock(&r->lock);
    long i = find(r, name, len);
    struct rpc_msg *rest = first;
    if (i < 0)
        *status = SHUFFLE_RPC_ENOENDPOINT;
    else if (rpc_inbox_requires_auth(r->items[i]) && !first->view.authenticated)
        *status = SHUFFLE_EAUTH;
    else
        rest = rpc_inbox_post_list(r->items[i], first, n, status);
    pthread_rwlock_unlock(&r->lock);
    return rest;
}

bool rpc_registry_progress(struct rpc_registry *r, const char *name, size_t len, uint64_t *taken)
{
    pthread_rwlock_rdlock(&r->lock);
    long i = find(r, name, len);
    if (i >= 0)
        *taken = rpc_inbox_progress(r->items[i]);
    pthread_rwlock_unlock(&r->lock);
    return i >= 0;
}

void rpc_registry_broadcast(struct rpc_registry *r, const struct rpc_msg *m)
{
    pthread_rwlock_rdlock(&r->lock);
    for (size_t i = 0; i < r->count; i++) {
        if (!rpc_inbox_wants(r->items[i], m->kind))
            continue;
        struct rpc_msg *copy = rpc_msg_new(m->kind, NULL, 0, NULL, 0, m->view.remote, true);
        if (copy && rpc_inbox_post(r->items[i], copy) != SHUFFLE_OK)
            free(copy);
    }
    pthread_rwlock_unlock(&r->lock);
}

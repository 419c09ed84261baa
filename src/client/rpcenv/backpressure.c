/* SPDX-License-Identifier: Apache-2.0 */
/* Read back-pressure; see backpressure.h. */
#include <config.h>

#include "client/rpcenv/backpressure.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "client/rpcenv/conn.h"
#include "client/rpcenv/inbox.h"
#include "client/rpcenv/registry.h"
#include "client/rpcenv/reply.h"
#include "client/rpcenv/status.h"
#include "shuffle/client.h"

/* Messages for one endpoint, in arrival order. */
struct waiting_batch {
    struct waiting_batch *next;
    struct rpc_msg *head;
    int n;
    char name[256];
};

/* A connection not read while its messages wait. */
struct waiting_conn {
    struct waiting_conn *next;
    struct rpc_backpressure *bp;
    struct rpc_conn *conn;
    struct waiting_batch *head, *tail;
    struct event *stall;   /* the first endpoint's progress is checked every stall_ms */
    uint64_t progress;     /* that endpoint's messages taken at the last check */
    char progress_of[256]; /* and its name */
};

struct rpc_backpressure {
    struct rpc_registry *registry;
    atomic_uint_fast64_t *refused;
    int stall_ms;
    struct event *room; /* activated from any thread */
    struct waiting_conn *conns;
};

void rpc_backpressure_refuse(struct rpc_backpressure *bp, const char *name, struct rpc_msg *list,
                             int status)
{
    char text[600];
    rpc_status_wire_text(status, name, NULL, text, sizeof text);
    while (list) {
        struct rpc_msg *m = list;
        list = m->next;
        if (m->reply) {
            rpcenv_reply_fail(m->reply, status, text);
            rpcenv_reply_release(m->reply);
        } else {
            atomic_fetch_add(bp->refused, 1);
        }
        free(m);
    }
}

/* A full inbox's refusals from rest: the asks at its front are answered now (an asker has a
 * timeout and is told at once); from the first one-way message on, everything waits. What is
 * left to wait, with its count in *n. */
static struct rpc_msg *answer_leading_asks(struct rpc_backpressure *bp, const char *name,
                                           struct rpc_msg *rest, int *n)
{
    struct rpc_msg *asks = rest, *last_ask = NULL;
    while (rest && rest->reply) {
        last_ask = rest;
        rest = rest->next;
    }
    if (last_ask) {
        last_ask->next = NULL;
        rpc_backpressure_refuse(bp, name, asks, SHUFFLE_RPC_EOVERFLOW);
    }
    *n = 0;
    for (struct rpc_msg *m = rest; m; m = m->next)
        (*n)++;
    return rest;
}

static void arm_stall(struct waiting_conn *wc)
{
    const char *name = wc->head->name;
    uint64_t taken = 0;
    rpc_registry_progress(wc->bp->registry, name, strlen(name), &taken);
    memcpy(wc->progress_of, name, strlen(name) + 1);
    wc->progress = taken;
    struct timeval tv = {wc->bp->stall_ms / 1000, (wc->bp->stall_ms % 1000) * 1000};
    evtimer_add(wc->stall, &tv);
}

/* Posts wc's batches in order while they fit. With give_up (the first endpoint is stuck) its
 * batch is refused what does not fit. True when nothing waits any more. */
static bool post_waiting(struct waiting_conn *wc, bool give_up)
{
    struct rpc_backpressure *bp = wc->bp;
    while (wc->head) {
        struct waiting_batch *b = wc->head;
        int status = SHUFFLE_OK;
        struct rpc_msg *rest =
            rpc_registry_post_list(bp->registry, b->name, strlen(b->name), b->head, b->n, &status);
        if (rest && status == SHUFFLE_RPC_EOVERFLOW && !give_up)
            rest = answer_leading_asks(bp, b->name, rest, &b->n);
        if (rest && status == SHUFFLE_RPC_EOVERFLOW && !give_up) {
            b->head = rest;
            return false;
        }
        if (rest)
            rpc_backpressure_refuse(bp, b->name, rest, status);
        wc->head = b->next;
        free(b);
        give_up = false; /* only the stuck endpoint's messages */
    }
    wc->tail = NULL;
    return true;
}

static void waiting_free(struct waiting_conn *wc, int status)
{
    for (struct waiting_batch *b = wc->head, *next; b; b = next) {
        next = b->next;
        rpc_backpressure_refuse(wc->bp, b->name, b->head, status);
        free(b);
    }
    event_free(wc->stall);
    free(wc);
}

/* Takes wc out of the list and reads its connection again. */
static void release(struct waiting_conn *wc)
{
    struct waiting_conn **p = &wc->bp->conns;
    while (*p != wc)
        p = &(*p)->next;
    *p = wc->next;
    rpc_conn_pause_reading(wc->conn, false);
    waiting_free(wc, SHUFFLE_OK);
}

/* Tries wc again (the stall check restarts for a new first endpoint): false when released. */
static bool retry(struct waiting_conn *wc, bool give_up)
{
    char first[256];
    memcpy(first, wc->head->name, strlen(wc->head->name) + 1);
    if (post_waiting(wc, give_up)) {
        release(wc);
        return false;
    }
    if (give_up || strcmp(first, wc->head->name) != 0) {
        evtimer_del(wc->stall);
        arm_stall(wc);
    }
    return true;
}

static void on_stall(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct waiting_conn *wc = arg;
    uint64_t taken = 0;
    bool there =
        rpc_registry_progress(wc->bp->registry, wc->progress_of, strlen(wc->progress_of), &taken);
    if (there && taken != wc->progress) { /* slow, not stuck: keep waiting */
        arm_stall(wc);
        return;
    }
    retry(wc, true);
}

static void on_room(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct rpc_backpressure *bp = arg;
    for (struct waiting_conn *wc = bp->conns, *next; wc; wc = next) {
        next = wc->next;
        retry(wc, false);
    }
}

void rpc_backpressure_room(void *arg)
{
    struct rpc_backpressure *bp = arg;
    event_active(bp->room, 0, 0);
}

static struct waiting_conn *find(struct rpc_backpressure *bp, const struct rpc_conn *c)
{
    struct waiting_conn *wc = bp->conns;
    while (wc && wc->conn != c)
        wc = wc->next;
    return wc;
}

void rpc_backpressure_post(struct rpc_backpressure *bp, struct rpc_conn *c, const char *name,
                           struct rpc_msg *first, int n)
{
    struct waiting_conn *wc = find(bp, c);
    int status = SHUFFLE_OK;
    if (!wc) {
        first = rpc_registry_post_list(bp->registry, name, strlen(name), first, n, &status);
        if (!first)
            return;
        if (status != SHUFFLE_RPC_EOVERFLOW) {
            rpc_backpressure_refuse(bp, name, first, status);
            return;
        }
        if (!(first = answer_leading_asks(bp, name, first, &n)))
            return;
    }
    struct waiting_batch *b = malloc(sizeof *b);
    if (!b) {
        rpc_backpressure_refuse(bp, name, first, SHUFFLE_RPC_EOVERFLOW);
        return;
    }
    b->next = NULL;
    b->head = first;
    b->n = n;
    memcpy(b->name, name, strlen(name) + 1);
    if (wc) {
        wc->tail->next = b;
        wc->tail = b;
        return;
    }
    wc = calloc(1, sizeof *wc);
    if (!wc || !(wc->stall = evtimer_new(event_get_base(bp->room), on_stall, wc))) {
        free(wc);
        rpc_backpressure_refuse(bp, name, first, SHUFFLE_RPC_EOVERFLOW);
        free(b);
        return;
    }
    wc->bp = bp;
    wc->conn = c;
    wc->head = wc->tail = b;
    wc->next = bp->conns;
    bp->conns = wc;
    rpc_conn_pause_reading(c, true);
    arm_stall(wc);
}

void rpc_backpressure_conn_down(struct rpc_backpressure *bp, struct rpc_conn *c)
{
    struct waiting_conn *wc = bp ? find(bp, c) : NULL;
    if (!wc)
        return;
    struct waiting_conn **p = &bp->conns;
    while (*p != wc)
        p = &(*p)->next;
    *p = wc->next;
    post_waiting(wc, true);
    waiting_free(wc, SHUFFLE_RPC_EOVERFLOW); /* behind a stuck endpoint's */
}

struct rpc_backpressure *rpc_backpressure_new(struct event_base *base, struct rpc_registry *r,
                                              atomic_uint_fast64_t *refused, int stall_ms)
{
    struct rpc_backpressure *bp = calloc(1, sizeof *bp);
    if (!bp)
        return NULL;
    bp->registry = r;
    bp->refused = refused;
    bp->stall_ms = stall_ms;
    if (!(bp->room = event_new(base, -1, 0, on_room, bp))) {
        free(bp);
        return NULL;
    }
    return bp;
}

void rpc_backpressure_free(struct rpc_backpressure *bp)
{
    if (!bp)
        return;
    while (bp->conns) {
        struct waiting_conn *wc = bp->conns;
        bp->conns = wc->next;
        waiting_free(wc, SHUFFLE_RPC_ESHUTDOWN);
    }
    event_free(bp->room);
    free(bp);
}

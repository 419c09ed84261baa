/* SPDX-License-Identifier: Apache-2.0 */
/* Inboxes and the dispatcher threads; see inbox.h. */
#include <config.h>

#include "client/rpcenv/inbox.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "client/rpcenv/reply.h"
#include "shuffle/client.h"

/* Messages one thread takes from an inbox before giving others their turn. */
#define RPC_INBOX_BATCH 256

/* Someone waiting in rpc_inbox_stop for on_stop to have run. */
struct stop_waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
};

struct rpc_inbox {
    struct rpc_dispatcher *dispatcher;
    struct event *loop_run; /* run_on_loop: runs the inbox on the env's loop */
    void (*on_room)(void *ctx);
    void *room_ctx;
    char *name;
    struct shuffle_rpc_endpoint ep;
    pthread_mutex_t lock;
    struct rpc_msg *head, *tail;
    int count, capacity;
    uint64_t taken;   /* messages taken so far */
    bool room_wanted; /* a post was refused for a full inbox: on_room when half empty */
    int scheduled;    /* entries on the ready queue + threads processing it */
    int active;       /* threads inside a callback */
    bool started;     /* on_start has returned */
    bool stopping;    /* on_stop is queued: no more posts */
    bool finished;    /* on_stop has run: freed once no thread holds it */
    struct stop_waiter *waiter;
};

struct rpc_dispatcher {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct rpc_inbox **ready; /* ring of inboxes to run */
    size_t ready_head, ready_count, ready_cap;
    bool quit;
    int nthreads;
    pthread_t *threads;
};

/* The inbox whose callback this thread runs (to tell a stop from inside the endpoint). */
static _Thread_local struct rpc_inbox *current_inbox;

static char *copy_str(char **at, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    memcpy(*at, s, n);
    char *out = *at;
    *at += n;
    return out;
}

struct rpc_msg *rpc_msg_new(enum rpc_msg_kind kind, const void *payload, size_t len,
                            const char *sender_host, int sender_port, const char *remote,
                            bool authenticated)
{
    size_t hl = sender_host ? strlen(sender_host) + 1 : 0, rl = remote ? strlen(remote) + 1 : 0;
    struct rpc_msg *m = malloc(sizeof *m + len + 1 + hl + rl);
    if (!m)
        return NULL;
    char *at = (char *)(m + 1);
    m->next = NULL;
    m->kind = kind;
    m->reply = NULL;
    m->view.struct_size = sizeof m->view;
    m->view.payload = (const uint8_t *)at;
    m->view.len = len;
    if (len)
        memcpy(at, payload, len);
    at[len] = 0;
    at += len + 1;
    m->view.sender_host = copy_str(&at, sender_host);
    m->view.sender_port = sender_port;
    m->view.remote = copy_str(&at, remote);
    m->view.authenticated = authenticated;
    return m;
}

/* Called with d->lock held. */
static bool ready_push(struct rpc_dispatcher *d, struct rpc_inbox *ib)
{
    if (d->ready_count == d->ready_cap) {
        size_t cap = d->ready_cap ? d->ready_cap * 2 : 64;
        struct rpc_inbox **ring = malloc(cap * sizeof *ring);
        if (!ring)
            return false;
        for (size_t i = 0; i < d->ready_count; i++)
            ring[i] = d->ready[(d->ready_head + i) % d->ready_cap];
        free(d->ready);
        d->ready = ring;
        d->ready_cap = cap;
        d->ready_head = 0;
    }
    d->ready[(d->ready_head + d->ready_count) % d->ready_cap] = ib;
    d->ready_count++;
    pthread_cond_signal(&d->cond);
    return true;
}

static int run_limit(const struct rpc_inbox *ib)
{
    return ib->ep.thread_safe && ib->started && !ib->loop_run ? ib->dispatcher->nthreads : 1;
}

/* With ib->lock held: puts ib on the ready queue if it has messages and may run once more. */
static void schedule_locked(struct rpc_inbox *ib)
{
    if (!ib->head || ib->scheduled >= run_limit(ib))
        return;
    if (ib->loop_run) { /* scheduled at most once: the event is not active yet */
        ib->scheduled++;
        event_active(ib->loop_run, 0, 0);
        return;
    }
    struct rpc_dispatcher *d = ib->dispatcher;
    pthread_mutex_lock(&d->lock);
    if (ready_push(d, ib))
        ib->scheduled++;
    pthread_mutex_unlock(&d->lock);
}

static void deliver(struct rpc_inbox *ib, struct rpc_msg *m)
{
    const struct shuffle_rpc_endpoint *ep = &ib->ep;
    switch (m->kind) {
    case RPC_MSG_START:
        if (ep->on_start)
            ep->on_start(ep->arg);
        break;
    case RPC_MSG_ONE_WAY:
        if (ep->receive)
            ep->receive(ep->arg, &m->view);
        else if (ep->on_error)
            ep->on_error(ep->arg, SHUFFLE_EINVAL, "one-way message to an endpoint without receive");
        break;
    case RPC_MSG_ASK:
        if (ep->receive_and_reply) {
            ep->receive_and_reply(ep->arg, &m->view, m->reply);
        } else {
            rpcenv_reply_fail(m->reply, SHUFFLE_RPC_EREMOTE,
                              "the endpoint does not answer asks (no receive_and_reply)");
            if (ep->on_error)
                ep->on_error(ep->arg, SHUFFLE_EINVAL,
                             "ask to an endpoint without receive_and_reply");
        }
        rpcenv_reply_release(m->reply);
        m->reply = NULL;
        break;
    case RPC_MSG_CONNECTED:
        if (ep->on_connected)
            ep->on_connected(ep->arg, m->view.remote);
        break;
    case RPC_MSG_DISCONNECTED:
        if (ep->on_disconnected)
            ep->on_disconnected(ep->arg, m->view.remote);
        break;
    case RPC_MSG_STOP:
        if (ep->on_stop)
            ep->on_stop(ep->arg);
        break;
    }
}

static void inbox_free(struct rpc_inbox *ib)
{
    if (ib->loop_run)
        event_free(ib->loop_run);
    pthread_mutex_destroy(&ib->lock);
    free(ib->name);
    free(ib);
}

/* With ib->lock held: up to max messages taken off the front as a list (NULL: none may run
 * now). on_stop waits until no other thread is inside the endpoint; the last one to leave
 * schedules the inbox again. */
static struct rpc_msg *take_locked(struct rpc_inbox *ib, int max)
{
    struct rpc_msg *first = ib->head, *last = NULL;
    int n = 0;
    if (first && first->kind == RPC_MSG_START)
        max = 1; /* a thread-safe endpoint runs concurrently once it returns */
    for (struct rpc_msg *m = first; m && n < max; m = m->next, n++) {
        if (m->kind == RPC_MSG_STOP && ib->active > 0)
            break;
        last = m;
    }
    if (!last)
        return NULL;
    ib->head = last->next;
    if (!ib->head)
        ib->tail = NULL;
    last->next = NULL;
    ib->count -= n;
    ib->taken += (uint64_t)n;
    ib->active++;
    return first;
}

/* With ib->lock held: whether a refused poster is to be told there is room now. */
static bool room_locked(struct rpc_inbox *ib)
{
    if (!ib->room_wanted || (ib->count > ib->capacity / 2 && !ib->stopping))
        return false;
    ib->room_wanted = false;
    return ib->on_room != NULL;
}

/* One turn of a dispatcher thread on ib (scheduled once for it): an ordinary endpoint's
 * messages in one batch taken under one lock (nobody else runs it); a thread-safe one's one
 * at a time, others taking the next meanwhile. */
static void run_inbox(struct rpc_inbox *ib)
{
    struct stop_waiter *waiter = NULL;
    pthread_mutex_lock(&ib->lock);
    for (int n = 0; n < RPC_INBOX_BATCH && ib->head;) {
        bool one_at_a_time = run_limit(ib) > 1;
        struct rpc_msg *batch = take_locked(ib, one_at_a_time ? 1 : RPC_INBOX_BATCH - n);
        if (!batch)
            break;
        if (one_at_a_time)
            schedule_locked(ib);
        bool room = room_locked(ib);
        pthread_mutex_unlock(&ib->lock);
        if (room) /* as soon as taken: a slow endpoint's batch can take long */
            ib->on_room(ib->room_ctx);
        bool started = false, finished = false;
        current_inbox = ib;
        while (batch) {
            struct rpc_msg *m = batch;
            batch = m->next;
            deliver(ib, m);
            started |= m->kind == RPC_MSG_START;
            finished |= m->kind == RPC_MSG_STOP;
            free(m);
            n++;
        }
        current_inbox = NULL;
        pthread_mutex_lock(&ib->lock);
        ib->active--;
        if (started) {
            ib->started = true;
            schedule_locked(ib); /* messages posted meanwhile may now run concurrently */
        }
        if (finished) {
            ib->finished = true;
            waiter = ib->waiter;
            ib->waiter = NULL;
        }
    }
    ib->scheduled--;
    bool release = ib->finished && ib->scheduled == 0;
    if (!ib->finished)
        schedule_locked(ib);
    bool room = room_locked(ib);
    void (*on_room)(void *) = ib->on_room;
    void *room_ctx = ib->room_ctx;
    pthread_mutex_unlock(&ib->lock);
    if (room)
        on_room(room_ctx);
    if (waiter) {
        pthread_mutex_lock(&waiter->lock);
        waiter->done = true;
        pthread_cond_broadcast(&waiter->cond);
        pthread_mutex_unlock(&waiter->lock);
    }
    if (release)
        inbox_free(ib);
}

static void *dispatcher_main(void *arg)
{
    struct rpc_dispatcher *d = arg;
    pthread_mutex_lock(&d->lock);
    for (;;) {
        while (!d->ready_count && !d->quit)
            pthread_cond_wait(&d->cond, &d->lock);
        if (!d->ready_count)
            break;
        struct rpc_inbox *ib = d->ready[d->ready_head];
        d->ready_head = (d->ready_head + 1) % d->ready_cap;
        d->ready_count--;
        pthread_mutex_unlock(&d->lock);
        run_inbox(ib);
        pthread_mutex_lock(&d->lock);
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

struct rpc_dispatcher *rpc_dispatcher_new(int threads)
{
    struct rpc_dispatcher *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->threads = calloc((size_t)threads, sizeof *d->threads);
    if (!d->threads) {
        free(d);
        return NULL;
    }
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->cond, NULL);
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&d->threads[i], NULL, dispatcher_main, d) != 0)
            break;
        d->nthreads++;
    }
    if (d->nthreads < threads) {
        rpc_dispatcher_free(d);
        return NULL;
    }
    return d;
}

void rpc_dispatcher_free(struct rpc_dispatcher *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    d->quit = true;
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
    for (int i = 0; i < d->nthreads; i++)
        pthread_join(d->threads[i], NULL);
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->cond);
    free(d->ready);
    free(d->threads);
    free(d);
}

static void on_loop_run(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    run_inbox(arg);
}

struct rpc_inbox *rpc_inbox_new(const struct rpc_inbox_env *ie, const char *name,
                                const struct shuffle_rpc_endpoint *ep)
{
    struct rpc_inbox *ib = calloc(1, sizeof *ib);
    struct rpc_msg *start = rpc_msg_new(RPC_MSG_START, NULL, 0, NULL, 0, NULL, true);
    if (!ib || !start || !(ib->name = strdup(name)) ||
        (ep->run_on_loop && !(ib->loop_run = event_new(ie->loop, -1, 0, on_loop_run, ib)))) {
        if (ib)
            free(ib->name);
        free(ib);
        free(start);
        return NULL;
    }
    ib->dispatcher = ie->dispatcher;
    ib->on_room = ie->on_room;
    ib->room_ctx = ie->ctx;
    ib->ep = *ep;
    ib->capacity = ie->capacity;
    pthread_mutex_init(&ib->lock, NULL);
    pthread_mutex_lock(&ib->lock);
    ib->head = ib->tail = start;
    ib->count = 1;
    schedule_locked(ib);
    pthread_mutex_unlock(&ib->lock);
    return ib;
}

const char *rpc_inbox_name(const struct rpc_inbox *ib)
{
    return ib->name;
}

bool rpc_inbox_requires_auth(const struct rpc_inbox *ib)
{
    return ib->ep.require_auth;
}

bool rpc_inbox_wants(const struct rpc_inbox *ib, enum rpc_msg_kind kind)
{
    if (kind == RPC_MSG_CONNECTED)
        return ib->ep.on_connected != NULL;
    if (kind == RPC_MSG_DISCONNECTED)
        return ib->ep.on_disconnected != NULL;
    return true;
}

static void append_locked(struct rpc_inbox *ib, struct rpc_msg *m)
{
    m->next = NULL;
    if (ib->tail)
        ib->tail->next = m;
    else
        ib->head = m;
    ib->tail = m;
    ib->count++;
    schedule_locked(ib);
}

int rpc_inbox_post(struct rpc_inbox *ib, struct rpc_msg *m)
{
    int status = SHUFFLE_OK;
    pthread_mutex_lock(&ib->lock);
    if (ib->stopping) {
        status = SHUFFLE_RPC_ESHUTDOWN;
    } else if (ib->count >= ib->capacity) {
        status = SHUFFLE_RPC_EOVERFLOW;
        ib->room_wanted = true;
    } else {
        append_locked(ib, m);
    }
    pthread_mutex_unlock(&ib->lock);
    return status;
}

struct rpc_msg *rpc_inbox_post_list(struct rpc_inbox *ib, struct rpc_msg *first, int n, int *status)
{
    pthread_mutex_lock(&ib->lock);
    int room = ib->stopping ? 0 : ib->capacity - ib->count;
    *status = ib->stopping ? SHUFFLE_RPC_ESHUTDOWN : SHUFFLE_RPC_EOVERFLOW;
    struct rpc_msg *last = NULL, *rest = first;
    int taken = 0;
    while (rest && taken < room && taken < n) {
        last = rest;
        rest = rest->next;
        taken++;
    }
    if (last) {
        last->next = NULL;
        if (ib->tail)
            ib->tail->next = first;
        else
            ib->head = first;
        ib->tail = last;
        ib->count += taken;
        schedule_locked(ib);
    }
    if (rest && !ib->stopping)
        ib->room_wanted = true;
    pthread_mutex_unlock(&ib->lock);
    return rest;
}

uint64_t rpc_inbox_progress(struct rpc_inbox *ib)
{
    pthread_mutex_lock(&ib->lock);
    uint64_t taken = ib->taken;
    pthread_mutex_unlock(&ib->lock);
    return taken;
}

void rpc_inbox_stop(struct rpc_inbox *ib, bool caller_on_loop)
{
    struct rpc_msg *stop = rpc_msg_new(RPC_MSG_STOP, NULL, 0, NULL, 0, NULL, true);
    struct stop_waiter w = {.done = false};
    /* the loop cannot wait for itself to run on_stop */
    bool wait = current_inbox != ib && !(caller_on_loop && ib->loop_run);
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.cond, NULL);
    pthread_mutex_lock(&ib->lock);
    if (ib->stopping || !stop) {
        /* a second stop, or no memory for the message (then on_stop cannot be queued: the
         * endpoint is left running; it is unreachable by name already) */
        pthread_mutex_unlock(&ib->lock);
        free(stop);
        wait = false;
    } else {
        ib->stopping = true;
        ib->waiter = wait ? &w : NULL;
        append_locked(ib, stop);
        bool room = room_locked(ib); /* what waits for room is refused now */
        void (*on_room)(void *) = ib->on_room;
        void *room_ctx = ib->room_ctx;
        pthread_mutex_unlock(&ib->lock);
        if (room) /* ib may be gone already */
            on_room(room_ctx);
    }
    pthread_mutex_lock(&w.lock);
    while (wait && !w.done)
        pthread_cond_wait(&w.cond, &w.lock);
    pthread_mutex_unlock(&w.lock);
    pthread_mutex_destroy(&w.lock);
    pthread_cond_destroy(&w.cond);
}

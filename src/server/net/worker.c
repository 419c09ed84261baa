/* SPDX-License-Identifier: Apache-2.0 */
#include <config.h>

#include "server/net/worker.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/net/conn.h"
#include "server/net/tls_conn.h"
#include "common/log.h"
#include "server/ops/metrics.h"
#include "server/server.h"

static void inbox_cb(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    (void)fd;
    (void)what;
    pthread_mutex_lock(&w->inbox_lock);
    struct post *p = w->inbox_head;
    w->inbox_head = w->inbox_tail = NULL;
    pthread_mutex_unlock(&w->inbox_lock);
    while (p) {
        struct post *next = p->next;
        p->fn(p->arg);
        free(p);
        p = next;
    }
}

struct worker *worker_create(struct server *srv, int index, char *err, size_t errlen)
{
    struct worker *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "worker %d: out of memory", index);
        return NULL;
    }
    w->srv = srv;
    w->index = index;
    pthread_mutex_init(&w->inbox_lock, NULL);
    w->base = event_base_new();
    if (w->base)
        w->inbox_ev = event_new(w->base, -1, 0, inbox_cb, w);
    if (!w->base || !w->inbox_ev) {
        snprintf(err, errlen, "worker %d: cannot create its event loop", index);
        if (w->base)
            event_base_free(w->base);
        pthread_mutex_destroy(&w->inbox_lock);
        free(w);
        return NULL;
    }
    return w;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    /* One turn per call (EVLOOP_ONCE: one wait for events, then their callbacks), so that
     * conn_loop_turn tells the turns apart. event_base_loopbreak is only called on this
     * thread, from a callback: the call returns with the break noted. */
    do
        conn_loop_turn_next();
    while (event_base_loop(w->base, EVLOOP_ONCE | EVLOOP_NO_EXIT_ON_EMPTY) == 0 &&
           !event_base_got_break(w->base));
    return NULL;
}

int worker_start(struct worker *w, char *err, size_t errlen)
{
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    if (rc != 0) {
        snprintf(err, errlen, "worker %d: cannot start its thread: %s", w->index, strerror(rc));
        return -1;
    }
    w->started = true;
    return 0;
}

void worker_post(struct worker *w, void (*fn)(void *arg), void *arg)
{
    struct post *p = malloc(sizeof *p);
    if (!p) {
        log_error("out of memory posting work to worker %d", w->index);
        abort();
    }
    p->next = NULL;
    p->fn = fn;
    p->arg = arg;
    pthread_mutex_lock(&w->inbox_lock);
    bool was_empty = w->inbox_head == NULL;
    if (w->inbox_tail)
        w->inbox_tail->next = p;
    else
        w->inbox_head = p;
    w->inbox_tail = p;
    pthread_mutex_unlock(&w->inbox_lock);
    if (was_empty)
        event_active(w->inbox_ev, EV_READ, 1);
}

bool worker_is_current(const struct worker *w)
{
    return w->started && pthread_equal(pthread_self(), w->thread);
}

struct accepted {
    struct worker *w;
    int fd;
    bool tls;
    char peer[64];
};

static void maybe_exit(struct worker *w)
{
    if (w->shutting_down && w->nconns == 0)
        event_base_loopbreak(w->base);
}

/* The budget's victim: the connection of this loop holding the most of kind. */
static struct conn *biggest(void *ctx, int kind)
{
    struct worker *w = ctx;
    struct conn *best = NULL;
    uint64_t most = 0;
    for (struct conn *c = w->conns; c; c = conn_link(c)->next) {
        uint64_t used = conn_budget_used(c, (enum conn_budget)kind);
        if (used > most) {
            most = used;
            best = c;
        }
    }
    return best;
}

/* conn.c tells us a connection of ours closed: unlink it. */
static void conn_closed(void *ctx, struct conn *c)
{
    struct worker *w = ctx;
    struct conn_link *l = conn_link(c);
    if (l->prev)
        conn_link(l->prev)->next = l->next;
    else
        w->conns = l->next;
    if (l->next)
        conn_link(l->next)->prev = l->prev;
    l->prev = l->next = NULL;
    w->nconns--;
    atomic_fetch_sub(&w->srv->conns, 1);
    maybe_exit(w);
}

static void accept_on_worker(void *arg)
{
    struct accepted *a = arg;
    struct worker *w = a->w;
    if (w->shutting_down) {
        close(a->fd);
        atomic_fetch_sub(&w->srv->conns, 1);
    } else {
        struct conn_host host = {.base = w->base,
                                 .biggest = biggest,
                                 .srv = w->srv,
                                 .worker = w,
                                 .read_buf = w->read_buf,
                                 .read_buf_len = sizeof w->read_buf,
                                 .on_closed = conn_closed,
                                 .ctx = w};
        struct conn *c = conn_create(&host, a->fd, a->peer,
                                     (struct conn_phase){w->srv->base_on_msg, w->srv->base_ctx});
        if (!c) {
            log_error("%s: out of memory accepting the connection", a->peer);
            close(a->fd);
            atomic_fetch_sub(&w->srv->conns, 1);
        } else {
            struct conn_link *l = conn_link(c);
            l->next = w->conns;
            if (w->conns)
                conn_link(w->conns)->prev = c;
            w->conns = c;
            w->nconns++;
            conn_ref(c); /* the TLS phase may close, and so free, it */
            if (a->tls)
                tls_conn_start(w->srv->tls, c);
            if (w->srv->conn_opened && !conn_is_closed(c))
                w->srv->conn_opened(w->srv->conn_opened_ctx, c);
            else if (!conn_is_closed(c)) /* closed: refused by the TLS handshake limits */
                metrics_security_connection(MS_PLAIN); /* no auth: nothing to settle */
            conn_unref(c);
        }
    }
    free(a);
}

void worker_accept(struct worker *w, int fd, const struct sockaddr *addr, socklen_t addrlen,
                   bool tls)
{
    struct accepted *a = malloc(sizeof *a);
    if (!a) {
        close(fd);
        atomic_fetch_sub(&w->srv->conns, 1);
        return;
    }
    a->w = w;
    a->fd = fd;
    a->tls = tls;
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    (void)addrlen;
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
        snprintf(a->peer, sizeof a->peer, "%s:%d", host, port);
    } else if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
        snprintf(a->peer, sizeof a->peer, "[%s]:%d", host, port);
    } else {
        snprintf(a->peer, sizeof a->peer, "unknown");
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    evutil_make_socket_nonblocking(fd);
    evutil_make_socket_closeonexec(fd);
    worker_post(w, accept_on_worker, a);
}

static void grace_cb(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    (void)fd;
    (void)what;
    if (w->nconns)
        log_warn("worker %d: shutdown grace period over, closing %zu connection(s)", w->index,
                 w->nconns);
    while (w->conns)
        conn_close(w->conns, "shutdown");
    maybe_exit(w);
}

static void shutdown_on_worker(void *arg)
{
    struct worker *w = arg;
    w->shutting_down = true;
    uint64_t ms = server_config(w->srv)->shutdown_grace_ms;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    w->grace_ev = evtimer_new(w->base, grace_cb, w);
    if (w->grace_ev)
        evtimer_add(w->grace_ev, &tv);
    /* conn_finish may close (and unlink) the connection it is given */
    struct conn *c = w->conns;
    while (c) {
        struct conn *next = conn_link(c)->next;
        conn_finish(c);
        c = next;
    }
    maybe_exit(w);
}

void worker_begin_shutdown(struct worker *w)
{
    worker_post(w, shutdown_on_worker, w);
}

void worker_join(struct worker *w)
{
    if (w->started)
        pthread_join(w->thread, NULL);
}

void worker_destroy(struct worker *w)
{
    if (!w)
        return;
    /* a connection can still be open if the worker never got to run its shutdown */
    while (w->conns)
        conn_close(w->conns, "shutdown");
    w->started = false;
    for (;;) {
        pthread_mutex_lock(&w->inbox_lock);
        bool empty = w->inbox_head == NULL;
        pthread_mutex_unlock(&w->inbox_lock);
        if (empty)
            break;
        inbox_cb(-1, 0, w);
    }
    if (w->grace_ev)
        event_free(w->grace_ev);
    event_free(w->inbox_ev);
    event_base_free(w->base);
    pthread_mutex_destroy(&w->inbox_lock);
    free(w);
}

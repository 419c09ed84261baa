/* SPDX-License-Identifier: Apache-2.0 */
/* Per-peer connection pool: see pool.h. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "client/pool.h"
#include "client/util.h"
#include "shuffle/client.h"

struct slot {
    struct peer *peer;
    struct tconn *conn;
};

struct peer {
    char *host;
    int port;
    struct slot *slots;
    uint64_t connect_failed_ms; /* monotonic time of the last failed connect, 0: none */
    struct peer *next;
};

struct pool {
    const struct tconn_env *env;
    const struct pool_config *cfg;
    bool stopped;
    struct peer *peers;
};

struct pool *pool_new(const struct tconn_env *env, const struct pool_config *cfg)
{
    struct pool *p = calloc(1, sizeof(*p));
    if (p) {
        p->env = env;
        p->cfg = cfg;
    }
    return p;
}

void pool_stop(struct pool *p)
{
    p->stopped = true;
}

static void slot_connected(void *arg, bool ok)
{
    struct slot *s = arg;
    s->peer->connect_failed_ms = ok ? 0 : client_now_ms();
}

static void slot_closed(void *arg, struct tconn *t)
{
    struct slot *s = arg;
    if (s->conn == t) {
        s->conn = NULL;
        tconn_unref(t);
    }
}

void pool_close_all(struct pool *p, int status, const char *why)
{
    int n = p->cfg->connections_per_peer;
    for (struct peer *pe = p->peers; pe; pe = pe->next)
        for (int i = 0; i < n; i++)
            if (pe->slots[i].conn)
                tconn_close(pe->slots[i].conn, status, why); /* slot_closed clears it */
}

void pool_free(struct pool *p)
{
    if (!p)
        return;
    pool_close_all(p, SHUFFLE_ECANCELED, "the client was shut down");
    struct peer *pe = p->peers;
    while (pe) {
        struct peer *next = pe->next;
        free(pe->host);
        free(pe->slots);
        free(pe);
        pe = next;
    }
    free(p);
}

static struct peer *find_peer(struct pool *p, const char *host, int port)
{
    for (struct peer *pe = p->peers; pe; pe = pe->next)
        if (pe->port == port && strcmp(pe->host, host) == 0)
            return pe;
    struct peer *pe = calloc(1, sizeof(*pe));
    if (!pe)
        return NULL;
    pe->host = strdup(host);
    pe->port = port;
    pe->slots = calloc((size_t)p->cfg->connections_per_peer, sizeof(*pe->slots));
    if (!pe->host || !pe->slots) {
        free(pe->host);
        free(pe->slots);
        free(pe);
        return NULL;
    }
    for (int i = 0; i < p->cfg->connections_per_peer; i++)
        pe->slots[i].peer = pe;
    pe->next = p->peers;
    p->peers = pe;
    return pe;
}

/* The open connection of pe with the fewest unanswered requests, ties going to the first from
 * slot `first` on (a random one). A connection stalled behind a slow request on the server
 * would otherwise keep receiving its share of new requests, which then wait there while the
 * server's other connections run dry. */
static struct tconn *least_loaded(struct peer *pe, int n, int first)
{
    struct tconn *best = pe->slots[first].conn;
    size_t best_load = tconn_outstanding(best);
    for (int k = 1; k < n && best_load > 0; k++) {
        struct tconn *t = pe->slots[(first + k) % n].conn;
        if (t && tconn_is_active(t) && tconn_outstanding(t) < best_load) {
            best = t;
            best_load = tconn_outstanding(t);
        }
    }
    return best;
}

struct tconn *pool_get(struct pool *p, const char *host, int port, bool fast_fail)
{
    const struct pool_config *cfg = p->cfg;
    if (p->stopped)
        return NULL;
    struct peer *pe = find_peer(p, host, port);
    if (!pe)
        return NULL;
    int n = cfg->connections_per_peer;
    int first = n > 1 ? (int)((uint64_t)client_rng_id(p->env->rng) % (uint64_t)n) : 0;
    struct slot *s = &pe->slots[first];
    if (s->conn && tconn_is_active(s->conn))
        return least_loaded(pe, n, first);
    uint64_t window = (uint64_t)(cfg->retry_wait_ms > 0 ? cfg->retry_wait_ms : 0) * 95 / 100;
    struct tconn *t;
    if (fast_fail && pe->connect_failed_ms && client_now_ms() - pe->connect_failed_ms < window) {
        char peer[300], *why;
        client_peer_name(peer, sizeof(peer), host, port);
        why = client_strf("Connecting to %s failed in the last %llu ms, fail this connection "
                          "directly",
                          peer, (unsigned long long)window);
        t = tconn_new_failed(p->env, host, port, why);
        free(why);
    } else {
        t = tconn_new(p->env, host, port, cfg->connect_timeout_ms, cfg->request_timeout_ms);
        if (t)
            tconn_on_connect_result(t, slot_connected, s);
    }
    if (!t)
        return NULL;
    s->conn = t; /* the slot owns the reference tconn_new gave */
    tconn_on_close(t, slot_closed, s);
    return t;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* A TLS connection's first phase; see tls_conn.h. */
#include <config.h>

#include "server/net/tls_conn.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "server/net/channel_tls.h"
#include "server/net/conn.h"
#include "server/net/tls_admit.h"
#include "server/net/tls_context.h"
#include "server/ops/metrics.h"
#include "server/server.h"

/* Refusals are logged at most once per this many ms, with their count since the last line. */
#define REFUSAL_LOG_INTERVAL_MS 10000

static uint64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The unfinished handshakes of one event loop, oldest first. When tls_max_handshakes_in_progress
 * is reached, a newcomer closes the oldest of its loop instead of being refused: a bound that
 * refused newcomers could be held by a client keeping idle half-handshakes open, while real
 * handshakes end within milliseconds. A list is changed only on its loop (or after the loops
 * stopped, at exit), so it needs no lock. */
struct pending_handshake {
    struct conn *c;
    struct pending_handshake *prev, *next;
    struct pending_list *list;
};
struct pending_list {
    struct pending_handshake *oldest, *newest;
};
#define MAX_LOOPS 1024 /* io_threads' maximum */
static struct pending_list loop_lists[MAX_LOOPS];
static _Atomic int loops_seen;
static _Thread_local struct pending_list *this_loop;

static struct pending_list *loop_list(void)
{
    if (!this_loop) {
        int i = atomic_fetch_add(&loops_seen, 1);
        this_loop = i < MAX_LOOPS ? &loop_lists[i] : NULL;
    }
    return this_loop;
}

/* A connection's place among the handshakes in progress, given back once: at the end of its
 * handshake or when it closes first (the attachment's release). */
static void admit_release(struct conn *c, void *state)
{
    struct pending_handshake *p = state;
    (void)c;
    if (p->list) {
        *(p->prev ? &p->prev->next : &p->list->oldest) = p->next;
        *(p->next ? &p->next->prev : &p->list->newest) = p->prev;
    }
    free(p);
    tls_admit_end();
    metrics_gauge_add(MG_TLS_HANDSHAKES_IN_PROGRESS, -1);
}

static void handshake_ended(struct conn *c)
{
    void *p = conn_attachment(c, CONN_ATTACH_TLS_HANDSHAKE);
    if (p) {
        admit_release(c, p);
        conn_attach(c, CONN_ATTACH_TLS_HANDSHAKE, NULL, NULL);
    }
}

/* Takes a place for c's handshake, closing the oldest unfinished one of this loop when the
 * bound is reached (*evicted then true). */
static enum tls_admit_verdict admit(struct conn *c, const struct shuffled_config *cfg, uint64_t now,
                                    bool *evicted)
{
    struct pending_list *list = loop_list();
    struct pending_handshake *p = calloc(1, sizeof *p);
    if (!p)
        return TLS_ADMIT_IN_PROGRESS; /* out of memory: refused like a flood */
    enum tls_admit_verdict v = tls_admit_begin(cfg->tls_max_handshakes_in_progress,
                                               cfg->tls_max_handshakes_per_second, now);
    if (v == TLS_ADMIT_IN_PROGRESS && list && list->oldest) {
        conn_close(list->oldest->c, "oldest unfinished TLS handshake closed for a new one");
        *evicted = true; /* its place is free now, unless another loop took it meanwhile */
        v = tls_admit_begin(cfg->tls_max_handshakes_in_progress, cfg->tls_max_handshakes_per_second,
                            now);
    }
    if (v != TLS_ADMIT_OK) {
        free(p);
        return v;
    }
    *p = (struct pending_handshake){.c = c, .list = list};
    if (list) {
        p->prev = list->newest;
        *(list->newest ? &list->newest->next : &list->oldest) = p;
        list->newest = p;
    }
    metrics_gauge_add(MG_TLS_HANDSHAKES_IN_PROGRESS, 1);
    conn_attach(c, CONN_ATTACH_TLS_HANDSHAKE, p, admit_release);
    return TLS_ADMIT_OK;
}

/* why: TLS_ADMIT_OK for an eviction (the newcomer was admitted), else the refusal's cause. */
static void log_refusal(enum tls_admit_verdict why, const struct shuffled_config *cfg, uint64_t now)
{
    static _Atomic uint64_t refused_unlogged, next_log_ms;
    atomic_fetch_add(&refused_unlogged, 1);
    uint64_t due = atomic_load(&next_log_ms);
    if (now < due ||
        !atomic_compare_exchange_strong(&next_log_ms, &due, now + REFUSAL_LOG_INTERVAL_MS))
        return;
    uint64_t n = atomic_exchange(&refused_unlogged, 0);
    log_warn("TLS: %llu connection(s) closed by the handshake limits, the last as %s (in "
             "progress now %u, tls_max_handshakes_in_progress %u, tls_max_handshakes_per_second "
             "%u); a flood, or limits too low for the cluster "
             "(shuffled_tls_handshakes_refused_total, shuffled_tls_handshakes_evicted_total)",
             (unsigned long long)n,
             why == TLS_ADMIT_OK     ? "the oldest unfinished handshake, for a new one"
             : why == TLS_ADMIT_RATE ? "tls_max_handshakes_per_second was reached"
                                     : "tls_max_handshakes_in_progress was reached",
             tls_admit_in_progress(), cfg->tls_max_handshakes_in_progress,
             cfg->tls_max_handshakes_per_second);
}

static void on_handshake(void *arg, struct channel *ch, const char *failure)
{
    struct conn *c = arg;
    handshake_ended(c);
    if (failure) {
        log_warn("%s: TLS handshake refused: %s", conn_peer(c), failure);
        metrics_inc(MC_TLS_HANDSHAKE_FAILURES);
        return; /* the read fails and closes the connection */
    }
    bool ktls = channel_tls_ktls_send(ch);
    metrics_inc(MC_TLS_HANDSHAKES);
    metrics_inc(ktls ? MC_TLS_KTLS_CONNECTIONS : MC_TLS_USERSPACE_CONNECTIONS);
    char what[96];
    log_debug("%s: TLS handshake done: %s, file bytes by %s", conn_peer(c),
              channel_tls_describe(ch, what, sizeof what),
              ktls ? "kernel TLS (SSL_sendfile)" : "pread + SSL_write");
    if (!conn_server(c)->auth) /* with auth, its handshake's deadline goes on */
        conn_set_phase_deadline(c, 0, NULL);
}

void tls_conn_start(struct tls_context *t, struct conn *c)
{
    const struct shuffled_config *cfg = server_config(conn_server(c));
    uint64_t now = monotonic_ms();
    bool evicted = false;
    enum tls_admit_verdict v = admit(c, cfg, now, &evicted);
    if (evicted) {
        metrics_inc(MC_TLS_HANDSHAKES_EVICTED);
        log_refusal(TLS_ADMIT_OK, cfg, now);
    }
    if (v != TLS_ADMIT_OK) { /* closed before any TLS work: the flood costs an accept */
        metrics_inc(MC_TLS_HANDSHAKES_REFUSED);
        log_refusal(v, cfg, now);
        conn_close(c, "TLS handshake limit reached");
        return;
    }
    SSL *ssl = tls_context_new_ssl(t);
    /* AES may come under TLS (channel_under_tls.h): then records must pass through user space */
    if (ssl && server_config(conn_server(c))->crypto_enabled)
        SSL_clear_options(ssl, SSL_OP_ENABLE_KTLS);
    struct channel_tls_hooks hooks = {on_handshake, c};
    struct channel *ch = ssl ? channel_tls_new(conn_channel(c), ssl, &hooks) : NULL;
    if (!ch) {
        SSL_free(ssl);
        conn_close(c, "out of memory starting TLS");
        return;
    }
    conn_set_channel(c, ch);
    uint64_t ms = cfg->handshake_timeout_ms;
    if (ms)
        conn_set_phase_deadline(c, ms, "TLS handshake not completed within handshake_timeout_ms");
}

bool tls_kernel_available(void)
{
    return access("/sys/module/tls", F_OK) == 0;
}

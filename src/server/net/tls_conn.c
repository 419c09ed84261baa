/* SPDX-License-Identifier: Apache-2.0 */
/* A TLS connection's first phase; see tls_conn.h. */
#include <config.h>

#include "server/net/tls_conn.h"

#include <stdatomic.h>
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

/* A connection's place among the handshakes in progress, given back once: at the end of its
 * handshake or when it closes first (the attachment's release). */
static void admit_release(struct conn *c, void *state)
{
    (void)c;
    (void)state;
    tls_admit_end();
    metrics_gauge_add(MG_TLS_HANDSHAKES_IN_PROGRESS, -1);
}

static void handshake_ended(struct conn *c)
{
    if (conn_attachment(c, CONN_ATTACH_TLS_HANDSHAKE)) {
        admit_release(c, NULL);
        conn_attach(c, CONN_ATTACH_TLS_HANDSHAKE, NULL, NULL);
    }
}

static void log_refusal(enum tls_admit_verdict why, const struct shuffled_config *cfg, uint64_t now)
{
    static _Atomic uint64_t refused_unlogged, next_log_ms;
    atomic_fetch_add(&refused_unlogged, 1);
    uint64_t due = atomic_load(&next_log_ms);
    if (now < due ||
        !atomic_compare_exchange_strong(&next_log_ms, &due, now + REFUSAL_LOG_INTERVAL_MS))
        return;
    uint64_t n = atomic_exchange(&refused_unlogged, 0);
    log_warn("TLS: %llu connection(s) closed before their handshake: %s (in progress now %u, "
             "tls_max_handshakes_in_progress %u, tls_max_handshakes_per_second %u); a flood, "
             "or limits too low for the cluster (shuffled_tls_handshakes_refused_total)",
             (unsigned long long)n,
             why == TLS_ADMIT_RATE ? "tls_max_handshakes_per_second reached"
                                   : "tls_max_handshakes_in_progress reached",
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
    enum tls_admit_verdict v = tls_admit_begin(cfg->tls_max_handshakes_in_progress,
                                               cfg->tls_max_handshakes_per_second, now);
    if (v != TLS_ADMIT_OK) { /* closed before any TLS work: the flood costs an accept */
        metrics_inc(MC_TLS_HANDSHAKES_REFUSED);
        log_refusal(v, cfg, now);
        conn_close(c, "TLS handshake limit reached");
        return;
    }
    metrics_gauge_add(MG_TLS_HANDSHAKES_IN_PROGRESS, 1);
    conn_attach(c, CONN_ATTACH_TLS_HANDSHAKE, t, admit_release);
    SSL *ssl = tls_context_new_ssl(t);
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

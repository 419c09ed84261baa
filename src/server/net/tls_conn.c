/* SPDX-License-Identifier: Apache-2.0 */
/* A TLS connection's first phase; see tls_conn.h. */
#include <config.h>

#include "server/net/tls_conn.h"

#include <unistd.h>

#include "common/log.h"
#include "server/net/channel_tls.h"
#include "server/net/conn.h"
#include "server/net/tls_context.h"
#include "server/ops/metrics.h"
#include "server/server.h"

static void on_handshake(void *arg, struct channel *ch, const char *failure)
{
    struct conn *c = arg;
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
    uint64_t ms = server_config(conn_server(c))->handshake_timeout_ms;
    if (ms)
        conn_set_phase_deadline(c, ms, "TLS handshake not completed within handshake_timeout_ms");
}

bool tls_kernel_available(void)
{
    return access("/sys/module/tls", F_OK) == 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* spark.network.crypto on the daemon: the AES handshake (protocol.md 12.4 for Spark 2.2-3.1,
 * 12.5 for 3.2+) as the first step of the auth phase, then the AES-CTR channel; see auth_aes.h
 * and docs/crypto.md. The state machines and the channel are src/crypto and channel_aes.c. */
#include <config.h>

#include "server/net/auth_aes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/aes_auth.h"
#include "server/net/auth_secret.h"
#include "server/net/channel_aes.h"
#include "server/net/channel_tls.h"
#include "server/net/channel_under_tls.h"
#include "server/net/conn.h"
#include "server/net/handler.h"
#include "server/net/rpc_reply.h"
#include "common/log.h"
#include "server/ops/config.h"
#include "server/ops/metrics.h"
#include "server/server.h"

#define AUTH_FAILED "java.lang.IllegalArgumentException: Authentication failed."
#define UNKNOWN_CHALLENGE "java.lang.IllegalArgumentException: Unknown challenge message."

/* One handshake: the parsed message until the secret is known, then the answer. */
struct aes_job {
    struct aes_server s;
    struct reply_slot *slot;
    int64_t request_id;
    char *path;   /* per-app secret file (NULL: shared secret, or an id that names no file) */
    char *secret; /* the app's secret once read */
    char why[300];
};

static void job_free(struct aes_job *j)
{
    aes_server_free(&j->s);
    if (j->secret) {
        explicit_bzero(j->secret, strlen(j->secret));
        free(j->secret);
    }
    free(j->path);
    free(j);
}

/* Metrics once the channel has picked the engine version and cipher, and its bytes. */
static void channel_decided(void *arg, int protocol, bool gcm)
{
    (void)arg;
    static const enum metric_security ctr[] = {MS_AES_PBKDF2, MS_AES_X25519_V1, MS_AES_X25519_V2};
    if (gcm)
        metrics_security_connection(protocol == AES_PROTO_X25519_V1 ? MS_GCM_X25519_V1
                                                                    : MS_GCM_X25519_V2);
    else if (protocol >= 0 && protocol <= 2)
        metrics_security_connection(ctr[protocol]);
}

static void channel_bytes(void *arg, uint64_t decrypted, uint64_t encrypted)
{
    (void)arg;
    metrics_cipher_bytes(decrypted, encrypted);
}

static const struct channel_aes_hooks metric_hooks = {channel_decided, channel_bytes};

/* crypto_cipher as the channel's choice */
static enum channel_aes_cipher allowed_cipher(struct conn *c)
{
    switch (server_config(conn_server(c))->crypto_cipher) {
    case CRYPTO_CIPHER_CTR:
        return CHANNEL_AES_CTR;
    case CRYPTO_CIPHER_GCM:
        return CHANNEL_AES_GCM;
    default:
        return CHANNEL_AES_AUTO;
    }
}

/* The AES channel for c over what it has now: over the socket, or, on a TLS connection, under
 * TLS as Spark does (docs/tls.md). NULL when out of memory. */
static struct channel *aes_channel(struct conn *c, struct aes_job *j)
{
    struct channel *cur = conn_channel(c);
    struct channel *ch =
        channel_aes_new_undecided(channel_under_tls_base(cur), j->s.sessions, j->s.nsessions);
    if (!ch)
        return NULL;
    channel_aes_allow(ch, allowed_cipher(c));
    channel_aes_set_hooks(ch, &metric_hooks, NULL);
    if (channel_is_tls(cur))
        channel_aes_expect_tls_records(ch);
    return channel_under_tls_stack(cur, ch, channel_aes_abandon, conn_peer(c));
}

/* With the secret known (or not): answer, and on success switch the connection to AES. */
static void respond(struct conn *c, struct aes_job *j, const char *secret)
{
    char err[256];
    if (aes_server_respond(&j->s, secret, NULL, err, sizeof err) != 0) {
        log_warn("%s: AES authentication of app %s failed: %s", conn_peer(c), j->s.app_id, err);
        metrics_inc(MC_AUTH_FAILURES);
        rpc_answer_now(c, j->slot, j->request_id, false, AUTH_FAILED, strlen(AUTH_FAILED), true);
        return;
    }
    struct channel *ch = aes_channel(c, j);
    if (!ch) {
        log_error("%s: cannot set up AES encryption (out of memory); closing", conn_peer(c));
        conn_slot_discard(j->slot);
        conn_close(c, NULL);
        return;
    }
    /* the answer leaves in the clear; the channel takes over once it has */
    rpc_answer_now(c, j->slot, j->request_id, true, j->s.reply, j->s.reply_len, false);
    conn_set_channel(c, ch);
    conn_pop_phase(c);
    conn_set_phase_deadline(c, 0, NULL);
    metrics_inc(MC_AES_CONNECTIONS);
    log_debug("%s: authenticated as app %s (AES, %s)", conn_peer(c), j->s.app_id,
              j->s.x25519 ? "3.2+ protocol" : "v1 protocol");
}

/* Blocking pool: the app's own secret file. */
static void read_secret(void *arg)
{
    struct aes_job *j = arg;
    if (j->path && auth_secret_read(j->path, &j->secret, j->why, sizeof j->why) != 0)
        j->secret = NULL;
}

static void secret_read(struct conn *c, void *arg)
{
    struct aes_job *j = arg;
    if (!c) {
        conn_slot_discard(j->slot);
    } else {
        if (!j->secret)
            log_warn("%s: no secret for app %s: %s", conn_peer(c), j->s.app_id,
                     j->path ? j->why : "the app id cannot name a secret file");
        respond(c, j, j->secret);
    }
    job_free(j);
}

bool auth_aes_is_handshake(const uint8_t *body, size_t len)
{
    return len > 0 && (body[0] == 0xFA || body[0] == 0xFB);
}

bool auth_aes_on_rpc(struct conn *c, int64_t request_id, const uint8_t *body, size_t len,
                     const char *shared_secret, const char *secrets_dir, bool sasl_fallback)
{
    struct aes_job *j = calloc(1, sizeof *j);
    if (!j) {
        conn_close(c, "out of memory");
        return true;
    }
    aes_server_init(&j->s);
    char err[256];
    if (aes_server_parse(&j->s, body, len, err, sizeof err) != 0) {
        job_free(j);
        if (sasl_fallback)
            return false; /* SASL's handler refuses it, as Spark's does */
        log_warn("%s: malformed AES auth message: %s", conn_peer(c), err);
        rpc_answer_now(c, NULL, request_id, false, UNKNOWN_CHALLENGE, strlen(UNKNOWN_CHALLENGE),
                       true);
        return true;
    }
    conn_set_client_id(c, j->s.app_id); /* protocol.md 9.1 */
    j->request_id = request_id;
    j->slot = conn_slot_reserve(c, CONN_SLOT_RPC);
    if (!j->slot) {
        job_free(j);
        conn_close(c, "out of memory");
        return true;
    }
    if (!secrets_dir) {
        respond(c, j, shared_secret);
        job_free(j);
        return true;
    }
    const char *app = j->s.app_id;
    bool safe = app[0] && app[0] != '.' && !strchr(app, '/');
    if (safe && asprintf(&j->path, "%s/%s", secrets_dir, app) < 0)
        j->path = NULL;
    conn_run_blocking(c, read_secret, secret_read, j);
    return true;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* SASL DIGEST-MD5 server side; see auth.h. Cyrus finds the password through an auxprop
 * plugin of ours, which reads it from the connection's context (reached through the
 * connection's GETOPT callback), so a per-app secret source can slot in later. */
#include <config.h>

#include "server/net/auth.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sasl/sasl.h>
#include <sasl/saslplug.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/sasl_mutex.h"
#include "proto/saslmsg.h"
#include "server/net/auth_aes.h"
#include "server/net/auth_secret.h"
#include "server/net/channel_sasl.h"
#include "server/net/channel_under_tls.h"
#include "server/ops/config.h"
#include "server/net/conn.h"
#include "server/net/handler.h"
#include "server/net/rpc_reply.h"
#include "server/net/sasl_offer.h"
#include "common/log.h"
#include "server/ops/metrics.h"
#include "server/server.h"

#define AUXPROP_NAME "shuffled"
#define OPT_PASSWORD "shuffled_spark_password" /* ours: the connection's password */
#define SASL_FAILED "java.lang.RuntimeException: javax.security.sasl.SaslException: DIGEST-MD5: "

struct auth_server {
    char *password;    /* Spark's SASL password for the shared secret (protocol.md 12.2), or */
    char *secrets_dir; /* per-app secrets: the file named by the app id */
    char *secret;      /* the shared secret itself (the AES protocol derives its keys from it) */
};

struct conn_auth {
    sasl_conn_t *sasl;
    sasl_callback_t cbs[3];
    const char *password; /* the shared one, or owned; NULL: authentication will fail */
    char *owned;          /* the app's own secret's password (secrets_dir) */
    bool loading;         /* the app's secret is being read on the blocking pool */
    int encryption;       /* enum sasl_encryption when the session started */
};

/* Cyrus takes every callback as int (*)(void); the real type depends on the id. */
#define CB(f) ((int (*)(void))(void (*)(void))(f))

/* ---- Cyrus glue ---- */

static int sasl_log(void *ctx, int level, const char *message)
{
    if (level <= SASL_LOG_ERR)
        log_warn("sasl: %s", message);
    else
        log_debug("sasl: %s", message);
    return SASL_OK;
}

/* Global and per-connection options: our auxprop plugin, DIGEST-MD5 only, no reauth cache. */
static int getopt_cb(void *ctx, const char *plugin, const char *option, const char **result,
                     unsigned *len)
{
    if (strcmp(option, "auxprop_plugin") == 0)
        *result = AUXPROP_NAME;
    else if (strcmp(option, "mech_list") == 0)
        *result = "DIGEST-MD5";
    else if (strcmp(option, "reauth_timeout") == 0)
        *result = "0";
    else if (strcmp(option, OPT_PASSWORD) == 0 && ctx && ((const struct conn_auth *)ctx)->password)
        *result = ((const struct conn_auth *)ctx)->password;
    else
        return SASL_FAIL;
    if (len)
        *len = (unsigned)strlen(*result);
    return SASL_OK;
}

static int auxprop_lookup(void *glob, sasl_server_params_t *sp, unsigned flags, const char *user,
                          unsigned ulen)
{
    if (flags & SASL_AUXPROP_AUTHZID)
        return SASL_NOUSER;
    size_t ul = strlen(SASL_SPARK_USER);
    /* Cyrus presents the user as "c3BhcmtTYXNsVXNlcg==@default" */
    if (ulen < ul || memcmp(user, SASL_SPARK_USER, ul) != 0 || (ulen > ul && user[ul] != '@'))
        return SASL_NOUSER;
    /* Cyrus hands out its own GETOPT dispatcher, which asks the connection's callback first:
     * that one knows the connection's password */
    sasl_callback_ft proc = NULL;
    void *ctx = NULL;
    const char *password = NULL;
    unsigned plen = 0;
    if (sp->utils->getcallback(sp->utils->conn, SASL_CB_GETOPT, &proc, &ctx) != SASL_OK || !proc ||
        ((sasl_getopt_t *)(void (*)(void))proc)(ctx, AUXPROP_NAME, OPT_PASSWORD, &password,
                                                &plen) != SASL_OK ||
        !password)
        return SASL_NOUSER;
    int found = 0;
    for (const struct propval *pv = sp->utils->prop_get(sp->propctx); pv && pv->name; pv++) {
        const char *name = pv->name[0] == '*' ? pv->name + 1 : pv->name;
        if (strcmp(name, SASL_AUX_PASSWORD_PROP) != 0 || pv->values)
            continue;
        sp->utils->prop_set(sp->propctx, pv->name, password, (int)plen);
        found = 1;
    }
    return found ? SASL_OK : SASL_NOUSER;
}

static sasl_auxprop_plug_t auxprop_plug = {
    .auxprop_lookup = auxprop_lookup,
    .name = AUXPROP_NAME,
};

static int auxprop_init(const sasl_utils_t *utils, int max_version, int *out_version,
                        sasl_auxprop_plug_t **plug, const char *plugname)
{
    if (max_version < SASL_AUXPROP_PLUG_VERSION)
        return SASL_BADVERS;
    *out_version = SASL_AUXPROP_PLUG_VERSION;
    *plug = &auxprop_plug;
    return SASL_OK;
}

static const sasl_callback_t global_cbs[] = {
    {SASL_CB_LOG, CB(sasl_log), NULL},
    {SASL_CB_GETOPT, CB(getopt_cb), NULL},
    {SASL_CB_LIST_END, NULL, NULL},
};

static void password_free(char *p)
{
    if (p) {
        explicit_bzero(p, strlen(p));
        free(p);
    }
}

static void auth_server_free(struct auth_server *a)
{
    password_free(a->password);
    password_free(a->secret);
    free(a->secrets_dir);
    free(a);
}

struct auth_server *auth_server_create(const struct shuffled_config *cfg, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    if (!cfg->auth_enabled)
        return NULL;
    char why[400], *secret = NULL;
    bool per_app = cfg->auth_app_secrets_dir[0] != '\0';
    if (!per_app && auth_secret_read(cfg->auth_secret_file, &secret, why, sizeof why) != 0) {
        snprintf(err, errlen, "auth_secret_file: %s", why);
        return NULL;
    }
    struct auth_server *a = calloc(1, sizeof *a);
    if (a && per_app)
        a->secrets_dir = strdup(cfg->auth_app_secrets_dir);
    else if (a) {
        a->password = sasl_spark_password(secret);
        a->secret = secret; /* kept for the AES protocol; wiped with the auth server */
        secret = NULL;
    }
    if (secret) {
        explicit_bzero(secret, strlen(secret));
        free(secret);
    }
    if (!a || (!a->password && !a->secrets_dir)) {
        free(a);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    sasl_use_pthread_mutexes();
    int rc = sasl_server_init(global_cbs, "shuffled");
    if (rc == SASL_OK)
        rc = sasl_auxprop_add_plugin(AUXPROP_NAME, auxprop_init);
    const char *const *mechs = rc == SASL_OK ? sasl_global_listmech() : NULL;
    bool digest = false;
    for (size_t i = 0; mechs && mechs[i]; i++)
        digest |= strcmp(mechs[i], "DIGEST-MD5") == 0;
    if (rc != SASL_OK || !digest) {
        snprintf(err, errlen,
                 rc != SASL_OK ? "cannot start Cyrus SASL: %s"
                               : "Cyrus SASL has no DIGEST-MD5 mechanism%s: install the Debian "
                                 "package libsasl2-modules",
                 rc != SASL_OK ? sasl_errstring(rc, NULL, NULL) : "");
        sasl_server_done();
        auth_server_free(a);
        return NULL;
    }
    static const char *const qops[] = {"QOP auth", "QOP auth, auth-conf with rc4",
                                       "QOP auth-conf with rc4 only"};
    log_info("authentication on: SASL DIGEST-MD5 (%s)%s, %s %s", qops[cfg->sasl_encryption],
             cfg->crypto_enabled ? (cfg->crypto_sasl_fallback ? " and AES (spark.network.crypto)"
                                                              : ", AES only (spark.network.crypto)")
                                 : "",
             per_app ? "per-app secrets in" : "shared secret from",
             per_app ? cfg->auth_app_secrets_dir : cfg->auth_secret_file);
    return a;
}

void auth_server_destroy(struct auth_server *a)
{
    if (!a)
        return;
    sasl_server_done();
    auth_server_free(a);
}

void auth_conn_free(struct conn_auth *ca)
{
    if (!ca)
        return;
    if (ca->sasl)
        sasl_dispose(&ca->sasl);
    password_free(ca->owned);
    free(ca);
}

/* ---- the handshake ---- */

static void refuse(struct conn *c, int64_t request_id, const char *error, bool close)
{
    rpc_answer_now(c, NULL, request_id, false, error, strlen(error), close);
}

static void release_auth(struct conn *c, void *state)
{
    (void)c;
    auth_conn_free(state);
}

static struct conn_auth *conn_auth_of(struct conn *c)
{
    return conn_attachment(c, CONN_ATTACH_AUTH);
}

/* Security properties per sasl_encryption. Cyrus offers a cipher when its strength lies in
 * [min_ssf, max_ssf] and QOP auth only when min_ssf is 0: "required" pins both to rc4's 128,
 * so auth-conf with rc4 is all that is offered. maxbufsize: Java wraps 64 KiB of plaintext
 * per piece, over Cyrus's default limit (protocol.md 12.2). */
static sasl_security_properties_t security_props(int encryption)
{
    return (sasl_security_properties_t){.min_ssf = encryption == SASL_ENCRYPTION_REQUIRED ? 128 : 0,
                                        .max_ssf = encryption == SASL_ENCRYPTION_OFF ? 0 : 128,
                                        .maxbufsize =
                                            encryption == SASL_ENCRYPTION_OFF ? 65536 : 16777215};
}

static struct conn_auth *conn_auth_new(struct auth_server *a, int encryption)
{
    struct conn_auth *ca = calloc(1, sizeof *ca);
    if (!ca)
        return NULL;
    ca->password = a->password; /* NULL with per-app secrets: set once read */
    ca->cbs[0] = (sasl_callback_t){SASL_CB_GETOPT, CB(getopt_cb), ca};
    ca->cbs[1] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
    /* service "null", server "default", realm "default": what Spark's Java side uses */
    if (sasl_server_new("null", "default", "default", NULL, NULL, ca->cbs, SASL_SUCCESS_DATA,
                        &ca->sasl) != SASL_OK) {
        free(ca);
        return NULL;
    }
    /* QOP auth; unless sasl_encryption is off also auth-conf, for clients that ask for it
     * (spark.authenticate.enableSaslEncryption), as Spark's server offers both */
    ca->encryption = encryption;
    sasl_security_properties_t sp = security_props(encryption);
    sasl_setprop(ca->sasl, SASL_SEC_PROPS, &sp);
    return ca;
}

static void release_session(void *ca)
{
    auth_conn_free(ca);
}

/* After the handshake: with QOP auth-conf negotiated, everything after its last message is
 * wrapped, and the session (with what its callbacks use) lives on in the channel; otherwise
 * it ends here. */
static void end_handshake(struct conn *c, struct conn_auth *ca)
{
    const void *ssf = NULL;
    if (sasl_getprop(ca->sasl, SASL_SSF, &ssf) != SASL_OK || !ssf ||
        *(const sasl_ssf_t *)ssf == 0) {
        metrics_security_connection(MS_SASL);
        auth_conn_free(ca);
        return;
    }
    unsigned bits = (unsigned)*(const sasl_ssf_t *)ssf;
    /* under TLS as Spark's SaslEncryption (addFirst) puts it: channel_under_tls.h */
    struct channel *cur = conn_channel(c);
    struct channel *ch =
        channel_sasl_new(channel_under_tls_base(cur), ca->sasl, release_session, ca);
    if (!ch)
        auth_conn_free(ca);
    else
        ch = channel_under_tls_stack(cur, ch, channel_sasl_abandon, conn_peer(c));
    if (!ch) { /* ca is released */
        log_error("%s: cannot set up SASL encryption (out of memory); closing", conn_peer(c));
        conn_close(c, NULL);
        return;
    }
    conn_set_channel(c, ch);
    metrics_security_connection(MS_SASL_AUTH_CONF);
    static _Atomic bool warned; /* once per process: the cost is per session, the fix upstream */
    if (!atomic_exchange(&warned, true))
        log_warn("SASL encryption (auth-conf) in use: Debian 12's Cyrus DIGEST-MD5 plugin leaks "
                 "about 6 KiB per encrypted session; prefer spark.network.crypto (crypto_enabled) "
                 "or set sasl_encryption to \"off\"");
    log_debug("%s: SASL encryption (auth-conf, %u-bit) on", conn_peer(c), bits);
}

/* One handshake step (first: sasl_server_start) answered into slot (NULL: the next one). */
static void run_step(struct conn *c, struct reply_slot *slot, int64_t request_id,
                     const uint8_t *token, size_t len, bool first)
{
    struct conn_auth *ca = conn_auth_of(c);
    const char *out = NULL;
    unsigned outlen = 0;
    int rc = first ? sasl_server_start(ca->sasl, "DIGEST-MD5", (const char *)token, (unsigned)len,
                                       &out, &outlen)
                   : sasl_server_step(ca->sasl, (const char *)token, (unsigned)len, &out, &outlen);
    if (rc == SASL_CONTINUE || rc == SASL_OK) {
        char offer[1024];
        size_t n = first && ca->encryption != SASL_ENCRYPTION_OFF
                       ? sasl_offer_rc4_only(out, outlen, offer, sizeof offer)
                       : 0;
        if (n)
            rpc_answer_now(c, slot, request_id, true, offer, n, false);
        else
            rpc_answer_now(c, slot, request_id, true, out, outlen, false);
        if (rc == SASL_OK && !conn_is_closed(c)) {
            log_debug("%s: authenticated as app %s", conn_peer(c), conn_client_id(c));
            conn_pop_phase(c); /* from now on every message goes to dispatch */
            conn_set_phase_deadline(c, 0, NULL);
            conn_attach(c, CONN_ATTACH_AUTH, NULL, NULL);
            end_handshake(c, ca);
        }
        return;
    }
    const char *detail = sasl_errdetail(ca->sasl);
    metrics_inc(MC_AUTH_FAILURES);
    log_warn("%s: authentication of app %s failed: %s", conn_peer(c), conn_client_id(c),
             detail ? detail : sasl_errstring(rc, NULL, NULL));
    char err[400];
    if (rc == SASL_BADAUTH || rc == SASL_NOUSER)
        snprintf(err, sizeof err,
                 SASL_FAILED "digest response format violation. Mismatched response.");
    else
        snprintf(err, sizeof err, SASL_FAILED "%s", sasl_errstring(rc, NULL, NULL));
    rpc_answer_now(c, slot, request_id, false, err, strlen(err), true);
}

/* Per-app secrets: the file is read on the blocking pool (never on the event loop); the
 * first step runs when it is back. No file (or an app id that cannot be a file name) leaves
 * the password unset, so the exchange fails at the client's response, as Spark's does. */
struct secret_job {
    struct reply_slot *slot;
    int64_t request_id;
    char *path;     /* NULL: the app id is not a safe file name */
    char *password; /* result */
    char why[300];
    size_t token_len;
    uint8_t token[]; /* C1's token (empty for DIGEST-MD5) */
};

static void read_app_secret(void *arg)
{
    struct secret_job *j = arg;
    char *secret = NULL;
    if (!j->path) {
        snprintf(j->why, sizeof j->why, "the app id cannot name a secret file");
    } else if (auth_secret_read(j->path, &secret, j->why, sizeof j->why) == 0) {
        j->password = sasl_spark_password(secret);
        password_free(secret);
    }
}

static void app_secret_read(struct conn *c, void *arg)
{
    struct secret_job *j = arg;
    if (!c) {
        conn_slot_discard(j->slot);
    } else {
        struct conn_auth *ca = conn_auth_of(c);
        ca->loading = false;
        ca->owned = j->password;
        ca->password = j->password;
        j->password = NULL;
        if (!ca->password)
            log_warn("%s: no secret for app %s: %s", conn_peer(c), conn_client_id(c), j->why);
        run_step(c, j->slot, j->request_id, j->token, j->token_len, true);
    }
    password_free(j->password);
    free(j->path);
    free(j);
}

static void load_app_secret(struct auth_server *a, struct conn *c, int64_t request_id,
                            const uint8_t *token, size_t len)
{
    const char *app = conn_client_id(c);
    struct secret_job *j = calloc(1, sizeof *j + len);
    struct reply_slot *slot = j ? conn_slot_reserve(c, CONN_SLOT_RPC) : NULL;
    if (!slot) {
        free(j);
        conn_close(c, "out of memory");
        return;
    }
    j->slot = slot;
    j->request_id = request_id;
    j->token_len = len;
    memcpy(j->token, token, len);
    bool safe = app[0] && app[0] != '.' && !strchr(app, '/') && strlen(app) <= 255;
    if (safe && asprintf(&j->path, "%s/%s", a->secrets_dir, app) < 0)
        j->path = NULL;
    conn_auth_of(c)->loading = true;
    conn_run_blocking(c, read_app_secret, app_secret_read, j);
}

static void on_rpc(struct auth_server *a, struct conn *c, int64_t request_id, const uint8_t *body,
                   size_t len)
{
    struct saslmsg m;
    char why[160];
    const struct shuffled_config *cfg = server_config(conn_server(c));
    if (cfg->crypto_enabled && !conn_auth_of(c)) {
        if (auth_aes_is_handshake(body, len) &&
            auth_aes_on_rpc(c, request_id, body, len, a->secret, a->secrets_dir,
                            cfg->crypto_sasl_fallback))
            return;
        if (!cfg->crypto_sasl_fallback) { /* spark.network.crypto.saslFallback=false */
            log_info("%s: not an AES auth message and SASL fallback is off; closing", conn_peer(c));
            refuse(c, request_id, "java.lang.IllegalArgumentException: Unknown challenge message.",
                   true);
            return;
        }
    }
    if (saslmsg_decode(body, len, &m, why, sizeof why) != 0) {
        /* also what a client running the AES protocol (ClientChallenge) gets: it may fall
         * back to SASL on the same connection, so the connection stays open */
        log_info("%s: RPC before authentication refused: %s", conn_peer(c), why);
        refuse(c, request_id,
               "java.lang.IllegalStateException: Expected SaslMessage, received something else "
               "(maybe your client does not have SASL enabled?)",
               false);
        return;
    }
    struct conn_auth *ca = conn_auth_of(c);
    if (!ca) {
        char *app = strndup(m.app_id, m.app_id_len);
        if (app)
            conn_set_client_id(c, app); /* protocol.md 9.1: before the handshake finishes */
        free(app);
        if (!app || !conn_client_id(c) ||
            !(ca = conn_auth_new(a, server_config(conn_server(c))->sasl_encryption))) {
            log_error("%s: cannot start a SASL session: out of memory or Cyrus failure",
                      conn_peer(c));
            refuse(c, request_id, SASL_FAILED "cannot start a SASL session", true);
            return;
        }
        conn_attach(c, CONN_ATTACH_AUTH, ca, release_auth);
        if (a->secrets_dir)
            load_app_secret(a, c, request_id, m.token, m.token_len);
        else
            run_step(c, NULL, request_id, m.token, m.token_len, true);
    } else if (ca->loading) {
        refuse(c, request_id, SASL_FAILED "SaslMessage sent before the previous one was answered",
               true);
    } else {
        run_step(c, NULL, request_id, m.token, m.token_len, false);
    }
}

/* The phase in front of dispatch until the handshake succeeds: RPCs are handshake steps,
 * one-way messages and uploads are refused; chunk and stream requests pass down (no stream
 * can be open yet, so they fail as unknown ones). */
static void auth_on_msg(void *ctx, struct conn *c, const struct proto_msg *m)
{
    struct auth_server *a = ctx;
    switch (m->type) {
    case PROTO_RPC_REQUEST:
        on_rpc(a, c, m->u.rpc.request_id, m->u.rpc.body.data, m->u.rpc.body.len);
        break;
    case PROTO_ONE_WAY_MESSAGE:
        log_warn("%s: OneWayMessage before authentication dropped (java.lang.SecurityException: "
                 "Unauthenticated call to receive().)",
                 conn_peer(c));
        break;
    case PROTO_UPLOAD_STREAM:
        log_info("%s: UploadStream before authentication refused; closing after the reply",
                 conn_peer(c));
        refuse(c, m->u.upload_stream.request_id,
               "java.lang.SecurityException: Unauthenticated call to receiveStream().", true);
        break;
    default:
        conn_pass_down(c, m);
        break;
    }
}

void auth_conn_opened(void *auth_server, struct conn *c)
{
    if (conn_push_phase(c, (struct conn_phase){auth_on_msg, auth_server}) != 0) {
        conn_close(c, "cannot start authentication");
        return;
    }
    uint64_t ms = server_config(conn_server(c))->handshake_timeout_ms;
    if (ms)
        conn_set_phase_deadline(c, ms, "authentication not completed within handshake_timeout_ms");
}

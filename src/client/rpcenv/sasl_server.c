/* SPDX-License-Identifier: Apache-2.0 */
/* The accepting side of spark.authenticate for the RPC env: SASL DIGEST-MD5 through Cyrus
 * libsasl2's server API, one session per connection; see sasl_server.h. */
#include <config.h>

#include "client/rpcenv/sasl_server.h"

#include <pthread.h>
#include <sasl/sasl.h>
#include <sasl/saslplug.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/sasl_mutex.h"
#include "proto/saslmsg.h"

/* Cyrus wants every callback as int (*)(void); the real type goes with the id. */
#define AS_CB(f) ((int (*)(void))(void (*)(void))(f))

/* Our password source, a Cyrus auxprop plugin, and the option through which it asks a
 * session's own callback for the password (Cyrus keeps no per-session plugin state). */
#define RPC_AUXPROP "shuffle-rpc-secret"
#define RPC_OPT_PASSWORD "shuffle_rpc_password"

struct rpc_sasl_session {
    sasl_conn_t *conn;
    sasl_callback_t callbacks[2];
    const char *password;
    bool started;
};

static pthread_mutex_t users_lock = PTHREAD_MUTEX_INITIALIZER;
static int users; /* envs with a secret: Cyrus's server side stays up while there are any */

static int options(void *ctx, const char *plugin, const char *option, const char **result,
                   unsigned *len)
{
    (void)plugin;
    const struct rpc_sasl_session *s = ctx;
    if (strcmp(option, "mech_list") == 0)
        *result = "DIGEST-MD5";
    else if (strcmp(option, "auxprop_plugin") == 0)
        *result = RPC_AUXPROP;
    else if (strcmp(option, "reauth_timeout") == 0)
        *result = "0";
    else if (s && strcmp(option, RPC_OPT_PASSWORD) == 0)
        *result = s->password;
    else
        return SASL_FAIL;
    if (len)
        *len = (unsigned)strlen(*result);
    return SASL_OK;
}

static int silent(void *ctx, int level, const char *message)
{
    (void)ctx;
    (void)level;
    (void)message;
    return SASL_OK; /* the asker learns of failures through the RpcFailure */
}

/* Cyrus asks for the user's stored password: Spark's one user, the session's password. */
static int password_lookup(void *glob, sasl_server_params_t *params, unsigned flags,
                           const char *user, unsigned user_len)
{
    (void)glob;
    size_t n = strlen(SASL_SPARK_USER);
    bool spark_user = user_len >= n && memcmp(user, SASL_SPARK_USER, n) == 0 &&
                      (user_len == n || user[n] == '@'); /* Cyrus appends "@realm" */
    if ((flags & SASL_AUXPROP_AUTHZID) || !spark_user)
        return SASL_NOUSER;
    sasl_callback_ft cb = NULL;
    void *ctx = NULL;
    const char *password = NULL;
    unsigned len = 0;
    if (params->utils->getcallback(params->utils->conn, SASL_CB_GETOPT, &cb, &ctx) != SASL_OK ||
        !cb)
        return SASL_NOUSER;
    sasl_getopt_t *getopt = (sasl_getopt_t *)(void (*)(void))cb;
    if (getopt(ctx, RPC_AUXPROP, RPC_OPT_PASSWORD, &password, &len) != SASL_OK || !password)
        return SASL_NOUSER;
    int set = 0;
    for (const struct propval *p = params->utils->prop_get(params->propctx); p && p->name; p++) {
        const char *name = p->name + (p->name[0] == '*');
        if (!p->values && strcmp(name, SASL_AUX_PASSWORD_PROP) == 0) {
            params->utils->prop_set(params->propctx, p->name, password, (int)len);
            set++;
        }
    }
    return set ? SASL_OK : SASL_NOUSER;
}

static sasl_auxprop_plug_t password_plugin = {
    .auxprop_lookup = password_lookup,
    .name = RPC_AUXPROP,
};

static int password_plugin_init(const sasl_utils_t *utils, int max_version, int *out_version,
                                sasl_auxprop_plug_t **plug, const char *name)
{
    (void)utils;
    (void)name;
    if (max_version < SASL_AUXPROP_PLUG_VERSION)
        return SASL_BADVERS;
    *out_version = SASL_AUXPROP_PLUG_VERSION;
    *plug = &password_plugin;
    return SASL_OK;
}

static const sasl_callback_t process_callbacks[] = {
    {SASL_CB_LOG, AS_CB(silent), NULL},
    {SASL_CB_GETOPT, AS_CB(options), NULL},
    {SASL_CB_LIST_END, NULL, NULL},
};

int rpc_sasl_server_start(char *err, size_t errlen)
{
    pthread_mutex_lock(&users_lock);
    int rc = SASL_OK;
    if (users == 0) {
        sasl_use_pthread_mutexes();
        rc = sasl_server_init(process_callbacks, "shuffle-rpc");
        if (rc == SASL_OK)
            rc = sasl_auxprop_add_plugin(RPC_AUXPROP, password_plugin_init);
        if (rc != SASL_OK)
            snprintf(err, errlen, "cannot start Cyrus SASL's server side: %s",
                     sasl_errstring(rc, NULL, NULL));
    }
    if (rc == SASL_OK)
        users++;
    pthread_mutex_unlock(&users_lock);
    return rc == SASL_OK ? 0 : -1;
}

void rpc_sasl_server_stop(void)
{
    pthread_mutex_lock(&users_lock);
    if (users > 0 && --users == 0)
        sasl_server_done();
    pthread_mutex_unlock(&users_lock);
}

struct rpc_sasl_session *rpc_sasl_session_new(const char *password)
{
    struct rpc_sasl_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->password = password;
    s->callbacks[0] = (sasl_callback_t){SASL_CB_GETOPT, AS_CB(options), s};
    s->callbacks[1] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
    /* the service, server and realm names Spark's Java client expects */
    if (sasl_server_new("null", "default", "default", NULL, NULL, s->callbacks, SASL_SUCCESS_DATA,
                        &s->conn) != SASL_OK) {
        free(s);
        return NULL;
    }
    /* QOP auth only: no SASL encryption layer on these connections */
    sasl_security_properties_t props = {.min_ssf = 0, .max_ssf = 0, .maxbufsize = 65536};
    sasl_setprop(s->conn, SASL_SEC_PROPS, &props);
    return s;
}

void rpc_sasl_session_free(struct rpc_sasl_session *s)
{
    if (!s)
        return;
    if (s->conn)
        sasl_dispose(&s->conn);
    free(s);
}

int rpc_sasl_session_step(struct rpc_sasl_session *s, const uint8_t *token, size_t len,
                          const uint8_t **out, size_t *out_len, char *why, size_t whylen)
{
    const char *data = NULL;
    unsigned n = 0;
    int rc = s->started ? sasl_server_step(s->conn, (const char *)token, (unsigned)len, &data, &n)
                        : sasl_server_start(s->conn, "DIGEST-MD5", (const char *)token,
                                            (unsigned)len, &data, &n);
    s->started = true;
    *out = (const uint8_t *)data;
    *out_len = n;
    if (rc == SASL_OK)
        return 1;
    if (rc == SASL_CONTINUE)
        return 0;
    snprintf(why, whylen, "DIGEST-MD5: %s", sasl_errdetail(s->conn));
    return -1;
}

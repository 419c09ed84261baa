/* SPDX-License-Identifier: Apache-2.0 */
/* SASL DIGEST-MD5 client (Cyrus libsasl2) as a connection phase; see auth.h. */
#include <config.h>

#include "client/auth.h"

#include <pthread.h>
#include <sasl/sasl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/util.h"
#include "proto/sasl_mutex.h"
#include "proto/saslmsg.h"
#include "shuffle/client.h"

/* Cyrus takes every callback as int (*)(void); the real type depends on the id. */
#define CB(f) ((int (*)(void))(void (*)(void))(f))

/* Cyrus SASL is process-wide: started by the first client with auth, shut down (which
 * frees its plugins) when the last one goes. */
static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static int global_users;

static int quiet_log(void *ctx, int level, const char *message)
{
    return SASL_OK; /* failures reach the caller through the request's error */
}

static const sasl_callback_t global_cbs[] = {
    {SASL_CB_LOG, CB(quiet_log), NULL},
    {SASL_CB_LIST_END, NULL, NULL},
};

bool auth_creds_enabled(const struct auth_creds *cr)
{
    return cr->password != NULL;
}

int auth_creds_init(struct auth_creds *cr, const char *app_id, const char *secret, int timeout_ms,
                    char *err, size_t errlen)
{
    memset(cr, 0, sizeof(*cr));
    cr->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
    if (!secret)
        return SHUFFLE_OK;
    if (!*secret || !app_id || !*app_id) {
        client_set_err(err, errlen, "authentication needs a non-empty auth_secret and auth_app_id");
        return SHUFFLE_EINVAL;
    }
    pthread_mutex_lock(&global_lock);
    int rc = SASL_OK;
    if (global_users == 0) {
        sasl_use_pthread_mutexes();
        rc = sasl_client_init(global_cbs);
    }
    if (rc == SASL_OK)
        global_users++;
    pthread_mutex_unlock(&global_lock);
    if (rc != SASL_OK) {
        client_set_err(err, errlen, "cannot start Cyrus SASL: %s", sasl_errstring(rc, NULL, NULL));
        return SHUFFLE_ELOCAL;
    }
    cr->app_id = strdup(app_id);
    cr->password = sasl_spark_password(secret);
    if (!cr->app_id || !cr->password) {
        auth_creds_release(cr);
        client_set_err(err, errlen, "out of memory");
        return SHUFFLE_ELOCAL;
    }
    return SHUFFLE_OK;
}

void auth_creds_release(struct auth_creds *cr)
{
    if (!cr->app_id && !cr->password)
        return;
    if (cr->password) {
        explicit_bzero(cr->password, strlen(cr->password));
        free(cr->password);
    }
    free(cr->app_id);
    cr->password = cr->app_id = NULL;
    pthread_mutex_lock(&global_lock);
    if (--global_users == 0)
        sasl_client_done();
    pthread_mutex_unlock(&global_lock);
}

struct auth_phase {
    const struct auth_creds *cr;
    sasl_conn_t *sasl;
    sasl_callback_t cbs[5];
    sasl_secret_t *secret;
};

static int get_simple(void *ctx, int id, const char **result, unsigned *len)
{
    *result = id == SASL_CB_AUTHNAME ? SASL_SPARK_USER : ""; /* USER "": no authzid */
    if (len)
        *len = (unsigned)strlen(*result);
    return SASL_OK;
}

static int get_secret(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **out)
{
    *out = ((struct auth_phase *)ctx)->secret;
    return SASL_OK;
}

static int get_realm(void *ctx, int id, const char **avail, const char **result)
{
    *result = "default";
    return SASL_OK;
}

void auth_phase_free(struct auth_phase *a)
{
    if (!a)
        return;
    if (a->sasl)
        sasl_dispose(&a->sasl);
    if (a->secret) {
        explicit_bzero(a->secret->data, a->secret->len);
        free(a->secret);
    }
    free(a);
}

void auth_step_clear(struct auth_step *s)
{
    free(s->msg);
    free(s->why);
    link_clear(&s->link);
    memset(s, 0, sizeof(*s));
}

static void step_fail(struct auth_step *step, int status, const char *why)
{
    memset(step, 0, sizeof(*step));
    step->next = AUTH_FAILED;
    step->status = status;
    step->why = client_strf("%s", why);
}

/* The SaslMessage carrying token, to be sent. */
static void step_send(const struct auth_phase *a, const char *token, unsigned len,
                      struct auth_step *step)
{
    memset(step, 0, sizeof(*step));
    if (saslmsg_encode(a->cr->app_id, (const uint8_t *)token, len, &step->msg, &step->len) != 0)
        step_fail(step, SHUFFLE_ELOCAL, "out of memory");
    else
        step->next = AUTH_SEND;
}

void auth_phase_step(struct auth_phase *a, const uint8_t *reply, size_t len, struct auth_step *step)
{
    const char *out = NULL;
    unsigned outlen = 0;
    int rc = sasl_client_step(a->sasl, (const char *)reply, (unsigned)len, NULL, &out, &outlen);
    if (rc == SASL_OK) {
        memset(step, 0, sizeof(*step));
        step->next = AUTH_DONE; /* S2 checked (rspauth): Spark's client sends nothing more */
    } else if (rc == SASL_CONTINUE) {
        step_send(a, out, outlen, step);
    } else {
        step_fail(step, SHUFFLE_EAUTH, sasl_errdetail(a->sasl));
    }
}

struct auth_phase *auth_phase_start(const struct auth_creds *cr, struct auth_step *step)
{
    struct auth_phase *a = calloc(1, sizeof *a);
    size_t plen = strlen(cr->password);
    if (!a || !(a->secret = malloc(sizeof(sasl_secret_t) + plen))) {
        auth_phase_free(a);
        step_fail(step, SHUFFLE_ELOCAL, "out of memory");
        return NULL;
    }
    a->cr = cr;
    a->secret->len = plen;
    memcpy(a->secret->data, cr->password, plen);
    a->cbs[0] = (sasl_callback_t){SASL_CB_AUTHNAME, CB(get_simple), a};
    a->cbs[1] = (sasl_callback_t){SASL_CB_USER, CB(get_simple), a};
    a->cbs[2] = (sasl_callback_t){SASL_CB_PASS, CB(get_secret), a};
    a->cbs[3] = (sasl_callback_t){SASL_CB_GETREALM, CB(get_realm), a};
    a->cbs[4] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
    const char *out = NULL, *mech = NULL;
    unsigned outlen = 0;
    /* service "null", server "default": Spark's digest-uri "null/default" */
    int rc = sasl_client_new("null", "default", NULL, NULL, a->cbs, 0, &a->sasl);
    if (rc == SASL_OK) {
        sasl_security_properties_t sp = {.min_ssf = 0, .max_ssf = 0, .maxbufsize = 65536};
        rc = sasl_setprop(a->sasl, SASL_SEC_PROPS, &sp);
    }
    if (rc == SASL_OK)
        rc = sasl_client_start(a->sasl, "DIGEST-MD5", NULL, &out, &outlen, &mech);
    if (rc != SASL_CONTINUE) {
        char why[300];
        snprintf(why, sizeof why, "%s%s",
                 a->sasl ? sasl_errdetail(a->sasl) : sasl_errstring(rc, NULL, NULL),
                 rc == SASL_NOMECH ? " (is the Debian package libsasl2-modules installed?)" : "");
        step_fail(step, SHUFFLE_EAUTH, why);
        return a;
    }
    step_send(a, out, outlen, step); /* C1: DIGEST-MD5 has no initial response */
    return a;
}

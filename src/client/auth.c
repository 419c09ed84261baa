/* SASL DIGEST-MD5 client (Cyrus libsasl2); see auth.h. */
#include "config.h"

#include "client/auth.h"

#include <pthread.h>
#include <sasl/sasl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "client/transport.h"
#include "proto/sasl_mutex.h"
#include "proto/saslmsg.h"

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

int client_auth_setup(shuffle_client *c, char *err, size_t errlen)
{
    const char *secret = c->opts.auth_secret, *app = c->opts.auth_app_id;
    c->opts.auth_secret = NULL;
    c->opts.auth_app_id = NULL;
    if (c->opts.auth_timeout_ms <= 0)
        c->opts.auth_timeout_ms = 30000;
    if (!secret)
        return 0;
    if (!*secret || !app || !*app) {
        client_set_err(err, errlen, "authentication needs a non-empty auth_secret and auth_app_id");
        return -1;
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
        return -1;
    }
    c->auth_app_id = strdup(app);
    c->auth_password = sasl_spark_password(secret);
    if (!c->auth_app_id || !c->auth_password) {
        client_auth_release(c);
        client_set_err(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

void client_auth_release(shuffle_client *c)
{
    if (!c->auth_app_id && !c->auth_password)
        return;
    if (c->auth_password) {
        explicit_bzero(c->auth_password, strlen(c->auth_password));
        free(c->auth_password);
    }
    free(c->auth_app_id);
    c->auth_password = c->auth_app_id = NULL;
    pthread_mutex_lock(&global_lock);
    if (--global_users == 0)
        sasl_client_done();
    pthread_mutex_unlock(&global_lock);
}

struct client_auth {
    shuffle_client *c;
    struct tconn *t;
    sasl_conn_t *sasl;
    sasl_callback_t cbs[5];
    sasl_secret_t *secret;
    struct event *timer; /* one handshake round trip */
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
    *out = ((struct client_auth *)ctx)->secret;
    return SASL_OK;
}

static int get_realm(void *ctx, int id, const char **avail, const char **result)
{
    *result = "default";
    return SASL_OK;
}

void client_auth_free(struct client_auth *a)
{
    if (!a)
        return;
    if (a->timer)
        event_free(a->timer);
    if (a->sasl)
        sasl_dispose(&a->sasl);
    if (a->secret) {
        explicit_bzero(a->secret->data, a->secret->len);
        free(a->secret);
    }
    free(a);
}

static void fail(struct client_auth *a, int status, const char *fmt, const char *detail)
{
    char *msg = client_strf(fmt, tconn_peer(a->t), detail ? detail : "");
    tconn_close(a->t, status, msg);
    free(msg);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct client_auth *a = arg;
    char ms[32];
    snprintf(ms, sizeof ms, "%d", a->c->opts.auth_timeout_ms);
    fail(a, SHUFFLE_EIO, "Authentication with %s timed out (%s ms)", ms);
}

static void on_reply(void *arg, int status, const char *err, const uint8_t *body, size_t len);

/* Sends one SaslMessage carrying token; arms the round-trip timer. */
static int send_token(struct client_auth *a, const char *token, unsigned len)
{
    uint8_t *msg;
    size_t msglen;
    if (saslmsg_encode(a->c->auth_app_id, (const uint8_t *)token, len, &msg, &msglen) != 0)
        return -1;
    int rc = tconn_rpc_auth(a->t, msg, msglen, on_reply, a);
    free(msg);
    if (rc == 0) {
        int ms = a->c->opts.auth_timeout_ms;
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
        evtimer_add(a->timer, &tv);
    }
    return rc;
}

static void on_reply(void *arg, int status, const char *err, const uint8_t *body, size_t len)
{
    struct client_auth *a = arg;
    evtimer_del(a->timer);
    if (!tconn_is_active(a->t))
        return; /* closed meanwhile: its requests fail with the reason already */
    if (status != SHUFFLE_OK) {
        fail(a, status == SHUFFLE_ESERVER ? SHUFFLE_EAUTH : status,
             "Authentication with %s failed: %s", err);
        return;
    }
    const char *out = NULL;
    unsigned outlen = 0;
    int rc = sasl_client_step(a->sasl, (const char *)body, (unsigned)len, NULL, &out, &outlen);
    if (rc == SASL_OK) {
        /* S2 checked (rspauth): Spark's client sends nothing more */
        tconn_auth_done(a->t);
    } else if (rc == SASL_CONTINUE) {
        if (send_token(a, out, outlen) != 0)
            fail(a, SHUFFLE_ELOCAL, "Authentication with %s failed: %s", "out of memory");
    } else {
        fail(a, SHUFFLE_EAUTH, "Authentication with %s failed: %s", sasl_errdetail(a->sasl));
    }
}

struct client_auth *client_auth_start(shuffle_client *c, struct tconn *t)
{
    struct client_auth *a = calloc(1, sizeof *a);
    size_t plen = strlen(c->auth_password);
    if (!a || !(a->secret = malloc(sizeof(sasl_secret_t) + plen)) ||
        !(a->timer = evtimer_new(c->base, on_timeout, a))) {
        client_auth_free(a);
        tconn_close(t, SHUFFLE_ELOCAL, "out of memory starting authentication");
        return NULL;
    }
    a->c = c;
    a->t = t;
    a->secret->len = plen;
    memcpy(a->secret->data, c->auth_password, plen);
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
        fail(a, SHUFFLE_EAUTH, "Authentication with %s failed: %s", why);
        client_auth_free(a);
        return NULL;
    }
    if (send_token(a, out, outlen) != 0) { /* C1: DIGEST-MD5 has no initial response */
        fail(a, SHUFFLE_ELOCAL, "Authentication with %s failed: %s", "out of memory");
        client_auth_free(a);
        return NULL;
    }
    return a;
}

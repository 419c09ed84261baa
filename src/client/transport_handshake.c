/* SPDX-License-Identifier: Apache-2.0 */
/* A connection's set-up once connected, before any request goes out: TLS first
 * (spark.ssl.rpc), then the authentication phase (auth.c for SASL, auth_aes.c for
 * spark.network.crypto), whose messages this sends, and the security layer it ends with
 * installed under every later byte. Then the held requests are released. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "client/auth.h"
#include "client/auth_aes.h"
#include "client/link.h"
#include "client/rx.h"
#include "client/tls_link.h"
#include "client/transport.h"
#include "client/transport_conn.h"
#include "client/util.h"
#include "shuffle/client.h"

static void on_auth_timeout(evutil_socket_t fd, short what, void *arg);

int tconn_handshake_init(struct tconn *t, const char *host)
{
    const struct tconn_env *env = t->env;
    if (env->tls) {
        t->tls_handshaking = t->authing = true; /* requests wait for the TLS handshake */
        if (!(t->host = strdup(host)))
            return -1;
    }
    if (env->auth && auth_creds_enabled(env->auth)) {
        t->authing = true; /* requests wait until the handshake is done */
        if (!(t->auth_timer = evtimer_new(env->base, on_auth_timeout, t)))
            return -1;
    }
    return 0;
}

/* ---- TLS first (spark.ssl.rpc): the handshake, then auth or the held requests ---- */

static struct evbuffer *tls_out(void *arg)
{
    struct tconn *t = arg;
    return t->bev ? bufferevent_get_output(t->bev) : NULL;
}

static void on_tls_handshake(void *arg, const char *failure)
{
    struct tconn *t = arg;
    if (failure) {
        tconn_close_io(t, SHUFFLE_EIO, "TLS handshake with %s failed: %s", failure);
        return;
    }
    t->tls_handshaking = false;
    if (t->env->auth && auth_creds_enabled(t->env->auth)) {
        tconn_auth_begin(t);
    } else {
        t->authing = false;
        tconn_release_queued(t);
    }
}

static void on_tls_error(void *arg, const char *why)
{
    tconn_close_io(arg, SHUFFLE_EIO, "TLS with %s failed: %s", why);
}

void tconn_tls_begin(struct tconn *t)
{
    char err[256];
    struct tls_link_owner owner = {tls_out, on_tls_handshake, on_tls_error, t};
    if (tls_link_start(&t->link, t->env->tls, bufferevent_getfd(t->bev), t->host, &owner, err,
                       sizeof err) != 0) {
        tconn_close_io(t, SHUFFLE_ELOCAL, "Connecting to %s failed: %s", err);
        return;
    }
    (void)rx_set_link(t->rx, &t->link); /* nothing was read yet */
}

/* ---- The authentication phase: auth.c produces the messages, this sends them ---- */

static void auth_fail(struct tconn *t, int status, const char *why)
{
    tconn_close_io(t, status, "Authentication with %s failed: %s", why);
}

static void on_auth_reply(void *arg, int status, const char *err, const uint8_t *body, size_t len);

/* The same under TLS: the cipher goes between the socket and the TLS records. Neither rx nor
 * the TLS session may hold bytes after the reply. False when t was closed. */
static bool install_under_tls(struct tconn *t, struct link *l)
{
    const char *why = NULL;
    if (rx_set_link(t->rx, &t->link) != 0) /* the same link: only checks that rx holds nothing */
        why = "bytes after the authentication reply, before the cipher was on";
    if (why || tls_link_set_below(&t->link, l, &why) != 0) {
        link_clear(l);
        tconn_close_io(t, SHUFFLE_EPROTO, "Malformed data from %s: %s", why);
        return false;
    }
    return true;
}

/* Puts the handshake's security layer (if any; taken from l) under every later byte. The
 * reply that ended the handshake was the last plaintext: a server speaks only when asked, so
 * bytes read after it cannot come from a conforming one. False when t was closed. */
static bool install_link(struct tconn *t, struct link *l)
{
    if (link_is_plain(l))
        return true;
    if (tls_link_is(&t->link)) /* Spark puts AES and SASL auth-conf under TLS (docs/tls.md) */
        return install_under_tls(t, l);
    if (!link_is_plain(&t->link)) {
        link_clear(l);
        tconn_close_io(t, SHUFFLE_EAUTH, "Authentication with %s failed: %s",
                       "a second encrypting security layer is not supported");
        return false;
    }
    t->link = *l;
    l->ops = NULL;
    l->state = NULL;
    if (rx_set_link(t->rx, &t->link) != 0) {
        tconn_close_io(t, SHUFFLE_EPROTO, "Malformed data from %s: %s",
                       "bytes after the authentication reply, before the cipher was on");
        return false;
    }
    return true;
}

/* Sends the message of step (or fails) and arms the round-trip timer. */
static void auth_follow(struct tconn *t, struct auth_step *step)
{
    if (step->next == AUTH_FAILED) {
        auth_fail(t, step->status, step->why);
    } else if (step->next == AUTH_DONE) {
        t->authing = false;
        if (install_link(t, &step->link))
            tconn_release_queued(t);
    } else {
        t->bypass_queue = true;
        int rc = tconn_rpc(t, step->msg, step->len, on_auth_reply, t);
        t->bypass_queue = false;
        if (rc != 0) {
            auth_fail(t, SHUFFLE_ELOCAL, "out of memory");
        } else {
            int ms = t->env->auth->timeout_ms;
            struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
            evtimer_add(t->auth_timer, &tv);
        }
    }
    auth_step_clear(step);
}

static void on_auth_reply(void *arg, int status, const char *err, const uint8_t *body, size_t len)
{
    struct tconn *t = arg;
    evtimer_del(t->auth_timer);
    if (t->state != CONN_OPEN)
        return; /* closed meanwhile: its requests fail with the reason already */
    if (status != SHUFFLE_OK) {
        auth_fail(t, status == SHUFFLE_ESERVER ? SHUFFLE_EAUTH : status, err);
        return;
    }
    struct auth_step step;
    if (t->aes)
        aes_phase_step(t->aes, body, len, &step);
    else
        auth_phase_step(t->auth, body, len, &step);
    auth_follow(t, &step);
}

static void on_auth_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct tconn *t = arg;
    char *msg =
        client_strf("Authentication with %s timed out (%d ms)", t->peer, t->env->auth->timeout_ms);
    tconn_close(t, SHUFFLE_EIO, msg);
    free(msg);
}

void tconn_auth_begin(struct tconn *t)
{
    struct auth_step step;
    tconn_ref(t); /* a failing start closes t, which may drop the last other ref */
    if (t->env->auth->crypto)
        t->aes = aes_phase_start(t->env->auth, &step);
    else
        t->auth = auth_phase_start(t->env->auth, &step);
    auth_follow(t, &step);
    tconn_unref(t);
}

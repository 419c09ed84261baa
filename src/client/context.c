/* SPDX-License-Identifier: Apache-2.0 */
/* The client context: its event loop thread, the command queue that brings work
 * from caller threads onto that loop, the layers below it (credentials, resolver,
 * connection pool) configured once from the options, and shutdown. */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "client/errors.h"
#include "client/internal.h"
#include "client/tls_link.h"
#include "client/resolve.h"

struct client_cmd {
    void (*fn)(shuffle_client *c, void *arg);
    void *arg;
    struct client_cmd *next;
};

/* An environment switch: set, non-empty and not "0". */
static bool client_env_flag(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

/* This version's defaults, whole. */
static void default_options(struct shuffle_client_options *o)
{
    memset(o, 0, sizeof(*o));
    o->struct_size = sizeof(*o);
    o->connections_per_peer = 1;
    o->connect_timeout_ms = 120000;
    o->request_timeout_ms = 120000;
    o->max_retries = 3;
    o->retry_wait_ms = 5000;
    o->fetch_to_file_bytes = UINT64_MAX;
    o->registration_timeout_ms = 5000;
    o->registration_attempts = 3;
    o->auth_timeout_ms = 30000;
}

void shuffle_client_options_init_sized(struct shuffle_client_options *o, size_t struct_size)
{
    struct shuffle_client_options d;
    default_options(&d);
    if (!o || struct_size < sizeof(d.struct_size))
        return;
    memset(o, 0, struct_size); /* a newer caller's fields unknown here: zero, their default */
    memcpy(o, &d, struct_size < sizeof(d) ? struct_size : sizeof(d));
    o->struct_size = struct_size;
}

bool client_on_loop_thread(const shuffle_client *c)
{
    return c->thread_started && pthread_equal(pthread_self(), c->thread);
}

void client_op_add(shuffle_client *c, struct client_op *op)
{
    op->next = &c->ops;
    op->prev = c->ops.prev;
    c->ops.prev->next = op;
    c->ops.prev = op;
}

void client_op_remove(struct client_op *op)
{
    if (!op->next)
        return;
    op->prev->next = op->next;
    op->next->prev = op->prev;
    op->next = op->prev = NULL;
}

static int post(shuffle_client *c, void (*fn)(shuffle_client *c, void *arg), void *arg, bool last)
{
    struct client_cmd *cmd = malloc(sizeof(*cmd));
    if (!cmd)
        return -1;
    cmd->fn = fn;
    cmd->arg = arg;
    cmd->next = NULL;
    pthread_mutex_lock(&c->qlock);
    if (c->closing) {
        pthread_mutex_unlock(&c->qlock);
        free(cmd);
        return -1;
    }
    c->closing = last;
    if (c->qtail)
        c->qtail->next = cmd;
    else
        c->qhead = cmd;
    c->qtail = cmd;
    pthread_mutex_unlock(&c->qlock);
    event_active(c->wake, EV_READ, 0);
    return 0;
}

int client_post(shuffle_client *c, void (*fn)(shuffle_client *c, void *arg), void *arg)
{
    return post(c, fn, arg, false);
}

static void run_commands(evutil_socket_t fd, short what, void *arg)
{
    shuffle_client *c = arg;
    pthread_mutex_lock(&c->qlock);
    struct client_cmd *cmd = c->qhead;
    c->qhead = c->qtail = NULL;
    pthread_mutex_unlock(&c->qlock);
    while (cmd) {
        struct client_cmd *next = cmd->next;
        cmd->fn(c, cmd->arg);
        free(cmd);
        cmd = next;
    }
}

static void *loop_main(void *arg)
{
    shuffle_client *c = arg;
    event_base_loop(c->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

static void stop_on_loop(shuffle_client *c, void *arg)
{
    c->stopping = true;
    pool_stop(c->pool);
    /* Operations waiting on timers first, then every connection: each pending
     * request fails once with SHUFFLE_ECANCELED. */
    while (c->ops.next != &c->ops) {
        struct client_op *op = c->ops.next;
        op->cancel(op); /* unlinks op */
    }
    pool_close_all(c->pool, SHUFFLE_ECANCELED, "the client was shut down");
    /* Canceled name resolutions call back from the loop: the loop ends after the
     * last one. */
    if (!resolver_busy(c->resolver))
        event_base_loopbreak(c->base);
}

static void resolver_idle(void *arg)
{
    shuffle_client *c = arg;
    if (c->stopping)
        event_base_loopbreak(c->base); /* shutdown was waiting for this */
}

static void init_threads(void)
{
    evthread_use_pthreads();
}

static void client_destroy(shuffle_client *c)
{
    if (c->pool)
        pool_free(c->pool);
    resolver_free(c->resolver);
    if (c->wake)
        event_free(c->wake);
    if (c->base)
        event_base_free(c->base);
    pthread_mutex_destroy(&c->qlock);
    free(c->tmp_dir);
    auth_creds_release(&c->auth);
    client_tls_free(c->tls);
    free(c);
}

/* Sets up everything but the thread; NULL with *status and err set. */
static shuffle_client *client_create(const struct shuffle_client_options *opts, int *status,
                                     char *err, size_t errlen)
{
    static atomic_uint_fast64_t serials;
    *status = SHUFFLE_ELOCAL;
    shuffle_client *c = calloc(1, sizeof(*c));
    if (!c) {
        client_set_err(err, errlen, "out of memory");
        return NULL;
    }
    c->serial = ++serials;
    c->opts = *opts;
    if (c->opts.connections_per_peer < 1)
        c->opts.connections_per_peer = 1;
    if (c->opts.max_retries < 0)
        c->opts.max_retries = 0;
    if (c->opts.registration_attempts < 1)
        c->opts.registration_attempts = 1;
    const char *tmp = c->opts.tmp_dir;
    if (!tmp || !*tmp)
        tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    c->tmp_dir = strdup(tmp);
    c->opts.tmp_dir = c->tmp_dir;
    /* the secret is kept only as the derived SASL password */
    struct auth_modes modes = {.app_id = c->opts.auth_app_id,
                               .secret = c->opts.auth_secret,
                               .crypto = c->opts.crypto,
                               .crypto_cipher = c->opts.crypto_cipher,
                               .sasl_encrypt = c->opts.sasl_encrypt != 0,
                               .timeout_ms = c->opts.auth_timeout_ms};
    *status = auth_creds_init(&c->auth, &modes, err, errlen);
    c->opts.auth_secret = c->opts.auth_app_id = NULL;
    if (*status != SHUFFLE_OK) {
        free(c->tmp_dir);
        free(c);
        return NULL;
    }
    if (client_tls_new(&c->opts, &c->tls, err, errlen) != 0) {
        auth_creds_release(&c->auth);
        free(c->tmp_dir);
        free(c);
        *status = SHUFFLE_EINVAL;
        return NULL;
    }
    /* the files are read: not kept */
    c->opts.tls_ca_file = c->opts.tls_cert_file = c->opts.tls_key_file = NULL;
    pthread_mutex_init(&c->qlock, NULL);
    c->ops.next = c->ops.prev = &c->ops;
    client_rng_seed(&c->rng);
    if (!c->tmp_dir || !(c->base = event_base_new()) ||
        !(c->wake = event_new(c->base, -1, 0, run_commands, c))) {
        client_set_err(err, errlen, "cannot create the client's event loop (out of memory?)");
        client_destroy(c);
        return NULL;
    }
    c->resolver = resolver_new(c->base, c->opts.resolv_conf, err, errlen);
    if (!c->resolver) /* a file the caller named could not be read, or out of memory */
        *status = c->opts.resolv_conf && *c->opts.resolv_conf ? SHUFFLE_EINVAL : SHUFFLE_ELOCAL;
    c->opts.resolv_conf = NULL; /* read; not kept */
    if (!c->resolver) {
        client_destroy(c);
        return NULL;
    }
    resolver_on_idle(c->resolver, resolver_idle, c);
    c->env = (struct tconn_env){.base = c->base,
                                .resolver = c->resolver,
                                .rng = &c->rng,
                                .max_frame_bytes = c->opts.max_frame_bytes,
                                .no_splice = client_env_flag("LIBSHUFFLE_NO_SPLICE"),
                                .auth = &c->auth,
                                .tls = c->tls};
    c->pool_cfg = (struct pool_config){.connections_per_peer = c->opts.connections_per_peer,
                                       .connect_timeout_ms = c->opts.connect_timeout_ms,
                                       .request_timeout_ms = c->opts.request_timeout_ms,
                                       .retry_wait_ms = c->opts.retry_wait_ms};
    if (!(c->pool = pool_new(&c->env, &c->pool_cfg))) {
        client_set_err(err, errlen, "out of memory");
        client_destroy(c);
        return NULL;
    }
    *status = SHUFFLE_OK;
    return c;
}

int shuffle_client_new(const struct shuffle_client_options *opts, shuffle_client **out)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_threads);
    if (!out)
        return client_fail(NULL, SHUFFLE_EINVAL, "shuffle_client_new: out is required");
    *out = NULL;
    struct shuffle_client_options o;
    default_options(&o);
    if (opts && client_read_sized(NULL, &o, sizeof(o), opts, "shuffle_client_options") != 0)
        return SHUFFLE_EINVAL;
    char err[512];
    int status;
    shuffle_client *c = client_create(&o, &status, err, sizeof(err));
    if (!c)
        return client_fail(NULL, status, "%s", err);
    /* The wake event is activated by hand (event_active), never added. The loop thread, which
     * does every write, starts with SIGPIPE blocked: a server closing a connection while a
     * request (a pushed block's body, say) is being written gives EPIPE there, never a signal
     * that would end the caller's process. */
    sigset_t no_pipe, before;
    sigemptyset(&no_pipe);
    sigaddset(&no_pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &no_pipe, &before);
    int started = pthread_create(&c->thread, NULL, loop_main, c);
    pthread_sigmask(SIG_SETMASK, &before, NULL);
    if (started != 0) {
        int e = started;
        client_destroy(c);
        return client_fail(NULL, SHUFFLE_ELOCAL, "cannot start the client's loop thread: %s",
                           strerror(e));
    }
    c->thread_started = true;
    *out = c;
    return SHUFFLE_OK;
}

void shuffle_client_free(shuffle_client *c)
{
    if (!c)
        return;
    if (client_on_loop_thread(c)) {
        /* joining our own thread would hang forever: refuse, loudly */
        fprintf(stderr, "libshuffle: shuffle_client_free() called from a callback; ignored\n");
        return;
    }
    /* The stop command is the last one accepted: everything queued before it runs
     * first, and later posts are refused (their callers get an error back). */
    while (post(c, stop_on_loop, NULL, true) != 0) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL); /* only on out of memory */
    }
    pthread_join(c->thread, NULL);
    client_destroy(c);
}

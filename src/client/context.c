/* The client context: its event loop thread, the command queue that brings work
 * from caller threads onto that loop, and shutdown. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "client/internal.h"
#include "client/pool.h"
#include "client/resolve.h"

struct client_cmd {
    void (*fn)(shuffle_client *c, void *arg);
    void *arg;
    struct client_cmd *next;
};

const char *shuffle_status_name(int status)
{
    switch (status) {
    case SHUFFLE_OK:
        return "OK";
    case SHUFFLE_EIO:
        return "EIO";
    case SHUFFLE_ESERVER:
        return "ESERVER";
    case SHUFFLE_EPROTO:
        return "EPROTO";
    case SHUFFLE_EINVAL:
        return "EINVAL";
    case SHUFFLE_ECANCELED:
        return "ECANCELED";
    case SHUFFLE_ELOCAL:
        return "ELOCAL";
    case SHUFFLE_EAUTH:
        return "EAUTH";
    }
    return "UNKNOWN";
}

void shuffle_client_options_init(struct shuffle_client_options *o)
{
    memset(o, 0, sizeof(*o));
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

char *client_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

char *client_strf(const char *fmt, ...)
{
    va_list ap;
    char *out = NULL;
    va_start(ap, fmt);
    if (vasprintf(&out, fmt, ap) < 0)
        out = NULL;
    va_end(ap);
    if (!out)
        out = strdup("out of memory");
    if (!out)
        abort(); /* nothing sensible left to do */
    return out;
}

void client_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

char **client_strv_dup(const char *const *v, size_t n)
{
    size_t bytes = (n + 1) * sizeof(char *);
    for (size_t i = 0; i < n; i++) {
        if (!v[i])
            return NULL;
        bytes += strlen(v[i]) + 1;
    }
    char **out = malloc(bytes);
    if (!out)
        return NULL;
    char *p = (char *)(out + n + 1);
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(v[i]) + 1;
        memcpy(p, v[i], l);
        out[i] = p;
        p += l;
    }
    out[n] = NULL;
    return out;
}

void client_peer_name(char *buf, size_t len, const char *host, int port)
{
    if (strchr(host, ':'))
        snprintf(buf, len, "[%s]:%d", host, port);
    else
        snprintf(buf, len, "%s:%d", host, port);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

int64_t client_random_id(shuffle_client *c)
{
    /* xoroshiro128+ seeded from getrandom(): ids only need to be unpredictable
     * enough not to collide across clients, not to be secret. */
    uint64_t s0 = c->rng[0], s1 = c->rng[1];
    uint64_t r = s0 + s1;
    s1 ^= s0;
    c->rng[0] = rotl(s0, 24) ^ s1 ^ (s1 << 16);
    c->rng[1] = rotl(s1, 37);
    return (int64_t)(r & INT64_MAX);
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
    /* Operations waiting on timers first, then every connection: each pending
     * request fails once with SHUFFLE_ECANCELED. */
    while (c->ops.next != &c->ops) {
        struct client_op *op = c->ops.next;
        op->cancel(op); /* unlinks op */
    }
    pool_close_all(c->pool, SHUFFLE_ECANCELED, "the client was shut down");
    /* Canceled name resolutions call back from the loop: resolve.c breaks the
     * loop after the last one. */
    if (!resolve_busy(c))
        event_base_loopbreak(c->base);
}

static void init_threads(void)
{
    evthread_use_pthreads();
}

static void client_destroy(shuffle_client *c)
{
    if (c->pool)
        pool_free(c->pool);
    resolve_free(c);
    if (c->wake)
        event_free(c->wake);
    if (c->base)
        event_base_free(c->base);
    pthread_mutex_destroy(&c->qlock);
    free(c->tmp_dir);
    client_auth_release(c);
    free(c);
}

shuffle_client *shuffle_client_new(const struct shuffle_client_options *opts, char *err,
                                   size_t errlen)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_threads);

    shuffle_client *c = calloc(1, sizeof(*c));
    if (!c) {
        client_set_err(err, errlen, "out of memory");
        return NULL;
    }
    if (opts)
        c->opts = *opts;
    else
        shuffle_client_options_init(&c->opts);
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
    if (client_auth_setup(c, err, errlen) != 0) {
        free(c->tmp_dir);
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->qlock, NULL);
    c->ops.next = c->ops.prev = &c->ops;
    if (getrandom(c->rng, sizeof(c->rng), 0) != (ssize_t)sizeof(c->rng)) {
        c->rng[0] = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)c;
        c->rng[1] = (uint64_t)clock() * 0x9E3779B97F4A7C15ULL;
    }
    if (!c->rng[0] && !c->rng[1])
        c->rng[0] = 1;
    if (!c->tmp_dir || !(c->base = event_base_new()) ||
        !(c->wake = event_new(c->base, -1, 0, run_commands, c)) || !(c->pool = pool_new(c))) {
        client_set_err(err, errlen, "cannot create the client's event loop (out of memory?)");
        client_destroy(c);
        return NULL;
    }
    int dns_failed = resolve_init(c, err, errlen);
    c->opts.resolv_conf = NULL; /* read; not kept */
    if (dns_failed) {
        client_destroy(c);
        return NULL;
    }
    /* The wake event is activated by hand (event_active), never added. */
    if (pthread_create(&c->thread, NULL, loop_main, c) != 0) {
        client_set_err(err, errlen, "cannot start the client's loop thread: %s", strerror(errno));
        client_destroy(c);
        return NULL;
    }
    c->thread_started = true;
    return c;
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

/* libshuffle internals shared by the files of src/client. Everything below runs
 * on the client's loop thread unless it says otherwise. */
#ifndef SHUFFLE_CLIENT_INTERNAL_H
#define SHUFFLE_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shuffle/client.h"

struct event_base;
struct event;
struct evdns_base;
struct pool;

/* An operation that must be told when the client shuts down (it may be waiting
 * on a timer rather than on a connection). */
struct client_op {
    void (*cancel)(struct client_op *op); /* must unlink itself and finish the op */
    struct client_op *prev, *next;
};

struct client_cmd;

struct shuffle_client {
    struct shuffle_client_options opts;
    char *tmp_dir;
    struct event_base *base;
    pthread_t thread;
    bool thread_started;
    /* command queue: any thread -> loop thread */
    pthread_mutex_t qlock;
    struct client_cmd *qhead, *qtail;
    bool closing; /* under qlock: no more commands accepted */
    struct event *wake;
    /* loop-thread state */
    bool stopping;
    struct pool *pool;
    struct evdns_base *dns; /* host names (resolve.c) */
    int resolving;          /* name resolutions still to call back */
    struct client_op ops;   /* sentinel of a circular list */
    uint64_t rng[2];
    /* authentication (auth.c): set when opts.auth_secret is; read-only after creation */
    char *auth_app_id;
    char *auth_password; /* Spark's SASL password derived from the secret */
};

/* auth.c: checks and copies the auth options (the secret is kept only as the derived SASL
 * password; opts.auth_* are cleared) and starts Cyrus SASL; 0, or -1 with err set. */
int client_auth_setup(shuffle_client *c, char *err, size_t errlen);
void client_auth_release(shuffle_client *c);

/* Runs fn(c, arg) on the loop thread. Returns 0, or -1 when the client is closing
 * (fn is not run). Callable from any thread. */
int client_post(shuffle_client *c, void (*fn)(shuffle_client *c, void *arg), void *arg);
bool client_on_loop_thread(const shuffle_client *c);

void client_op_add(shuffle_client *c, struct client_op *op);
void client_op_remove(struct client_op *op);

/* A random non-negative 63-bit id (Spark: abs of a random UUID half). */
int64_t client_random_id(shuffle_client *c);

/* malloc'd printf; never NULL (falls back to a static-free copy of "out of memory"). */
char *client_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Copies a string array (n entries) into one malloc'd block; NULL on failure. */
char **client_strv_dup(const char *const *v, size_t n);
char *client_strdup(const char *s);
/* "host:port" for messages, IPv6 literals in brackets. */
void client_peer_name(char *buf, size_t len, const char *host, int port);
void client_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif

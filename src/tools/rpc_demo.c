/* SPDX-License-Identifier: Apache-2.0 */
/* The demo endpoints; see rpc_demo.h. */
#include <config.h>

#include "tools/rpc_demo.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shuffle/client.h"

/* A slow answer waiting for its time. */
struct pending {
    struct pending *next;
    struct timespec due;
    shuffle_rpc_reply *reply;
    size_t len;
    char payload[];
};

struct rpc_demo {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct pending *head, *tail; /* due times in arrival order: delays are alike in practice */
    bool quit;
    pthread_t thread;
};

static void fail_reply(void *arg, const struct shuffle_rpc_message *m, shuffle_rpc_reply *r)
{
    (void)arg;
    char text[300];
    snprintf(text, sizeof text, "failing on purpose: %.*s", (int)(m->len < 200 ? m->len : 200),
             (const char *)m->payload);
    shuffle_rpc_reply_error(r, text);
}

static void slow_reply(void *arg, const struct shuffle_rpc_message *m, shuffle_rpc_reply *r)
{
    struct rpc_demo *d = arg;
    struct pending *p = malloc(sizeof *p + m->len + 1);
    if (!p) {
        shuffle_rpc_reply_error(r, "out of memory");
        return;
    }
    long ms = strtol((const char *)m->payload, NULL, 10); /* payloads are NUL-terminated */
    clock_gettime(CLOCK_MONOTONIC, &p->due);
    p->due.tv_sec += ms / 1000;
    p->due.tv_nsec += (ms % 1000) * 1000000;
    if (p->due.tv_nsec >= 1000000000) {
        p->due.tv_sec++;
        p->due.tv_nsec -= 1000000000;
    }
    p->next = NULL;
    p->reply = r;
    p->len = m->len;
    memcpy(p->payload, m->payload, m->len);
    pthread_mutex_lock(&d->lock);
    if (d->tail)
        d->tail->next = p;
    else
        d->head = p;
    d->tail = p;
    pthread_cond_signal(&d->cond);
    pthread_mutex_unlock(&d->lock);
}

static bool due(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static void *answer_main(void *arg)
{
    struct rpc_demo *d = arg;
    pthread_mutex_lock(&d->lock);
    while (!d->quit || d->head) {
        if (!d->head) {
            pthread_cond_wait(&d->cond, &d->lock);
            continue;
        }
        struct pending *p = d->head;
        if (!d->quit && !due(&p->due)) {
            pthread_mutex_unlock(&d->lock);
            struct timespec tick = {0, 1000000};
            nanosleep(&tick, NULL);
            pthread_mutex_lock(&d->lock);
            continue;
        }
        d->head = p->next;
        if (!d->head)
            d->tail = NULL;
        pthread_mutex_unlock(&d->lock);
        shuffle_rpc_reply_ok(p->reply, p->payload, p->len);
        free(p);
        pthread_mutex_lock(&d->lock);
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

struct rpc_demo *rpc_demo_start(shuffle_rpc_env *env)
{
    struct rpc_demo *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->cond, NULL);
    if (pthread_create(&d->thread, NULL, answer_main, d) != 0) {
        free(d);
        return NULL;
    }
    struct shuffle_rpc_endpoint fail, slow;
    shuffle_rpc_endpoint_init(&fail);
    fail.thread_safe = true;
    fail.receive_and_reply = fail_reply;
    shuffle_rpc_endpoint_init(&slow);
    slow.arg = d;
    slow.thread_safe = true;
    slow.receive_and_reply = slow_reply;
    if (shuffle_rpc_register(env, "fail", &fail, NULL) != SHUFFLE_OK ||
        shuffle_rpc_register(env, "slow", &slow, NULL) != SHUFFLE_OK) {
        rpc_demo_stop(d, env);
        return NULL;
    }
    return d;
}

void rpc_demo_stop(struct rpc_demo *d, shuffle_rpc_env *env)
{
    if (!d)
        return;
    shuffle_rpc_unregister(env, "fail");
    shuffle_rpc_unregister(env, "slow");
    pthread_mutex_lock(&d->lock);
    d->quit = true;
    pthread_cond_signal(&d->cond);
    pthread_mutex_unlock(&d->lock);
    pthread_join(d->thread, NULL);
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->cond);
    free(d);
}

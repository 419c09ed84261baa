/* SPDX-License-Identifier: Apache-2.0 */
/* Endpoint references: lookup (with the remote env's verifier), send, ask, ask_sync. A local
 * reference goes straight to the endpoint's inbox (asks through the loop, which times them);
 * a remote one puts whole frames into the peer's outbox. */
#include <config.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/rpcenv/env.h"
#include "client/rpcenv/env_requests.h"
#include "client/rpcenv/inbox.h"
#include "proto/rpc_envelope.h"
#include "shuffle/client.h"

struct shuffle_rpc_ref {
    shuffle_rpc_env *env;
    char *name;
    struct rpc_outbox *outbox; /* NULL: local */
    char *host;
    int port;
};

static struct shuffle_rpc_ref *ref_new(shuffle_rpc_env *env, const char *host, int port,
                                       const char *name)
{
    struct shuffle_rpc_ref *r = calloc(1, sizeof *r);
    if (!r || !(r->name = strdup(name)) || (host && !(r->host = strdup(host)))) {
        shuffle_rpc_ref_free(r);
        return NULL;
    }
    r->env = env;
    r->port = port;
    if (host && !(r->outbox = rpc_env_outbox(env, host, port))) {
        shuffle_rpc_ref_free(r);
        return NULL;
    }
    return r;
}

void shuffle_rpc_ref_free(shuffle_rpc_ref *ref)
{
    if (!ref)
        return;
    free(ref->name);
    free(ref->host);
    free(ref);
}

/* The frame head of a message to ref (request_id < 0: one-way); 0 if it cannot be made. */
static size_t head_for(const shuffle_rpc_ref *ref, int64_t request_id, size_t len,
                       uint8_t head[RPC_FRAME_HEAD_MAX])
{
    const char *me;
    int my_port;
    rpc_env_sender(ref->env, &me, &my_port);
    if (len > UINT32_MAX - 1024)
        return 0;
    struct rpc_envelope e = {
        .sender = {me != NULL, {(const uint8_t *)me, me ? (uint32_t)strlen(me) : 0}, my_port},
        .receiver = {true, {(const uint8_t *)ref->host, (uint32_t)strlen(ref->host)}, ref->port},
        .name = {(const uint8_t *)ref->name, (uint32_t)strlen(ref->name)},
        .payload = {NULL, (uint32_t)len},
    };
    return rpc_frame_head(head, request_id, &e);
}

int shuffle_rpc_send(shuffle_rpc_ref *ref, const void *payload, size_t len)
{
    if (!ref || (len && !payload))
        return SHUFFLE_EINVAL;
    if (!ref->outbox) {
        const char *me;
        int my_port;
        rpc_env_sender(ref->env, &me, &my_port);
        struct rpc_msg *m = rpc_msg_new(RPC_MSG_ONE_WAY, payload, len, me, my_port, NULL, true);
        if (!m)
            return SHUFFLE_ELOCAL;
        int status = rpc_registry_post(rpc_env_registry(ref->env), ref->name, strlen(ref->name), m);
        if (status != SHUFFLE_OK)
            free(m);
        return status;
    }
    uint8_t head[RPC_FRAME_HEAD_MAX];
    size_t n = head_for(ref, -1, len, head);
    if (!n)
        return SHUFFLE_EINVAL;
    return rpc_outbox_send(ref->outbox, head, n, payload, len);
}

int shuffle_rpc_ask(shuffle_rpc_ref *ref, const void *payload, size_t len, int timeout_ms,
                    shuffle_rpc_ask_fn fn, void *arg)
{
    if (!ref || !fn || (len && !payload) || timeout_ms < 0)
        return SHUFFLE_EINVAL;
    int status;
    struct rpc_ask *a = rpc_ask_new(rpc_env_asks(ref->env), fn, arg,
                                    rpc_env_ask_timeout(ref->env, timeout_ms), &status);
    if (!a)
        return status;
    if (!ref->outbox) {
        status = rpc_env_local_ask(ref->env, a, ref->name, payload, len);
    } else {
        uint8_t head[RPC_FRAME_HEAD_MAX];
        size_t n = head_for(ref, a->id, len, head);
        status = n ? rpc_outbox_ask(ref->outbox, a, head, n, payload, len) : SHUFFLE_EINVAL;
    }
    if (status != SHUFFLE_OK)
        rpc_ask_free(a);
    return status;
}

/* A blocking ask's meeting point between the caller and the loop's callback. */
struct sync_ask {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    int status;
    uint8_t *reply;
    size_t len;
    char *error;
};

static void sync_done(void *arg, int status, const char *error, const uint8_t *reply, size_t len)
{
    struct sync_ask *s = arg;
    pthread_mutex_lock(&s->lock);
    s->status = status;
    if (status == SHUFFLE_OK) {
        s->reply = malloc(len + 1);
        if (s->reply) {
            if (len)
                memcpy(s->reply, reply, len);
            s->reply[len] = 0;
            s->len = len;
        } else {
            s->status = SHUFFLE_ELOCAL;
        }
    } else {
        s->error = strdup(error ? error : "");
    }
    s->done = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

int shuffle_rpc_ask_sync(shuffle_rpc_ref *ref, const void *payload, size_t len, int timeout_ms,
                         uint8_t **reply, size_t *reply_len, char **error)
{
    if (reply)
        *reply = NULL;
    if (error)
        *error = NULL;
    if (!ref || !reply || !reply_len || rpc_env_on_loop(ref->env))
        return SHUFFLE_EINVAL;
    struct sync_ask s = {.done = false};
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.cond, NULL);
    int status = shuffle_rpc_ask(ref, payload, len, timeout_ms, sync_done, &s);
    if (status == SHUFFLE_OK) {
        pthread_mutex_lock(&s.lock);
        while (!s.done)
            pthread_cond_wait(&s.cond, &s.lock);
        pthread_mutex_unlock(&s.lock);
        status = s.status;
        *reply = s.reply;
        *reply_len = s.len;
        if (error)
            *error = s.error;
        else
            free(s.error);
    }
    pthread_mutex_destroy(&s.lock);
    pthread_cond_destroy(&s.cond);
    return status;
}

int shuffle_rpc_lookup(shuffle_rpc_env *env, const char *host, int port, const char *name,
                       int timeout_ms, shuffle_rpc_ref **out)
{
    *out = NULL;
    if (!env || !name || !*name || strlen(name) > 255 || (host && (port < 1 || port > 65535)))
        return SHUFFLE_EINVAL;
    if (!host) {
        if (!rpc_registry_has(rpc_env_registry(env), name, strlen(name)))
            return SHUFFLE_RPC_ENOENDPOINT;
        *out = ref_new(env, NULL, 0, name);
        return *out ? SHUFFLE_OK : SHUFFLE_ELOCAL;
    }
    shuffle_rpc_ref *verifier = ref_new(env, host, port, RPC_VERIFIER_NAME);
    if (!verifier)
        return SHUFFLE_ELOCAL;
    uint8_t *reply = NULL;
    size_t len = 0;
    int status = shuffle_rpc_ask_sync(verifier, name, strlen(name), timeout_ms, &reply, &len, NULL);
    shuffle_rpc_ref_free(verifier);
    if (status == SHUFFLE_OK && !(len == 1 && reply[0] == '1'))
        status = SHUFFLE_RPC_ENOENDPOINT;
    free(reply);
    if (status == SHUFFLE_OK && !(*out = ref_new(env, host, port, name)))
        status = SHUFFLE_ELOCAL;
    return status;
}

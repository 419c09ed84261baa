/* SPDX-License-Identifier: Apache-2.0 */
/* Reply contexts; see reply.h. */
#include <config.h>

#include "client/rpcenv/reply.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "shuffle/client.h"

struct shuffle_rpc_reply {
    atomic_int refs;
    atomic_bool answered;
    rpcenv_reply_sink_fn fn;
    void *sink;
    uint64_t a, b;
};

shuffle_rpc_reply *rpcenv_reply_new(rpcenv_reply_sink_fn fn, void *sink, uint64_t a, uint64_t b)
{
    shuffle_rpc_reply *r = malloc(sizeof *r);
    if (!r)
        return NULL;
    atomic_init(&r->refs, 2);
    atomic_init(&r->answered, false);
    r->fn = fn;
    r->sink = sink;
    r->a = a;
    r->b = b;
    return r;
}

void rpcenv_reply_drop(shuffle_rpc_reply *r)
{
    free(r);
}

void rpcenv_reply_release(shuffle_rpc_reply *r)
{
    if (atomic_fetch_sub(&r->refs, 1) == 1)
        free(r);
}

static int answer(shuffle_rpc_reply *r, int status, const char *error, const void *data, size_t len)
{
    if (!r)
        return SHUFFLE_EINVAL;
    bool expected = false;
    if (!atomic_compare_exchange_strong(&r->answered, &expected, true))
        return SHUFFLE_RPC_EREPLIED;
    r->fn(r->sink, r->a, r->b, status, error, data, len);
    rpcenv_reply_release(r);
    return SHUFFLE_OK;
}

int rpcenv_reply_fail(shuffle_rpc_reply *r, int status, const char *error)
{
    return answer(r, status, error, NULL, 0);
}

int shuffle_rpc_reply_ok(shuffle_rpc_reply *r, const void *payload, size_t len)
{
    return answer(r, SHUFFLE_OK, NULL, payload, len);
}

int shuffle_rpc_reply_error(shuffle_rpc_reply *r, const char *error)
{
    return answer(r, SHUFFLE_RPC_EREMOTE, error ? error : "", NULL, 0);
}

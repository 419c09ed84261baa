/* SPDX-License-Identifier: Apache-2.0 */
/* Status names and texts, their wire form, and the defaults of the public structs. */
#include <config.h>

#include "client/rpcenv/status.h"

#include <stdio.h>
#include <string.h>

#include "shuffle/client.h"
#include "shuffle/rpc.h"

static const struct {
    int status;
    const char *name, *text, *wire; /* wire: prefix of the RpcFailure text, or NULL */
} statuses[] = {
    {SHUFFLE_RPC_ETIMEDOUT, "ETIMEDOUT", "no answer within the timeout", NULL},
    {SHUFFLE_RPC_EREMOTE, "EREMOTE", "the endpoint answered with an error", NULL},
    {SHUFFLE_RPC_ENOENDPOINT, "ENOENDPOINT", "no such endpoint", "shuffle-rpc: no such endpoint: "},
    {SHUFFLE_RPC_ECONNLOST, "ECONNLOST", "the connection was lost before the answer", NULL},
    {SHUFFLE_RPC_EUNREACHABLE, "EUNREACHABLE", "the peer could not be connected to", NULL},
    {SHUFFLE_RPC_EOVERFLOW, "EOVERFLOW", "a queue is full", "shuffle-rpc: inbox full: "},
    {SHUFFLE_RPC_ESHUTDOWN, "ESHUTDOWN", "stopping", "shuffle-rpc: endpoint stopping: "},
    {SHUFFLE_RPC_EREPLIED, "EREPLIED", "already answered", NULL},
    {SHUFFLE_EAUTH, "EAUTH", "authentication required or refused",
     "shuffle-rpc: authentication required: "},
};

const char *shuffle_rpc_status_name(int status)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (statuses[i].status == status)
            return statuses[i].name;
    return shuffle_status_name(status);
}

const char *shuffle_rpc_strerror(int status)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (statuses[i].status == status)
            return statuses[i].text;
    return shuffle_strerror(status);
}

void rpc_status_wire_text(int status, const char *name, const char *error, char *out, size_t outlen)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        if (statuses[i].status == status && statuses[i].wire) {
            snprintf(out, outlen, "%s%s", statuses[i].wire, name);
            return;
        }
    }
    snprintf(out, outlen, "%s", error ? error : shuffle_rpc_strerror(status));
}

int rpc_status_from_wire(const char *text, size_t len)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        const char *w = statuses[i].wire;
        if (w && len >= strlen(w) && memcmp(text, w, strlen(w)) == 0)
            return statuses[i].status;
    }
    return SHUFFLE_RPC_EREMOTE;
}

void shuffle_rpc_env_options_init_sized(struct shuffle_rpc_env_options *o, size_t struct_size)
{
    struct shuffle_rpc_env_options d = {
        .struct_size = struct_size,
        .worker_threads = 2,
        .inbox_capacity = 65536,
        .outbox_capacity = 65536,
        .max_asks_in_flight = 65536,
        .connect_timeout_ms = 10000,
        .ask_timeout_ms = 120000,
        .max_frame_bytes = 64u << 20,
        .inbox_stall_timeout_ms = 10000,
    };
    memcpy(o, &d, struct_size < sizeof d ? struct_size : sizeof d);
}

void shuffle_rpc_endpoint_init_sized(struct shuffle_rpc_endpoint *e, size_t struct_size)
{
    struct shuffle_rpc_endpoint d = {.struct_size = struct_size};
    memcpy(e, &d, struct_size < sizeof d ? struct_size : sizeof d);
}

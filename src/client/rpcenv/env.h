/* SPDX-License-Identifier: Apache-2.0 */
/* What the references (ref.c) and endpoint registration (endpoints.c) need of their env:
 * its endpoints and dispatcher, asks, peers' outboxes, its own address and the loop hand-off
 * for local asks. */
#ifndef SHUFFLE_CLIENT_RPCENV_ENV_H
#define SHUFFLE_CLIENT_RPCENV_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include "client/rpcenv/asks.h"
#include "client/rpcenv/outbox.h"
#include "client/rpcenv/registry.h"
#include "proto/rpc_envelope.h"
#include "shuffle/rpc.h"

struct rpc_registry *rpc_env_registry(shuffle_rpc_env *env);
struct rpc_asks *rpc_env_asks(shuffle_rpc_env *env);
/* The outbox of host:port, made on first use; NULL without memory. */
struct rpc_outbox *rpc_env_outbox(shuffle_rpc_env *env, const char *host, int port);
/* This env's listening address for envelopes (host NULL in client-only mode). */
void rpc_env_sender(const shuffle_rpc_env *env, const char **host, int *port);
int rpc_env_ask_timeout(const shuffle_rpc_env *env, int timeout_ms);
/* True on the thread that runs the env's loop. */
bool rpc_env_on_loop(const shuffle_rpc_env *env);
/* What the env's inboxes share (dispatcher, loop, capacity, back-pressure's room notice). */
const struct rpc_inbox_env *rpc_env_inbox_env(const shuffle_rpc_env *env);

#endif

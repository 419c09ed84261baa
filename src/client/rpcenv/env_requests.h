/* SPDX-License-Identifier: Apache-2.0 */
/* What arrives on an env's connections (accepted or made), answers on their way back, local
 * asks: env_requests.c. */
#ifndef SHUFFLE_CLIENT_RPCENV_ENV_REQUESTS_H
#define SHUFFLE_CLIENT_RPCENV_ENV_REQUESTS_H

#include <stddef.h>
#include <sys/socket.h>

#include <event2/util.h>

#include "client/rpcenv/asks.h"
#include "client/rpcenv/conn.h"
#include "shuffle/rpc.h"

struct evconnlistener;

/* The handler of every connection: requests for the endpoints, answers to asks. */
extern const struct rpc_conn_handler rpc_env_inbound_handler;
/* A connection is up / going: kept by id for answers, announced to the endpoints. */
void rpc_env_conn_up(void *ctx, struct rpc_conn *c);
void rpc_env_conn_down(void *ctx, struct rpc_conn *c);
/* The listener's callback: an accepted connection. */
void rpc_env_on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                       void *arg);
/* Hands a local ask to the loop (which starts its timer and posts it to the endpoint):
 * SHUFFLE_OK (a is the loop's now) or an error (a is still the caller's). */
int rpc_env_local_ask(shuffle_rpc_env *env, struct rpc_ask *a, const char *name,
                      const void *payload, size_t len);

#endif

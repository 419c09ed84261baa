/* SPDX-License-Identifier: Apache-2.0 */
/* The env's command queue (any thread -> loop) and its connections by id: env_loop.c. */
#ifndef SHUFFLE_CLIENT_RPCENV_ENV_LOOP_H
#define SHUFFLE_CLIENT_RPCENV_ENV_LOOP_H

#include <stdint.h>

#include <event2/util.h>

#include "client/rpcenv/env_state.h"

/* Any thread: cmd runs on the loop, after those posted before it (cmd->run frees it). */
int rpc_env_post(shuffle_rpc_env *env, struct env_cmd *cmd);
/* The loop's wake event: runs what was posted. */
void rpc_env_run_commands(evutil_socket_t fd, short what, void *arg);
/* Loop: a new connection's id (0 without memory); the connection of an id, NULL once gone. */
uint64_t rpc_env_next_conn_id(void *ctx);
struct rpc_conn *rpc_env_conn_by_id(shuffle_rpc_env *env, uint64_t id);

#endif

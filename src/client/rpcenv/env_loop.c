/* SPDX-License-Identifier: Apache-2.0 */
/* The env's command queue (the hand-off from any thread to the loop) and its connections by
 * id (slot and generation), for answers that arrive later from dispatcher threads. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "client/rpcenv/env_loop.h"
#include "client/rpcenv/env_state.h"
#include "shuffle/client.h"

int rpc_env_post(shuffle_rpc_env *env, struct env_cmd *cmd)
{
    cmd->next = NULL;
    pthread_mutex_lock(&env->lock);
    bool wake = !env->cmd_head;
    if (env->cmd_tail)
        env->cmd_tail->next = cmd;
    else
        env->cmd_head = cmd;
    env->cmd_tail = cmd;
    pthread_mutex_unlock(&env->lock);
    if (wake)
        event_active(env->cmd_wake, 0, 0);
    return SHUFFLE_OK;
}

void rpc_env_run_commands(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    shuffle_rpc_env *env = arg;
    atomic_store(&env->loop_thread, pthread_self());
    pthread_mutex_lock(&env->lock);
    struct env_cmd *cmd = env->cmd_head;
    env->cmd_head = env->cmd_tail = NULL;
    pthread_mutex_unlock(&env->lock);
    while (cmd) {
        struct env_cmd *next = cmd->next;
        cmd->run(env, cmd); /* frees cmd */
        cmd = next;
    }
}

/* ---- connections ---- */

uint64_t rpc_env_next_conn_id(void *ctx)
{
    shuffle_rpc_env *env = ctx;
    size_t slot = 0;
    while (slot < env->conns_cap && env->conns[slot])
        slot++;
    if (slot == env->conns_cap) {
        size_t cap = env->conns_cap ? env->conns_cap * 2 : 64;
        struct rpc_conn **conns = realloc(env->conns, cap * sizeof *conns);
        if (!conns)
            return 0;
        memset(conns + env->conns_cap, 0, (cap - env->conns_cap) * sizeof *conns);
        env->conns = conns;
        env->conns_cap = cap;
    }
    return (++env->conn_generation << 24) | slot;
}

struct rpc_conn *rpc_env_conn_by_id(shuffle_rpc_env *env, uint64_t id)
{
    size_t slot = (size_t)(id & 0xffffff);
    if (slot >= env->conns_cap || !env->conns[slot] || rpc_conn_id(env->conns[slot]) != id)
        return NULL;
    return env->conns[slot];
}

/* SPDX-License-Identifier: Apache-2.0 */
/* shuffle-rpc serve --demo-endpoints: two endpoints for trying failure paths by hand and in
 * tests: fail (every ask answered with the error "failing on purpose: PAYLOAD") and slow
 * (every ask answered with its payload after PAYLOAD milliseconds, by another thread, so
 * thousands can be outstanding at once). */
#ifndef SHUFFLE_TOOLS_RPC_DEMO_H
#define SHUFFLE_TOOLS_RPC_DEMO_H

#include "shuffle/rpc.h"

struct rpc_demo;

/* Registers fail and slow on env; NULL on failure. */
struct rpc_demo *rpc_demo_start(shuffle_rpc_env *env);
/* Before the env is freed: unregisters both, answers every waiting slow ask at once and
 * stops the answering thread. */
void rpc_demo_stop(struct rpc_demo *d, shuffle_rpc_env *env);

#endif

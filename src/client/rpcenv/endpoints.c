/* SPDX-License-Identifier: Apache-2.0 */
/* Registering and unregistering endpoints: an inbox on the env's dispatcher, entered in its
 * registry (and a local reference to it when asked for). */
#include <config.h>

#include <string.h>

#include "client/rpcenv/env.h"
#include "client/rpcenv/inbox.h"
#include "shuffle/client.h"
#include "shuffle/rpc.h"

int shuffle_rpc_register(shuffle_rpc_env *env, const char *name,
                         const struct shuffle_rpc_endpoint *ep, shuffle_rpc_ref **ref)
{
    if (!env || !name || !*name || strlen(name) > 255 || !ep || !ep->struct_size ||
        strcmp(name, RPC_VERIFIER_NAME) == 0)
        return SHUFFLE_EINVAL;
    struct shuffle_rpc_endpoint copy;
    shuffle_rpc_endpoint_init(&copy);
    memcpy(&copy, ep, ep->struct_size < sizeof copy ? ep->struct_size : sizeof copy);
    if (rpc_registry_has(rpc_env_registry(env), name, strlen(name)))
        return SHUFFLE_EINVAL;
    struct rpc_inbox *ib = rpc_inbox_new(rpc_env_inbox_env(env), name, &copy);
    if (!ib)
        return SHUFFLE_ELOCAL;
    int status = rpc_registry_add(rpc_env_registry(env), ib);
    if (status != SHUFFLE_OK) {
        rpc_inbox_stop(ib, rpc_env_on_loop(env)); /* on_start, then on_stop: never reachable */
        return status;
    }
    return ref ? shuffle_rpc_lookup(env, NULL, 0, name, 0, ref) : SHUFFLE_OK;
}

int shuffle_rpc_unregister(shuffle_rpc_env *env, const char *name)
{
    struct rpc_inbox *ib = env && name ? rpc_registry_remove(rpc_env_registry(env), name) : NULL;
    if (!ib)
        return SHUFFLE_RPC_ENOENDPOINT;
    rpc_inbox_stop(ib, rpc_env_on_loop(env));
    return SHUFFLE_OK;
}

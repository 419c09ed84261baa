/* SPDX-License-Identifier: Apache-2.0 */
/* An env's endpoints by name. Posting to an endpoint found here happens under the registry's
 * read lock (rpc_registry_post), so an endpoint taken out under the write lock can be stopped
 * knowing nobody still holds it. */
#ifndef SHUFFLE_CLIENT_RPCENV_REGISTRY_H
#define SHUFFLE_CLIENT_RPCENV_REGISTRY_H

#include <stdbool.h>

#include "client/rpcenv/inbox.h"

struct rpc_registry;

struct rpc_registry *rpc_registry_new(void);
void rpc_registry_free(struct rpc_registry *r); /* must be empty */
/* SHUFFLE_OK, SHUFFLE_EINVAL (name taken) or SHUFFLE_ELOCAL. */
int rpc_registry_add(struct rpc_registry *r, struct rpc_inbox *ib);
/* Takes name out: its inbox (to stop), or NULL if there is none. */
struct rpc_inbox *rpc_registry_remove(struct rpc_registry *r, const char *name);
/* The most recently added endpoint taken out, NULL when empty (shutdown, in reverse order). */
struct rpc_inbox *rpc_registry_remove_last(struct rpc_registry *r);
bool rpc_registry_has(struct rpc_registry *r, const char *name, size_t len);

/* Posts m to the endpoint (name, len): what rpc_inbox_post says, SHUFFLE_RPC_ENOENDPOINT, or
 * SHUFFLE_EAUTH for an endpoint that requires authentication and an unauthenticated m. On
 * failure m is still the caller's. */
int rpc_registry_post(struct rpc_registry *r, const char *name, size_t len, struct rpc_msg *m);
/* As rpc_registry_post for a list of n messages (all authenticated or none, as the first):
 * the first message not taken, with the reason in *status. */
struct rpc_msg *rpc_registry_post_list(struct rpc_registry *r, const char *name, size_t len,
                                       struct rpc_msg *first, int n, int *status);
/* Whether (name, len) is registered; if so, *taken says how many messages it has taken. */
bool rpc_registry_progress(struct rpc_registry *r, const char *name, size_t len, uint64_t *taken);
/* Posts a copy of m to every endpoint that has the callback for its kind (connected or
 * disconnected); m stays the caller's. */
void rpc_registry_broadcast(struct rpc_registry *r, const struct rpc_msg *m);

#endif

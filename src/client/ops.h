/* SPDX-License-Identifier: Apache-2.0 */
/* The single-request operations of ops.c as other public-API files use them: an RPC
 * whose failures are reported under the operation's own name, and the
 * MergedBlockMetaRequest (a transport message of its own, not an RPC). */
#ifndef SHUFFLE_CLIENT_OPS_H
#define SHUFFLE_CLIENT_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "shuffle/client.h"

/* shuffle_rpc, with failures reading "<name> to <peer> failed: <reason>". */
int ops_rpc_named(shuffle_client *c, const char *name, const char *host, int port, const void *body,
                  size_t len, shuffle_rpc_fn cb, void *arg);
/* cb gets, on success, the MergedBlockMetaSuccess from its numChunks on. */
int ops_merged_meta(shuffle_client *c, const char *host, int port, const char *app_id,
                    int32_t shuffle_id, int32_t shuffle_merge_id, int32_t reduce_id,
                    shuffle_rpc_fn cb, void *arg);

#endif

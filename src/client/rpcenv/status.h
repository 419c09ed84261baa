/* SPDX-License-Identifier: Apache-2.0 */
/* How an env's own refusals travel in an RpcFailure and are recognised on the other side:
 * a fixed text per status ("shuffle-rpc: no such endpoint: NAME", ...). Any other failure
 * text is the endpoint's own (SHUFFLE_RPC_EREMOTE). */
#ifndef SHUFFLE_CLIENT_RPCENV_STATUS_H
#define SHUFFLE_CLIENT_RPCENV_STATUS_H

#include <stddef.h>

/* The RpcFailure text for status about endpoint name (error: the endpoint's own text, used
 * for SHUFFLE_RPC_EREMOTE). */
void rpc_status_wire_text(int status, const char *name, const char *error, char *out,
                          size_t outlen);
/* The status an RpcFailure text stands for. */
int rpc_status_from_wire(const char *text, size_t len);

#endif

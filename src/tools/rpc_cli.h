/* SPDX-License-Identifier: Apache-2.0 */
/* What shuffle-rpc's subcommands share (shuffle_rpc.c). */
#ifndef SHUFFLE_TOOLS_RPC_CLI_H
#define SHUFFLE_TOOLS_RPC_CLI_H

#include <stddef.h>

#include "shuffle/rpc.h"

/* A number in min..max, or -1 with the reason on stderr. */
int rpc_cli_int(const char *s, const char *what, long min, long max, long *out);
/* The exit status for an RPC status (0 for SHUFFLE_OK). */
int rpc_cli_exit_status(int status);
/* A client-only env (authenticating with secret unless NULL) and a verified reference to
 * name at peer ("HOST:PORT"); the reason on stderr otherwise (then *env is NULL). */
int rpc_cli_connect(const char *peer, const char *name, const char *secret, int timeout_ms,
                    char *host, size_t hostlen, int *port, shuffle_rpc_env **env,
                    shuffle_rpc_ref **ref);
/* Returns once what env sent to host:port before was read there (a verifier round trip over
 * the same connection). */
int rpc_cli_flush(shuffle_rpc_env *env, const char *host, int port, const char *name,
                  int timeout_ms);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* What shuffle-rpc's subcommands share (shuffle_rpc.c). */
#ifndef SHUFFLE_TOOLS_RPC_CLI_H
#define SHUFFLE_TOOLS_RPC_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "shuffle/rpc.h"
#include "tools/secure_opts.h"

/* The security options every subcommand takes, as getopt_long entries: --auth-secret-file,
 * --crypto MODE, --crypto-cipher ctr|gcm; rpc_cli_security_opt takes their values. */
enum { RPC_OPT_SECRET = 'a', RPC_OPT_CRYPTO = 1000, RPC_OPT_CIPHER };
#define RPC_CLI_SECURITY_OPTIONS                                                                   \
    {"auth-secret-file", required_argument, NULL, RPC_OPT_SECRET},                                 \
        {"crypto", required_argument, NULL, RPC_OPT_CRYPTO},                                       \
    {                                                                                              \
        "crypto-cipher", required_argument, NULL, RPC_OPT_CIPHER                                   \
    }
/* Records optarg when c is one of them: true if it was. */
bool rpc_cli_security_opt(int c, const char *optarg, struct secure_opts *s);
/* Sets o's auth_secret, crypto and crypto_cipher from s; *secret (free it with
 * secure_secret_free after shuffle_rpc_env_new) is NULL without --auth-secret-file. 0, or -1
 * with the reason on stderr. */
int rpc_cli_security_apply(const struct secure_opts *s, struct shuffle_rpc_env_options *o,
                           char **secret);

/* A number in min..max, or -1 with the reason on stderr. */
int rpc_cli_int(const char *s, const char *what, long min, long max, long *out);
/* The exit status for an RPC status (0 for SHUFFLE_OK). */
int rpc_cli_exit_status(int status);
/* A client-only env (authenticating as sec says; on base, run by the caller, unless NULL) and
 * a verified reference to name at peer ("HOST:PORT"); the reason on stderr otherwise (then
 * *env is NULL). */
int rpc_cli_connect(const char *peer, const char *name, const struct secure_opts *sec,
                    struct event_base *base, int timeout_ms, char *host, size_t hostlen, int *port,
                    shuffle_rpc_env **env, shuffle_rpc_ref **ref);
/* Returns once what env sent to host:port before was read there (a verifier round trip over
 * the same connection). */
int rpc_cli_flush(shuffle_rpc_env *env, const char *host, int port, const char *name,
                  int timeout_ms);

#endif

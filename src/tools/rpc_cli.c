/* SPDX-License-Identifier: Apache-2.0 */
/* What shuffle-rpc's subcommands share; see rpc_cli.h. */
#include <config.h>

#include "tools/rpc_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "shuffle/client.h"
#include "tools/peer_arg.h"

/* Exit statuses of ask and send: the reason is on stderr. */
enum { EXIT_NO_ENDPOINT = 3, EXIT_TIMEOUT = 4, EXIT_REMOTE = 5 };

int rpc_cli_int(const char *s, const char *what, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        fprintf(stderr, "shuffle-rpc: %s: '%s' is not a number in %ld..%ld\n", what, s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int rpc_cli_exit_status(int status)
{
    switch (status) {
    case SHUFFLE_OK:
        return 0;
    case SHUFFLE_RPC_ENOENDPOINT:
        return EXIT_NO_ENDPOINT;
    case SHUFFLE_RPC_ETIMEDOUT:
        return EXIT_TIMEOUT;
    case SHUFFLE_RPC_EREMOTE:
        return EXIT_REMOTE;
    default:
        return 1;
    }
}

bool rpc_cli_security_opt(int c, const char *optarg, struct secure_opts *s)
{
    if (c == RPC_OPT_SECRET)
        s->secret_file = optarg;
    else if (c == RPC_OPT_CRYPTO)
        s->crypto = optarg;
    else if (c == RPC_OPT_CIPHER)
        s->crypto_cipher = optarg;
    else
        return false;
    return true;
}

int rpc_cli_security_apply(const struct secure_opts *s, struct shuffle_rpc_env_options *o,
                           char **secret)
{
    char err[1024];
    if (secure_opts_read(s, &o->crypto, &o->crypto_cipher, secret, err, sizeof err) != 0) {
        fprintf(stderr, "shuffle-rpc: %s\n", err);
        return -1;
    }
    o->auth_secret = *secret;
    return 0;
}

int rpc_cli_connect(const char *peer, const char *name, const struct secure_opts *sec,
                    struct event_base *base, int timeout_ms, char *host, size_t hostlen, int *port,
                    shuffle_rpc_env **env, shuffle_rpc_ref **ref)
{
    char err[256];
    *env = NULL;
    *ref = NULL;
    if (peer_arg_parse(peer, host, hostlen, port, err, sizeof err) != 0) {
        fprintf(stderr, "shuffle-rpc: %s\n", err);
        return SHUFFLE_EINVAL;
    }
    struct shuffle_rpc_env_options o;
    shuffle_rpc_env_options_init(&o);
    o.event_base = base;
    char *secret = NULL;
    if (sec && rpc_cli_security_apply(sec, &o, &secret) != 0)
        return SHUFFLE_EINVAL;
    int status = shuffle_rpc_env_new(&o, env, err, sizeof err);
    secure_secret_free(secret); /* the env keeps what it derived from it */
    if (status != SHUFFLE_OK) {
        fprintf(stderr, "shuffle-rpc: %s\n", err);
        return status;
    }
    status = shuffle_rpc_lookup(*env, host, *port, name, timeout_ms, ref);
    if (status != SHUFFLE_OK) {
        fprintf(stderr, "shuffle-rpc: lookup of %s at %s: %s: %s\n", name, peer,
                shuffle_rpc_status_name(status), shuffle_rpc_strerror(status));
        shuffle_rpc_env_free(*env);
        *env = NULL;
    }
    return status;
}

int rpc_cli_flush(shuffle_rpc_env *env, const char *host, int port, const char *name,
                  int timeout_ms)
{
    shuffle_rpc_ref *again;
    int status = shuffle_rpc_lookup(env, host, port, name, timeout_ms, &again);
    shuffle_rpc_ref_free(again);
    return status;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* shuffle-rpc: libshuffle's RPC env from the command line (man 1 shuffle-rpc, docs/rpc.md).
 *   serve  an env with the endpoints echo (ask: the payload back) and counter (send: +1;
 *          ask: the count in decimal) until SIGTERM
 *   ask    one ask: the reply on stdout, or the reason on stderr and a non-zero exit
 *   send   one one-way message
 *   bench  send or ask load against a serving env (rpc_bench.c) */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/version.h"
#include "shuffle/client.h"
#include "shuffle/rpc.h"
#include "tools/rpc_bench.h"
#include "tools/rpc_cli.h"
#include "tools/rpc_demo.h"

/* A usage error (the statuses of failed asks and sends: rpc_cli_exit_status). */
enum { EXIT_USAGE = 2 };

static void usage(FILE *to)
{
    fprintf(to,
            "usage: shuffle-rpc serve [--listen ADDR] [--port N] [--port-file FILE]\n"
            "                         [--workers N] [--inbox-capacity N] [--demo-endpoints]\n"
            "                         [SECURITY]\n"
            "       shuffle-rpc ask HOST:PORT ENDPOINT PAYLOAD [--timeout MS] [SECURITY]\n"
            "       shuffle-rpc send HOST:PORT ENDPOINT PAYLOAD [--timeout MS] [SECURITY]\n"
            "       shuffle-rpc bench HOST:PORT --mode send|ask [--in-flight N] [--connections N]\n"
            "                         [--size BYTES] [--seconds S] [--rate ASKS_PER_S] [--json]\n"
            "                         [SECURITY]\n"
            "  SECURITY: [--auth-secret-file FILE [--crypto pbkdf2|x25519|x25519-v2\n"
            "            [--crypto-cipher ctr|gcm]]]\n"
            "       shuffle-rpc --version\n");
}

/* ---- serve ---- */

struct counter {
    atomic_ulong count;
};

static void counter_receive(void *arg, const struct shuffle_rpc_message *m)
{
    (void)m;
    struct counter *c = arg;
    atomic_fetch_add_explicit(&c->count, 1, memory_order_relaxed);
}

static void counter_reply(void *arg, const struct shuffle_rpc_message *m, shuffle_rpc_reply *r)
{
    (void)m;
    struct counter *c = arg;
    char text[32];
    int n = snprintf(text, sizeof text, "%lu", atomic_load(&c->count));
    shuffle_rpc_reply_ok(r, text, (size_t)n);
}

static void echo_reply(void *arg, const struct shuffle_rpc_message *m, shuffle_rpc_reply *r)
{
    (void)arg;
    shuffle_rpc_reply_ok(r, m->payload, m->len);
}

static int write_port_file(const char *path, int port)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "shuffle-rpc: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"port", required_argument, NULL, 'p'},
        {"port-file", required_argument, NULL, 'f'},
        RPC_CLI_SECURITY_OPTIONS,
        {"workers", required_argument, NULL, 'w'},
        {"inbox-capacity", required_argument, NULL, 'i'},
        {"demo-endpoints", no_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    bool demo = false;
    const char *listen = "127.0.0.1", *port_file = NULL;
    struct secure_opts sec = {0};
    long port = 0, workers = 2, inbox_capacity = 65536;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if ((c == 'p' && rpc_cli_int(optarg, "--port", 0, 65535, &port) != 0) ||
            (c == 'w' && rpc_cli_int(optarg, "--workers", 1, 256, &workers) != 0) ||
            (c == 'i' &&
             rpc_cli_int(optarg, "--inbox-capacity", 1, 1 << 24, &inbox_capacity) != 0) ||
            c == '?')
            return EXIT_USAGE;
        if (c == 'l')
            listen = optarg;
        else if (c == 'f')
            port_file = optarg;
        else if (rpc_cli_security_opt(c, optarg, &sec))
            continue;
        else if (c == 'd')
            demo = true;
    }
    if (optind != argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    struct shuffle_rpc_env_options o;
    shuffle_rpc_env_options_init(&o);
    o.listen_host = listen;
    o.port = (int)port;
    o.worker_threads = (int)workers;
    o.inbox_capacity = (int)inbox_capacity;
    char *secret = NULL;
    if (rpc_cli_security_apply(&sec, &o, &secret) != 0)
        return 1;
    /* SIGTERM and SIGINT are taken by sigwait below, in every thread the env starts */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    shuffle_rpc_env *env;
    char err[256];
    int status = shuffle_rpc_env_new(&o, &env, err, sizeof err);
    bool auth = secret != NULL;
    secure_secret_free(secret);
    if (status != SHUFFLE_OK) {
        fprintf(stderr, "shuffle-rpc: serve: %s\n", err);
        return 1;
    }
    struct counter counter;
    atomic_init(&counter.count, 0);
    struct shuffle_rpc_endpoint echo, count;
    shuffle_rpc_endpoint_init(&echo);
    echo.run_on_loop = true; /* answers at once, never blocks: no hand-off to a thread */
    echo.receive_and_reply = echo_reply;
    echo.require_auth = auth;
    shuffle_rpc_endpoint_init(&count);
    count.arg = &counter;
    count.receive = counter_receive;
    count.receive_and_reply = counter_reply;
    count.require_auth = auth;
    struct rpc_demo *demos = NULL;
    if (shuffle_rpc_register(env, "echo", &echo, NULL) != SHUFFLE_OK ||
        shuffle_rpc_register(env, "counter", &count, NULL) != SHUFFLE_OK ||
        (demo && !(demos = rpc_demo_start(env))) ||
        (port_file && write_port_file(port_file, shuffle_rpc_env_port(env)) != 0)) {
        rpc_demo_stop(demos, env);
        shuffle_rpc_env_free(env);
        return 1;
    }
    fprintf(stderr, "shuffle-rpc: serving echo and counter on %s:%d\n", listen,
            shuffle_rpc_env_port(env));
    int sig;
    sigwait(&stop, &sig);
    rpc_demo_stop(demos, env);
    shuffle_rpc_env_free(env);
    return 0;
}

/* ---- ask and send ---- */

static int one_message(bool ask, int argc, char **argv)
{
    static const struct option opts[] = {
        {"timeout", required_argument, NULL, 't'},
        RPC_CLI_SECURITY_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    long timeout = 10000;
    struct secure_opts sec = {0};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == '?' || (c == 't' && rpc_cli_int(optarg, "--timeout", 1, INT_MAX, &timeout)))
            return EXIT_USAGE;
        rpc_cli_security_opt(c, optarg, &sec);
    }
    if (argc - optind != 3) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *peer = argv[optind], *name = argv[optind + 1], *payload = argv[optind + 2];
    shuffle_rpc_env *env;
    shuffle_rpc_ref *ref;
    char host[256];
    int port;
    int status =
        rpc_cli_connect(peer, name, &sec, NULL, (int)timeout, host, sizeof host, &port, &env, &ref);
    if (status != SHUFFLE_OK)
        return rpc_cli_exit_status(status);
    uint8_t *reply = NULL;
    size_t len = 0;
    char *error = NULL;
    if (ask) {
        status =
            shuffle_rpc_ask_sync(ref, payload, strlen(payload), (int)timeout, &reply, &len, &error);
    } else {
        status = shuffle_rpc_send(ref, payload, strlen(payload));
        /* the verifier answers over the same connection, after the message was read */
        if (status == SHUFFLE_OK)
            status = rpc_cli_flush(env, host, port, name, (int)timeout);
    }
    if (status == SHUFFLE_OK && ask) {
        fwrite(reply, 1, len, stdout);
        fputc('\n', stdout);
    } else if (status != SHUFFLE_OK) {
        fprintf(stderr, "shuffle-rpc: %s %s at %s: %s: %s\n", ask ? "ask" : "send", name, peer,
                shuffle_rpc_status_name(status), error ? error : shuffle_rpc_strerror(status));
    }
    free(reply);
    free(error);
    shuffle_rpc_ref_free(ref);
    shuffle_rpc_env_free(env);
    return rpc_cli_exit_status(status);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        print_version("shuffle-rpc");
        return 0;
    }
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    /* the subcommand's options start after it */
    argc--;
    argv++;
    if (strcmp(cmd, "serve") == 0)
        return serve(argc, argv);
    if (strcmp(cmd, "ask") == 0)
        return one_message(true, argc, argv);
    if (strcmp(cmd, "send") == 0)
        return one_message(false, argc, argv);
    if (strcmp(cmd, "bench") == 0)
        return rpc_bench_main(argc, argv);
    fprintf(stderr, "shuffle-rpc: unknown command '%s'\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}

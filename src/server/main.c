/* SPDX-License-Identifier: Apache-2.0 */
/* shuffled: argv, config, threads, signals, start and stop. */
#include <config.h>

#include <errno.h>
#include <event2/event.h>
#include <stdatomic.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/version.h"
#include "server/stream/blocking_pool.h"
#include "server/net/auth.h"
#include "server/net/dispatch.h"
#include "server/net/handler.h"
#include "server/stream/stream_manager.h"
#include "server/ops/config.h"
#include "server/ops/config_dump.h"
#include "server/ops/config_files.h"
#include "server/ops/config_reload.h"
#include "server/ops/ops_runtime.h"
#include "server/net/listener.h"
#include "server/net/tls_conn.h"
#include "server/net/tls_context.h"
#include "common/log.h"
#include "server/ops/memory_trim.h"
#include "server/server.h"
#include "server/service.h"
#include "server/net/worker.h"

struct daemon {
    struct server srv;
    struct event_base *base;
    struct listener *listener;
    struct event *sig_term, *sig_int, *sig_hup;
    /* operations side (ops_runtime.h): systemd notify/watchdog, admin HTTP, reload */
    struct ops_runtime *ops;
    struct dispatch *dispatch;
    struct memory_trim *trim;
    struct config_generation *reloaded; /* configs SIGHUP published, newest first */
    const char *config_path;
    const char *dropin_dir; /* NULL: none */
};

/* A configuration published by SIGHUP; kept until exit (see config_reload.h). */
struct config_generation {
    struct shuffled_config cfg;
    struct config_generation *older;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: shuffled [-t | -T] [-c CONFIG.json [-d DIR]] [--port-file FILE]\n"
               "  -c FILE          configuration (JSON); without it the built-in defaults\n"
               "  -d DIR           drop-in directory: its *.json files apply over FILE in name\n"
               "                   order (default: conf.d beside FILE; -d '' for none)\n"
               "  -t               check the configuration and exit (0 if valid)\n"
               "  -T               as -t, and print the effective configuration as JSON\n"
               "  --port-file FILE write the first bound port there once listening\n"
               "  --version        print the version and exit\n");
}

static void stop_cb(evutil_socket_t sig, short what, void *arg)
{
    struct daemon *d = arg;
    (void)what;
    log_info("signal %d: stopping (grace %llu ms)", (int)sig,
             (unsigned long long)server_config(&d->srv)->shutdown_grace_ms);
    ops_stopping(d->ops);
    listener_close(d->listener);
    d->listener = NULL;
    for (int i = 0; i < d->srv.nworkers; i++)
        worker_begin_shutdown(d->srv.workers[i]);
    event_base_loopbreak(d->base);
}

static void size_file_limits(struct shuffled_config *cfg);

/* "FILE" or "FILE + N drop-in(s)", for log lines. */
static const char *describe_files(const struct config_files *files, char *buf, size_t len)
{
    if (files->count <= 1)
        snprintf(buf, len, "%s", files->count ? files->paths[0] : "?");
    else
        snprintf(buf, len, "%s + %zu drop-in(s)", files->paths[0], files->count - 1);
    return buf;
}

/* SIGHUP: a new configuration that does not validate is rejected and the running one
 * stays; otherwise it is published with its restart-only keys reset to the running values,
 * and those that differed are named as needing a restart. */
static void reload(struct daemon *d)
{
    char err[4096], applied[512], restart[512], what[4200];
    struct config_files files = {0};
    struct config_generation *g = calloc(1, sizeof(*g));
    if (!g) {
        log_error("reload of %s failed: out of memory; the running configuration stays",
                  d->config_path);
        return;
    }
    if (config_load_layered(d->config_path, d->dropin_dir, &g->cfg, &files, err, sizeof err) != 0) {
        for (char *nl = strchr(err, '\n'); nl; nl = strchr(nl, '\n'))
            *nl = ';'; /* one log line, every error */
        log_error("reload rejected, the running configuration stays: %s", err);
        free(g);
        return;
    }
    size_file_limits(&g->cfg); /* resolve "automatic" values as at start */
    int n = config_reload_prepare(server_config(&d->srv), &g->cfg, applied, sizeof applied, restart,
                                  sizeof restart);
    if (n < 0)
        snprintf(err, sizeof err, "out of memory");
    struct rpc_handler *h = d->srv.handler;
    if (n < 0 || (d->srv.tls && tls_context_reload(d->srv.tls, &g->cfg, err, sizeof err) != 0) ||
        (h->reload && h->reload(h->ctx, &g->cfg, err, sizeof err) != 0)) {
        log_error("reload rejected, the running configuration stays: %s", err);
        config_free(&g->cfg);
        config_files_free(&files);
        free(g);
        return;
    }
    g->older = d->reloaded;
    d->reloaded = g;
    atomic_store_explicit(&d->srv.cfg, &g->cfg, memory_order_release);
    log_set_level_name(g->cfg.log_level);
    log_info("reloaded %s; applied live: %s", describe_files(&files, what, sizeof what),
             applied[0] ? applied : "(no change)");
    config_files_free(&files);
    if (d->srv.tls) {
        char cert[400];
        tls_context_describe(d->srv.tls, cert, sizeof cert);
        log_info("TLS: new connections get %s", cert);
    }
    if (n > 0)
        log_warn("reload of %s: these changes need a restart and were not applied: %s",
                 d->config_path, restart);
}

static void hup_cb(evutil_socket_t sig, short what, void *arg)
{
    struct daemon *d = arg;
    (void)sig;
    (void)what;
    if (!d->config_path) {
        log_info("SIGHUP: running on built-in defaults (no -c FILE): nothing to reload");
        return;
    }
    ops_reloading(d->ops);
    reload(d);
    ops_reloaded(d->ops);
}

/* -t: the TLS files load (certificate, key, its password, CAs) as they will at start. */
static int check_tls_files(const struct shuffled_config *cfg)
{
    char err[512];
    struct tls_context *t = NULL;
    if ((cfg->tls_enabled || cfg->tls_port) && !(t = tls_context_create(cfg, err, sizeof err))) {
        fprintf(stderr, "shuffled: %s\n", err);
        return 1;
    }
    tls_context_destroy(t);
    return 0;
}

/* Which sockets speak TLS, with which certificate, and how file bytes will be encrypted. */
static void log_tls_start(struct daemon *d)
{
    char cert[400];
    tls_context_describe(d->srv.tls, cert, sizeof cert);
    for (size_t i = 0; i < listener_count(d->listener); i++)
        if (listener_is_tls(d->listener, i))
            log_info("TLS on %s: %s", listener_address(d->listener, i), cert);
    if (tls_kernel_available() && server_config(&d->srv)->crypto_enabled)
        log_info("TLS file bytes: pread + SSL_write (crypto_enabled: AES goes under TLS, as "
                 "Spark does, so kernel TLS is off)");
    else if (tls_kernel_available())
        log_info("TLS file bytes: kernel TLS (SSL_sendfile) for connections with an AES-GCM "
                 "suite, pread + SSL_write for the others");
    else
        log_info("TLS file bytes: pread + SSL_write (kernel TLS unavailable: no `tls` kernel "
                 "module; modprobe tls for zero-copy TLS)");
}

/* Every chunk in flight may hold one open file: raise the soft open-file limit to the hard one
 * and, when max_chunks_in_flight is 0 (automatic), bound chunks in flight to half of it. */
static void size_file_limits(struct shuffled_config *cfg)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = {rl.rlim_max, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl = want;
    }
    if (cfg->max_chunks_in_flight == 0) {
        cfg->max_chunks_in_flight = rl.rlim_cur == RLIM_INFINITY ? 1u << 20 : rl.rlim_cur / 2;
        if (cfg->max_chunks_in_flight < 64)
            cfg->max_chunks_in_flight = 64;
    }
    if (rl.rlim_cur != RLIM_INFINITY && cfg->max_connections > rl.rlim_cur)
        log_warn("max_connections (%u) is above the open-file limit (%llu)", cfg->max_connections,
                 (unsigned long long)rl.rlim_cur);
}

static int write_port_file(const char *path, int port)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        log_error("cannot write the port file %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *config_path = NULL, *port_file = NULL, *dropin_arg = NULL;
    int check_only = 0; /* 1: -t, 2: -T */
    memory_trim_setup();
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-t") == 0) {
            check_only = check_only > 1 ? check_only : 1;
        } else if (strcmp(argv[i], "-T") == 0) {
            check_only = 2;
        } else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            config_path = argv[++i];
        } else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
            dropin_arg = argv[++i];
        } else if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc) {
            port_file = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--version") == 0) {
            print_version("shuffled");
            return 0;
        } else {
            fprintf(stderr, "shuffled: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (dropin_arg && !config_path) {
        fprintf(stderr, "shuffled: -d needs -c FILE (the drop-ins apply over a file)\n");
        return 2;
    }
    char err[8192], what[4200];
    char *dropin_dir = NULL;
    if (config_path && !dropin_arg && !(dropin_dir = config_default_dropin_dir(config_path))) {
        fprintf(stderr, "shuffled: out of memory\n");
        return 1;
    }
    if (dropin_arg && dropin_arg[0] && !(dropin_dir = strdup(dropin_arg))) {
        fprintf(stderr, "shuffled: out of memory\n");
        return 1;
    }
    struct shuffled_config cfg;
    struct config_files files = {0};
    if (config_path
            ? config_load_layered(config_path, dropin_dir, &cfg, &files, err, sizeof err)
            : (config_defaults(&cfg) == 0 ? 0 : (snprintf(err, sizeof err, "no memory"), -1))) {
        for (char *line = strtok(err, "\n"); line; line = strtok(NULL, "\n"))
            fprintf(stderr, "shuffled: %s\n", line); /* every error, one per line */
        free(dropin_dir);
        return 1;
    }
    if (check_only) {
        int bad = check_only == 2 && config_dump(&cfg, stdout) != 0;
        bad |= check_tls_files(&cfg);
        for (size_t i = 1; !bad && i < files.count; i++)
            fprintf(stderr, "shuffled: drop-in %s applied\n", files.paths[i]);
        if (!bad)
            fprintf(stderr, "shuffled: the configuration %s is valid\n",
                    config_path ? config_path : "(built-in defaults)");
        config_free(&cfg);
        config_files_free(&files);
        free(dropin_dir);
        return bad;
    }
    log_set_level_name(cfg.log_level);
    log_info("configuration: %s",
             config_path ? describe_files(&files, what, sizeof what) : "built-in defaults");
    config_files_free(&files);
    size_file_limits(&cfg);
    signal(SIGPIPE, SIG_IGN);
    if (evthread_use_pthreads() != 0) {
        log_error("libevent without pthreads support");
        config_free(&cfg);
        free(dropin_dir);
        return 1;
    }

    struct daemon d;
    memset(&d, 0, sizeof(d));
    atomic_init(&d.srv.cfg, &cfg);
    d.config_path = config_path;
    d.dropin_dir = dropin_dir;
    int nworkers = cfg.io_threads > 0 ? cfg.io_threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (nworkers < 1)
        nworkers = 1;
    int rc = 1;
    d.srv.pool = blocking_pool_create(cfg.blocking_threads, err, sizeof err);
    if (!d.srv.pool)
        goto fail;
    d.srv.auth = auth_server_create(&cfg, err, sizeof err);
    if (!d.srv.auth && err[0])
        goto fail;
    if (cfg.tls_enabled || cfg.tls_port) {
        d.srv.tls = tls_context_create(&cfg, err, sizeof err);
        if (!d.srv.tls)
            goto fail;
    }
    d.srv.handler = shuffle_service_create(&cfg, err, sizeof err);
    if (!d.srv.handler)
        goto fail;
    /* the message table: RPCs to the service, chunk and stream requests to the stream
     * manager; with auth on, every connection starts in the handshake phase */
    d.dispatch = dispatch_create(d.srv.handler);
    if (!d.dispatch) {
        snprintf(err, sizeof err, "out of memory");
        goto fail;
    }
    dispatch_route(d.dispatch, PROTO_CHUNK_FETCH_REQUEST, stream_manager_on_msg, NULL);
    dispatch_route(d.dispatch, PROTO_STREAM_REQUEST, stream_manager_on_msg, NULL);
    if (d.srv.handler->on_merged_meta) /* push-based shuffle's merged fetch */
        dispatch_route(d.dispatch, PROTO_MERGED_BLOCK_META_REQUEST, d.srv.handler->on_merged_meta,
                       d.srv.handler->ctx);
    struct conn_phase base = dispatch_phase(d.dispatch);
    d.srv.base_on_msg = base.on_msg;
    d.srv.base_ctx = base.ctx;
    if (d.srv.auth) {
        d.srv.conn_opened = auth_conn_opened;
        d.srv.conn_opened_ctx = d.srv.auth;
    }
    d.srv.workers = calloc((size_t)nworkers, sizeof *d.srv.workers);
    if (!d.srv.workers) {
        snprintf(err, sizeof err, "out of memory");
        goto fail;
    }
    for (int i = 0; i < nworkers; i++) {
        d.srv.workers[i] = worker_create(&d.srv, i, err, sizeof err);
        if (!d.srv.workers[i])
            goto fail;
        d.srv.nworkers = i + 1;
        if (worker_start(d.srv.workers[i], err, sizeof err) != 0)
            goto fail;
    }
    d.base = event_base_new();
    if (!d.base) {
        snprintf(err, sizeof err, "cannot create the main event loop");
        goto fail;
    }
    d.listener = listener_open(&d.srv, d.base, err, sizeof err);
    if (!d.listener)
        goto fail;
    d.sig_term = evsignal_new(d.base, SIGTERM, stop_cb, &d);
    d.sig_int = evsignal_new(d.base, SIGINT, stop_cb, &d);
    d.sig_hup = evsignal_new(d.base, SIGHUP, hup_cb, &d);
    if (!d.sig_term || !d.sig_int || !d.sig_hup || evsignal_add(d.sig_term, NULL) != 0 ||
        evsignal_add(d.sig_int, NULL) != 0 || evsignal_add(d.sig_hup, NULL) != 0) {
        snprintf(err, sizeof err, "cannot install signal handlers");
        goto fail;
    }
    d.ops = ops_start(&d.srv, d.base, cfg.admin_listen, cfg.admin_port, cfg.admin_token_file, err,
                      sizeof err);
    if (!d.ops)
        goto fail; /* e.g. the admin port is taken: fatal, before the port file is written */
    for (size_t i = 0; i < listener_count(d.listener); i++)
        log_info("listening on %s", listener_address(d.listener, i));
    if (d.srv.tls)
        log_tls_start(&d);
    /* a fixed line on stderr that tests and scripts can wait for */
    fprintf(stderr, "listening on %s\n", listener_address(d.listener, 0));
    if (port_file && write_port_file(port_file, listener_port(d.listener, 0)) != 0) {
        snprintf(err, sizeof err, "cannot write the port file %s", port_file);
        goto fail;
    }
    d.trim = memory_trim_start(d.base, &d.srv);
    if (d.srv.handler->started &&
        d.srv.handler->started(d.srv.handler->ctx, d.base, d.srv.pool, err, sizeof err) != 0)
        goto fail;
    ops_ready(d.ops); /* listening, registrations loaded by shuffle_service_create */
    log_info("started: %d io thread(s), %d blocking thread(s), at most %llu chunk(s) in flight",
             nworkers, cfg.blocking_threads, (unsigned long long)cfg.max_chunks_in_flight);
    event_base_dispatch(d.base);
    rc = 0;
    goto stop;
fail:
    log_error("%s", err);
    listener_close(d.listener);
    d.listener = NULL;
    for (int i = 0; i < d.srv.nworkers; i++)
        worker_begin_shutdown(d.srv.workers[i]);
stop:
    for (int i = 0; i < d.srv.nworkers; i++)
        worker_join(d.srv.workers[i]);
    blocking_pool_destroy(d.srv.pool);
    for (int i = 0; i < d.srv.nworkers; i++)
        worker_destroy(d.srv.workers[i]);
    ops_free(d.ops); /* after the workers ran their queued watchdog heartbeats */
    if (d.srv.handler && d.srv.handler->destroy)
        d.srv.handler->destroy(d.srv.handler->ctx);
    free(d.srv.workers);
    dispatch_destroy(d.dispatch);
    memory_trim_stop(d.trim);
    auth_server_destroy(d.srv.auth);
    tls_context_destroy(d.srv.tls);
    listener_close(d.listener);
    if (d.sig_term)
        event_free(d.sig_term);
    if (d.sig_int)
        event_free(d.sig_int);
    if (d.sig_hup)
        event_free(d.sig_hup);
    if (d.base)
        event_base_free(d.base);
    if (rc == 0)
        log_info("stopped");
    while (d.reloaded) {
        struct config_generation *older = d.reloaded->older;
        config_free(&d.reloaded->cfg);
        free(d.reloaded);
        d.reloaded = older;
    }
    config_free(&cfg);
    free(dropin_dir);
    libevent_global_shutdown();
    return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* shuffle-bench: a load generator on libshuffle. C requests in flight (each on
 * one of C pooled connections), K blocks per request picked from a dataset
 * manifest, for S seconds or N requests; prints blocks/s, MB/s, request latency
 * p50/p90/p99/max, errors (each distinct error once, with its count) and the client's
 * own CPU time, or the same as JSON (--json) or CSV (--csv). -s is a deadline: requests
 * still unanswered a second after it (a server that stopped answering, retries in
 * progress) are abandoned and counted as unfinished. Shows progress on a terminal.
 * Optionally holds extra idle TCP connections open to the server during the run.
 * Modes: --old-protocol (OpenBlocks), --batch (each request's contiguous reduces of one
 * map as one batch id), --fetch-to-file (every block by StreamRequest into a file). */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "shuffle/client.h"
#include "shuffle/sync.h"
#include "tools/error_tally.h"
#include "tools/manifest_check.h"
#include "tools/opt_table.h"
#include "tools/peer_arg.h"
#include "tools/secure_opts.h"
#include "tools/peer_probe.h"

struct group { /* manifest blocks of one shuffle id (or all non-shuffle ids) */
    size_t first, count;
};

struct bench {
    shuffle_client *cl;
    char host[256];
    int port;
    const char *app, *exec;
    struct mlist man;
    struct group *groups;
    size_t ngroups;
    int k;
    double seconds;
    long max_requests;
    bool verify;
    bool batch; /* merge each request's contiguous reduces of one map into batch ids */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint64_t rng;
    double t0, stop_at;
    long started, finished;
    int active;
    uint64_t blocks, bytes, block_errors, verify_errors;
    struct error_tally errors;
    bool stopping;   /* past the deadline: cancellations are not errors */
    long unfinished; /* requests abandoned at the deadline */
    uint64_t chunks; /* ids delivered: blocks, or batch ranges of several blocks */
    double *lat;
    size_t nlat, cap;
};

struct req {
    struct bench *b;
    double start;
    const char **ids;
    char **batch_ids;      /* --batch: the ids sent, owned; NULL otherwise */
    uint32_t *batch_parts; /* --batch: manifest blocks in each batch id */
    size_t num_batch_ids;
};

static void req_free(struct req *r)
{
    for (size_t i = 0; i < r->num_batch_ids; i++)
        free(r->batch_ids[i]);
    free(r->batch_ids);
    free(r->batch_parts);
    free(r->ids);
    free(r);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t next_rand(struct bench *b)
{
    b->rng ^= b->rng << 13;
    b->rng ^= b->rng >> 7;
    b->rng ^= b->rng << 17;
    return b->rng;
}

static void on_block(void *arg, const struct shuffle_block *blk)
{
    struct req *r = arg;
    struct bench *b = r->b;
    char why[256];
    bool bad = false;
    if (blk->status == SHUFFLE_OK && b->verify)
        bad = blk->path
                  ? !verify_file(&b->man, blk->block_id, blk->path, why, sizeof(why))
                  : !verify_bytes(&b->man, blk->block_id, blk->data, blk->len, why, sizeof(why));
    pthread_mutex_lock(&b->lock);
    if (blk->status == SHUFFLE_ECANCELED && b->stopping) {
        /* abandoned at the deadline: counted by on_done */
    } else if (blk->status != SHUFFLE_OK) {
        b->block_errors++;
        error_tally_add(&b->errors, blk->error, blk->block_id);
    } else if (bad) {
        b->verify_errors++;
    } else {
        b->blocks += r->batch_parts ? r->batch_parts[blk->index] : 1;
        b->chunks++;
        b->bytes += blk->len;
    }
    pthread_mutex_unlock(&b->lock);
}

static void start_request_locked(struct bench *b);

static void on_done(void *arg, size_t delivered, size_t failed)
{
    struct req *r = arg;
    struct bench *b = r->b;
    double lat = now_s() - r->start;
    req_free(r);
    pthread_mutex_lock(&b->lock);
    if (b->stopping) {
        b->unfinished++;
        b->active--;
        pthread_mutex_unlock(&b->lock);
        return;
    }
    if (b->nlat == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 4096;
        b->lat = realloc(b->lat, b->cap * sizeof(double));
    }
    b->lat[b->nlat++] = lat;
    b->finished++;
    b->active--;
    start_request_locked(b);
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
}

/* Parses shuffle_S_M_R into its prefix length ("shuffle_S_M") and R. */
static bool split_reduce(const char *id, size_t *prefix_len, long *reduce)
{
    const char *last = strrchr(id, '_');
    if (!last || last - id < 10 || strncmp(id, "shuffle_", 8) != 0)
        return false;
    char *end;
    *reduce = strtol(last + 1, &end, 10);
    *prefix_len = (size_t)(last - id);
    return *end == 0 && end != last + 1;
}

/* --batch: replaces r->ids[0..k) by batch ids shuffle_S_M_A_B, one per run of
 * consecutive reduces of one map (as Spark's batch fetch of contiguous
 * partitions asks); returns how many, 0 when out of memory or not mergeable. */
static size_t make_batch_ids(struct req *r, size_t k)
{
    r->batch_ids = calloc(k, sizeof(char *));
    r->batch_parts = calloc(k, sizeof(uint32_t));
    if (!r->batch_ids || !r->batch_parts)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < k;) {
        size_t plen, pl2;
        long first, red;
        if (!split_reduce(r->ids[i], &plen, &first))
            return 0;
        size_t j = i + 1;
        while (j < k && split_reduce(r->ids[j], &pl2, &red) && pl2 == plen &&
               strncmp(r->ids[j], r->ids[i], plen) == 0 && red == first + (long)(j - i))
            j++;
        char *id = malloc(plen + 48);
        if (!id)
            return 0;
        snprintf(id, plen + 48, "%.*s_%ld_%ld", (int)plen, r->ids[i], first, first + (long)(j - i));
        r->batch_ids[n] = id;
        r->batch_parts[n] = (uint32_t)(j - i);
        r->num_batch_ids = ++n;
        i = j;
    }
    for (size_t i = 0; i < n; i++)
        r->ids[i] = r->batch_ids[i];
    return n;
}

static void start_request_locked(struct bench *b)
{
    if (b->max_requests > 0 ? b->started >= b->max_requests : now_s() >= b->stop_at)
        return;
    struct group *g = &b->groups[next_rand(b) % b->ngroups];
    size_t k = (size_t)b->k < g->count ? (size_t)b->k : g->count;
    size_t at = g->first + (g->count > k ? next_rand(b) % (g->count - k + 1) : 0);
    struct req *r = calloc(1, sizeof(*r));
    r->b = b;
    r->ids = malloc(k * sizeof(char *));
    for (size_t i = 0; i < k; i++)
        r->ids[i] = b->man.b[at + i].id;
    if (b->batch && (k = make_batch_ids(r, k)) == 0) {
        fprintf(stderr,
                "shuffle-bench: cannot make batch ids (out of memory or not shuffle_S_M_R)\n");
        req_free(r);
        b->block_errors++;
        return;
    }
    r->start = now_s();
    struct shuffle_fetch_request fr = {.struct_size = sizeof(fr),
                                       .host = b->host,
                                       .port = b->port,
                                       .app_id = b->app,
                                       .exec_id = b->exec,
                                       .block_ids = r->ids,
                                       .num_blocks = k,
                                       .on_block = on_block,
                                       .on_done = on_done,
                                       .arg = r};
    if (shuffle_fetch_blocks(b->cl, &fr) != SHUFFLE_OK) {
        error_tally_add(&b->errors, shuffle_last_error(b->cl), NULL);
        req_free(r);
        b->block_errors += k;
        return;
    }
    b->started++;
    b->active++;
}

/* Waits (b->lock held) until every request is done, or, with -s, until a second past the
 * deadline; once a second on a terminal, a progress line. */
static void wait_for_requests(struct bench *b, bool progress)
{
    double next_line = b->t0 + 1, give_up = b->stop_at + 1;
    bool shown = false;
    while (b->active > 0) {
        double now = now_s();
        if (b->max_requests == 0 && now >= give_up)
            break;
        if (progress && now >= next_line) {
            double el = now - b->t0;
            fprintf(stderr, "\r%.0f s  %llu blocks  %.1f MB/s  %llu errors ", el,
                    (unsigned long long)b->blocks, (double)b->bytes / 1e6 / el,
                    (unsigned long long)b->block_errors);
            shown = true;
            next_line += 1;
        }
        double until = now + 1;
        if (progress && next_line < until)
            until = next_line;
        if (b->max_requests == 0 && give_up < until)
            until = give_up;
        struct timespec ts = {(time_t)until, (long)((until - (double)(time_t)until) * 1e9)};
        pthread_cond_timedwait(&b->cond, &b->lock, &ts);
    }
    if (shown)
        fputc('\n', stderr);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

static double tv_s(const struct timeval *tv)
{
    return (double)tv->tv_sec + tv->tv_usec / 1e6;
}

static int open_idle(const char *host, int port, int n, int *fds)
{
    char ps[16];
    snprintf(ps, sizeof(ps), "%d", port);
    struct addrinfo hints = {0}, *res;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, ps, &hints, &res) != 0)
        return 0;
    int k = 0;
    for (; k < n; k++) {
        fds[k] = socket(res->ai_family, SOCK_STREAM, 0);
        if (fds[k] < 0 || connect(fds[k], res->ai_addr, res->ai_addrlen) != 0) {
            if (fds[k] >= 0)
                close(fds[k]);
            break;
        }
    }
    freeaddrinfo(res);
    return k;
}

struct bench_cli {
    struct shuffle_client_options o;
    struct secure_opts sec; /* --auth-secret-file, --crypto, ... */
    const char *manifest, *seconds_arg;
    int concurrency, blocks, requests, idle_connections;
    bool verify, batch, fetch_to_file, register_first, json, csv;
};

#define AT(field) offsetof(struct bench_cli, field)
static const struct opt_spec bench_specs[] = {
    {"manifest", 'm', OPT_STR, AT(manifest), "FILE", "dataset manifest (required)"},
    {"concurrency", 'c', OPT_INT, AT(concurrency), "C",
     "requests in flight and connections (default 4)"},
    {"blocks", 'k', OPT_INT, AT(blocks), "K", "blocks per request (default 16)"},
    {"seconds", 's', OPT_STR, AT(seconds_arg), "S", "run time (default 10)"},
    {"requests", 'n', OPT_INT, AT(requests), "N", "stop after N requests instead"},
    {"idle-connections", 0, OPT_INT, AT(idle_connections), "N",
     "extra idle TCP connections held open"},
    {"old-protocol", 0, OPT_FLAG, AT(o.use_old_fetch_protocol), NULL,
     "OpenBlocks instead of FetchShuffleBlocks"},
    {"batch", 0, OPT_FLAG, AT(batch), NULL,
     "each request's contiguous reduces of one map as one\nbatch id (FetchShuffleBlocks with "
     "batch fetch)"},
    {"fetch-to-file", 0, OPT_FLAG, AT(fetch_to_file), NULL,
     "every block by StreamRequest into a temp file"},
    {"tmp-dir", 0, OPT_STR, AT(o.tmp_dir), "DIR",
     "where --fetch-to-file writes (default $TMPDIR or /tmp)"},
    {"verify", 0, OPT_FLAG, AT(verify), NULL, "check every block's checksums"},
    OPT_SECURE_ROWS(struct bench_cli),
    {"register", 0, OPT_FLAG, AT(register_first), NULL,
     "register the executor (manifest #localDirs) first"},
    {"json", 0, OPT_FLAG, AT(json), NULL, "one JSON object on stdout"},
    {"csv", 0, OPT_FLAG, AT(csv), NULL, "a CSV header and one row on stdout"},
};
static const struct opt_table bench_opts = {
    "shuffle-bench",
    "usage: shuffle-bench [options] HOST:PORT APP_ID EXEC_ID\n"
    "       shuffle-bench --help | --version\n",
    bench_specs, sizeof(bench_specs) / sizeof(bench_specs[0])};

/* -s S: seconds, a number from 0 (fractions allowed); 0, or -1 after saying why not. */
static int parse_seconds(const char *arg, double *seconds)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(arg, &end);
    if (!*arg || *end || errno || !(v >= 0 && v <= 1e9)) {
        fprintf(stderr, "shuffle-bench: --seconds: '%s' is not a number of seconds from 0\n", arg);
        return -1;
    }
    *seconds = v;
    return 0;
}

/* Groups: runs of consecutive manifest entries of one shuffle id (only shuffle blocks are
 * benchmarked). 0, or -1 when the manifest has none (or out of memory). */
static int make_groups(struct bench *b)
{
    b->groups = calloc(b->man.n + 1, sizeof(*b->groups));
    if (!b->groups)
        return -1;
    size_t prev_len = 0;
    const char *prev = NULL;
    for (size_t i = 0; i < b->man.n; i++) {
        const char *id = b->man.b[i].id;
        if (strncmp(id, "shuffle_", 8) != 0) {
            prev = NULL;
            continue;
        }
        size_t pl = 8 + strcspn(id + 8, "_");
        if (!prev || pl != prev_len || strncmp(id, prev, pl) != 0)
            b->groups[b->ngroups++].first = i;
        b->groups[b->ngroups - 1].count++;
        prev = id;
        prev_len = pl;
    }
    return b->ngroups ? 0 : -1;
}

/* What a run measured, as --csv, --json or text on stdout. */
struct run_figures {
    double seconds, user_s, sys_s;
    int idle_connections; /* opened */
};

static void print_results(struct bench *b, const struct bench_cli *cli, const struct run_figures *f)
{
    if (b->nlat) /* none when every request was abandoned */
        qsort(b->lat, b->nlat, sizeof(double), cmp_double);
    double p50 = pct(b->lat, b->nlat, 0.5) * 1e3, p90 = pct(b->lat, b->nlat, 0.9) * 1e3,
           p99 = pct(b->lat, b->nlat, 0.99) * 1e3, mx = b->nlat ? b->lat[b->nlat - 1] * 1e3 : 0;
    double el = f->seconds, bps = el > 0 ? (double)b->blocks / el : 0,
           mbps = el > 0 ? b->bytes / 1e6 / el : 0;
    if (cli->csv)
        printf("requests,blocks,bytes,seconds,blocks_per_s,mb_per_s,latency_ms_p50,"
               "latency_ms_p90,latency_ms_p99,latency_ms_max,errors,verify_errors,unfinished,"
               "concurrency,blocks_per_request,idle_connections\n"
               "%ld,%llu,%llu,%.3f,%.1f,%.2f,%.3f,%.3f,%.3f,%.3f,%llu,%llu,%ld,%d,%d,%d\n",
               b->finished, (unsigned long long)b->blocks, (unsigned long long)b->bytes, el, bps,
               mbps, p50, p90, p99, mx, (unsigned long long)b->block_errors,
               (unsigned long long)b->verify_errors, b->unfinished, cli->concurrency, b->k,
               f->idle_connections);
    else if (cli->json)
        printf("{\"requests\":%ld,\"blocks\":%llu,\"bytes\":%llu,\"seconds\":%.3f,"
               "\"blocks_per_s\":%.1f,\"mb_per_s\":%.2f,\"latency_ms\":{\"p50\":%.3f,"
               "\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f},\"errors\":%llu,\"verify_errors\":%llu,"
               "\"unfinished\":%ld,\"concurrency\":%d,\"blocks_per_request\":%d,"
               "\"idle_connections\":%d,"
               "\"chunks\":%llu,\"client_cpu_s\":{\"user\":%.3f,\"sys\":%.3f,\"total\":%.3f},"
               "\"mode\":{\"old_protocol\":%s,\"batch\":%s,\"fetch_to_file\":%s}}\n",
               b->finished, (unsigned long long)b->blocks, (unsigned long long)b->bytes, el, bps,
               mbps, p50, p90, p99, mx, (unsigned long long)b->block_errors,
               (unsigned long long)b->verify_errors, b->unfinished, cli->concurrency, b->k,
               f->idle_connections, (unsigned long long)b->chunks, f->user_s, f->sys_s,
               f->user_s + f->sys_s, cli->o.use_old_fetch_protocol ? "true" : "false",
               b->batch ? "true" : "false", cli->fetch_to_file ? "true" : "false");
    else
        printf("requests %ld  blocks %llu  bytes %llu  in %.2f s\n"
               "blocks/s %.1f  MB/s %.2f\n"
               "latency ms  p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n"
               "errors %llu  verify errors %llu  unfinished requests %ld\n"
               "ids fetched %llu  client CPU %.3f s (user %.3f, sys %.3f)\n",
               b->finished, (unsigned long long)b->blocks, (unsigned long long)b->bytes, el, bps,
               mbps, p50, p90, p99, mx, (unsigned long long)b->block_errors,
               (unsigned long long)b->verify_errors, b->unfinished, (unsigned long long)b->chunks,
               f->user_s + f->sys_s, f->user_s, f->sys_s);
}

/* The run itself: C requests started, then waited for; the client freed. */
static void run(struct bench *b, const struct bench_cli *cli, struct run_figures *f)
{
    pthread_mutex_init(&b->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* now_s()'s clock */
    pthread_cond_init(&b->cond, &ca);
    pthread_condattr_destroy(&ca);
    b->rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid();
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0); /* every thread: ours and libshuffle's loop */
    b->t0 = now_s();
    b->stop_at = b->t0 + b->seconds;
    bool progress = !cli->json && !cli->csv && isatty(STDERR_FILENO);
    pthread_mutex_lock(&b->lock);
    for (int i = 0; i < cli->concurrency; i++)
        start_request_locked(b);
    wait_for_requests(b, progress);
    f->seconds = now_s() - b->t0;
    getrusage(RUSAGE_SELF, &ru1);
    f->user_s = tv_s(&ru1.ru_utime) - tv_s(&ru0.ru_utime);
    f->sys_s = tv_s(&ru1.ru_stime) - tv_s(&ru0.ru_stime);
    b->stopping = true;
    pthread_mutex_unlock(&b->lock);
    shuffle_client_free(b->cl); /* cancels what is left (counted as unfinished) */
    b->cl = NULL;
}

/* The command line into b: 0, or the exit status (usage text or the reason on stderr). */
static int setup(struct bench *b, struct bench_cli *cli, int argc, char **argv)
{
    shuffle_client_options_init(&cli->o);
    int parsed = opt_table_parse(&bench_opts, argc, argv, cli);
    if (parsed != 0)
        return parsed < 0 ? -1 : parsed;
    if (argc - optind != 3 || !cli->manifest || cli->concurrency < 1 || cli->blocks < 1) {
        fprintf(stderr, "shuffle-bench: -m MANIFEST, HOST:PORT, APP_ID and EXEC_ID are needed "
                        "(-c and -k at least 1)\n");
        opt_table_usage(&bench_opts, stderr);
        return 2;
    }
    if (parse_seconds(cli->seconds_arg, &b->seconds) != 0)
        return 2;
    char err[1024];
    if (peer_arg_parse(argv[optind], b->host, sizeof(b->host), &b->port, err, sizeof(err)) != 0 ||
        mlist_load(&b->man, cli->manifest, err, sizeof(err)) != 0) {
        fprintf(stderr, "shuffle-bench: %s\n", err);
        return 2;
    }
    b->app = argv[optind + 1];
    b->exec = argv[optind + 2];
    b->k = cli->blocks;
    b->max_requests = cli->requests;
    b->verify = cli->verify;
    b->batch = cli->batch;
    if (make_groups(b) != 0) {
        fprintf(stderr, "shuffle-bench: the manifest lists no shuffle blocks\n");
        return 2;
    }
    if (cli->fetch_to_file)
        cli->o.fetch_to_file_bytes = 0; /* every block, even of unknown size */
    cli->o.connections_per_peer = cli->concurrency;
    int status = secure_client_new("shuffle-bench", &cli->sec, b->app, &cli->o, &b->cl);
    if (status != 0)
        return status;
    if (peer_probe(b->host, b->port, cli->o.connect_timeout_ms, err, sizeof err) != 0) {
        fprintf(stderr, "shuffle-bench: %s\n", err);
        return 1;
    }
    struct shuffle_executor_info info;
    mlist_executor_info(&b->man, b->app, b->exec, &info);
    if (cli->register_first &&
        shuffle_register_executor_sync(b->cl, b->host, b->port, &info) != SHUFFLE_OK) {
        fprintf(stderr, "shuffle-bench: %s\n", shuffle_last_error(b->cl));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct bench b;
    struct bench_cli cli = {.concurrency = 4, .blocks = 16, .seconds_arg = "10"};
    int rc = setup(&b, &cli, argc, argv);
    if (rc != 0) {
        if (b.cl)
            shuffle_client_free(b.cl);
        free(b.groups);
        mlist_free(&b.man);
        return rc < 0 ? 0 : rc;
    }
    int *idle_fds = calloc((size_t)cli.idle_connections + 1, sizeof(int));
    struct run_figures figures = {.idle_connections =
                                      open_idle(b.host, b.port, cli.idle_connections, idle_fds)};
    if (figures.idle_connections < cli.idle_connections)
        fprintf(stderr, "shuffle-bench: only %d of %d idle connections opened\n",
                figures.idle_connections, cli.idle_connections);
    run(&b, &cli, &figures);
    for (int i = 0; i < figures.idle_connections; i++)
        close(idle_fds[i]);
    free(idle_fds);
    print_results(&b, &cli, &figures);
    error_tally_print(&b.errors, "shuffle-bench: error", stderr);
    rc = (b.block_errors || b.verify_errors || (b.unfinished && !b.blocks)) ? 1 : 0;
    free(b.lat);
    free(b.groups);
    mlist_free(&b.man);
    pthread_mutex_destroy(&b.lock);
    pthread_cond_destroy(&b.cond);
    return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* shuffle-fetch: fetch blocks of an application's executor from a shuffle
 * service (shuffled or Spark's own) into a directory or to stdout, optionally
 * verifying them against a dataset manifest. Exit 0 only when every block
 * arrived (and verified). See shuffle-fetch(1). */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shuffle/client.h"
#include "shuffle/push.h"
#include "shuffle/sync.h"
#include "tools/fetch_cli.h"
#include "tools/secure_opts.h"
#include "tools/manifest_check.h"
#include "tools/merged_fetch.h"
#include "tools/peer_arg.h"
#include "tools/peer_probe.h"

struct job {
    shuffle_client *cl;
    char host[256];
    int port;
    const char *app, *exec, *outdir;
    bool verbose, quiet, progress;
    struct mlist man;
    bool have_man;
    /* requests: ranges [req_start[i], req_start[i+1]) of ids */
    char **ids;
    uint64_t *sizes;
    size_t n;
    size_t *req_start;
    size_t nreq, next_req;
    int parallel, active;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    size_t ok, failed, bad;
    uint64_t bytes;
    int start_errors;
    /* push-based shuffle: merged partitions' chunks, corruption diagnosis */
    struct merged_chunks merged;
    const char *diagnose;
    int diagnosing;
};

static char *first_line(const char *s)
{
    size_t n = strcspn(s, "\n");
    char *o = malloc(n + 1);
    memcpy(o, s, n);
    o[n] = 0;
    return o;
}

/* The whole file (malloc'd), or NULL. */
static uint8_t *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    uint8_t *buf = NULL;
    if (f && fstat(fileno(f), &st) == 0 && (buf = malloc((size_t)st.st_size + 1)))
        *len = fread(buf, 1, (size_t)st.st_size, f);
    if (f)
        fclose(f);
    return buf;
}

static bool write_out(struct job *j, const struct shuffle_block *b, char *why, size_t wl)
{
    if (!j->outdir) {
        if (b->path) {
            FILE *f = fopen(b->path, "rb");
            if (!f) {
                snprintf(why, wl, "cannot read %s: %s", b->path, strerror(errno));
                return false;
            }
            char buf[65536];
            size_t r;
            while ((r = fread(buf, 1, sizeof(buf), f)) > 0)
                fwrite(buf, 1, r, stdout);
            fclose(f);
        } else if (b->len) {
            fwrite(b->data, 1, b->len, stdout);
        }
        return !ferror(stdout);
    }
    char *path = NULL;
    if (asprintf(&path, "%s/%s", j->outdir, b->block_id) < 0)
        return false;
    bool ok = true;
    if (b->path && rename(b->path, path) == 0) {
        free(path);
        return true;
    }
    FILE *out = fopen(path, "wb");
    if (!out) {
        snprintf(why, wl, "cannot write %s: %s", path, strerror(errno));
        free(path);
        return false;
    }
    if (b->path) {
        FILE *in = fopen(b->path, "rb");
        char buf[65536];
        size_t r;
        while (in && (r = fread(buf, 1, sizeof(buf), in)) > 0)
            ok = ok && fwrite(buf, 1, r, out) == r;
        ok = ok && in;
        if (in)
            fclose(in);
    } else if (b->len) {
        ok = fwrite(b->data, 1, b->len, out) == b->len;
    }
    ok = (fclose(out) == 0) && ok;
    if (!ok)
        snprintf(why, wl, "cannot write %s", path);
    free(path);
    return ok;
}

/* A merged chunk (in memory or in its file) against the manifest's blocks of its maps. */
static bool verify_chunk(struct job *j, const struct merged_chunk *c, const struct shuffle_block *b,
                         char *why, size_t wl)
{
    size_t len = 0;
    uint8_t *file = NULL;
    if (b->path && !(file = read_whole(b->path, &len))) {
        snprintf(why, wl, "cannot read %s", b->path);
        return false;
    }
    bool ok = merged_verify(&j->man, c, file ? file : b->data, file ? len : b->len, why, wl);
    free(file);
    return ok;
}

static void on_cause(void *arg, int status, const char *error, int cause)
{
    struct job *j = arg;
    pthread_mutex_lock(&j->lock);
    if (status == SHUFFLE_OK)
        fprintf(stderr, "DIAGNOSED: %s\n", shuffle_corruption_cause_name(cause));
    else
        fprintf(stderr, "DIAGNOSE failed: %s\n", error);
    j->diagnosing--;
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
}

/* --diagnose: DiagnoseCorruption of a plain shuffle block that failed --verify, with the
 * checksum of the bytes received (called under j->lock). */
static void diagnose(struct job *j, const struct shuffle_block *b)
{
    int shuffle, reduce;
    long long map;
    char tail;
    size_t len = 0;
    uint8_t *file = NULL;
    int64_t sum;
    if (sscanf(b->block_id, "shuffle_%d_%lld_%d%c", &shuffle, &map, &reduce, &tail) != 3)
        return;
    if (b->path && !(file = read_whole(b->path, &len)))
        return;
    if (!diagnose_checksum(j->diagnose, file ? file : b->data, file ? len : b->len, &sum))
        sum = 0; /* the server names an unknown algorithm */
    free(file);
    fprintf(stderr, "DIAGNOSE %s %s=%lld\n", b->block_id, j->diagnose, (long long)sum);
    if (shuffle_diagnose_corruption(j->cl, j->host, j->port, j->app, j->exec, shuffle, map, reduce,
                                    sum, j->diagnose, on_cause, j) == SHUFFLE_OK)
        j->diagnosing++;
}

static void on_block(void *arg, const struct shuffle_block *b)
{
    struct job *j = arg;
    char why[300] = "";
    pthread_mutex_lock(&j->lock);
    if (b->status != SHUFFLE_OK) {
        j->failed++;
        char *fl = first_line(b->error);
        fprintf(stderr, "FAIL %s: %s\n", b->block_id, j->verbose ? b->error : fl);
        free(fl);
        pthread_mutex_unlock(&j->lock);
        return;
    }
    bool ok = true;
    const struct merged_chunk *chunk = merged_find(&j->merged, b->block_id);
    if (j->have_man && chunk)
        ok = verify_chunk(j, chunk, b, why, sizeof(why));
    else if (j->have_man)
        ok = b->path ? verify_file(&j->man, b->block_id, b->path, why, sizeof(why))
                     : verify_bytes(&j->man, b->block_id, b->data, b->len, why, sizeof(why));
    if (!ok && j->diagnose)
        diagnose(j, b);
    if (ok)
        ok = write_out(j, b, why, sizeof(why));
    if (ok) {
        j->ok++;
        j->bytes += b->len;
        if (j->verbose)
            fprintf(stderr, "OK   %s size=%llu%s%s\n", b->block_id, (unsigned long long)b->len,
                    b->path ? " via=stream->file" : " via=chunk", j->have_man ? " verified" : "");
    } else {
        j->bad++;
        fprintf(stderr, "BAD  %s: %s\n", b->block_id, why);
    }
    pthread_mutex_unlock(&j->lock);
}

static void start_next_locked(struct job *j);

static void on_done(void *arg, size_t delivered, size_t failed)
{
    struct job *j = arg;
    pthread_mutex_lock(&j->lock);
    j->active--;
    start_next_locked(j);
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
}

static void start_next_locked(struct job *j)
{
    while (j->active < j->parallel && j->next_req < j->nreq) {
        size_t r = j->next_req++;
        size_t a = j->req_start[r], e = j->req_start[r + 1];
        struct shuffle_fetch_request req = {.struct_size = sizeof(req),
                                            .host = j->host,
                                            .port = j->port,
                                            .app_id = j->app,
                                            .exec_id = j->exec,
                                            .block_ids = (const char *const *)j->ids + a,
                                            .num_blocks = e - a,
                                            .sizes = j->sizes + a,
                                            .on_block = on_block,
                                            .on_done = on_done,
                                            .arg = j};
        if (shuffle_fetch_blocks(j->cl, &req) != SHUFFLE_OK) {
            fprintf(stderr, "shuffle-fetch: %s\n", shuffle_last_error(j->cl));
            j->failed += e - a;
            j->start_errors++;
            continue;
        }
        j->active++;
    }
}

/* The grouping key of an id: its shuffle id for shuffle blocks, shuffle and merge ids for
 * merged chunks, "" otherwise. */
static size_t group_key(const char *id, char *key, size_t kl)
{
    if (strncmp(id, "shuffleChunk_", 13) == 0) { /* one merge of one shuffle per request */
        size_t n = 13 + strcspn(id + 13, "_");
        n += id[n] ? 1 + strcspn(id + n + 1, "_") : 0;
        snprintf(key, kl, "%.*s", (int)n, id);
        return n;
    }
    if (strncmp(id, "shuffle_", 8) != 0) {
        key[0] = 0;
        return 0;
    }
    size_t n = 8 + strcspn(id + 8, "_");
    snprintf(key, kl, "%.*s", (int)n, id);
    return n;
}

static void plan_requests(struct job *j, size_t max_blocks)
{
    /* stable partition by group key, then cut into max_blocks pieces */
    char **sorted = malloc(j->n * sizeof(char *));
    bool *used = calloc(j->n, 1);
    j->req_start = malloc((j->n + 1) * sizeof(size_t));
    size_t k = 0;
    j->nreq = 0;
    for (size_t i = 0; i < j->n; i++) {
        if (used[i])
            continue;
        char ki[128], kx[128];
        group_key(j->ids[i], ki, sizeof(ki));
        size_t in_req = 0;
        for (size_t x = i; x < j->n; x++) {
            group_key(j->ids[x], kx, sizeof(kx));
            if (used[x] || strcmp(ki, kx) != 0)
                continue;
            if (in_req == 0 || in_req == max_blocks) {
                j->req_start[j->nreq++] = k;
                in_req = 0;
            }
            used[x] = true;
            sorted[k++] = j->ids[x];
            in_req++;
        }
    }
    j->req_start[j->nreq] = k;
    free(j->ids);
    free(used);
    j->ids = sorted;
}

/* Merges consecutive shuffle_S_M_R ids with R, R+1, ... into shuffle_S_M_R_E. */
static void merge_batches(struct job *j)
{
    size_t out = 0;
    for (size_t i = 0; i < j->n;) {
        long long s, m, r, s2, m2, r2;
        char tail;
        if (sscanf(j->ids[i], "shuffle_%lld_%lld_%lld%c", &s, &m, &r, &tail) != 3) {
            j->ids[out++] = j->ids[i++];
            continue;
        }
        size_t e = i + 1;
        while (e < j->n &&
               sscanf(j->ids[e], "shuffle_%lld_%lld_%lld%c", &s2, &m2, &r2, &tail) == 3 &&
               s2 == s && m2 == m && r2 == r + (long long)(e - i))
            e++;
        char *id = NULL;
        if (asprintf(&id, "shuffle_%lld_%lld_%lld_%lld", s, m, r, r + (long long)(e - i)) < 0)
            exit(1);
        for (size_t x = i; x < e; x++)
            free(j->ids[x]);
        j->ids[out++] = id;
        i = e;
    }
    j->n = out;
}

static void add_id(struct job *j, const char *id, size_t *cap)
{
    if (j->n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        j->ids = realloc(j->ids, *cap * sizeof(char *));
    }
    j->ids[j->n++] = strdup(id);
}

/* The ids of the command line, of --blocks-file, else of the manifest; 0 or 2. */
static int collect_ids(struct job *j, const struct fetch_cli *cli, char **ids, int nids)
{
    size_t cap = 0;
    for (int i = 0; i < nids; i++)
        add_id(j, ids[i], &cap);
    if (cli->blocks_file) {
        FILE *f = strcmp(cli->blocks_file, "-") ? fopen(cli->blocks_file, "r") : stdin;
        if (!f) {
            fprintf(stderr, "shuffle-fetch: cannot open %s: %s\n", cli->blocks_file,
                    strerror(errno));
            return 2;
        }
        char line[1024];
        while (fgets(line, sizeof(line), f)) {
            line[strcspn(line, "\r\n \t")] = 0;
            if (line[0] && line[0] != '#')
                add_id(j, line, &cap);
        }
        if (f != stdin)
            fclose(f);
    }
    if (j->n == 0 && j->have_man)
        for (size_t i = 0; i < j->man.n; i++)
            add_id(j, j->man.b[i].id, &cap);
    if (j->n == 0) {
        fprintf(stderr, "shuffle-fetch: no block ids (give them, --blocks-file or --verify)\n");
        return 2;
    }
    return 0;
}

/* Everything but the client: the peer, the manifest, the ids cut into requests, the output
 * directory. operands: HOST:PORT APP EXEC [BLOCK...]. 0 or the exit status. */
static int prepare_job(struct job *j, const struct fetch_cli *cli, char **operands, int noperands)
{
    char err[1024];
    if (peer_arg_parse(operands[0], j->host, sizeof(j->host), &j->port, err, sizeof(err)) != 0) {
        fprintf(stderr, "shuffle-fetch: %s\n", err);
        return 2;
    }
    j->app = operands[1];
    j->exec = operands[2];
    j->outdir = cli->outdir;
    j->verbose = cli->verbose;
    j->quiet = cli->quiet;
    j->parallel = cli->parallel;
    if (cli->manifest) {
        if (mlist_load(&j->man, cli->manifest, err, sizeof(err)) != 0) {
            fprintf(stderr, "shuffle-fetch: %s\n", err);
            return 2;
        }
        j->have_man = true;
    }
    j->diagnose = cli->diagnose;
    int rc = collect_ids(j, cli, operands + 3, noperands - 3);
    if (rc != 0)
        return rc;
    if (cli->batch)
        merge_batches(j);
    if (j->outdir && mkdir(j->outdir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "shuffle-fetch: cannot create %s: %s\n", j->outdir, strerror(errno));
        return 2;
    }
    j->progress = !j->quiet && isatty(STDERR_FILENO) && (j->outdir || !isatty(STDOUT_FILENO));
    return 0;
}

/* Merged partitions (shuffleMerged_S_M_R) become their chunks; then the ids are cut into
 * requests. 0 or the exit status. */
static int plan_job(struct job *j, const struct fetch_cli *cli)
{
    char err[1024];
    bool any_merged = false;
    for (size_t i = 0; i < j->n; i++)
        any_merged = any_merged || !strncmp(j->ids[i], "shuffleMerged_", 14);
    if (any_merged && merged_expand(j->cl, j->host, j->port, j->app, &j->ids, &j->n, &j->merged,
                                    err, sizeof(err)) != 0) {
        fprintf(stderr, "shuffle-fetch: %s\n", err);
        return 1;
    }
    if (j->n == 0) {
        if (!j->quiet)
            fprintf(stderr, "no blocks: the merged partitions have no chunks\n");
        return 0;
    }
    plan_requests(j, (size_t)cli->max_blocks);
    j->sizes = calloc(j->n, sizeof(uint64_t));
    for (size_t i = 0; i < j->n; i++)
        if (!j->have_man || !mlist_size(&j->man, j->ids[i], &j->sizes[i]))
            j->sizes[i] = 0;
    return 0;
}

/* The client, authenticating with --auth-secret-file's secret if given (and encrypting with
 * --crypto or --sasl-encrypt); 0 or the exit status. */
static int start_client(struct job *j, struct fetch_cli *cli)
{
    return secure_client_new("shuffle-fetch", &cli->sec, j->app, &cli->o, &j->cl);
}

/* --register: RegisterExecutor with the manifest's dirs; 0 or the exit status. */
static int register_executor(struct job *j)
{
    if (!j->have_man || !j->man.num_dirs) {
        fprintf(stderr, "shuffle-fetch: --register needs a manifest with #localDirs\n");
        return 2;
    }
    struct shuffle_executor_info info;
    mlist_executor_info(&j->man, j->app, j->exec, &info);
    if (shuffle_register_executor_sync(j->cl, j->host, j->port, &info) != SHUFFLE_OK) {
        fprintf(stderr, "shuffle-fetch: %s\n", shuffle_last_error(j->cl));
        return 1;
    }
    return 0;
}

/* Every request, parallel at a time, with a progress line; 0 only if every block arrived
 * (and verified). */
static int fetch_all(struct job *j)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_mutex_lock(&j->lock);
    start_next_locked(j);
    while (j->active > 0 || j->diagnosing > 0) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_nsec += 200000000;
        if (dl.tv_nsec >= 1000000000) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&j->cond, &j->lock, &dl);
        if (j->progress)
            fprintf(stderr, "\r%zu/%zu blocks, %.1f MiB, %zu failed ", j->ok, j->n,
                    j->bytes / 1048576.0, j->failed + j->bad);
    }
    pthread_mutex_unlock(&j->lock);
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (j->progress)
        fputc('\n', stderr);
    if (!j->quiet)
        fprintf(stderr, "%zu of %zu blocks fetched%s, %llu bytes in %.3f s; %zu failed, %zu bad\n",
                j->ok, j->n, j->have_man ? " and verified" : "", (unsigned long long)j->bytes, secs,
                j->failed, j->bad);
    return (j->ok == j->n && !j->failed && !j->bad) ? 0 : 1;
}

static void job_free(struct job *j)
{
    shuffle_client_free(j->cl);
    fflush(stdout);
    for (size_t i = 0; i < j->n; i++)
        free(j->ids[i]);
    free(j->ids);
    free(j->sizes);
    free(j->req_start);
    merged_chunks_free(&j->merged);
    if (j->have_man)
        mlist_free(&j->man);
}

int main(int argc, char **argv)
{
    static struct job j;
    struct fetch_cli cli = {.max_blocks = 512, .parallel = 4};
    shuffle_client_options_init(&cli.o);
    int rc = fetch_cli_parse(argc, argv, &cli);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (!cli.outdir && isatty(STDOUT_FILENO)) { /* as curl does */
        fprintf(stderr, "shuffle-fetch: not writing binary blocks to a terminal: give -o DIR "
                        "(one file per block) or redirect standard output (> FILE, or "
                        "> /dev/null to only --verify)\n");
        return 2;
    }
    pthread_mutex_init(&j.lock, NULL);
    pthread_cond_init(&j.cond, NULL);
    rc = prepare_job(&j, &cli, argv + optind, argc - optind);
    char err[1024];
    if (rc == 0 && peer_probe(j.host, j.port, cli.o.connect_timeout_ms, err, sizeof err) != 0) {
        fprintf(stderr, "shuffle-fetch: %s\n", err);
        rc = 1;
    }
    if (rc == 0)
        rc = start_client(&j, &cli);
    if (rc == 0 && cli.reg)
        rc = register_executor(&j);
    if (rc == 0)
        rc = plan_job(&j, &cli);
    if (rc == 0 && j.n > 0)
        rc = fetch_all(&j);
    job_free(&j);
    pthread_mutex_destroy(&j.lock);
    pthread_cond_destroy(&j.cond);
    return rc;
}

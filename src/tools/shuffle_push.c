/* SPDX-License-Identifier: Apache-2.0 */
/* shuffle-push: push one map output's blocks (its index and data files, as Spark's sort
 * shuffle writes them) to a shuffle service to be merged, as Spark's ShuffleBlockPusher does
 * (empty blocks and blocks over --max-block-size are not pushed); optionally register an
 * executor with merge dirs first and finalize the merge after. Exit 0 only when every block
 * pushed was merged. See shuffle-push(1). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <libgen.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shuffle/client.h"
#include "shuffle/push.h"
#include "shuffle/sync.h"
#include "tools/opt_table.h"
#include "tools/peer_arg.h"
#include "tools/peer_probe.h"
#include "tools/secure_opts.h"

struct push_cli {
    struct shuffle_client_options o;
    const char *merge_id_arg, *attempt_arg, *register_dirs, *exec_id;
    int max_in_flight;
    uint64_t max_block_size;
    bool finalize, verbose, quiet;
    struct secure_opts sec; /* --auth-secret-file, --crypto, ... */
};

#define AT(field) offsetof(struct push_cli, field)
static const struct opt_spec push_specs[] = {
    {"merge-id", 0, OPT_STR, AT(merge_id_arg), "N", "the shuffleMergeId (default 0)"},
    {"attempt", 0, OPT_STR, AT(attempt_arg), "N", "the application attempt id (default -1: none)"},
    {"max-block-size", 0, OPT_U64, AT(max_block_size), "BYTES",
     "blocks larger than this are not pushed\n(spark.shuffle.push.maxBlockSizeToPush, default "
     "1048576)"},
    {"max-in-flight", 0, OPT_INT, AT(max_in_flight), "N",
     "unanswered pushes at a time (default 64)"},
    {"register", 0, OPT_STR, AT(register_dirs), "DIRS",
     "first register executor --exec with these local dirs\n(comma-separated) and push-based "
     "shuffle's merge dir\nmerge_manager[_ATTEMPT] beside them"},
    {"exec", 0, OPT_STR, AT(exec_id), "ID", "the executor id to register (default 0)"},
    {"finalize", 0, OPT_FLAG, AT(finalize), NULL,
     "finalize the merge after pushing and print its statuses"},
    OPT_CLIENT_ROWS(struct push_cli),
    OPT_SECURE_ROWS(struct push_cli),
    {"verbose", 'v', OPT_FLAG, AT(verbose), NULL, "one line per block"},
    {"quiet", 'q', OPT_FLAG, AT(quiet), NULL, "errors only"},
};
static const struct opt_table push_opts = {
    "shuffle-push",
    "usage: shuffle-push [options] HOST:PORT APP_ID SHUFFLE_ID MAP_INDEX INDEX_FILE [DATA_FILE]\n"
    "       shuffle-push --help | --version\n",
    push_specs, sizeof(push_specs) / sizeof(push_specs[0])};

/* A map output: the reduce partitions' offsets and the data file mapped in. */
struct map_output {
    uint64_t *offsets; /* num_reduces + 1 */
    size_t num_reduces;
    const uint8_t *data;
    size_t data_len;
};

static int whole_int(const char *what, const char *s, long lo, int *out)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (s && (!*s || *end || errno || v < lo || v > 2147483647L)) {
        fprintf(stderr, "shuffle-push: %s: '%s' is not a whole number from %ld to 2147483647\n",
                what, s, lo);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* The index file (big-endian i64 offsets) and the data file it describes; 0, or -1 said. */
static int map_output_open(struct map_output *m, const char *index_path, const char *data_path)
{
    FILE *f = fopen(index_path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0 || st.st_size < 16 || st.st_size % 8) {
        fprintf(stderr, "shuffle-push: %s: %s\n", index_path,
                f ? "not an index file (a multiple of 8 bytes, at least 16)" : strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    size_t n = (size_t)st.st_size / 8;
    m->offsets = calloc(n, sizeof(uint64_t));
    uint8_t b[8];
    for (size_t i = 0; i < n && fread(b, 1, 8, f) == 8; i++)
        for (int k = 0; k < 8; k++)
            m->offsets[i] = m->offsets[i] << 8 | b[k];
    fclose(f);
    m->num_reduces = n - 1;
    int fd = open(data_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "shuffle-push: %s: %s\n", data_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    m->data_len = (size_t)st.st_size;
    for (size_t i = 0; i < n; i++) {
        if ((i == 0 && m->offsets[0] != 0) || (i && m->offsets[i] < m->offsets[i - 1]) ||
            m->offsets[i] > m->data_len) {
            fprintf(stderr,
                    "shuffle-push: %s: offset %zu (%llu) is out of order or past the %zu "
                    "bytes of %s\n",
                    index_path, i, (unsigned long long)m->offsets[i], m->data_len, data_path);
            close(fd);
            return -1;
        }
    }
    m->data = m->data_len ? mmap(NULL, m->data_len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (m->data == MAP_FAILED) {
        fprintf(stderr, "shuffle-push: cannot map %s: %s\n", data_path, strerror(errno));
        m->data = NULL;
        return -1;
    }
    return 0;
}

static void map_output_close(struct map_output *m)
{
    if (m->data)
        munmap((void *)m->data, m->data_len);
    free(m->offsets);
}

/* The data file of index_path: beside it, else where Spark's hash placement put it, in a sub
 * dir of the same local dir or of a sibling local dir (LOCALDIR/xx/NAME.data). malloc'd; the
 * sibling path when none is found (the open then names it). */
static char *find_data_file(const char *index_path)
{
    size_t len = strlen(index_path);
    bool suffixed = len > 6 && !strcmp(index_path + len - 6, ".index");
    char *sibling = NULL, *copy = strdup(index_path);
    if (asprintf(&sibling, "%.*s.data", (int)(suffixed ? len - 6 : len), index_path) < 0)
        exit(1);
    struct stat st;
    if (stat(sibling, &st) == 0) {
        free(copy);
        return sibling;
    }
    const char *name = strrchr(sibling, '/') ? strrchr(sibling, '/') + 1 : sibling;
    char *sub_dir = dirname(copy);      /* LOCALDIR/xx */
    char *local_dir = dirname(sub_dir); /* LOCALDIR */
    char *found = NULL, *pattern = NULL;
    for (int up = 0; up < 2 && !found; up++) {
        if (asprintf(&pattern, up ? "%s/../*/*/%s" : "%s/*/%s", local_dir, name) < 0)
            exit(1);
        glob_t g;
        if (glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc > 0)
            found = strdup(g.gl_pathv[0]);
        globfree(&g);
        free(pattern);
    }
    free(copy);
    if (!found)
        return sibling;
    free(sibling);
    return found;
}

/* RegisterExecutor with the dirs of --register and the merge-dir JSON Spark 3.2+ executors
 * send (its two trailing braces are Spark's, on the wire from every such executor). */
static int register_with_merge_dir(shuffle_client *cl, const char *host, int port, const char *app,
                                   const struct push_cli *cli, int attempt)
{
    char *dirs = strdup(cli->register_dirs), *save = NULL;
    const char *list[64];
    size_t n = 0;
    for (char *d = strtok_r(dirs, ",", &save); d && n < 64; d = strtok_r(NULL, ",", &save))
        list[n++] = d;
    char manager[256], attempt_json[64] = "";
    if (attempt >= 0)
        snprintf(attempt_json, sizeof(attempt_json), ",\"attemptId\":\"%d\"", attempt);
    char merge_dir[64] = "merge_manager";
    if (attempt >= 0)
        snprintf(merge_dir, sizeof(merge_dir), "merge_manager_%d", attempt);
    snprintf(manager, sizeof(manager),
             "org.apache.spark.shuffle.sort.SortShuffleManager:{\"mergeDir\":\"%s\"%s}}}",
             merge_dir, attempt_json);
    struct shuffle_executor_info info;
    shuffle_executor_info_init(&info);
    info.app_id = app;
    info.exec_id = cli->exec_id ? cli->exec_id : "0";
    info.local_dirs = list;
    info.num_dirs = n;
    info.sub_dirs_per_local_dir = 64;
    info.shuffle_manager = manager;
    int rc = shuffle_register_executor_sync(cl, host, port, &info);
    if (rc != SHUFFLE_OK)
        fprintf(stderr, "shuffle-push: %s\n", shuffle_last_error(cl));
    free(dirs);
    return rc == SHUFFLE_OK ? 0 : 1;
}

static void print_statuses(const struct shuffle_merge_statuses *ms)
{
    printf("FINALIZED shuffle=%d mergeId=%d partitions=%zu\n", ms->shuffle_id, ms->shuffle_merge_id,
           ms->num_partitions);
    for (size_t i = 0; i < ms->num_partitions; i++) {
        printf("  reduce=%d size=%lld maps={", ms->reduce_ids[i], (long long)ms->sizes[i]);
        for (size_t k = 0; k < ms->maps.sizes[i]; k++)
            printf("%s%u", k ? "," : "", ms->maps.map_indices[i][k]);
        printf("}\n");
    }
}

/* The blocks Spark would push, pushed; the exit status. */
static int push_map_output(shuffle_client *cl, const char *host, int port, const char *app,
                           const struct push_cli *cli, int shuffle, int merge_id, int map_index,
                           int attempt, const struct map_output *m)
{
    size_t n = 0, skipped = 0;
    char **ids = calloc(m->num_reduces + 1, sizeof(char *));
    const uint8_t **data = calloc(m->num_reduces + 1, sizeof(uint8_t *));
    uint64_t *sizes = calloc(m->num_reduces + 1, sizeof(uint64_t)), bytes = 0;
    for (size_t r = 0; r < m->num_reduces; r++) {
        uint64_t len = m->offsets[r + 1] - m->offsets[r];
        if (len == 0 || len > cli->max_block_size) {
            skipped += len > 0;
            continue;
        }
        if (asprintf(&ids[n], "shufflePush_%d_%d_%d_%zu", shuffle, merge_id, map_index, r) < 0)
            exit(1);
        data[n] = m->data + m->offsets[r];
        sizes[n++] = len;
        bytes += len;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct shuffle_push_request req;
    shuffle_push_request_init(&req);
    req.host = host;
    req.port = port;
    req.app_id = app;
    req.app_attempt_id = attempt;
    req.block_ids = (const char *const *)ids;
    req.data = data;
    req.sizes = sizes;
    req.num_blocks = n;
    req.max_in_flight = (size_t)cli->max_in_flight;
    struct shuffle_push_outcome *out = NULL;
    size_t failed = 0;
    if (n > 0 && shuffle_push_blocks_sync(cl, &req, &out) != SHUFFLE_OK && !out)
        fprintf(stderr, "shuffle-push: %s\n", shuffle_last_error(cl));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    for (size_t i = 0; i < n; i++) {
        bool ok = out && out[i].status == SHUFFLE_OK;
        failed += !ok;
        if (!ok)
            fprintf(stderr, "FAIL %s: %s%s%s\n", ids[i],
                    out && out[i].return_code ? shuffle_push_code_name(out[i].return_code) : "",
                    out && out[i].return_code ? ": " : "",
                    out && out[i].error ? out[i].error : "not pushed");
        else if (cli->verbose)
            fprintf(stderr, "OK   %s size=%llu\n", ids[i], (unsigned long long)sizes[i]);
    }
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (!cli->quiet)
        fprintf(stderr,
                "%zu of %zu blocks pushed and merged, %llu bytes in %.3f s; %zu failed, %zu "
                "not pushed (over %llu bytes)\n",
                n - failed, n, (unsigned long long)bytes, secs, failed, skipped,
                (unsigned long long)cli->max_block_size);
    shuffle_push_outcomes_free(out, n);
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    free(data);
    free(sizes);
    return failed ? 1 : 0;
}

static int finalize(shuffle_client *cl, const char *host, int port, const char *app, int attempt,
                    int shuffle, int merge_id)
{
    struct shuffle_merge_statuses *ms = NULL;
    if (shuffle_finalize_merge_sync(cl, host, port, app, attempt, shuffle, merge_id, &ms) !=
        SHUFFLE_OK) {
        fprintf(stderr, "shuffle-push: %s\n", shuffle_last_error(cl));
        return 1;
    }
    print_statuses(ms);
    free(ms);
    return 0;
}

int main(int argc, char **argv)
{
    struct push_cli cli = {.max_in_flight = 64, .max_block_size = 1048576};
    shuffle_client_options_init(&cli.o);
    int rc = opt_table_parse(&push_opts, argc, argv, &cli);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (argc - optind < 5 || argc - optind > 6) {
        fprintf(stderr, "shuffle-push: HOST:PORT, APP_ID, SHUFFLE_ID, MAP_INDEX and INDEX_FILE "
                        "are needed (then optionally DATA_FILE)\n");
        opt_table_usage(&push_opts, stderr);
        return 2;
    }
    char **op = argv + optind, host[256], err[1024], *data_path = NULL;
    int port, shuffle, map_index, merge_id = 0, attempt = -1;
    if (peer_arg_parse(op[0], host, sizeof(host), &port, err, sizeof(err)) != 0) {
        fprintf(stderr, "shuffle-push: %s\n", err);
        return 2;
    }
    if (whole_int("SHUFFLE_ID", op[2], 0, &shuffle) ||
        whole_int("MAP_INDEX", op[3], 0, &map_index) ||
        whole_int("--merge-id", cli.merge_id_arg, 0, &merge_id) ||
        whole_int("--attempt", cli.attempt_arg, -1, &attempt) || cli.max_in_flight < 1) {
        if (cli.max_in_flight < 1)
            fprintf(stderr, "shuffle-push: --max-in-flight must be at least 1\n");
        return 2;
    }
    const char *index_path = op[4];
    data_path = argc - optind == 6 ? strdup(op[5]) : find_data_file(index_path);
    struct map_output m = {0};
    rc = map_output_open(&m, index_path, data_path) == 0 ? 0 : 2;
    if (rc == 0 && peer_probe(host, port, cli.o.connect_timeout_ms, err, sizeof(err)) != 0) {
        fprintf(stderr, "shuffle-push: %s\n", err);
        rc = 1;
    }
    shuffle_client *cl = NULL;
    if (rc == 0)
        rc = secure_client_new("shuffle-push", &cli.sec, op[1], &cli.o, &cl);
    if (rc == 0 && cli.register_dirs)
        rc = register_with_merge_dir(cl, host, port, op[1], &cli, attempt);
    bool pushed = rc == 0;
    if (pushed)
        rc =
            push_map_output(cl, host, port, op[1], &cli, shuffle, merge_id, map_index, attempt, &m);
    if (cli.finalize && pushed) { /* as a driver would, whatever the pushes met */
        int frc = finalize(cl, host, port, op[1], attempt, shuffle, merge_id);
        rc = rc ? rc : frc;
    }
    if (cl)
        shuffle_client_free(cl);
    map_output_close(&m);
    free(data_path);
    return rc;
}

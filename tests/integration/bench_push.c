/* SPDX-License-Identifier: Apache-2.0 */
/* The push workload of scripts/bench-push-libshuffle (built by `make check`, never run as a
 * test): many mappers pushing a gen-shuffle-data shuffle's blocks (every non-empty block, one
 * UploadStream each, in mapper order) to one shuffled with push_enabled through libshuffle,
 * CONC pushes in flight (pushes of two maps to one partition at once collide, as Spark's
 * pushers do: counted, not failures); then FinalizeShuffleMerge; then every merged partition
 * fetched (meta, then its chunks), every chunk's length checked against MergeStatuses. Samples the
 * daemon's CPU time and RSS from /proc while pushing. Prints one "key value" line per figure.
 *
 *   bench_push PORT PID MANIFEST CONC */
#include <config.h>

#include <dirent.h>
#include <pthread.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "manifest.h"
#include "shuffle/push.h"
#include "shuffle/sync.h"

#define APP "app-bench"

struct block {
    char id[64];
    uint8_t *data;
    uint64_t size;
    double sent_at;
};

struct run {
    shuffle_client *cl;
    int port;
    struct block *b;
    size_t n, next, done, failed, collided;
    uint64_t collided_bytes;
    double *latency_ms;
    pthread_mutex_t lock;
    pthread_cond_t cond;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The daemon's CPU seconds (user + system) and resident KiB, from /proc. */
static void daemon_usage(int pid, double *cpu_s, long *rss_kib)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    unsigned long ut = 0, st = 0;
    if (f) {
        if (fgets(line, sizeof(line), f)) {
            const char *p = strrchr(line, ')');
            if (p)
                sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
        }
        fclose(f);
    }
    *cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    *rss_kib = 0;
    if ((f = fopen(path, "r"))) {
        while (fgets(line, sizeof(line), f))
            if (sscanf(line, "VmRSS: %ld", rss_kib) == 1)
                break;
        fclose(f);
    }
}

/* This process's CPU seconds (every thread: the pushers and libshuffle's loop). */
static double own_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Run time in seconds of every live thread of process `pid` (0: this one), summed from
 * /proc/PID/task/TID/schedstat: nanosecond resolution, where /proc/PID/stat counts 10 ms
 * ticks. Threads that exited are not counted (the daemon's and libshuffle's are long-lived). */
static double run_time(int pid)
{
    char path[96], line[128];
    if (pid)
        snprintf(path, sizeof(path), "/proc/%d/task", pid);
    else
        snprintf(path, sizeof(path), "/proc/self/task");
    DIR *d = opendir(path);
    unsigned long long total_ns = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (pid)
            snprintf(path, sizeof(path), "/proc/%d/task/%.20s/schedstat", pid, e->d_name);
        else
            snprintf(path, sizeof(path), "/proc/self/task/%.20s/schedstat", e->d_name);
        FILE *f = fopen(path, "r");
        unsigned long long ns = 0;
        if (f && fgets(line, sizeof(line), f) && sscanf(line, "%llu", &ns) == 1)
            total_ns += ns;
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    return (double)total_ns / 1e9;
}

static void start_next_locked(struct run *r);

struct one {
    struct run *r;
    size_t index;
};

static void on_one_block(void *arg, const struct shuffle_push_result *res)
{
    struct one *o = arg;
    struct run *r = o->r;
    pthread_mutex_lock(&r->lock);
    r->latency_ms[o->index] = (now() - r->b[o->index].sent_at) * 1000;
    if (res->return_code == SHUFFLE_PUSH_COLLISION) { /* as Spark's pushers meet them */
        r->collided++;
        r->collided_bytes += r->b[o->index].size;
    } else if (res->status != SHUFFLE_OK && r->failed++ < 5) {
        fprintf(stderr, "FAIL %s: %s\n", res->block_id, res->error);
    }
    r->done++;
    start_next_locked(r);
    /* Only the last completion wakes the main thread: it samples the daemon's RSS every
     * 50 ms on its own, and a wake-up (and a /proc read) per block would be charged to the
     * client's CPU per block. */
    if (r->done == r->n)
        pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    free(o);
}

/* One block per request, so each latency is one push's round trip. */
static void start_next_locked(struct run *r)
{
    if (r->next >= r->n)
        return;
    size_t i = r->next++;
    struct one *o = malloc(sizeof(*o));
    o->r = r;
    o->index = i;
    const char *id = r->b[i].id;
    const uint8_t *data = r->b[i].data;
    struct shuffle_push_request req;
    shuffle_push_request_init(&req);
    req.host = "127.0.0.1";
    req.port = r->port;
    req.app_id = APP;
    req.app_attempt_id = 1;
    req.block_ids = &id;
    req.data = &data;
    req.sizes = &r->b[i].size;
    req.num_blocks = 1;
    req.on_block = on_one_block;
    req.arg = o;
    r->b[i].sent_at = now();
    if (shuffle_push_blocks(r->cl, &req) != SHUFFLE_OK) {
        fprintf(stderr, "push: %s\n", shuffle_last_error(r->cl));
        exit(1);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench_push PORT PID MANIFEST CONC\n");
        return 2;
    }
    struct run r = {.port = atoi(argv[1])};
    int pid = atoi(argv[2]), conc = atoi(argv[4]);
    struct manifest man;
    if (manifest_load(&man, argv[3], "/nonexistent-prefix", "") != 0)
        return 1;
    r.b = calloc(man.n, sizeof(*r.b));
    r.latency_ms = calloc(man.n, sizeof(double));
    uint64_t bytes = 0;
    for (size_t i = 0; i < man.n; i++) {
        int s, m, red;
        char tail;
        if (man.e[i].size == 0 ||
            sscanf(man.e[i].id, "shuffle_%d_%d_%d%c", &s, &m, &red, &tail) != 3)
            continue;
        struct block *b = &r.b[r.n++];
        snprintf(b->id, sizeof(b->id), "shufflePush_%d_0_%d_%d", s, m, red);
        b->data = manifest_read(&man, man.e[i].id, &b->size);
        bytes += b->size;
    }
    struct shuffle_client_options o;
    shuffle_client_options_init(&o);
    o.connections_per_peer = 4;
    if (shuffle_client_new(&o, &r.cl) != SHUFFLE_OK)
        return 1;
    struct shuffle_executor_info info;
    shuffle_executor_info_init(&info);
    info.app_id = APP;
    info.exec_id = "1";
    info.local_dirs = (const char *const *)man.local_dirs;
    info.num_dirs = man.num_dirs;
    info.sub_dirs_per_local_dir = 64;
    info.shuffle_manager = "org.apache.spark.shuffle.sort.SortShuffleManager:"
                           "{\"mergeDir\":\"merge_manager_1\",\"attemptId\":\"1\"}}}";
    if (shuffle_register_executor_sync(r.cl, "127.0.0.1", r.port, &info) != SHUFFLE_OK) {
        fprintf(stderr, "register: %s\n", shuffle_last_error(r.cl));
        return 1;
    }
    pthread_mutex_init(&r.lock, NULL);
    pthread_cond_init(&r.cond, NULL);

    double cpu0, cpu1;
    long rss, rss_peak = 0;
    daemon_usage(pid, &cpu0, &rss);
    double run0 = run_time(pid), own_run0 = run_time(0);
    printf("push_phase_started\n"); /* a marker for profilers attached to the daemon */
    fflush(stdout);
    double t0 = now(), own0 = own_cpu();
    pthread_mutex_lock(&r.lock);
    for (int k = 0; k < conc; k++)
        start_next_locked(&r);
    while (r.done < r.n) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_nsec += 50000000;
        if (dl.tv_nsec >= 1000000000) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&r.cond, &r.lock, &dl);
        double cpu;
        daemon_usage(pid, &cpu, &rss);
        rss_peak = rss > rss_peak ? rss : rss_peak;
    }
    pthread_mutex_unlock(&r.lock);
    double push_s = now() - t0, own_s = own_cpu() - own0;
    double own_run = run_time(0) - own_run0, run = run_time(pid) - run0;
    printf("push_phase_done\n");
    fflush(stdout);
    daemon_usage(pid, &cpu1, &rss);
    rss_peak = rss > rss_peak ? rss : rss_peak;
    qsort(r.latency_ms, r.n, sizeof(double), cmp_double);

    double t1 = now();
    struct shuffle_merge_statuses *ms;
    if (shuffle_finalize_merge_sync(r.cl, "127.0.0.1", r.port, APP, 1, 0, 0, &ms) != SHUFFLE_OK) {
        fprintf(stderr, "finalize: %s\n", shuffle_last_error(r.cl));
        return 1;
    }
    double finalize_s = now() - t1;
    uint64_t merged = 0;
    for (size_t i = 0; i < ms->num_partitions; i++)
        merged += (uint64_t)ms->sizes[i];

    /* merged fetch: every partition's chunks, lengths checked against MergeStatuses */
    double cpu2, cpu3;
    daemon_usage(pid, &cpu2, &rss);
    double t2 = now();
    uint64_t fetched = 0;
    size_t chunks = 0;
    int bad = 0;
    for (size_t i = 0; i < ms->num_partitions; i++) {
        struct shuffle_map_sets *meta;
        if (shuffle_fetch_merged_meta_sync(r.cl, "127.0.0.1", r.port, APP, 0, 0, ms->reduce_ids[i],
                                           &meta) != SHUFFLE_OK) {
            fprintf(stderr, "meta: %s\n", shuffle_last_error(r.cl));
            return 1;
        }
        char **ids = calloc(meta->count + 1, sizeof(char *));
        for (size_t k = 0; k < meta->count; k++)
            if (asprintf(&ids[k], "shuffleChunk_0_0_%d_%zu", ms->reduce_ids[i], k) < 0)
                return 1;
        struct shuffle_fetch_request fr;
        shuffle_fetch_request_init(&fr);
        fr.host = "127.0.0.1";
        fr.port = r.port;
        fr.app_id = APP;
        fr.exec_id = "1";
        fr.block_ids = (const char *const *)ids;
        fr.num_blocks = meta->count;
        struct shuffle_fetch_result *res;
        uint64_t partition = 0;
        if (shuffle_fetch_blocks_sync(r.cl, &fr, &res) != SHUFFLE_OK)
            bad++;
        for (size_t k = 0; k < meta->count; k++) {
            partition += res[k].len;
            free(ids[k]);
        }
        bad += partition != (uint64_t)ms->sizes[i];
        fetched += partition;
        chunks += meta->count;
        shuffle_fetch_results_free(res, meta->count);
        free(ids);
        free(meta);
    }
    double fetch_s = now() - t2;
    daemon_usage(pid, &cpu3, &rss);

    printf("blocks_pushed %zu\n", r.n);
    printf("blocks_merged %zu\n", r.n - r.failed - r.collided);
    printf("push_collisions %zu\n", r.collided);
    printf("push_failures %zu\n", r.failed);
    printf("bytes_pushed %llu\n", (unsigned long long)bytes);
    printf("push_seconds %.3f\n", push_s);
    printf("pushed_blocks_per_s %.0f\n", (double)r.n / push_s);
    printf("push_MB_per_s %.1f\n", (double)bytes / push_s / 1e6);
    printf("push_latency_ms_p50 %.2f\n", r.latency_ms[r.n / 2]);
    printf("push_latency_ms_p99 %.2f\n", r.latency_ms[r.n * 99 / 100]);
    printf("push_latency_ms_max %.2f\n", r.latency_ms[r.n - 1]);
    printf("daemon_cpu_s_pushing %.2f\n", cpu1 - cpu0);
    printf("daemon_cpu_s_per_GB_merged %.2f\n", (cpu1 - cpu0) / ((double)merged / 1e9));
    printf("daemon_rss_peak_MiB_pushing %.1f\n", (double)rss_peak / 1024);
    printf("client_cpu_s_pushing %.2f\n", own_s);
    printf("daemon_cpu_us_per_block %.1f\n", (cpu1 - cpu0) * 1e6 / (double)r.n);
    printf("client_cpu_us_per_block %.1f\n", own_s * 1e6 / (double)r.n);
    /* the same from schedstat (ns resolution) */
    printf("daemon_run_us_per_block %.2f\n", run * 1e6 / (double)r.n);
    printf("client_run_us_per_block %.2f\n", own_run * 1e6 / (double)r.n);
    printf("daemon_over_client_run %.3f\n", own_run > 0 ? run / own_run : 0.0);
    /* cores each side kept busy while pushing: with each pinned to its own CPU (PIN=1), the
     * side near 1.0 is the bottleneck */
    printf("daemon_cores_busy %.3f\n", run / push_s);
    printf("client_cores_busy %.3f\n", own_run / push_s);
    printf("finalize_seconds %.3f\n", finalize_s);
    printf("merged_partitions %zu\n", ms->num_partitions);
    printf("bytes_merged %llu\n", (unsigned long long)merged);
    printf("merged_chunks %zu\n", chunks);
    printf("merged_fetch_MB_per_s %.1f\n", (double)fetched / fetch_s / 1e6);
    printf("daemon_cpu_s_per_GB_fetched %.2f\n", (cpu3 - cpu2) / ((double)fetched / 1e9));
    printf("merged_fetch_errors %d\n", bad);
    free(ms);
    shuffle_client_free(r.cl);
    for (size_t i = 0; i < r.n; i++)
        free(r.b[i].data);
    free(r.b);
    free(r.latency_ms);
    manifest_free(&man);
    return r.failed || bad || merged != bytes - r.collided_bytes ? 1 : 0;
}

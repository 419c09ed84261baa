/* SPDX-License-Identifier: Apache-2.0 */
/* Service metrics; see metrics.h. Updates are single relaxed atomic adds on
 * cache-line-padded slots, so worker threads never contend on a lock; a rendering
 * is a sum of per-slot snapshots and may straddle concurrent updates by a few counts. */
#include <config.h>

#include "server/ops/metrics.h"

#include <dirent.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <time.h>

#include "common/version.h" /* PACKAGE_VERSION, PACKAGE_LICENSE */
#include "server/ops/process_metrics.h"

struct padded_u64 {
    alignas(64) _Atomic uint64_t v;
};
struct padded_i64 {
    alignas(64) _Atomic int64_t v;
};
struct histogram {
    alignas(64) _Atomic uint64_t buckets[METRICS_BUCKETS];
    _Atomic uint64_t sum_usec;
};

static struct {
    struct padded_u64 counters[MC__COUNT];
    struct padded_i64 gauges[MG__COUNT];
    struct histogram hist[MH__COUNT];
    struct padded_u64 rpc_requests[MR__COUNT];
    struct padded_u64 rpc_errors[MR__COUNT];
} m;

struct metric_doc {
    const char *name, *help;
};

static const struct metric_doc counter_docs[MC__COUNT] = {
    [MC_BLOCK_TRANSFER_BYTES] = {"shuffled_block_transfer_bytes_total",
                                 "Bytes of blocks sent as chunks or streams "
                                 "(Spark blockTransferRateBytes)."},
    [MC_BLOCK_TRANSFER_MESSAGES] = {"shuffled_block_transfer_messages_total",
                                    "Chunks and streams sent (Spark blockTransferMessageRate)."},
    [MC_CAUGHT_EXCEPTIONS] = {"shuffled_caught_exceptions_total",
                              "Errors caught on client connections, decode errors included "
                              "(Spark numCaughtExceptions)."},
    [MC_CONNECTIONS_ACCEPTED] = {"shuffled_connections_accepted_total",
                                 "Client connections accepted since start."},
    [MC_INDEX_CACHE_HITS] = {"shuffled_index_cache_hits_total",
                             "Shuffle index lookups answered from the index cache."},
    [MC_INDEX_CACHE_MISSES] = {"shuffled_index_cache_misses_total",
                               "Shuffle index lookups that read the .index file."},
    [MC_PAGE_CACHE_WARMED_BYTES] = {"shuffled_page_cache_warmed_bytes_total",
                                    "File bytes read into the page cache off the event loops "
                                    "before being sent."},
    [MC_FILE_WINDOWS_CACHED] = {"shuffled_file_windows_cached_total",
                                "1 MiB windows of large file bodies (after the first) found in "
                                "the page cache and queued at once."},
    [MC_CHUNKS_ON_LOOP] = {"shuffled_chunks_resolved_on_loop_total",
                           "Chunks and streams resolved on an event loop from kept-open map "
                           "outputs (no thread hop)."},
    [MC_CHUNKS_ON_POOL] = {"shuffled_chunks_resolved_on_pool_total",
                           "Chunks and streams resolved on the blocking pool (index read, "
                           "file open or page-cache warm-up needed)."},
    [MC_OPEN_MAP_OUTPUTS_STALE] = {"shuffled_open_map_outputs_stale_total",
                                   "Kept-open data files found deleted, replaced or truncated "
                                   "on use, and dropped."},
    [MC_FRAMES_TIMED_OUT] = {"shuffled_frames_timed_out_total",
                             "Connections closed because a frame stayed incomplete for "
                             "frame_timeout_ms."},
    [MC_HANDSHAKES_TIMED_OUT] = {"shuffled_handshakes_timed_out_total",
                                 "Connections closed because authentication did not complete "
                                 "within handshake_timeout_ms."},
    [MC_CLOSED_BY_STREAM_BUDGET] = {"shuffled_closed_by_stream_budget_total",
                                    "Connections closed as the biggest holder of open streams "
                                    "while max_stream_bytes was exceeded."},
    [MC_CLOSED_BY_INPUT_BUDGET] = {"shuffled_closed_by_input_budget_total",
                                   "Connections closed as the biggest holder of partial frames "
                                   "while max_input_bytes was exceeded."},
    [MC_CLOSED_BY_OUTPUT_BUDGET] = {"shuffled_closed_by_output_budget_total",
                                    "Connections closed as the biggest holder of queued answers "
                                    "while max_output_bytes was exceeded."},
    [MC_REFUSED_BY_STREAM_LIMIT] = {"shuffled_refused_by_stream_limit_total",
                                    "OpenBlocks/FetchShuffleBlocks refused by "
                                    "max_stream_bytes_per_connection."},
    [MC_REGISTRATIONS_REFUSED_PER_APP] =
        {"shuffled_registrations_refused_max_executors_per_app_total",
         "RegisterExecutor refused because the application "
         "had max_executors_per_app executors."},
    [MC_REGISTRATIONS_REFUSED_TOTAL] = {"shuffled_registrations_refused_max_executors_total",
                                        "RegisterExecutor refused because max_executors "
                                        "executors were registered."},
    [MC_REGISTRATIONS_REFUSED_DIR_OWNED] = {"shuffled_registrations_refused_dir_owned_total",
                                            "RegisterExecutor refused because a local dir is, "
                                            "contains or lies inside a dir owned by another "
                                            "application."},
    [MC_AUTH_FAILURES] = {"shuffled_auth_failures_total",
                          "Authentication handshakes refused (SASL or AES)."},
    [MC_AES_CONNECTIONS] = {"shuffled_aes_connections_total",
                            "Connections authenticated with spark.network.crypto's AES protocol, "
                            "then encrypted with AES-CTR or AES-GCM."},
    [MC_ADMIN_UNAUTHORIZED] = {"shuffled_admin_unauthorized_total",
                               "Admin actions refused with 401: missing or wrong bearer token "
                               "(admin_token_file)."},
    [MC_ADMIN_FORBIDDEN] = {"shuffled_admin_forbidden_total",
                            "Admin actions refused with 403: admin_listen is not a loopback "
                            "address and no admin_token_file is set."},
    [MC_FILE_WINDOWS_WARMED] = {"shuffled_file_windows_warmed_total",
                                "1 MiB windows of large file bodies (after the first) read into "
                                "the page cache on the blocking pool before being queued."},
    [MC_APPS_EXPIRED] = {"shuffled_applications_expired_total",
                         "Applications removed for being idle for app_ttl_ms."},
    [MC_PUSHES_ACCEPTED] = {"shuffled_pushes_accepted_total",
                            "Pushed blocks answered SUCCESS (merged, or already merged)."},
    [MC_PUSHES_TOO_LATE] = {"shuffled_pushes_too_late_total",
                            "Pushed blocks refused: the merge was finalized."},
    [MC_PUSHES_COLLISION] = {"shuffled_pushes_collision_total",
                             "Pushed blocks refused: another push was writing the partition."},
    [MC_PUSHES_STALE] = {"shuffled_pushes_stale_total",
                         "Pushed blocks refused: a newer shuffleMergeId exists."},
    [MC_PUSHES_TOO_OLD_ATTEMPT] = {"shuffled_pushes_too_old_attempt_total",
                                   "Pushed blocks refused: from an older application attempt."},
    [MC_PUSHES_FAILED] = {"shuffled_pushes_failed_total",
                          "Pushed blocks answered with an RpcFailure (not registered, limits, "
                          "I/O errors)."},
    [MC_PUSH_BYTES_MERGED] = {"shuffled_push_bytes_merged_total",
                              "Bytes of pushed blocks appended to merged shuffle files."},
    [MC_TLS_HANDSHAKES] = {"shuffled_tls_handshakes_total",
                           "TLS handshakes completed (tls_enabled or tls_port)."},
    [MC_TLS_HANDSHAKE_FAILURES] = {"shuffled_tls_handshake_failures_total",
                                   "TLS handshakes refused or broken off (untrusted or missing "
                                   "client certificate, a plain client, a protocol mismatch)."},
    [MC_TLS_KTLS_CONNECTIONS] = {"shuffled_tls_ktls_connections_total",
                                 "TLS connections whose file bytes go by kernel TLS "
                                 "(SSL_sendfile, zero copy)."},
    [MC_TLS_USERSPACE_CONNECTIONS] = {"shuffled_tls_userspace_connections_total",
                                      "TLS connections whose file bytes are read and encrypted "
                                      "in user space (no kernel TLS for their cipher or kernel)."},
    [MC_PUSHES_DUPLICATE] = {"shuffled_pushes_duplicate_total",
                             "Pushed blocks answered SUCCESS without being written: their map "
                             "was already merged into the partition."},
    [MC_PUSH_BYTES_IGNORED] = {"shuffled_push_bytes_ignored_total",
                               "Body bytes of pushed blocks received and not merged (refused, "
                               "failed or duplicate; Spark ignoredBlockBytes)."},
    [MC_PUSH_FILES_REOPENED] = {"shuffled_push_files_reopened_total",
                                "Merged partitions whose files were opened again for a push, "
                                "after they were closed to stay within push_max_open_files."},
    [MC_MERGED_CHUNKS_FETCHED] = {"shuffled_merged_chunks_fetched_total",
                                  "Merged shuffle chunks resolved for sending "
                                  "(FetchShuffleBlockChunks, OpenBlocks of shuffleChunk_ ids)."},
    [MC_TLS_HANDSHAKES_REFUSED] = {"shuffled_tls_handshakes_refused_total",
                                   "TLS connections closed before their handshake: "
                                   "tls_max_handshakes_per_second was reached, or "
                                   "tls_max_handshakes_in_progress with no unfinished "
                                   "handshake of their loop to close instead."},
    [MC_TLS_HANDSHAKES_EVICTED] = {"shuffled_tls_handshakes_evicted_total",
                                   "Unfinished TLS handshakes closed, the oldest of their loop "
                                   "first, to admit a new one once "
                                   "tls_max_handshakes_in_progress was reached."},
    [MC_INPUT_BYTES_KEPT] = {"shuffled_input_bytes_kept_total",
                             "Bytes read from connections and then copied aside because "
                             "reading was held (a limit or a pool job); processed on resume."},
};

static const struct metric_doc gauge_docs[MG__COUNT] = {
    [MG_REGISTERED_EXECUTORS] = {"shuffled_registered_executors",
                                 "Registered (application, executor) pairs "
                                 "(Spark registeredExecutorsSize)."},
    [MG_ACTIVE_CONNECTIONS] = {"shuffled_active_connections",
                               "Open client connections (Spark numActiveConnections)."},
    [MG_REGISTERED_CONNECTIONS] = {"shuffled_registered_connections",
                                   "Client connections registered with a worker event loop "
                                   "(Spark numRegisteredConnections)."},
    [MG_CHUNKS_IN_FLIGHT] = {"shuffled_chunks_in_flight",
                             "Chunks and streams queued or being sent (bounded by "
                             "max_chunks_in_flight)."},
    [MG_INDEX_CACHE_BYTES] = {"shuffled_index_cache_bytes",
                              "Bytes held by the shuffle index cache (bounded by "
                              "index_cache_bytes)."},
    [MG_OPEN_MAP_OUTPUTS] = {"shuffled_open_map_outputs",
                             "Map outputs whose data file is kept open for the event-loop fast "
                             "path (at most 1024)."},
    [MG_STREAM_BYTES] = {"shuffled_stream_bytes",
                         "Memory held by streams opened and not yet fetched, all connections."},
    [MG_STREAM_BYTES_LIMIT] = {"shuffled_stream_bytes_limit", "max_stream_bytes."},
    [MG_INPUT_BYTES] = {"shuffled_input_bytes",
                        "Memory held by partial frames and unprocessed input, all connections."},
    [MG_INPUT_BYTES_LIMIT] = {"shuffled_input_bytes_limit", "max_input_bytes."},
    [MG_OUTPUT_BYTES] = {"shuffled_output_bytes",
                         "Memory held by queued answers (file bodies excluded), all "
                         "connections."},
    [MG_OUTPUT_BYTES_LIMIT] = {"shuffled_output_bytes_limit", "max_output_bytes."},
    [MG_PUSH_DEFERRED_BYTES] = {"shuffled_push_deferred_bytes",
                                "Memory holding pushed blocks that wait for their partition's "
                                "writer (bounded by push_max_deferred_bytes)."},
    [MG_PUSH_DEFERRED_BLOCKS] = {"shuffled_push_deferred_blocks",
                                 "Pushed blocks buffered while their partition's writer is busy "
                                 "(Spark deferredBlocks)."},
    [MG_TLS_HANDSHAKES_IN_PROGRESS] = {"shuffled_tls_handshakes_in_progress",
                                       "TLS handshakes begun and not yet ended (bounded by "
                                       "tls_max_handshakes_in_progress)."},
};

static const struct metric_doc hist_docs[MH__COUNT] = {
    [MH_OPEN_BLOCKS_LATENCY] = {"shuffled_open_block_request_latency_seconds",
                                "Time to handle OpenBlocks, FetchShuffleBlocks and "
                                "FetchShuffleBlockChunks, transfer excluded "
                                "(Spark openBlockRequestLatencyMillis)."},
    [MH_REGISTER_EXECUTOR_LATENCY] = {"shuffled_register_executor_request_latency_seconds",
                                      "Time to handle RegisterExecutor "
                                      "(Spark registerExecutorRequestLatencyMillis)."},
    [MH_FINALIZE_LATENCY] = {"shuffled_finalize_shuffle_merge_latency_seconds",
                             "Time to handle FinalizeShuffleMerge (partitions cut and closed, "
                             "MergeStatuses built)."},
    [MH_MERGED_META_LATENCY] = {"shuffled_merged_block_meta_latency_seconds",
                                "Time to handle MergedBlockMetaRequest, from its arrival to its "
                                "answer (Spark fetchMergedBlocksMetaLatencyMillis)."},
};

static const char *const rpc_names[MR__COUNT] = {
    [MR_OPEN_BLOCKS] = "OpenBlocks",
    [MR_UPLOAD_BLOCK] = "UploadBlock",
    [MR_REGISTER_EXECUTOR] = "RegisterExecutor",
    [MR_REMOVE_BLOCKS] = "RemoveBlocks",
    [MR_FETCH_SHUFFLE_BLOCKS] = "FetchShuffleBlocks",
    [MR_GET_LOCAL_DIRS] = "GetLocalDirsForExecutors",
    [MR_OTHER_RPC] = "OtherRpc",
    [MR_CHUNK_FETCH] = "ChunkFetch",
    [MR_STREAM] = "Stream",
    [MR_PUSH_BLOCK_STREAM] = "PushBlockStream",
    [MR_FINALIZE_SHUFFLE_MERGE] = "FinalizeShuffleMerge",
    [MR_MERGED_BLOCK_META] = "MergedBlockMetaRequest",
    [MR_FETCH_SHUFFLE_BLOCK_CHUNKS] = "FetchShuffleBlockChunks",
    [MR_REMOVE_SHUFFLE_MERGE] = "RemoveShuffleMerge",
    [MR_DIAGNOSE_CORRUPTION] = "DiagnoseCorruption",
};

void metrics_add(enum metric_counter c, uint64_t n)
{
    atomic_fetch_add_explicit(&m.counters[c].v, n, memory_order_relaxed);
}

void metrics_counter_set(enum metric_counter c, uint64_t total)
{
    atomic_store_explicit(&m.counters[c].v, total, memory_order_relaxed);
}

void metrics_gauge_add(enum metric_gauge g, int64_t delta)
{
    atomic_fetch_add_explicit(&m.gauges[g].v, delta, memory_order_relaxed);
}

void metrics_gauge_set(enum metric_gauge g, int64_t value)
{
    atomic_store_explicit(&m.gauges[g].v, value, memory_order_relaxed);
}

/* Bucket k holds values <= 2^k us: k = ceil(log2(usec)), one count-leading-zeros. */
static unsigned bucket_of(uint64_t usec)
{
    if (usec <= 1)
        return 0;
    unsigned k = 64u - (unsigned)__builtin_clzll(usec - 1);
    return k < METRICS_BUCKETS - 1 ? k : METRICS_BUCKETS - 1;
}

void metrics_observe_usec(enum metric_histogram h, uint64_t usec)
{
    atomic_fetch_add_explicit(&m.hist[h].buckets[bucket_of(usec)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m.hist[h].sum_usec, usec, memory_order_relaxed);
}

void metrics_rpc_request(enum metric_rpc t)
{
    atomic_fetch_add_explicit(&m.rpc_requests[t].v, 1, memory_order_relaxed);
}

void metrics_rpc_error(enum metric_rpc t)
{
    atomic_fetch_add_explicit(&m.rpc_errors[t].v, 1, memory_order_relaxed);
}

enum metric_rpc metrics_rpc_from_msg_type(int type)
{
    switch (type) {
    case 0:
        return MR_OPEN_BLOCKS;
    case 1:
    case 6: /* UploadBlockStream */
        return MR_UPLOAD_BLOCK;
    case 2:
        return MR_REGISTER_EXECUTOR;
    case 7:
        return MR_REMOVE_BLOCKS;
    case 9:
        return MR_FETCH_SHUFFLE_BLOCKS;
    case 10:
        return MR_GET_LOCAL_DIRS;
    case 12:
        return MR_PUSH_BLOCK_STREAM;
    case 13:
        return MR_FINALIZE_SHUFFLE_MERGE;
    case 15:
        return MR_FETCH_SHUFFLE_BLOCK_CHUNKS;
    case 16:
        return MR_DIAGNOSE_CORRUPTION;
    case 19:
        return MR_REMOVE_SHUFFLE_MERGE;
    default:
        return MR_OTHER_RPC;
    }
}

uint64_t metrics_now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void metrics_rpc_done(int msg_type, uint64_t start_usec, bool ok)
{
    enum metric_rpc t = metrics_rpc_from_msg_type(msg_type);
    uint64_t now = metrics_now_usec();
    uint64_t took = now > start_usec ? now - start_usec : 0;
    if (t == MR_OPEN_BLOCKS || t == MR_FETCH_SHUFFLE_BLOCKS || t == MR_FETCH_SHUFFLE_BLOCK_CHUNKS)
        metrics_observe_usec(MH_OPEN_BLOCKS_LATENCY, took);
    else if (t == MR_REGISTER_EXECUTOR)
        metrics_observe_usec(MH_REGISTER_EXECUTOR_LATENCY, took);
    if (!ok)
        metrics_rpc_error(t);
}

uint64_t metrics_counter(enum metric_counter c)
{
    return atomic_load_explicit(&m.counters[c].v, memory_order_relaxed);
}

int64_t metrics_gauge(enum metric_gauge g)
{
    return atomic_load_explicit(&m.gauges[g].v, memory_order_relaxed);
}

uint64_t metrics_histogram_count(enum metric_histogram h)
{
    uint64_t n = 0;
    for (unsigned k = 0; k < METRICS_BUCKETS; k++)
        n += atomic_load_explicit(&m.hist[h].buckets[k], memory_order_relaxed);
    return n;
}

void metrics_histogram_snapshot(enum metric_histogram h, uint64_t buckets[METRICS_BUCKETS],
                                uint64_t *sum_usec)
{
    for (unsigned k = 0; k < METRICS_BUCKETS; k++)
        buckets[k] = atomic_load_explicit(&m.hist[h].buckets[k], memory_order_relaxed);
    *sum_usec = atomic_load_explicit(&m.hist[h].sum_usec, memory_order_relaxed);
}

uint64_t metrics_rpc_errors(enum metric_rpc t)
{
    return atomic_load_explicit(&m.rpc_errors[t].v, memory_order_relaxed);
}

static void reset_security(void);

void metrics_reset(void)
{
    reset_security();
    for (int i = 0; i < MC__COUNT; i++)
        atomic_store(&m.counters[i].v, 0);
    for (int i = 0; i < MG__COUNT; i++)
        atomic_store(&m.gauges[i].v, 0);
    for (int h = 0; h < MH__COUNT; h++) {
        for (unsigned k = 0; k < METRICS_BUCKETS; k++)
            atomic_store(&m.hist[h].buckets[k], 0);
        atomic_store(&m.hist[h].sum_usec, 0);
    }
    for (int i = 0; i < MR__COUNT; i++) {
        atomic_store(&m.rpc_requests[i].v, 0);
        atomic_store(&m.rpc_errors[i].v, 0);
    }
}

/* Open descriptors of this process, the one opendir uses excluded; -1 if unknown. */
static long count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;
}

static void render_header(FILE *out, const struct metric_doc *d, const char *type)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", d->name, d->help, d->name, type);
}

static void render_histogram(FILE *out, enum metric_histogram h)
{
    const char *name = hist_docs[h].name;
    render_header(out, &hist_docs[h], "histogram");
    uint64_t cumulative = 0;
    for (unsigned k = 0; k < METRICS_BUCKETS; k++) {
        cumulative += atomic_load_explicit(&m.hist[h].buckets[k], memory_order_relaxed);
        if (k == METRICS_BUCKETS - 1)
            fprintf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cumulative);
        else
            fprintf(out, "%s_bucket{le=\"%.9g\"} %llu\n", name, (double)(1ULL << k) / 1e6,
                    (unsigned long long)cumulative);
    }
    uint64_t sum = atomic_load_explicit(&m.hist[h].sum_usec, memory_order_relaxed);
    fprintf(out, "%s_sum %.6f\n%s_count %llu\n", name, (double)sum / 1e6, name,
            (unsigned long long)cumulative);
}

static void render_rpc_family(FILE *out, const char *name, const char *help,
                              const struct padded_u64 *vals)
{
    struct metric_doc d = {name, help};
    render_header(out, &d, "counter");
    for (int t = 0; t < MR__COUNT; t++)
        fprintf(out, "%s{type=\"%s\"} %llu\n", name, rpc_names[t],
                (unsigned long long)atomic_load_explicit(&vals[t].v, memory_order_relaxed));
}

/* ---- connections by security mode, bytes through the ciphers ---- */

static _Atomic uint64_t security_connections[MS__COUNT];
static _Atomic uint64_t cipher_bytes[2]; /* decrypted, encrypted */
static const char *const security_names[MS__COUNT] = {
    "plain",         "sasl",          "sasl-auth-conf",    "aes-pbkdf2",
    "aes-x25519-v1", "aes-x25519-v2", "aes-gcm-x25519-v1", "aes-gcm-x25519-v2"};

void metrics_security_connection(enum metric_security mode)
{
    atomic_fetch_add_explicit(&security_connections[mode], 1, memory_order_relaxed);
}

void metrics_cipher_bytes(uint64_t decrypted, uint64_t encrypted)
{
    if (decrypted)
        atomic_fetch_add_explicit(&cipher_bytes[0], decrypted, memory_order_relaxed);
    if (encrypted)
        atomic_fetch_add_explicit(&cipher_bytes[1], encrypted, memory_order_relaxed);
}

uint64_t metrics_security_connections(enum metric_security mode)
{
    return atomic_load_explicit(&security_connections[mode], memory_order_relaxed);
}

uint64_t metrics_cipher_bytes_total(bool encrypted)
{
    return atomic_load_explicit(&cipher_bytes[encrypted ? 1 : 0], memory_order_relaxed);
}

static void reset_security(void)
{
    for (int i = 0; i < MS__COUNT; i++)
        atomic_store(&security_connections[i], 0);
    atomic_store(&cipher_bytes[0], 0);
    atomic_store(&cipher_bytes[1], 0);
}

static void render_security(FILE *out)
{
    struct metric_doc d = {"shuffled_connections_by_security_total",
                           "Connections by the protection they settled on (auth, encryption)."};
    render_header(out, &d, "counter");
    for (int i = 0; i < MS__COUNT; i++)
        fprintf(out, "%s{mode=\"%s\"} %llu\n", d.name, security_names[i],
                (unsigned long long)metrics_security_connections((enum metric_security)i));
    struct metric_doc b = {"shuffled_cipher_bytes_total",
                           "Plaintext bytes decrypted and encrypted by the AES channels."};
    render_header(out, &b, "counter");
    fprintf(out, "%s{direction=\"decrypted\"} %llu\n", b.name,
            (unsigned long long)metrics_cipher_bytes_total(false));
    fprintf(out, "%s{direction=\"encrypted\"} %llu\n", b.name,
            (unsigned long long)metrics_cipher_bytes_total(true));
}

static void (*_Atomic collector_fn)(void *);
static void *_Atomic collector_ctx;

void metrics_set_collector(void (*fn)(void *ctx), void *ctx)
{
    atomic_store(&collector_ctx, ctx);
    atomic_store(&collector_fn, fn);
}

int metrics_render(FILE *out)
{
    void (*fn)(void *) = atomic_load(&collector_fn);
    if (fn)
        fn(atomic_load(&collector_ctx));
    for (int c = 0; c < MC__COUNT; c++) {
        render_header(out, &counter_docs[c], "counter");
        fprintf(out, "%s %llu\n", counter_docs[c].name,
                (unsigned long long)metrics_counter((enum metric_counter)c));
    }
    for (int g = 0; g < MG__COUNT; g++) {
        render_header(out, &gauge_docs[g], "gauge");
        fprintf(out, "%s %lld\n", gauge_docs[g].name,
                (long long)metrics_gauge((enum metric_gauge)g));
    }
    for (int h = 0; h < MH__COUNT; h++)
        render_histogram(out, (enum metric_histogram)h);
    render_rpc_family(out, "shuffled_rpc_requests_total", "Requests received, by type.",
                      m.rpc_requests);
    render_rpc_family(out, "shuffled_rpc_errors_total",
                      "Requests answered with a failure, by type.", m.rpc_errors);

    struct metric_doc info = {"shuffled_build_info",
                              "Always 1; the labels name the running build."};
    render_header(out, &info, "gauge");
    fprintf(out, "shuffled_build_info{version=\"%s\",license=\"%s\"} 1\n", PACKAGE_VERSION,
            PACKAGE_LICENSE);

    render_security(out);
    process_metrics_render(out);
    long fds = count_open_fds();
    if (fds >= 0) {
        struct metric_doc d = {"process_open_fds", "Open file descriptors."};
        render_header(out, &d, "gauge");
        fprintf(out, "process_open_fds %ld\n", fds);
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        struct metric_doc d = {"process_max_fds", "Maximum number of open file descriptors."};
        render_header(out, &d, "gauge");
        fprintf(out, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
    }
    fflush(out);
    return ferror(out) ? -1 : 0;
}

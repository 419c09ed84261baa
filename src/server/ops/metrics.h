/* SPDX-License-Identifier: Apache-2.0 */
/* Process-wide service metrics: lock-free counters and gauges (C11 atomics, relaxed)
 * and fixed-bucket latency histograms with O(1) observe, rendered in the Prometheus
 * text exposition format. Safe to update from any thread; names follow Spark ESS's
 * metrics (protocol.md 9.6) in Prometheus style, prefixed "shuffled_". */
#ifndef SHUFFLED_SERVER_METRICS_H
#define SHUFFLED_SERVER_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum metric_counter {
    MC_BLOCK_TRANSFER_BYTES, /* blockTransferRateBytes: file/memory bytes of chunks and streams */
    MC_BLOCK_TRANSFER_MESSAGES, /* blockTransferMessageRate: chunks and streams sent */
    MC_CAUGHT_EXCEPTIONS,       /* numCaughtExceptions: connection errors incl. decode errors */
    MC_CONNECTIONS_ACCEPTED,    /* connections accepted since start */
    MC_INDEX_CACHE_HITS,
    MC_INDEX_CACHE_MISSES,
    MC_PAGE_CACHE_WARMED_BYTES, /* file bytes read into the page cache on the blocking pool */
    MC_FILE_WINDOWS_CACHED,     /* windows after the first of large bodies, found cached */
    MC_FILE_WINDOWS_WARMED,     /* ... read into the page cache on the blocking pool first */
    MC_CHUNKS_ON_LOOP,          /* chunks/streams resolved on the event loop (the fast path) */
    MC_CHUNKS_ON_POOL,          /* ... resolved on the blocking pool */
    MC_OPEN_MAP_OUTPUTS_STALE,  /* kept-open data files found deleted, replaced or truncated */
    MC_FRAMES_TIMED_OUT,        /* connections closed by frame_timeout_ms */
    MC_HANDSHAKES_TIMED_OUT,    /* connections closed by handshake_timeout_ms */
    MC_CLOSED_BY_STREAM_BUDGET, /* connections closed because max_stream_bytes was exceeded */
    MC_CLOSED_BY_INPUT_BUDGET,  /* ... max_input_bytes */
    MC_CLOSED_BY_OUTPUT_BUDGET, /* ... max_output_bytes */
    MC_REFUSED_BY_STREAM_LIMIT, /* streams refused by max_stream_bytes_per_connection */
    MC_REGISTRATIONS_REFUSED_PER_APP,   /* RegisterExecutor refused: max_executors_per_app */
    MC_REGISTRATIONS_REFUSED_TOTAL,     /* RegisterExecutor refused: max_executors */
    MC_REGISTRATIONS_REFUSED_DIR_OWNED, /* RegisterExecutor refused: dir owned by another app */
    MC_ADMIN_UNAUTHORIZED,              /* admin actions answered 401 (admin_token_file) */
    MC_AUTH_FAILURES,                   /* handshakes refused (SASL or AES) */
    MC_AES_CONNECTIONS,                 /* connections authenticated with the AES protocol */
    MC_ADMIN_FORBIDDEN,                 /* admin actions answered 403 (network, no token) */
    MC_APPS_EXPIRED,                    /* applications removed by app_ttl_ms */
    /* push-based shuffle (docs/push.md) */
    MC_PUSHES_ACCEPTED,           /* BlockPushReturnCode SUCCESS (duplicates included) */
    MC_PUSHES_TOO_LATE,           /* ... TOO_LATE_BLOCK_PUSH */
    MC_PUSHES_COLLISION,          /* ... BLOCK_APPEND_COLLISION_DETECTED */
    MC_PUSHES_STALE,              /* ... STALE_BLOCK_PUSH */
    MC_PUSHES_TOO_OLD_ATTEMPT,    /* ... TOO_OLD_ATTEMPT_PUSH */
    MC_PUSHES_FAILED,             /* pushes answered with an RpcFailure */
    MC_PUSH_BYTES_MERGED,         /* bytes appended to merged data files */
    MC_TLS_HANDSHAKES,            /* TLS handshakes completed (tls_enabled, tls_port) */
    MC_TLS_HANDSHAKE_FAILURES,    /* TLS handshakes refused or broken off */
    MC_TLS_KTLS_CONNECTIONS,      /* ... of those completed: file bytes by kernel TLS */
    MC_TLS_USERSPACE_CONNECTIONS, /* ... file bytes by pread + SSL_write */
    /* Spark's PushMergeMetrics and TLS handshake limits (docs/metrics.md) */
    MC_PUSHES_DUPLICATE,       /* pushes ignored: their map was already merged */
    MC_PUSH_BYTES_IGNORED,     /* body bytes of pushes not merged */
    MC_MERGED_CHUNKS_FETCHED,  /* merged chunks resolved for sending */
    MC_TLS_HANDSHAKES_REFUSED, /* closed by tls_max_handshakes_* */
    MC_TLS_HANDSHAKES_EVICTED, /* oldest unfinished, closed for a new one */
    MC_INPUT_BYTES_KEPT,       /* read, then copied aside while the connection was held */
    MC_PUSH_FILES_REOPENED,    /* merged partitions' files reopened (push_max_open_files) */
    MC__COUNT
};

enum metric_gauge {
    MG_REGISTERED_EXECUTORS,   /* registeredExecutorsSize: (app, exec) pairs */
    MG_ACTIVE_CONNECTIONS,     /* numActiveConnections: open client connections */
    MG_REGISTERED_CONNECTIONS, /* numRegisteredConnections: connections owned by a worker loop */
    MG_CHUNKS_IN_FLIGHT,       /* chunks/streams queued or being sent */
    MG_INDEX_CACHE_BYTES,      /* bytes held by the index cache */
    MG_OPEN_MAP_OUTPUTS,       /* map outputs whose data file is kept open */
    MG_STREAM_BYTES,           /* bytes of open streams, all connections */
    MG_STREAM_BYTES_LIMIT,     /* max_stream_bytes */
    MG_INPUT_BYTES,            /* bytes of partial frames and unread input, all connections */
    MG_INPUT_BYTES_LIMIT,      /* max_input_bytes */
    MG_OUTPUT_BYTES,           /* bytes of queued answers in memory, all connections */
    MG_OUTPUT_BYTES_LIMIT,     /* max_output_bytes */
    MG_PUSH_DEFERRED_BYTES,    /* pushes buffered while their partition is busy */
    MG_PUSH_DEFERRED_BLOCKS,   /* ... how many pushes hold such a buffer */
    MG_TLS_HANDSHAKES_IN_PROGRESS, /* TLS handshakes begun and not ended (tls_conn.c) */
    MG__COUNT
};

enum metric_histogram {
    MH_OPEN_BLOCKS_LATENCY, /* openBlockRequestLatencyMillis (OpenBlocks, FetchShuffleBlocks) */
    MH_REGISTER_EXECUTOR_LATENCY, /* registerExecutorRequestLatencyMillis */
    MH_FINALIZE_LATENCY,          /* FinalizeShuffleMerge */
    MH_MERGED_META_LATENCY,       /* MergedBlockMetaRequest (fetchMergedBlocksMetaLatencyMillis) */
    MH__COUNT
};

/* Request kinds for per-type request and error counts (label type="..."). */
enum metric_rpc {
    MR_OPEN_BLOCKS,
    MR_UPLOAD_BLOCK,
    MR_REGISTER_EXECUTOR,
    MR_REMOVE_BLOCKS,
    MR_FETCH_SHUFFLE_BLOCKS,
    MR_GET_LOCAL_DIRS,
    MR_OTHER_RPC,   /* any other BlockTransferMessage, or one that does not decode */
    MR_CHUNK_FETCH, /* ChunkFetchRequest */
    MR_STREAM,      /* StreamRequest */
    /* push-based shuffle's messages, named as Spark's classes */
    MR_PUSH_BLOCK_STREAM, /* UploadStream of a PushBlockStream */
    MR_FINALIZE_SHUFFLE_MERGE,
    MR_MERGED_BLOCK_META, /* MergedBlockMetaRequest (a transport message, not an RPC) */
    MR_FETCH_SHUFFLE_BLOCK_CHUNKS,
    MR_REMOVE_SHUFFLE_MERGE, /* as an RPC or a OneWayMessage */
    MR_DIAGNOSE_CORRUPTION,
    MR__COUNT
};

/* Upper bounds of the latency buckets, in microseconds: 2^k us for k = 0..METRICS_BUCKETS-2
 * (1 us .. ~16.8 s); the last bucket is +Inf. */
#define METRICS_BUCKETS 26

void metrics_add(enum metric_counter c, uint64_t n);
static inline void metrics_inc(enum metric_counter c)
{
    metrics_add(c, 1);
}
/* For a counter kept elsewhere (e.g. the index cache's hits): mirror its total. */
void metrics_counter_set(enum metric_counter c, uint64_t total);
void metrics_gauge_add(enum metric_gauge g, int64_t delta);
void metrics_gauge_set(enum metric_gauge g, int64_t value);
void metrics_observe_usec(enum metric_histogram h, uint64_t usec);
void metrics_rpc_request(enum metric_rpc t);
void metrics_rpc_error(enum metric_rpc t);

/* For the daemon's RPC path: a monotonic clock, and the end of one RpcRequest whose body
 * began with BlockTransferMessage type msg_type (-1 if empty): observes the latency
 * histogram of OpenBlocks/FetchShuffleBlocks or RegisterExecutor and counts a failure. */
uint64_t metrics_now_usec(void);
void metrics_rpc_done(int msg_type, uint64_t start_usec, bool ok);

/* Maps a BlockTransferMessage type byte (protocol.md 1.2) to its metric_rpc kind. */
enum metric_rpc metrics_rpc_from_msg_type(int type);

/* Current values (for tests, STATUS= lines and the daemon's own decisions). */
uint64_t metrics_counter(enum metric_counter c);
int64_t metrics_gauge(enum metric_gauge g);
uint64_t metrics_histogram_count(enum metric_histogram h);
/* Copies histogram h's bucket counts (not cumulative) and its sum, in microseconds. */
void metrics_histogram_snapshot(enum metric_histogram h, uint64_t buckets[METRICS_BUCKETS],
                                uint64_t *sum_usec);
uint64_t metrics_rpc_errors(enum metric_rpc t);

/* fn(ctx) runs at the start of each metrics_render(), to refresh gauges whose truth lives
 * elsewhere (e.g. the server's connection count). One collector; NULL removes it. */
void metrics_set_collector(void (*fn)(void *ctx), void *ctx);

/* Writes every metric in Prometheus text format (version 0.0.4), plus process_open_fds
 * counted from /proc/self/fd. Returns 0, or -1 if writing to out failed. */
int metrics_render(FILE *out);

/* Connections by the protection they settled on (issues 16, 20), label mode="...": counted
 * once per connection when its mode is known (accepted without auth; the end of its handshake;
 * an AES channel's pick of engine version and cipher). */
enum metric_security {
    MS_PLAIN,          /* auth off */
    MS_SASL,           /* SASL DIGEST-MD5, QOP auth */
    MS_SASL_AUTH_CONF, /* ... with its security layer (auth-conf) */
    MS_AES_PBKDF2,     /* spark.network.crypto, Spark 2.2-3.1 protocol, AES-CTR */
    MS_AES_X25519_V1,  /* 3.2+ protocol, authEngineVersion 1, AES-CTR */
    MS_AES_X25519_V2,  /* ... authEngineVersion 2, AES-CTR */
    MS_GCM_X25519_V1,  /* 4.0 AES-GCM channel, engine version 1 */
    MS_GCM_X25519_V2,  /* ... engine version 2 */
    MS__COUNT
};
void metrics_security_connection(enum metric_security mode);
/* Plaintext bytes through the AES channels (label direction="decrypted|encrypted"). */
void metrics_cipher_bytes(uint64_t decrypted, uint64_t encrypted);
uint64_t metrics_security_connections(enum metric_security mode);
uint64_t metrics_cipher_bytes_total(bool encrypted);

/* Zeroes everything (tests; a running daemon never resets). */
void metrics_reset(void);

#endif

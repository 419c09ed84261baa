/* SPDX-License-Identifier: Apache-2.0 */
/* libshuffle: push-based shuffle (Spark 3.2+, "Magnet") and the other 3.2+ operations:
 * pushing a map output's blocks to a shuffle service to be merged, finalizing the merge,
 * the merged partitions' chunk maps, corruption diagnosis and merge removal. Merged chunks
 * themselves are fetched with shuffle_fetch_blocks() and ids "shuffleChunk_S_M_R_C"
 * (FetchShuffleBlockChunks). Same conventions as shuffle/client.h. See libshuffle(3). */
#ifndef SHUFFLE_PUSH_H
#define SHUFFLE_PUSH_H

#include "shuffle/client.h"

#ifdef __cplusplus
extern "C" {
#endif

/* BlockPushReturnCode: the server's answer to one pushed block. */
enum shuffle_push_code {
    SHUFFLE_PUSH_SUCCESS = 0,
    SHUFFLE_PUSH_TOO_LATE = 1,  /* the merge was finalized: pushing stops */
    SHUFFLE_PUSH_COLLISION = 2, /* another stream was writing the partition: this block only */
    SHUFFLE_PUSH_STALE = 3,     /* a newer shuffleMergeId exists: pushing stops */
    SHUFFLE_PUSH_TOO_OLD_ATTEMPT = 4, /* a newer app attempt registered: pushing stops */
};
const char *shuffle_push_code_name(int code); /* "TOO_LATE_BLOCK_PUSH", ... */

/* The outcome of one pushed block: exactly one per block. */
struct shuffle_push_result {
    size_t struct_size;   /* of the library's version: fields beyond it are absent */
    size_t index;         /* position in the request's block_ids */
    const char *block_id; /* as requested */
    int status;           /* SHUFFLE_OK, or SHUFFLE_ESERVER with return_code set when the
                             server refused to merge it, or another error */
    int return_code;      /* enum shuffle_push_code (0 unless the server refused it) */
    const char *error;    /* on failure, e.g. "Block shufflePush_2_1_1_0 is received after
                             merged shuffle is finalized" */
};
typedef void (*shuffle_push_fn)(void *arg, const struct shuffle_push_result *r);

/* Pushes blocks to one server as Spark's OneForOneBlockPusher does: one UploadStream
 * (PushBlockStream meta + the block's bytes) per block, pipelined on a pooled connection
 * with at most max_in_flight unanswered. What each answer does:
 *  - SUCCESS: the block is reported OK;
 *  - BLOCK_APPEND_COLLISION_DETECTED, or an RpcFailure: that block fails, the others go on;
 *  - TOO_LATE, STALE, TOO_OLD_ATTEMPT: that block fails, pushing stops, and every block after
 *    it, sent or not, fails with the same code and text (they would be refused too; their
 *    own answers are dropped, a connection the server closes is not retried);
 *  - the connection lost after it was up: the blocks not yet answered are pushed again on a
 *    new connection (max_retries, retry_wait_ms apart, as a fetch); a connect failure is
 *    not retried (Spark's BlockPushErrorHandler), every remaining block fails with it.
 * The block bytes are sent without being copied: data[i] must stay valid until on_done, which
 * comes only once no byte of them will be read again (also when a refusal or a closed
 * connection ended the push before every body was sent, and at shuffle_client_destroy). */
struct shuffle_push_request {
    size_t struct_size; /* shuffle_push_request_init, or sizeof(struct shuffle_push_request) */
    const char *host;
    int port;
    int app_attempt_id; /* the app attempt the merge dirs were registered with;
                           -1 when the application has none (default) */
    const char *app_id;
    const char *const
        *block_ids; /* "shufflePush_<shuffleId>_<shuffleMergeId>_<mapIndex>_<reduceId>" */
    const uint8_t *const *data; /* data[i]: the bytes of block_ids[i] ... */
    const uint64_t *sizes;      /* ... sizes[i] of them */
    size_t num_blocks;
    size_t max_in_flight; /* unanswered pushes at a time; 0: 64 */
    shuffle_push_fn on_block;
    shuffle_fetch_done_fn on_done; /* optional: (pushed, failed) after the last block */
    void *arg;
};
static inline void shuffle_push_request_init(struct shuffle_push_request *r)
{
    memset(r, 0, sizeof(*r));
    r->struct_size = sizeof(*r);
    r->app_attempt_id = -1;
}
int shuffle_push_blocks(shuffle_client *c, const struct shuffle_push_request *r);

/* Map indices per merged partition or per chunk: sets of ascending uint32 values, decoded
 * from Spark's RoaringBitmaps. */
struct shuffle_map_sets {
    size_t count;
    const size_t *sizes;                /* sizes[i] values in ... */
    const uint32_t *const *map_indices; /* ... map_indices[i], ascending */
};

/* FinalizeShuffleMerge's answer (MergeStatuses): for each merged reduce partition, the
 * map indices merged into it and its merged size. */
struct shuffle_merge_statuses {
    size_t struct_size; /* of the library's version: fields beyond it are absent */
    int32_t shuffle_id;
    int32_t shuffle_merge_id;
    size_t num_partitions;
    const int32_t *reduce_ids; /* num_partitions each: reduce_ids[i] got maps[i] ... */
    const int64_t *sizes;      /* ... and sizes[i] bytes */
    struct shuffle_map_sets maps;
};
typedef void (*shuffle_finalize_fn)(void *arg, int status, const char *error,
                                    const struct shuffle_merge_statuses *ms);
/* FinalizeShuffleMerge (sent by Spark's driver). app_attempt_id -1: none. */
int shuffle_finalize_merge(shuffle_client *c, const char *host, int port, const char *app_id,
                           int app_attempt_id, int shuffle_id, int shuffle_merge_id,
                           shuffle_finalize_fn cb, void *arg);

/* MergedBlockMetaRequest's answer: the merged partition's chunks, each with the map
 * indices whose blocks it holds. Chunk k is fetched as shuffleChunk_S_M_R_k. */
typedef void (*shuffle_merged_meta_fn)(void *arg, int status, const char *error,
                                       const struct shuffle_map_sets *chunks);
int shuffle_fetch_merged_meta(shuffle_client *c, const char *host, int port, const char *app_id,
                              int shuffle_id, int shuffle_merge_id, int reduce_id,
                              shuffle_merged_meta_fn cb, void *arg);

/* CorruptionCause. */
enum shuffle_corruption_cause {
    SHUFFLE_CAUSE_DISK_ISSUE = 0,
    SHUFFLE_CAUSE_NETWORK_ISSUE = 1,
    SHUFFLE_CAUSE_UNKNOWN_ISSUE = 2,
    SHUFFLE_CAUSE_CHECKSUM_VERIFY_PASS = 3,
    SHUFFLE_CAUSE_UNSUPPORTED_CHECKSUM_ALGORITHM = 4,
};
const char *shuffle_corruption_cause_name(int cause); /* "DISK_ISSUE", ... */
typedef void (*shuffle_cause_fn)(void *arg, int status, const char *error, int cause);
/* DiagnoseCorruption: checksum is what the reader computed over shuffle_S_MAP_REDUCE
 * (the unsigned 32-bit value), algorithm e.g. "ADLER32" or "CRC32". */
int shuffle_diagnose_corruption(shuffle_client *c, const char *host, int port, const char *app_id,
                                const char *exec_id, int shuffle_id, int64_t map_id, int reduce_id,
                                int64_t checksum, const char *algorithm, shuffle_cause_fn cb,
                                void *arg);

/* RemoveShuffleMerge, a one-way message (no answer); shuffle_merge_id -1: every merge
 * of the shuffle. */
int shuffle_remove_shuffle_merge(shuffle_client *c, const char *host, int port, const char *app_id,
                                 int app_attempt_id, int shuffle_id, int shuffle_merge_id);

/* ---- Blocking forms (not from a callback; on failure shuffle_last_error(c) has the text) */

/* Per block: status, return code and a malloc'd error (NULL on success). Frozen layout. */
struct shuffle_push_outcome {
    int status;
    int return_code;
    char *error;
};
/* *out: num_blocks outcomes in request order (free with shuffle_push_outcomes_free).
 * SHUFFLE_OK when every block was merged, else the first failed block's status. */
int shuffle_push_blocks_sync(shuffle_client *c, const struct shuffle_push_request *r,
                             struct shuffle_push_outcome **out);
void shuffle_push_outcomes_free(struct shuffle_push_outcome *o, size_t n);

/* *out is one malloc'd block (free() it) holding the statuses and all their arrays. */
int shuffle_finalize_merge_sync(shuffle_client *c, const char *host, int port, const char *app_id,
                                int app_attempt_id, int shuffle_id, int shuffle_merge_id,
                                struct shuffle_merge_statuses **out);
/* *out is one malloc'd block (free() it). */
int shuffle_fetch_merged_meta_sync(shuffle_client *c, const char *host, int port,
                                   const char *app_id, int shuffle_id, int shuffle_merge_id,
                                   int reduce_id, struct shuffle_map_sets **out);
int shuffle_diagnose_corruption_sync(shuffle_client *c, const char *host, int port,
                                     const char *app_id, const char *exec_id, int shuffle_id,
                                     int64_t map_id, int reduce_id, int64_t checksum,
                                     const char *algorithm, int *cause);

#ifdef __cplusplus
}
#endif

#endif

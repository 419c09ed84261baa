/* SPDX-License-Identifier: Apache-2.0 */
/* Strict parsing of block ids, file names and app/exec ids (protocol.md 10.1).
 *
 * Every name that ends up in a path goes through here first: block ids are
 * rebuilt from parsed numbers, and app/exec ids are checked so that no id can
 * carry '/', "..", NUL or control bytes into a path or a log line. */
#ifndef SHUFFLED_SERVER_BLOCKID_H
#define SHUFFLED_SERVER_BLOCKID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest id (block, app or exec) accepted anywhere. */
#define BLOCKID_MAX_LEN 255

enum block_kind {
    BLOCK_SHUFFLE,       /* shuffle_S_M_R */
    BLOCK_SHUFFLE_BATCH, /* shuffle_S_M_start_end: reduces [start, end) */
    BLOCK_RDD,           /* rdd_R_S */
};

struct block_id {
    enum block_kind kind;
    int32_t shuffle_id;
    int64_t map_id;     /* a map-task attempt id (i64) since Spark 3.0 */
    int32_t reduce_id;  /* start reduce for a batch */
    int32_t end_reduce; /* batch only, exclusive */
    int32_t rdd_id;
    int32_t split_index;
};

/* Parses one id of any of the three forms. All numbers are plain decimal
 * digits (no sign, no spaces) within range: shuffle, reduce, rdd and split ids
 * fit an i32, map ids an i64. len excludes any terminator; an embedded NUL is
 * rejected. Returns 0, or -1 with a reason in err. */
int block_id_parse(const char *s, size_t len, struct block_id *out, char *err, size_t errlen);

/* Validates the block list of an OpenBlocks as Spark's ExternalBlockHandler does
 * (protocol.md 9.2): all shuffle_S_M_R with one S (S, M, R within i32), or all rdd_R_S
 * (only if allow_rdd). On success fills out[0..count) and returns 0; otherwise
 * returns -1 with Spark's Java exception text in err, e.g.
 * "java.lang.IllegalArgumentException: Unexpected block id format: x". */
int block_ids_parse_open(const char *const *ids, const size_t *lens, size_t count, bool allow_rdd,
                         struct block_id *out, char *err, size_t errlen);

/* True if id (len bytes) is shaped as a merged chunk id, shuffleChunk_S_M_R_C (Spark 3.2+
 * push-based shuffle): an OpenBlocks whose first id is one asks for merged chunks. */
bool block_id_is_chunk(const char *s, size_t len);
/* Validates an OpenBlocks list of merged chunk ids as Spark's ExternalBlockHandler does: each
 * shuffleChunk_S_M_R_C, all with the first id's S and M (numbers plain decimal within i32).
 * 0 with *shuffle_id, *merge_id, and pairs[2i], pairs[2i+1] = R, C of id i; or -1 with
 * Spark's text ("java.lang.IllegalArgumentException: Unexpected shuffle chunk id format: x",
 * "... Expected shuffleId = S and shuffleMergeId = M but got x", NumberFormatException). */
int block_ids_parse_chunks(const char *const *ids, const size_t *lens, size_t count,
                           int32_t *shuffle_id, int32_t *merge_id, int32_t *pairs, char *err,
                           size_t errlen);

/* Spark's on-disk names: "shuffle_S_M_0.index", "shuffle_S_M_0.data", "rdd_R_S". */
void block_index_file_name(int32_t shuffle_id, int64_t map_id, char *buf, size_t buflen);
void block_data_file_name(int32_t shuffle_id, int64_t map_id, char *buf, size_t buflen);
void block_rdd_file_name(int32_t rdd_id, int32_t split_index, char *buf, size_t buflen);

/* True if s (len bytes) is usable as an app or exec id: 1..BLOCKID_MAX_LEN
 * bytes of printable ASCII without '/', '\\' or NUL, and not "." or "..".
 * Spark's own ids ("app-20240101010101-0001", "0", "driver") all pass. */
bool id_is_safe(const char *s, size_t len);

/* True if a RemoveBlocks name (a file name placed like a block) is a single
 * safe path component: printable ASCII, no '/', not "." or "..". */
bool file_name_is_safe(const char *s, size_t len);

#endif

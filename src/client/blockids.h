/* SPDX-License-Identifier: Apache-2.0 */
/* Spark's block-id rules for building a fetch (protocol.md 11.1): which message to use,
 * and for FetchShuffleBlocks the grouping by map id (in first-appearance order)
 * that also fixes the order of the chunks. Pure functions, no I/O. */
#ifndef SHUFFLE_CLIENT_BLOCKIDS_H
#define SHUFFLE_CLIENT_BLOCKIDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/blockmsg.h"

/* True when every id starts with "shuffle_" (then FetchShuffleBlocks is used,
 * unless the old protocol is forced). */
bool blockids_all_shuffle(const char *const *ids, size_t n);

/* Builds the FetchShuffleBlocks message (m->type and m->u.fetch_shuffle_blocks,
 * owned: blockmsg_free) and chunk_order[i] = the input position of the block
 * that chunk i carries (n entries). Returns 0, or -1 with Spark's message, e.g.
 * "Expected shuffleId=0, got:shuffle_1_0_0". */
int blockids_plan_fetch_shuffle(const char *app_id, const char *exec_id, const char *const *ids,
                                size_t n, struct blockmsg *m, size_t *chunk_order, char *err,
                                size_t errlen);

/* True when every id (at least one) starts with "shuffleChunk_" (merged chunks of
 * push-based shuffle: FetchShuffleBlockChunks, unless the old protocol is forced). */
bool blockids_all_chunks(const char *const *ids, size_t n);

/* Builds FetchShuffleBlockChunks from "shuffleChunk_S_M_R_C" ids, grouped by reduce id
 * in order of first appearance (which fixes the chunk order: chunk_order as above).
 * Returns 0, or -1 with the message, e.g. "Expected shuffleMergeId=0, got:..." */
int blockids_plan_fetch_chunks(const char *app_id, const char *exec_id, const char *const *ids,
                               size_t n, struct blockmsg *m, size_t *chunk_order, char *err,
                               size_t errlen);

/* Builds OpenBlocks(app, exec, ids) into m (owned: blockmsg_free). -1 on OOM. */
int blockids_open_blocks(const char *app_id, const char *exec_id, const char *const *ids, size_t n,
                         struct blockmsg *m);

#endif

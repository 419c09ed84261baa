/* SPDX-License-Identifier: Apache-2.0 */
/* The read side of push-based shuffle (docs/push.md "Merged fetch"), with push_enabled:
 *
 * - MergedBlockMetaRequest (transport type 11) -> MergedBlockMetaSuccess (12): the chunk
 *   count from the merged .index file's size, the .meta file's bytes (one RoaringBitmap of map
 *   indexes per chunk) as the body; RpcFailure with Spark's texts otherwise;
 * - FetchShuffleBlockChunks, and OpenBlocks of shuffleChunk_S_M_R_C ids -> StreamHandle; each
 *   chunk of the stream is one merged chunk, [index[c], index[c+1]) of the merged .data file,
 *   resolved lazily on the blocking pool and sent by sendfile like any block.
 *
 * The files are found through the application attempt's merge dirs (merge_apps.h). */
#ifndef SHUFFLED_SERVER_PUSH_MERGED_FETCH_H
#define SHUFFLED_SERVER_PUSH_MERGED_FETCH_H

#include <stdbool.h>

struct block_service;
struct blockmsg;
struct conn;
struct proto_msg;
struct rpc_reply;

/* The dispatch route of MergedBlockMetaRequest (ctx: the block service). */
void merged_meta_on_msg(void *ctx, struct conn *c, const struct proto_msg *m);

/* FetchShuffleBlockChunks: validate, register the stream, reply StreamHandle (consumes
 * reply). */
void merged_fetch_chunks(struct block_service *s, struct conn *c, struct rpc_reply *reply,
                         const struct blockmsg *m);
/* True if an OpenBlocks asks for merged chunks (its first id is a shuffleChunk_ id). */
bool merged_open_blocks_wanted(const struct blockmsg *m);
/* OpenBlocks of shuffleChunk_ ids, as Spark parses them; consumes reply. */
void merged_open_chunks(struct block_service *s, struct conn *c, struct rpc_reply *reply,
                        const struct blockmsg *m);

#endif

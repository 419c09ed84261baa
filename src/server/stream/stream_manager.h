/* SPDX-License-Identifier: Apache-2.0 */
/* Streams of lazily resolved chunks (protocol.md 6): what a service registers, and the
 * ChunkFetchRequest / StreamRequest handler main.c routes to. Stream state lives with the
 * connection that registered it (a conn attachment, dropped when the connection closes). */
#ifndef SHUFFLED_SERVER_STREAM_MANAGER_H
#define SHUFFLED_SERVER_STREAM_MANAGER_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "server/stream/stream_source.h"

struct conn;
struct proto_msg;

/* Registers a stream owned by connection c (dropped when c closes or after its last chunk
 * was handed out, whichever comes first). app_id is copied (used for app isolation with
 * auth; may be NULL). Returns the new stream id (unique for the process lifetime; random base
 * x 1000 as Spark), or -1 with the Java-style text of the RpcFailure in err: out of memory,
 * or c would hold more than STREAM_MAX_REGISTERED_CHUNKS chunks or
 * max_stream_bytes_per_connection bytes of streams (src.free_ctx has then been called). Over
 * max_stream_bytes in total, the connection of this loop holding the most streams is closed
 * (c itself, perhaps: the answer is then dropped with it).
 * Must be called on c's worker thread (i.e. inside on_rpc or a done callback). */
int64_t stream_register(struct conn *c, const char *app_id, struct stream_source src, char *err,
                        size_t errlen);

/* The handler of ChunkFetchRequest and StreamRequest (a dispatch route; ctx unused). Each
 * reserves its answer slot now and fills it once the chunk is resolved (or failed). */
void stream_manager_on_msg(void *ctx, struct conn *c, const struct proto_msg *m);

#endif

/* Streams of lazily resolved chunks (spec section 6): what a service registers, and the
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
 * x 1000 as Spark), or -1 on allocation failure, or STREAM_REGISTER_OVER_LIMIT when c would
 * hold more than STREAM_MAX_REGISTERED_CHUNKS (src.free_ctx has then been called).
 * Must be called on c's worker thread (i.e. inside on_rpc or a done callback). */
int64_t stream_register(struct conn *c, const char *app_id, struct stream_source src);

/* The handler of ChunkFetchRequest and StreamRequest (a dispatch route; ctx unused). Each
 * reserves its answer slot now and fills it once the chunk is resolved (or failed). */
void stream_manager_on_msg(void *ctx, struct conn *c, const struct proto_msg *m);

#endif

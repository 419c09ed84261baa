/* The core's side of the stream manager: serving ChunkFetchRequest and StreamRequest. */
#ifndef SHUFFLED_SERVER_STREAM_MANAGER_INTERNAL_H
#define SHUFFLED_SERVER_STREAM_MANAGER_INTERNAL_H

#include <stdint.h>

#include "server/stream/stream_manager.h"

struct conn;

/* Each reserves a response slot now and fills it when the chunk is resolved (or failed). */
void stream_manager_chunk_fetch(struct conn *c, int64_t stream_id, int32_t chunk_index);
void stream_manager_stream_request(struct conn *c, const uint8_t *id, uint32_t len);
/* Drops every stream of c (c is closing). */
void stream_manager_conn_closed(struct conn *c);

#endif

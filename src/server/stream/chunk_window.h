/* A file body larger than one window is sent window by window: each window is read into the
 * page cache on the blocking pool first, so the event loop's sendfile never waits on the
 * disk, and a window is read only when the previous ones have nearly left (at most two
 * windows of a body are in the page cache ahead of the socket). */
#ifndef SHUFFLED_SERVER_CHUNK_WINDOW_H
#define SHUFFLED_SERVER_CHUNK_WINDOW_H

#include <stdint.h>

#include "server/stream/page_cache.h"

struct conn;
struct resp;

/* One window: what page_cache_warm reads synchronously. */
#define CHUNK_WINDOW_BYTES PAGE_CACHE_WARM_BYTES

/* Adds the body [offset, offset + len) of fd to r->buf (which holds the header) and marks r
 * ready. The first window must already be warm (the caller did it on the pool); a body of
 * more than one window makes r partial and queues the rest as it is warmed. Takes fd in all
 * cases. Returns 0, or -1 when out of memory (r untouched, fd closed). */
int chunk_window_send(struct conn *c, struct resp *r, int fd, uint64_t offset, uint64_t len);

#endif

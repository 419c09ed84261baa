/* SPDX-License-Identifier: Apache-2.0 */
/* Sending a file body as the answer in a reply slot. A body larger than one window is sent
 * window by window: each window is read into the page cache on the blocking pool first (or
 * found there), so the event loop's sendfile never waits on the disk, and a window is read
 * only when the previous ones have nearly left (at most two windows of a body are in the
 * page cache ahead of the socket). */
#ifndef SHUFFLED_SERVER_CHUNK_WINDOW_H
#define SHUFFLED_SERVER_CHUNK_WINDOW_H

#include <stdint.h>

#include "server/stream/page_cache.h"

struct conn;
struct reply_slot;
struct reply_file;
struct proto_msg;

/* One window: what page_cache_warm reads synchronously. */
#define CHUNK_WINDOW_BYTES PAGE_CACHE_WARM_BYTES

/* Fills slot with hdr's frame header and the body file (taken in all cases). The first
 * window must already be in the page cache (the caller warmed or probed it). Returns 0, or
 * -1 when out of memory (the connection is then closed). */
int chunk_window_send(struct conn *c, struct reply_slot *slot, const struct proto_msg *hdr,
                      const struct reply_file *file);

#endif

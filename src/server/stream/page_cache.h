/* SPDX-License-Identifier: Apache-2.0 */
/* Bringing a file range into the page cache on a blocking-pool thread, so that the event
 * loop's sendfile of it finds the pages there instead of waiting on the disk. */
#ifndef SHUFFLED_SERVER_PAGE_CACHE_H
#define SHUFFLED_SERVER_PAGE_CACHE_H

#include <stdbool.h>
#include <stdint.h>

/* The first part of a range is read synchronously (the caller waits); the rest is only
 * handed to the kernel's readahead. */
#define PAGE_CACHE_WARM_BYTES (1u << 20)
#define PAGE_CACHE_READAHEAD_BYTES (4u << 20)

/* Best effort: reads the first min(len, PAGE_CACHE_WARM_BYTES) bytes of fd at offset into
 * the page cache without copying them to user space (sendfile to /dev/null), and asks for
 * readahead of up to PAGE_CACHE_READAHEAD_BYTES. Blocks on the disk: pool threads only.
 * Returns the bytes read synchronously (0 if the kernel refused; the fetch still works). */
uint64_t page_cache_warm(int fd, uint64_t offset, uint64_t len);

/* Ranges up to this size are probed by their last byte only. */
#define PAGE_CACHE_ONE_PROBE_BYTES (128u << 10)

/* Cheap enough for an event loop (1-byte reads that never wait: RWF_NOWAIT): true when the
 * first and the last byte of the range are in the page cache (the last one only, for a range
 * of at most PAGE_CACHE_ONE_PROBE_BYTES). Readahead fills a range in order, so this stands for
 * the whole range; false when unsure (then warm it on the pool). */
bool page_cache_resident(int fd, uint64_t offset, uint64_t len);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Open map outputs: for a (registration, shuffle, map) whose data file was resolved once, the
 * data file kept open and its index offsets, so that later blocks of that map are served on
 * the event loop with no path, no open and no disk read. Bounded (entries, so fds); shared by
 * every loop (one mutex, held for a lookup only); an entry's fd stays open while any answer
 * still sends from it, even after eviction. Entries of a registration are dropped when it is
 * replaced or removed, or when files of it are deleted (map_output_cache_drop_registration).
 * A file deleted, replaced or truncated behind our back is noticed on use (fstat: no link
 * left, or too short) and dropped, so a block is never sent from a deleted file. */
#ifndef SHUFFLED_SERVER_BLOCK_MAP_OUTPUT_CACHE_H
#define SHUFFLED_SERVER_BLOCK_MAP_OUTPUT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct map_output_cache;
struct map_output; /* a referenced entry */

struct map_output_cache *map_output_cache_create(size_t max_entries);
void map_output_cache_destroy(struct map_output_cache *c); /* every reference released */

/* Inserts (reg, shuffle, map) -> data fd (taken) + offs (taken, count of them), replacing
 * nothing: if the key is present already, the new fd and offs are released. Returns the
 * entry for the key, referenced, or NULL (out of memory, or the cache is off: fd and offs
 * then stay the caller's). */
struct map_output *map_output_cache_insert(struct map_output_cache *c, uint64_t reg,
                                           int32_t shuffle, int64_t map, int fd, uint64_t *offs,
                                           size_t count);
/* The entry for the key, referenced, or NULL. */
struct map_output *map_output_cache_get(struct map_output_cache *c, uint64_t reg, int32_t shuffle,
                                        int64_t map);
/* [offs[start], offs[end]) of the data file, if the range is valid and the file still holds
 * it (linked, long enough): true. False: the entry was dropped (use the slow path). */
bool map_output_range(struct map_output_cache *c, struct map_output *e, int32_t start, int32_t end,
                      uint64_t *offset, uint64_t *length);
int map_output_fd(const struct map_output *e);
/* Drops a reference (any thread); the fd is closed with the last one of an evicted entry.
 * Shaped as a reply_file release: owner is the entry. */
void map_output_release(void *entry, int fd);
/* Drops every entry of registration reg (it was replaced or removed, or files of it were
 * deleted). */
void map_output_cache_drop_registration(struct map_output_cache *c, uint64_t reg);

/* Drops every entry (the allowed roots changed: files opened under the old ones go). */
void map_output_cache_drop_all(struct map_output_cache *c);

struct map_output_cache_stats {
    uint64_t hits, misses, entries, dropped_stale;
};
struct map_output_cache_stats map_output_cache_stats(struct map_output_cache *c);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Size-bounded LRU cache of parsed shuffle index files (protocol.md 10.3, 10.5).
 *
 * Key: the index file's path; value: its (numPartitions + 1) offsets. The
 * weight of an entry is what it really occupies (offsets = the file size, plus
 * the path and the entry header), and the sum of weights never exceeds the
 * bound, so memory stays bounded under any key churn. Index files are assumed
 * immutable once written, as Spark does. Lookups, inserts and evictions are
 * O(1); one mutex guards the table. Reading a file happens outside the lock,
 * and only ever on the blocking-I/O pool. */
#ifndef SHUFFLED_SERVER_INDEX_CACHE_H
#define SHUFFLED_SERVER_INDEX_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct index_cache;

struct index_cache *index_cache_create(uint64_t max_bytes);
void index_cache_destroy(struct index_cache *c);

/* The byte range [idx[start], idx[end]) of the data file that the index file
 * at path describes. Returns 0 with *offset and *length, or -1 with Spark's
 * Java-style error text: "java.lang.RuntimeException: Failed to open file:
 * <path>" (missing/unreadable), "java.lang.IndexOutOfBoundsException" (start or
 * end beyond the index, or start > end), or an IOException naming a corrupt file.
 * A file not cached yet is opened refusing symlinks when no_symlinks (file_open.h). */
int index_cache_range(struct index_cache *c, const char *path, bool no_symlinks, int32_t start,
                      int32_t end, uint64_t *offset, uint64_t *length, char *err, size_t errlen);

/* A malloc'd copy of every offset of the index file at path (*count of them), read as
 * index_cache_range does. 0; 1 when the file is too large to be cached (use
 * index_cache_range); -1 with err as index_cache_range. */
int index_cache_offsets(struct index_cache *c, const char *path, bool no_symlinks, uint64_t **offs,
                        size_t *count, char *err, size_t errlen);

/* Validates raw index bytes: size a multiple of 8 and at least 8, offsets
 * non-negative, starting at 0 and never decreasing. On success *count is the
 * number of offsets and offs (if non-NULL, count entries) receives them. */
int index_parse(const uint8_t *buf, size_t len, uint64_t *offs, size_t *count, char *why,
                size_t whylen);

struct index_cache_stats {
    uint64_t weight; /* bytes held, as counted against the bound */
    size_t count;    /* entries */
    uint64_t hits;
    uint64_t misses; /* lookups that had to read the file */
};

/* One consistent reading of the counters (for metrics and tests). */
struct index_cache_stats index_cache_stats(struct index_cache *c);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Spark's file placement among an executor's local dirs (protocol.md 10.2,
 * ExecutorDiskUtils.getFile), bit for bit. */
#ifndef SHUFFLED_SERVER_PLACEMENT_H
#define SHUFFLED_SERVER_PLACEMENT_H

#include <stddef.h>
#include <stdint.h>

/* Java String.hashCode of the UTF-16 code units of a UTF-8 name (32-bit
 * wrapping). A malformed UTF-8 byte counts as U+FFFD, as Java's decoder does. */
int32_t java_string_hash(const char *utf8, size_t len);
/* Spark's Utils.nonNegativeHash: INT_MIN -> 0, else |h|. */
int32_t non_negative_hash(int32_t h);

/* dir index and subdir for a name among n dirs with sub subdirs each. */
void placement_of(const char *name, size_t len, uint32_t n_dirs, int32_t sub_dirs,
                  uint32_t *dir_index, uint32_t *subdir);

/* "<dir>/<%02x subdir>/<name>" into buf; -1 if it does not fit. */
int placement_path(const char *const *dirs, uint32_t n_dirs, int32_t sub_dirs, const char *name,
                   char *buf, size_t buflen);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Spark's RoaringBitmaps of map indices (MergeStatuses, MergedBlockMetaSuccess) turned
 * into the public struct shuffle_map_sets, through CRoaring's portable format reader. */
#ifndef SHUFFLE_CLIENT_MAPSETS_H
#define SHUFFLE_CLIENT_MAPSETS_H

#include <stddef.h>
#include <stdint.h>

#include "proto/codec.h"
#include "shuffle/push.h"

/* Most map indices one reply may decode to (a run container of 4 bytes holds 65536). */
#define MAPSETS_MAX_VALUES (1u << 24)

/* Decodes the n bitmaps raw[i] into one malloc'd block: front_bytes for the caller
 * first (zeroed; e.g. the struct that points at the sets), then *sets and its arrays.
 * NULL with err set on a malformed bitmap, too many values or out of memory. */
void *mapsets_decode(size_t front_bytes, const struct proto_view *raw, size_t n,
                     struct shuffle_map_sets **sets, char *err, size_t errlen);

/* Splits count bitmaps stored back to back without lengths (a merged .meta file) into
 * views[count]. 0, or -1 with err set when they do not fill buf exactly. */
int mapsets_split(const uint8_t *buf, size_t len, size_t count, struct proto_view *views, char *err,
                  size_t errlen);

struct blockmsg;
/* A decoded MergeStatuses as one malloc'd struct shuffle_merge_statuses (its arrays and map
 * sets in the same block), or NULL with err (arrays of different lengths, a bad bitmap). */
struct shuffle_merge_statuses *mapsets_statuses(const struct blockmsg *m, char *err, size_t errlen);
/* A MergedBlockMetaSuccess from its numChunks on (i32, then the chunk bitmaps back to back)
 * as one malloc'd struct shuffle_map_sets, or NULL with err. */
struct shuffle_map_sets *mapsets_meta_reply(const uint8_t *body, size_t len, char *err,
                                            size_t errlen);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* RoaringBitmaps of map indexes, as Spark's server serializes them (CRoaring underneath):
 * the .meta files / MergedBlockMetaSuccess without run optimization, MergeStatuses after
 * Java RoaringBitmap's runOptimize, whose rule differs from CRoaring's in one case. */
#ifndef SHUFFLED_SERVER_PUSH_MERGE_BITMAP_H
#define SHUFFLED_SERVER_PUSH_MERGE_BITMAP_H

#include <roaring/roaring.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The portable serialization of b into a malloc'd buffer (*out, *len); java_run_optimize:
 * run containers exactly where Java's runOptimize puts them (b is changed). 0, or -1 out
 * of memory. */
int merge_bitmap_serialize(roaring_bitmap_t *b, bool java_run_optimize, uint8_t **out, size_t *len);

#endif

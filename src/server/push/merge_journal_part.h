/* SPDX-License-Identifier: Apache-2.0 */
/* The journal's partition record (MJ_PARTITION, merge_journal.h): a finalized partition as
 * the merge manager holds it after finalize, written by compaction in place of the commit
 * records of its blocks (one record per partition instead of one per merged block). After
 * the record's common fields (op, app, attempt, shuffle, shuffleMergeId) come
 *   i32 reduce | i64 data length | i64 index length | i64 meta length |
 *   i32 n | n bytes: the map indexes merged, a RoaringBitmap in the portable format
 * (CRoaring's roaring_bitmap_portable_serialize, Java RoaringBitmap's serialize),
 * big-endian as the rest. The lengths are what finalize cut the three files to; the index
 * and meta files themselves hold the chunk boundaries and chunk bitmaps. Replay rebuilds the
 * partition from it (merge_replay.c); the merge's MJ_FINALIZE record follows it. */
#ifndef SHUFFLED_SERVER_PUSH_MERGE_JOURNAL_PART_H
#define SHUFFLED_SERVER_PUSH_MERGE_JOURNAL_PART_H

#include <roaring/roaring.h>
#include <stdbool.h>
#include <stddef.h>

#include <stdint.h>

#include "proto/codec.h"

/* A partition record's own fields (merge_journal_rec's reduce, end, index_len, meta_len,
 * maps). */
struct merge_journal_part {
    int32_t reduce;
    int64_t data_len, index_len, meta_len;
    const roaring_bitmap_t *maps;
};

/* Appends p's fields to w (its failure flag set out of memory). */
void merge_journal_part_encode(struct proto_writer *w, const struct merge_journal_part *p);
/* Reads them into *p; the bitmap is *maps (p->maps points to it; the caller frees it with
 * roaring_bitmap_free). false when they do not decode (a length out of range, a bitmap that
 * is not exactly n bytes of the portable format, or empty; *maps NULL). */
bool merge_journal_part_decode(struct proto_reader *rd, struct merge_journal_part *p,
                               roaring_bitmap_t **maps);
/* The whole record's size (header included) for app and maps. */
size_t merge_journal_part_bytes(const char *app, const roaring_bitmap_t *maps);

#endif

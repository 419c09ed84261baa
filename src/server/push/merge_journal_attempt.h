/* SPDX-License-Identifier: Apache-2.0 */
/* The journal's attempt record (MJ_ATTEMPT, merge_journal.h): an application attempt's merge
 * dirs, written when the merge manager first keeps state of that attempt, so that a restart
 * knows where an older attempt's merged files are even once no stored registration names
 * them (a newer attempt re-registered every executor id). After the record's common fields
 * (op, app, attempt, shuffle 0, shuffleMergeId 0) come i32 subDirsPerLocalDir and the dirs
 * as a String[] (i32 count, then each String), big-endian as the rest. Records of the other
 * ops are unchanged, so a journal without attempt records (the previous version's) replays
 * as before. */
#ifndef SHUFFLED_SERVER_PUSH_MERGE_JOURNAL_ATTEMPT_H
#define SHUFFLED_SERVER_PUSH_MERGE_JOURNAL_ATTEMPT_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/codec.h"
#include "server/push/merged_layout.h"

/* Appends d's fields to w (its failure flag set out of memory). */
void merge_journal_attempt_encode(struct proto_writer *w, const struct merge_dirs *d);
/* Reads them into *out (owned; attempt_id left to the caller); false when they do not decode
 * (out zeroed). */
bool merge_journal_attempt_decode(struct proto_reader *rd, struct merge_dirs *out);
/* The whole record's size (header included) for app and d. */
size_t merge_journal_attempt_bytes(const char *app, const struct merge_dirs *d);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* What the merge journal keeps when it is compacted (merge_journal.h), at start and while
 * running: the records the merge manager's live state needs. A merge that is gone (removed,
 * superseded, its application removed or attempt replaced) leaves the journal whole. A
 * finalized merge keeps one partition record per partition (merge_journal_part.h: its map
 * indexes and file lengths, read from the live partition) in place of one commit record per
 * merged block, followed by its finalize record: so a long-lived application's journal (and
 * the replay at start) grows with its partitions, not its blocks. The commits are folded only
 * once the compaction has seen the merge's finalize record in the log it judges (a finalize
 * journaled meanwhile is folded by the next compaction). */
#ifndef SHUFFLED_SERVER_PUSH_MERGE_COMPACT_H
#define SHUFFLED_SERVER_PUSH_MERGE_COMPACT_H

#include <stdint.h>

struct merge_manager;
struct merge_journal_keeper;

/* The keeper merge_journal_open and merge_journal_maybe_compact are given (arg: the manager). */
extern const struct merge_journal_keeper merge_manager_keeper;
/* Under m->lock, once the finalize of (app, attempt, shuffle, merge_id) is journaled: the
 * commit records of its partitions, less the partition records replacing them, count as no
 * longer needed (merge_journal_note_dead), so that compaction comes when they make up half
 * of the journal. */
void merge_compact_finalized(struct merge_manager *m, const char *app, int32_t attempt,
                             int32_t shuffle, int32_t merge_id);
/* Compacts the journal if that is due (blocking: a pool thread, after the reply). */
void merge_manager_compact(struct merge_manager *m);

#endif

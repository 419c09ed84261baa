/* SPDX-License-Identifier: Apache-2.0 */
/* At replay (merge_replay.c): the merged files of an application removed with cleanup whose
 * deletion a crash cut short. Its removal record says cleanup was asked (MJ_APP_REMOVED with
 * its cleanup byte); its registrations are gone by then, so the merge manager rebuilt no state
 * for it: its attempt records (MJ_ATTEMPT) say where its merge dirs were, its commit and
 * partition records which partitions it merged, and their files are deleted when the removal
 * record is replayed, before the daemon serves. Single-threaded, under the manager's lock. */
#ifndef SHUFFLED_SERVER_PUSH_MERGE_REPLAY_REMOVED_H
#define SHUFFLED_SERVER_PUSH_MERGE_REPLAY_REMOVED_H

struct merge_manager;
struct merge_journal_rec;

/* r (an attempt, commit or partition record) is of an application no longer registered:
 * kept for its removal record. */
void merge_replay_removed_note(struct merge_manager *m, const struct merge_journal_rec *r);
/* r is an application's removal record: with cleanup, the files of what was noted of it are
 * deleted; it is forgotten either way. */
void merge_replay_removed_apply(struct merge_manager *m, const struct merge_journal_rec *r);
/* Frees what was noted (the end of replay). */
void merge_replay_removed_forget(struct merge_manager *m);

#endif

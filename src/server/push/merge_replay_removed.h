/* SPDX-License-Identifier: Apache-2.0 */
/* At replay (merge_replay.c): the merged files of an application removed with cleanup whose
 * deletion a crash cut short. Its removal record says cleanup was asked (MJ_APP_REMOVED with
 * its cleanup byte). Its registrations are gone by then as a rule, so the merge manager
 * rebuilt no state for it: its attempt records (MJ_ATTEMPT) say where its merge dirs were,
 * its commit and partition records which partitions it merged (else its rebuilt state says
 * both). Their files are deleted at the end of the replay, before the daemon serves, unless a
 * record of the application follows its removal: then it came back (the same id registered
 * again) and may have made files of the same names, which are left. Single-threaded, under
 * the manager's lock. */
#ifndef SHUFFLED_SERVER_PUSH_MERGE_REPLAY_REMOVED_H
#define SHUFFLED_SERVER_PUSH_MERGE_REPLAY_REMOVED_H

struct merge_manager;
struct merge_journal_rec;

struct app_entry;

/* r, a record other than a removal, is replayed: an earlier removal of its application
 * deletes nothing (see above). */
void merge_replay_removed_later(struct merge_manager *m, const struct merge_journal_rec *r);
/* r (an attempt, commit or partition record) is of an application no longer registered:
 * kept for a removal record. */
void merge_replay_removed_note(struct merge_manager *m, const struct merge_journal_rec *r);
/* r is an application's removal record; a: its rebuilt state (taken out of the manager by
 * the caller; NULL if none), whose partitions and dirs are noted. With cleanup, what was
 * noted of it is to be deleted; else it is forgotten. */
void merge_replay_removed_apply(struct merge_manager *m, const struct merge_journal_rec *r,
                                const struct app_entry *a);
/* The end of replay: deletes the files to be deleted. */
void merge_replay_removed_finish(struct merge_manager *m);
/* Frees what was noted. */
void merge_replay_removed_forget(struct merge_manager *m);

#endif

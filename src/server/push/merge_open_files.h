/* SPDX-License-Identifier: Apache-2.0 */
/* The bound on the merged partitions whose files are open (push_max_open_files / 3): which
 * are open, in the order they were last used, and which to close next to make room.
 *
 * An entry is open once its files are opened (counted, and listed as the newest) until they
 * are closed. While open it is listed, and may be chosen to be closed, unless something
 * holds it for good (a finalize or a removal: merge_open_files_hold), when it stays counted
 * but is no longer listed. A listed entry may still be busy at the moment (a writer holds
 * it): the caller's idle() says so, and a busy entry is passed over.
 *
 * O(1) per use (an intrusive list, common/lru.h); choosing what to close passes over busy
 * entries only, each moved to the newest end (it is being used), so no entry is looked at
 * twice in one choice. No locking: the caller's (the merge manager's lock). */
#ifndef SHUFFLED_SERVER_PUSH_MERGE_OPEN_FILES_H
#define SHUFFLED_SERVER_PUSH_MERGE_OPEN_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/lru.h"

struct merge_open_entry {
    struct lru_node node;
    bool open;   /* counted in merge_open_files.open */
    bool listed; /* in the list: may be chosen to be closed */
};

struct merge_open_files {
    struct lru_list lru; /* listed entries, newest first */
    uint64_t open;       /* entries open, listed or held */
    uint64_t max;        /* the bound; 0: none */
};

void merge_open_files_init(struct merge_open_files *f, uint64_t max);
/* e's files were opened: counted, and listed as the newest. */
void merge_open_files_opened(struct merge_open_files *f, struct merge_open_entry *e);
/* e was used (if it is listed, it becomes the newest). */
void merge_open_files_touch(struct merge_open_files *f, struct merge_open_entry *e);
/* e's files stay open (and counted) but are closed by the holder: no longer listed. */
void merge_open_files_hold(struct merge_open_files *f, struct merge_open_entry *e);
/* e's files were closed: neither counted nor listed (nothing if it was not open). */
void merge_open_files_closed(struct merge_open_files *f, struct merge_open_entry *e);
/* Whether one more entry may be opened without going over the bound. */
bool merge_open_files_room(const struct merge_open_files *f);
/* The entry to close before one more is opened: the least recently used listed one that
 * idle(e, arg) accepts, taken out of the list (still counted: merge_open_files_closed once
 * its files are closed). NULL when there is room, or every listed entry is busy (those are
 * then the newest). */
struct merge_open_entry *
merge_open_files_victim(struct merge_open_files *f,
                        bool (*idle)(struct merge_open_entry *e, void *arg), void *arg);

#endif

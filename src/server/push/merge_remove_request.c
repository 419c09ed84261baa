/* SPDX-License-Identifier: Apache-2.0 */
/* RemoveShuffleMerge decided as Spark's removeShuffleMerge (merge_removal.h): against the
 * application's current attempt (merge_manager.c, which starts its state), a merge never
 * pushed to here still ended; what goes is dropped by merge_removal.c. Above both. */
#include <config.h>

#include <pthread.h>

#include "common/log.h"
#include "server/push/merge_apps.h"
#include "server/push/merge_journal.h"
#include "server/push/merge_removal.h"
#include "server/push/merge_state.h"

void merge_manager_remove(struct merge_manager *m, const char *app, int32_t attempt,
                          int32_t shuffle, int32_t merge_id)
{
    struct merge_trash t = {0};
    char err[512];
    pthread_mutex_lock(&m->lock);
    /* judged against the current attempt, whose state starts here if it has pushed nothing */
    struct app_entry *a = merge_app_current(m, app, err, sizeof err);
    if (a && a->dirs.attempt_id != attempt)
        log_warn("RemoveShuffleMerge ignored: attempt %d of %s is not the current one (%d)",
                 attempt, app, a->dirs.attempt_id);
    else if (!a)
        log_warn("RemoveShuffleMerge ignored: %s", err);
    struct shuffle_entry *s =
        a && a->dirs.attempt_id == attempt ? merge_find_shuffle(a, shuffle) : NULL;
    /* a merge never pushed to here still ends, as Spark records it finalized: pushes of it
     * that come later are too late and make no files for a shuffle the driver removed */
    if (!s && a && a->dirs.attempt_id == attempt && merge_id != -1)
        s = merge_shuffle_for(m, a, shuffle, merge_id, &t);
    if (s && (merge_id == -1 || merge_id == s->merge_id)) {
        merge_shuffle_drop_parts(m, s, true, &t);
        s->finalized = true; /* later pushes of it are too late */
    } else if (s && merge_id > s->merge_id) {
        merge_shuffle_drop_parts(m, s, true, &t);
        s->merge_id = merge_id;
        s->finalized = true;
        merge_apps_note_merge_id(m->attempts, app, shuffle, merge_id);
    } else if (s) {
        log_warn("RemoveShuffleMerge ignored: shuffle %d of %s is at shuffleMergeId %d, not %d",
                 shuffle, app, s->merge_id, merge_id);
    }
    if (s) /* with the merge id it removed (-1 resolved), for a replay without its commits */
        merge_note_merge(m, MJ_REMOVE, app, attempt, shuffle,
                         merge_id == -1 ? s->merge_id : merge_id);
    pthread_mutex_unlock(&m->lock);
    merge_trash_empty(m, &t);
}

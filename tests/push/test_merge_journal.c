/* SPDX-License-Identifier: Apache-2.0 */
/* The merge journal's group commit (merge_journal.c): threads appending at once, some through
 * the blocking path (batches), some writing their own records as the event loop does (not
 * waiting for those left to a batch while a compaction swaps logs), while a compaction runs.
 * Every record is in the log exactly once, whole, and each thread's records in the order it
 * appended them (a later one never overtakes one left behind); what compaction was told is
 * dead is gone. */
#include <config.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/push/merge_journal.h"
#include "../check_main.h"

#define THREADS 6
#define RECORDS 3000

struct writer {
    struct merge_journal *j;
    int id;
};

static void *append_all(void *arg)
{
    struct writer *w = arg;
    char app[32], err[256];
    snprintf(app, sizeof app, "app-%d", w->id);
    uint64_t last_left = 0;
    for (int i = 0; i < RECORDS; i++) {
        struct merge_journal_rec r = {MJ_COMMIT,       app,   1,   w->id, 0, 0, i,
                                      (int64_t)i * 10, false, NULL};
        if (w->id % 2 == 0) {
            ck_assert_int_eq(merge_journal_append(w->j, &r, err, sizeof err), 0);
        } else {
            uint64_t seq = 0;
            int rc = merge_journal_append_nowait(w->j, &r, &seq, err, sizeof err);
            ck_assert_int_ge(rc, 0);
            if (rc == 1) /* left to a batch: the loop goes on meanwhile, as the daemon's does */
                last_left = seq;
        }
    }
    if (last_left)
        ck_assert_int_eq(merge_journal_wait(w->j, last_left, err, sizeof err), 0);
    return NULL;
}

struct seen {
    int next[THREADS + 1]; /* per writer: the map index expected next */
    int dead_seen;
    int total;
};

static void count(void *arg, const struct merge_journal_rec *r)
{
    struct seen *s = arg;
    s->total++;
    if (strcmp(r->app, "app-dead") == 0) {
        s->dead_seen++;
        return;
    }
    int id = r->shuffle;
    ck_assert(id >= 0 && id < THREADS);
    ck_assert_int_eq(r->map_index, s->next[id]); /* in order, none twice, none missing */
    ck_assert_int_eq(r->end, (int64_t)r->map_index * 10);
    s->next[id]++;
}

static bool keep_live(void *arg, const struct merge_journal_rec *r)
{
    (void)arg;
    return strcmp(r->app, "app-dead") != 0;
}

START_TEST(test_concurrent_appends_and_compaction)
{
    char *dir = harness_temp_dir();
    char err[256];
    struct merge_journal *j = merge_journal_open(dir, false, NULL, NULL, NULL, err, sizeof err);
    ck_assert_msg(j != NULL, "%s", err);
    /* records to be compacted away: more than all the live ones the threads append, so the
     * compaction is due whenever it starts */
    for (int i = 0; i < 20000; i++) {
        struct merge_journal_rec r = {MJ_COMMIT, "app-dead", 1, 9, 0, 0, i, i, false, NULL};
        ck_assert_int_eq(merge_journal_append(j, &r, err, sizeof err), 0);
    }
    uint64_t dead = merge_journal_size(j);
    merge_journal_note_dead(j, dead);

    pthread_t t[THREADS];
    struct writer w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct writer){j, i};
        ck_assert_int_eq(pthread_create(&t[i], NULL, append_all, &w[i]), 0);
    }
    ck_assert_int_eq(merge_journal_maybe_compact(j, keep_live, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    uint64_t size = merge_journal_size(j);
    merge_journal_close(j);

    struct seen s = {0};
    j = merge_journal_open(dir, false, count, NULL, &s, err, sizeof err);
    ck_assert_msg(j != NULL, "%s", err);
    ck_assert_int_eq(s.dead_seen, 0);
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(s.next[i], RECORDS);
    ck_assert_int_eq(s.total, THREADS * RECORDS);
    ck_assert_uint_eq(merge_journal_size(j), size); /* nothing torn or damaged to cut */
    merge_journal_close(j);
    free(dir);
}
END_TEST

CHECK_MAIN((.suite = "merge_journal", .name = "journal", .timeout_s = 60),
           test_concurrent_appends_and_compaction)

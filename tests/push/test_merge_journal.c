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
#include <sys/stat.h>

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
        struct merge_journal_rec r = {.op = MJ_COMMIT,
                                      .app = app,
                                      .attempt = 1,
                                      .shuffle = w->id,
                                      .map_index = i,
                                      .end = (int64_t)i * 10};
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
    int first_shuffle; /* of the first record */
};

static void count(void *arg, const struct merge_journal_rec *r)
{
    struct seen *s = arg;
    if (s->total++ == 0)
        s->first_shuffle = r->shuffle;
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

static bool keep_live(void *arg, const struct merge_journal_rec *r, struct proto_writer *out)
{
    (void)arg;
    (void)out;
    return strcmp(r->app, "app-dead") != 0;
}

static const struct merge_journal_keeper live_keeper = {NULL, keep_live};

START_TEST(test_concurrent_appends_and_compaction)
{
    char *dir = harness_temp_dir();
    char err[256];
    struct merge_journal *j = merge_journal_open(dir, false, NULL, NULL, NULL, err, sizeof err);
    ck_assert_msg(j != NULL, "%s", err);
    /* records to be compacted away: more than all the live ones the threads append, so the
     * compaction is due whenever it starts */
    for (int i = 0; i < 20000; i++) {
        struct merge_journal_rec r = {.op = MJ_COMMIT,
                                      .app = "app-dead",
                                      .attempt = 1,
                                      .shuffle = 9,
                                      .map_index = i,
                                      .end = i};
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
    ck_assert_int_eq(merge_journal_maybe_compact(j, &live_keeper, NULL), 0);
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

/* ---- an event loop's records of one read callback (merge_journal_loop_begin / _flush) ---- */

static long long file_bytes(const char *dir)
{
    char path[800];
    struct stat st;
    snprintf(path, sizeof path, "%s/merges.wal", dir);
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* Replays dir's log through count; the journal closed again. */
static struct seen replay_log(const char *dir)
{
    char err[256];
    struct seen s = {0};
    struct merge_journal *j = merge_journal_open(dir, false, count, NULL, &s, err, sizeof err);
    ck_assert_msg(j != NULL, "%s", err);
    merge_journal_close(j);
    return s;
}

static struct merge_journal_rec rec_of(const char *app, int id, int i)
{
    return (struct merge_journal_rec){.op = MJ_COMMIT,
                                      .app = app,
                                      .attempt = 1,
                                      .shuffle = id,
                                      .map_index = i,
                                      .end = (int64_t)i * 10};
}

START_TEST(test_loop_records_written_by_the_flush)
{
    char *dir = harness_temp_dir();
    char err[256];
    struct merge_journal *j = merge_journal_open(dir, false, NULL, NULL, NULL, err, sizeof err);
    ck_assert_msg(j != NULL, "%s", err);
    merge_journal_loop_begin();
    for (int i = 0; i < 5; i++) {
        struct merge_journal_rec r = rec_of("app-1", 1, i);
        uint64_t seq = 0;
        ck_assert_int_eq(merge_journal_append_nowait(j, &r, &seq, err, sizeof err), 0);
    }
    ck_assert_int_eq(file_bytes(dir), 0); /* kept for the flush, none written on its own */
    merge_journal_loop_flush();
    ck_assert_int_eq(file_bytes(dir), 5 * (long long)merge_journal_commit_bytes("app-1"));
    /* after the flush the loop's records are written at once again (no batch open) */
    struct merge_journal_rec r = rec_of("app-1", 1, 5);
    uint64_t seq = 0;
    ck_assert_int_eq(merge_journal_append_nowait(j, &r, &seq, err, sizeof err), 0);
    ck_assert_int_eq(file_bytes(dir), 6 * (long long)merge_journal_commit_bytes("app-1"));
    merge_journal_close(j);
    struct seen s = replay_log(dir);
    ck_assert_int_eq(s.next[1], 6); /* all of them, in order (count checks the order) */
    ck_assert_int_eq(s.total, 6);
    free(dir);
}
END_TEST

struct direct_one {
    struct merge_journal *j;
    int rc;
    uint64_t seq;
};

static void *append_direct(void *arg)
{
    struct direct_one *d = arg;
    char err[256];
    struct merge_journal_rec r = rec_of("app-2", 2, 0);
    d->rc = merge_journal_append_nowait(d->j, &r, &d->seq, err, sizeof err);
    return NULL;
}

/* A record another loop appends while this loop's batch waits is not written ahead of it. */
START_TEST(test_other_loop_waits_behind_a_batch)
{
    char *dir = harness_temp_dir();
    char err[256];
    struct merge_journal *j = merge_journal_open(dir, false, NULL, NULL, NULL, err, sizeof err);
    ck_assert_msg(j != NULL, "%s", err);
    merge_journal_loop_begin();
    struct merge_journal_rec r = rec_of("app-1", 1, 0);
    uint64_t seq = 0;
    ck_assert_int_eq(merge_journal_append_nowait(j, &r, &seq, err, sizeof err), 0);
    struct direct_one d = {j, -2, 0};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, append_direct, &d), 0);
    pthread_join(t, NULL);
    ck_assert_int_eq(d.rc, 1); /* left to the batch, to be waited for */
    ck_assert_int_eq(file_bytes(dir), 0);
    merge_journal_loop_flush();
    ck_assert_int_eq(merge_journal_wait(j, d.seq, err, sizeof err), 0);
    merge_journal_close(j);
    struct seen s = replay_log(dir);
    ck_assert_int_eq(s.total, 2);
    ck_assert_int_eq(s.first_shuffle, 1); /* the batch's record first */
    free(dir);
}
END_TEST

static void *keep_one(void *arg)
{
    struct merge_journal *j = arg;
    char err[256];
    merge_journal_loop_begin();
    struct merge_journal_rec r = rec_of("app-1", 1, 0);
    uint64_t seq = 0;
    ck_assert_int_eq(merge_journal_append_nowait(j, &r, &seq, err, sizeof err), 0);
    return NULL; /* its flush not run yet */
}

/* A loop answering on the strength of another loop's record (a duplicate push) writes that
 * record first: merge_journal_loop_cover, then its own flush. */
START_TEST(test_cover_writes_another_loops_batch)
{
    char *dir = harness_temp_dir();
    char err[256];
    struct merge_journal *j = merge_journal_open(dir, false, NULL, NULL, NULL, err, sizeof err);
    ck_assert_msg(j != NULL, "%s", err);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, keep_one, j), 0);
    pthread_join(t, NULL);
    merge_journal_loop_flush(); /* this thread kept nothing: writes nothing */
    ck_assert_int_eq(file_bytes(dir), 0);
    merge_journal_loop_cover(j);
    merge_journal_loop_flush();
    ck_assert_int_eq(file_bytes(dir), (long long)merge_journal_commit_bytes("app-1"));
    merge_journal_close(j);
    free(dir);
}
END_TEST

#define LOOP_ROUNDS 2000
#define PER_ROUND 3

/* As an event loop: rounds of a read callback's records, each round flushed. */
static void *loop_rounds(void *arg)
{
    struct writer *w = arg;
    char app[32], err[256];
    snprintf(app, sizeof app, "app-%d", w->id);
    int i = 0;
    for (int round = 0; round < LOOP_ROUNDS; round++) {
        merge_journal_loop_begin();
        for (int k = 0; k < PER_ROUND; k++, i++) {
            struct merge_journal_rec r = rec_of(app, w->id, i);
            uint64_t seq = 0;
            ck_assert_int_eq(merge_journal_append_nowait(w->j, &r, &seq, err, sizeof err), 0);
        }
        merge_journal_loop_flush();
    }
    return NULL;
}

START_TEST(test_loops_flushing_concurrently)
{
    char *dir = harness_temp_dir();
    char err[256];
    struct merge_journal *j = merge_journal_open(dir, false, NULL, NULL, NULL, err, sizeof err);
    ck_assert_msg(j != NULL, "%s", err);
    /* threads 0 and 1 are loops batching, 2 appends blocking (the pool), 3 as a loop outside
     * a read callback (its own writes, or waiting behind a batch) */
    enum { N = 4 };
    pthread_t t[N];
    struct writer w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (struct writer){j, i};
        ck_assert_int_eq(pthread_create(&t[i], NULL, i < 2 ? loop_rounds : append_all, &w[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    uint64_t size = merge_journal_size(j);
    merge_journal_close(j);
    ck_assert_int_eq(file_bytes(dir), (long long)size);
    struct seen s = replay_log(dir); /* whole records, each thread's in order */
    ck_assert_int_eq(s.next[0], LOOP_ROUNDS * PER_ROUND);
    ck_assert_int_eq(s.next[1], LOOP_ROUNDS * PER_ROUND);
    ck_assert_int_eq(s.next[2], RECORDS);
    ck_assert_int_eq(s.next[3], RECORDS);
    ck_assert_int_eq(s.total, 2 * LOOP_ROUNDS * PER_ROUND + 2 * RECORDS);
    free(dir);
}
END_TEST

CHECK_MAIN((.suite = "merge_journal", .name = "journal", .timeout_s = 60),
           test_concurrent_appends_and_compaction, test_loop_records_written_by_the_flush,
           test_other_loop_waits_behind_a_batch, test_loops_flushing_concurrently,
           test_cover_writes_another_loops_batch)

/* SPDX-License-Identifier: Apache-2.0 */
/* push_max_open_files bounds the daemon's open files, not the partitions it merges: with 6
 * files (2 partitions) the real daemon merges 12 partitions pushed in turn, map by map, every
 * push answered SUCCESS, the least recently used partition's files closed and reopened by its
 * next push (shuffled_push_files_reopened_total counts exactly those), the daemon's open
 * descriptors (/proc/PID/fd) sampled throughout never over its baseline plus 6. Then:
 *  - MergeStatuses exact (maps, sizes) and every merged byte fetched back and compared;
 *  - across a crash (SIGKILL) between push and finalize with most partitions' files closed
 *    and a block half-written: the restart cuts that block away, pushes reopen the files,
 *    finalize reopens the ones no push touched since, all exact;
 *  - RemoveShuffleMerge deletes closed partitions' files;
 *  - push_max_partitions (30 here) refuses a new partition beyond it and no longer counts a
 *    finalized merge's.
 * Skipped while the build has no daemon. */
#include <config.h>

#include <check.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../unit/prom_scrape.h"
#include "../check_main.h"
#include "../harness/client.h"
#include "../harness/daemon.h"
#include "manifest.h"
#include "push_fixture.h"
#include "shuffle/push.h"
#include "shuffle/sync.h"
#include "tclient.h"

#define APP "app-push-fds"
#define ATTEMPT 1
#define REDUCES 12
#define MAPS 5
#define OPEN_FILES 6      /* push_max_open_files in this test: 2 partitions */
#define MAX_PARTITIONS 30 /* push_max_partitions in this test */
#define REOPENED "shuffled_push_files_reopened_total"

static char tmp[600], data_root[700];
static struct manifest man;
static struct harness_daemon shuffled;
static int admin_port;
static shuffle_client *cl;

static size_t block_len(int map, int reduce)
{
    return 700 + 131 * (size_t)map + 53 * (size_t)reduce;
}

static unsigned block_pattern(int shuffle, int map, int reduce)
{
    return (unsigned)(shuffle * 1000 + map * 16 + reduce);
}

static void ensure_client(void)
{
    if (cl)
        return;
    cl = harness_client(0, 100, 30000, false);
    push_fixture_register(cl, shuffled.port, APP, ATTEMPT, &man);
}

/* ---- the daemon's open descriptors, sampled by a thread while pushing ---- */

static int count_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    ck_assert(d != NULL);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

struct fd_watch {
    pthread_t thread;
    pid_t pid;
    atomic_bool stop;
    atomic_int max;
};

static void *watch_fds(void *arg)
{
    struct fd_watch *w = arg;
    while (!atomic_load(&w->stop)) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/fd", (int)w->pid);
        DIR *d = opendir(path);
        if (!d)
            break;
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
            n += de->d_name[0] != '.';
        closedir(d);
        if (n > atomic_load(&w->max))
            atomic_store(&w->max, n);
        usleep(200);
    }
    return NULL;
}

static void watch_start(struct fd_watch *w)
{
    w->pid = shuffled.pid;
    atomic_store(&w->stop, false);
    atomic_store(&w->max, count_fds(w->pid));
    ck_assert_int_eq(pthread_create(&w->thread, NULL, watch_fds, w), 0);
}

/* The most descriptors the daemon had open while w watched. */
static int watch_stop(struct fd_watch *w)
{
    atomic_store(&w->stop, true);
    pthread_join(w->thread, NULL);
    return atomic_load(&w->max);
}

/* ---- pushes and checks ---- */

static void push_ok(int shuffle, int map, int reduce)
{
    struct shuffle_push_outcome o =
        push_fixture_push_one(cl, shuffled.port, APP, ATTEMPT, shuffle, map, reduce,
                              block_len(map, reduce), block_pattern(shuffle, map, reduce));
    ck_assert_msg(o.status == SHUFFLE_OK, "shuffle %d map %d reduce %d: %s", shuffle, map, reduce,
                  o.error ? o.error : "?");
    free(o.error);
}

/* The client's connection made (pushes keep it), by a merge of its own finalized at once: no
 * file of it stays open. */
static void connect_with(int shuffle)
{
    push_ok(shuffle, 0, 0);
    struct shuffle_merge_statuses *ms;
    ck_assert_int_eq(
        shuffle_finalize_merge_sync(cl, "127.0.0.1", shuffled.port, APP, ATTEMPT, shuffle, 0, &ms),
        SHUFFLE_OK);
    free(ms);
}

/* Maps [first, end) to every reduce of `reduces`, one push at a time, map by map (each push
 * to another partition than the last two): the daemon's descriptors stay within its baseline
 * (before) plus OPEN_FILES throughout. */
static void push_in_turn(int shuffle, int first, int end, int reduces)
{
    int baseline = count_fds(shuffled.pid);
    struct fd_watch w;
    watch_start(&w);
    for (int map = first; map < end; map++)
        for (int r = 0; r < reduces; r++) {
            push_ok(shuffle, map, r);
            int now = count_fds(shuffled.pid);
            ck_assert_msg(now <= baseline + OPEN_FILES, "%d descriptors open, baseline %d", now,
                          baseline);
        }
    int peak = watch_stop(&w);
    ck_assert_msg(peak <= baseline + OPEN_FILES, "up to %d descriptors open, baseline %d", peak,
                  baseline);
}

/* Finalizes shuffle: every reduce < REDUCES merged maps [0, maps_of(r)), exact; then every
 * partition's chunks fetched, byte for byte. */
static void finalize_and_check(int shuffle, int (*maps_of)(int reduce))
{
    struct shuffle_merge_statuses *ms;
    ck_assert_msg(shuffle_finalize_merge_sync(cl, "127.0.0.1", shuffled.port, APP, ATTEMPT, shuffle,
                                              0, &ms) == SHUFFLE_OK,
                  "%s", shuffle_last_error(cl));
    ck_assert_uint_eq(ms->num_partitions, REDUCES);
    for (int r = 0; r < REDUCES; r++) {
        int n = maps_of(r);
        size_t lens[MAPS];
        unsigned ks[MAPS];
        int64_t size = 0;
        for (int map = 0; map < n; map++) {
            lens[map] = block_len(map, r);
            ks[map] = block_pattern(shuffle, map, r);
            size += (int64_t)lens[map];
        }
        ck_assert_int_eq(ms->reduce_ids[r], r);
        ck_assert_int_eq(ms->sizes[r], size);
        ck_assert_uint_eq(ms->maps.sizes[r], (size_t)n);
        for (int map = 0; map < n; map++)
            ck_assert_uint_eq(ms->maps.map_indices[r][map], (uint32_t)map);
        push_fixture_check_merged(cl, shuffled.port, APP, shuffle, r, lens, ks, (size_t)n);
    }
    free(ms);
}

static int all_maps(int reduce)
{
    (void)reduce;
    return MAPS;
}

/* The path of merged file kind ("data") of (shuffle, reduce) in the merge dir ("" if none). */
static void merged_path(int shuffle, int reduce, const char *kind, char *path, size_t len)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd,
             "find '%s/merge_manager_%d' -name 'shuffleMerged_%s_%d_0_%d.%s' 2>/dev/null",
             data_root, ATTEMPT, APP, shuffle, reduce, kind);
    FILE *p = popen(cmd, "r");
    ck_assert(p != NULL);
    path[0] = '\0';
    if (!fgets(path, (int)len, p))
        path[0] = '\0';
    pclose(p);
    path[strcspn(path, "\n")] = '\0';
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* 12 partitions through 2 partitions' worth of files: every push SUCCESS, each push after a
 * partition's first reopens its files (the two used last are the only ones open). */
START_TEST(test_many_partitions_through_few_files)
{
    const int shuffle = 30;
    ensure_client();
    connect_with(40);
    double reopened = prom_scrape(admin_port, REOPENED);
    push_in_turn(shuffle, 0, MAPS, REDUCES);
    ck_assert_int_eq((int)(prom_scrape(admin_port, REOPENED) - reopened), (MAPS - 1) * REDUCES);
    finalize_and_check(shuffle, all_maps);
}
END_TEST

static int maps_after_crash(int reduce)
{
    return reduce < REDUCES / 2 ? MAPS : MAPS - 1;
}

/* A crash between push and finalize, most partitions' files closed and one block half
 * written: the restart cuts it away; the files are reopened by pushes, or by finalize. */
START_TEST(test_crash_between_push_and_finalize)
{
    const int shuffle = 31, torn = 5;
    ensure_client();
    connect_with(41);
    push_in_turn(shuffle, 0, 3, REDUCES);

    /* map 3's block to reduce 5 half sent: its first 64 KiB piece reaches the data file */
    char data[1200];
    merged_path(shuffle, torn, "data", data, sizeof data);
    ck_assert_msg(data[0] != '\0', "no data file of reduce %d", torn);
    long long committed = 0;
    for (int map = 0; map < 3; map++)
        committed += (long long)block_len(map, torn);
    ck_assert_int_eq(file_size(data), committed);
    size_t body = 100000;
    uint8_t *bytes = malloc(body);
    ck_assert(bytes != NULL);
    push_fixture_pattern(bytes, body, 99);
    int fd = push_fixture_raw_start(shuffled.port, APP, ATTEMPT, shuffle, 3, torn, body);
    ck_assert_int_eq(tc_send_all(fd, bytes, 80000), 0);
    for (int i = 0; i < 200 && file_size(data) == committed; i++)
        usleep(25000);
    ck_assert_msg(file_size(data) > committed, "the piece was not written");
    free(bytes);

    int st = harness_daemon_kill(&shuffled, SIGKILL);
    ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    close(fd);
    shuffle_client_free(cl);
    cl = NULL;
    ck_assert_int_eq(harness_daemon_restart(&shuffled, 0), 0);
    ck_assert_int_eq(file_size(data), committed); /* the torn block cut away at the restart */

    cl = harness_client(0, 100, 30000, false);
    push_ok(shuffle, 0, 0); /* merged already: SUCCESS without its files (and connected) */
    ck_assert_int_eq((int)prom_scrape(admin_port, REOPENED), 0);
    push_in_turn(shuffle, 3, 4, REDUCES); /* every partition's files closed since the restart */
    ck_assert_int_eq((int)prom_scrape(admin_port, REOPENED), REDUCES);

    /* map 4 to half the partitions in one request, several pushes in flight */
    char ids[REDUCES / 2][64];
    const char *idp[REDUCES / 2];
    uint8_t *bodies[REDUCES / 2];
    uint64_t sizes[REDUCES / 2];
    for (int r = 0; r < REDUCES / 2; r++) {
        snprintf(ids[r], sizeof ids[r], "shufflePush_%d_0_%d_%d", shuffle, 4, r);
        idp[r] = ids[r];
        sizes[r] = block_len(4, r);
        bodies[r] = malloc(sizes[r]);
        ck_assert(bodies[r] != NULL);
        push_fixture_pattern(bodies[r], sizes[r], block_pattern(shuffle, 4, r));
    }
    struct shuffle_push_request req;
    harness_push_request(&req, shuffled.port, APP, ATTEMPT, idp, (const uint8_t *const *)bodies,
                         sizes, REDUCES / 2);
    req.max_in_flight = 4;
    struct shuffle_push_outcome *o;
    ck_assert_msg(shuffle_push_blocks_sync(cl, &req, &o) == SHUFFLE_OK, "%s",
                  shuffle_last_error(cl));
    shuffle_push_outcomes_free(o, REDUCES / 2);
    for (int r = 0; r < REDUCES / 2; r++)
        free(bodies[r]);

    /* reduces 6 .. 11 untouched since map 3: finalize reopens those whose files are closed */
    finalize_and_check(shuffle, maps_after_crash);
}
END_TEST

/* RemoveShuffleMerge of a merge whose partitions' files are mostly closed deletes them all. */
START_TEST(test_remove_closed_partitions)
{
    const int shuffle = 32;
    ensure_client();
    connect_with(42);
    push_in_turn(shuffle, 0, 1, REDUCES);
    ck_assert_int_eq(
        shuffle_remove_shuffle_merge(cl, "127.0.0.1", shuffled.port, APP, ATTEMPT, shuffle, 0),
        SHUFFLE_OK);
    for (int r = 0; r < REDUCES; r++)
        for (int i = 0, left = 1; left; i++) {
            char path[1200];
            left = 0;
            for (size_t k = 0; k < 3; k++) {
                merged_path(shuffle, r, (const char *[]){"data", "index", "meta"}[k], path,
                            sizeof path);
                left |= path[0] != '\0';
            }
            ck_assert_msg(!left || i < 100, "reduce %d's files stay after the removal", r);
            if (left)
                usleep(50000);
        }
}
END_TEST

/* push_max_partitions: partitions being merged (not finalized, not removed) are counted. */
START_TEST(test_partition_bound)
{
    const int shuffle = 33;
    ensure_client();
    for (int r = 0; r < MAX_PARTITIONS; r++)
        push_ok(shuffle, 0, r);
    /* The refusal closes the connection (RpcFailure, then the daemon fails the channel, as
     * Spark does); libshuffle tells of it only once it has closed that connection itself, so
     * the push right after it never goes on the closing connection (it failed with
     * "Connection reset by peer" in about half the rounds before). */
    for (int round = 1; round <= 10; round++) {
        struct shuffle_push_outcome o = push_fixture_push_one(cl, shuffled.port, APP, ATTEMPT,
                                                              shuffle, 0, MAX_PARTITIONS, 100, 7);
        ck_assert_int_eq(o.status, SHUFFLE_ESERVER);
        ck_assert_msg(o.error && strstr(o.error, "push_max_partitions"), "%s",
                      o.error ? o.error : "?");
        free(o.error);
        push_ok(shuffle, round, 3); /* an existing partition is no new one */
    }
    struct shuffle_merge_statuses *ms;
    ck_assert_int_eq(
        shuffle_finalize_merge_sync(cl, "127.0.0.1", shuffled.port, APP, ATTEMPT, shuffle, 0, &ms),
        SHUFFLE_OK);
    ck_assert_uint_eq(ms->num_partitions, MAX_PARTITIONS);
    free(ms);
    push_ok(shuffle + 1, 0, 0); /* the finalized ones no longer count */
}
END_TEST

int main(void)
{
    int made = push_fixture_dataset(tmp, sizeof tmp, data_root, sizeof data_root, 2, 2,
                                    "--min-size 16 --max-size 64 --seed 3", ATTEMPT, &man);
    if (made != 0)
        return made;
    char members[256];
    snprintf(members, sizeof members,
             "\"push_enabled\": true, \"push_min_chunk_bytes\": 2000, \"push_max_open_files\": "
             "%d, \"push_max_partitions\": %d",
             OPEN_FILES, MAX_PARTITIONS);
    return push_fixture_run_admin(
        &shuffled, members, &admin_port,
        &(struct check_case){.suite = "push_open_files", .name = "daemon", .timeout_s = 120},
        CHECK_TESTS(test_many_partitions_through_few_files, test_crash_between_push_and_finalize,
                    test_remove_closed_partitions, test_partition_bound),
        &cl, &man, tmp);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The merge manager decides finalizes and removals as Spark 3.4+'s
 * RemoteBlockPushResolver does where a Java driver or pusher can see the
 * difference:
 * - a second FinalizeShuffleMerge of a finalized merge is refused with Spark's
 * "stale shuffle finalize request" text (Spark keeps the merge finalized and
 * throws);
 * - a RemoveShuffleMerge naming a merge the service never got a push for still
 * ends that merge: later pushes of it are TOO_LATE, older ones STALE, and no
 * merged file is created for a shuffle the driver has already removed (the
 * driver sends the removal to every merger, pushed to or not);
 * - a removal is judged against the application's current attempt, also before
 * the new attempt's first push. */
#include <config.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "../check_main.h"
#include "server/push/merge_apps.h"
#include "server/push/merge_manager.h"

#define APP "app-rules"

static char merge_dir[512];

/* APP registered with one merge dir (4 sub dirs) for attempt. */
static void register_attempt(struct merge_apps *t, int32_t attempt)
{
    static char *dir_list[1];
    dir_list[0] = merge_dir;
    struct merge_dirs dirs = {.attempt_id = attempt, .sub_dirs = 4, .n_dirs = 1, .dirs = dir_list};
    ck_assert_int_eq(merge_apps_register(t, APP, &dirs, NULL), 1);
}

static struct merge_apps *apps_new(void)
{
    char *tmp = harness_temp_dir();
    snprintf(merge_dir, sizeof merge_dir, "%s/merge_manager_1", tmp);
    free(tmp);
    ck_assert_int_eq(harness_make_block_dir(merge_dir, 4), 0);
    struct merge_apps *t = merge_apps_create();
    register_attempt(t, 1);
    return t;
}

static struct merge_manager *manager_new(struct merge_apps *apps)
{
    struct merge_limits lim = {.min_chunk_bytes = 1 << 20, .max_open_partitions = 1000};
    struct merge_manager *m = merge_manager_create(&lim, apps);
    ck_assert_ptr_nonnull(m);
    return m;
}

/* The verdict for one push of (attempt, shuffle, merge_id, map 0, reduce 0); a
 * claim it got is written and committed. */
static enum merge_verdict push(struct merge_manager *m, int32_t attempt, int32_t shuffle,
                               int32_t merge_id)
{
    struct merge_push_key k = {APP, attempt, shuffle, merge_id, 0, 0};
    struct merge_claim *cl;
    char err[512] = "";
    enum merge_verdict v = merge_manager_push(m, &k, 3, &cl, err, sizeof err);
    if (v == MERGE_WRITE) {
        ck_assert_int_eq(merge_claim_write(cl, "abc", 3, 0, err, sizeof err), 0);
        ck_assert_int_eq(merge_claim_commit(m, cl, 3, err, sizeof err), MERGE_SUCCESS);
    }
    return v;
}

static size_t files_of(const char *prefix)
{
    char name_prefix[256];
    snprintf(name_prefix, sizeof name_prefix, "shuffleMerged_%s", prefix);
    return harness_count_files(merge_dir, name_prefix);
}

/* A finalize of (attempt, shuffle, merge_id): 0 with its statuses freed, or -1
 * with err. */
static int finalize(struct merge_manager *m, int32_t attempt, int32_t shuffle, int32_t merge_id,
                    char *err, size_t errlen)
{
    struct blockmsg st;
    int rc = merge_manager_finalize(m, APP, attempt, shuffle, merge_id, &st, err, errlen);
    if (rc == 0)
        blockmsg_free(&st);
    return rc;
}

#define STALE_FINALIZE "is stale shuffle finalize request as shuffle blocks of a higher"

START_TEST(test_second_finalize_refused)
{
    struct merge_apps *apps = apps_new();
    struct merge_manager *m = manager_new(apps);
    ck_assert_int_eq(push(m, 1, 0, 0), MERGE_WRITE);
    char err[512] = "";
    ck_assert_int_eq(finalize(m, 1, 0, 0, err, sizeof err), 0);
    ck_assert_int_ne(finalize(m, 1, 0, 0, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "java.lang.RuntimeException: Shuffle merge finalize request for "
                              "shuffle 0 with shuffleMergeId 0 " STALE_FINALIZE),
                  "%s", err);
    ck_assert_uint_eq(files_of(APP "_0_0_"), 3); /* the merge refused again stays as it was */
    /* a shuffle never pushed to: finalized (empty statuses) once, then refused
     * alike */
    ck_assert_int_eq(finalize(m, 1, 4, 0, err, sizeof err), 0);
    ck_assert_int_ne(finalize(m, 1, 4, 0, err, sizeof err), 0);
    ck_assert_msg(strstr(err, STALE_FINALIZE), "%s", err);
    /* a newer merge id of a finalized shuffle is refused alike until a push starts it
     * (Spark's finalizeShuffleMerge throws for isFinalized() whatever the merge id) */
    ck_assert_int_ne(finalize(m, 1, 0, 1, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "shuffle 0 with shuffleMergeId 1 " STALE_FINALIZE), "%s", err);
    ck_assert_uint_eq(files_of(APP "_0_0_"), 3);
    ck_assert_int_eq(push(m, 1, 0, 1), MERGE_WRITE);
    ck_assert_uint_eq(files_of(APP "_0_0_"), 0); /* the older merge's files went */
    ck_assert_int_eq(finalize(m, 1, 0, 1, err, sizeof err), 0);
    merge_manager_destroy(m);
    merge_apps_destroy(apps);
}
END_TEST

START_TEST(test_removal_of_unpushed_merge_ends_it)
{
    struct merge_apps *apps = apps_new();
    struct merge_manager *m = manager_new(apps);
    merge_manager_remove(m, APP, 1, 5, 2); /* the service never got a push of shuffle 5 */
    ck_assert_int_eq(push(m, 1, 5, 2), MERGE_TOO_LATE);
    ck_assert_int_eq(push(m, 1, 5, 1), MERGE_STALE);
    ck_assert_uint_eq(files_of(APP "_5_"), 0);
    char err[512] = "";
    ck_assert_int_ne(finalize(m, 1, 5, 2, err, sizeof err), 0);
    ck_assert_msg(strstr(err, STALE_FINALIZE), "%s", err);
    /* a later stage attempt (newer merge id) merges again */
    ck_assert_int_eq(push(m, 1, 5, 3), MERGE_WRITE);
    /* "all merges" (-1) of a shuffle never pushed to leaves nothing behind */
    merge_manager_remove(m, APP, 1, 6, -1);
    ck_assert_int_eq(push(m, 1, 6, 0), MERGE_WRITE);
    merge_manager_destroy(m);
    merge_apps_destroy(apps);
}
END_TEST

START_TEST(test_removal_judged_by_current_attempt)
{
    struct merge_apps *apps = apps_new();
    struct merge_manager *m = manager_new(apps);
    ck_assert_int_eq(push(m, 1, 0, 0), MERGE_WRITE);
    register_attempt(apps, 2); /* attempt 2 registers; it has pushed nothing yet */
    merge_manager_remove(m, APP, 2, 0, 0);
    ck_assert_int_eq(push(m, 2, 0, 0), MERGE_TOO_LATE);
    ck_assert_uint_eq(files_of(APP "_0_0_"), 0); /* attempt 1's merge went too */
    /* the older attempt's removal changes nothing of the current one */
    merge_manager_remove(m, APP, 1, 1, 0);
    ck_assert_int_eq(push(m, 2, 1, 0), MERGE_WRITE);
    merge_manager_destroy(m);
    merge_apps_destroy(apps);
}
END_TEST

/* Reduce 0 gets a 3-byte block (its chunk closed at the commit: min_chunk_bytes 3), reduce 1
 * a 1-byte block whose chunk finalize must still write. With files limited to 8 bytes that
 * write fails (EFBIG); reduce 0 needs no write and is still answered. */
START_TEST(test_finalize_leaves_out_a_failed_partition)
{
    struct merge_apps *apps = apps_new();
    struct merge_limits lim = {.min_chunk_bytes = 3, .max_open_partitions = 1000};
    struct merge_manager *m = merge_manager_create(&lim, apps);
    char err[512] = "";
    struct merge_claim *cl;
    struct merge_push_key k0 = {APP, 1, 0, 0, 0, 0}, k1 = {APP, 1, 0, 0, 0, 1};
    ck_assert_int_eq(merge_manager_push(m, &k0, 3, &cl, err, sizeof err), MERGE_WRITE);
    ck_assert_int_eq(merge_claim_write(cl, "abc", 3, 0, err, sizeof err), 0);
    ck_assert_int_eq(merge_claim_commit(m, cl, 3, err, sizeof err), MERGE_SUCCESS);
    ck_assert_int_eq(merge_manager_push(m, &k1, 1, &cl, err, sizeof err), MERGE_WRITE);
    ck_assert_int_eq(merge_claim_write(cl, "z", 1, 0, err, sizeof err), 0);
    ck_assert_int_eq(merge_claim_commit(m, cl, 1, err, sizeof err), MERGE_SUCCESS);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, small = {8, 8};
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    small.rlim_max = old.rlim_max;
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    struct blockmsg st;
    int rc = merge_manager_finalize(m, APP, 1, 0, 0, &st, err, sizeof err);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    ck_assert_msg(rc == 0, "finalize failed: %s", err);
    ck_assert_uint_eq(st.u.merge_statuses.reduce_ids.count, 1);
    ck_assert_int_eq(st.u.merge_statuses.reduce_ids.items[0], 0);
    ck_assert_int_eq(st.u.merge_statuses.sizes.items[0], 3);
    blockmsg_free(&st);
    merge_manager_destroy(m);
    merge_apps_destroy(apps);
}
END_TEST

/* Reducers on the host read merged files from disk, possibly under another account: the files
 * are rw-r--r-- even under the unit's UMask=0077 (the executor's 770 merge dir guards them). */
START_TEST(test_merged_files_readable_by_reducers)
{
    mode_t old_mask = umask(077);
    struct merge_apps *apps = apps_new();
    struct merge_manager *m = manager_new(apps);
    ck_assert_int_eq(push(m, 1, 5, 0), MERGE_WRITE);
    umask(old_mask);
    static const char *const ext[] = {"data", "index", "meta"};
    for (int i = 0; i < 3; i++) {
        char path[1024];
        struct stat st;
        bool found = false;
        for (int sub = 0; sub < 4 && !found; sub++) {
            snprintf(path, sizeof path, "%s/%02x/shuffleMerged_%s_5_0_0.%s", merge_dir, sub, APP,
                     ext[i]);
            found = stat(path, &st) == 0;
        }
        ck_assert_msg(found, "no merged .%s file", ext[i]);
        ck_assert_msg((st.st_mode & 07777) == 0644, ".%s has mode %o", ext[i],
                      (unsigned)(st.st_mode & 07777));
    }
    merge_manager_destroy(m);
    merge_apps_destroy(apps);
}
END_TEST

CHECK_MAIN((.suite = "merge_spark_rules", .name = "rules", .timeout_s = 60),
           test_second_finalize_refused, test_removal_of_unpushed_merge_ends_it,
           test_removal_judged_by_current_attempt, test_finalize_leaves_out_a_failed_partition,
           test_merged_files_readable_by_reducers)

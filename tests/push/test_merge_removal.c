/* SPDX-License-Identifier: Apache-2.0 */
/* Removals delete merged files outside the merge manager's lock (merge_removal.c): while an
 * application with many partitions is removed, pushes of another application are decided
 * and merged between the deletions. The hook runs before each partition's files go; in it
 * another application's push must get its verdict from merge_manager_push_fast, which gives
 * up (MERGE_NEED_POOL) whenever the manager's lock is held. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "server/push/merge_apps.h"
#include "server/push/merge_manager.h"
#include "../check_main.h"

#define PARTS 200

static char merge_dir[512];

static struct merge_apps *apps_with(const char *a, const char *b)
{
    char *tmp = harness_temp_dir();
    snprintf(merge_dir, sizeof merge_dir, "%s/merge_manager_1", tmp);
    free(tmp);
    ck_assert_int_eq(harness_make_block_dir(merge_dir, 4), 0);
    static char *dir_list[1];
    dir_list[0] = merge_dir;
    struct merge_dirs dirs = {1, 4, 1, dir_list};
    struct merge_apps *t = merge_apps_create();
    ck_assert_int_eq(merge_apps_register(t, a, &dirs, NULL), 1);
    ck_assert_int_eq(merge_apps_register(t, b, &dirs, NULL), 1);
    return t;
}

/* One block of map into (app, shuffle 0, merge 0, reduce), written and committed. */
static void merge_block(struct merge_manager *m, const char *app, int32_t map, int32_t reduce,
                        bool on_loop)
{
    struct merge_push_key k = {app, 1, 0, 0, map, reduce};
    struct merge_claim *cl;
    char err[512] = "";
    enum merge_verdict v = on_loop ? merge_manager_push_fast(m, &k, 3, &cl)
                                   : merge_manager_push(m, &k, 3, &cl, err, sizeof err);
    ck_assert_msg(v == MERGE_WRITE, "push of %s map %d: verdict %d %s", app, map, v, err);
    ck_assert_int_eq(merge_claim_write(cl, "abc", 3, 0, err, sizeof err), 0);
    ck_assert_int_eq(merge_claim_commit(m, cl, 3, err, sizeof err), MERGE_SUCCESS);
}

static size_t files_of(const char *app)
{
    char prefix[256];
    snprintf(prefix, sizeof prefix, "shuffleMerged_%s_", app);
    return harness_count_files(merge_dir, prefix);
}

struct during {
    struct merge_manager *m;
    int deletions;
};

/* Before each of app-big's partitions is deleted: app-small's next block is decided on the
 * "loop" (never waiting for the lock) and merged. */
static void push_other_app(void *arg)
{
    struct during *d = arg;
    merge_block(d->m, "app-small", 1 + d->deletions, 0, true);
    d->deletions++;
}

START_TEST(test_removal_lets_other_pushes_through)
{
    struct merge_apps *apps = apps_with("app-big", "app-small");
    struct merge_limits lim = {.min_chunk_bytes = 1 << 20, .max_open_partitions = 1000};
    struct merge_manager *m = merge_manager_create(&lim, apps);
    for (int32_t r = 0; r < PARTS; r++)
        merge_block(m, "app-big", 0, r, false);
    merge_block(m, "app-small", 0, 0, false);
    ck_assert_uint_eq(files_of("app-big"), 3 * PARTS);

    struct during d = {m, 0};
    merge_manager_set_drop_hook(m, push_other_app, &d);
    merge_manager_app_removed(m, "app-big", true);
    merge_manager_set_drop_hook(m, NULL, NULL);

    ck_assert_int_eq(d.deletions, PARTS); /* a push of app-small merged before each */
    ck_assert_uint_eq(files_of("app-big"), 0);
    ck_assert_uint_eq(files_of("app-small"), 3);
    struct blockmsg st;
    char err[512];
    ck_assert_int_eq(merge_manager_finalize(m, "app-small", 1, 0, 0, &st, err, sizeof err), 0);
    ck_assert_uint_eq(st.u.merge_statuses.sizes.count, 1);
    ck_assert_int_eq(st.u.merge_statuses.sizes.items[0], 3 * (PARTS + 1));
    blockmsg_free(&st);
    ck_assert_uint_eq(merge_manager_open_partitions(m), 0);
    merge_manager_destroy(m);
    merge_apps_destroy(apps);
}
END_TEST

/* RemoveShuffleMerge and a newer shuffleMergeId delete the same way, and a partition being
 * written when its merge is dropped is not deleted under its writer's feet: the writer's
 * commit says STALE and nothing of it stays. */
START_TEST(test_superseded_merge_deleted_after_the_lock)
{
    struct merge_apps *apps = apps_with("app-a", "app-small");
    struct merge_limits lim = {.min_chunk_bytes = 1 << 20, .max_open_partitions = 1000};
    struct merge_manager *m = merge_manager_create(&lim, apps);
    for (int32_t r = 0; r < 10; r++)
        merge_block(m, "app-a", 0, r, false);
    merge_block(m, "app-small", 0, 0, false);
    struct merge_push_key k = {"app-a", 1, 0, 0, 7, 3};
    struct merge_claim *writer;
    char err[512];
    ck_assert_int_eq(merge_manager_push(m, &k, 3, &writer, err, sizeof err), MERGE_WRITE);

    struct during d = {m, 0};
    merge_manager_set_drop_hook(m, push_other_app, &d);
    struct merge_push_key newer = {"app-a", 1, 0, 1, 0, 0}; /* merge id 1 drops merge 0 */
    struct merge_claim *cl;
    ck_assert_int_eq(merge_manager_push(m, &newer, 3, &cl, err, sizeof err), MERGE_WRITE);
    merge_manager_set_drop_hook(m, NULL, NULL);
    ck_assert_int_eq(d.deletions, 10);
    ck_assert_int_eq(merge_claim_commit(m, cl, 0, err, sizeof err), MERGE_SUCCESS);
    ck_assert_int_eq(merge_claim_write(writer, "xyz", 3, 0, err, sizeof err), 0);
    ck_assert_int_eq(merge_claim_commit(m, writer, 3, err, sizeof err), MERGE_STALE);
    ck_assert_uint_eq(files_of("app-a_0_0"), 0);
    ck_assert_uint_eq(files_of("app-a_0_1"), 3);

    merge_manager_remove(m, "app-a", 1, 0, -1);
    ck_assert_uint_eq(files_of("app-a"), 0);
    merge_manager_destroy(m);
    merge_apps_destroy(apps);
}
END_TEST

CHECK_MAIN((.suite = "merge_removal", .name = "removal", .timeout_s = 60),
           test_removal_lets_other_pushes_through, test_superseded_merge_deleted_after_the_lock)

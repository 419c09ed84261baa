/* SPDX-License-Identifier: Apache-2.0 */
/* The merge manager's partitions under push_max_open_files (merge_parts.c), through its API:
 * the least recently used partition nobody writes has its files closed for a new one; with
 * every open partition being written the bound is exceeded, and falls back at the next
 * opening; the loop's verdict never claims a partition whose files are closed (the pool's
 * reopens them) but still answers a duplicate; an aborted block on a reopened partition is
 * cut away; finalize reopens closed partitions and the merged files are exact;
 * push_max_partitions counts partitions until their merge is finalized. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/push/merge_apps.h"
#include "server/push/merge_manager.h"
#include "../check_main.h"

static char merge_dir[512];
static struct merge_apps *apps;

static void setup(void)
{
    char *tmp = harness_temp_dir();
    snprintf(merge_dir, sizeof merge_dir, "%s/merge_manager_1", tmp);
    free(tmp);
    ck_assert_int_eq(harness_make_block_dir(merge_dir, 4), 0);
    static char *dir_list[1];
    dir_list[0] = merge_dir;
    struct merge_dirs dirs = {1, 4, 1, dir_list};
    apps = merge_apps_create();
    ck_assert_int_eq(merge_apps_register(apps, "app", &dirs, NULL), 1);
}

static void teardown(void)
{
    merge_apps_destroy(apps);
}

static struct merge_manager *manager(uint64_t open_partitions, uint64_t partitions)
{
    struct merge_limits lim = {
        .min_chunk_bytes = 4, .max_open_partitions = open_partitions, .max_partitions = partitions};
    return merge_manager_create(&lim, apps);
}

/* The claim of (shuffle, map, reduce) decided on the pool (loop: on the loop), verdict v. */
static struct merge_claim *claim(struct merge_manager *m, int32_t shuffle, int32_t map,
                                 int32_t reduce, bool loop, enum merge_verdict want)
{
    struct merge_push_key k = {"app", 1, shuffle, 0, map, reduce};
    struct merge_claim *cl = NULL;
    char err[512] = "";
    enum merge_verdict v = loop ? merge_manager_push_fast(m, &k, 3, &cl)
                                : merge_manager_push(m, &k, 3, &cl, err, sizeof err);
    ck_assert_msg(v == want, "shuffle %d map %d reduce %d: verdict %d, want %d %s", shuffle, map,
                  reduce, v, want, err);
    return cl;
}

/* Block "<map><map><map>" written and committed through cl. */
static void commit(struct merge_manager *m, struct merge_claim *cl, int32_t map)
{
    char body[3], err[512];
    memset(body, '0' + map, 3);
    ck_assert_int_eq(merge_claim_write(cl, body, 3, 0, err, sizeof err), 0);
    ck_assert_int_eq(merge_claim_commit(m, cl, 3, err, sizeof err), MERGE_SUCCESS);
}

static void merge_block(struct merge_manager *m, int32_t shuffle, int32_t map, int32_t reduce)
{
    commit(m, claim(m, shuffle, map, reduce, false, MERGE_WRITE), map);
}

/* The merged data file of (shuffle, merge 0, reduce). */
static char *data_file(int32_t shuffle, int32_t reduce, size_t *len)
{
    char path[1024];
    struct merge_dirs dirs = {1, 4, 1, (char *[]){merge_dir}};
    ck_assert_int_eq(
        merged_file_path(&dirs, "app", shuffle, 0, reduce, MERGED_DATA, path, sizeof path), 0);
    char *b = (char *)harness_read_file(path, len);
    ck_assert(b != NULL);
    return b;
}

START_TEST(test_least_recently_used_idle_closed)
{
    struct merge_manager *m = manager(2, 0);
    merge_block(m, 0, 0, 0);
    merge_block(m, 0, 0, 1);
    ck_assert_uint_eq(merge_manager_open_partitions(m), 2);
    merge_block(m, 0, 1, 0); /* 0 used last: 1 is the least recently used */
    merge_block(m, 0, 0, 2); /* closes 1 */
    ck_assert_uint_eq(merge_manager_open_partitions(m), 2);
    claim(m, 0, 1, 1, true, MERGE_NEED_POOL);           /* 1 is closed: the pool reopens it */
    commit(m, claim(m, 0, 2, 0, true, MERGE_WRITE), 2); /* 0 is open: on the loop */
    ck_assert_uint_eq(merge_manager_open_partitions(m), 2);
    merge_manager_destroy(m);
}
END_TEST

START_TEST(test_all_busy_exceeds_then_falls_back)
{
    struct merge_manager *m = manager(2, 0);
    struct merge_claim *a = claim(m, 0, 0, 0, false, MERGE_WRITE);
    struct merge_claim *b = claim(m, 0, 0, 1, false, MERGE_WRITE);
    struct merge_claim *c = claim(m, 0, 0, 2, false, MERGE_WRITE); /* both others written */
    ck_assert_uint_eq(merge_manager_open_partitions(m), 3);
    commit(m, a, 0);
    commit(m, b, 0);
    commit(m, c, 0);
    ck_assert_uint_eq(merge_manager_open_partitions(m), 3);
    merge_block(m, 0, 0, 3); /* 0 and 1 closed: back within the bound */
    ck_assert_uint_eq(merge_manager_open_partitions(m), 2);
    /* a writer holding the least recently used one: the next is closed instead */
    struct merge_claim *w = claim(m, 0, 1, 2, false, MERGE_WRITE);
    merge_block(m, 0, 1, 3); /* 2 (being written) is now the least recently used */
    merge_block(m, 0, 1, 0); /* closes 3, not 2 */
    claim(m, 0, 2, 3, true, MERGE_NEED_POOL);
    claim(m, 0, 2, 2, true, MERGE_BUSY);
    commit(m, w, 1);
    ck_assert_uint_eq(merge_manager_open_partitions(m), 2);
    merge_manager_destroy(m);
}
END_TEST

START_TEST(test_closed_partitions_finalize_exact)
{
    struct merge_manager *m = manager(1, 0);
    for (int32_t map = 0; map < 3; map++)
        for (int32_t r = 0; r < 4; r++)
            merge_block(m, 5, map, r);
    /* a duplicate is answered on the loop with the files closed; a new map goes to the pool */
    claim(m, 5, 1, 0, true, MERGE_DUPLICATE);
    claim(m, 5, 3, 0, true, MERGE_NEED_POOL);
    /* an aborted block on a reopened partition leaves nothing */
    struct merge_claim *cl = claim(m, 5, 3, 0, false, MERGE_WRITE);
    char err[512];
    ck_assert_int_eq(merge_claim_write(cl, "zzzzzz", 6, 0, err, sizeof err), 0);
    merge_claim_abort(m, cl);
    merge_block(m, 5, 9, 1); /* closes 0 with its cut data file */
    size_t len;
    char *b = data_file(5, 0, &len);
    ck_assert_uint_eq(len, 9);
    ck_assert(memcmp(b, "000111222", 9) == 0);
    free(b);
    struct blockmsg st;
    ck_assert_int_eq(merge_manager_finalize(m, "app", 1, 5, 0, &st, err, sizeof err), 0);
    ck_assert_uint_eq(st.u.merge_statuses.reduce_ids.count, 4);
    for (uint32_t r = 0; r < 4; r++) {
        ck_assert_int_eq(st.u.merge_statuses.reduce_ids.items[r], (int32_t)r);
        ck_assert_int_eq(st.u.merge_statuses.sizes.items[r], r == 1 ? 12 : 9);
        b = data_file(5, (int32_t)r, &len);
        ck_assert_uint_eq(len, r == 1 ? 12 : 9);
        ck_assert(memcmp(b, r == 1 ? "000111222999" : "000111222", len) == 0);
        free(b);
    }
    blockmsg_free(&st);
    ck_assert_uint_eq(merge_manager_open_partitions(m), 0);
    merge_manager_destroy(m);
}
END_TEST

START_TEST(test_partition_bound)
{
    struct merge_manager *m = manager(1, 3);
    for (int32_t r = 0; r < 3; r++)
        merge_block(m, 0, 0, r);
    ck_assert_uint_eq(merge_manager_merging_partitions(m), 3);
    struct merge_push_key k = {"app", 1, 1, 0, 0, 0};
    struct merge_claim *cl;
    char err[512] = "";
    ck_assert_int_eq(merge_manager_push(m, &k, 3, &cl, err, sizeof err), MERGE_FAILED);
    ck_assert_msg(strstr(err, "push_max_partitions") != NULL, "%s", err);
    merge_block(m, 0, 1, 2); /* an existing partition */
    struct blockmsg st;
    ck_assert_int_eq(merge_manager_finalize(m, "app", 1, 0, 0, &st, err, sizeof err), 0);
    blockmsg_free(&st);
    ck_assert_uint_eq(merge_manager_merging_partitions(m), 0);
    merge_block(m, 1, 0, 0);
    merge_manager_remove(m, "app", 1, 1, 0);
    ck_assert_uint_eq(merge_manager_merging_partitions(m), 0);
    merge_manager_destroy(m);
}
END_TEST

CHECK_MAIN((.suite = "merge_open_parts", .name = "parts", .timeout_s = 60, .setup = setup,
            .teardown = teardown),
           test_least_recently_used_idle_closed, test_all_busy_exceeds_then_falls_back,
           test_closed_partitions_finalize_exact, test_partition_bound)

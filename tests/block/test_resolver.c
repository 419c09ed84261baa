/* SPDX-License-Identifier: Apache-2.0 */
/* Registry and block resolution against the recorded dataset: every block of
 * vectors/manifest.tsv resolves to the file and byte range Spark used. */
#include <config.h>

#include <check.h>
#include <stdint.h>
#include <string.h>

#include "server/block/blockid.h"
#include "server/block/index_cache.h"
#include "server/block/resolver.h"
#include "test_util_block.h"
#include "../check_main.h"

static char *copy_dataset(void)
{
    char *dir = harness_temp_dir();
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "cp -r '%s/vectors/data' '%s/'", harness_shared_dir(), dir);
    ck_assert_int_eq(system(cmd), 0);
    return dir;
}

static void info_for(const char *root, struct executor_info *info, char **dirs)
{
    static char d0[512], d1[512];
    snprintf(d0, sizeof(d0), "%s/data/blockmgr-0", root);
    snprintf(d1, sizeof(d1), "%s/data/blockmgr-1", root);
    dirs[0] = d0;
    dirs[1] = d1;
    /* every field set: canonical_dirs must be NULL, not whatever the stack held */
    *info = (struct executor_info){.local_dirs = dirs,
                                   .n_dirs = 2,
                                   .sub_dirs = 64,
                                   .shuffle_manager =
                                       "org.apache.spark.shuffle.sort.SortShuffleManager"};
}

START_TEST(test_manifest_blocks)
{
    char *root = copy_dataset();
    struct resolver *r = resolver_create(1 << 20);
    struct executor_info info;
    char *dirs[2];
    info_for(root, &info, dirs);
    ck_assert_int_eq(resolver_register(r, "app-cap", "1", &info), 0);
    ck_assert_int_eq(resolver_count(r), 1);

    char err[1024];
    FILE *f = open_in(harness_shared_dir(), "vectors/manifest.tsv");
    int blocks = 0;
    struct manifest_row row;
    while (manifest_next(f, &row)) {
        struct block_location loc;
        resolve_block_id(r, "app-cap", "1", row.id, &loc);
        ck_assert(!loc.missing);
        /* same path below data/ */
        const char *want = strstr(row.file, "/data/");
        ck_assert_msg(strstr(loc.path, want) != NULL &&
                          strlen(strstr(loc.path, want)) == strlen(want),
                      "%s: %s vs %s", row.id, loc.path, row.file);
        ck_assert_uint_eq(loc.offset, row.offset);
        ck_assert_uint_eq(loc.length, row.size);
        free(loc.path);
        blocks++;
    }
    fclose(f);
    ck_assert_int_eq(blocks, 16);

    /* batch [1,4) of map 0 = the bytes of reduces 1..3 */
    struct block_location loc;
    ck_assert_int_eq(resolver_shuffle_range(r, "app-cap", "1", 0, 0, 1, 4, &loc, err, sizeof(err)),
                     0);
    ck_assert_uint_eq(loc.offset, 103);
    ck_assert_uint_eq(loc.length, 68 + 148 + 84);
    free(loc.path);
    /* out of range reduce, missing map output, missing rdd, unknown executor */
    ck_assert_int_lt(resolver_shuffle_range(r, "app-cap", "1", 0, 0, 4, 5, &loc, err, sizeof(err)),
                     0);
    ck_assert_str_eq(err, "java.lang.IndexOutOfBoundsException");
    ck_assert_int_lt(resolver_shuffle_range(r, "app-cap", "1", 0, 9, 0, 1, &loc, err, sizeof(err)),
                     0);
    char want[1024];
    snprintf(want, sizeof(want),
             "java.lang.RuntimeException: Failed to open file: %s/data/blockmgr-1/3c/"
             "shuffle_0_9_0.index",
             root);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
    ck_assert_int_eq(resolver_rdd_block(r, "app-cap", "1", 3, 9, &loc, err, sizeof(err)), 0);
    ck_assert(loc.missing && loc.path == NULL);
    ck_assert_int_lt(resolver_rdd_block(r, "app-cap", "2", 3, 0, &loc, err, sizeof(err)), 0);
    ck_assert_str_eq(err, "java.lang.RuntimeException: Executor is not registered (appId=app-cap, "
                          "execId=2)");
    resolver_destroy(r);
    harness_rm_rf(root);
    free(root);
}
END_TEST

static void count_cb(void *arg, const char *app, const char *exec, const struct executor_info *i)
{
    (*(int *)arg)++;
}

START_TEST(test_registry_ops)
{
    struct resolver *r = resolver_create(1 << 20);
    char *d1[] = {"/a", "/b"};
    char *d2[] = {"/c"};
    struct executor_info i1 = {d1, 2, 64, "m", NULL}, i2 = {d2, 1, 8, "m2", NULL}, got;
    char name[32];
    /* enough entries to force table growth */
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "%d", i);
        ck_assert_int_eq(resolver_register(r, i % 2 ? "app-1" : "app-2", name, &i1), 0);
    }
    ck_assert_int_eq(resolver_count(r), 300);
    ck_assert_int_eq(resolver_register(r, "app-1", "1", &i2), 0); /* overwrite */
    ck_assert_int_eq(resolver_count(r), 300);
    ck_assert_int_eq(resolver_get(r, "app-1", "1", &got), 0);
    ck_assert_int_eq(got.n_dirs, 1);
    ck_assert_str_eq(got.local_dirs[0], "/c");
    ck_assert_int_eq(got.sub_dirs, 8);
    executor_info_free(&got);
    ck_assert_int_lt(resolver_get(r, "app-3", "1", &got), 0);
    int n = 0;
    resolver_foreach(r, count_cb, &n);
    ck_assert_int_eq(n, 300);
    struct executor_info *removed;
    size_t k = resolver_remove_app(r, "app-1", &removed);
    ck_assert_int_eq(k, 150);
    for (size_t i = 0; i < k; i++)
        executor_info_free(&removed[i]);
    free(removed);
    ck_assert_int_eq(resolver_count(r), 150);
    ck_assert_int_lt(resolver_get(r, "app-1", "1", &got), 0);
    ck_assert_int_eq(resolver_get(r, "app-2", "0", &got), 0);
    executor_info_free(&got);
    char buf[256], err[256];
    ck_assert_int_eq(
        resolver_file_path(r, "app-2", "0", "rdd_1_2", buf, sizeof(buf), err, sizeof(err)), 0);
    ck_assert_str_eq(buf, "/b/2b/rdd_1_2"); /* nn 1054351959: dir 1, (nn/2)%64 = 0x2b */
    resolver_destroy(r);
}
END_TEST

CHECK_MAIN((.suite = "resolver", .name = "core", .needs_shared_vectors = true),
           test_manifest_blocks, test_registry_ops)

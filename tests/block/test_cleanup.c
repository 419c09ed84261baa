/* SPDX-License-Identifier: Apache-2.0 */
/* applicationRemoved / executorRemoved delete exactly what Spark's do. */
#include <config.h>

#include <check.h>
#include <string.h>

#include "server/block/cleanup.h"
#include "test_util_block.h"
#include "../check_main.h"

static void mk(const char *root, const char *rel)
{
    char p[1024];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    char *slash = strrchr(p, '/');
    *slash = 0;
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", p);
    ck_assert_int_eq(system(cmd), 0);
    *slash = '/';
    ck_assert_int_eq(harness_write_file(p, "x", 1), 0);
}

static bool exists(const char *root, const char *rel)
{
    char p[1024];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    return harness_path_exists(p);
}

static void layout(const char *root)
{
    mk(root, "e0/blockmgr-0/0c/shuffle_0_1_0.data");
    mk(root, "e0/blockmgr-0/0d/shuffle_0_1_0.index");
    mk(root, "e0/blockmgr-0/11/rdd_3_1");
    mk(root, "e0/blockmgr-0/11/temp_shuffle_abc");
    mk(root, "e0/blockmgr-0/22/broadcast_0");
    mk(root, "e0/blockmgr-1/0a/temp_local_1");
    mk(root, "e1/blockmgr-0/01/shuffle_0_2_0.data");
    mk(root, "outside/keep-me");
}

static void reg(struct resolver *r, const char *root, const char *app, const char *exec,
                const char *e)
{
    char d0[512], d1[512];
    snprintf(d0, sizeof(d0), "%s/%s/blockmgr-0", root, e);
    snprintf(d1, sizeof(d1), "%s/%s/blockmgr-1", root, e);
    char *dirs[] = {d0, d1};
    struct executor_info info = {dirs, 2, 64, "m", NULL};
    ck_assert_int_eq(resolver_register(r, app, exec, &info), 0);
}

START_TEST(test_executor_removed)
{
    for (int rdd = 0; rdd <= 1; rdd++) {
        char *root = harness_temp_dir();
        layout(root);
        /* a symlink to outside must be removed as a link, never followed */
        char lnk[1024], target[1024];
        snprintf(lnk, sizeof(lnk), "%s/e0/blockmgr-0/22/link", root);
        snprintf(target, sizeof(target), "%s/outside", root);
        ck_assert_int_eq(symlink(target, lnk), 0);
        struct resolver *r = resolver_create(1 << 16);
        reg(r, root, "app-1", "0", "e0");
        ck_assert_int_eq(cleanup_executor_removed(r, "app-1", "9", rdd), -1);
        long n = cleanup_executor_removed(r, "app-1", "0", rdd);
        ck_assert_int_eq(n, rdd ? 4 : 5);
        ck_assert(exists(root, "e0/blockmgr-0/0c/shuffle_0_1_0.data"));
        ck_assert(exists(root, "e0/blockmgr-0/0d/shuffle_0_1_0.index"));
        ck_assert(exists(root, "e0/blockmgr-0/11/rdd_3_1") == (rdd == 1));
        ck_assert(!exists(root, "e0/blockmgr-0/11/temp_shuffle_abc"));
        ck_assert(!exists(root, "e0/blockmgr-0/22")); /* emptied dirs go */
        ck_assert(!exists(root, "e0/blockmgr-1"));    /* the local dir too, once empty */
        ck_assert(exists(root, "outside/keep-me"));
        ck_assert(exists(root, "e1/blockmgr-0/01/shuffle_0_2_0.data"));
        ck_assert_int_eq(resolver_count(r), 1); /* registration kept */
        resolver_destroy(r);
        harness_rm_rf(root);
        free(root);
    }
}
END_TEST

START_TEST(test_application_removed)
{
    const char *root = harness_test_dir();
    char state[1024], err[256];
    snprintf(state, sizeof(state), "%s/state", root);
    layout(root);
    struct resolver *r;
    struct registry_store *s = store_open(state, &r, NULL);
    reg(r, root, "app-1", "0", "e0");
    reg(r, root, "app-2", "0", "e1");
    /* without deleting dirs: registry drops it, files stay */
    ck_assert_int_eq(cleanup_application_removed(r, s, "app-2", false, err, sizeof(err)), 1);
    ck_assert_int_eq(resolver_count(r), 1);
    ck_assert(exists(root, "e1/blockmgr-0/01/shuffle_0_2_0.data"));
    /* with deleting: every local dir of the app goes, nothing else */
    ck_assert_int_eq(cleanup_application_removed(r, s, "app-1", true, err, sizeof(err)), 1);
    ck_assert_int_eq(resolver_count(r), 0);
    ck_assert(!exists(root, "e0/blockmgr-0"));
    ck_assert(!exists(root, "e0/blockmgr-1"));
    ck_assert(exists(root, "e0"));
    ck_assert(exists(root, "outside/keep-me"));
    ck_assert(exists(root, "e1/blockmgr-0/01/shuffle_0_2_0.data"));
    ck_assert_int_eq(cleanup_application_removed(r, s, "app-9", true, err, sizeof(err)), 0);
    store_close(s, r);
}
END_TEST

CHECK_MAIN((.suite = "cleanup", .name = "core"), test_executor_removed, test_application_removed)

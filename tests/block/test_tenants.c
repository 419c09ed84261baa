/* SPDX-License-Identifier: Apache-2.0 */
/* Registration limits and dir ownership below the daemon: tenants.c (who holds which dir,
 * equal / parent / child conflicts), the resolver's admission (limits, re-registration, the
 * dirs of a removed application held until its cleanup is done, ownership rebuilt from the
 * registration log), and the log staying compact under churn. */
#include <config.h>

#include <check.h>
#include <string.h>
#include <sys/stat.h>

#include "server/block/cleanup.h"
#include "server/block/registry_store.h"
#include "server/block/resolver.h"
#include "server/block/tenants.h"
#include "test_util_block.h"
#include "../check_main.h"

START_TEST(test_conflicts_equal_parent_child)
{
    struct tenants *t = tenants_create();
    char *a[] = {"/data/app-a/blockmgr-0", "/data/app-a/blockmgr-1"};
    ck_assert_int_eq(tenants_hold_dirs(t, "A", a, 2), 0);
    char *equal[] = {"/data/app-a/blockmgr-1"}, *parent[] = {"/data/app-a"},
         *child[] = {"/data/app-a/blockmgr-0/sub"}, *root[] = {"/"},
         *sibling[] = {"/data/app-a/blockmgr-2", "/data/app-b"},
         *prefix_only[] = {"/data/app-a/blockmgr-00"};
    ck_assert_int_eq(tenants_conflict(t, "B", equal, 1), 0);
    ck_assert_int_eq(tenants_conflict(t, "B", parent, 1), 0);
    ck_assert_int_eq(tenants_conflict(t, "B", child, 1), 0);
    ck_assert_int_eq(tenants_conflict(t, "B", root, 1), 0);
    ck_assert_int_eq(tenants_conflict(t, "B", sibling, 2), -1);
    ck_assert_int_eq(tenants_conflict(t, "B", prefix_only, 1), -1); /* a name prefix is no parent */
    /* the owner itself may name them again, or dirs around them */
    ck_assert_int_eq(tenants_conflict(t, "A", equal, 1), -1);
    ck_assert_int_eq(tenants_conflict(t, "A", parent, 1), -1);
    ck_assert_int_eq(tenants_conflict(t, "A", child, 1), -1);
    /* the index of the first conflicting dir */
    char *second[] = {"/data/app-b", "/data/app-a/blockmgr-0"};
    ck_assert_int_eq(tenants_conflict(t, "B", second, 2), 1);
    /* two holds (two executors) on a dir: it stays owned until both are dropped */
    ck_assert_int_eq(tenants_hold_dirs(t, "A", equal, 1), 0);
    tenants_drop_dirs(t, "A", a, 2);
    ck_assert_int_eq(tenants_conflict(t, "B", equal, 1), 0);
    ck_assert_int_eq(tenants_conflict(t, "B", child, 1), -1); /* blockmgr-0 released */
    tenants_drop_dirs(t, "A", equal, 1);
    ck_assert_int_eq(tenants_conflict(t, "B", parent, 1), -1);
    ck_assert_int_eq(tenants_conflict(t, "B", root, 1), -1);
    /* the root held: everything conflicts */
    ck_assert_int_eq(tenants_hold_dirs(t, "B", root, 1), 0);
    ck_assert_int_eq(tenants_conflict(t, "A", a, 2), 0);
    tenants_drop_dirs(t, "B", root, 1);
    ck_assert_int_eq(tenants_conflict(t, "A", a, 2), -1);
    /* executor counts */
    ck_assert_int_eq(tenants_count_executor(t, "A", 1), 0);
    ck_assert_int_eq(tenants_count_executor(t, "A", 1), 0);
    ck_assert_int_eq(tenants_count_executor(t, "B", 1), 0);
    ck_assert_uint_eq(tenants_executors(t, "A"), 2);
    ck_assert_uint_eq(tenants_executors_total(t), 3);
    ck_assert_int_eq(tenants_count_executor(t, "A", -1), 0);
    ck_assert_uint_eq(tenants_executors(t, "A"), 1);
    ck_assert_uint_eq(tenants_executors(t, "C"), 0);
    tenants_destroy(t);
}
END_TEST

START_TEST(test_canonical_dir)
{
    const char *tmp = harness_test_dir();
    char real[600], link[600];
    snprintf(real, sizeof(real), "%s/real", tmp);
    snprintf(link, sizeof(link), "%s/link", tmp);
    ck_assert_int_eq(mkdir(real, 0700), 0);
    ck_assert_int_eq(symlink(real, link), 0);
    char *c = tenants_canonical_dir(link);
    char *want = realpath(real, NULL);
    ck_assert_str_eq(c, want); /* a link names its target's dir */
    free(c);
    free(want);
    c = tenants_canonical_dir("//not//there/yet//");
    ck_assert_str_eq(c, "/not/there/yet");
    free(c);
    c = tenants_canonical_dir("///");
    ck_assert_str_eq(c, "/");
    free(c);
}
END_TEST

static enum resolver_refusal admit(struct resolver *r, const char *app, const char *exec, char *dir,
                                   char *err)
{
    char *dirs[1] = {dir};
    struct executor_info info = {dirs, 1, 4, "m", NULL};
    enum resolver_refusal why = resolver_admit(r, app, exec, &info, err, 512);
    if (why == RESOLVER_ADMITTED)
        ck_assert_int_eq(resolver_register(r, app, exec, &info), 0);
    return why;
}

START_TEST(test_limits_and_reregistration)
{
    struct resolver *r = resolver_create(1 << 16);
    char err[512];
    resolver_set_limits(r, 2, 3);
    ck_assert_int_eq(admit(r, "A", "0", "/d/a0", err), RESOLVER_ADMITTED);
    ck_assert_int_eq(admit(r, "A", "1", "/d/a1", err), RESOLVER_ADMITTED);
    ck_assert_int_eq(admit(r, "A", "2", "/d/a2", err), RESOLVER_REFUSED_PER_APP);
    ck_assert_msg(strstr(err, "max_executors_per_app") && strstr(err, "already has 2"), "%s", err);
    /* at the limit, a re-registration (even with another dir) is no new executor */
    ck_assert_int_eq(admit(r, "A", "1", "/d/a1-new", err), RESOLVER_ADMITTED);
    ck_assert_int_eq(admit(r, "B", "0", "/d/a1", err), RESOLVER_ADMITTED); /* released */
    ck_assert_int_eq(admit(r, "B", "0", "/d/a1-new", err), RESOLVER_REFUSED_DIR_OWNED);
    ck_assert_msg(strstr(err, "SecurityException") && strstr(err, "another application"), "%s",
                  err);
    ck_assert_int_eq(admit(r, "C", "0", "/d/c0", err), RESOLVER_REFUSED_TOTAL);
    ck_assert_msg(strstr(err, "max_executors") && !strstr(err, "max_executors_per_app") &&
                      strstr(err, "3 executors are registered"),
                  "%s", err);
    /* SIGHUP raises the limits */
    resolver_set_limits(r, 3, 10);
    ck_assert_int_eq(admit(r, "A", "2", "/d/a2", err), RESOLVER_ADMITTED);
    ck_assert_int_eq(admit(r, "C", "0", "/d/c0", err), RESOLVER_ADMITTED);
    /* removal with the infos handed over: the dirs stay A's until released */
    struct executor_info *gone = NULL;
    size_t n = resolver_remove_app(r, "A", &gone);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(admit(r, "B", "2", "/d/a0", err), RESOLVER_REFUSED_DIR_OWNED);
    ck_assert(resolver_dir_owned_by_other(r, "B", "/d/a2"));
    resolver_release_dirs(r, "A", gone, n);
    for (size_t i = 0; i < n; i++)
        executor_info_free(&gone[i]);
    free(gone);
    ck_assert_int_eq(admit(r, "B", "2", "/d/a0", err), RESOLVER_ADMITTED);
    /* removal without: released at once */
    ck_assert_uint_eq(resolver_remove_app(r, "B", NULL), 2);
    ck_assert_int_eq(admit(r, "C", "1", "/d/a0", err), RESOLVER_ADMITTED);
    resolver_destroy(r);
}
END_TEST

static int store_put(struct registry_store *s, const char *app, const char *exec, char *dir,
                     char *err)
{
    char *dirs[1] = {dir};
    struct executor_info info = {dirs, 1, 4, "org.apache.spark.shuffle.sort.SortShuffleManager",
                                 NULL};
    return registry_store_put(s, app, exec, &info, err, 512);
}

START_TEST(test_ownership_survives_restart)
{
    const char *tmp = harness_test_dir();
    char err[512];
    struct resolver *r;
    struct registry_store *s = store_open(tmp, &r, NULL);
    ck_assert_int_eq(store_put(s, "A", "0", "/x/a", err), 0);
    ck_assert_int_eq(store_put(s, "B", "0", "/x/a/inner", err), RESOLVER_REFUSED_DIR_OWNED);
    store_close(s, r);
    s = store_open(tmp, &r, NULL);
    ck_assert_int_eq(store_put(s, "B", "0", "/x", err), RESOLVER_REFUSED_DIR_OWNED);
    ck_assert_int_eq(store_put(s, "A", "1", "/x/a", err), 0); /* the owner again */
    ck_assert_int_eq(registry_store_remove_app(s, "A", err, sizeof(err)), 0);
    ck_assert_int_eq(store_put(s, "B", "0", "/x", err), 0);
    store_close(s, r);
}
END_TEST

static long wal_size(const char *dir)
{
    char p[700];
    snprintf(p, sizeof(p), "%s/registrations.wal", dir);
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    return (long)st.st_size;
}

START_TEST(test_log_compact_under_churn)
{
    const char *tmp = harness_test_dir();
    char err[512], app[32], dir[64];
    struct resolver *r;
    struct registry_store *s = store_open(tmp, &r, NULL);
    /* 4000 apps of one executor each (~130 bytes a record, ~520 KB live) */
    enum { APPS = 4000 };
    for (int i = 0; i < APPS; i++) {
        snprintf(app, sizeof(app), "app-%d", i);
        snprintf(dir, sizeof(dir), "/data/%d/blockmgr-0123456789abcdef", i);
        ck_assert_int_eq(store_put(s, app, "0", dir, err), 0);
    }
    long live = wal_size(tmp);
    /* re-registrations: dead records are dropped as soon as they outnumber live ones */
    long max = 0;
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < APPS; i++) {
            snprintf(app, sizeof(app), "app-%d", i);
            snprintf(dir, sizeof(dir), "/data/%d/blockmgr-0123456789abcdef", i);
            ck_assert_int_eq(store_put(s, app, "0", dir, err), 0);
            long sz = wal_size(tmp);
            max = sz > max ? sz : max;
        }
    ck_assert_msg(max <= 2 * live + 1000, "log grew to %ld for %ld live", max, live);
    /* every app removed: the log shrinks back, it does not keep the old live set */
    for (int i = 0; i < APPS; i++) {
        snprintf(app, sizeof(app), "app-%d", i);
        ck_assert_int_eq(registry_store_remove_app(s, app, err, sizeof(err)), 0);
    }
    ck_assert_uint_eq(resolver_count(r), 0);
    ck_assert_msg(wal_size(tmp) <= (long)REGISTRY_COMPACT_SLACK, "log of %ld bytes, none live",
                  wal_size(tmp));
    store_close(s, r);
}
END_TEST

/* cleanup of an application deletes only what it owns: a registered dir that resolves
 * elsewhere now (a parent swapped for a link into another app's dirs) is left alone */
START_TEST(test_cleanup_only_owned_dirs)
{
    const char *tmp = harness_test_dir();
    char err[512], a_parent[600], a_dir[700], b_dir[600], b_file[700], old[600], cmd[2000];
    snprintf(a_parent, sizeof(a_parent), "%s/a", tmp);
    snprintf(a_dir, sizeof(a_dir), "%s/a/blockmgr", tmp);
    snprintf(b_dir, sizeof(b_dir), "%s/b/blockmgr", tmp);
    snprintf(b_file, sizeof(b_file), "%s/b/blockmgr/shuffle_0_0_0.data", tmp);
    snprintf(old, sizeof(old), "%s/a-old", tmp);
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s' '%s'", a_dir, b_dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(harness_write_file(b_file, "b", 1), 0);
    struct resolver *r;
    struct registry_store *s = store_open(tmp, &r, NULL);
    ck_assert_int_eq(store_put(s, "A", "0", a_dir, err), 0);
    ck_assert_int_eq(store_put(s, "B", "0", b_dir, err), 0);
    /* A's parent becomes a link to B's: A's dir now resolves to B's */
    ck_assert_int_eq(rename(a_parent, old), 0);
    snprintf(cmd, sizeof(cmd), "%s/b", tmp);
    ck_assert_int_eq(symlink(cmd, a_parent), 0);
    ck_assert_int_eq(cleanup_application_removed(r, s, "A", true, err, sizeof(err)), 1);
    ck_assert(harness_path_exists(b_file));
    /* restored: A registers again and its own dir goes */
    ck_assert_int_eq(unlink(a_parent), 0);
    ck_assert_int_eq(rename(old, a_parent), 0);
    ck_assert_int_eq(store_put(s, "A", "0", a_dir, err), 0);
    ck_assert_int_eq(cleanup_application_removed(r, s, "A", true, err, sizeof(err)), 1);
    ck_assert(!harness_path_exists(a_dir));
    ck_assert(harness_path_exists(b_file));
    store_close(s, r);
}
END_TEST

CHECK_MAIN((.suite = "tenants", .name = "core", .timeout_s = 60), test_conflicts_equal_parent_child,
           test_canonical_dir, test_limits_and_reregistration, test_ownership_survives_restart,
           test_log_compact_under_churn, test_cleanup_only_owned_dirs)

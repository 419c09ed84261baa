/* SPDX-License-Identifier: Apache-2.0 */
/* Durable registrations: replay after restart and after kill -9, torn and
 * corrupt records skipped without losing the others, compaction, app removal. */
#include <config.h>

#include <check.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "server/block/registry_store.h"
#include "test_util_block.h"
#include "../check_main.h"

static char *dirs_a[] = {"/data/a0", "/data/a1"};
static char *dirs_b[] = {"/data/b0"};
static char *dirs_c[] = {"/data/c0", "/data/c1"}; /* another app's (dirs have one owner) */

static void put(struct registry_store *s, const char *app, const char *exec, int which)
{
    struct executor_info info = {which == 2 ? dirs_c
                                 : which    ? dirs_b
                                            : dirs_a,
                                 which == 1 ? 1 : 2, which ? 8 : 64,
                                 "org.apache.spark.shuffle.sort.SortShuffleManager", NULL};
    char err[256];
    ck_assert_int_eq(registry_store_put(s, app, exec, &info, err, sizeof(err)), 0);
}

static long file_size(const char *dir)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/registrations.wal", dir);
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    return (long)st.st_size;
}

static bool has(struct resolver *r, const char *app, const char *exec, uint32_t ndirs)
{
    struct executor_info i;
    if (resolver_get(r, app, exec, &i) < 0)
        return false;
    bool ok = i.n_dirs == ndirs;
    executor_info_free(&i);
    return ok;
}

START_TEST(test_replay_and_overwrite)
{
    const char *top = harness_test_dir();
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/not/yet/there", top); /* created like mkdir -p */
    struct resolver *r;
    struct registry_store_stats st;
    struct registry_store *s = store_open(dir, &r, &st);
    ck_assert_int_eq(st.records, 0);
    put(s, "app-1", "0", 0);
    put(s, "app-1", "1", 0);
    put(s, "app-1", "0", 1); /* re-registration overwrites */
    store_close(s, r);
    s = store_open(dir, &r, &st);
    ck_assert_int_eq(st.records, 3);
    ck_assert_int_eq(st.skipped_bytes, 0);
    ck_assert_int_eq(st.live, 2);
    ck_assert(has(r, "app-1", "0", 1));
    ck_assert(has(r, "app-1", "1", 2));
    store_close(s, r);
    /* compacted: the next start replays exactly the live set */
    s = store_open(dir, &r, &st);
    ck_assert_int_eq(st.records, 2);
    store_close(s, r);
}
END_TEST

START_TEST(test_truncated_tail)
{
    const char *dir = harness_test_dir();
    struct resolver *r;
    struct registry_store_stats st;
    struct registry_store *s = store_open(dir, &r, &st);
    put(s, "app-1", "0", 0);
    put(s, "app-1", "1", 1);
    long two = file_size(dir);
    put(s, "app-1", "2", 0);
    store_close(s, r);
    char p[512];
    snprintf(p, sizeof(p), "%s/registrations.wal", dir);
    long full = file_size(dir);
    for (long cut = full - 1; cut > two; cut -= 7) {
        ck_assert_int_eq(truncate(p, cut), 0);
        s = store_open(dir, &r, &st);
        ck_assert_int_eq(st.records, 2);
        ck_assert_int_eq(st.skipped_bytes, cut - two);
        ck_assert(has(r, "app-1", "0", 2) && has(r, "app-1", "1", 1));
        ck_assert(!has(r, "app-1", "2", 2));
        put(s, "app-1", "2", 0); /* appends after the cleaned log */
        store_close(s, r);
        s = store_open(dir, &r, &st);
        ck_assert_int_eq(st.skipped_bytes, 0);
        ck_assert_int_eq(st.live, 3);
        store_close(s, r);
    }
}
END_TEST

START_TEST(test_corrupt_middle_record)
{
    const char *dir = harness_test_dir();
    struct resolver *r;
    struct registry_store_stats st;
    struct registry_store *s = store_open(dir, &r, &st);
    put(s, "app-1", "0", 0);
    long one = file_size(dir);
    put(s, "app-1", "1", 0);
    put(s, "app-1", "2", 1);
    store_close(s, r);
    char p[512];
    snprintf(p, sizeof(p), "%s/registrations.wal", dir);
    FILE *f = fopen(p, "r+b");
    ck_assert(f != NULL);
    fseek(f, one + 20, SEEK_SET); /* inside record 2's payload */
    fputc('X', f);
    fclose(f);
    s = store_open(dir, &r, &st);
    ck_assert_int_eq(st.records, 2);
    ck_assert_int_gt(st.skipped_bytes, 0);
    ck_assert(has(r, "app-1", "0", 2));
    ck_assert(!has(r, "app-1", "1", 2));
    ck_assert(has(r, "app-1", "2", 1));
    store_close(s, r);
    /* garbage only: nothing live, not fatal */
    ck_assert_int_eq(harness_write_file(p, "garbage that is not a log at all", 32), 0);
    s = store_open(dir, &r, &st);
    ck_assert_int_eq(st.live, 0);
    ck_assert_int_eq(st.skipped_bytes, 32);
    store_close(s, r);
}
END_TEST

START_TEST(test_remove_app_and_kill9)
{
    const char *dir = harness_test_dir();
    struct resolver *r;
    struct registry_store_stats st;
    struct registry_store *s = store_open(dir, &r, &st);
    put(s, "app-1", "0", 0);
    put(s, "app-2", "0", 2);
    char err[256];
    ck_assert_int_eq(registry_store_remove_app(s, "app-1", err, sizeof(err)), 0);
    store_close(s, r);
    /* a child registers, then dies by SIGKILL without closing anything */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct resolver *cr = resolver_create(1 << 16);
        struct registry_store *cs = registry_store_open(dir, cr, NULL, err, sizeof(err));
        if (!cs)
            _exit(3);
        struct executor_info info = {dirs_b, 1, 8, "m", NULL};
        if (registry_store_put(cs, "app-3", "7", &info, err, sizeof(err)) < 0)
            _exit(4);
        kill(getpid(), SIGKILL);
        _exit(5);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    s = store_open(dir, &r, &st);
    ck_assert(!has(r, "app-1", "0", 2));
    ck_assert(has(r, "app-2", "0", 2));
    ck_assert(has(r, "app-3", "7", 1));
    ck_assert_int_eq(st.live, 2);
    store_close(s, r);
}
END_TEST

START_TEST(test_online_compaction_bounds_the_log)
{
    const char *dir = harness_test_dir();
    struct resolver *r;
    struct registry_store_stats st;
    struct registry_store *s = store_open(dir, &r, &st);
    char exec[16];
    long max_size = 0;
    for (int i = 0; i < 6000; i++) {
        snprintf(exec, sizeof(exec), "%d", i % 3);
        put(s, "app-1", exec, i % 2);
        long sz = file_size(dir);
        if (sz > max_size)
            max_size = sz;
    }
    /* ~100-byte records: 6000 appends would be ~600 KB without compaction */
    ck_assert_int_lt(max_size, 2 * 400 + (long)REGISTRY_COMPACT_SLACK + 200);
    ck_assert_int_eq(resolver_count(r), 3); /* put also registers */
    store_close(s, r);
    s = store_open(dir, &r, &st);
    ck_assert_int_eq(st.live, 3);
    ck_assert_int_eq(st.skipped_bytes, 0);
    ck_assert(has(r, "app-1", "0", 1)); /* i = 5997: odd -> dirs_b */
    ck_assert(has(r, "app-1", "1", 2)); /* i = 5998 */
    ck_assert(has(r, "app-1", "2", 1)); /* i = 5999 */
    store_close(s, r);
}
END_TEST

/* Without state_sync a record is only written (a daemon restart still finds it); with it,
 * each put and each app removal is fdatasync'ed before returning. */
START_TEST(test_sync_is_a_choice)
{
    const char *dir = harness_test_dir();
    struct resolver *r;
    struct registry_store_stats st;
    struct registry_store *s = store_open(dir, &r, &st);
    put(s, "app-1", "0", 0);
    ck_assert_uint_eq(registry_store_syncs(s), 0);
    registry_store_set_sync(s, true);
    put(s, "app-1", "1", 0);
    char err[256];
    ck_assert_int_eq(registry_store_remove_app(s, "app-9", err, sizeof(err)), 0);
    ck_assert_uint_eq(registry_store_syncs(s), 2);
    store_close(s, r);
    s = store_open(dir, &r, &st);
    ck_assert_int_eq(st.live, 2); /* the unsynced one survived the restart too */
    ck_assert(has(r, "app-1", "0", 2));
    store_close(s, r);
}
END_TEST

START_TEST(test_bad_state_dir)
{
    char err[512];
    struct resolver *r = resolver_create(1 << 16);
    struct registry_store *s =
        registry_store_open("/proc/definitely/not/here", r, NULL, err, sizeof(err));
    ck_assert(s == NULL);
    ck_assert(strstr(err, "state_dir") != NULL);
    resolver_destroy(r);
    ck_assert_uint_eq(registry_crc32((const uint8_t *)"123456789", 9), 0xcbf43926u);
}
END_TEST

CHECK_MAIN((.suite = "registry_store", .name = "core"), test_replay_and_overwrite,
           test_truncated_tail, test_corrupt_middle_record, test_remove_app_and_kill9,
           test_online_compaction_bounds_the_log, test_sync_is_a_choice, test_bad_state_dir)

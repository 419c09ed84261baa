/* SPDX-License-Identifier: Apache-2.0 */
/* The merge dirs and merged file names (merged_layout.h) against Spark 3.5's own: the
 * recorded RegisterExecutor with a merge dir gives the dirs the Java server used, every
 * merged file it wrote (vectors-35/data/merge_manager_1) is found where we place it, and the
 * path in its "index file not found" text is ours. Then the JSON and path edge cases, and the
 * attempt rules of merge_apps.h. */
#include <config.h>

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/blockmsg.h"
#include "server/push/merge_apps.h"
#include "server/push/merged_layout.h"
#include "../harness/fs.h"
#include "../harness/locate.h"
#include "../check_main.h"

#define SM "org.apache.spark.shuffle.sort.SortShuffleManager"

/* The RegisterExecutor the Spark 3.5 client sent (the frame's body starts at byte 21). */
static void recorded_registration(struct blockmsg *m)
{
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/vectors-35/register-executor-with-merge-dir/c2s.bin",
             harness_shared_dir());
    size_t len;
    uint8_t *buf = harness_read_file(path, &len);
    ck_assert_msg(buf != NULL, "cannot read %s", path);
    ck_assert_uint_gt(len, 21);
    ck_assert_int_eq(blockmsg_decode(buf + 21, len - 21, m, err, sizeof err), 0);
    ck_assert_int_eq(m->type, BLOCKMSG_REGISTER_EXECUTOR);
    free(buf);
}

static enum merge_info parse(const char *sm, char *const *dirs, uint32_t n, struct merge_dirs *d,
                             char *err)
{
    return merge_dirs_parse(sm, dirs, n, 64, d, err, 512);
}

START_TEST(test_recorded_registration)
{
    struct blockmsg m;
    recorded_registration(&m);
    const struct executor_shuffle_info *in = &m.u.register_executor.info;
    char *dirs[2] = {in->local_dirs.items[0].data, in->local_dirs.items[1].data};
    struct merge_dirs d;
    char err[512];
    ck_assert_int_eq(merge_dirs_parse(in->shuffle_manager.data, dirs, 2, in->sub_dirs_per_local_dir,
                                      &d, err, sizeof err),
                     MERGE_INFO_OK);
    ck_assert_int_eq(d.attempt_id, 1);
    ck_assert_int_eq(d.sub_dirs, 64);
    ck_assert_uint_eq(d.n_dirs, 2);
    ck_assert_str_eq(d.dirs[0], "/tmp/shuffle-vectors-35/data/merge_manager_1");
    ck_assert_str_eq(d.dirs[1], "/tmp/shuffle-vectors-35/data/merge_manager_1");
    /* merged-meta-error's text names the index file the Java server looked for */
    char path[1024];
    ck_assert_int_eq(merged_file_path(&d, "app-cap", 0, 0, 3, MERGED_INDEX, path, sizeof path), 0);
    ck_assert_str_eq(path, "/tmp/shuffle-vectors-35/data/merge_manager_1/13/"
                           "shuffleMerged_app-cap_0_0_3.index");
    merge_dirs_free(&d);
    blockmsg_free(&m);
}
END_TEST

/* Every file the Java server merged sits where merged_file_path puts it, dirs relocated to
 * the vectors' copy. */
START_TEST(test_recorded_files_placed)
{
    char data[1024], d0[1100], d1[1100], top[1100];
    snprintf(data, sizeof data, "%s/vectors-35/data", harness_shared_dir());
    snprintf(d0, sizeof d0, "%s/blockmgr-0", data);
    snprintf(d1, sizeof d1, "%s/blockmgr-1", data);
    snprintf(top, sizeof top, "%s/merge_manager_1", data);
    char *dirs[2] = {d0, d1};
    struct merge_dirs d;
    char err[512];
    ck_assert_int_eq(
        parse(SM ":{\"mergeDir\":\"merge_manager_1\",\"attemptId\":\"1\"}}}", dirs, 2, &d, err),
        MERGE_INFO_OK);
    ck_assert_str_eq(d.dirs[0], top);
    DIR *sub = opendir(top);
    ck_assert_ptr_nonnull(sub);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(sub))) {
        if (e->d_name[0] == '.')
            continue;
        char subdir[1400];
        snprintf(subdir, sizeof subdir, "%s/%s", top, e->d_name);
        DIR *in = opendir(subdir);
        ck_assert_ptr_nonnull(in);
        struct dirent *f;
        while ((f = readdir(in))) {
            if (f->d_name[0] == '.')
                continue;
            int s, mid, r;
            char ext[8];
            ck_assert_int_eq(
                sscanf(f->d_name, "shuffleMerged_app-cap_%d_%d_%d.%7s", &s, &mid, &r, ext), 4);
            enum merged_file kind = strcmp(ext, "data") == 0    ? MERGED_DATA
                                    : strcmp(ext, "index") == 0 ? MERGED_INDEX
                                                                : MERGED_META;
            char name[256], want[1700], got[1700];
            ck_assert_int_eq(merged_file_name("app-cap", s, mid, r, kind, name, sizeof name), 0);
            ck_assert_str_eq(name, f->d_name);
            snprintf(want, sizeof want, "%s/%s", subdir, f->d_name);
            ck_assert_int_eq(merged_file_path(&d, "app-cap", s, mid, r, kind, got, sizeof got), 0);
            ck_assert_str_eq(got, want);
            files++;
        }
        closedir(in);
    }
    closedir(sub);
    ck_assert_int_ge(files, 12); /* shuffle 0's three reduces and shuffle 2's one, x3 */
    merge_dirs_free(&d);
}
END_TEST

START_TEST(test_parse_edges)
{
    char a[] = "/data/a/blockmgr-1", b[] = "//data//b//blockmgr-2//", root[] = "/blockmgr-3";
    char *dirs[3] = {a, b, root};
    struct merge_dirs d;
    char err[512];
    /* no merge info: push off for this executor */
    ck_assert_int_eq(parse(SM, dirs, 3, &d, err), MERGE_INFO_NONE);
    ck_assert_int_eq(parse(SM ":not json", dirs, 3, &d, err), MERGE_INFO_NONE);
    ck_assert_int_eq(parse(SM ":[1]", dirs, 3, &d, err), MERGE_INFO_NONE);
    ck_assert_int_eq(parse(SM ":{\"mergeDir\":{\"x\":1}}", dirs, 3, &d, err), MERGE_INFO_NONE);
    /* no attempt id: -1; Java's parent of each dir */
    ck_assert_int_eq(parse(SM ":{\"mergeDir\":\"merge_manager\"}", dirs, 3, &d, err),
                     MERGE_INFO_OK);
    ck_assert_int_eq(d.attempt_id, MERGE_NO_ATTEMPT);
    ck_assert_str_eq(d.dirs[0], "/data/a/merge_manager");
    ck_assert_str_eq(d.dirs[1], "/data/b/merge_manager");
    ck_assert_str_eq(d.dirs[2], "/merge_manager");
    merge_dirs_free(&d);
    /* a number where Spark writes a string, and Integer.valueOf's sign */
    ck_assert_int_eq(parse(SM ":{\"attemptId\":12,\"mergeDir\":\"m\"}", dirs, 1, &d, err),
                     MERGE_INFO_OK);
    ck_assert_int_eq(d.attempt_id, 12);
    merge_dirs_free(&d);
    ck_assert_int_eq(parse(SM ":{\"mergeDir\":\"m\",\"attemptId\":\"+7\"}", dirs, 1, &d, err),
                     MERGE_INFO_OK);
    ck_assert_int_eq(d.attempt_id, 7);
    merge_dirs_free(&d);
    /* Spark's failures */
    ck_assert_int_eq(parse(SM ":{\"mergeDirInvalid\":\"m\",\"attemptId\":\"2\"}", dirs, 1, &d, err),
                     MERGE_INFO_INVALID);
    ck_assert_str_eq(err, "java.lang.IllegalArgumentException: Failed to get the merge directory "
                          "information from the shuffleManagerMeta " SM
                          ":{\"mergeDirInvalid\":\"m\",\"attemptId\":\"2\"} in executor "
                          "registration message");
    ck_assert_int_eq(parse(SM ":{\"mergeDir\":\"m\",\"attemptId\":\"x1\"}", dirs, 1, &d, err),
                     MERGE_INFO_INVALID);
    ck_assert_str_eq(err, "java.lang.NumberFormatException: For input string: \"x1\"");
    ck_assert_int_eq(
        parse(SM ":{\"mergeDir\":\"m\",\"attemptId\":\"2147483648\"}", dirs, 1, &d, err),
        MERGE_INFO_INVALID);
    ck_assert_int_eq(parse(SM ":{\"mergeDir\":\"m\",\"attemptId\":1.0}", dirs, 1, &d, err),
                     MERGE_INFO_INVALID);
    ck_assert_str_eq(err, "java.lang.NumberFormatException: For input string: \"1.0\"");
    /* beyond Spark: the merge dir is one plain component */
    const char *bad[] = {"..", ".", "", "../etc", "/abs", "a/b", "x\\ny"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char sm[200];
        snprintf(sm, sizeof sm, SM ":{\"mergeDir\":\"%s\"}", bad[i]);
        ck_assert_msg(parse(sm, dirs, 3, &d, err) == MERGE_INFO_INVALID, "%s accepted", bad[i]);
        ck_assert_ptr_null(d.dirs);
    }
    /* names and a path that does not fit */
    char name[64], small[16];
    ck_assert_int_eq(merged_file_name("a", 1, 2, 3, MERGED_META, name, sizeof name), 0);
    ck_assert_str_eq(name, "shuffleMerged_a_1_2_3.meta");
    ck_assert_int_eq(merged_file_name("a", 1, 2, 3, MERGED_DATA, small, sizeof small), -1);
    struct merge_dirs none = {0};
    ck_assert_int_eq(merged_file_path(&none, "a", 1, 2, 3, MERGED_DATA, name, sizeof name), -1);
}
END_TEST

static struct merge_dirs dirs_of(int32_t attempt, const char *dir)
{
    struct merge_dirs d = {.attempt_id = attempt, .sub_dirs = 64, .n_dirs = 1};
    d.dirs = calloc(1, sizeof(char *));
    d.dirs[0] = strdup(dir);
    return d;
}

START_TEST(test_attempt_rules)
{
    struct merge_apps *t = merge_apps_create();
    struct merge_dirs d1 = dirs_of(1, "/one"), d1b = dirs_of(1, "/one-b"), d2 = dirs_of(2, "/two"),
                      d0 = dirs_of(0, "/zero"), replaced, got;
    char path[256], err[256];
    int32_t attempt = 99;
    ck_assert_int_eq(
        merge_apps_file_path(t, "app", 0, 0, 0, MERGED_DATA, path, sizeof path, &attempt), 1);
    ck_assert_int_eq(merge_apps_get(t, "app", &got), -1);
    ck_assert_int_eq(merge_apps_register(t, "app", &d1, &replaced), 1);
    ck_assert_uint_eq(replaced.n_dirs, 0);
    /* the first registration of an attempt wins; an older attempt changes nothing */
    ck_assert_int_eq(merge_apps_register(t, "app", &d1b, &replaced), 0);
    ck_assert_int_eq(merge_apps_register(t, "app", &d0, NULL), 0);
    ck_assert_int_eq(merge_apps_get(t, "app", &got), 0);
    ck_assert_str_eq(got.dirs[0], "/one");
    merge_dirs_free(&got);
    /* a newer attempt replaces and hands back the old dirs */
    ck_assert_int_eq(merge_apps_register(t, "app", &d2, &replaced), 1);
    ck_assert_int_eq(replaced.attempt_id, 1);
    ck_assert_str_eq(replaced.dirs[0], "/one");
    merge_dirs_free(&replaced);
    ck_assert_int_eq(
        merge_apps_file_path(t, "app", 0, 0, 0, MERGED_DATA, path, sizeof path, &attempt), 0);
    ck_assert_int_eq(attempt, 2);
    ck_assert_int_eq(strncmp(path, "/two/", 5), 0);
    /* without attempt ids the first registration stays */
    struct merge_dirs n1 = dirs_of(MERGE_NO_ATTEMPT, "/n1"), n2 = dirs_of(MERGE_NO_ATTEMPT, "/n2");
    ck_assert_int_eq(merge_apps_register(t, "other", &n1, NULL), 1);
    ck_assert_int_eq(merge_apps_register(t, "other", &n2, NULL), 0);
    ck_assert_uint_eq(merge_apps_count(t), 2);
    /* many apps: the table grows and finds them all */
    for (int i = 0; i < 300; i++) {
        char app[32];
        snprintf(app, sizeof app, "app-%d", i);
        ck_assert_int_eq(merge_apps_register(t, app, &n1, NULL), 1);
    }
    ck_assert_uint_eq(merge_apps_count(t), 302);
    ck_assert_int_eq(merge_apps_get(t, "app-299", &got), 0);
    merge_dirs_free(&got);
    /* the newest shuffleMergeId per shuffle; a new attempt starts from none */
    int32_t newest = -5;
    ck_assert_int_eq(merge_apps_newest_merge_id(t, "app", 3, &newest), 0);
    ck_assert_int_eq(merge_apps_note_merge_id(t, "app", 3, 2), 0);
    ck_assert_int_eq(merge_apps_note_merge_id(t, "app", 3, 1), 0); /* older: ignored */
    ck_assert_int_eq(merge_apps_note_merge_id(t, "app", 4, 0), 0);
    ck_assert_int_eq(merge_apps_note_merge_id(t, "unknown", 3, 9), 0);
    ck_assert_int_eq(merge_apps_newest_merge_id(t, "app", 3, &newest), 1);
    ck_assert_int_eq(newest, 2);
    ck_assert_int_eq(merge_apps_newest_merge_id(t, "app", 4, &newest), 1);
    ck_assert_int_eq(newest, 0);
    ck_assert_int_eq(merge_apps_newest_merge_id(t, "unknown", 3, &newest), 0);
    for (int s = 10; s < 20; s++) /* the list grows */
        ck_assert_int_eq(merge_apps_note_merge_id(t, "app", s, s), 0);
    ck_assert_int_eq(merge_apps_newest_merge_id(t, "app", 19, &newest), 1);
    ck_assert_int_eq(newest, 19);
    struct merge_dirs d3 = dirs_of(3, "/three");
    ck_assert_int_eq(merge_apps_register(t, "app", &d3, NULL), 1);
    merge_dirs_free(&d3);
    ck_assert_int_eq(merge_apps_newest_merge_id(t, "app", 3, &newest), 0);
    merge_apps_stale_fetch("MergedBlockMeta", 0, 1, 2, err, sizeof err);
    ck_assert_str_eq(err, "java.lang.RuntimeException: MergedBlockMeta fetch for shuffle 0 with "
                          "shuffleMergeId 1 reduceId 2 is stale shuffle block fetch request as "
                          "shuffle blocks of a higher shuffleMergeId for the shuffle is available");
    ck_assert_int_eq(merge_apps_note_merge_id(t, "app", 3, 2), 0); /* freed by remove */
    ck_assert(merge_apps_remove(t, "app", &got));
    ck_assert_str_eq(got.dirs[0], "/three");
    merge_dirs_free(&got);
    ck_assert(!merge_apps_remove(t, "app", NULL));
    ck_assert(merge_apps_remove(t, "other", NULL));
    merge_apps_not_registered("x", err, sizeof err);
    ck_assert_str_eq(err, "java.lang.IllegalArgumentException: application x is not registered "
                          "or NM was restarted.");
    struct merge_dirs *all[] = {&d1, &d1b, &d2, &d0, &n1, &n2};
    for (size_t i = 0; i < 6; i++)
        merge_dirs_free(all[i]);
    merge_apps_destroy(t);
}
END_TEST

/* The superseded attempt (the newest older one registered) gives the paths of its merged
 * files, for deleting what a restart finds: whichever order the registrations come in, only
 * for that attempt, and never when its dirs are also the current attempt's. */
START_TEST(test_superseded_attempt)
{
    struct merge_apps *t = merge_apps_create();
    struct merge_dirs d1 = dirs_of(1, "/one"), d2 = dirs_of(2, "/two"), d3 = dirs_of(3, "/three"),
                      shared = dirs_of(4, "/three");
    char path[256], want[256];
    ck_assert_int_eq(
        merge_apps_superseded_path(t, "app", 1, 0, 0, 0, MERGED_DATA, path, sizeof path), 1);
    /* replayed newest first: attempt 3, then 1 and 2 (2 is the newest older one) */
    ck_assert_int_eq(merge_apps_register(t, "app", &d3, NULL), 1);
    ck_assert_int_eq(merge_apps_register(t, "app", &d1, NULL), 0);
    ck_assert_int_eq(
        merge_apps_superseded_path(t, "app", 1, 5, 0, 7, MERGED_INDEX, path, sizeof path), 0);
    ck_assert_int_eq(merged_file_path(&d1, "app", 5, 0, 7, MERGED_INDEX, want, sizeof want), 0);
    ck_assert_str_eq(path, want);
    ck_assert_int_eq(merge_apps_register(t, "app", &d2, NULL), 0);
    ck_assert_int_eq(
        merge_apps_superseded_path(t, "app", 1, 5, 0, 7, MERGED_INDEX, path, sizeof path), 1);
    ck_assert_int_eq(
        merge_apps_superseded_path(t, "app", 2, 5, 0, 7, MERGED_META, path, sizeof path), 0);
    ck_assert_int_eq(strncmp(path, "/two/", 5), 0);
    ck_assert_int_eq(
        merge_apps_superseded_path(t, "app", 3, 5, 0, 7, MERGED_META, path, sizeof path), 1);
    /* in order: attempt 4 replaces 3 but in the same dir, so 3's names are 4's files too */
    ck_assert(merge_apps_share_dirs(t, "app", &shared));
    ck_assert(!merge_apps_share_dirs(t, "app", &d2));
    ck_assert_int_eq(merge_apps_register(t, "app", &shared, NULL), 1);
    ck_assert_int_eq(
        merge_apps_superseded_path(t, "app", 3, 5, 0, 7, MERGED_DATA, path, sizeof path), 1);
    ck_assert(merge_apps_remove(t, "app", NULL));
    ck_assert_int_eq(
        merge_apps_superseded_path(t, "app", 3, 5, 0, 7, MERGED_DATA, path, sizeof path), 1);
    merge_dirs_free(&d1);
    merge_dirs_free(&d2);
    merge_dirs_free(&d3);
    merge_dirs_free(&shared);
    merge_apps_destroy(t);
}
END_TEST

CHECK_MAIN((.suite = "merged_layout", .name = "core", .needs_shared_vectors = true),
           test_recorded_registration, test_recorded_files_placed, test_parse_edges,
           test_attempt_rules, test_superseded_attempt)

/* SPDX-License-Identifier: Apache-2.0 */
/* Drop-in configuration: the *.json files of conf.d over the main file, in name order, last value
 * wins, and every error of every file named by path:line:column. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/ops/config.h"
#include "server/ops/config_files.h"
#include "../check_main.h"
#include "../harness/fs.h"

static char dir[64], main_path[128], dropins[128];
static struct shuffled_config cfg;
static struct config_files read_files;
static char err[4096];

static void put(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dropins, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static int load(void)
{
    return config_load_layered(main_path, dropins, &cfg, &read_files, err, sizeof err);
}

static void setup(void)
{
    ck_assert_msg(harness_temp_dir_into(dir, sizeof dir) == 0,
                  "no temp dir (or TMPDIR too long for this test)");
    snprintf(main_path, sizeof main_path, "%s/shuffled.json", dir);
    snprintf(dropins, sizeof dropins, "%s/conf.d", dir);
    ck_assert_int_eq(mkdir(dropins, 0755), 0);
    FILE *f = fopen(main_path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"port\": 9000, \"log_level\": \"info\", \"listen\": [\"127.0.0.1\", \"::1\"]}\n", f);
    fclose(f);
    memset(&cfg, 0, sizeof cfg);
    memset(&read_files, 0, sizeof read_files);
    err[0] = '\0';
}

static void teardown(void)
{
    config_free(&cfg);
    config_files_free(&read_files);
    harness_rm_rf(dir);
}

START_TEST(later_names_win_and_arrays_replace_whole)
{
    put("20-late.json", "{\"log_level\": \"debug\", \"listen\": [\"::1\"]}");
    put("10-early.json", "{\"log_level\": \"warn\", \"idle_timeout_ms\": 5}");
    ck_assert_msg(load() == 0, "%s", err);
    ck_assert_str_eq(cfg.log_level, "debug");  /* 20 after 10 */
    ck_assert_uint_eq(cfg.idle_timeout_ms, 5); /* only 10 sets it */
    ck_assert_int_eq(cfg.port, 9000);          /* the main file's */
    ck_assert_uint_eq(cfg.listen_count, 1);    /* the array is replaced, not appended */
    ck_assert_str_eq(cfg.listen[0], "::1");
    ck_assert_uint_eq(read_files.count, 3);
    ck_assert_str_eq(read_files.paths[0], main_path);
    ck_assert_ptr_nonnull(strstr(read_files.paths[1], "/conf.d/10-early.json"));
    ck_assert_ptr_nonnull(strstr(read_files.paths[2], "/conf.d/20-late.json"));
}
END_TEST

/* Applied in strcmp order of their names, whatever order the directory lists them in. */
START_TEST(dropins_apply_in_name_order)
{
    static const int created[] = {3, 0, 6, 1, 7, 2, 5, 4};
    for (size_t i = 0; i < 8; i++) {
        char name[32], text[64];
        snprintf(name, sizeof name, "%02d-part.json", created[i] * 10);
        snprintf(text, sizeof text, "{\"idle_timeout_ms\": %d}", created[i] * 10 + 1);
        put(name, text);
    }
    ck_assert_msg(load() == 0, "%s", err);
    ck_assert_uint_eq(read_files.count, 9);
    for (size_t i = 2; i < read_files.count; i++)
        ck_assert_msg(strcmp(read_files.paths[i - 1], read_files.paths[i]) < 0, "%s before %s",
                      read_files.paths[i - 1], read_files.paths[i]);
    ck_assert_uint_eq(cfg.idle_timeout_ms, 71); /* 70-part.json is last */
}
END_TEST

START_TEST(only_visible_regular_json_files_count)
{
    put(".hidden.json", "{\"nope\": 1}");
    put("old.json.dpkg-old", "{\"nope\": 1}");
    put("notes.txt", "not json");
    put("json", "{\"nope\": 1}");
    char path[256], target[256];
    snprintf(path, sizeof path, "%s/sub.json", dropins);
    ck_assert_int_eq(mkdir(path, 0755), 0); /* a directory named *.json */
    snprintf(target, sizeof target, "%s/linked-target", dir);
    FILE *f = fopen(target, "w");
    fputs("{\"port\": 9100}", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/30-linked.json", dropins);
    ck_assert_int_eq(symlink(target, path), 0); /* a symlink to a file is a drop-in */
    ck_assert_msg(load() == 0, "%s", err);
    ck_assert_uint_eq(read_files.count, 2);
    ck_assert_int_eq(cfg.port, 9100);
}
END_TEST

START_TEST(missing_directory_means_no_dropins)
{
    ck_assert_int_eq(rmdir(dropins), 0);
    ck_assert_msg(load() == 0, "%s", err);
    ck_assert_uint_eq(read_files.count, 1);
    ck_assert_int_eq(cfg.port, 9000);
}
END_TEST

START_TEST(every_error_of_every_file_is_reported)
{
    put("10-syntax.json", "{\"port\": 1,\n");
    put("20-unknown.json", "{\n  \"colour\": \"blue\"\n}");
    put("30-type.json", "{\"port\": \"x\"}");
    ck_assert_int_eq(load(), -1);
    char want[256];
    snprintf(want, sizeof want, "%s/10-syntax.json:2:", dropins);
    ck_assert_msg(strstr(err, want), "%s", err);
    snprintf(want, sizeof want, "%s/20-unknown.json:2:3: key 'colour': unknown key", dropins);
    ck_assert_msg(strstr(err, want), "%s", err);
    snprintf(want, sizeof want, "%s/30-type.json:1:2: key 'port': expected an integer", dropins);
    ck_assert_msg(strstr(err, want), "%s", err);
    ck_assert_uint_eq(read_files.count, 0); /* untouched on failure */
    ck_assert_ptr_null(cfg.listen);         /* freed */
}
END_TEST

/* A cross-key error is located in the file that set the key, not the main file. */
START_TEST(cross_key_error_names_the_dropin_that_set_the_key)
{
    put("50-water.json", "{\n\n  \"write_low_water_bytes\": 99999999999\n}");
    ck_assert_int_eq(load(), -1);
    char want[256];
    snprintf(want, sizeof want,
             "%s/50-water.json:3:3: key 'write_low_water_bytes': must not exceed "
             "write_high_water_bytes",
             dropins);
    ck_assert_msg(strstr(err, want), "%s", err);
}
END_TEST

START_TEST(a_bad_dropin_directory_is_an_error)
{
    ck_assert_int_eq(rmdir(dropins), 0);
    FILE *f = fopen(dropins, "w"); /* conf.d is a file */
    fclose(f);
    ck_assert_int_eq(load(), -1);
    ck_assert_msg(strstr(err, "cannot read the drop-in directory"), "%s", err);
    ck_assert_msg(strstr(err, dropins), "%s", err);
}
END_TEST

START_TEST(a_dangling_dropin_is_an_error)
{
    char path[256];
    snprintf(path, sizeof path, "%s/40-gone.json", dropins);
    ck_assert_int_eq(symlink("/nonexistent/shuffled-test", path), 0);
    ck_assert_int_eq(load(), -1);
    ck_assert_msg(strstr(err, path), "%s", err);
    ck_assert_msg(strstr(err, "No such file"), "%s", err);
}
END_TEST

START_TEST(too_many_dropins_are_refused)
{
    char name[32];
    for (int i = 0; i <= CONFIG_MAX_DROPINS; i++) {
        snprintf(name, sizeof name, "%04d.json", i);
        put(name, "{}");
    }
    ck_assert_int_eq(load(), -1);
    ck_assert_msg(strstr(err, "drop-in files"), "%s", err);
}
END_TEST

START_TEST(default_dropin_dir_is_beside_the_file)
{
    const char *cases[][2] = {
        {"/etc/shuffled/shuffled.json", "/etc/shuffled/conf.d"},
        {"shuffled.json", "./conf.d"},
        {"conf/shuffled.json", "conf/conf.d"},
        {"/shuffled.json", "/conf.d"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = config_default_dropin_dir(cases[i][0]);
        ck_assert_str_eq(got, cases[i][1]);
        free(got);
    }
}
END_TEST

CHECK_MAIN((.suite = "config_dropin", .name = "dropin", .setup = setup, .teardown = teardown),
           later_names_win_and_arrays_replace_whole, dropins_apply_in_name_order,
           only_visible_regular_json_files_count, missing_directory_means_no_dropins,
           every_error_of_every_file_is_reported, cross_key_error_names_the_dropin_that_set_the_key,
           a_bad_dropin_directory_is_an_error, a_dangling_dropin_is_an_error,
           too_many_dropins_are_refused, default_dropin_dir_is_beside_the_file)

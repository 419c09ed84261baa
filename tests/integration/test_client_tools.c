/* SPDX-License-Identifier: Apache-2.0 */
/* shuffle-fetch and shuffle-bench end to end against the fake service: every
 * block of the vectors' dataset fetched into a directory and verified (exit 0),
 * a manifest that disagrees makes it exit 1, so does an unreachable server;
 * shuffle-bench reports its figures as JSON, also in its batch and fetch-to-file
 * modes. */
#include <config.h>

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_util.h"
#include "fake_ess.h"
#include "../harness/process.h"
#include "../check_main.h"

static struct manifest man;
static char tool_dir[1024];

static char *manifest_path(void)
{
    static char p[1024];
    snprintf(p, sizeof(p), "%s/vectors/manifest.tsv", harness_shared_dir());
    return p;
}

/* A fake ESS serving the manifest, and a fresh temp dir for the tool's output. */
static struct fake_ess *start_with_temp_dir(char **dir)
{
    struct fake_ess_opts fo = {.manifest = &man};
    struct fake_ess *fs = fake_ess_start(&fo);
    *dir = harness_temp_dir();
    ck_assert(*dir != NULL);
    return fs;
}

/* Runs the command printed from fmt; it must exit 0 (its output lands in out). */
static void run_ok(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void run_ok(char *out, size_t outlen, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    ck_assert_msg(harness_run(cmd, out, outlen) == 0, "%s", out);
}

START_TEST(test_fetch_all_to_dir_verified)
{
    char *dir;
    struct fake_ess *fs = start_with_temp_dir(&dir);
    char cmd[4096], out[4096];
    run_ok(out, sizeof(out),
           "%s/shuffle-fetch -q --retry-wait 10 --to-file-threshold 100000 --max-blocks 5 "
           "--verify %s -o %s 127.0.0.1:%d app-cap 1 2>&1",
           tool_dir, manifest_path(), dir, fake_ess_port(fs));
    for (size_t i = 0; i < man.n; i++) {
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", dir, man.e[i].id);
        size_t len;
        uint8_t *got = harness_read_file(path, &len);
        uint64_t wl;
        uint8_t *want = manifest_read(&man, man.e[i].id, &wl);
        ck_assert_msg(got && want && len == wl && !memcmp(got, want, len), "%s", path);
        free(got);
        free(want);
        unlink(path);
    }
    ck_assert_int_eq(rmdir(dir), 0); /* nothing else was left there */
    free(dir);
    /* batch ids + old protocol to stdout */
    snprintf(cmd, sizeof(cmd),
             "%s/shuffle-fetch -q --batch --verify %s 127.0.0.1:%d app-cap 1 shuffle_0_0_0 "
             "shuffle_0_0_1 shuffle_0_0_2 | wc -c",
             tool_dir, manifest_path(), fake_ess_port(fs));
    ck_assert_int_eq(harness_run(cmd, out, sizeof(out)), 0);
    ck_assert_int_eq(atoi(out), 103 + 68 + 148);
    fake_ess_stop(fs);
}
END_TEST

START_TEST(test_fetch_exit_status_on_failure)
{
    struct fake_ess_opts fo = {.manifest = &man};
    struct fake_ess *fs = fake_ess_start(&fo);
    char bad[] = "/tmp/shuffle-fetch-manifest-XXXXXX";
    int fd = mkstemp(bad);
    ck_assert(fd >= 0);
    /* right size, wrong crc32 */
    const char *line = "shuffle_0_0_0\t103\t00000001\n";
    ck_assert(write(fd, line, strlen(line)) == (ssize_t)strlen(line));
    close(fd);
    char cmd[4096], out[4096];
    snprintf(cmd, sizeof(cmd),
             "%s/shuffle-fetch -q --verify %s 127.0.0.1:%d app-cap 1 2>&1 >/dev/null", tool_dir,
             bad, fake_ess_port(fs));
    ck_assert_int_eq(harness_run(cmd, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "crc32"), "%s", out);
    /* a block the server does not have */
    snprintf(cmd, sizeof(cmd),
             "%s/shuffle-fetch -q 127.0.0.1:%d app-cap 1 shuffle_0_9_0 2>&1 "
             ">/dev/null",
             tool_dir, fake_ess_port(fs));
    ck_assert_int_eq(harness_run(cmd, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "FAIL shuffle_0_9_0"), "%s", out);
    int port = fake_ess_port(fs);
    fake_ess_stop(fs);
    /* nobody listening any more */
    snprintf(cmd, sizeof(cmd),
             "%s/shuffle-fetch -q --retries 1 --retry-wait 10 127.0.0.1:%d "
             "app-cap 1 shuffle_0_0_0 2>&1 >/dev/null",
             tool_dir, port);
    unlink(bad);
    ck_assert_int_eq(harness_run(cmd, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "Failed to connect"), "%s", out);
}
END_TEST

START_TEST(test_bench_json)
{
    struct fake_ess_opts fo = {.manifest = &man};
    struct fake_ess *fs = fake_ess_start(&fo);
    char cmd[4096], out[4096];
    snprintf(cmd, sizeof(cmd),
             "%s/shuffle-bench --json --verify -c 3 -k 4 -n 30 --idle-connections 5 -m %s "
             "127.0.0.1:%d app-cap 1",
             tool_dir, manifest_path(), fake_ess_port(fs));
    ck_assert_int_eq(harness_run(cmd, out, sizeof(out)), 0);
    ck_assert_msg(strstr(out, "\"requests\":30,"), "%s", out);
    ck_assert_msg(strstr(out, "\"errors\":0,\"verify_errors\":0"), "%s", out);
    ck_assert_msg(strstr(out, "\"p99\":"), "%s", out);
    ck_assert_int_ge(fake_ess_connections(fs), 6); /* idle ones + at least one fetching */
    fake_ess_stop(fs);
}
END_TEST

/* --batch merges a request's contiguous reduces into batch ids (fewer ids fetched than
 * blocks, every one verified), --fetch-to-file streams them into files under
 * --tmp-dir and leaves none behind; the JSON says which mode ran and the client's CPU. */
START_TEST(test_bench_batch_to_file_json)
{
    char out[4096], *dir;
    struct fake_ess *fs = start_with_temp_dir(&dir);
    run_ok(out, sizeof(out),
           "%s/shuffle-bench --json --verify --batch --fetch-to-file --tmp-dir %s -c 2 -k 4 "
           "-n 20 -m %s 127.0.0.1:%d app-cap 1",
           tool_dir, dir, manifest_path(), fake_ess_port(fs));
    ck_assert_msg(strstr(out, "\"errors\":0,\"verify_errors\":0"), "%s", out);
    ck_assert_msg(strstr(out, "\"batch\":true,\"fetch_to_file\":true"), "%s", out);
    ck_assert_msg(strstr(out, "\"client_cpu_s\":{\"user\":"), "%s", out);
    const char *bl = strstr(out, "\"blocks\":"), *ch = strstr(out, "\"chunks\":");
    ck_assert_msg(bl && ch, "%s", out);
    long blocks = atol(bl + 9), chunks = atol(ch + 9);
    ck_assert_msg(blocks >= 20 && chunks >= 20 && chunks < blocks, "%s", out);
    ck_assert_int_eq(fake_ess_stream_requests(fs), chunks);
    ck_assert_msg(rmdir(dir) == 0, "fetched files left in %s", dir);
    free(dir);
    fake_ess_stop(fs);
}
END_TEST

int main(void)
{
    check_require_shared_vectors();
    load_vectors_manifest(&man);
    harness_build_path(tool_dir, sizeof(tool_dir), "src/tools");
    int status =
        check_main(&(struct check_case){.suite = "client_tools", .name = "tools", .timeout_s = 60},
                   CHECK_TESTS(test_fetch_all_to_dir_verified, test_fetch_exit_status_on_failure,
                               test_bench_json, test_bench_batch_to_file_json));
    manifest_free(&man);
    return status;
}

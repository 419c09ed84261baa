/* shuffle-fetch and shuffle-bench end to end against the fake service: every
 * block of the vectors' dataset fetched into a directory and verified (exit 0),
 * a manifest that disagrees makes it exit 1, so does an unreachable server;
 * shuffle-bench reports its figures as JSON. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client_util.h"
#include "fake_ess.h"
#include "../check_main.h"

static struct manifest man;
static char tool_dir[1024];

static int run(const char *cmd, char *out, size_t outlen)
{
    FILE *p = popen(cmd, "r");
    ck_assert(p != NULL);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static char *manifest_path(void)
{
    static char p[1024];
    snprintf(p, sizeof(p), "%s/vectors/manifest.tsv", shared_dir());
    return p;
}

START_TEST(test_fetch_all_to_dir_verified)
{
    struct fake_ess_opts fo = {.manifest = &man};
    struct fake_ess *fs = fake_ess_start(&fo);
    char dir[] = "/tmp/shuffle-fetch-test-XXXXXX";
    ck_assert(mkdtemp(dir) != NULL);
    char cmd[4096], out[4096];
    snprintf(cmd, sizeof(cmd),
             "%s/shuffle-fetch -q --retry-wait 10 --to-file-threshold 100000 --max-blocks 5 "
             "--verify %s -o %s 127.0.0.1:%d app-cap 1 2>&1",
             tool_dir, manifest_path(), dir, fake_ess_port(fs));
    ck_assert_msg(run(cmd, out, sizeof(out)) == 0, "%s", out);
    for (size_t i = 0; i < man.n; i++) {
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", dir, man.e[i].id);
        size_t len;
        uint8_t *got = read_file(path, &len);
        uint64_t wl;
        uint8_t *want = manifest_read(&man, man.e[i].id, &wl);
        ck_assert_msg(got && want && len == wl && !memcmp(got, want, len), "%s", path);
        free(got);
        free(want);
        unlink(path);
    }
    ck_assert_int_eq(rmdir(dir), 0); /* nothing else was left there */
    /* batch ids + old protocol to stdout */
    snprintf(cmd, sizeof(cmd),
             "%s/shuffle-fetch -q --batch --verify %s 127.0.0.1:%d app-cap 1 shuffle_0_0_0 "
             "shuffle_0_0_1 shuffle_0_0_2 | wc -c",
             tool_dir, manifest_path(), fake_ess_port(fs));
    ck_assert_int_eq(run(cmd, out, sizeof(out)), 0);
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
    ck_assert_int_eq(run(cmd, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "crc32"), "%s", out);
    /* a block the server does not have */
    snprintf(cmd, sizeof(cmd),
             "%s/shuffle-fetch -q 127.0.0.1:%d app-cap 1 shuffle_0_9_0 2>&1 "
             ">/dev/null",
             tool_dir, fake_ess_port(fs));
    ck_assert_int_eq(run(cmd, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "FAIL shuffle_0_9_0"), "%s", out);
    int port = fake_ess_port(fs);
    fake_ess_stop(fs);
    /* nobody listening any more */
    snprintf(cmd, sizeof(cmd),
             "%s/shuffle-fetch -q --retries 1 --retry-wait 10 127.0.0.1:%d "
             "app-cap 1 shuffle_0_0_0 2>&1 >/dev/null",
             tool_dir, port);
    unlink(bad);
    ck_assert_int_eq(run(cmd, out, sizeof(out)), 1);
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
    ck_assert_int_eq(run(cmd, out, sizeof(out)), 0);
    ck_assert_msg(strstr(out, "\"requests\":30,"), "%s", out);
    ck_assert_msg(strstr(out, "\"errors\":0,\"verify_errors\":0"), "%s", out);
    ck_assert_msg(strstr(out, "\"p99\":"), "%s", out);
    ck_assert_int_ge(fake_ess_connections(fs), 6); /* idle ones + at least one fetching */
    fake_ess_stop(fs);
}
END_TEST

int main(void)
{
    check_require_shared_vectors();
    load_vectors_manifest(&man);
    const char *b = getenv("SHUFFLE_BUILDDIR");
    snprintf(tool_dir, sizeof(tool_dir), "%s/src/tools", b ? b : ".");
    Suite *s = suite_create("client_tools");
    TCase *tc = tcase_create("tools");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_fetch_all_to_dir_verified);
    tcase_add_test(tc, test_fetch_exit_status_on_failure);
    tcase_add_test(tc, test_bench_json);
    suite_add_tcase(s, tc);
    int status = check_run_suite(s);
    manifest_free(&man);
    return status;
}

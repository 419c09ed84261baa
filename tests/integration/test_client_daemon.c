/* SPDX-License-Identifier: Apache-2.0 */
/* libshuffle against the real shuffled: a dataset made by gen-shuffle-data is
 * registered and every block fetched and verified (both protocols, batch ranges,
 * fetch-to-file); error replies are not retried; a stopped daemon makes the
 * request timeout fire; a daemon killed mid-fetch and restarted within the retry
 * window still delivers every block exactly once; a dead one fails every block
 * exactly once; many threads share one client. Skipped (77) when the build has
 * no shuffled or gen-shuffle-data. */
#include <config.h>

#include <check.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check_main.h"
#include "../harness/client.h"
#include "../harness/daemon.h"
#include "../harness/wait.h"
#include "client_util.h"
#include "shuffle/client.h"
#include "shuffle/sync.h"

static char tmp[256], data_root[512], state_dir[512];
static struct manifest man;
static const char **ids; /* shuffle blocks of the dataset, manifest order */
static size_t nids;
static struct harness_daemon shuffled; /* config and port file in tmp */
static char daemon_members[1024];      /* its JSON members beyond the harness's */

static void run_or_die(const char *cmd)
{
    if (system(cmd) != 0) {
        fprintf(stderr, "failed: %s\n", cmd);
        exit(1);
    }
}

/* The daemon's members with roots, a JSON array for allowed_local_dir_roots. */
static void set_daemon_members(const char *roots)
{
    snprintf(daemon_members, sizeof(daemon_members),
             "\"fetch_rdd_enabled\": true, \"allowed_local_dir_roots\": %s", roots);
}

/* Rewrites the daemon's config with roots. */
static bool write_daemon_config(const char *roots)
{
    set_daemon_members(roots);
    return harness_daemon_write_config(&shuffled, &shuffled.opts) == 0;
}

/* Starts shuffled again on port, with allowed_local_dir_roots []. */
static bool daemon_restart(int port)
{
    return write_daemon_config("[]") && harness_daemon_restart(&shuffled, port) == 0;
}

static shuffle_client *client(int retries, int wait_ms, int timeout_ms, bool old, uint64_t to_file)
{
    struct shuffle_client_options o;
    harness_client_options(&o, retries, wait_ms, timeout_ms, old);
    o.fetch_to_file_bytes = to_file;
    return harness_client_with(&o);
}

static void register_exec(shuffle_client *c, const char *exec)
{
    ck_assert_msg(harness_register_executor(c, shuffled.port, "app-1", exec,
                                            (const char *const *)man.local_dirs, man.num_dirs,
                                            NULL) == SHUFFLE_OK,
                  "%s", shuffle_last_error(c));
}

static void fetch_wait(shuffle_client *c, const char *exec, const char *const *v, size_t n,
                       const uint64_t *sizes, struct collector *col)
{
    collector_fetch(col, c, &man, "127.0.0.1", shuffled.port, "app-1", exec, v, n, sizes);
    collector_wait(col);
}

/* Fetches v[0..n) and every block fails with `code` and a message containing `text`. */
static void expect_all_failed(shuffle_client *c, const char *exec, const char *const *v, size_t n,
                              int code, const char *text)
{
    struct collector col;
    fetch_wait(c, exec, v, n, NULL, &col);
    collector_assert_all_failed(&col, code, text);
    collector_free(&col);
}

START_TEST(test_every_block)
{
    shuffle_client *c = client(0, 10, 10000, _i == 1, UINT64_MAX);
    register_exec(c, "1");
    struct collector col;
    fetch_wait(c, "1", ids, nids, NULL, &col);
    collector_assert_all_ok(&col, ids);
    collector_free(&col);
    const char *rdd[] = {"rdd_5_0", "rdd_5_1"};
    fetch_wait(c, "1", rdd, 2, NULL, &col);
    collector_assert_all_ok(&col, rdd);
    collector_free(&col);
    shuffle_client_free(c);
}
END_TEST

START_TEST(test_batch_and_to_file)
{
    const char *batch[] = {"shuffle_0_0_0_8", "shuffle_0_1_2_5", "shuffle_0_3_7_8"};
    shuffle_client *c = client(0, 10, 10000, false, 30000);
    register_exec(c, "1");
    struct collector col;
    fetch_wait(c, "1", batch, 3, NULL, &col);
    collector_assert_all_ok(&col, batch);
    ck_assert_int_eq(col.via_file, 0); /* sizes unknown: in memory */
    collector_free(&col);
    uint64_t *sizes = calloc(nids, sizeof(uint64_t));
    int big = 0;
    for (size_t i = 0; i < nids; i++) {
        sizes[i] = manifest_find(&man, ids[i])->size;
        big += sizes[i] > 30000;
    }
    fetch_wait(c, "1", ids, nids, sizes, &col);
    collector_assert_all_ok(&col, ids);
    ck_assert_int_eq(col.via_file, big);
    ck_assert_int_gt(big, 0);
    collector_free(&col);
    free(sizes);
    shuffle_client_free(c);
}
END_TEST

START_TEST(test_server_errors_not_retried)
{
    shuffle_client *old = client(3, 2000, 10000, true, UINT64_MAX);
    const char *bad[] = {"shuffle_0_0_0_8"}; /* a batch id via OpenBlocks */
    expect_all_failed(old, "1", bad, 1, SHUFFLE_ESERVER, "Unexpected block id format");
    shuffle_client_free(old);
    shuffle_client *c = client(3, 2000, 10000, false, UINT64_MAX);
    const char *missing[] = {"shuffle_0_99_0"};
    expect_all_failed(c, "1", missing, 1, SHUFFLE_ESERVER, "Failure while fetching StreamChunkId");
    expect_all_failed(c, "unknown-exec", ids, 3, SHUFFLE_ESERVER, "not registered");
    shuffle_client_free(c);
}
END_TEST

START_TEST(test_stopped_daemon_times_out)
{
    shuffle_client *c = client(0, 10, 300, false, UINT64_MAX);
    const char *some[] = {"shuffle_0_0_0", "shuffle_0_0_1", "shuffle_0_1_0", "shuffle_0_1_1"};
    kill(shuffled.pid, SIGSTOP);
    struct collector col;
    fetch_wait(c, "1", some, 4, NULL, &col);
    kill(shuffled.pid, SIGCONT);
    collector_assert_all_failed(&col, SHUFFLE_EIO, "has been quiet for");
    collector_free(&col);
    shuffle_client_free(c);
}
END_TEST

START_TEST(test_error_reply_any_service)
{
    /* whatever service the daemon runs, a batch id via OpenBlocks is refused with
     * an RpcFailure: each block fails once with the server's Java-style text */
    shuffle_client *c = client(3, 2000, 10000, true, UINT64_MAX);
    struct collector col;
    const char *bad[] = {"shuffle_0_0_0_8", "shuffle_0_1_0_8"};
    fetch_wait(c, "1", bad, 2, NULL, &col);
    collector_assert_all_failed(&col, SHUFFLE_ESERVER, "java.lang.");
    ck_assert(strstr(col.error[0], "OpenBlocks of block shuffle_0_0_0_8 from 127.0.0.1:"));
    collector_free(&col);
    shuffle_client_free(c);
}
END_TEST

static atomic_int kill_done;
static bool killed(void *arg)
{
    return atomic_load(&kill_done);
}

static void kill_on_first(void *arg, const struct shuffle_block *b)
{
    int expected = 0;
    if (atomic_compare_exchange_strong(&kill_done, &expected, 1))
        kill(shuffled.pid, SIGKILL);
    collector_on_block(arg, b);
}

START_TEST(test_killed_and_restarted)
{
    shuffle_client *c = client(5, 1500, 10000, false, UINT64_MAX);
    register_exec(c, "1");
    atomic_store(&kill_done, 0);
    struct collector col;
    collector_init(&col, &man, nids);
    struct shuffle_fetch_request r = {.struct_size = sizeof(r),
                                      .host = "127.0.0.1",
                                      .port = shuffled.port,
                                      .app_id = "app-1",
                                      .exec_id = "1",
                                      .block_ids = ids,
                                      .num_blocks = nids,
                                      .on_block = kill_on_first,
                                      .on_done = collector_on_done,
                                      .arg = &col};
    ck_assert_int_eq(shuffle_fetch_blocks(c, &r), SHUFFLE_OK);
    ck_assert_msg(harness_wait_until(killed, NULL, 30000, 1), "no block arrived within 30 s");
    int port = shuffled.port;
    harness_daemon_kill(&shuffled, SIGKILL);
    /* same port, same state dir: the registration survives */
    ck_assert_msg(daemon_restart(port), "shuffled did not restart on port %d", port);
    collector_wait(&col);
    collector_assert_all_ok(&col, ids);
    collector_free(&col);
    shuffle_client_free(c);
}
END_TEST

START_TEST(test_dead_daemon_retries_exhausted)
{
    shuffle_client *c = client(2, 10, 10000, false, UINT64_MAX);
    register_exec(c, "1");
    int port = shuffled.port;
    harness_daemon_kill(&shuffled, SIGKILL);
    expect_all_failed(c, "1", ids, 6, SHUFFLE_EIO, "gave up after 2 retries");
    shuffle_client_free(c);
    ck_assert_msg(daemon_restart(port), "shuffled did not restart on port %d", port);
}
END_TEST

static shuffle_client *shared;
static void *thread_main(void *arg)
{
    long ok = 0;
    for (int k = 0; k < 10; k++) {
        size_t at = (size_t)(k * 3) % (nids - 8);
        struct shuffle_fetch_request r = {.struct_size = sizeof(r),
                                          .host = "127.0.0.1",
                                          .port = shuffled.port,
                                          .app_id = "app-1",
                                          .exec_id = "1",
                                          .block_ids = ids + at,
                                          .num_blocks = 8};
        struct shuffle_fetch_result *res;
        bool good = shuffle_fetch_blocks_sync(shared, &r, &res) == SHUFFLE_OK;
        for (size_t i = 0; good && i < 8; i++) {
            uint64_t len;
            uint8_t *want = manifest_read(&man, ids[at + i], &len);
            good = want && res[i].len == len && (!len || !memcmp(res[i].data, want, len));
            free(want);
        }
        shuffle_fetch_results_free(res, 8);
        ok += good;
    }
    return (void *)ok;
}

struct fetch_outcome {
    shuffle_client *c;
    const char *id;
    bool want_ok;
};

/* One fetch of the block: was its outcome the wanted one? */
static bool fetch_as_wanted(void *arg)
{
    const struct fetch_outcome *f = arg;
    const char *v[] = {f->id};
    struct collector col;
    fetch_wait(f->c, "1", v, 1, NULL, &col);
    bool ok = col.status[0] == SHUFFLE_OK && col.verified[0];
    collector_free(&col);
    return ok == f->want_ok;
}

/* Fetches one block until its outcome is ok (want_ok) or not; bounded. */
static void fetch_until(shuffle_client *c, const char *id, bool want_ok)
{
    struct fetch_outcome f = {c, id, want_ok};
    ck_assert_msg(harness_wait_until(fetch_as_wanted, &f, 20000, 10),
                  "%s: the fetch never became %s after the reload", id,
                  want_ok ? "allowed" : "refused");
}

/* SIGHUP with new allowed_local_dir_roots: fetches of a registered executor are refused once
 * its dirs are outside them, and allowed again once they are inside. */
START_TEST(test_reload_allowed_roots)
{
    shuffle_client *c = client(0, 10, 10000, false, UINT64_MAX);
    register_exec(c, "1");
    char roots[700];
    snprintf(roots, sizeof(roots), "[\"%s\"]", state_dir);
    ck_assert(write_daemon_config(roots));
    kill(shuffled.pid, SIGHUP);
    fetch_until(c, ids[0], false);
    struct collector col;
    fetch_wait(c, "1", ids, nids, NULL, &col);
    for (size_t i = 0; i < nids; i++)
        ck_assert_int_ne(col.status[i], SHUFFLE_OK);
    collector_free(&col);
    ck_assert_int_ne(harness_register_executor(c, shuffled.port, "app-1", "2",
                                               (const char *const *)man.local_dirs, man.num_dirs,
                                               NULL),
                     SHUFFLE_OK);
    ck_assert_msg(strstr(shuffle_last_error(c), "allowed_local_dir_roots"), "%s",
                  shuffle_last_error(c));

    snprintf(roots, sizeof(roots), "[\"%s\"]", data_root);
    ck_assert(write_daemon_config(roots));
    kill(shuffled.pid, SIGHUP);
    fetch_until(c, ids[0], true);
    fetch_wait(c, "1", ids, nids, NULL, &col);
    collector_assert_all_ok(&col, ids);
    collector_free(&col);
    register_exec(c, "2");
    shuffle_client_free(c);
}
END_TEST

START_TEST(test_many_threads)
{
    shared = client(3, 100, 10000, false, UINT64_MAX);
    register_exec(shared, "1");
    pthread_t th[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&th[i], NULL, thread_main, NULL);
    for (int i = 0; i < 8; i++) {
        void *ok;
        pthread_join(th[i], &ok);
        ck_assert_int_eq((long)ok, 10);
    }
    shuffle_client_free(shared);
}
END_TEST

int main(void)
{
    char gen[1100], exe[1100];
    harness_build_path(gen, sizeof(gen), "gen-shuffle-data");
    harness_build_path(exe, sizeof(exe), "shuffled");
    if (access(exe, X_OK) != 0) {
        printf("SKIP: no shuffled in %s yet\n", harness_build_dir());
        return 77;
    }
    /* without gen-shuffle-data (block service not built yet) only the tests that
     * need no dataset run */
    bool have_data = access(gen, X_OK) == 0;
    if (harness_temp_dir_into(tmp, sizeof(tmp)) != 0)
        return 1;
    snprintf(data_root, sizeof(data_root), "%s/data", tmp);
    snprintf(state_dir, sizeof(state_dir), "%s/state", tmp);
    mkdir(state_dir, 0755);
    char cmd[4096];
    if (!have_data)
        goto tests;
    snprintf(cmd, sizeof(cmd),
             "'%s' --root '%s' --maps 4 --reduces 64 --min-size 0 --max-size 140000 --seed 7 "
             "--rdd-id 5 --rdd-splits 2 >/dev/null",
             gen, data_root);
    run_or_die(cmd);
    char mpath[700];
    snprintf(mpath, sizeof(mpath), "%s/manifest.tsv", data_root);
    if (manifest_load(&man, mpath, "/nonexistent-prefix", "") != 0)
        return 1;
    ids = calloc(man.n, sizeof(char *));
    for (size_t i = 0; i < man.n; i++)
        if (!strncmp(man.e[i].id, "shuffle_", 8))
            ids[nids++] = man.e[i].id;

tests:;
    const struct check_case c = {.suite = "client_daemon",
                                 .name = "daemon",
                                 .timeout_s = 60,
                                 .loops = 2,
                                 .looped = {test_every_block}};
    Suite *s = suite_create(c.suite);
    if (have_data)
        check_add_case(s, &c,
                       CHECK_TESTS(test_error_reply_any_service, test_stopped_daemon_times_out,
                                   test_every_block, test_batch_and_to_file,
                                   test_server_errors_not_retried, test_killed_and_restarted,
                                   test_dead_daemon_retries_exhausted, test_many_threads,
                                   test_reload_allowed_roots));
    else
        check_add_case(s, &c,
                       CHECK_TESTS(test_error_reply_any_service, test_stopped_daemon_times_out));
    SRunner *sr = srunner_create(s);
    int failed = 1;
    set_daemon_members("[]");
    struct harness_daemon_opts o = {
        .dir = tmp, .state_dir = state_dir, .extra_json = daemon_members};
    if (harness_daemon_start(&shuffled, &o) == 0) {
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
    }
    srunner_free(sr);
    /* it must go within the bounded wait (not killed), whatever its exit status */
    if (shuffled.pid && harness_daemon_kill(&shuffled, SIGTERM) == -1)
        failed = 1;
    free(ids);
    manifest_free(&man);
    if (harness_rm_rf(tmp) != 0)
        failed = 1;
    return failed ? 1 : 0;
}

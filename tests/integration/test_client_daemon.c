/* libshuffle against the real shuffled: a dataset made by gen-shuffle-data is
 * registered and every block fetched and verified (both protocols, batch ranges,
 * fetch-to-file); error replies are not retried; a stopped daemon makes the
 * request timeout fire; a daemon killed mid-fetch and restarted within the retry
 * window still delivers every block exactly once; a dead one fails every block
 * exactly once; many threads share one client. Skipped (77) when the build has
 * no shuffled or gen-shuffle-data. */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client_util.h"
#include "shuffle/client.h"
#include "shuffle/sync.h"

static char builddir[1024], tmp[256], data_root[512], state_dir[512], cfg_path[512], port_path[512];
static struct manifest man;
static const char **ids; /* shuffle blocks of the dataset, manifest order */
static size_t nids;
static pid_t daemon_pid;
static int daemon_port;

static void run_or_die(const char *cmd)
{
    if (system(cmd) != 0) {
        fprintf(stderr, "failed: %s\n", cmd);
        exit(1);
    }
}

static int config_port; /* the port in the config file */

/* Writes the daemon's config; roots: a JSON array for allowed_local_dir_roots. */
static bool write_daemon_config(int port, const char *roots)
{
    FILE *f = fopen(cfg_path, "w");
    if (!f)
        return false;
    config_port = port;
    fprintf(f,
            "{\"listen\": [\"127.0.0.1\"], \"port\": %d, \"io_threads\": 2, "
            "\"blocking_threads\": 2, \"log_level\": \"warn\", \"state_dir\": \"%s\", "
            "\"admin_port\": 0, "
            "\"fetch_rdd_enabled\": true, \"allowed_local_dir_roots\": %s}\n",
            port, state_dir, roots);
    return fclose(f) == 0;
}

/* Starts shuffled on port (0: ephemeral); false if it did not come up. */
static bool daemon_start(int port)
{
    if (!write_daemon_config(port, "[]"))
        return false;
    FILE *f;
    unlink(port_path);
    char exe[1100];
    snprintf(exe, sizeof(exe), "%s/shuffled", builddir);
    daemon_pid = fork();
    if (daemon_pid < 0)
        return false;
    if (daemon_pid == 0) {
        execl(exe, exe, "-c", cfg_path, "--port-file", port_path, (char *)NULL);
        _exit(127);
    }
    daemon_port = 0;
    for (int i = 0; i < 1000 && daemon_port == 0; i++) { /* up to 10 s */
        f = fopen(port_path, "r");
        if (f) {
            if (fscanf(f, "%d", &daemon_port) != 1)
                daemon_port = 0;
            fclose(f);
        }
        int st;
        if (waitpid(daemon_pid, &st, WNOHANG) != 0) {
            daemon_pid = 0;
            return false;
        }
        if (!daemon_port)
            usleep(10000);
    }
    return daemon_port > 0;
}

/* SIGCONT goes first: a stopped daemon must wake to get its signal, and a SIGCONT that
 * arrives while an ASan build runs its exit-time leak check cancels the SIGSTOP that
 * LeakSanitizer's ptrace attach queued, which hangs the daemon forever. */
static bool daemon_kill(int sig)
{
    bool exited = true;
    kill(daemon_pid, SIGCONT);
    kill(daemon_pid, sig);
    int st;
    for (int waited_ms = 0; waitpid(daemon_pid, &st, WNOHANG) == 0; waited_ms += 10) {
        if (waited_ms >= 30000) {
            fprintf(stderr, "shuffled %d did not exit 30 s after signal %d: killing it\n",
                    (int)daemon_pid, sig);
            kill(daemon_pid, SIGKILL);
            waitpid(daemon_pid, &st, 0);
            exited = false;
            break;
        }
        usleep(10000);
    }
    daemon_pid = 0;
    return exited;
}

static shuffle_client *client(int retries, int wait_ms, int timeout_ms, bool old, uint64_t to_file)
{
    struct shuffle_client_options o;
    shuffle_client_options_init(&o);
    o.max_retries = retries;
    o.retry_wait_ms = wait_ms;
    o.request_timeout_ms = timeout_ms;
    o.connect_timeout_ms = 5000;
    o.use_old_fetch_protocol = old;
    o.fetch_to_file_bytes = to_file;
    shuffle_client *c = NULL;
    ck_assert_msg(shuffle_client_new(&o, &c) == SHUFFLE_OK, "%s", shuffle_last_error(NULL));
    return c;
}

static void register_exec(shuffle_client *c, const char *exec)
{
    ck_assert_msg(register_executor_sync(c, daemon_port, "app-1", exec,
                                         (const char *const *)man.local_dirs,
                                         man.num_dirs) == SHUFFLE_OK,
                  "%s", shuffle_last_error(c));
}

static void fetch_wait(shuffle_client *c, const char *exec, const char *const *v, size_t n,
                       const uint64_t *sizes, shuffle_block_fn fn, struct collector *col)
{
    collector_init(col, &man, n);
    struct shuffle_fetch_request r = {.struct_size = sizeof(r),
                                      .host = "127.0.0.1",
                                      .port = daemon_port,
                                      .app_id = "app-1",
                                      .exec_id = exec,
                                      .block_ids = v,
                                      .num_blocks = n,
                                      .sizes = sizes,
                                      .on_block = fn ? fn : collector_on_block,
                                      .on_done = collector_on_done,
                                      .arg = col};
    ck_assert_int_eq(shuffle_fetch_blocks(c, &r), SHUFFLE_OK);
    collector_wait(col);
}

static void assert_ok(struct collector *col, const char *const *v)
{
    for (size_t i = 0; i < col->n; i++) {
        ck_assert_msg(col->count[i] == 1, "%s delivered %d times", v[i], col->count[i]);
        ck_assert_msg(col->status[i] == SHUFFLE_OK, "%s: %s", v[i], col->error[i]);
        ck_assert_msg(col->verified[i], "%s: bytes differ", v[i]);
    }
}

static void assert_failed(struct collector *col, int status, const char *needle)
{
    for (size_t i = 0; i < col->n; i++) {
        ck_assert_int_eq(col->count[i], 1);
        ck_assert_int_eq(col->status[i], status);
        ck_assert_msg(strstr(col->error[i], needle), "'%s' lacks '%s'", col->error[i], needle);
    }
}

START_TEST(test_every_block)
{
    shuffle_client *c = client(0, 10, 10000, _i == 1, UINT64_MAX);
    register_exec(c, "1");
    struct collector col;
    fetch_wait(c, "1", ids, nids, NULL, NULL, &col);
    assert_ok(&col, ids);
    collector_free(&col);
    const char *rdd[] = {"rdd_5_0", "rdd_5_1"};
    fetch_wait(c, "1", rdd, 2, NULL, NULL, &col);
    assert_ok(&col, rdd);
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
    fetch_wait(c, "1", batch, 3, NULL, NULL, &col);
    assert_ok(&col, batch);
    ck_assert_int_eq(col.via_file, 0); /* sizes unknown: in memory */
    collector_free(&col);
    uint64_t *sizes = calloc(nids, sizeof(uint64_t));
    int big = 0;
    for (size_t i = 0; i < nids; i++) {
        sizes[i] = manifest_find(&man, ids[i])->size;
        big += sizes[i] > 30000;
    }
    fetch_wait(c, "1", ids, nids, sizes, NULL, &col);
    assert_ok(&col, ids);
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
    struct collector col;
    const char *bad[] = {"shuffle_0_0_0_8"};
    fetch_wait(old, "1", bad, 1, NULL, NULL, &col); /* a batch id via OpenBlocks */
    assert_failed(&col, SHUFFLE_ESERVER, "Unexpected block id format");
    collector_free(&col);
    shuffle_client_free(old);
    shuffle_client *c = client(3, 2000, 10000, false, UINT64_MAX);
    const char *missing[] = {"shuffle_0_99_0"};
    fetch_wait(c, "1", missing, 1, NULL, NULL, &col);
    assert_failed(&col, SHUFFLE_ESERVER, "Failure while fetching StreamChunkId");
    collector_free(&col);
    fetch_wait(c, "unknown-exec", ids, 3, NULL, NULL, &col);
    assert_failed(&col, SHUFFLE_ESERVER, "not registered");
    collector_free(&col);
    shuffle_client_free(c);
}
END_TEST

START_TEST(test_stopped_daemon_times_out)
{
    shuffle_client *c = client(0, 10, 300, false, UINT64_MAX);
    const char *some[] = {"shuffle_0_0_0", "shuffle_0_0_1", "shuffle_0_1_0", "shuffle_0_1_1"};
    kill(daemon_pid, SIGSTOP);
    struct collector col;
    fetch_wait(c, "1", some, 4, NULL, NULL, &col);
    kill(daemon_pid, SIGCONT);
    assert_failed(&col, SHUFFLE_EIO, "has been quiet for");
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
    fetch_wait(c, "1", bad, 2, NULL, NULL, &col);
    assert_failed(&col, SHUFFLE_ESERVER, "java.lang.");
    ck_assert(strstr(col.error[0], "OpenBlocks of block shuffle_0_0_0_8 from 127.0.0.1:"));
    collector_free(&col);
    shuffle_client_free(c);
}
END_TEST

static atomic_int kill_done;
static void kill_on_first(void *arg, const struct shuffle_block *b)
{
    int expected = 0;
    if (atomic_compare_exchange_strong(&kill_done, &expected, 1))
        kill(daemon_pid, SIGKILL);
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
                                      .port = daemon_port,
                                      .app_id = "app-1",
                                      .exec_id = "1",
                                      .block_ids = ids,
                                      .num_blocks = nids,
                                      .on_block = kill_on_first,
                                      .on_done = collector_on_done,
                                      .arg = &col};
    ck_assert_int_eq(shuffle_fetch_blocks(c, &r), SHUFFLE_OK);
    while (!atomic_load(&kill_done))
        usleep(1000);
    int port = daemon_port;
    daemon_kill(SIGKILL);
    /* same port, same state dir: the registration survives */
    ck_assert_msg(daemon_start(port), "shuffled did not restart on port %d", port);
    collector_wait(&col);
    assert_ok(&col, ids);
    collector_free(&col);
    shuffle_client_free(c);
}
END_TEST

START_TEST(test_dead_daemon_retries_exhausted)
{
    shuffle_client *c = client(2, 10, 10000, false, UINT64_MAX);
    register_exec(c, "1");
    int port = daemon_port;
    daemon_kill(SIGKILL);
    struct collector col;
    fetch_wait(c, "1", ids, 6, NULL, NULL, &col);
    assert_failed(&col, SHUFFLE_EIO, "gave up after 2 retries");
    collector_free(&col);
    shuffle_client_free(c);
    ck_assert_msg(daemon_start(port), "shuffled did not restart on port %d", port);
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
                                          .port = daemon_port,
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

/* Fetches one block until its outcome is ok (want_ok) or not; bounded. */
static void fetch_until(shuffle_client *c, const char *id, bool want_ok)
{
    const char *v[] = {id};
    for (int i = 0; i < 500; i++) {
        struct collector col;
        fetch_wait(c, "1", v, 1, NULL, NULL, &col);
        bool ok = col.status[0] == SHUFFLE_OK && col.verified[0];
        collector_free(&col);
        if (ok == want_ok)
            return;
        usleep(10000);
    }
    ck_abort_msg("%s: the fetch never became %s after the reload", id,
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
    ck_assert(write_daemon_config(config_port, roots));
    kill(daemon_pid, SIGHUP);
    fetch_until(c, ids[0], false);
    struct collector col;
    fetch_wait(c, "1", ids, nids, NULL, NULL, &col);
    for (size_t i = 0; i < nids; i++)
        ck_assert_int_ne(col.status[i], SHUFFLE_OK);
    collector_free(&col);
    ck_assert_int_ne(register_executor_sync(c, daemon_port, "app-1", "2",
                                            (const char *const *)man.local_dirs, man.num_dirs),
                     SHUFFLE_OK);
    ck_assert_msg(strstr(shuffle_last_error(c), "allowed_local_dir_roots"), "%s",
                  shuffle_last_error(c));

    snprintf(roots, sizeof(roots), "[\"%s\"]", data_root);
    ck_assert(write_daemon_config(config_port, roots));
    kill(daemon_pid, SIGHUP);
    fetch_until(c, ids[0], true);
    fetch_wait(c, "1", ids, nids, NULL, NULL, &col);
    assert_ok(&col, ids);
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
    const char *b = getenv("SHUFFLE_BUILDDIR");
    snprintf(builddir, sizeof(builddir), "%s", b && *b ? b : ".");
    char gen[1100], exe[1100];
    snprintf(gen, sizeof(gen), "%s/gen-shuffle-data", builddir);
    snprintf(exe, sizeof(exe), "%s/shuffled", builddir);
    if (access(exe, X_OK) != 0) {
        printf("SKIP: no shuffled in %s yet\n", builddir);
        return 77;
    }
    /* without gen-shuffle-data (block service not built yet) only the tests that
     * need no dataset run */
    bool have_data = access(gen, X_OK) == 0;
    snprintf(tmp, sizeof(tmp), "/tmp/libshuffle-daemon-XXXXXX");
    if (!mkdtemp(tmp))
        return 1;
    snprintf(data_root, sizeof(data_root), "%s/data", tmp);
    snprintf(state_dir, sizeof(state_dir), "%s/state", tmp);
    snprintf(cfg_path, sizeof(cfg_path), "%s/shuffled.json", tmp);
    snprintf(port_path, sizeof(port_path), "%s/port", tmp);
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
    Suite *s = suite_create("client_daemon");
    TCase *tc = tcase_create("daemon");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_error_reply_any_service);
    tcase_add_test(tc, test_stopped_daemon_times_out);
    if (have_data) {
        tcase_add_loop_test(tc, test_every_block, 0, 2);
        tcase_add_test(tc, test_batch_and_to_file);
        tcase_add_test(tc, test_server_errors_not_retried);
        tcase_add_test(tc, test_killed_and_restarted);
        tcase_add_test(tc, test_dead_daemon_retries_exhausted);
        tcase_add_test(tc, test_many_threads);
        tcase_add_test(tc, test_reload_allowed_roots);
    }
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    int failed = 1;
    if (daemon_start(0)) {
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
    } else {
        fprintf(stderr, "shuffled did not start (config %s)\n", cfg_path);
    }
    srunner_free(sr);
    if (daemon_pid && !daemon_kill(SIGTERM))
        failed = 1;
    free(ids);
    manifest_free(&man);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    run_or_die(cmd);
    return failed ? 1 : 0;
}

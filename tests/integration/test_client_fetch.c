/* SPDX-License-Identifier: Apache-2.0 */
/* libshuffle's fetch behaviour against the scripted fake service: every block
 * arrives exactly once with the right bytes (both protocols, batch, fetch-to-file,
 * many threads), and failures follow Spark's RetryingBlockFetcher: I/O failures
 * are retried on a fresh connection for the outstanding blocks only, server error
 * replies are not, and every block is reported exactly once either way. */
#include <config.h>

#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../harness/client.h"
#include "../harness/port.h"
#include "client_util.h"
#include "fake_ess.h"
#include "shuffle/client.h"
#include "shuffle/sync.h"
#include "../check_main.h"

static struct manifest man;

static const char *shuffle0[] = {"shuffle_0_0_0", "shuffle_0_0_1", "shuffle_0_0_2",
                                 "shuffle_0_0_3", "shuffle_0_1_0", "shuffle_0_1_1",
                                 "shuffle_0_1_2", "shuffle_0_1_3", "shuffle_0_2_0",
                                 "shuffle_0_2_1", "shuffle_0_2_2", "shuffle_0_2_3"};
static const char *shuffle1[] = {"shuffle_1_0_0", "shuffle_1_0_1"};
static const char *rdd3[] = {"rdd_3_0", "rdd_3_1"};

static shuffle_client *new_client(int max_retries, int retry_wait_ms, int timeout_ms, bool old)
{
    return harness_client(max_retries, retry_wait_ms, timeout_ms, old);
}

/* Fetches ids and waits; the collector is the caller's to check and free. */
static void fetch(shuffle_client *cl, int port, const char *const *ids, size_t n,
                  const uint64_t *sizes, struct collector *col)
{
    collector_fetch_wait(col, cl, &man, "127.0.0.1", port, "app-cap", "1", ids, n, sizes);
}

static void assert_all_ok(struct collector *col, const char *const *ids)
{
    collector_assert_all_ok(col, ids);
}

static void assert_all_failed(struct collector *col, int status, const char *needle)
{
    collector_assert_all_failed(col, status, needle);
    ck_assert_uint_eq(col->done_failed, col->n);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(test_every_block_both_protocols)
{
    bool old = _i == 1;
    struct fake_ess_opts fo = {.manifest = &man};
    struct fake_ess *fs = fake_ess_start(&fo);
    shuffle_client *cl = new_client(0, 10, 10000, old);
    struct collector c0, c1, c2;
    fetch(cl, fake_ess_port(fs), shuffle0, N(shuffle0), NULL, &c0);
    fetch(cl, fake_ess_port(fs), shuffle1, N(shuffle1), NULL, &c1);
    fetch(cl, fake_ess_port(fs), rdd3, N(rdd3), NULL, &c2);
    assert_all_ok(&c0, shuffle0);
    assert_all_ok(&c1, shuffle1);
    assert_all_ok(&c2, rdd3);
    shuffle_client_free(cl);
    ck_assert_int_eq(fake_ess_connections(fs), 1); /* pooled */
    ck_assert_int_eq(fake_ess_fetch_rpcs(fs), 3);
    collector_free(&c0);
    collector_free(&c1);
    collector_free(&c2);
    fake_ess_stop(fs);
}
END_TEST

START_TEST(test_batch_ranges)
{
    const char *ids[] = {"shuffle_0_0_0_4", "shuffle_0_1_1_3", "shuffle_0_2_0_1"};
    struct fake_ess_opts fo = {.manifest = &man};
    struct fake_ess *fs = fake_ess_start(&fo);
    shuffle_client *cl = new_client(0, 10, 10000, false);
    struct collector c;
    fetch(cl, fake_ess_port(fs), ids, N(ids), NULL, &c);
    assert_all_ok(&c, ids);
    ck_assert_int_eq(fake_ess_fetch_rpc_blocks(fs, 0), 3); /* one chunk per range */
    shuffle_client_free(cl);
    collector_free(&c);
    fake_ess_stop(fs);
}
END_TEST

static char kept_path[512];
static void keep_block(void *arg, const struct shuffle_block *b)
{
    if (b->path && !kept_path[0])
        snprintf(kept_path, sizeof(kept_path), "%s", b->path);
    collector_on_block(arg, b);
}

START_TEST(test_fetch_to_file_above_threshold)
{
    const char *ids[] = {"shuffle_1_0_0", "shuffle_1_0_1"};
    const char *small[] = {"shuffle_0_0_0", "shuffle_0_1_3"};
    uint64_t sizes[] = {307200, 307200}, small_sizes[] = {103, 0};
    struct fake_ess_opts fo = {.manifest = &man};
    struct fake_ess *fs = fake_ess_start(&fo);
    struct shuffle_client_options o;
    shuffle_client_options_init(&o);
    o.fetch_to_file_bytes = 1000;
    o.max_retries = 0;
    shuffle_client *cl = harness_client_with(&o);
    struct collector c, cs;
    collector_init(&c, &man, 2);
    kept_path[0] = 0;
    struct shuffle_fetch_request r = {.struct_size = sizeof(r),
                                      .host = "127.0.0.1",
                                      .port = fake_ess_port(fs),
                                      .app_id = "app-cap",
                                      .exec_id = "1",
                                      .block_ids = ids,
                                      .num_blocks = 2,
                                      .sizes = sizes,
                                      .on_block = keep_block,
                                      .on_done = collector_on_done,
                                      .arg = &c};
    ck_assert_int_eq(shuffle_fetch_blocks(cl, &r), SHUFFLE_OK);
    collector_wait(&c);
    assert_all_ok(&c, ids);
    ck_assert_int_eq(c.via_file, 2);
    ck_assert(kept_path[0]);
    ck_assert_msg(access(kept_path, F_OK) != 0, "temp file %s left behind", kept_path);
    fetch(cl, fake_ess_port(fs), small, 2, small_sizes, &cs);
    assert_all_ok(&cs, small);
    ck_assert_int_eq(cs.via_file, 0);
    shuffle_client_free(cl);
    collector_free(&c);
    collector_free(&cs);
    fake_ess_stop(fs);
}
END_TEST

/* Bound once but never listening: connects are refused. */
static int closed_port(void)
{
    int port = harness_free_port();
    ck_assert_int_gt(port, 0);
    return port;
}
START_TEST(test_connection_refused)
{
    shuffle_client *cl = new_client(2, 10, 10000, false);
    struct collector c;
    fetch(cl, closed_port(), shuffle0, 4, NULL, &c);
    assert_all_failed(&c, SHUFFLE_EIO, "Failed to connect to 127.0.0.1:");
    ck_assert(strstr(c.error[0], "gave up after 2 retries"));
    shuffle_client_free(cl);
    collector_free(&c);
}
END_TEST

START_TEST(test_server_never_answers)
{
    struct fake_ess_opts fo = {.manifest = &man, .silent = 1};
    struct fake_ess *fs = fake_ess_start(&fo);
    shuffle_client *cl = new_client(0, 10, 300, false);
    struct collector c;
    fetch(cl, fake_ess_port(fs), shuffle0, 5, NULL, &c);
    assert_all_failed(&c, SHUFFLE_EIO, "has been quiet for");
    /* the timed-out connection was dropped: the next request opens a new one */
    uint8_t *reply;
    size_t rlen;
    const uint8_t hb[] = {5, 0, 0, 0, 1, 'a'};
    ck_assert_int_eq(
        shuffle_rpc_sync(cl, "127.0.0.1", fake_ess_port(fs), hb, sizeof(hb), &reply, &rlen),
        SHUFFLE_EIO);
    ck_assert(reply == NULL);
    ck_assert_int_eq(fake_ess_connections(fs), 2);
    shuffle_client_free(cl);
    collector_free(&c);
    fake_ess_stop(fs);
}
END_TEST

START_TEST(test_close_mid_fetch_then_back)
{
    struct fake_ess_opts fo = {.manifest = &man, .close_after_chunks = 3, .close_conns = 1};
    struct fake_ess *fs = fake_ess_start(&fo);
    shuffle_client *cl = new_client(3, 20, 10000, false);
    struct collector c;
    fetch(cl, fake_ess_port(fs), shuffle0, N(shuffle0), NULL, &c);
    assert_all_ok(&c, shuffle0);
    shuffle_client_free(cl);
    ck_assert_int_eq(fake_ess_connections(fs), 2);
    ck_assert_int_eq(fake_ess_fetch_rpcs(fs), 2);
    ck_assert_int_eq(fake_ess_fetch_rpc_blocks(fs, 0), 12);
    ck_assert_int_eq(fake_ess_fetch_rpc_blocks(fs, 1), 9); /* only the outstanding ones */
    collector_free(&c);
    fake_ess_stop(fs);
}
END_TEST

START_TEST(test_retries_exhausted)
{
    struct fake_ess_opts fo = {.manifest = &man, .close_on_accept = -1};
    struct fake_ess *fs = fake_ess_start(&fo);
    shuffle_client *cl = new_client(2, 10, 10000, _i == 1);
    struct collector c;
    fetch(cl, fake_ess_port(fs), shuffle0, N(shuffle0), NULL, &c);
    assert_all_failed(&c, SHUFFLE_EIO, "gave up after 2 retries");
    shuffle_client_free(cl);
    ck_assert_int_eq(fake_ess_connections(fs), 3); /* 1 + max_retries */
    collector_free(&c);
    fake_ess_stop(fs);
}
END_TEST

START_TEST(test_server_error_not_retried)
{
    const char *text = "java.lang.RuntimeException: Executor is not registered (appId=app-cap, "
                       "execId=1)\n\tat org.example.Fake";
    struct fake_ess_opts fo = {.manifest = &man, .fetch_error = text};
    struct fake_ess *fs = fake_ess_start(&fo);
    shuffle_client *cl = new_client(3, 10, 10000, false);
    struct collector c;
    fetch(cl, fake_ess_port(fs), shuffle0, 6, NULL, &c);
    assert_all_failed(&c, SHUFFLE_ESERVER, "Executor is not registered (appId=app-cap");
    ck_assert(strstr(c.error[0], "127.0.0.1:"));         /* the peer */
    ck_assert(strstr(c.error[0], "FetchShuffleBlocks")); /* the operation */
    ck_assert_int_eq(fake_ess_fetch_rpcs(fs), 1);
    shuffle_client_free(cl);
    collector_free(&c);
    fake_ess_stop(fs);
}
END_TEST

START_TEST(test_chunk_failure_fails_rest_not_retried)
{
    /* grouped by map id: chunk order is 0_0_1, 0_0_2, 0_9_0 */
    const char *ids[] = {"shuffle_0_0_1", "shuffle_0_9_0", "shuffle_0_0_2"};
    struct fake_ess_opts fo = {.manifest = &man};
    struct fake_ess *fs = fake_ess_start(&fo);
    shuffle_client *cl = new_client(3, 10, 10000, false);
    struct collector c;
    fetch(cl, fake_ess_port(fs), ids, 3, NULL, &c);
    ck_assert_int_eq(c.status[0], SHUFFLE_OK);
    ck_assert_int_eq(c.status[2], SHUFFLE_OK);
    ck_assert(c.verified[0] && c.verified[2]);
    ck_assert_int_eq(c.status[1], SHUFFLE_ESERVER);
    ck_assert(strstr(c.error[1], "Failure while fetching StreamChunkId[streamId="));
    ck_assert(strstr(c.error[1], "Failed to open file"));
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(c.count[i], 1);
    ck_assert_int_eq(fake_ess_fetch_rpcs(fs), 1);
    shuffle_client_free(cl);
    collector_free(&c);
    fake_ess_stop(fs);
}
END_TEST

struct thread_arg {
    shuffle_client *cl;
    int port;
    int ok;
};

static void *fetch_thread(void *p)
{
    struct thread_arg *a = p;
    for (int k = 0; k < 15; k++) {
        struct shuffle_fetch_request r = {.struct_size = sizeof(r),
                                          .host = "127.0.0.1",
                                          .port = a->port,
                                          .app_id = "app-cap",
                                          .exec_id = "1",
                                          .block_ids = k % 3 ? shuffle0 : rdd3,
                                          .num_blocks = k % 3 ? N(shuffle0) : N(rdd3)};
        struct shuffle_fetch_result *res;
        int rc = shuffle_fetch_blocks_sync(a->cl, &r, &res);
        bool good = rc == SHUFFLE_OK;
        for (size_t i = 0; good && i < r.num_blocks; i++) {
            uint64_t len;
            uint8_t *want = manifest_read(&man, r.block_ids[i], &len);
            good = want && res[i].status == SHUFFLE_OK && res[i].len == len &&
                   (len == 0 || !memcmp(res[i].data, want, len));
            free(want);
        }
        shuffle_fetch_results_free(res, r.num_blocks);
        a->ok += good;
    }
    return NULL;
}

START_TEST(test_many_threads_one_client)
{
    struct fake_ess_opts fo = {.manifest = &man};
    struct fake_ess *fs = fake_ess_start(&fo);
    struct shuffle_client_options o;
    shuffle_client_options_init(&o);
    o.connections_per_peer = 3;
    shuffle_client *cl = harness_client_with(&o);
    pthread_t th[8];
    struct thread_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i] = (struct thread_arg){cl, fake_ess_port(fs), 0};
        pthread_create(&th[i], NULL, fetch_thread, &args[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(args[i].ok, 15);
    }
    ck_assert_int_le(fake_ess_connections(fs), 3);
    shuffle_client_free(cl);
    fake_ess_stop(fs);
}
END_TEST

START_TEST(test_free_fails_outstanding_once)
{
    struct fake_ess_opts fo = {.manifest = &man, .silent = 1};
    struct fake_ess *fs = fake_ess_start(&fo);
    shuffle_client *cl = new_client(3, 10, 60000, false);
    struct collector c;
    collector_init(&c, &man, 5);
    struct shuffle_fetch_request r = {.struct_size = sizeof(r),
                                      .host = "127.0.0.1",
                                      .port = fake_ess_port(fs),
                                      .app_id = "app-cap",
                                      .exec_id = "1",
                                      .block_ids = shuffle0,
                                      .num_blocks = 5,
                                      .on_block = collector_on_block,
                                      .on_done = collector_on_done,
                                      .arg = &c};
    ck_assert_int_eq(shuffle_fetch_blocks(cl, &r), SHUFFLE_OK);
    shuffle_client_free(cl);
    ck_assert_int_eq(c.done_calls, 1);
    assert_all_failed(&c, SHUFFLE_ECANCELED, "shut down");
    collector_free(&c);
    fake_ess_stop(fs);
}
END_TEST

START_TEST(test_register_attempts)
{
    struct fake_ess_opts fo = {.manifest = &man, .close_on_accept = -1};
    struct fake_ess *fs = fake_ess_start(&fo);
    struct shuffle_client_options o;
    shuffle_client_options_init(&o);
    o.registration_attempts = 2;
    o.retry_wait_ms = 10;
    shuffle_client *cl = harness_client_with(&o);
    const char *dirs[] = {"/tmp/d0"};
    ck_assert_int_eq(harness_register_executor(cl, fake_ess_port(fs), "app", "1", dirs, 1, "sort"),
                     SHUFFLE_EIO);
    const char *err = shuffle_last_error(cl);
    ck_assert_msg(strstr(err, "RegisterExecutor") && strstr(err, "attempt 2 of 2"), "%s", err);
    ck_assert_int_eq(fake_ess_connections(fs), 2);
    shuffle_client_free(cl);
    fake_ess_stop(fs);
}
END_TEST

START_TEST(test_bad_ids_fail_locally)
{
    const char *ids[] = {"shuffle_0_0_0", "shuffle_1_0_0"};
    struct fake_ess_opts fo = {.manifest = &man};
    struct fake_ess *fs = fake_ess_start(&fo);
    shuffle_client *cl = new_client(3, 10, 10000, false);
    struct collector c;
    fetch(cl, fake_ess_port(fs), ids, 2, NULL, &c);
    assert_all_failed(&c, SHUFFLE_EINVAL, "Expected shuffleId=0, got:shuffle_1_0_0");
    ck_assert_int_eq(fake_ess_fetch_rpcs(fs), 0);
    shuffle_client_free(cl);
    collector_free(&c);
    fake_ess_stop(fs);
}
END_TEST

START_TEST(test_malformed_replies)
{
    /* bytes that are no frame: the connection is dropped, every block fails once */
    struct fake_ess_opts fo = {.manifest = &man, .garbage = 1};
    struct fake_ess *fs = fake_ess_start(&fo);
    shuffle_client *cl = new_client(3, 10, 10000, false);
    struct collector c;
    fetch(cl, fake_ess_port(fs), shuffle0, 4, NULL, &c);
    assert_all_failed(&c, SHUFFLE_EPROTO, "Malformed data from 127.0.0.1:");
    shuffle_client_free(cl);
    collector_free(&c);
    fake_ess_stop(fs);
    /* a well-formed reply of the wrong type */
    struct fake_ess_opts fo2 = {.manifest = &man, .wrong_reply = 1};
    fs = fake_ess_start(&fo2);
    cl = new_client(3, 10, 10000, false);
    fetch(cl, fake_ess_port(fs), shuffle0, 4, NULL, &c);
    assert_all_failed(&c, SHUFFLE_EPROTO, "expected a StreamHandle reply, got BlocksRemoved");
    ck_assert_int_eq(fake_ess_fetch_rpcs(fs), 1);
    shuffle_client_free(cl);
    collector_free(&c);
    fake_ess_stop(fs);
}
END_TEST

struct stream_sink {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    int status;
    uint64_t announced;
    uint8_t *buf;
    size_t len;
};

static void sink_start(void *arg, uint64_t n)
{
    struct stream_sink *s = arg;
    s->announced = n;
}

static int sink_data(void *arg, const uint8_t *d, size_t n)
{
    struct stream_sink *s = arg;
    s->buf = realloc(s->buf, s->len + n);
    memcpy(s->buf + s->len, d, n);
    s->len += n;
    return 0;
}

static void sink_done(void *arg, int status, const char *error)
{
    struct stream_sink *s = arg;
    pthread_mutex_lock(&s->lock);
    s->status = status;
    s->done = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

START_TEST(test_raw_rpc_and_stream)
{
    /* OpenBlocks by hand through the raw RPC, then the block through the stream API
     * on the same pooled connection, its bytes handed over as they arrive */
    struct fake_ess_opts fo = {.manifest = &man};
    struct fake_ess *fs = fake_ess_start(&fo);
    shuffle_client *cl = new_client(0, 10, 10000, false);
    static const uint8_t open_blocks[] = {
        0, 0, 0, 0, 7, 'a', 'p', 'p', '-', 'c', 'a', 'p', 0,   0,   0,   1,   '1', 0,   0,
        0, 1, 0, 0, 0, 13,  's', 'h', 'u', 'f', 'f', 'l', 'e', '_', '1', '_', '0', '_', '1'};
    uint8_t *reply;
    size_t rlen;
    ck_assert_int_eq(shuffle_rpc_sync(cl, "127.0.0.1", fake_ess_port(fs), open_blocks,
                                      sizeof(open_blocks), &reply, &rlen),
                     SHUFFLE_OK);
    ck_assert_uint_eq(rlen, 13);
    ck_assert_int_eq(reply[0], 3); /* StreamHandle */
    long long sid = 0;
    for (int i = 1; i <= 8; i++)
        sid = (sid << 8) | reply[i];
    free(reply);
    char stream_id[64];
    snprintf(stream_id, sizeof(stream_id), "%lld_0", sid);
    struct stream_sink sink = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    struct shuffle_stream_handler h = {sizeof(h), sink_start, sink_data, sink_done, &sink};
    ck_assert_int_eq(shuffle_fetch_stream(cl, "127.0.0.1", fake_ess_port(fs), stream_id, &h),
                     SHUFFLE_OK);
    pthread_mutex_lock(&sink.lock);
    while (!sink.done)
        pthread_cond_wait(&sink.cond, &sink.lock);
    pthread_mutex_unlock(&sink.lock);
    ck_assert_int_eq(sink.status, SHUFFLE_OK);
    uint64_t len;
    uint8_t *want = manifest_read(&man, "shuffle_1_0_1", &len);
    ck_assert_uint_eq(sink.announced, len);
    ck_assert_uint_eq(sink.len, len);
    ck_assert(!memcmp(sink.buf, want, len));
    free(want);
    free(sink.buf);
    /* an RPC the service does not handle: the server's text comes back, with the peer */
    static const uint8_t upload[] = {1, 0, 0, 0,   1, 'a', 0, 0, 0, 1, '0', 0,
                                     0, 0, 1, 'b', 0, 0,   0, 0, 0, 0, 0,   0};
    ck_assert_int_eq(
        shuffle_rpc_sync(cl, "127.0.0.1", fake_ess_port(fs), upload, sizeof(upload), &reply, &rlen),
        SHUFFLE_ESERVER);
    const char *err = shuffle_last_error(cl);
    ck_assert_msg(strstr(err, "Unexpected message") && strstr(err, "127.0.0.1:"), "%s", err);
    ck_assert_int_eq(
        shuffle_send_oneway(cl, "127.0.0.1", fake_ess_port(fs), upload, sizeof(upload)),
        SHUFFLE_OK);
    shuffle_client_free(cl);
    ck_assert_int_eq(fake_ess_connections(fs), 1);
    fake_ess_stop(fs);
}
END_TEST

int main(void)
{
    check_require_shared_vectors();
    load_vectors_manifest(&man);
    int status = check_main(
        &(struct check_case){.suite = "client_fetch",
                             .name = "fetch",
                             .timeout_s = 60,
                             .loops = 2,
                             .looped = {test_every_block_both_protocols, test_retries_exhausted}},
        CHECK_TESTS(test_every_block_both_protocols, test_batch_ranges,
                    test_fetch_to_file_above_threshold, test_connection_refused,
                    test_server_never_answers, test_close_mid_fetch_then_back,
                    test_retries_exhausted, test_server_error_not_retried,
                    test_chunk_failure_fails_rest_not_retried, test_many_threads_one_client,
                    test_free_fails_outstanding_once, test_register_attempts,
                    test_bad_ids_fail_locally, test_malformed_replies, test_raw_rpc_and_stream));
    manifest_free(&man);
    return status;
}

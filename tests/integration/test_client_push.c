/* SPDX-License-Identifier: Apache-2.0 */
/* libshuffle's pusher against a scripted service (replay_ess.c in scripted mode): what each
 * BlockPushReturnCode does to the other blocks (a collision fails one block, too late /
 * stale / too-old attempt stop the push), an RpcFailure fails one block, a connection lost
 * after it was up is retried with the unanswered blocks only, a connect failure is not
 * retried, max_in_flight bounds the unanswered pushes, bad ids are refused. */
#include <config.h>

#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../harness/client.h"
#include "../harness/port.h"
#include "proto/blockmsg.h"
#include "proto/message.h"
#include "replay_ess.h"
#include "shuffle/push.h"
#include "tclient.h"
#include "../check_main.h"

#define NBLOCKS 6

/* What the scripted service does with the push of map index `map`. */
enum action { ANSWER_OK, ANSWER_CODE, ANSWER_RPC_FAILURE, CLOSE_UNANSWERED, CODE_THEN_CLOSE };

struct script {
    enum action action[NBLOCKS];
    int code[NBLOCKS];
    int close_conns; /* CLOSE_UNANSWERED only on the first close_conns connections */
    /* what it saw */
    atomic_int pushes, pushes_by_map[NBLOCKS];
    int32_t last_index[NBLOCKS];
    uint64_t body_len[NBLOCKS];
    bool silent;         /* never answers (the in-flight bound) */
    int request_timeout; /* the client's, ms; 0: 10 s */
};

static int send_return_code(int fd, int64_t id, int code, const char *block_id)
{
    struct blockmsg b = {.type = BLOCKMSG_BLOCK_PUSH_RETURN_CODE};
    b.u.block_push_return_code.return_code = (uint8_t)code;
    b.u.block_push_return_code.failure_block_id.data = (char *)block_id;
    b.u.block_push_return_code.failure_block_id.len = (uint32_t)strlen(block_id);
    struct proto_writer w;
    proto_writer_init(&w);
    blockmsg_encode(&w, &b);
    struct proto_msg m = {.type = PROTO_RPC_RESPONSE};
    m.u.rpc.request_id = id;
    m.u.rpc.body.data = w.buf;
    m.u.rpc.body.len = (uint32_t)w.len;
    int rc = tc_send_msg(fd, &m);
    proto_writer_free(&w);
    return rc;
}

static int send_rpc_failure(int fd, int64_t id, const char *text)
{
    struct proto_msg m = {.type = PROTO_RPC_FAILURE};
    m.u.rpc_failure.request_id = id;
    m.u.rpc_failure.error.data = (const uint8_t *)text;
    m.u.rpc_failure.error.len = (uint32_t)strlen(text);
    return tc_send_msg(fd, &m);
}

static int answer(void *ctx, int fd, int conn, uint8_t type, const uint8_t *content, size_t len,
                  const uint8_t *after, size_t after_len)
{
    struct script *s = ctx;
    struct proto_msg m;
    struct blockmsg b;
    char err[200];
    memset(&b, 0, sizeof(b));
    if (type != PROTO_UPLOAD_STREAM || proto_msg_decode(type, content, len, &m, err, 200) != 0 ||
        blockmsg_decode(m.u.upload_stream.meta.data, m.u.upload_stream.meta.len, &b, err, 200) ||
        b.type != BLOCKMSG_PUSH_BLOCK_STREAM || b.u.push_block_stream.map_index >= NBLOCKS) {
        blockmsg_free(&b);
        return -1;
    }
    int map = b.u.push_block_stream.map_index;
    char block_id[64];
    snprintf(block_id, sizeof(block_id), "shufflePush_%d_%d_%d_%d",
             b.u.push_block_stream.shuffle_id, b.u.push_block_stream.shuffle_merge_id, map,
             b.u.push_block_stream.reduce_id);
    s->last_index[map] = b.u.push_block_stream.index;
    s->body_len[map] = after_len;
    blockmsg_free(&b);
    atomic_fetch_add(&s->pushes, 1);
    atomic_fetch_add(&s->pushes_by_map[map], 1);
    int64_t id = m.u.upload_stream.request_id;
    if (s->silent)
        return 0;
    switch (s->action[map]) {
    case ANSWER_CODE:
        return send_return_code(fd, id, s->code[map], block_id);
    case CODE_THEN_CLOSE: /* as Spark after TOO_OLD_ATTEMPT_PUSH */
        send_return_code(fd, id, s->code[map], block_id);
        return -1;
    case ANSWER_RPC_FAILURE:
        return send_rpc_failure(fd, id, "java.lang.RuntimeException: merge manager broke");
    case CLOSE_UNANSWERED:
        if (conn < s->close_conns)
            return -1;
        /* fall through */
    case ANSWER_OK:
        break;
    }
    return send_return_code(fd, id, 0, "");
}

/* What the client reported. */
struct outcome {
    int status[NBLOCKS], code[NBLOCKS];
    char error[NBLOCKS][200];
};

static int push_all(struct script *s, struct outcome *out, int max_retries, size_t max_in_flight,
                    int *connections)
{
    struct replay_ess *rs = replay_ess_start_scripted(answer, s);
    ck_assert(rs != NULL);
    shuffle_client *cl =
        harness_client(max_retries, 50, s->request_timeout ? s->request_timeout : 10000, false);
    static uint8_t bodies[NBLOCKS][1000];
    const uint8_t *data[NBLOCKS];
    uint64_t sizes[NBLOCKS];
    char ids[NBLOCKS][64];
    const char *idp[NBLOCKS];
    for (int i = 0; i < NBLOCKS; i++) {
        memset(bodies[i], 'a' + i, sizeof(bodies[i]));
        data[i] = bodies[i];
        sizes[i] = 100 + 100 * (uint64_t)i;
        snprintf(ids[i], sizeof(ids[i]), "shufflePush_4_1_%d_7", i);
        idp[i] = ids[i];
    }
    struct shuffle_push_request r;
    shuffle_push_request_init(&r);
    r.host = "127.0.0.1";
    r.port = replay_ess_port(rs);
    r.app_id = "app-push";
    r.app_attempt_id = 2;
    r.block_ids = idp;
    r.data = data;
    r.sizes = sizes;
    r.num_blocks = NBLOCKS;
    r.max_in_flight = max_in_flight;
    struct shuffle_push_outcome *o;
    int rc = shuffle_push_blocks_sync(cl, &r, &o);
    ck_assert(o != NULL);
    for (int i = 0; i < NBLOCKS; i++) {
        out->status[i] = o[i].status;
        out->code[i] = o[i].return_code;
        snprintf(out->error[i], sizeof(out->error[i]), "%s", o[i].error ? o[i].error : "");
    }
    shuffle_push_outcomes_free(o, NBLOCKS);
    shuffle_client_free(cl);
    if (connections)
        *connections = replay_ess_connections(rs);
    replay_ess_stop(rs);
    return rc;
}

START_TEST(test_collision_fails_one_block)
{
    struct script s = {.action = {[2] = ANSWER_CODE}, .code = {[2] = SHUFFLE_PUSH_COLLISION}};
    struct outcome o;
    ck_assert_int_eq(push_all(&s, &o, 0, 1, NULL), SHUFFLE_ESERVER);
    for (int i = 0; i < NBLOCKS; i++)
        ck_assert_int_eq(o.status[i], i == 2 ? SHUFFLE_ESERVER : SHUFFLE_OK);
    ck_assert_int_eq(o.code[2], SHUFFLE_PUSH_COLLISION);
    ck_assert_str_eq(o.error[2],
                     "Block shufflePush_4_1_2_7 experienced merge collision on the server side");
    ck_assert_int_eq(atomic_load(&s.pushes), NBLOCKS);
    for (int i = 0; i < NBLOCKS; i++) { /* meta and body as given */
        ck_assert_int_eq(s.last_index[i], i);
        ck_assert_uint_eq(s.body_len[i], 100 + 100 * (uint64_t)i);
    }
}
END_TEST

/* too late, stale, too old: that block and every one not yet sent fail with its code. */
START_TEST(test_final_codes_stop_pushing)
{
    const int codes[] = {SHUFFLE_PUSH_TOO_LATE, SHUFFLE_PUSH_STALE, SHUFFLE_PUSH_TOO_OLD_ATTEMPT};
    struct script s = {.action = {[1] = ANSWER_CODE}, .code = {[1] = codes[_i]}};
    struct outcome o;
    ck_assert_int_eq(push_all(&s, &o, 3, 1, NULL), SHUFFLE_ESERVER);
    ck_assert_int_eq(o.status[0], SHUFFLE_OK);
    for (int i = 1; i < NBLOCKS; i++) {
        ck_assert_int_eq(o.status[i], SHUFFLE_ESERVER);
        ck_assert_int_eq(o.code[i], codes[_i]);
        ck_assert_str_eq(o.error[i], o.error[1]);
    }
    ck_assert(strncmp(o.error[1], "Block shufflePush_4_1_1_7 is ", 29) == 0);
    ck_assert_int_eq(atomic_load(&s.pushes), 2); /* nothing after the refusal went out */
}
END_TEST

/* All pushed at once; the refusal of block 1 fails blocks 1.. even though they were sent, and
 * the connection the server then closes is not retried. */
START_TEST(test_refusal_fails_blocks_in_flight)
{
    struct script s = {.action = {[1] = CODE_THEN_CLOSE},
                       .code = {[1] = SHUFFLE_PUSH_TOO_OLD_ATTEMPT}};
    struct outcome o;
    int conns;
    ck_assert_int_eq(push_all(&s, &o, 2, NBLOCKS, &conns), SHUFFLE_ESERVER);
    ck_assert_int_eq(conns, 1);
    ck_assert_int_eq(o.status[0], SHUFFLE_OK);
    for (int i = 1; i < NBLOCKS; i++) {
        ck_assert_int_eq(o.code[i], SHUFFLE_PUSH_TOO_OLD_ATTEMPT);
        ck_assert_str_eq(o.error[i], "Block shufflePush_4_1_1_7 is from an older app attempt");
    }
}
END_TEST

START_TEST(test_rpc_failure_fails_one_block)
{
    struct script s = {.action = {[3] = ANSWER_RPC_FAILURE}};
    struct outcome o;
    ck_assert_int_eq(push_all(&s, &o, 0, 2, NULL), SHUFFLE_ESERVER);
    for (int i = 0; i < NBLOCKS; i++)
        ck_assert_int_eq(o.status[i], i == 3 ? SHUFFLE_ESERVER : SHUFFLE_OK);
    ck_assert_int_eq(o.code[3], 0);
    ck_assert_msg(strstr(o.error[3], "merge manager broke") != NULL, "%s", o.error[3]);
}
END_TEST

/* The connection dies with block 2 unanswered: a new connection carries blocks 2.. again,
 * indexed from 0; blocks 0 and 1 are not pushed twice. */
START_TEST(test_lost_connection_retries_unanswered)
{
    struct script s = {.action = {[2] = CLOSE_UNANSWERED}, .close_conns = 1};
    struct outcome o;
    int conns;
    ck_assert_int_eq(push_all(&s, &o, 1, 1, &conns), SHUFFLE_OK);
    ck_assert_int_eq(conns, 2);
    for (int i = 0; i < NBLOCKS; i++) {
        ck_assert_int_eq(o.status[i], SHUFFLE_OK);
        ck_assert_int_eq(atomic_load(&s.pushes_by_map[i]), i == 2 ? 2 : 1);
    }
    ck_assert_int_eq(s.last_index[2], 0);
    ck_assert_int_eq(s.last_index[5], 3);
}
END_TEST

START_TEST(test_retries_exhausted)
{
    struct script s = {.action = {[2] = CLOSE_UNANSWERED}, .close_conns = 9};
    struct outcome o;
    int conns;
    ck_assert_int_eq(push_all(&s, &o, 1, 1, &conns), SHUFFLE_EIO);
    ck_assert_int_eq(conns, 2);
    ck_assert_int_eq(o.status[1], SHUFFLE_OK);
    for (int i = 2; i < NBLOCKS; i++) {
        ck_assert_int_eq(o.status[i], SHUFFLE_EIO);
        ck_assert_msg(strstr(o.error[i], "gave up after 1 retries") != NULL, "%s", o.error[i]);
    }
}
END_TEST

START_TEST(test_connect_failure_not_retried)
{
    shuffle_client *cl = harness_client(3, 3000, 10000, false);
    uint8_t byte = 1;
    const uint8_t *data[] = {&byte};
    uint64_t size = 1;
    const char *ids[] = {"shufflePush_0_0_0_0"};
    struct shuffle_push_request r;
    shuffle_push_request_init(&r);
    r.host = "127.0.0.1";
    r.port = harness_free_port();
    r.app_id = "app";
    r.block_ids = ids;
    r.data = data;
    r.sizes = &size;
    r.num_blocks = 1;
    struct shuffle_push_outcome *o;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(shuffle_push_blocks_sync(cl, &r, &o), SHUFFLE_EIO);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 2); /* no 3 s retry wait */
    ck_assert_msg(strstr(o[0].error, "onnect") != NULL, "%s", o[0].error);
    shuffle_push_outcomes_free(o, 1);
    shuffle_client_free(cl);
}
END_TEST

/* A silent service sees exactly max_in_flight pushes before the client gives up. */
START_TEST(test_in_flight_bound)
{
    struct script s = {.silent = true, .request_timeout = 500};
    struct outcome o;
    ck_assert_int_eq(push_all(&s, &o, 0, 2, NULL), SHUFFLE_EIO);
    ck_assert_int_eq(atomic_load(&s.pushes), 2);
    for (int i = 0; i < NBLOCKS; i++)
        ck_assert_int_eq(o.status[i], SHUFFLE_EIO);
}
END_TEST

/* Whether SIGPIPE is blocked in the thread running the callback (libshuffle's loop). */
static void note_sigpipe(void *arg, const struct shuffle_push_result *r)
{
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    *(int *)arg = sigismember(&cur, SIGPIPE);
}

static void signal_done(void *arg, size_t ok, size_t failed) {}

/* Every write happens on the loop thread, which has SIGPIPE blocked: a server closing a
 * connection while a body is being written gives EPIPE there, not a signal that would end the
 * caller's process (the caller's own threads keep their mask). */
START_TEST(test_loop_thread_blocks_sigpipe)
{
    struct script s = {.action = {[0] = ANSWER_OK}};
    struct replay_ess *rs = replay_ess_start_scripted(answer, &s);
    shuffle_client *cl = harness_client(0, 50, 10000, false);
    uint8_t byte = 1;
    const uint8_t *data[] = {&byte};
    uint64_t size = 1;
    const char *ids[] = {"shufflePush_0_0_0_0"};
    int blocked = -1;
    struct shuffle_push_request r;
    shuffle_push_request_init(&r);
    r.host = "127.0.0.1";
    r.port = replay_ess_port(rs);
    r.app_id = "app";
    r.block_ids = ids;
    r.data = data;
    r.sizes = &size;
    r.num_blocks = 1;
    r.on_block = note_sigpipe;
    r.on_done = signal_done;
    r.arg = &blocked;
    ck_assert_int_eq(shuffle_push_blocks(cl, &r), SHUFFLE_OK);
    shuffle_client_free(cl); /* after the callbacks */
    replay_ess_stop(rs);
    ck_assert_int_eq(blocked, 1);
    sigset_t mine;
    pthread_sigmask(SIG_BLOCK, NULL, &mine);
    ck_assert(!sigismember(&mine, SIGPIPE));
}
END_TEST

static void ignore_result(void *arg, const struct shuffle_push_result *r) {}

START_TEST(test_bad_ids_refused)
{
    shuffle_client *cl = harness_client(0, 50, 1000, false);
    uint8_t byte = 1;
    const uint8_t *data[] = {&byte};
    uint64_t size = 1;
    const char *bad[] = {"shuffle_0_0_0", "shufflePush_0_0_0", "shufflePush_0_0_0_x",
                         "shufflePush_0_0_0_0_1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct shuffle_push_request r;
        shuffle_push_request_init(&r);
        r.host = "127.0.0.1";
        r.port = 1;
        r.app_id = "app";
        r.block_ids = &bad[i];
        r.data = data;
        r.sizes = &size;
        r.num_blocks = 1;
        r.on_block = ignore_result;
        ck_assert_int_eq(shuffle_push_blocks(cl, &r), SHUFFLE_EINVAL);
        char want[128];
        snprintf(want, sizeof(want), "Unexpected shuffle push block id format: %s", bad[i]);
        ck_assert_str_eq(shuffle_last_error(cl), want);
    }
    shuffle_client_free(cl);
}
END_TEST

int main(void)
{
    return check_main(&(struct check_case){.suite = "client_push",
                                           .name = "pusher",
                                           .timeout_s = 60,
                                           .loops = 3,
                                           .looped = {test_final_codes_stop_pushing}},
                      CHECK_TESTS(test_collision_fails_one_block, test_final_codes_stop_pushing,
                                  test_refusal_fails_blocks_in_flight,
                                  test_rpc_failure_fails_one_block,
                                  test_lost_connection_retries_unanswered, test_retries_exhausted,
                                  test_connect_failure_not_retried, test_in_flight_bound,
                                  test_bad_ids_refused, test_loop_thread_blocks_sigpipe));
}

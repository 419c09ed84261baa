/* SPDX-License-Identifier: Apache-2.0 */
/* The connection core's output hooks (conn_set_output_hooks, used by the merge journal to
 * write a read callback's records before its answers): before_output runs before any answer
 * leaves, for answers of a read callback (pipelined requests) and for answers filled outside
 * one (a blocking job's done callback). The test service's 'D' and 'B' requests leave a
 * record its hook appends to <state_dir>/durable after a pause; on receiving an answer the
 * client finds its record in that file. */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tclient.h"
#include "../check_main.h"

static long long durable_records(const struct harness_daemon *d)
{
    char path[600];
    struct stat st;
    snprintf(path, sizeof path, "%s/durable", d->dir);
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static void expect_echo_of(int fd, int64_t request_id, const char *text)
{
    struct tc_resp r;
    ck_assert_int_eq(tc_recv(fd, &r), 0);
    ck_assert_int_eq(r.m.type, PROTO_RPC_RESPONSE);
    ck_assert(r.m.u.rpc.request_id == request_id);
    ck_assert_uint_eq(r.m.u.rpc.body.len, strlen(text));
    ck_assert(memcmp(r.m.u.rpc.body.data, text, strlen(text)) == 0);
    tc_resp_free(&r);
}

START_TEST(test_answers_of_a_read_callback_after_the_hook)
{
    struct harness_daemon d;
    ck_assert_int_eq(tdaemon_start(&d, NULL), 0);
    int fd = tc_connect(d.port);
    ck_assert(fd >= 0);
    enum { PIPELINED = 4 };
    struct proto_writer w;
    proto_writer_init(&w);
    for (int i = 0; i < PIPELINED; i++) { /* one write: the requests of one read callback */
        struct proto_msg m = {.type = PROTO_RPC_REQUEST};
        m.u.rpc.request_id = i;
        m.u.rpc.body = (struct proto_view){(const uint8_t *)"Dpiped", 6};
        tc_append_msg(&w, &m);
    }
    ck_assert_int_eq(tc_send_all(fd, w.buf, w.len), 0);
    proto_writer_free(&w);
    for (int i = 0; i < PIPELINED; i++) {
        expect_echo_of(fd, i, "piped");
        ck_assert_int_ge(durable_records(&d), i + 1);
    }
    close(fd);
    ck_assert_int_eq(harness_daemon_stop(&d), 0);
}
END_TEST

START_TEST(test_answers_from_a_done_callback_after_the_hook)
{
    struct harness_daemon d;
    ck_assert_int_eq(tdaemon_start(&d, NULL), 0);
    int fd = tc_connect(d.port);
    ck_assert(fd >= 0);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(tc_send_rpc(fd, i, "Bpool", 5), 0);
        expect_echo_of(fd, i, "pool");
        ck_assert_int_eq(durable_records(&d), i + 1);
    }
    close(fd);
    ck_assert_int_eq(harness_daemon_stop(&d), 0);
}
END_TEST

CHECK_MAIN((.suite = "output_hooks", .name = "hooks", .timeout_s = 60),
           test_answers_of_a_read_callback_after_the_hook,
           test_answers_from_a_done_callback_after_the_hook)

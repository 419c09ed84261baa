/* SPDX-License-Identifier: Apache-2.0 */
/* Memory that clients drive is bounded (the real daemon, small limits): a stream over
 * max_stream_bytes_per_connection is refused naming the key; over max_stream_bytes in total
 * the connection holding the most is closed and a small client goes on being served; a
 * partial frame older than frame_timeout_ms and the biggest holder of partial frames over
 * max_input_bytes are closed; an authentication not done within handshake_timeout_ms is
 * closed. Nothing here needs data files: streams are opened, not fetched. */
#include <config.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check_main.h"
#include "daemon_client.h"

static const char *tmp; /* the test's temp dir */
static struct harness_daemon d;

static void start(const char *extra)
{
    tmp = harness_test_dir();
    char state[800];
    snprintf(state, sizeof(state), "%s/state", tmp);
    char all[1500];
    snprintf(all, sizeof(all), "\"admin_port\": 0, %s", extra);
    daemon_start(&d, tmp, state, all);
}

static void stop(void)
{
    daemon_stop_clean(&d);
}

static void reg(struct client *c)
{
    char *dirs[1] = {(char *)tmp}; /* not written to */
    char err[512] = "";
    ck_assert_msg(client_register(c, "app-1", "0", dirs, 1, 4, err, sizeof(err)) ==
                      PROTO_RPC_RESPONSE,
                  "register: %s", err);
}

/* FetchShuffleBlocks of n reduces of one map: the reply's type; the failure's first line in
 * why. */
static int open_reduces(struct client *c, uint32_t n, char *why, size_t whylen)
{
    int32_t *reduces = calloc(n, sizeof(int32_t));
    for (uint32_t i = 0; i < n; i++)
        reduces[i] = (int32_t)i;
    int64_t map = 7;
    struct proto_int_array row = {reduces, n};
    struct blockmsg m = {.type = BLOCKMSG_FETCH_SHUFFLE_BLOCKS};
    m.u.fetch_shuffle_blocks.app_id = (struct proto_bytes){"app-1", 5};
    m.u.fetch_shuffle_blocks.exec_id = (struct proto_bytes){"0", 1};
    m.u.fetch_shuffle_blocks.map_ids = (struct proto_long_array){&map, 1};
    m.u.fetch_shuffle_blocks.reduce_ids = (struct proto_int_matrix){&row, 1};
    struct reply r;
    client_rpc_msg(c, &m, &r);
    int type = r.type;
    if (type == PROTO_RPC_FAILURE && why)
        first_line(r.msg.u.rpc_failure.error.data, r.msg.u.rpc_failure.error.len, why, whylen);
    reply_free(&r);
    free(reduces);
    return type;
}

/* True when the daemon closes c within ms (EOF or reset, nothing else arriving). */
static bool closed_within(struct client *c, int ms)
{
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    if (poll(&p, 1, ms) != 1)
        return false;
    char b[64];
    return recv(c->fd, b, sizeof(b), 0) <= 0;
}

START_TEST(stream_bytes_per_connection)
{
    start("\"max_stream_bytes_per_connection\": 65536");
    struct client c;
    client_open(&c, d.port);
    reg(&c);
    char why[1024];
    ck_assert_int_eq(open_reduces(&c, 1000, why, sizeof(why)), PROTO_RPC_RESPONSE);
    ck_assert_int_eq(open_reduces(&c, 20000, why, sizeof(why)), PROTO_RPC_FAILURE);
    ck_assert_msg(strstr(why, "max_stream_bytes_per_connection") != NULL, "got '%s'", why);
    /* refused, not closed: the connection goes on */
    ck_assert_int_eq(open_reduces(&c, 1000, why, sizeof(why)), PROTO_RPC_RESPONSE);
    client_close(&c);
    stop();
}
END_TEST

START_TEST(stream_bytes_total_closes_the_biggest)
{
    start("\"max_stream_bytes_per_connection\": 1000000, \"max_stream_bytes\": 200000");
    /* the daemon's two loops take connections in turn, and a loop closes the biggest of its
     * own: big and small on the first loop, other on the second */
    struct client big, other, small;
    client_open(&big, d.port);
    reg(&big);
    client_open(&other, d.port);
    reg(&other);
    client_open(&small, d.port);
    reg(&small);
    ck_assert_int_eq(open_reduces(&big, 40000, NULL, 0), PROTO_RPC_RESPONSE); /* ~160 KB */
    /* ~80 KB more is over the total: the biggest holder goes, the small one is served */
    ck_assert_int_eq(open_reduces(&small, 20000, NULL, 0), PROTO_RPC_RESPONSE);
    ck_assert(closed_within(&big, 5000));
    ck_assert_int_eq(open_reduces(&small, 10, NULL, 0), PROTO_RPC_RESPONSE);
    client_close(&big);
    client_close(&other);
    client_close(&small);
    stop();
}
END_TEST

START_TEST(partial_frame_times_out)
{
    start("\"frame_timeout_ms\": 300, \"idle_timeout_ms\": 0");
    struct client c, ok;
    client_open(&c, d.port);
    client_open(&ok, d.port);
    /* the 9-byte header of a 1000-byte RpcRequest frame and 10 bytes of it, then nothing */
    uint8_t part[19] = {0, 0, 0, 0, 0, 0, 0x03, 0xe8, PROTO_RPC_REQUEST};
    client_send(&c, part, sizeof(part));
    ck_assert_msg(closed_within(&c, 5000), "a stalled frame was not closed");
    reg(&ok); /* an idle connection without a partial frame stays */
    client_close(&c);
    client_close(&ok);
    stop();
}
END_TEST

START_TEST(input_bytes_total_closes_the_biggest)
{
    start("\"max_input_bytes\": 65536, \"max_frame_bytes\": 1048576");
    struct client c, ok;
    client_open(&c, d.port);
    client_open(&ok, d.port);
    /* most of a 512 KiB frame, never finished */
    size_t n = 300000;
    uint8_t *part = calloc(1, n);
    part[5] = 0x08; /* frame length 0x80000 */
    part[8] = PROTO_RPC_REQUEST;
    client_send(&c, part, n);
    free(part);
    ck_assert_msg(closed_within(&c, 5000), "the biggest partial frame was not closed");
    reg(&ok);
    client_close(&c);
    client_close(&ok);
    stop();
}
END_TEST

START_TEST(handshake_times_out)
{
    char secret[800], extra[1200];
    snprintf(secret, sizeof(secret), "%s/secret", harness_test_dir());
    ck_assert_int_eq(harness_write_file(secret, "s3cret", 6), 0);
    ck_assert_int_eq(chmod(secret, 0600), 0);
    snprintf(extra, sizeof(extra),
             "\"auth_enabled\": true, \"auth_secret_file\": \"%s\", \"handshake_timeout_ms\": 300, "
             "\"idle_timeout_ms\": 0",
             secret);
    start(extra);
    struct client c;
    client_open(&c, d.port);
    ck_assert_msg(closed_within(&c, 5000), "an unauthenticated connection stayed open");
    client_close(&c);
    stop();
}
END_TEST

CHECK_MAIN((.suite = "budgets", .name = "daemon", .timeout_s = 60), stream_bytes_per_connection,
           stream_bytes_total_closes_the_biggest, partial_frame_times_out,
           input_bytes_total_closes_the_biggest, handshake_times_out)

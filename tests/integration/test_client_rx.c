/* SPDX-License-Identifier: Apache-2.0 */
/* libshuffle's receive path end to end (the client reads its sockets itself:
 * src/client/rx.c), against the scripted fake service: replies dribbled in tiny
 * pieces arrive whole, in memory and fetched to files, with splice and with the
 * read + write fallback (LIBSHUFFLE_NO_SPLICE); blocks larger than the socket
 * buffers; a connection dropped in the middle of a body fails the attempt with
 * the connection's text and the retry brings every block. */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness/client.h"
#include "client_util.h"
#include "fake_ess.h"
#include "shuffle/client.h"
#include "../check_main.h"

static struct manifest vectors;

static const char *mixed[] = {"shuffle_0_0_0", "shuffle_0_0_1", "shuffle_0_1_2", "shuffle_0_2_3",
                              "shuffle_1_0_0", "shuffle_1_0_1", "rdd_3_0",       "rdd_3_1"};
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* to_file: every block fetched to a file (fetch_to_file_bytes 0). */
static shuffle_client *new_client(int max_retries, bool to_file)
{
    struct shuffle_client_options o;
    harness_client_options(&o, max_retries, 20, 20000, false);
    if (to_file)
        o.fetch_to_file_bytes = 0;
    return harness_client_with(&o);
}

static void fetch(shuffle_client *cl, const struct manifest *man, int port, const char *const *ids,
                  size_t n, struct collector *col)
{
    collector_fetch_wait(col, cl, man, "127.0.0.1", port, "app-rx", "1", ids, n, NULL);
}

/* _i: 0 in memory, 1 to files by splice, 2 to files by read + write. */
START_TEST(test_dribbled_replies)
{
    if (_i == 2)
        setenv("LIBSHUFFLE_NO_SPLICE", "1", 1); /* read by shuffle_client_new */
    struct fake_ess_opts fo = {.manifest = &vectors, .dribble = 700};
    struct fake_ess *fs = fake_ess_start(&fo);
    shuffle_client *cl = new_client(0, _i > 0);
    struct collector c;
    fetch(cl, &vectors, fake_ess_port(fs), mixed, N(mixed), &c);
    collector_assert_all_ok(&c, mixed);
    ck_assert_int_eq(c.via_file, _i > 0 ? (int)N(mixed) : 0);
    shuffle_client_free(cl);
    ck_assert_int_eq(fake_ess_connections(fs), 1);
    collector_free(&c);
    fake_ess_stop(fs);
}
END_TEST

/* Two blocks of 8 MiB and 3 MiB + 1 in one data file of a manifest of their own. */
static char big_dir[64];
static struct manifest big;

static void make_big_blocks(void)
{
    snprintf(big_dir, sizeof(big_dir), "/tmp/test_client_rx-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(big_dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/big.data", big_dir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    uint64_t sizes[2] = {8u << 20, (3u << 20) + 1}, total = sizes[0] + sizes[1];
    uint32_t x = 7;
    for (uint64_t i = 0; i < total; i++) {
        x = x * 1103515245u + 12345u;
        fputc((int)(x >> 16) & 0xff, f);
    }
    fclose(f);
    memset(&big, 0, sizeof(big));
    big.n = 2;
    big.e = calloc(2, sizeof(*big.e));
    for (int i = 0; i < 2; i++) {
        big.e[i].id = strdup(i == 0 ? "rdd_9_0" : "rdd_9_1");
        big.e[i].size = sizes[i];
        big.e[i].file = strdup(path);
        big.e[i].offset = i == 0 ? 0 : sizes[0];
    }
}

static void remove_big_blocks(void)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/big.data", big_dir);
    unlink(path);
    rmdir(big_dir);
    manifest_free(&big);
}

/* _i as above: bodies much larger than the socket buffers. */
START_TEST(test_blocks_larger_than_socket_buffers)
{
    static const char *ids[] = {"rdd_9_0", "rdd_9_1"};
    if (_i == 2)
        setenv("LIBSHUFFLE_NO_SPLICE", "1", 1);
    make_big_blocks();
    struct fake_ess_opts fo = {.manifest = &big};
    struct fake_ess *fs = fake_ess_start(&fo);
    shuffle_client *cl = new_client(0, _i > 0);
    struct collector c;
    fetch(cl, &big, fake_ess_port(fs), ids, N(ids), &c);
    collector_assert_all_ok(&c, ids);
    ck_assert_int_eq(c.via_file, _i > 0 ? 2 : 0);
    shuffle_client_free(cl);
    collector_free(&c);
    fake_ess_stop(fs);
    remove_big_blocks();
}
END_TEST

/* _i: 0 a chunk body cut, 1 a stream's body cut (to a file). Without retries every
 * block fails with the closed connection's text; with them all arrive. */
START_TEST(test_dropped_mid_body)
{
    static const char *ids[] = {"shuffle_1_0_0", "shuffle_1_0_1"};
    struct fake_ess_opts fo = {.manifest = &vectors, .drop_mid_body = 1};
    struct fake_ess *fs = fake_ess_start(&fo);
    shuffle_client *cl = new_client(0, _i == 1);
    struct collector c;
    fetch(cl, &vectors, fake_ess_port(fs), ids, N(ids), &c);
    char want[80];
    snprintf(want, sizeof(want), "Connection from 127.0.0.1:%d closed", fake_ess_port(fs));
    for (size_t i = 0; i < N(ids); i++) {
        ck_assert_int_eq(c.count[i], 1);
        ck_assert_int_eq(c.status[i], SHUFFLE_EIO);
        ck_assert_msg(c.error[i] && strstr(c.error[i], want), "error '%s' lacks '%s'", c.error[i],
                      want);
    }
    shuffle_client_free(cl);
    collector_free(&c);
    fake_ess_stop(fs);

    fs = fake_ess_start(&fo);
    cl = new_client(2, _i == 1);
    fetch(cl, &vectors, fake_ess_port(fs), ids, N(ids), &c);
    collector_assert_all_ok(&c, ids);
    shuffle_client_free(cl);
    ck_assert_int_eq(fake_ess_connections(fs), 2);
    collector_free(&c);
    fake_ess_stop(fs);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("client_rx");
    TCase *tc = tcase_create("rx");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_dribbled_replies, 0, 3);
    tcase_add_loop_test(tc, test_blocks_larger_than_socket_buffers, 0, 3);
    tcase_add_loop_test(tc, test_dropped_mid_body, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    load_vectors_manifest(&vectors);
    int rc = check_run_suite(suite());
    manifest_free(&vectors);
    return rc;
}

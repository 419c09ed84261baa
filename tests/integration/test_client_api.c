/* SPDX-License-Identifier: Apache-2.0 */
/* libshuffle's public API contract (libshuffle(3), "ABI" and "RETURN VALUE"): structs
 * versioned by their struct_size (an older, smaller options struct still works and
 * nothing past it is read; a newer one is accepted only when what this version does not
 * know is zero) and the error convention (status, shuffle_strerror, and the per-thread,
 * per-client detail of shuffle_last_error naming the cause). */
#include <config.h>

#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "shuffle/client.h"
#include "shuffle/sync.h"
#include "../check_main.h"

/* A port on 127.0.0.1 where nothing listens (bound, then closed). */
static int refused_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    ck_assert(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    ck_assert(getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static shuffle_client *new_client(void)
{
    shuffle_client *c = NULL;
    ck_assert_msg(shuffle_client_new(NULL, &c) == SHUFFLE_OK, "%s", shuffle_last_error(NULL));
    return c;
}

/* One block fetched (blocking) from 127.0.0.1:port; the status. */
static int fetch_one(shuffle_client *c, int port)
{
    const char *ids[] = {"shuffle_0_0_0"};
    struct shuffle_fetch_request r;
    shuffle_fetch_request_init(&r);
    r.host = "127.0.0.1";
    r.port = port;
    r.app_id = "app";
    r.exec_id = "1";
    r.block_ids = ids;
    r.num_blocks = 1;
    struct shuffle_fetch_result *res = NULL;
    int status = shuffle_fetch_blocks_sync(c, &r, &res);
    shuffle_fetch_results_free(res, 1);
    return status;
}

/* The options of a program built when the struct ended after max_retries. */
struct options_v0 {
    size_t struct_size;
    int connections_per_peer, connect_timeout_ms, request_timeout_ms, max_retries;
};
_Static_assert(sizeof(struct options_v0) == offsetof(struct shuffle_client_options, retry_wait_ms),
               "options_v0 is a prefix of shuffle_client_options");

START_TEST(older_smaller_options_struct_works)
{
    /* Everything past the old struct is garbage: reading any of it (tmp_dir, auth_secret,
     * use_old_fetch_protocol...) would crash or misbehave. */
    unsigned char mem[sizeof(struct shuffle_client_options) + 64];
    memset(mem, 0xA5, sizeof(mem));
    struct options_v0 *old = (struct options_v0 *)mem;
    shuffle_client_options_init_sized((struct shuffle_client_options *)old, sizeof(*old));
    ck_assert_uint_eq(old->struct_size, sizeof(*old));
    ck_assert_int_eq(old->max_retries, 3);     /* the default, from init */
    ck_assert_int_eq(mem[sizeof(*old)], 0xA5); /* init wrote nothing past it */
    old->max_retries = 0;
    shuffle_client *c = NULL;
    ck_assert_msg(shuffle_client_new((struct shuffle_client_options *)old, &c) == SHUFFLE_OK, "%s",
                  shuffle_last_error(NULL));
    /* max_retries 0 from the old struct is honoured: one attempt, no retry wait */
    double t0 = now_s();
    ck_assert_int_eq(fetch_one(c, refused_port()), SHUFFLE_EIO);
    ck_assert(now_s() - t0 < 3.0);
    ck_assert_msg(strstr(shuffle_last_error(c), "Failed to connect to 127.0.0.1:") &&
                      !strstr(shuffle_last_error(c), "gave up after"),
                  "%s", shuffle_last_error(c));
    shuffle_client_free(c);
}
END_TEST

START_TEST(newer_larger_options_struct)
{
    unsigned char mem[sizeof(struct shuffle_client_options) + 16];
    memset(mem, 0xA5, sizeof(mem));
    struct shuffle_client_options *o = (struct shuffle_client_options *)mem;
    shuffle_client_options_init_sized(o, sizeof(mem));
    ck_assert_uint_eq(o->struct_size, sizeof(mem));
    ck_assert_int_eq(mem[sizeof(mem) - 1], 0); /* fields unknown here: zero, their default */
    shuffle_client *c = NULL;
    ck_assert_msg(shuffle_client_new(o, &c) == SHUFFLE_OK, "%s", shuffle_last_error(NULL));
    shuffle_client_free(c);
    /* a newer field set to something this version cannot honour */
    mem[sizeof(struct shuffle_client_options) + 3] = 1;
    c = (shuffle_client *)mem;
    ck_assert_int_eq(shuffle_client_new(o, &c), SHUFFLE_EINVAL);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(shuffle_last_error(NULL), "shuffle_client_options") &&
                      strstr(shuffle_last_error(NULL), "does not know"),
                  "%s", shuffle_last_error(NULL));
}
END_TEST

START_TEST(unset_struct_size_is_named)
{
    struct shuffle_client_options o;
    memset(&o, 0, sizeof(o)); /* no _init */
    shuffle_client *c = NULL;
    ck_assert_int_eq(shuffle_client_new(&o, &c), SHUFFLE_EINVAL);
    ck_assert_msg(strstr(shuffle_last_error(NULL), "struct_size"), "%s", shuffle_last_error(NULL));
    c = new_client();
    const char *ids[] = {"shuffle_0_0_0"};
    struct shuffle_fetch_request r = {.host = "127.0.0.1",
                                      .port = 1,
                                      .app_id = "a",
                                      .exec_id = "1",
                                      .block_ids = ids,
                                      .num_blocks = 1};
    ck_assert_int_eq(shuffle_fetch_blocks(c, &r), SHUFFLE_EINVAL);
    ck_assert_msg(strstr(shuffle_last_error(c), "shuffle_fetch_request: struct_size"), "%s",
                  shuffle_last_error(c));
    shuffle_client_free(c);
}
END_TEST

static void never_called(void *arg, const struct shuffle_block *b)
{
    ck_abort_msg("no block may be delivered by a fetch that did not start");
}

START_TEST(error_details_name_the_cause)
{
    struct shuffle_client_options o;
    shuffle_client_options_init(&o);
    o.auth_secret = "s3cr3t"; /* but no auth_app_id */
    shuffle_client *c = NULL;
    ck_assert_int_eq(shuffle_client_new(&o, &c), SHUFFLE_EINVAL);
    ck_assert_str_eq(shuffle_last_error(NULL),
                     "authentication needs a non-empty auth_secret and auth_app_id");

    c = new_client();
    ck_assert_str_eq(shuffle_last_error(c), ""); /* nothing failed on c yet */
    struct shuffle_fetch_request r;
    shuffle_fetch_request_init(&r);
    r.host = "127.0.0.1";
    r.app_id = "app";
    r.exec_id = "1";
    r.block_ids = (const char *const[]){"x"};
    r.num_blocks = 0;
    r.on_block = never_called;
    ck_assert_int_eq(shuffle_fetch_blocks(c, &r), SHUFFLE_EINVAL);
    ck_assert_str_eq(shuffle_last_error(c), "fetch: Zero-sized blockIds array");
    /* a blocking call: the failed block's own error */
    int port = refused_port();
    char want[64];
    snprintf(want, sizeof(want), "from 127.0.0.1:%d failed: Failed to connect", port);
    ck_assert_int_eq(fetch_one(c, port), SHUFFLE_EIO);
    ck_assert_msg(strstr(shuffle_last_error(c), "shuffle_0_0_0") &&
                      strstr(shuffle_last_error(c), want),
                  "%s", shuffle_last_error(c));
    shuffle_client_free(c);
    /* every status has its own text */
    for (int a = SHUFFLE_OK; a <= SHUFFLE_EAUTH; a++)
        for (int b = a + 1; b <= SHUFFLE_EAUTH; b++)
            ck_assert_str_ne(shuffle_strerror(a), shuffle_strerror(b));
    ck_assert(strstr(shuffle_strerror(SHUFFLE_EAUTH), "authentication"));
    ck_assert_str_eq(shuffle_status_name(SHUFFLE_EAUTH), "EAUTH");
    ck_assert_str_eq(shuffle_status_name(99), "UNKNOWN");
    ck_assert_str_eq(shuffle_strerror(-1), "unknown status");
}
END_TEST

struct other_thread {
    shuffle_client *c;
    int status;
    char seen[256];
};

static void *fail_on_other_thread(void *arg)
{
    struct other_thread *t = arg;
    t->status = shuffle_register_executor(t->c, "127.0.0.1", 1, NULL, NULL, NULL);
    snprintf(t->seen, sizeof(t->seen), "%s", shuffle_last_error(t->c));
    return NULL;
}

START_TEST(details_are_per_thread_and_per_client)
{
    shuffle_client *a = new_client(), *b = new_client();
    ck_assert_int_eq(shuffle_fetch_blocks(a, NULL), SHUFFLE_EINVAL);
    char mine[256];
    snprintf(mine, sizeof(mine), "%s", shuffle_last_error(a));
    ck_assert_str_ne(mine, "");
    /* another thread's failure on the same client is its own */
    struct other_thread t = {.c = a};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, fail_on_other_thread, &t), 0);
    pthread_join(th, NULL);
    ck_assert_int_eq(t.status, SHUFFLE_EINVAL);
    ck_assert_str_eq(t.seen, "register: the executor info is required");
    ck_assert_str_eq(shuffle_last_error(a), mine);
    /* so is a failure on another client */
    ck_assert_int_eq(shuffle_send_oneway(b, NULL, 1, "", 0), SHUFFLE_EINVAL);
    ck_assert_msg(strstr(shuffle_last_error(b), "client and host are required"), "%s",
                  shuffle_last_error(b));
    ck_assert_str_eq(shuffle_last_error(a), mine);
    shuffle_client_free(a);
    shuffle_client_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("client_api");
    TCase *tc = tcase_create("api");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, older_smaller_options_struct_works);
    tcase_add_test(tc, newer_larger_options_struct);
    tcase_add_test(tc, unset_struct_size_is_named);
    tcase_add_test(tc, error_details_name_the_cause);
    tcase_add_test(tc, details_are_per_thread_and_per_client);
    suite_add_tcase(s, tc);
    return check_run_suite(s);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's bounds on pushed bodies, against the real shuffled (push_enabled). There is no
 * bound on one body streamed to the merged file: an UploadStream's frame length does not count
 * its body (Java's isBodyInFrame is false for it), so max_frame_bytes (16 MiB by default) does
 * not apply, and the body goes through the blocking pool in 64 KiB pieces; the 16 MiB in
 * push_upload.c (UNHELD_MAX_BYTES) bounds complete bodies waiting for their last write over
 * all connections, and holds reading beyond it instead of refusing anything. What does refuse a
 * body is push_max_deferred_bytes, for a body buffered whole while another push holds its
 * partition: over it the push is answered BLOCK_APPEND_COLLISION_DETECTED (docs/push.md).
 *  - a body of 16 MiB + 1 is merged byte for byte, the daemon's peak RSS growing far less;
 *  - a deferred body over push_max_deferred_bytes (4 MiB here) is refused with COLLISION, no
 *    byte of it in the merged file (the holder's block and a later push give exact bytes), the
 *    daemon's peak RSS growing by about the budget, not the body.
 * Skipped while the build has no daemon. */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness/client.h"
#include "../harness/daemon.h"
#include "manifest.h"
#include "push_fixture.h"
#include "shuffle/push.h"
#include "shuffle/sync.h"
#include "tclient.h"
#include "../check_main.h"

#define APP "app-push-bound"
#define ATTEMPT 1
#define SHUFFLE 20
#define OVER ((16u << 20) + 1) /* over max_frame_bytes' default and UNHELD_MAX_BYTES */
#define SMALL 100000
#define DEFER_BUDGET (4u << 20) /* push_max_deferred_bytes in this test */
#define HOLDER 4000
/* Peak RSS growth allowed while a body of OVER bytes goes by: well under its size */
#define RSS_SLACK (6u << 20)

static char tmp[600], data_root[700];
static struct manifest man;
static struct harness_daemon shuffled;
static shuffle_client *cl;

static struct shuffle_push_outcome push_one(int map, int reduce, size_t len, unsigned k)
{
    return push_fixture_push_one(cl, shuffled.port, APP, ATTEMPT, SHUFFLE, map, reduce, len, k);
}

static void check_partition(int reduce, const size_t *lens, const unsigned *ks, size_t n)
{
    push_fixture_check_merged(cl, shuffled.port, APP, SHUFFLE, reduce, lens, ks, n);
}

START_TEST(test_body_bounds)
{
    cl = harness_client(0, 100, 30000, false);
    push_fixture_register(cl, shuffled.port, APP, ATTEMPT, &man);

    /* partition 0: a block, a body over 16 MiB (streamed, merged), another block */
    struct shuffle_push_outcome o = push_one(0, 0, SMALL, 1);
    ck_assert_msg(o.status == SHUFFLE_OK, "%s", o.error);
    uint64_t rss = push_fixture_rss_window_start(shuffled.pid);
    o = push_one(1, 0, OVER, 2);
    ck_assert_msg(o.status == SHUFFLE_OK, "%s", o.error);
    uint64_t peak = push_fixture_proc_bytes(shuffled.pid, "VmHWM");
    ck_assert_msg(peak < rss + RSS_SLACK, "a streamed body grew the daemon's peak RSS by %llu",
                  (unsigned long long)(peak - rss));
    o = push_one(2, 0, SMALL, 3);
    ck_assert_msg(o.status == SHUFFLE_OK, "%s", o.error);

    /* partition 1: a raw push of map 5 holds it half-written; libshuffle's push of map 1 is
     * deferred, goes over the budget and is refused */
    uint8_t holder[HOLDER];
    push_fixture_pattern(holder, sizeof(holder), 5);
    int fd = push_fixture_raw_start(shuffled.port, APP, ATTEMPT, SHUFFLE, 5, 1, sizeof(holder));
    ck_assert_int_eq(tc_send_all(fd, holder, 1000), 0);
    usleep(1000000); /* the daemon has claimed the partition for it (no answer says so) */
    rss = push_fixture_rss_window_start(shuffled.pid);
    o = push_one(1, 1, OVER, 4);
    ck_assert_int_eq(o.status, SHUFFLE_ESERVER);
    ck_assert_int_eq(o.return_code, SHUFFLE_PUSH_COLLISION);
    free(o.error);
    peak = push_fixture_proc_bytes(shuffled.pid, "VmHWM");
    ck_assert_msg(peak < rss + DEFER_BUDGET + RSS_SLACK,
                  "a deferred body over the budget grew the daemon's peak RSS by %llu",
                  (unsigned long long)(peak - rss));
    ck_assert_int_eq(tc_send_all(fd, holder + 1000, sizeof(holder) - 1000), 0);
    ck_assert_int_eq(push_fixture_raw_code(fd), SHUFFLE_PUSH_SUCCESS);
    close(fd);
    o = push_one(2, 1, SMALL, 6);
    ck_assert_msg(o.status == SHUFFLE_OK, "%s", o.error);

    struct shuffle_merge_statuses *ms;
    ck_assert_msg(shuffle_finalize_merge_sync(cl, "127.0.0.1", shuffled.port, APP, ATTEMPT, SHUFFLE,
                                              0, &ms) == SHUFFLE_OK,
                  "%s", shuffle_last_error(cl));
    ck_assert_uint_eq(ms->num_partitions, 2);
    ck_assert_int_eq(ms->reduce_ids[0], 0);
    ck_assert_int_eq(ms->sizes[0], 2 * SMALL + OVER);
    ck_assert_int_eq(ms->reduce_ids[1], 1);
    ck_assert_int_eq(ms->sizes[1], HOLDER + SMALL); /* nothing of the refused body */
    ck_assert_uint_eq(ms->maps.sizes[1], 2);
    ck_assert_uint_eq(ms->maps.map_indices[1][0], 2);
    ck_assert_uint_eq(ms->maps.map_indices[1][1], 5);
    free(ms);
    check_partition(0, (const size_t[]){SMALL, OVER, SMALL}, (const unsigned[]){1, 2, 3}, 3);
    check_partition(1, (const size_t[]){HOLDER, SMALL}, (const unsigned[]){5, 6}, 2);
}
END_TEST

#if defined(__SANITIZE_ADDRESS__)
#define ASAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN_BUILD 1
#endif
#endif

int main(void)
{
#ifdef ASAN_BUILD
    /* ASan's quarantine keeps every freed block out of reuse (256 MiB by default): the
     * daemon's peak RSS would measure it, not the push path */
    const char *asan = getenv("ASAN_OPTIONS");
    char opts[1024];
    snprintf(opts, sizeof opts, "%s%squarantine_size_mb=1", asan ? asan : "",
             asan && *asan ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
#endif
    int made = push_fixture_dataset(tmp, sizeof tmp, data_root, sizeof data_root, 2, 2,
                                    "--min-size 16 --max-size 64 --seed 9", ATTEMPT, &man);
    if (made != 0)
        return made;
    char extra[128];
    snprintf(extra, sizeof extra, "\"push_enabled\": true, \"push_max_deferred_bytes\": %u",
             DEFER_BUDGET);
    struct harness_daemon_opts o = {.dir = tmp, .extra_json = extra};
    return push_fixture_run(
        &shuffled, &o,
        &(struct check_case){.suite = "push_body_bound", .name = "daemon", .timeout_s = 120},
        CHECK_TESTS(test_body_bounds), &cl, &man, tmp);
}

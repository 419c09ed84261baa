/* SPDX-License-Identifier: Apache-2.0 */
/* A pushed body streamed in pieces costs no memory per piece, against the real shuffled
 * (push_enabled, an admin port for its metrics). While a 64 KiB piece is written on the
 * blocking pool the connection's input is held; the connection then reads nothing more until
 * the piece is written (conn_read.c). When it read on instead, each such read was copied aside
 * (a malloc of up to 64 KiB, freed on resume: under ASan's quarantine 12 MiB of RSS per 16 MiB
 * body) and copied again into the upload's buffer.
 *  - bodies of 1 MiB and of 16 MiB + 1 are merged byte for byte, and while each goes by
 *    shuffled_input_bytes_kept_total grows by less than two read buffers (128 KiB), whatever
 *    the body's size (it grew by about 12 MiB for the large one while the loop read on);
 *  - the daemon's peak RSS grows by less than 4 MiB while the large body goes by, under ASan
 *    too, whose default quarantine (256 MiB, left as it is here) keeps every freed block
 *    resident, so a per-piece allocation of any size shows.
 * Skipped while the build has no daemon. */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "../unit/prom_scrape.h"
#include "../check_main.h"
#include "../harness/client.h"
#include "../harness/daemon.h"
#include "manifest.h"
#include "push_fixture.h"
#include "shuffle/push.h"
#include "shuffle/sync.h"

#define APP "app-push-pieces"
#define ATTEMPT 1
#define SHUFFLE 21
#define TINY 100                /* creates the partition (its verdict on the pool) */
#define MEDIUM (1u << 20)       /* 16 pieces */
#define LARGE ((16u << 20) + 1) /* 257 pieces */
#define KEPT_MAX (128u << 10)   /* what one or two held reads may leave, per body */
#define RSS_SLACK (4u << 20)    /* peak RSS growth allowed while LARGE goes by */
#define KEPT "shuffled_input_bytes_kept_total"

static char tmp[600], data_root[700];
static struct manifest man;
static struct harness_daemon shuffled;
static shuffle_client *cl;
static int admin_port;

/* Pushes map's block of len bytes (pattern map) into partition 0: the growth of KEPT. */
static double push_counting_kept(int map, size_t len)
{
    double before = prom_scrape(admin_port, KEPT);
    struct shuffle_push_outcome o =
        push_fixture_push_one(cl, shuffled.port, APP, ATTEMPT, SHUFFLE, map, 0, len, (unsigned)map);
    ck_assert_msg(o.status == SHUFFLE_OK, "push of %zu bytes: %s", len, o.error);
    return prom_scrape(admin_port, KEPT) - before;
}

START_TEST(test_pieces_keep_nothing)
{
    cl = harness_client(0, 100, 30000, false);
    push_fixture_register(cl, shuffled.port, APP, ATTEMPT, &man);
    push_counting_kept(0, TINY);

    double kept = push_counting_kept(1, MEDIUM);
    ck_assert_msg(kept < KEPT_MAX, "a 1 MiB body: %g bytes read and kept aside", kept);
    uint64_t rss = push_fixture_rss_window_start(shuffled.pid);
    kept = push_counting_kept(2, LARGE);
    uint64_t peak = push_fixture_proc_bytes(shuffled.pid, "VmHWM");
    ck_assert_msg(kept < KEPT_MAX, "a 16 MiB body: %g bytes read and kept aside", kept);
    ck_assert_msg(peak < rss + RSS_SLACK, "a 16 MiB body grew the daemon's peak RSS by %llu",
                  (unsigned long long)(peak - rss));

    struct shuffle_merge_statuses *ms;
    ck_assert_msg(shuffle_finalize_merge_sync(cl, "127.0.0.1", shuffled.port, APP, ATTEMPT, SHUFFLE,
                                              0, &ms) == SHUFFLE_OK,
                  "%s", shuffle_last_error(cl));
    ck_assert_uint_eq(ms->num_partitions, 1);
    ck_assert_int_eq(ms->sizes[0], TINY + MEDIUM + LARGE);
    free(ms);
    push_fixture_check_merged(cl, shuffled.port, APP, SHUFFLE, 0,
                              (const size_t[]){TINY, MEDIUM, LARGE}, (const unsigned[]){0, 1, 2},
                              3);
}
END_TEST

int main(void)
{
    int made = push_fixture_dataset(tmp, sizeof tmp, data_root, sizeof data_root, 1, 1,
                                    "--min-size 16 --max-size 64 --seed 11", ATTEMPT, &man);
    if (made != 0)
        return made;
    return push_fixture_run_admin(
        &shuffled, "\"push_enabled\": true", &admin_port,
        &(struct check_case){.suite = "push_piece_input", .name = "daemon", .timeout_s = 120},
        CHECK_TESTS(test_pieces_keep_nothing), &cl, &man, tmp);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* libshuffle sends push bodies by reference: on_done, after which the caller may free or reuse
 * them, must wait until the transport no longer reads them. Against the real shuffled
 * (push_enabled), each test's on_done overwrites every body with a poison byte and frees it:
 *  - a stale first block: the daemon answers it while megabytes of the blocks after it still
 *    wait in the client's output buffer; libshuffle fails those blocks (Spark's rule) but the
 *    daemon merges them (they are current), so the merged partition shows any poisoned byte
 *    sent after on_done (and ASan the read of freed memory);
 *  - an older app attempt: the daemon answers and closes the connection mid-send;
 *  - the client destroyed while bodies are being sent: on_done comes once, from the shutdown.
 * Skipped while the build has no daemon. */
#include <config.h>

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../harness/client.h"
#include "../harness/daemon.h"
#include "manifest.h"
#include "push_fixture.h"
#include "shuffle/push.h"
#include "shuffle/sync.h"
#include "../check_main.h"
#include "../unit/prom_scrape.h"

#define APP "app-push-lifetime"
#define ATTEMPT 1
#define BIG_BLOCKS 6
#define BIG_BYTES (4u << 20) /* with BIG_BLOCKS: far more than the socket buffers hold */
#define POISON 0xEE

static char tmp[600], data_root[700];
static struct manifest man;
static struct harness_daemon shuffled;
static shuffle_client *cl;
static int admin_port;
#define MERGED "shuffled_push_bytes_merged_total"

/* One asynchronous push whose on_done poisons and frees the bodies. */
struct lifetime_push {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done_calls;
    size_t pushed, failed;
    size_t n;
    uint8_t *bodies[BIG_BLOCKS + 1];
    uint64_t sizes[BIG_BLOCKS + 1];
    char ids[BIG_BLOCKS + 1][64];
    const char *idp[BIG_BLOCKS + 1];
    int codes[BIG_BLOCKS + 1];
};

static void ensure_client(void)
{
    if (cl)
        return;
    cl = harness_client(0, 100, 20000, false);
    push_fixture_register(cl, shuffled.port, APP, ATTEMPT, &man);
}

/* Block k's bytes: a pattern of its own, so a misplaced or poisoned byte shows. */
static void fill_pattern(uint8_t *b, size_t len, unsigned k)
{
    for (size_t j = 0; j < len; j++)
        b[j] = (uint8_t)((j * 7 + k * 31 + (j >> 12)) % 251);
}

static void on_block(void *arg, const struct shuffle_push_result *r)
{
    struct lifetime_push *lp = arg;
    lp->codes[r->index] = r->return_code;
}

static void on_done_poison(void *arg, size_t pushed, size_t failed)
{
    struct lifetime_push *lp = arg;
    for (size_t i = 0; i < lp->n; i++) {
        memset(lp->bodies[i], POISON, lp->sizes[i]);
        free(lp->bodies[i]);
        lp->bodies[i] = NULL;
    }
    pthread_mutex_lock(&lp->lock);
    lp->done_calls++;
    lp->pushed = pushed;
    lp->failed = failed;
    pthread_cond_signal(&lp->cond);
    pthread_mutex_unlock(&lp->lock);
}

static void lifetime_init(struct lifetime_push *lp)
{
    memset(lp, 0, sizeof(*lp));
    pthread_mutex_init(&lp->lock, NULL);
    pthread_cond_init(&lp->cond, NULL);
}

static void lifetime_add(struct lifetime_push *lp, const char *id, uint64_t size, unsigned k)
{
    size_t i = lp->n++;
    ck_assert_uint_le(lp->n, BIG_BLOCKS + 1);
    snprintf(lp->ids[i], sizeof(lp->ids[i]), "%s", id);
    lp->idp[i] = lp->ids[i];
    lp->sizes[i] = size;
    lp->bodies[i] = malloc(size);
    ck_assert(lp->bodies[i] != NULL);
    fill_pattern(lp->bodies[i], size, k);
}

/* BIG_BLOCKS blocks of BIG_BYTES, maps 0.. of partition 0 of shuffle. */
static void lifetime_add_big(struct lifetime_push *lp, int shuffle)
{
    char id[64];
    for (unsigned k = 0; k < BIG_BLOCKS; k++) {
        snprintf(id, sizeof(id), "shufflePush_%d_0_%u_0", shuffle, k);
        lifetime_add(lp, id, BIG_BYTES, k);
    }
}

static void lifetime_start(shuffle_client *c, struct lifetime_push *lp, int attempt)
{
    struct shuffle_push_request r;
    harness_push_request(&r, shuffled.port, APP, attempt, lp->idp,
                         (const uint8_t *const *)lp->bodies, lp->sizes, lp->n);
    r.max_in_flight = 64; /* every block queued at once */
    r.on_block = on_block;
    r.on_done = on_done_poison;
    r.arg = lp;
    ck_assert_msg(shuffle_push_blocks(c, &r) == SHUFFLE_OK, "%s", shuffle_last_error(c));
}

/* Waits (30 s at most) for on_done; the number of on_done calls seen. */
static int lifetime_wait(struct lifetime_push *lp)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&lp->lock);
    while (lp->done_calls == 0 && pthread_cond_timedwait(&lp->cond, &lp->lock, &until) == 0)
        ;
    int calls = lp->done_calls;
    pthread_mutex_unlock(&lp->lock);
    return calls;
}

static void lifetime_free(struct lifetime_push *lp)
{
    for (size_t i = 0; i < lp->n; i++)
        free(lp->bodies[i]);
    pthread_mutex_destroy(&lp->lock);
    pthread_cond_destroy(&lp->cond);
}

/* Merge 1 of shuffle 10 makes merge 0 stale; block 0 (stale) is answered first, the big
 * blocks after it (shuffle 11, current) are failed by libshuffle and merged by the daemon: the
 * merged partition holds exactly their original bytes. */
START_TEST(test_early_refusal_waits_for_bodies)
{
    ensure_client();
    uint8_t small[100];
    fill_pattern(small, sizeof(small), 99);
    const uint8_t *sp[] = {small};
    uint64_t ssize[] = {sizeof(small)};
    const char *newer[] = {"shufflePush_10_1_0_0"};
    struct shuffle_push_request r;
    harness_push_request(&r, shuffled.port, APP, ATTEMPT, newer, sp, ssize, 1);
    struct shuffle_push_outcome *o;
    ck_assert_int_eq(shuffle_push_blocks_sync(cl, &r, &o), SHUFFLE_OK);
    shuffle_push_outcomes_free(o, 1);

    struct lifetime_push lp;
    lifetime_init(&lp);
    double merged_before = prom_scrape(admin_port, MERGED);
    lifetime_add(&lp, "shufflePush_10_0_0_1", 100, 0);
    char id[64];
    for (unsigned k = 1; k <= BIG_BLOCKS; k++) { /* a partition each: none waits for another */
        snprintf(id, sizeof(id), "shufflePush_11_0_0_%u", k);
        lifetime_add(&lp, id, BIG_BYTES, k);
    }
    lifetime_start(cl, &lp, ATTEMPT);
    ck_assert_int_eq(lifetime_wait(&lp), 1);
    ck_assert_uint_eq(lp.failed, BIG_BLOCKS + 1);
    for (size_t i = 0; i < lp.n; i++)
        ck_assert_int_eq(lp.codes[i], SHUFFLE_PUSH_STALE);
    /* the daemon may still be writing the last of them: its answer was dropped */
    prom_await(admin_port, MERGED, merged_before + (double)BIG_BLOCKS * BIG_BYTES);

    struct shuffle_merge_statuses *ms;
    ck_assert_msg(shuffle_finalize_merge_sync(cl, "127.0.0.1", shuffled.port, APP, ATTEMPT, 11, 0,
                                              &ms) == SHUFFLE_OK,
                  "%s", shuffle_last_error(cl));
    ck_assert_uint_eq(ms->num_partitions, BIG_BLOCKS);
    for (size_t p = 0; p < BIG_BLOCKS; p++)
        ck_assert_int_eq(ms->sizes[p], (int64_t)BIG_BYTES);
    free(ms);
    /* each partition's chunks back to back are its block, byte for byte */
    uint8_t *want = malloc(BIG_BYTES);
    ck_assert(want != NULL);
    for (unsigned k = 1; k <= BIG_BLOCKS; k++) {
        size_t len;
        uint8_t *have = push_fixture_fetch_merged(cl, shuffled.port, APP, 11, (int)k, &len);
        fill_pattern(want, BIG_BYTES, k);
        ck_assert_uint_eq(len, BIG_BYTES);
        ck_assert_msg(memcmp(have, want, BIG_BYTES) == 0,
                      "block %u differs in its merged partition (sent after on_done?)", k);
        free(have);
    }
    free(want);
    lifetime_free(&lp);
}
END_TEST

/* TOO_OLD_ATTEMPT_PUSH: the daemon answers the first block and closes the connection while the
 * client still sends the others; on_done comes once, after the close dropped them. */
START_TEST(test_close_during_send_waits_for_bodies)
{
    ensure_client();
    struct lifetime_push lp;
    lifetime_init(&lp);
    lifetime_add_big(&lp, 12);
    lifetime_start(cl, &lp, ATTEMPT - 1);
    ck_assert_int_eq(lifetime_wait(&lp), 1);
    /* the answer, or the close first (the client's write fails): each block fails */
    ck_assert_uint_eq(lp.failed, BIG_BLOCKS);
    ck_assert_uint_eq(lp.pushed, 0);
    lifetime_free(&lp);
}
END_TEST

/* The client freed while its bodies are being sent: on_done comes exactly once, before
 * shuffle_client_free returns. */
START_TEST(test_destroy_during_send_waits_for_bodies)
{
    ensure_client(); /* the executor is registered */
    shuffle_client *own = harness_client(0, 100, 20000, false);
    struct lifetime_push lp;
    lifetime_init(&lp);
    lifetime_add_big(&lp, 13);
    lifetime_start(own, &lp, ATTEMPT);
    shuffle_client_free(own);
    pthread_mutex_lock(&lp.lock);
    int calls = lp.done_calls;
    pthread_mutex_unlock(&lp.lock);
    ck_assert_int_eq(calls, 1);
    ck_assert_uint_eq(lp.pushed + lp.failed, BIG_BLOCKS);
    lifetime_free(&lp);
}
END_TEST

int main(void)
{
    int made = push_fixture_dataset(tmp, sizeof tmp, data_root, sizeof data_root, 2, 2,
                                    "--min-size 16 --max-size 64 --seed 5", ATTEMPT, &man);
    if (made != 0)
        return made;
    return push_fixture_run_admin(
        &shuffled, "\"push_enabled\": true", &admin_port,
        &(struct check_case){.suite = "client_push_lifetime", .name = "daemon", .timeout_s = 120},
        CHECK_TESTS(test_early_refusal_waits_for_bodies, test_close_during_send_waits_for_bodies,
                    test_destroy_during_send_waits_for_bodies),
        &cl, &man, tmp);
}

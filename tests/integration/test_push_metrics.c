/* SPDX-License-Identifier: Apache-2.0 */
/* The push-based shuffle metrics of the real daemon (push_enabled), read from /metrics around
 * each step of a push, finalize and merged fetch driven by libshuffle and raw frames: Spark's
 * PushMergeMetrics names (blockAppendCollisions, lateBlockPushes, blockBytesWritten,
 * deferredBlockBytes, deferredBlocks, staleBlockPushes, ignoredBlockBytes), the push timers of
 * its ShuffleMetrics (finalizeShuffleMergeLatencyMillis, fetchMergedBlocksMetaLatencyMillis),
 * shuffled's merged-chunk count, and the push messages under their own type labels (none
 * counted as OtherRpc). Each figure must move by exactly what the step did. */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../unit/prom_scrape.h"
#include "../check_main.h"
#include "../harness/client.h"
#include "../harness/daemon.h"
#include "../harness/locate.h"
#include "../harness/process.h"
#include "manifest.h"
#include "push_fixture.h"
#include "shuffle/push.h"
#include "shuffle/sync.h"
#include "tclient.h"

#define APP "app-pm"
#define ATTEMPT 1
#define MAPS 4
#define REDUCES 2
#define SPARK "metrics_shuffleService_"
#define COUNTERS "{type=\"counters\"}"
#define TIMERS "{type=\"timers\"}"
#define RPC(t) "shuffled_rpc_requests_total{type=\"" t "\"}"

static char tmp[600], data_root[700];
static struct manifest man;
static struct harness_daemon shuffled;
static int admin_port;
static shuffle_client *cl;

static double metric(const char *key)
{
    return prom_scrape(admin_port, key);
}

static void await_metric(const char *key, double want)
{
    prom_await(admin_port, key, want);
}

/* The figures each step checks, read at once before it. */
static const char *const keys[] = {
    SPARK "blockAppendCollisions_Count" COUNTERS,
    SPARK "lateBlockPushes_Count" COUNTERS,
    SPARK "blockBytesWritten_Count" COUNTERS,
    SPARK "deferredBlockBytes_Count" COUNTERS,
    SPARK "deferredBlocks_Count" COUNTERS,
    SPARK "staleBlockPushes_Count" COUNTERS,
    SPARK "ignoredBlockBytes_Count" COUNTERS,
    SPARK "finalizeShuffleMergeLatencyMillis_Count" TIMERS,
    SPARK "fetchMergedBlocksMetaLatencyMillis_Count" TIMERS,
    "shuffled_merged_chunks_fetched_total",
    RPC("PushBlockStream"),
    RPC("FinalizeShuffleMerge"),
    RPC("MergedBlockMetaRequest"),
    RPC("FetchShuffleBlockChunks"),
    RPC("RemoveShuffleMerge"),
    RPC("DiagnoseCorruption"),
    RPC("OtherRpc"),
};
#define NKEYS (sizeof keys / sizeof keys[0])
enum {
    COLLISIONS,
    LATE,
    WRITTEN,
    DEFERRED_BYTES,
    DEFERRED_BLOCKS,
    STALE,
    IGNORED,
    FINALIZE_TIMER,
    META_TIMER,
    CHUNKS,
    R_PUSH,
    R_FINALIZE,
    R_META,
    R_CHUNKS,
    R_REMOVE,
    R_DIAGNOSE,
    R_OTHER
};

struct snap {
    double v[NKEYS];
};

static struct snap snapshot(void)
{
    struct snap s;
    for (size_t i = 0; i < NKEYS; i++)
        s.v[i] = metric(keys[i]);
    return s;
}

/* Every figure moved by exactly deltas[] (unnamed ones: 0) since before. A push's last
 * figures are counted as its upload is freed, just after its answer: polled a while. */
static void expect_moved(const struct snap *before, const double deltas[NKEYS])
{
    for (int tries = 0;; tries++) {
        struct snap now = snapshot();
        size_t i = 0;
        while (i < NKEYS && now.v[i] - before->v[i] == deltas[i])
            i++;
        if (i == NKEYS)
            return;
        ck_assert_msg(tries < 100, "%s moved by %g, want %g", keys[i], now.v[i] - before->v[i],
                      deltas[i]);
        usleep(50000);
    }
}

static uint64_t block_size(int map, int reduce)
{
    char id[64];
    snprintf(id, sizeof id, "shuffle_0_%d_%d", map, reduce);
    const struct manifest_entry *e = manifest_find(&man, id);
    ck_assert(e != NULL);
    return e->size;
}

static void ensure_client(void)
{
    if (cl)
        return;
    cl = harness_client(2, 100, 20000, false);
    push_fixture_register(cl, shuffled.port, APP, ATTEMPT, &man);
}

/* Pushes block shuffle_0_<map>_<reduce>'s bytes as shufflePush_<shuffle>_<merge>_<map>_<reduce>;
 * returns its return code (SHUFFLE_PUSH_SUCCESS when merged or ignored as a duplicate). */
static int push_one(int shuffle, int merge_id, int map, int reduce)
{
    ensure_client();
    char block[64], id[64];
    uint64_t size;
    snprintf(block, sizeof block, "shuffle_0_%d_%d", map, reduce);
    uint8_t *data = manifest_read(&man, block, &size);
    ck_assert(data != NULL);
    snprintf(id, sizeof id, "shufflePush_%d_%d_%d_%d", shuffle, merge_id, map, reduce);
    const char *idp = id;
    const uint8_t *dp = data;
    struct shuffle_push_request r;
    harness_push_request(&r, shuffled.port, APP, ATTEMPT, &idp, &dp, &size, 1);
    struct shuffle_push_outcome *out;
    int rc = shuffle_push_blocks_sync(cl, &r, &out);
    ck_assert(out != NULL);
    int code = out[0].status == SHUFFLE_OK ? SHUFFLE_PUSH_SUCCESS : out[0].return_code;
    ck_assert_msg(rc == SHUFFLE_OK || code != SHUFFLE_PUSH_SUCCESS, "%s", out[0].error);
    shuffle_push_outcomes_free(out, 1);
    free(data);
    return code;
}

/* A raw UploadStream of a PushBlockStream with a body of len bytes, of which first are sent. */
static int raw_push_start(int shuffle, int map, int reduce, size_t len, size_t first)
{
    int fd = push_fixture_raw_start(shuffled.port, APP, ATTEMPT, shuffle, map, reduce, len);
    uint8_t *body = malloc(first ? first : 1);
    memset(body, 'r', first);
    ck_assert_int_eq(tc_send_all(fd, body, first), 0);
    free(body);
    return fd;
}

/* Sends the rest of a raw push's body and reads its BlockPushReturnCode. */
static int raw_push_finish(int fd, size_t rest)
{
    uint8_t *body = malloc(rest ? rest : 1);
    memset(body, 'r', rest);
    ck_assert_int_eq(tc_send_all(fd, body, rest), 0);
    free(body);
    int code = push_fixture_raw_code(fd);
    close(fd);
    return code;
}

START_TEST(test_push_metrics_move_exactly)
{
    ensure_client();
    const int shuffle = 1;
    double d[NKEYS];

    /* every block of the data set merged into shuffle 1 */
    struct snap s = snapshot();
    double bytes = 0;
    for (int map = 0; map < MAPS; map++)
        for (int r = 0; r < REDUCES; r++) {
            ck_assert_int_eq(push_one(shuffle, 0, map, r), SHUFFLE_PUSH_SUCCESS);
            bytes += (double)block_size(map, r);
        }
    memset(d, 0, sizeof d);
    d[WRITTEN] = bytes;
    d[R_PUSH] = MAPS * REDUCES;
    expect_moved(&s, d);

    /* the same block again: ignored as already merged (Spark counts it late) */
    s = snapshot();
    ck_assert_int_eq(push_one(shuffle, 0, 0, 0), SHUFFLE_PUSH_SUCCESS);
    memset(d, 0, sizeof d);
    d[LATE] = 1;
    d[IGNORED] = (double)block_size(0, 0);
    d[R_PUSH] = 1;
    expect_moved(&s, d);

    /* partition (1, 0, 1) held by a half-sent push: a second one waits (deferred), a third
     * one, complete while the holder still writes, collides; then both others complete */
    s = snapshot();
    int holder = raw_push_start(shuffle, 10, 1, 4000, 1000);
    usleep(500000); /* the holder is decided first (nothing answers that it was) */
    int waiter = raw_push_start(shuffle, 11, 1, 3000, 1000);
    await_metric(SPARK "deferredBlocks_Count" COUNTERS, s.v[DEFERRED_BLOCKS] + 1);
    /* the bytes it sent so far (1000), charged to push_max_deferred_bytes */
    await_metric(SPARK "deferredBlockBytes_Count" COUNTERS, s.v[DEFERRED_BYTES] + 1000);
    int collider = raw_push_start(shuffle, 12, 1, 500, 500);
    ck_assert_int_eq(raw_push_finish(collider, 0), SHUFFLE_PUSH_COLLISION);
    ck_assert_int_eq(raw_push_finish(holder, 3000), SHUFFLE_PUSH_SUCCESS);
    ck_assert_int_eq(raw_push_finish(waiter, 2000), SHUFFLE_PUSH_SUCCESS);
    await_metric(SPARK "deferredBlocks_Count" COUNTERS, s.v[DEFERRED_BLOCKS]);
    memset(d, 0, sizeof d);
    d[COLLISIONS] = 1;
    d[IGNORED] = 500;
    d[WRITTEN] = 4000 + 3000;
    d[R_PUSH] = 3;
    expect_moved(&s, d);

    /* finalized, then a late push */
    s = snapshot();
    struct shuffle_merge_statuses *ms;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(
        shuffle_finalize_merge_sync(cl, "127.0.0.1", shuffled.port, APP, ATTEMPT, shuffle, 0, &ms),
        SHUFFLE_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double finalize_ms =
        (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    free(ms);
    ck_assert_int_eq(push_one(shuffle, 0, 1, 0), SHUFFLE_PUSH_TOO_LATE);
    memset(d, 0, sizeof d);
    d[FINALIZE_TIMER] = 1;
    d[R_FINALIZE] = 1;
    d[LATE] = 1;
    d[IGNORED] = (double)block_size(1, 0);
    d[R_PUSH] = 1;
    expect_moved(&s, d);
    /* the timer in milliseconds, as Spark 3.2+ exports it: the one finalize took at most what
     * the client waited (a bucket's upper bound at most twice that); nanoseconds would be 1e6
     * times more */
    double mean = metric(SPARK "finalizeShuffleMergeLatencyMillis_Mean" TIMERS);
    double p50 = metric(SPARK "finalizeShuffleMergeLatencyMillis_50thPercentile" TIMERS);
    ck_assert_msg(mean > 0 && mean <= finalize_ms, "Mean %g ms, the client waited %g ms", mean,
                  finalize_ms);
    ck_assert_msg(p50 > 0 && p50 <= 2 * finalize_ms, "50thPercentile %g ms, waited %g ms", p50,
                  finalize_ms);

    /* merged reads: the meta of partition 0, then every chunk of it */
    s = snapshot();
    struct shuffle_map_sets *meta;
    ck_assert_int_eq(
        shuffle_fetch_merged_meta_sync(cl, "127.0.0.1", shuffled.port, APP, shuffle, 0, 0, &meta),
        SHUFFLE_OK);
    size_t chunks = meta->count;
    free(meta);
    ck_assert_uint_gt(chunks, 0);
    char ids[16][64];
    const char *idp[16];
    ck_assert_uint_le(chunks, 16);
    for (size_t k = 0; k < chunks; k++) {
        snprintf(ids[k], sizeof ids[k], "shuffleChunk_%d_0_0_%zu", shuffle, k);
        idp[k] = ids[k];
    }
    struct shuffle_fetch_result *res = push_fixture_fetch(cl, shuffled.port, APP, idp, chunks);
    shuffle_fetch_results_free(res, chunks);
    memset(d, 0, sizeof d);
    d[META_TIMER] = 1;
    d[R_META] = 1;
    d[CHUNKS] = (double)chunks;
    d[R_CHUNKS] = 1;
    expect_moved(&s, d);

    /* a stale push: merge 1 of shuffle 2 begun, then a block of its merge 0 */
    s = snapshot();
    ck_assert_int_eq(push_one(2, 1, 0, 0), SHUFFLE_PUSH_SUCCESS);
    ck_assert_int_eq(push_one(2, 0, 1, 0), SHUFFLE_PUSH_STALE);
    memset(d, 0, sizeof d);
    d[STALE] = 1;
    d[WRITTEN] = (double)block_size(0, 0);
    d[IGNORED] = (double)block_size(1, 0);
    d[R_PUSH] = 2;
    expect_moved(&s, d);

    /* corruption diagnosis (an RPC), merge removal (a one-way message) */
    s = snapshot();
    int cause = -1;
    ck_assert_int_eq(shuffle_diagnose_corruption_sync(cl, "127.0.0.1", shuffled.port, APP, "1", 0,
                                                      0, 1, 12345, "ADLER32", &cause),
                     SHUFFLE_OK);
    ck_assert_int_eq(
        shuffle_remove_shuffle_merge(cl, "127.0.0.1", shuffled.port, APP, ATTEMPT, shuffle, 0),
        SHUFFLE_OK);
    await_metric(RPC("RemoveShuffleMerge"), s.v[R_REMOVE] + 1);
    memset(d, 0, sizeof d);
    d[R_DIAGNOSE] = 1;
    d[R_REMOVE] = 1;
    expect_moved(&s, d);
}
END_TEST

int main(void)
{
    int made = push_fixture_dataset(tmp, sizeof tmp, data_root, sizeof data_root, MAPS, REDUCES,
                                    "--min-size 100 --max-size 20000 --seed 5", ATTEMPT, &man);
    if (made != 0)
        return made;
    return push_fixture_run_admin(
        &shuffled, "\"push_enabled\": true, \"push_min_chunk_bytes\": 16384", &admin_port,
        &(struct check_case){.suite = "push_metrics", .name = "daemon", .timeout_s = 120},
        CHECK_TESTS(test_push_metrics_move_exactly), &cl, &man, tmp);
}

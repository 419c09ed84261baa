/* SPDX-License-Identifier: Apache-2.0 */
/* libshuffle's push-based shuffle speaks exactly as Spark 3.5's own client: for each recorded
 * scenario of ../shared/vectors-35 (push-blocks, finalize-merge, merged-meta-and-chunks,
 * merged-meta-error, diagnose-corruption, remove-shuffle-merge), libshuffle is asked what
 * Spark's client was asked, against a service replaying the recorded answers
 * (replay_ess.c). Every frame it sends, UploadStream bodies included, must equal a recorded
 * client frame byte for byte (request ids aside), and the recorded answers must decode to
 * what Spark's client reported: return codes and their texts, MergeStatuses' map sets,
 * reduce ids and sizes, chunk maps, merged chunk bytes, corruption causes. */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../harness/client.h"
#include "client_util.h"
#include "replay_ess.h"
#include "shuffle/client.h"
#include "shuffle/push.h"
#include "shuffle/sync.h"
#include "../check_main.h"

static const char *scenarios[] = {
    "push-blocks",       "finalize-merge",      "merged-meta-and-chunks",
    "merged-meta-error", "diagnose-corruption", "remove-shuffle-merge",
};
#define NSCEN (sizeof(scenarios) / sizeof(scenarios[0]))

#define APP "app-cap"
#define ATTEMPT 1

static struct manifest man; /* vectors-35's data set */
static int port;
static shuffle_client *cl;

/* The bytes the recording pushed for shufflePush_S_M_MAP_R: shuffle_0_(MAP mod 3)_R. */
static uint8_t *push_bytes(int map_index, int reduce, uint64_t *len)
{
    char id[64];
    snprintf(id, sizeof(id), "shuffle_0_%d_%d", map_index % 3, reduce);
    uint8_t *data = manifest_read(&man, id, len);
    ck_assert_msg(data != NULL, "no %s in the manifest", id);
    return data;
}

/* Pushes ids (attempt) synchronously; the outcomes (caller frees) and the call's status. */
static struct shuffle_push_outcome *push(const char *const *ids, size_t n, int attempt, int *rc)
{
    uint8_t *data[16];
    uint64_t sizes[16];
    for (size_t i = 0; i < n; i++) {
        int s, m, map, r;
        ck_assert_int_eq(sscanf(ids[i], "shufflePush_%d_%d_%d_%d", &s, &m, &map, &r), 4);
        data[i] = push_bytes(map, r, &sizes[i]);
    }
    struct shuffle_push_request req;
    shuffle_push_request_init(&req);
    req.host = "127.0.0.1";
    req.port = port;
    req.app_id = APP;
    req.app_attempt_id = attempt;
    req.block_ids = ids;
    req.data = (const uint8_t *const *)data;
    req.sizes = sizes;
    req.num_blocks = n;
    struct shuffle_push_outcome *out = NULL;
    *rc = shuffle_push_blocks_sync(cl, &req, &out);
    ck_assert(out != NULL);
    for (size_t i = 0; i < n; i++)
        free(data[i]);
    return out;
}

static void expect_pushed(const char *const *ids, size_t n)
{
    int rc;
    struct shuffle_push_outcome *o = push(ids, n, ATTEMPT, &rc);
    ck_assert_msg(rc == SHUFFLE_OK, "%s", shuffle_last_error(cl));
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(o[i].status, SHUFFLE_OK);
    shuffle_push_outcomes_free(o, n);
}

/* The set as "{a,b,c}". */
static void set_text(const uint32_t *v, size_t n, char *buf, size_t len)
{
    size_t at = (size_t)snprintf(buf, len, "{");
    for (size_t i = 0; i < n && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%u", i ? "," : "", v[i]);
    snprintf(buf + at, len > at ? len - at : 0, "}");
}

static void expect_set(const struct shuffle_map_sets *s, size_t i, const char *want)
{
    char got[256];
    set_text(s->map_indices[i], s->sizes[i], got, sizeof(got));
    ck_assert_str_eq(got, want);
}

static void scenario_push_blocks(void)
{
    const char *batch[] = {"shufflePush_0_0_0_0", "shufflePush_0_0_1_0", "shufflePush_0_0_2_0",
                           "shufflePush_0_0_3_0", "shufflePush_0_0_4_0", "shufflePush_0_0_5_0",
                           "shufflePush_0_0_0_1", "shufflePush_0_0_2_1", "shufflePush_0_0_4_1",
                           "shufflePush_0_0_1_2"};
    expect_pushed(batch, 10);
    const char *again[] = {"shufflePush_0_0_3_0"}; /* already merged: still SUCCESS */
    expect_pushed(again, 1);

    int rc;
    const char *stale[] = {"shufflePush_2_1_0_0", "shufflePush_2_0_1_0"};
    struct shuffle_push_outcome *o = push(stale, 2, ATTEMPT, &rc);
    ck_assert_int_eq(rc, SHUFFLE_ESERVER);
    ck_assert_int_eq(o[0].status, SHUFFLE_OK);
    ck_assert_int_eq(o[1].status, SHUFFLE_ESERVER);
    ck_assert_int_eq(o[1].return_code, SHUFFLE_PUSH_STALE);
    ck_assert_str_eq(o[1].error, "Block shufflePush_2_0_1_0 is a stale block push from an "
                                 "indeterminate stage retry");
    shuffle_push_outcomes_free(o, 2);

    struct shuffle_merge_statuses *ms;
    ck_assert_int_eq(shuffle_finalize_merge_sync(cl, "127.0.0.1", port, APP, ATTEMPT, 2, 1, &ms),
                     SHUFFLE_OK);
    ck_assert_int_eq(ms->shuffle_id, 2);
    ck_assert_int_eq(ms->shuffle_merge_id, 1);
    ck_assert_uint_eq(ms->num_partitions, 1);
    ck_assert_int_eq(ms->reduce_ids[0], 0);
    ck_assert_int_eq(ms->sizes[0], 103);
    expect_set(&ms->maps, 0, "{0}");
    free(ms);

    const char *late[] = {"shufflePush_2_1_1_0"};
    o = push(late, 1, ATTEMPT, &rc);
    ck_assert_int_eq(o[0].return_code, SHUFFLE_PUSH_TOO_LATE);
    ck_assert_str_eq(o[0].error,
                     "Block shufflePush_2_1_1_0 is received after merged shuffle is finalized");
    shuffle_push_outcomes_free(o, 1);

    const char *old[] = {"shufflePush_0_0_1_1"};
    o = push(old, 1, 0, &rc);
    ck_assert_int_eq(o[0].return_code, SHUFFLE_PUSH_TOO_OLD_ATTEMPT);
    ck_assert_str_eq(o[0].error, "Block shufflePush_0_0_1_1 is from an older app attempt");
    shuffle_push_outcomes_free(o, 1);
}

static void scenario_finalize(void)
{
    struct shuffle_merge_statuses *ms;
    ck_assert_int_eq(shuffle_finalize_merge_sync(cl, "127.0.0.1", port, APP, ATTEMPT, 0, 0, &ms),
                     SHUFFLE_OK);
    ck_assert_uint_eq(ms->num_partitions, 3);
    const char *maps[] = {"{0,1,2,3,4,5}", "{0,2,4}", "{1}"}; /* a run and two arrays */
    const int64_t sizes[] = {614, 249, 43};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(ms->reduce_ids[i], i);
        ck_assert_int_eq(ms->sizes[i], sizes[i]);
        expect_set(&ms->maps, (size_t)i, maps[i]);
    }
    free(ms);
    ck_assert_int_eq(shuffle_finalize_merge_sync(cl, "127.0.0.1", port, APP, ATTEMPT, 3, 0, &ms),
                     SHUFFLE_OK);
    ck_assert_int_eq(ms->shuffle_id, 3);
    ck_assert_uint_eq(ms->num_partitions, 0);
    free(ms);
}

/* A merged chunk is its maps' pushed blocks of the reduce, in arrival (here map) order. */
static void expect_chunk(const struct shuffle_fetch_result *r, const uint32_t *maps, size_t n,
                         int reduce, uint32_t want_crc)
{
    ck_assert_int_eq(r->status, SHUFFLE_OK);
    uint64_t at = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t len;
        uint8_t *block = push_bytes((int)maps[i], reduce, &len);
        ck_assert_uint_le(at + len, r->len);
        ck_assert_msg(memcmp(r->data + at, block, len) == 0, "map %u differs", maps[i]);
        at += len;
        free(block);
    }
    ck_assert_uint_eq(at, r->len);
    ck_assert_uint_eq(crc32(0, r->data, (uInt)r->len), want_crc);
}

/* MergedBlockMetaRequest, then every chunk it names by FetchShuffleBlockChunks. */
static void fetch_merged(int reduce, const char *const *want_maps, size_t want_chunks,
                         const uint32_t *crcs)
{
    struct shuffle_map_sets *meta;
    ck_assert_int_eq(
        shuffle_fetch_merged_meta_sync(cl, "127.0.0.1", port, APP, 0, 0, reduce, &meta),
        SHUFFLE_OK);
    ck_assert_uint_eq(meta->count, want_chunks);
    char ids[8][64];
    const char *idp[8];
    for (size_t k = 0; k < meta->count; k++) {
        expect_set(meta, k, want_maps[k]);
        snprintf(ids[k], sizeof(ids[k]), "shuffleChunk_0_0_%d_%zu", reduce, k);
        idp[k] = ids[k];
    }
    struct shuffle_fetch_request r;
    shuffle_fetch_request_init(&r);
    r.host = "127.0.0.1";
    r.port = port;
    r.app_id = APP;
    r.exec_id = "1";
    r.block_ids = idp;
    r.num_blocks = meta->count;
    struct shuffle_fetch_result *res;
    ck_assert_msg(shuffle_fetch_blocks_sync(cl, &r, &res) == SHUFFLE_OK, "%s",
                  shuffle_last_error(cl));
    for (size_t k = 0; k < meta->count; k++)
        expect_chunk(&res[k], meta->map_indices[k], meta->sizes[k], reduce, crcs[k]);
    shuffle_fetch_results_free(res, meta->count);
    free(meta);
}

static void scenario_merged(void)
{
    const char *maps0[] = {"{0,1}", "{2,3,4}", "{5}"};
    const uint32_t crc0[] = {0x5124d084, 0x2604540c, 0x3ec50578};
    fetch_merged(0, maps0, 3, crc0);
    const char *maps1[] = {"{0,2,4}"};
    const uint32_t crc1[] = {0x630e2503};
    fetch_merged(1, maps1, 1, crc1);
}

static void expect_meta_error(int reduce, const char *index_file)
{
    struct shuffle_map_sets *meta;
    ck_assert_int_eq(
        shuffle_fetch_merged_meta_sync(cl, "127.0.0.1", port, APP, 0, 0, reduce, &meta),
        SHUFFLE_ESERVER);
    ck_assert(meta == NULL);
    ck_assert_msg(strstr(shuffle_last_error(cl), index_file) != NULL, "%s", shuffle_last_error(cl));
}

static void scenario_diagnose(void)
{
    struct {
        int map, reduce;
        int64_t checksum;
        const char *algorithm;
        int cause;
    } calls[] = {
        {0, 1, 3767280562LL, "ADLER32", SHUFFLE_CAUSE_CHECKSUM_VERIFY_PASS},
        {0, 1, 3767302632LL, "ADLER32", SHUFFLE_CAUSE_NETWORK_ISSUE},
        {1, 0, 1033405560LL, "CRC32", SHUFFLE_CAUSE_DISK_ISSUE},
        {2, 0, 1053099384LL, "CRC32", SHUFFLE_CAUSE_UNKNOWN_ISSUE},
        {0, 2, 12345, "MD5", SHUFFLE_CAUSE_UNSUPPORTED_CHECKSUM_ALGORITHM},
    };
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        int cause = -1;
        ck_assert_int_eq(shuffle_diagnose_corruption_sync(
                             cl, "127.0.0.1", port, APP, "1", 0, calls[i].map, calls[i].reduce,
                             calls[i].checksum, calls[i].algorithm, &cause),
                         SHUFFLE_OK);
        ck_assert_str_eq(shuffle_corruption_cause_name(cause),
                         shuffle_corruption_cause_name(calls[i].cause));
    }
}

static void run_scenario(const char *name)
{
    if (!strcmp(name, "push-blocks")) {
        scenario_push_blocks();
    } else if (!strcmp(name, "finalize-merge")) {
        scenario_finalize();
    } else if (!strcmp(name, "merged-meta-and-chunks")) {
        scenario_merged();
    } else if (!strcmp(name, "merged-meta-error")) {
        expect_meta_error(3, "merge_manager_1/13/shuffleMerged_app-cap_0_0_3.index not found");
    } else if (!strcmp(name, "diagnose-corruption")) {
        scenario_diagnose();
    } else {
        ck_assert_int_eq(shuffle_remove_shuffle_merge(cl, "127.0.0.1", port, APP, ATTEMPT, 0, 0),
                         SHUFFLE_OK);
        expect_meta_error(0, "merge_manager_1/0e/shuffleMerged_app-cap_0_0_0.index not found");
    }
}

START_TEST(test_push_vector_frames)
{
    const char *name = scenarios[_i];
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/vectors-35/%s", harness_shared_dir(), name);
    struct replay_ess *rs = replay_ess_start(dir);
    ck_assert_msg(rs != NULL, "cannot replay %s", dir);
    port = replay_ess_port(rs);
    struct shuffle_client_options o;
    harness_client_options(&o, 0, 100, 10000, false);
    cl = harness_client_with(&o);
    run_scenario(name);
    shuffle_client_free(cl);
    ck_assert_int_eq(replay_ess_unmatched(rs), 0);

    size_t got_len, want_len;
    const uint8_t *got = replay_ess_received(rs, &got_len);
    char path[4200];
    snprintf(path, sizeof(path), "%s/c2s.bin", dir);
    uint8_t *want = harness_read_file(path, &want_len);
    ck_assert(want != NULL);
    char **fg, **fw;
    size_t ng, nw;
    ck_assert_int_eq(replay_frames(got, got_len, &fg, &ng), 0);
    ck_assert_int_eq(replay_frames(want, want_len, &fw, &nw), 0);
    ck_assert_uint_eq(ng, nw);
    for (size_t i = 0; i < nw; i++)
        ck_assert_msg(!strcmp(fg[i], fw[i]), "%s: frame differs:\n got %.300s\nwant %.300s", name,
                      fg[i], fw[i]);
    ck_assert_uint_eq(got_len, want_len);
    replay_frames_free(fg, ng);
    replay_frames_free(fw, nw);
    free(want);
    replay_ess_stop(rs);
}
END_TEST

int main(void)
{
    check_require_shared_vectors();
    if (load_vectors35_manifest(&man) != 0)
        return 77;
    int status = check_main(&(struct check_case){.suite = "client_push_vectors",
                                                 .name = "frames",
                                                 .timeout_s = 60,
                                                 .loops = (int)NSCEN,
                                                 .looped = {test_push_vector_frames}},
                            CHECK_TESTS(test_push_vector_frames));
    manifest_free(&man);
    return status;
}

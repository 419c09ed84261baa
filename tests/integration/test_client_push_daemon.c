/* SPDX-License-Identifier: Apache-2.0 */
/* libshuffle's push-based shuffle against the real shuffled (push_enabled): every non-empty
 * block of a gen-shuffle-data shuffle pushed by its mapper, the merge finalized (MergeStatuses:
 * each partition's maps and size), every merged partition's chunk maps fetched and every chunk
 * fetched and checked byte for byte against the blocks of its maps; a push after finalize is
 * TOO_LATE; a stale shuffleMergeId and an older app attempt stop the push with their codes (no
 * retry, although the daemon closes the connection after TOO_OLD_ATTEMPT_PUSH); a push to a
 * partition another stream is writing gets BLOCK_APPEND_COLLISION_DETECTED for that block
 * only; corruption diagnosis (gen-shuffle-data wrote Spark 4.0's CRC32C checksum files) and
 * merge removal. Skipped while the build has no daemon. */
#include <config.h>

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "common/spark_checksum.h"
#include "../harness/client.h"
#include "../harness/daemon.h"
#include "../harness/fs.h"
#include "../harness/locate.h"
#include "../harness/process.h"
#include "manifest.h"
#include "push_fixture.h"
#include "shuffle/push.h"
#include "shuffle/sync.h"
#include "tclient.h"
#include "../check_main.h"

#define APP "app-push"
#define ATTEMPT 1
#define MAPS 6
#define REDUCES 8

static char tmp[600], data_root[700];
static struct manifest man;
static struct harness_daemon shuffled;
static shuffle_client *cl;

/* The client, and the executor registered with its merge dir, made by the first test. */
static void ensure_client(void)
{
    if (cl)
        return;
    cl = harness_client(2, 100, 20000, false);
    push_fixture_register(cl, shuffled.port, APP, ATTEMPT, &man);
}

/* Pushes the given blocks of shuffle (their bytes: shuffle_0_<map>_<reduce> of the data set)
 * as one mapper's push; outcomes (caller frees) and the call's status in *rc. */
static struct shuffle_push_outcome *push(int shuffle, int merge_id, int attempt, const int *maps,
                                         const int *reduces, size_t n, int *rc)
{
    char ids[64][64];
    const char *idp[64];
    uint8_t *data[64];
    uint64_t sizes[64];
    ck_assert_uint_le(n, 64);
    ensure_client();
    for (size_t i = 0; i < n; i++) {
        char block[64];
        snprintf(block, sizeof(block), "shuffle_0_%d_%d", maps[i], reduces[i]);
        data[i] = manifest_read(&man, block, &sizes[i]);
        ck_assert_msg(data[i] != NULL, "%s", block);
        snprintf(ids[i], sizeof(ids[i]), "shufflePush_%d_%d_%d_%d", shuffle, merge_id, maps[i],
                 reduces[i]);
        idp[i] = ids[i];
    }
    struct shuffle_push_request r;
    harness_push_request(&r, shuffled.port, APP, attempt, idp, (const uint8_t *const *)data, sizes,
                         n);
    r.max_in_flight = 4;
    struct shuffle_push_outcome *out;
    *rc = shuffle_push_blocks_sync(cl, &r, &out);
    ck_assert(out != NULL);
    for (size_t i = 0; i < n; i++)
        free(data[i]);
    return out;
}

static uint64_t block_size(int map, int reduce)
{
    char id[64];
    snprintf(id, sizeof(id), "shuffle_0_%d_%d", map, reduce);
    const struct manifest_entry *e = manifest_find(&man, id);
    ck_assert(e != NULL);
    return e->size;
}

/* Every non-empty block of shuffle 0 into `shuffle`, mapper by mapper. */
static void push_whole_shuffle(int shuffle)
{
    for (int map = 0; map < MAPS; map++) {
        int maps[REDUCES], reduces[REDUCES];
        size_t n = 0;
        for (int r = 0; r < REDUCES; r++)
            if (block_size(map, r) > 0) {
                maps[n] = map;
                reduces[n++] = r;
            }
        int rc;
        struct shuffle_push_outcome *o = push(shuffle, 0, ATTEMPT, maps, reduces, n, &rc);
        ck_assert_msg(rc == SHUFFLE_OK, "%s", shuffle_last_error(cl));
        shuffle_push_outcomes_free(o, n);
    }
}

/* Chunk k of partition reduce is its maps' blocks in the order they were pushed (ascending
 * map index here): compared byte for byte. */
static void check_chunk(const struct shuffle_fetch_result *res, const uint32_t *maps, size_t n,
                        int reduce)
{
    ck_assert_int_eq(res->status, SHUFFLE_OK);
    uint64_t at = 0;
    for (size_t i = 0; i < n; i++) {
        char id[64];
        uint64_t len;
        snprintf(id, sizeof(id), "shuffle_0_%u_%d", maps[i], reduce);
        uint8_t *want = manifest_read(&man, id, &len);
        ck_assert(want != NULL);
        ck_assert_uint_le(at + len, res->len);
        ck_assert_msg(memcmp(res->data + at, want, len) == 0, "%s differs in its chunk", id);
        at += len;
        free(want);
    }
    ck_assert_uint_eq(at, res->len);
}

START_TEST(test_push_finalize_fetch_every_byte)
{
    const int shuffle = 3;
    push_whole_shuffle(shuffle);
    struct shuffle_merge_statuses *ms;
    ck_assert_msg(shuffle_finalize_merge_sync(cl, "127.0.0.1", shuffled.port, APP, ATTEMPT, shuffle,
                                              0, &ms) == SHUFFLE_OK,
                  "%s", shuffle_last_error(cl));
    size_t want_partitions = 0;
    for (int r = 0; r < REDUCES; r++) {
        uint64_t size = 0;
        uint32_t maps[MAPS];
        size_t nmaps = 0;
        for (int m = 0; m < MAPS; m++)
            if (block_size(m, r)) {
                size += block_size(m, r);
                maps[nmaps++] = (uint32_t)m;
            }
        if (!nmaps)
            continue;
        size_t i = want_partitions++;
        ck_assert_int_eq(ms->reduce_ids[i], r);
        ck_assert_int_eq(ms->sizes[i], (int64_t)size);
        ck_assert_uint_eq(ms->maps.sizes[i], nmaps);
        ck_assert_mem_eq(ms->maps.map_indices[i], maps, nmaps * sizeof(uint32_t));
    }
    ck_assert_uint_eq(ms->num_partitions, want_partitions);

    /* every chunk of every merged partition, in one fetch */
    char ids[256][64];
    const char *idp[256];
    const uint32_t *chunk_maps[256];
    size_t chunk_nmaps[256], nids = 0;
    int chunk_reduce[256];
    struct shuffle_map_sets *metas[REDUCES];
    size_t multi_chunk = 0;
    for (size_t i = 0; i < ms->num_partitions; i++) {
        int r = ms->reduce_ids[i];
        ck_assert_int_eq(shuffle_fetch_merged_meta_sync(cl, "127.0.0.1", shuffled.port, APP,
                                                        shuffle, 0, r, &metas[i]),
                         SHUFFLE_OK);
        size_t maps_in_chunks = 0;
        multi_chunk += metas[i]->count > 1;
        for (size_t k = 0; k < metas[i]->count; k++) {
            snprintf(ids[nids], sizeof(ids[nids]), "shuffleChunk_%d_0_%d_%zu", shuffle, r, k);
            idp[nids] = ids[nids];
            chunk_maps[nids] = metas[i]->map_indices[k];
            chunk_nmaps[nids] = metas[i]->sizes[k];
            chunk_reduce[nids++] = r;
            maps_in_chunks += metas[i]->sizes[k];
        }
        ck_assert_uint_eq(maps_in_chunks, ms->maps.sizes[i]);
    }
    ck_assert_uint_gt(multi_chunk, 0); /* push_min_chunk_bytes cut some partitions */
    struct shuffle_fetch_result *res = push_fixture_fetch(cl, shuffled.port, APP, idp, nids);
    for (size_t k = 0; k < nids; k++)
        check_chunk(&res[k], chunk_maps[k], chunk_nmaps[k], chunk_reduce[k]);
    shuffle_fetch_results_free(res, nids);
    for (size_t i = 0; i < ms->num_partitions; i++)
        free(metas[i]);

    /* a late push */
    int rc, map = 0, reduce = ms->reduce_ids[0];
    struct shuffle_push_outcome *o = push(shuffle, 0, ATTEMPT, &map, &reduce, 1, &rc);
    ck_assert_int_eq(o[0].status, SHUFFLE_ESERVER);
    ck_assert_int_eq(o[0].return_code, SHUFFLE_PUSH_TOO_LATE);
    char want[128];
    snprintf(want, sizeof(want),
             "Block shufflePush_%d_0_0_%d is received after merged shuffle is finalized", shuffle,
             reduce);
    ck_assert_str_eq(o[0].error, want);
    shuffle_push_outcomes_free(o, 1);
    free(ms);

    /* removed: its meta is gone */
    ck_assert_int_eq(
        shuffle_remove_shuffle_merge(cl, "127.0.0.1", shuffled.port, APP, ATTEMPT, shuffle, 0),
        SHUFFLE_OK);
    /* one-way: the deletion follows in its own time (the recording waited 0.5 s) */
    int status = SHUFFLE_OK;
    for (int tries = 0; tries < 100 && status == SHUFFLE_OK; tries++) {
        struct shuffle_map_sets *gone = NULL;
        status = shuffle_fetch_merged_meta_sync(cl, "127.0.0.1", shuffled.port, APP, shuffle, 0,
                                                reduce, &gone);
        free(gone);
        if (status == SHUFFLE_OK)
            usleep(50000);
    }
    ck_assert_int_eq(status, SHUFFLE_ESERVER);
}
END_TEST

/* A newer shuffleMergeId makes merge 0 stale: its block and the ones after it fail. */
START_TEST(test_stale_merge_stops_pushing)
{
    int rc, map = 1, reduce = 0;
    struct shuffle_push_outcome *o = push(4, 1, ATTEMPT, &map, &reduce, 1, &rc);
    ck_assert_int_eq(rc, SHUFFLE_OK);
    shuffle_push_outcomes_free(o, 1);
    int maps[] = {2, 2, 2}, reduces[] = {0, 1, 2};
    o = push(4, 0, ATTEMPT, maps, reduces, 3, &rc);
    ck_assert_int_eq(rc, SHUFFLE_ESERVER);
    for (int i = 0; i < 3; i++) { /* the first refusal fails the blocks after it */
        ck_assert_int_eq(o[i].return_code, SHUFFLE_PUSH_STALE);
        ck_assert_str_eq(o[i].error, "Block shufflePush_4_0_2_0 is a stale block push from an "
                                     "indeterminate stage retry");
    }
    shuffle_push_outcomes_free(o, 3);
}
END_TEST

/* An older app attempt: TOO_OLD_ATTEMPT_PUSH, the daemon closes the connection, and the
 * push is not retried (the other block fails with the same code). */
START_TEST(test_older_attempt_not_retried)
{
    int rc, maps[] = {0, 0}, reduces[] = {1, 2};
    struct shuffle_push_outcome *o = push(5, 0, ATTEMPT - 1, maps, reduces, 2, &rc);
    ck_assert_int_eq(rc, SHUFFLE_ESERVER);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(o[i].status, SHUFFLE_ESERVER);
        ck_assert_int_eq(o[i].return_code, SHUFFLE_PUSH_TOO_OLD_ATTEMPT);
    }
    ck_assert_str_eq(o[0].error, "Block shufflePush_5_0_0_1 is from an older app attempt");
    shuffle_push_outcomes_free(o, 2);
    /* the next push goes on a new connection */
    int map = 0, reduce = 1;
    o = push(5, 0, ATTEMPT, &map, &reduce, 1, &rc);
    ck_assert_msg(rc == SHUFFLE_OK, "%s", o[0].error);
    shuffle_push_outcomes_free(o, 1);
}
END_TEST

/* Another stream holds partition (6, 0, 0) half-written: libshuffle's push of another map into
 * it collides (that block only); the holder then completes and is merged. */
START_TEST(test_collision_fails_one_block)
{
    uint8_t body[4000];
    memset(body, 'h', sizeof(body));
    int fd = push_fixture_raw_start(shuffled.port, APP, ATTEMPT, 6, 5, 0, sizeof(body));
    ck_assert_int_eq(tc_send_all(fd, body, 1000), 0);
    usleep(1000000); /* the daemon has claimed the partition for it (no answer says so) */

    int rc, maps[] = {1, 1}, reduces[] = {0, 1};
    struct shuffle_push_outcome *o = push(6, 0, ATTEMPT, maps, reduces, 2, &rc);
    ck_assert_int_eq(o[0].status, SHUFFLE_ESERVER);
    ck_assert_int_eq(o[0].return_code, SHUFFLE_PUSH_COLLISION);
    ck_assert_str_eq(o[0].error,
                     "Block shufflePush_6_0_1_0 experienced merge collision on the server side");
    ck_assert_int_eq(o[1].status, SHUFFLE_OK);
    shuffle_push_outcomes_free(o, 2);

    ck_assert_int_eq(tc_send_all(fd, body + 1000, sizeof(body) - 1000), 0);
    ck_assert_int_eq(push_fixture_raw_code(fd), SHUFFLE_PUSH_SUCCESS);
    close(fd);
    struct shuffle_merge_statuses *ms;
    ck_assert_int_eq(
        shuffle_finalize_merge_sync(cl, "127.0.0.1", shuffled.port, APP, ATTEMPT, 6, 0, &ms),
        SHUFFLE_OK);
    ck_assert_uint_eq(ms->num_partitions, 2);
    ck_assert_int_eq(ms->sizes[0], (int64_t)sizeof(body)); /* only the holder's block */
    ck_assert_int_eq(ms->sizes[1], (int64_t)block_size(1, 1));
    free(ms);
}
END_TEST

/* DiagnoseCorruption of a block gen-shuffle-data wrote without checksum files: the daemon
 * cannot read one, so the cause is UNKNOWN_ISSUE; an unknown algorithm is named first. */
START_TEST(test_diagnose)
{
    int cause = -1;
    ensure_client();
    ck_assert_int_eq(shuffle_diagnose_corruption_sync(cl, "127.0.0.1", shuffled.port, APP, "1", 0,
                                                      0, 1, 12345, "MD5", &cause),
                     SHUFFLE_OK);
    ck_assert_int_eq(cause, SHUFFLE_CAUSE_UNSUPPORTED_CHECKSUM_ALGORITHM);
    ck_assert_int_eq(shuffle_diagnose_corruption_sync(cl, "127.0.0.1", shuffled.port, APP, "1", 0,
                                                      0, 1, 12345, "ADLER32", &cause),
                     SHUFFLE_OK);
    ck_assert_int_eq(cause, SHUFFLE_CAUSE_UNKNOWN_ISSUE);
}
END_TEST

/* The CRC32C checksum file of map (gen-shuffle-data --checksum CRC32C, placed by its name). */
static void crc32c_file(int map, char *path, size_t len)
{
    char cmd[1400];
    snprintf(cmd, sizeof(cmd), "find '%s' -name shuffle_0_%d_0.checksum.CRC32C", data_root, map);
    ck_assert_int_eq(harness_run(cmd, path, len), 0);
    path[strcspn(path, "\n")] = 0;
    ck_assert_msg(path[0] != 0, "no CRC32C checksum file for map %d", map);
}

static int diagnose(int map, int reduce, int64_t checksum, const char *algorithm)
{
    int cause = -1;
    ck_assert_int_eq(shuffle_diagnose_corruption_sync(cl, "127.0.0.1", shuffled.port, APP, "1", 0,
                                                      map, reduce, checksum, algorithm, &cause),
                     SHUFFLE_OK);
    return cause;
}

/* Spark 4.0's CRC32C (spark.shuffle.checksum.algorithm=CRC32C) through the daemon: every block
 * of map 0 whose reader computed the CRC32C of its bytes verifies; a reader's other value is
 * NETWORK_ISSUE; a checksum file whose entry differs from the bytes on disk DISK_ISSUE; no
 * checksum file UNKNOWN_ISSUE; the name is exact ("crc32c" is unsupported). */
START_TEST(test_diagnose_crc32c)
{
    ensure_client();
    for (int r = 0; r < REDUCES; r++) {
        char id[64];
        uint64_t len;
        snprintf(id, sizeof(id), "shuffle_0_0_%d", r);
        uint8_t *bytes = manifest_read(&man, id, &len);
        ck_assert(bytes != NULL);
        int64_t sum = spark_checksum_update(
            SPARK_CHECKSUM_CRC32C, spark_checksum_start(SPARK_CHECKSUM_CRC32C), bytes, (size_t)len);
        free(bytes);
        ck_assert_int_eq(diagnose(0, r, sum, "CRC32C"), SHUFFLE_CAUSE_CHECKSUM_VERIFY_PASS);
        ck_assert_int_eq(diagnose(0, r, sum ^ 1, "CRC32C"), SHUFFLE_CAUSE_NETWORK_ISSUE);
    }
    ck_assert_int_eq(diagnose(0, 1, 0, "crc32c"), SHUFFLE_CAUSE_UNSUPPORTED_CHECKSUM_ALGORITHM);
    /* map 5's entry for reduce 2 no longer the writer's: the bytes on disk disagree with it */
    char path[1200];
    crc32c_file(5, path, sizeof(path));
    FILE *f = fopen(path, "r+b");
    ck_assert(f != NULL);
    uint8_t entry[8];
    ck_assert(fseek(f, 2 * 8, SEEK_SET) == 0 && fread(entry, 1, 8, f) == 8);
    int64_t written = 0;
    for (int i = 0; i < 8; i++)
        written = written << 8 | entry[i];
    entry[7] ^= 0x10;
    ck_assert(fseek(f, 2 * 8, SEEK_SET) == 0 && fwrite(entry, 1, 8, f) == 8);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(diagnose(5, 2, written, "CRC32C"), SHUFFLE_CAUSE_DISK_ISSUE);
    /* map 4 without its checksum file */
    crc32c_file(4, path, sizeof(path));
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(diagnose(4, 1, 0, "CRC32C"), SHUFFLE_CAUSE_UNKNOWN_ISSUE);
}
END_TEST

/* The tools end to end: shuffle-push pushes every map output of shuffle 0 from its index and
 * data files (the last one finalizes); shuffle-fetch fetches every merged partition and
 * verifies each chunk against the manifest; with a manifest that lies about one block,
 * --diagnose asks the daemon, which has no checksum file for it: UNKNOWN_ISSUE. */
START_TEST(test_tools_push_and_fetch_merged)
{
    ensure_client(); /* the executor and its merge dir are registered */
    char tools[1100], cmd[8192], out[16384];
    harness_build_path(tools, sizeof(tools), "src/tools");
    for (int map = 0; map < MAPS; map++) {
        snprintf(cmd, sizeof(cmd),
                 "'%s/shuffle-push' -q --attempt %d %s 127.0.0.1:%d %s 0 %d "
                 "$(find '%s' -name shuffle_0_%d_0.index) 2>&1",
                 tools, ATTEMPT, map == MAPS - 1 ? "--finalize" : "", shuffled.port, APP, map,
                 data_root, map);
        ck_assert_msg(harness_run(cmd, out, sizeof(out)) == 0, "%s", out);
    }
    ck_assert_msg(strstr(out, "FINALIZED shuffle=0 mergeId=0 partitions=") != NULL, "%s", out);
    char ids[2048] = "";
    for (int r = 0; r < REDUCES; r++)
        snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids), " shuffleMerged_0_0_%d", r);
    snprintf(cmd, sizeof(cmd),
             "'%s/shuffle-fetch' --verify '%s/manifest.tsv' 127.0.0.1:%d %s 1 %s 2>&1 >/dev/null",
             tools, data_root, shuffled.port, APP, ids);
    ck_assert_msg(harness_run(cmd, out, sizeof(out)) == 0, "%s", out);
    ck_assert_msg(strstr(out, "fetched and verified") != NULL, "%s", out);

    char lying[1200];
    snprintf(lying, sizeof(lying), "%s/lying.tsv", tmp);
    snprintf(cmd, sizeof(cmd),
             "awk -F'\t' 'BEGIN{OFS=\"\t\"} $1==\"shuffle_0_2_3\"{$3=\"00000000\"} {print}' "
             "'%s/manifest.tsv' > '%s' && '%s/shuffle-fetch' --diagnose ADLER32 --verify '%s' "
             "127.0.0.1:%d %s 1 shuffle_0_2_3 2>&1 >/dev/null",
             data_root, lying, tools, lying, shuffled.port, APP);
    ck_assert_int_eq(harness_run(cmd, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "BAD  shuffle_0_2_3") && strstr(out, "DIAGNOSED: UNKNOWN_ISSUE"),
                  "%s", out);
    /* with Spark 4.0's CRC32C, whose checksum files the data set has: the bytes received are
     * the writer's, so the manifest lied (CHECKSUM_VERIFY_PASS) */
    snprintf(cmd, sizeof(cmd),
             "'%s/shuffle-fetch' --diagnose CRC32C --verify '%s' 127.0.0.1:%d %s 1 shuffle_0_2_3 "
             "2>&1 >/dev/null",
             tools, lying, shuffled.port, APP);
    ck_assert_int_eq(harness_run(cmd, out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "DIAGNOSED: CHECKSUM_VERIFY_PASS"), "%s", out);
}
END_TEST

int main(void)
{
    int made = push_fixture_dataset(tmp, sizeof tmp, data_root, sizeof data_root, MAPS, REDUCES,
                                    "--min-size 0 --max-size 65536 --seed 11 --checksum CRC32C",
                                    ATTEMPT, &man);
    if (made != 0)
        return made;
    struct harness_daemon_opts o = {
        .dir = tmp, .extra_json = "\"push_enabled\": true, \"push_min_chunk_bytes\": 65536"};
    return push_fixture_run(
        &shuffled, &o,
        &(struct check_case){.suite = "client_push_daemon", .name = "daemon", .timeout_s = 120},
        CHECK_TESTS(test_push_finalize_fetch_every_byte, test_stale_merge_stops_pushing,
                    test_older_attempt_not_retried, test_collision_fails_one_block, test_diagnose,
                    test_diagnose_crc32c, test_tools_push_and_fetch_merged),
        &cl, &man, tmp);
}

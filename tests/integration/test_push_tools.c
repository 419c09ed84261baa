/* SPDX-License-Identifier: Apache-2.0 */
/* shuffle-push and shuffle-fetch's merged partitions end to end, without a daemon:
 * shuffle-push pushes every non-empty block of a vectors-35 map output (and only those up to
 * --max-block-size) with the bytes of its data file, reports a collision and exits 1;
 * shuffle-fetch turns shuffleMerged_S_M_R into Spark 3.5's recorded MergedBlockMetaRequest and
 * FetchShuffleBlockChunks (the replayed merged-meta-and-chunks scenario), writes each chunk
 * and verifies it against the blocks of its maps, and exits 1 on a chunk that is not. */
#include <config.h>

#include <check.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/fs.h"
#include "../harness/locate.h"
#include "../harness/process.h"
#include "client_util.h"
#include "manifest.h"
#include "proto/blockmsg.h"
#include "proto/message.h"
#include "replay_ess.h"
#include "tclient.h"
#include "../check_main.h"

static struct manifest man;
static char tool_dir[1024];

/* What the scripted service saw of each reduce's push, and which reduce collides. */
struct pushes {
    atomic_int count;
    int collide_reduce;
    uint64_t body_len[8];
    bool body_ok[8];
};

static int answer_push(void *ctx, int fd, int conn, uint8_t type, const uint8_t *content,
                       size_t len, const uint8_t *after, size_t after_len)
{
    struct pushes *p = ctx;
    struct proto_msg m;
    struct blockmsg b;
    char err[200], want_id[64];
    memset(&b, 0, sizeof(b));
    if (type != PROTO_UPLOAD_STREAM || proto_msg_decode(type, content, len, &m, err, 200) ||
        blockmsg_decode(m.u.upload_stream.meta.data, m.u.upload_stream.meta.len, &b, err, 200) ||
        b.type != BLOCKMSG_PUSH_BLOCK_STREAM) {
        blockmsg_free(&b);
        return -1;
    }
    int reduce = b.u.push_block_stream.reduce_id & 7;
    snprintf(want_id, sizeof(want_id), "shuffle_0_0_%d", reduce);
    uint64_t want_len;
    uint8_t *want = manifest_read(&man, want_id, &want_len);
    p->body_len[reduce] = after_len;
    p->body_ok[reduce] =
        want && want_len == after_len && !memcmp(want, after, after_len) &&
        b.u.push_block_stream.shuffle_id == 0 && b.u.push_block_stream.shuffle_merge_id == 2 &&
        b.u.push_block_stream.map_index == 5 && b.u.push_block_stream.app_attempt_id == 1;
    free(want);
    blockmsg_free(&b);
    atomic_fetch_add(&p->count, 1);
    struct blockmsg code = {.type = BLOCKMSG_BLOCK_PUSH_RETURN_CODE};
    char failed[64];
    snprintf(failed, sizeof(failed), "shufflePush_0_2_5_%d", reduce);
    if (reduce == p->collide_reduce) {
        code.u.block_push_return_code.return_code = 2;
        code.u.block_push_return_code.failure_block_id.data = failed;
        code.u.block_push_return_code.failure_block_id.len = (uint32_t)strlen(failed);
    }
    struct proto_writer w;
    proto_writer_init(&w);
    blockmsg_encode(&w, &code);
    struct proto_msg reply = {.type = PROTO_RPC_RESPONSE};
    reply.u.rpc.request_id = m.u.upload_stream.request_id;
    reply.u.rpc.body.data = w.buf;
    reply.u.rpc.body.len = (uint32_t)w.len;
    int rc = tc_send_msg(fd, &reply);
    proto_writer_free(&w);
    return rc;
}

static int run_push(struct pushes *p, const char *options, char *out, size_t outlen)
{
    struct replay_ess *rs = replay_ess_start_scripted(answer_push, p);
    ck_assert(rs != NULL);
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "%s/shuffle-push %s --attempt 1 --merge-id 2 127.0.0.1:%d app-cap 0 5 "
             "%s/vectors-35/data/blockmgr-0/38/shuffle_0_0_0.index "
             "%s/vectors-35/data/blockmgr-0/26/shuffle_0_0_0.data 2>&1",
             tool_dir, options, replay_ess_port(rs), harness_shared_dir(), harness_shared_dir());
    int rc = harness_run(cmd, out, outlen);
    replay_ess_stop(rs);
    return rc;
}

START_TEST(test_push_map_output)
{
    struct pushes p = {.collide_reduce = -1};
    char out[4096];
    ck_assert_msg(run_push(&p, "-q", out, sizeof(out)) == 0, "%s", out);
    ck_assert_int_eq(atomic_load(&p.count), 4); /* sizes 103, 68, 148, 84 */
    for (int r = 0; r < 4; r++)
        ck_assert_msg(p.body_ok[r], "reduce %d: meta or %llu body bytes differ", r,
                      (unsigned long long)p.body_len[r]);
}
END_TEST

START_TEST(test_push_size_limit_and_collision)
{
    struct pushes p = {.collide_reduce = 3};
    char out[4096];
    ck_assert_int_eq(run_push(&p, "--max-block-size 100", out, sizeof(out)), 1);
    ck_assert_int_eq(atomic_load(&p.count), 2); /* 68 and 84 bytes */
    ck_assert(p.body_ok[1] && p.body_ok[3]);
    ck_assert_msg(strstr(out, "FAIL shufflePush_0_2_5_3: BLOCK_APPEND_COLLISION_DETECTED: Block "
                              "shufflePush_0_2_5_3 experienced merge collision") != NULL,
                  "%s", out);
    ck_assert_msg(strstr(out, "1 of 2 blocks pushed and merged") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "2 not pushed (over 100 bytes)") != NULL, "%s", out);
}
END_TEST

START_TEST(test_push_usage)
{
    char out[4096], cmd[2048];
    snprintf(cmd, sizeof(cmd), "%s/shuffle-push --help", tool_dir);
    ck_assert_int_eq(harness_run(cmd, out, sizeof(out)), 0);
    ck_assert(strstr(out, "usage: shuffle-push") && strstr(out, "--max-in-flight"));
    snprintf(cmd, sizeof(cmd), "%s/shuffle-push --attempt x 127.0.0.1:1 a 0 0 /nonexistent 2>&1",
             tool_dir);
    ck_assert_int_eq(harness_run(cmd, out, sizeof(out)), 2);
    ck_assert_msg(strstr(out, "--attempt: 'x' is not a whole number") != NULL, "%s", out);
    snprintf(cmd, sizeof(cmd), "%s/shuffle-push 127.0.0.1:1 a 0 0 /nonexistent.index 2>&1",
             tool_dir);
    ck_assert_int_eq(harness_run(cmd, out, sizeof(out)), 2);
    ck_assert_msg(strstr(out, "/nonexistent.index") != NULL, "%s", out);
}
END_TEST

/* A manifest for the recording's merged chunks: push map M of shuffle 0 carried the bytes of
 * shuffle_0_(M mod 3); wrong_crc spoils one entry. */
static char *merged_manifest(bool wrong_crc)
{
    static char path[4200];
    snprintf(path, sizeof(path), "%s/merged.tsv", harness_test_dir());
    FILE *f = fopen(path, "w");
    ck_assert(f != NULL);
    for (int map = 0; map < 6; map++)
        for (int r = 0; r < 3; r++) {
            char id[64];
            snprintf(id, sizeof(id), "shuffle_0_%d_%d", map % 3, r);
            const struct manifest_entry *e = manifest_find(&man, id);
            uint32_t crc = e->crc32 ^ (wrong_crc && map == 4 && r == 0 ? 1u : 0u);
            fprintf(f, "shuffle_0_%d_%d\t%llu\t%08x\n", map, r, (unsigned long long)e->size, crc);
        }
    fclose(f);
    return path;
}

static int run_merged_fetch(bool wrong_crc, char *out, size_t outlen, char **outdir)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/vectors-35/merged-meta-and-chunks", harness_shared_dir());
    struct replay_ess *rs = replay_ess_start(dir);
    ck_assert(rs != NULL);
    const char *man_path = merged_manifest(wrong_crc);
    static char o[4200];
    snprintf(o, sizeof(o), "%s/out", harness_test_dir());
    char cmd[16384];
    snprintf(cmd, sizeof(cmd),
             "%s/shuffle-fetch -v --retries 0 --max-blocks 3 --parallel 1 --verify %s -o %s "
             "127.0.0.1:%d app-cap 1 shuffleMerged_0_0_0 shuffleMerged_0_0_1 2>&1",
             tool_dir, man_path, o, replay_ess_port(rs));
    int rc = harness_run(cmd, out, outlen);
    ck_assert_int_eq(replay_ess_unmatched(rs), 0);
    replay_ess_stop(rs);
    *outdir = o;
    return rc;
}

START_TEST(test_fetch_merged_verified)
{
    char out[8192], *outdir;
    ck_assert_msg(run_merged_fetch(false, out, sizeof(out), &outdir) == 0, "%s", out);
    ck_assert_msg(strstr(out, "4 of 4 blocks fetched and verified") != NULL, "%s", out);
    const char *chunks[] = {"shuffleChunk_0_0_0_0", "shuffleChunk_0_0_0_1", "shuffleChunk_0_0_0_2",
                            "shuffleChunk_0_0_1_0"};
    const size_t sizes[] = {252, 307, 55, 249};
    for (int i = 0; i < 4; i++) {
        char path[4400];
        snprintf(path, sizeof(path), "%s/%s", outdir, chunks[i]);
        size_t len;
        uint8_t *data = harness_read_file(path, &len);
        ck_assert_msg(data != NULL, "no %s", path);
        ck_assert_uint_eq(len, sizes[i]);
        free(data);
    }
}
END_TEST

START_TEST(test_fetch_merged_bad_chunk)
{
    char out[8192], *outdir;
    ck_assert_int_eq(run_merged_fetch(true, out, sizeof(out), &outdir), 1);
    ck_assert_msg(strstr(out, "BAD  shuffleChunk_0_0_0_1: 307 bytes are not the blocks of maps "
                              "of this chunk") != NULL,
                  "%s", out);
    ck_assert_msg(strstr(out, "3 of 4 blocks fetched and verified") != NULL, "%s", out);
}
END_TEST

int main(void)
{
    check_require_shared_vectors();
    if (load_vectors35_manifest(&man) != 0)
        return 77;
    harness_build_path(tool_dir, sizeof(tool_dir), "src/tools");
    int status = check_main(
        &(struct check_case){.suite = "push_tools", .name = "tools", .timeout_s = 60},
        CHECK_TESTS(test_push_map_output, test_push_size_limit_and_collision, test_push_usage,
                    test_fetch_merged_verified, test_fetch_merged_bad_chunk));
    manifest_free(&man);
    return status;
}

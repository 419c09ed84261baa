/* SPDX-License-Identifier: Apache-2.0 */
/* The read side of push-based shuffle and DiagnoseCorruption against the real daemon
 * (push_enabled), with Spark 3.5's recordings (vectors-35): the data set and the merged files
 * the Java server wrote are copied to a temp dir, the recorded registration with a merge dir
 * is replayed (dirs moved to the copy), then merged-meta-and-chunks, merged-meta-error and
 * diagnose-corruption, each reply compared with the recorded one (ids masked, every body
 * byte, error texts by their first line). Then bad input: absurd index offsets, a truncated
 * meta file, missing reduce and chunk ids, an unregistered app; shuffleChunk_ ids in
 * OpenBlocks; merge dirs surviving a restart; and push off. */
#include <config.h>

#include "../block/vector_replay.h"
#include "../check_main.h"

#define REC35 "/tmp/shuffle-vectors-35/data"

/* A daemon over a fresh copy of vectors-35/data in the test's dir. */
struct push_env {
    struct harness_daemon d;
    char data[700], state[700];
};

static void env_start(struct push_env *e, bool push)
{
    const char *tmp = harness_test_dir();
    char cmd[2200];
    snprintf(e->data, sizeof e->data, "%s/data", tmp);
    snprintf(e->state, sizeof e->state, "%s/state", tmp);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s/vectors-35/data' '%s/'", e->data,
             harness_shared_dir(), tmp);
    ck_assert_int_eq(system(cmd), 0);
    daemon_start(&e->d, tmp, e->state, push ? "\"push_enabled\": true" : "\"push_enabled\": false");
}

/* Replays scenario name of vectors-35 on one connection against e's daemon. */
static void replay(struct push_env *e, const char *name)
{
    char sdir[1024];
    snprintf(sdir, sizeof sdir, "%s/vectors-35/%s", harness_shared_dir(), name);
    struct frames c2s, s2c;
    load_frames(sdir, "c2s.bin", &c2s);
    load_frames(sdir, "s2c.bin", &s2c);
    ck_assert_uint_eq(c2s.n, s2c.n);
    struct sid_map sids = {0};
    struct replay_dirs rd = {REC35, e->data};
    struct client c;
    client_open(&c, e->d.port);
    for (size_t i = 0; i < c2s.n; i++) {
        char where[300];
        snprintf(where, sizeof where, "%s frame %zu", name, i);
        replay_one(&c, &c2s.f[i], &s2c.f[i], &sids, &rd, where);
    }
    client_close(&c);
    frames_free(&c2s);
    frames_free(&s2c);
}

/* A daemon (push on or off) over a fresh copy, the recorded executor registered, c open. */
static void env_ready(struct push_env *e, bool push, struct client *c)
{
    env_start(e, push);
    replay(e, "register-executor-with-merge-dir");
    client_open(c, e->d.port);
}

/* MergedBlockMetaRequest: the reply (MergedBlockMetaSuccess or RpcFailure). */
static void meta_request(struct client *c, const char *app, int32_t reduce, struct reply *r)
{
    struct proto_msg m = {.type = PROTO_MERGED_BLOCK_META_REQUEST};
    m.u.merged_block_meta_request.request_id = 77;
    m.u.merged_block_meta_request.app_id =
        (struct proto_view){(const uint8_t *)app, (uint32_t)strlen(app)};
    m.u.merged_block_meta_request.reduce_id = reduce;
    client_send_msg(c, &m);
    ck_assert_msg(client_read(c, r), "no reply to MergedBlockMetaRequest");
}

/* The first line of the RpcFailure a MergedBlockMetaRequest gets. */
static void meta_failure(struct client *c, const char *app, int32_t reduce, char *line, size_t n)
{
    struct reply r;
    meta_request(c, app, reduce, &r);
    ck_assert_int_eq(r.type, PROTO_RPC_FAILURE);
    ck_assert(r.msg.u.rpc_failure.request_id == 77);
    first_line(r.msg.u.rpc_failure.error.data, r.msg.u.rpc_failure.error.len, line, n);
    reply_free(&r);
}

/* FetchShuffleBlockChunks(app-cap, exec 1, shuffle 0, merge 0, *reduce: row) into m. */
static void chunks_msg(struct blockmsg *m, int32_t *reduce, struct proto_int_array *row)
{
    *m = (struct blockmsg){.type = BLOCKMSG_FETCH_SHUFFLE_BLOCK_CHUNKS};
    __typeof__(m->u.fetch_shuffle_block_chunks) *f = &m->u.fetch_shuffle_block_chunks;
    f->app_id = (struct proto_bytes){"app-cap", 7};
    f->exec_id = (struct proto_bytes){"1", 1};
    f->reduce_ids = (struct proto_int_array){reduce, 1};
    f->chunk_ids = (struct proto_int_matrix){row, 1};
}

/* The first line of the RpcFailure m gets. */
static void rpc_failure(struct client *c, const struct blockmsg *m, char *line, size_t n)
{
    struct reply r;
    client_rpc_msg(c, m, &r);
    ck_assert_int_eq(r.type, PROTO_RPC_FAILURE);
    first_line(r.msg.u.rpc_failure.error.data, r.msg.u.rpc_failure.error.len, line, n);
    reply_free(&r);
}

/* FetchShuffleBlockChunks for reduce's chunks (shuffle 0, merge 0): the stream id. */
static int64_t open_chunks(struct client *c, int32_t reduce, int32_t *chunks, uint32_t n)
{
    struct blockmsg m;
    struct proto_int_array row = {chunks, n};
    chunks_msg(&m, &reduce, &row);
    int32_t got;
    int64_t id = client_open_stream(c, &m, &got);
    ck_assert_int_eq(got, (int32_t)n);
    return id;
}

static void data_path(const struct push_env *e, const char *rel, char *out, size_t n)
{
    snprintf(out, n, "%s/merge_manager_1/%s", e->data, rel);
}

START_TEST(test_replay_recorded)
{
    struct push_env e;
    env_start(&e, true);
    replay(&e, "register-executor-with-merge-dir");
    replay(&e, "merged-meta-and-chunks");
    replay(&e, "merged-meta-error");
    replay(&e, "diagnose-corruption");
    /* the merge dirs come back with the registrations after a restart */
    daemon_stop_clean(&e.d);
    ck_assert_int_eq(harness_daemon_restart(&e.d, 0), 0);
    replay(&e, "merged-meta-and-chunks");
    daemon_stop_clean(&e.d);
}
END_TEST

START_TEST(test_bad_input)
{
    struct push_env e;
    struct client c;
    env_ready(&e, true, &c);
    char path[1200], line[2048], want[2400];

    /* a reduce without merged files: chunk fetches fail with Spark's text */
    int32_t zero = 0, five = 5, neg = -1;
    int64_t sid = open_chunks(&c, 9, &zero, 1);
    client_chunk_failure(&c, sid, 0, line, sizeof line);
    ck_assert_msg(strstr(line, "java.lang.RuntimeException: Merged shuffle data file ") == line &&
                      strstr(line, "shuffleMerged_app-cap_0_0_9.data not found"),
                  "%s", line);
    /* chunk ids beyond the index, or negative */
    sid = open_chunks(&c, 0, &five, 1);
    client_chunk_failure(&c, sid, 0, line, sizeof line);
    ck_assert_str_eq(line, "java.lang.IndexOutOfBoundsException");
    sid = open_chunks(&c, 0, &neg, 1);
    client_chunk_failure(&c, sid, 0, line, sizeof line);
    ck_assert_str_eq(line, "java.lang.IndexOutOfBoundsException");

    /* an index whose offsets run past the data file, or backwards */
    data_path(&e, "0e/shuffleMerged_app-cap_0_0_0.index", path, sizeof path);
    static const uint8_t absurd[24] = {[7] = 0, [8] = 0x40, [23] = 1};
    ck_assert_int_eq(harness_write_file(path, absurd, sizeof absurd), 0);
    sid = open_chunks(&c, 0, &zero, 1);
    client_chunk_failure(&c, sid, 0, line, sizeof line);
    ck_assert_msg(line[0] != 0 && strstr(line, "java.") == line, "%s", line);
    int32_t one = 1;
    sid = open_chunks(&c, 0, &one, 1);
    client_chunk_failure(&c, sid, 0, line, sizeof line);
    ck_assert_msg(strstr(line, "java.io.IOException: Corrupt merged shuffle index file ") == line,
                  "%s", line);
    /* an index too short to hold one offset */
    ck_assert_int_eq(harness_write_file(path, absurd, 4), 0);
    meta_failure(&c, "app-cap", 0, line, sizeof line);
    snprintf(want, sizeof want, "java.io.IOException: Merged shuffle index file %s holds 4 bytes",
             path);
    ck_assert_msg(strncmp(line, want, strlen(want)) == 0, "%s", line);

    /* a meta file cut short: it cannot hold the index's chunk count */
    data_path(&e, "2e/shuffleMerged_app-cap_0_0_1.index", path, sizeof path);
    ck_assert(harness_path_exists(path));
    char meta[1200];
    snprintf(meta, sizeof meta, "%s/merge_manager_1/%s", e.data,
             "0b/shuffleMerged_app-cap_0_0_1.meta");
    if (!harness_path_exists(meta)) { /* find it wherever it was placed */
        char cmd[1500];
        snprintf(cmd, sizeof cmd, "ls %s/merge_manager_1/*/shuffleMerged_app-cap_0_0_1.meta",
                 e.data);
        FILE *p = popen(cmd, "r");
        ck_assert(p && fgets(meta, sizeof meta, p));
        meta[strcspn(meta, "\n")] = 0;
        pclose(p);
    }
    ck_assert_int_eq(truncate(meta, 10), 0);
    meta_failure(&c, "app-cap", 1, line, sizeof line);
    snprintf(want, sizeof want, "java.io.IOException: Merged shuffle meta file %s is truncated",
             meta);
    ck_assert_msg(strncmp(line, want, strlen(want)) == 0, "%s", line);

    /* an application without merge dirs */
    meta_failure(&c, "app-none", 0, line, sizeof line);
    ck_assert_str_eq(line, "java.lang.IllegalArgumentException: application app-none is not "
                           "registered or NM was restarted.");
    client_close(&c);
    daemon_stop_clean(&e.d);
}
END_TEST

/* OpenBlocks of shuffleChunk_ ids: one chunk per id, as the merged chunks. */
START_TEST(test_open_blocks_chunks)
{
    struct push_env e;
    struct client c;
    env_ready(&e, true, &c);
    struct proto_bytes ids[2] = {{"shuffleChunk_0_0_0_2", 20}, {"shuffleChunk_0_0_1_0", 20}};
    struct blockmsg m = {.type = BLOCKMSG_OPEN_BLOCKS};
    m.u.open_blocks.app_id = (struct proto_bytes){"app-cap", 7};
    m.u.open_blocks.exec_id = (struct proto_bytes){"shuffle-push-merger", 19}; /* as 3.5 sends */
    m.u.open_blocks.block_ids = (struct proto_string_array){ids, 2};
    int32_t n;
    int64_t sid = client_open_stream(&c, &m, &n);
    ck_assert_int_eq(n, 2);
    struct reply r;
    client_chunk(&c, sid, 0, &r);
    ck_assert_int_eq(r.type, PROTO_CHUNK_FETCH_SUCCESS);
    ck_assert_uint_eq(r.msg.u.chunk_fetch_success.body.len, 55); /* = shuffle_0_2_0 */
    reply_free(&r);
    client_chunk(&c, sid, 1, &r);
    ck_assert_int_eq(r.type, PROTO_CHUNK_FETCH_SUCCESS);
    ck_assert_uint_eq(r.msg.u.chunk_fetch_success.body.len, 249);
    reply_free(&r);
    /* Spark's texts for a list that mixes shuffles or forms */
    ids[1] = (struct proto_bytes){"shuffleChunk_1_0_1_0", 20};
    char line[512];
    rpc_failure(&c, &m, line, sizeof line);
    ck_assert_str_eq(line, "java.lang.IllegalArgumentException: Expected shuffleId = 0 and "
                           "shuffleMergeId = 0 but got shuffleChunk_1_0_1_0");
    ids[1] = (struct proto_bytes){"shuffle_0_0_1", 13};
    rpc_failure(&c, &m, line, sizeof line);
    ck_assert_str_eq(line, "java.lang.IllegalArgumentException: Unexpected shuffle chunk id "
                           "format: shuffle_0_0_1");
    client_close(&c);
    daemon_stop_clean(&e.d);
}
END_TEST

/* A 3.5 reducer sends the meta requests of all its merged blocks on one connection without
 * waiting (PushBasedFetchHelper.sendFetchMergedStatusRequest) and matches the answers by
 * request id: each answer carries its own request's id and content. */
START_TEST(test_meta_requests_pipelined)
{
    struct push_env e;
    struct client c;
    env_ready(&e, true, &c);
    const int32_t reduces[4] = {1, 9, 0, 1};
    const int32_t want_chunks[4] = {1, -1, 3, 1}; /* -1: no merged files, RpcFailure */
    for (int i = 0; i < 4; i++) {
        struct proto_msg m = {.type = PROTO_MERGED_BLOCK_META_REQUEST};
        m.u.merged_block_meta_request.request_id = 1000 + i;
        m.u.merged_block_meta_request.app_id = (struct proto_view){(const uint8_t *)"app-cap", 7};
        m.u.merged_block_meta_request.reduce_id = reduces[i];
        client_send_msg(&c, &m);
    }
    bool seen[4] = {false};
    for (int k = 0; k < 4; k++) {
        struct reply r;
        ck_assert(client_read(&c, &r));
        int64_t id;
        if (r.type == PROTO_MERGED_BLOCK_META_SUCCESS) {
            id = r.msg.u.merged_block_meta_success.request_id;
            ck_assert(id >= 1000 && id < 1004);
            ck_assert_int_eq(r.msg.u.merged_block_meta_success.num_chunks, want_chunks[id - 1000]);
            ck_assert_uint_eq(r.msg.u.merged_block_meta_success.body.len,
                              want_chunks[id - 1000] == 3 ? 60 : 22);
        } else {
            ck_assert_int_eq(r.type, PROTO_RPC_FAILURE);
            id = r.msg.u.rpc_failure.request_id;
            ck_assert(id >= 1000 && id < 1004);
            ck_assert_int_eq(want_chunks[id - 1000], -1);
        }
        ck_assert(!seen[id - 1000]);
        seen[id - 1000] = true;
        reply_free(&r);
    }
    client_close(&c);
    daemon_stop_clean(&e.d);
}
END_TEST

/* A 3.5 reader fetching to disk (a chunk over spark.network.maxRemoteBlockSizeFetchToMem) asks
 * for each merged chunk with StreamRequest("<streamId>_<i>"): StreamResponse with the chunk's
 * bytes after the frame, i.e. [index[c], index[c+1]) of the merged data (reduce 0: 0, 252,
 * 559, 614); a chunk outside the index gets a StreamFailure. */
START_TEST(test_chunks_by_stream_request)
{
    struct push_env e;
    struct client c;
    env_ready(&e, true, &c);
    int32_t chunks[4] = {2, 0, 1, 7}, reduce = 0;
    /* as a 3.5 reducer sends it: the merger's BlockManagerId names no executor, its execId is
     * "shuffle-push-merger" (never registered) */
    struct blockmsg m;
    struct proto_int_array row = {chunks, 4};
    chunks_msg(&m, &reduce, &row);
    m.u.fetch_shuffle_block_chunks.exec_id = (struct proto_bytes){"shuffle-push-merger", 19};
    int32_t n;
    int64_t sid = client_open_stream(&c, &m, &n);
    ck_assert_int_eq(n, 4);
    const uint64_t want_len[3] = {614 - 559, 252, 559 - 252}, want_off[3] = {559, 0, 252};
    /* the data file, wherever it was placed */
    char cmd[1500], data[1200];
    snprintf(cmd, sizeof cmd, "ls %s/merge_manager_1/*/shuffleMerged_app-cap_0_0_0.data", e.data);
    FILE *p = popen(cmd, "r");
    ck_assert(p && fgets(data, sizeof data, p));
    data[strcspn(data, "\n")] = 0;
    pclose(p);
    size_t file_len;
    uint8_t *file = harness_read_file(data, &file_len);
    ck_assert(file && file_len == 614);
    for (int i = 0; i < 3; i++) {
        char id[64];
        snprintf(id, sizeof id, "%lld_%d", (long long)sid, i);
        struct reply r;
        client_stream(&c, id, &r);
        ck_assert_int_eq(r.type, PROTO_STREAM_RESPONSE);
        ck_assert_uint_eq(r.msg.u.stream_response.byte_count, want_len[i]);
        ck_assert_uint_eq(r.raw_len, want_len[i]);
        ck_assert(memcmp(r.raw, file + want_off[i], want_len[i]) == 0);
        reply_free(&r);
    }
    char id[64];
    snprintf(id, sizeof id, "%lld_3", (long long)sid);
    struct reply r;
    client_stream(&c, id, &r);
    ck_assert_int_eq(r.type, PROTO_STREAM_FAILURE);
    reply_free(&r);
    free(file);
    client_close(&c);
    daemon_stop_clean(&e.d);
}
END_TEST

/* GetLocalDirsForExecutors naming "shuffle-push-merger": a 3.5 reducer on the merger's host
 * asks for the merge dirs that way (PushBasedFetchHelper, host-local merged reads); the answer
 * carries the current attempt's merge dirs under that id, one per registered local dir
 * (RemoteBlockPushResolver.getMergedBlockDirs), beside any executors also named. */
static void local_dirs(struct client *c, const char *app, const char **execs, uint32_t n,
                       struct reply *r, struct blockmsg *out)
{
    struct proto_bytes items[4];
    for (uint32_t i = 0; i < n; i++)
        items[i] = (struct proto_bytes){(char *)execs[i], (uint32_t)strlen(execs[i])};
    struct blockmsg m = {.type = BLOCKMSG_GET_LOCAL_DIRS_FOR_EXECUTORS};
    m.u.get_local_dirs.app_id = (struct proto_bytes){(char *)app, (uint32_t)strlen(app)};
    m.u.get_local_dirs.exec_ids = (struct proto_string_array){items, n};
    client_rpc_msg(c, &m, r);
    if (out) {
        ck_assert_int_eq(r->type, PROTO_RPC_RESPONSE);
        char why[256];
        ck_assert_int_eq(
            blockmsg_decode(r->msg.u.rpc.body.data, r->msg.u.rpc.body.len, out, why, sizeof why),
            0);
        ck_assert_int_eq(out->type, BLOCKMSG_LOCAL_DIRS_FOR_EXECUTORS);
    }
}

/* The dirs out lists for exec: their count, each checked against want (all the same). */
static uint32_t dirs_of(const struct blockmsg *out, const char *exec, const char *want)
{
    const __typeof__(out->u.local_dirs) *l = &out->u.local_dirs;
    uint32_t at = 0;
    for (uint32_t i = 0; i < l->exec_ids.count; i++) {
        uint32_t k = (uint32_t)l->num_local_dirs_by_exec.items[i];
        if (strcmp(l->exec_ids.items[i].data, exec) == 0) {
            for (uint32_t d = 0; want && d < k; d++)
                ck_assert_str_eq(l->all_local_dirs.items[at + d].data, want);
            return k;
        }
        at += k;
    }
    return 0;
}

START_TEST(test_local_dirs_push_merger)
{
    struct push_env e;
    struct client c;
    env_ready(&e, true, &c);
    char want[800];
    snprintf(want, sizeof want, "%s/merge_manager_1", e.data);
    struct reply r;
    struct blockmsg out;
    const char *merger[] = {"shuffle-push-merger"};
    local_dirs(&c, "app-cap", merger, 1, &r, &out);
    ck_assert_uint_eq(out.u.local_dirs.exec_ids.count, 1);
    ck_assert_uint_eq(dirs_of(&out, "shuffle-push-merger", want), 2); /* two blockmgr dirs */
    blockmsg_free(&out);
    reply_free(&r);
    /* beside a registered executor, which keeps its own dirs */
    const char *both[] = {"1", "shuffle-push-merger"};
    local_dirs(&c, "app-cap", both, 2, &r, &out);
    ck_assert_uint_eq(dirs_of(&out, "shuffle-push-merger", want), 2);
    ck_assert_uint_eq(dirs_of(&out, "1", NULL), 2);
    blockmsg_free(&out);
    reply_free(&r);
    /* an application without merge dirs: Spark's text */
    char line[512];
    local_dirs(&c, "app-none", merger, 1, &r, NULL);
    ck_assert_int_eq(r.type, PROTO_RPC_FAILURE);
    first_line(r.msg.u.rpc_failure.error.data, r.msg.u.rpc_failure.error.len, line, sizeof line);
    ck_assert_str_eq(line, "java.lang.IllegalArgumentException: application app-none is not "
                           "registered or NM was restarted.");
    reply_free(&r);
    client_close(&c);
    daemon_stop_clean(&e.d);
    /* push off: Spark's NoOpMergedShuffleFileManager refuses */
    env_ready(&e, false, &c);
    local_dirs(&c, "app-cap", merger, 1, &r, NULL);
    ck_assert_int_eq(r.type, PROTO_RPC_FAILURE);
    first_line(r.msg.u.rpc_failure.error.data, r.msg.u.rpc_failure.error.len, line, sizeof line);
    ck_assert_str_eq(line,
                     "java.lang.UnsupportedOperationException: Cannot handle shuffle block merge");
    reply_free(&r);
    client_close(&c);
    daemon_stop_clean(&e.d);
}
END_TEST

/* Push off (the default): merged fetches refused as before, DiagnoseCorruption still served. */
START_TEST(test_push_off)
{
    struct push_env e;
    struct client c;
    env_ready(&e, false, &c);
    replay(&e, "diagnose-corruption");
    char line[512];
    meta_failure(&c, "app-cap", 0, line, sizeof line);
    ck_assert_str_eq(line,
                     "java.lang.UnsupportedOperationException: Cannot handle shuffle block merge");
    int32_t zero = 0;
    struct blockmsg m;
    struct proto_int_array row = {&zero, 1};
    chunks_msg(&m, &zero, &row);
    rpc_failure(&c, &m, line, sizeof line);
    ck_assert_msg(strstr(line, "Unexpected message: FetchShuffleBlockChunks") != NULL, "%s", line);
    client_close(&c);
    daemon_stop_clean(&e.d);
}
END_TEST

CHECK_MAIN((.suite = "push_read_vectors", .name = "replay", .timeout_s = 120,
            .needs_shared_vectors = true),
           test_replay_recorded, test_bad_input, test_open_blocks_chunks,
           test_meta_requests_pipelined, test_chunks_by_stream_request, test_local_dirs_push_merger,
           test_push_off)

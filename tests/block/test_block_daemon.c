/* SPDX-License-Identifier: Apache-2.0 */
/* The block service in the real daemon, over TCP on 127.0.0.1: every block of
 * a gen-shuffle-data dataset arrives intact by the old and new protocols
 * (batch and not, chunk and stream, rdd); errors get Spark's replies; the
 * registration survives a restart and a kill -9; allowed_local_dir_roots holds. */
#include <config.h>

#include <inttypes.h>

#include "daemon_client.h"
#include "server/block/placement.h"
#include "../check_main.h"

static uint8_t *hex_bytes(const char *hex, size_t *len)
{
    uint8_t *out = malloc(strlen(hex) / 2 + 1);
    size_t n = 0;
    unsigned v;
    for (const char *p = hex; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        ck_assert_int_eq(sscanf(p, "%2x", &v), 1);
        out[n++] = (uint8_t)v;
        p += 2;
    }
    *len = n;
    return out;
}

struct block {
    char id[96];
    uint64_t size, offset;
    uint32_t crc;
    char file[1024];
};

struct dataset {
    char root[700];
    char dirs[3][800];
    struct block b[256];
    size_t n;
};

static void gen(struct dataset *ds, const char *tmp)
{
    snprintf(ds->root, sizeof(ds->root), "%s/exec", tmp);
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "'%s/gen-shuffle-data' --root '%s' --dirs 3 --subdirs 16 --shuffle 2 --maps 4 "
             "--reduces 6 --min-size 0 --max-size 5000 --map-id-base 100 --rdd-id 5 "
             "--rdd-splits 3 --seed 9",
             harness_build_dir(), ds->root);
    ck_assert_int_eq(system(cmd), 0);
    for (int i = 0; i < 3; i++)
        snprintf(ds->dirs[i], sizeof(ds->dirs[i]), "%s/blockmgr-%d", ds->root, i);
    char mpath[800], line[2048];
    snprintf(mpath, sizeof(mpath), "%s/manifest.tsv", ds->root);
    FILE *f = fopen(mpath, "r");
    ck_assert(f != NULL);
    ds->n = 0;
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#')
            continue;
        struct block *k = &ds->b[ds->n++];
        char sha[80];
        unsigned long long size, off;
        ck_assert_int_eq(sscanf(line, "%95s %llu %x %79s %1023s %llu", k->id, &size, &k->crc, sha,
                                k->file, &off),
                         6);
        k->size = size;
        k->offset = off;
    }
    fclose(f);
    ck_assert_uint_eq(ds->n, 4 * 6 + 3);
}

/* Where Spark would place a file name among the dataset's dirs. */
static int resolver_path_for_test(const struct dataset *ds, const char *name, char *buf,
                                  size_t buflen)
{
    const char *dirs[3] = {ds->dirs[0], ds->dirs[1], ds->dirs[2]};
    return placement_path(dirs, 3, 16, name, buf, buflen);
}

static const struct block *find(const struct dataset *ds, const char *id)
{
    for (size_t i = 0; i < ds->n; i++)
        if (strcmp(ds->b[i].id, id) == 0)
            return &ds->b[i];
    ck_abort_msg("no block %s", id);
    return NULL;
}

static void reg(struct client *c, const struct dataset *ds, const char *exec)
{
    char *dirs[3] = {(char *)ds->dirs[0], (char *)ds->dirs[1], (char *)ds->dirs[2]};
    char err[512] = "";
    ck_assert_msg(client_register(c, "app-1", exec, dirs, 3, 16, err, sizeof(err)) ==
                      PROTO_RPC_RESPONSE,
                  "register: %s", err);
}

/* OpenBlocks(ids) -> stream id; asserts numChunks. */
static int64_t open_blocks(struct client *c, const char *exec, const char **ids, uint32_t n)
{
    struct blockmsg m = {.type = BLOCKMSG_OPEN_BLOCKS};
    struct proto_bytes items[64];
    for (uint32_t i = 0; i < n; i++)
        items[i] = (struct proto_bytes){(char *)ids[i], (uint32_t)strlen(ids[i])};
    m.u.open_blocks.app_id = (struct proto_bytes){"app-1", 5};
    m.u.open_blocks.exec_id = (struct proto_bytes){(char *)exec, (uint32_t)strlen(exec)};
    m.u.open_blocks.block_ids = (struct proto_string_array){items, n};
    int32_t num_chunks;
    int64_t stream = client_open_stream(c, &m, &num_chunks);
    ck_assert_int_eq(num_chunks, (int32_t)n);
    return stream;
}

/* The RpcFailure first line of OpenBlocks(ids). */
static void open_blocks_fails(struct client *c, const char **ids, uint32_t n, const char *want)
{
    struct blockmsg m = {.type = BLOCKMSG_OPEN_BLOCKS};
    struct proto_bytes items[8];
    for (uint32_t i = 0; i < n; i++)
        items[i] = (struct proto_bytes){(char *)ids[i], (uint32_t)strlen(ids[i])};
    m.u.open_blocks.app_id = (struct proto_bytes){"app-1", 5};
    m.u.open_blocks.exec_id = (struct proto_bytes){"0", 1};
    m.u.open_blocks.block_ids = (struct proto_string_array){items, n};
    struct reply r;
    client_rpc_msg(c, &m, &r);
    ck_assert_int_eq(r.type, PROTO_RPC_FAILURE);
    char line[1024];
    first_line(r.msg.u.rpc_failure.error.data, r.msg.u.rpc_failure.error.len, line, sizeof(line));
    ck_assert_str_eq(line, want);
    reply_free(&r);
}

static int64_t fetch_shuffle_blocks(struct client *c, const char *exec, int64_t *maps,
                                    struct proto_int_array *rows, uint32_t n, bool batch,
                                    int32_t want_chunks)
{
    struct blockmsg m = {.type = BLOCKMSG_FETCH_SHUFFLE_BLOCKS};
    m.u.fetch_shuffle_blocks.app_id = (struct proto_bytes){"app-1", 5};
    m.u.fetch_shuffle_blocks.exec_id = (struct proto_bytes){(char *)exec, (uint32_t)strlen(exec)};
    m.u.fetch_shuffle_blocks.shuffle_id = 2;
    m.u.fetch_shuffle_blocks.map_ids = (struct proto_long_array){maps, n};
    m.u.fetch_shuffle_blocks.reduce_ids = (struct proto_int_matrix){rows, n};
    m.u.fetch_shuffle_blocks.batch_fetch_enabled = batch;
    struct reply r;
    client_rpc_msg(c, &m, &r);
    if (want_chunks < 0) {
        ck_assert_int_eq(r.type, PROTO_RPC_FAILURE);
        reply_free(&r);
        return -1;
    }
    ck_assert_int_eq(r.type, PROTO_RPC_RESPONSE);
    ck_assert_uint_eq(r.msg.u.rpc.body.len, 13);
    const uint8_t *p = r.msg.u.rpc.body.data;
    ck_assert_int_eq(p[0], BLOCKMSG_STREAM_HANDLE);
    int64_t sid = (int64_t)proto_load_u64(p + 1);
    ck_assert_int_eq((int32_t)proto_load_u32(p + 9), want_chunks);
    reply_free(&r);
    return sid;
}

/* Fetches chunk idx (by ChunkFetch or Stream) and checks it is exactly
 * [offset, offset+len) of file. */
static void expect_chunk(struct client *c, int64_t sid, int32_t idx, bool stream, const char *file,
                         uint64_t offset, uint64_t len)
{
    struct reply r;
    const uint8_t *got;
    size_t got_len;
    if (stream) {
        char name[64];
        snprintf(name, sizeof(name), "%" PRId64 "_%d", sid, idx);
        client_stream(c, name, &r);
        ck_assert_int_eq(r.type, PROTO_STREAM_RESPONSE);
        got = r.raw;
        got_len = r.raw_len;
    } else {
        client_chunk(c, sid, idx, &r);
        ck_assert_msg(r.type == PROTO_CHUNK_FETCH_SUCCESS, "chunk %d: type %d", idx, r.type);
        ck_assert_int_eq(r.msg.u.chunk_fetch_success.chunk_index, idx);
        got = r.msg.u.chunk_fetch_success.body.data;
        got_len = r.msg.u.chunk_fetch_success.body.len;
    }
    ck_assert_uint_eq(got_len, len);
    uint8_t *want = malloc(len + 1);
    FILE *f = fopen(file, "rb");
    ck_assert(f != NULL);
    fseek(f, (long)offset, SEEK_SET);
    ck_assert_uint_eq(fread(want, 1, len, f), len);
    fclose(f);
    ck_assert(len == 0 || memcmp(got, want, len) == 0);
    free(want);
    reply_free(&r);
}

static void expect_block(struct client *c, int64_t sid, int32_t idx, bool stream,
                         const struct block *b)
{
    expect_chunk(c, sid, idx, stream, b->file, b->offset, b->size);
}

static void expect_chunk_error(struct client *c, int64_t sid, int32_t idx, const char *want)
{
    char line[2048];
    client_chunk_failure(c, sid, idx, line, sizeof(line));
    ck_assert_msg(strcmp(line, want) == 0, "got '%s', want '%s'", line, want);
}

/* Every block of the dataset, by every protocol path. */
static void fetch_everything(int port, const struct dataset *ds, const char *exec)
{
    struct client c;
    client_open(&c, port);
    const char *ids[64];
    uint32_t n = 0;
    for (size_t i = 0; i < ds->n; i++)
        if (strncmp(ds->b[i].id, "shuffle_", 8) == 0)
            ids[n++] = ds->b[i].id;
    /* old protocol, chunk and stream */
    for (int stream = 0; stream <= 1; stream++) {
        int64_t sid = open_blocks(&c, exec, ids, n);
        for (uint32_t i = 0; i < n; i++)
            expect_block(&c, sid, (int32_t)i, stream, find(ds, ids[i]));
    }
    /* new protocol, non-batch: every reduce of every map, in map order */
    int64_t maps[4] = {100, 101, 102, 103};
    int32_t all[6] = {0, 1, 2, 3, 4, 5}, range[2] = {1, 5};
    struct proto_int_array rows[4];
    for (int i = 0; i < 4; i++)
        rows[i] = (struct proto_int_array){all, 6};
    int64_t sid = fetch_shuffle_blocks(&c, exec, maps, rows, 4, false, 24);
    for (int m = 0; m < 4; m++) {
        for (int r = 0; r < 6; r++) {
            char id[96];
            snprintf(id, sizeof(id), "shuffle_2_%" PRId64 "_%d", maps[m], r);
            expect_block(&c, sid, m * 6 + r, false, find(ds, id));
        }
    }
    /* batch: one chunk per map holding reduces [1, 5) */
    for (int i = 0; i < 4; i++)
        rows[i] = (struct proto_int_array){range, 2};
    for (int stream = 0; stream <= 1; stream++) {
        sid = fetch_shuffle_blocks(&c, exec, maps, rows, 4, true, 4);
        for (int m = 0; m < 4; m++) {
            char first[96], last[96];
            snprintf(first, sizeof(first), "shuffle_2_%" PRId64 "_1", maps[m]);
            snprintf(last, sizeof(last), "shuffle_2_%" PRId64 "_4", maps[m]);
            const struct block *a = find(ds, first), *z = find(ds, last);
            expect_chunk(&c, sid, m, stream, a->file, a->offset, z->offset + z->size - a->offset);
        }
    }
    /* rdd blocks */
    const char *rdds[] = {"rdd_5_0", "rdd_5_1", "rdd_5_2"};
    sid = open_blocks(&c, exec, rdds, 3);
    for (int i = 0; i < 3; i++)
        expect_block(&c, sid, i, false, find(ds, rdds[i]));
    client_close(&c);
}

/* A dataset generated in the test's dir and a daemon (state in it too, rdd fetches on) with
 * executor "0" registered over it. */
static struct dataset *start_registered(struct harness_daemon *d, char *state, size_t statelen)
{
    const char *tmp = harness_test_dir();
    snprintf(state, statelen, "%s/state", tmp);
    struct dataset *ds = calloc(1, sizeof(*ds));
    gen(ds, tmp);
    daemon_start(d, tmp, state, "\"fetch_rdd_enabled\": true");
    struct client c;
    client_open(&c, d->port);
    reg(&c, ds, "0");
    client_close(&c);
    return ds;
}

START_TEST(test_fetch_generated_dataset)
{
    char state[800];
    struct harness_daemon d;
    struct dataset *ds = start_registered(&d, state, sizeof(state));
    fetch_everything(d.port, ds, "0");
    daemon_stop_clean(&d);
    free(ds);
}
END_TEST

START_TEST(test_restart_and_kill9)
{
    const char *tmp = harness_test_dir();
    char state[800];
    struct harness_daemon d;
    struct dataset *ds = start_registered(&d, state, sizeof(state));
    daemon_stop_clean(&d);
    daemon_start(&d, tmp, state, "\"fetch_rdd_enabled\": true");
    fetch_everything(d.port, ds, "0");
    /* kill -9 right after the reply: the registration was durable before it */
    struct client c;
    client_open(&c, d.port);
    reg(&c, ds, "7");
    ck_assert(WIFSIGNALED(harness_daemon_kill(&d, SIGKILL)));
    client_close(&c);
    daemon_start(&d, tmp, state, "\"fetch_rdd_enabled\": true");
    fetch_everything(d.port, ds, "7");
    fetch_everything(d.port, ds, "0");
    daemon_stop_clean(&d);
    free(ds);
}
END_TEST

static void rpc_fails(struct client *c, const uint8_t *body, size_t len, const char *want_prefix)
{
    struct reply r;
    client_rpc(c, body, len, &r);
    ck_assert_int_eq(r.type, PROTO_RPC_FAILURE);
    char line[1024];
    first_line(r.msg.u.rpc_failure.error.data, r.msg.u.rpc_failure.error.len, line, sizeof(line));
    ck_assert_msg(strncmp(line, want_prefix, strlen(want_prefix)) == 0, "got '%s', want '%s'", line,
                  want_prefix);
    reply_free(&r);
}

START_TEST(test_errors)
{
    const char *tmp = harness_test_dir();
    char state[800], path[1200], want[2048], err[512];
    snprintf(state, sizeof(state), "%s/state", tmp);
    struct dataset *ds = calloc(1, sizeof(*ds));
    gen(ds, tmp);
    struct harness_daemon d;
    daemon_start(&d, tmp, state, NULL); /* fetch_rdd_enabled defaults to false */
    struct client c;
    client_open(&c, d.port);
    reg(&c, ds, "0");
    /* unregistered executor: the open succeeds, every chunk fails */
    const char *one[] = {"shuffle_2_100_0", "shuffle_2_100_1"};
    int64_t sid = open_blocks(&c, "9", one, 2);
    expect_chunk_error(&c, sid, 0,
                       "java.lang.RuntimeException: Executor is not registered (appId=app-1, "
                       "execId=9)");
    /* bad ids */
    const char *batch[] = {"shuffle_2_100_0_2"};
    open_blocks_fails(&c, batch, 1,
                      "java.lang.IllegalArgumentException: Unexpected block id format: "
                      "shuffle_2_100_0_2");
    const char *trick[] = {"shuffle_2_100_0", "shuffle_2_../../x_0"};
    open_blocks_fails(&c, trick, 2,
                      "java.lang.NumberFormatException: For input string: \"../../x\"");
    const char *rdd[] = {"rdd_5_0"};
    open_blocks_fails(&c, rdd, 1,
                      "java.lang.UnsupportedOperationException: fetching RDD blocks is disabled on "
                      "this shuffle service (fetch_rdd_enabled=false): rdd_5_0");
    /* a good block, then a missing index file: the good one still arrives
     * (after a failure Spark's stream retries the failed block, so each error
     * case gets its own stream) */
    const char *mixed[] = {"shuffle_2_101_2", "shuffle_2_999_0"};
    sid = open_blocks(&c, "0", mixed, 2);
    expect_block(&c, sid, 0, false, find(ds, "shuffle_2_101_2"));
    char idx_name[] = "shuffle_2_999_0.index";
    ck_assert_int_eq(resolver_path_for_test(ds, idx_name, path, sizeof(path)), 0);
    snprintf(want, sizeof(want), "java.lang.RuntimeException: Failed to open file: %s", path);
    expect_chunk_error(&c, sid, 1, want);
    const char *past[] = {"shuffle_2_100_6"};
    sid = open_blocks(&c, "0", past, 1);
    expect_chunk_error(&c, sid, 0, "java.lang.IndexOutOfBoundsException");
    /* a data file shorter than its index says, and a corrupt index: each
     * fails its own chunk, and the connection keeps serving */
    const struct block *b103 = find(ds, "shuffle_2_103_5");
    if (b103->size > 0) {
        ck_assert_int_eq(truncate(b103->file, (off_t)b103->offset), 0);
        const char *shortb[] = {"shuffle_2_103_5"};
        sid = open_blocks(&c, "0", shortb, 1);
        struct reply sr;
        client_chunk(&c, sid, 0, &sr);
        ck_assert_int_eq(sr.type, PROTO_CHUNK_FETCH_FAILURE);
        reply_free(&sr);
    }
    ck_assert_int_eq(resolver_path_for_test(ds, "shuffle_2_102_0.index", path, sizeof(path)), 0);
    ck_assert_int_eq(harness_write_file(path, "\0\0\0\0\0\0\0\0\0\0\0", 11), 0);
    const char *corrupt[] = {"shuffle_2_102_0"};
    sid = open_blocks(&c, "0", corrupt, 1);
    snprintf(want, sizeof(want),
             "java.io.IOException: Corrupt shuffle index file %s: size 11 is not a positive "
             "multiple of 8",
             path);
    expect_chunk_error(&c, sid, 0, want);
    const char *still[] = {"shuffle_2_101_3"};
    sid = open_blocks(&c, "0", still, 1);
    expect_block(&c, sid, 0, false, find(ds, "shuffle_2_101_3"));
    /* inconsistent FetchShuffleBlocks shapes */
    int64_t maps[2] = {100, 101};
    int32_t three[3] = {0, 1, 2};
    struct proto_int_array rows[2] = {{three, 3}, {three, 3}};
    fetch_shuffle_blocks(&c, "0", maps, rows, 2, true, -1);
    /* unknown type, unsupported message, malformed body, relative dir, bad ids */
    rpc_fails(&c, (const uint8_t *)"\x2a", 1,
              "java.lang.IllegalArgumentException: Unknown message type: 42");
    size_t ul;
    static const char upload_hex[] = "01 00 00 00 05 61 70 70 2d 31 00 00 00 01 30 00 00 00 07 72 "
                                     "64 64 5f 31 5f 32 00 00 00 01 09 00 00 00 02 01 02";
    uint8_t *upload = hex_bytes(upload_hex, &ul);
    rpc_fails(&c, upload, ul,
              "java.lang.UnsupportedOperationException: Unexpected message: "
              "UploadBlock[appId=app-1,execId=0,blockId=rdd_1_2,metadata size=1,block size=2]");
    free(upload);
    rpc_fails(&c,
              (const uint8_t *)"\x00\x00\x00\x00\x05"
                               "ap",
              7, "java.lang.IllegalArgumentException: malformed OpenBlocks");
    char *rel[] = {"relative/dir"};
    ck_assert_int_eq(client_register(&c, "app-1", "1", rel, 1, 64, err, sizeof(err)),
                     PROTO_RPC_FAILURE);
    ck_assert(strstr(err, "not an absolute") != NULL);
    char *dots[] = {"/tmp/../etc"};
    ck_assert_int_eq(client_register(&c, "app-1", "1", dots, 1, 64, err, sizeof(err)),
                     PROTO_RPC_FAILURE);
    char *ok[] = {"/tmp/x"};
    ck_assert_int_eq(client_register(&c, "../app", "1", ok, 1, 64, err, sizeof(err)),
                     PROTO_RPC_FAILURE);
    ck_assert(strstr(err, "invalid appId") != NULL);
    ck_assert_int_eq(client_register(&c, "app-1", "a/b", ok, 1, 64, err, sizeof(err)),
                     PROTO_RPC_FAILURE);
    ck_assert_int_eq(client_register(&c, "app-1", "1", ok, 1, 0, err, sizeof(err)),
                     PROTO_RPC_FAILURE);
    /* RemoveBlocks: deletes the named file only, never a path trick */
    const char *const names[] = {"rdd_5_1", "rdd_5_9", "../manifest.tsv"};
    ck_assert_int_eq(client_remove_blocks(&c, "app-1", "0", names, 3), 1);
    ck_assert(!harness_path_exists(find(ds, "rdd_5_1")->file));
    ck_assert(harness_path_exists(find(ds, "rdd_5_0")->file));
    snprintf(path, sizeof(path), "%s/manifest.tsv", ds->root);
    ck_assert(harness_path_exists(path));
    ck_assert_int_eq(client_remove_blocks(&c, "app-1", "9", names, 3), -1);
    client_close(&c);
    daemon_stop_clean(&d);
    free(ds);
}
END_TEST

START_TEST(test_allowed_roots)
{
    const char *tmp = harness_test_dir();
    char state[800], extra[1200], err[512], inside[900], outside[900], link[900];
    snprintf(state, sizeof(state), "%s/state", tmp);
    snprintf(inside, sizeof(inside), "%s/allowed/blockmgr-0", tmp);
    snprintf(outside, sizeof(outside), "%s/other", tmp);
    snprintf(link, sizeof(link), "%s/allowed/sneaky", tmp);
    char cmd[4000];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s' '%s' && ln -s '%s' '%s'", inside, outside, outside,
             link);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(extra, sizeof(extra), "\"allowed_local_dir_roots\": [\"%s/allowed\"]", tmp);
    struct harness_daemon d;
    daemon_start(&d, tmp, state, extra);
    struct client c;
    client_open(&c, d.port);
    char *good[] = {inside};
    ck_assert_int_eq(client_register(&c, "app-1", "0", good, 1, 64, err, sizeof(err)),
                     PROTO_RPC_RESPONSE);
    char *bad[] = {inside, outside};
    ck_assert_int_eq(client_register(&c, "app-1", "1", bad, 2, 64, err, sizeof(err)),
                     PROTO_RPC_FAILURE);
    ck_assert(strstr(err, "allowed_local_dir_roots") != NULL);
    char *sneaky[] = {link};
    ck_assert_int_eq(client_register(&c, "app-1", "2", sneaky, 1, 64, err, sizeof(err)),
                     PROTO_RPC_FAILURE);
    /* the refused executors are not registered */
    const char *ids[] = {"shuffle_0_0_0"};
    int64_t sid = open_blocks(&c, "1", ids, 1);
    expect_chunk_error(&c, sid, 0,
                       "java.lang.RuntimeException: Executor is not registered (appId=app-1, "
                       "execId=1)");
    /* a local dir reached through a symlink to the root: RemoveBlocks deletes through the
     * canonical (longer) sub-dir path, and still the named file */
    char alias[900], via_alias[1000], file[1200];
    snprintf(alias, sizeof(alias), "%s/a", tmp);
    snprintf(via_alias, sizeof(via_alias), "%s/blockmgr-0", alias);
    snprintf(cmd, sizeof(cmd), "ln -s '%s/allowed' '%s'", tmp, alias);
    ck_assert_int_eq(system(cmd), 0);
    char *aliased[] = {via_alias};
    ck_assert_int_eq(client_register(&c, "app-1", "3", aliased, 1, 64, err, sizeof(err)),
                     PROTO_RPC_RESPONSE);
    const char *const canonical_dirs[] = {inside};
    ck_assert_int_eq(placement_path(canonical_dirs, 1, 64, "rdd_1_0", file, sizeof(file)), 0);
    snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\" && echo x > '%s'", file, file);
    ck_assert_int_eq(system(cmd), 0);
    const char *const rdd_name[] = {"rdd_1_0"};
    ck_assert_int_eq(client_remove_blocks(&c, "app-1", "3", rdd_name, 1), 1);
    ck_assert(!harness_path_exists(file));
    client_close(&c);
    daemon_stop_clean(&d);
}
END_TEST

CHECK_MAIN((.suite = "block_daemon", .name = "daemon", .timeout_s = 120),
           test_fetch_generated_dataset, test_restart_and_kill9, test_errors, test_allowed_roots)

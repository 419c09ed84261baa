/* SPDX-License-Identifier: Apache-2.0 */
/* The block service through its handler, with the daemon core replaced by
 * stubs (handler.h, stream_manager.h, log.h): restore from state_dir,
 * applicationRemoved / executorRemoved end to end, app isolation with an
 * authenticated client id, and lazy chunk resolution. */
#include <config.h>

#include <check.h>

#include "proto/blockmsg.h"
#include "server/block/block_service.h"
#include "common/log.h"
#include "server/block/placement.h"
#include "server/push/merge_apps.h"
#include "server/service.h"
#include "server/stream/stream_manager.h"
#include "core_stubs.h"
#include "test_util_block.h"
#include "../check_main.h"

/* ---- stubs of the daemon core ---- */

struct rpc_reply {
    int ok; /* 1 ok, 0 fail, -1 unanswered */
    uint8_t body[4096];
    size_t len;
    char err[4096];
};

void rpc_reply_ok(struct rpc_reply *r, const uint8_t *body, size_t len)
{
    ck_assert_int_eq(r->ok, -1);
    ck_assert_uint_le(len, sizeof(r->body));
    r->ok = 1;
    memcpy(r->body, body, len);
    r->len = len;
}

void rpc_reply_fail(struct rpc_reply *r, const char *error)
{
    ck_assert_int_eq(r->ok, -1);
    r->ok = 0;
    snprintf(r->err, sizeof(r->err), "%s", error);
}

static struct stream_source streams[8];
static int nstreams;
int64_t stream_register(struct conn *c, const char *app_id, struct stream_source src, char *err,
                        size_t errlen)
{
    ck_assert_int_lt(nstreams, 8);
    streams[nstreams] = src;
    return 5000 + nstreams++;
}

/* ---- helpers ---- */

/* Only the keys the block service reads (config.c stays out of this test). */
static int config_defaults_for_test(struct shuffled_config *cfg, const char *state_dir)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->index_cache_bytes = 1 << 20;
    cfg->state_dir = strdup(state_dir);
    return cfg->state_dir ? 0 : -1;
}

static void config_free_for_test(struct shuffled_config *cfg)
{
    free(cfg->state_dir);
}

static struct rpc_handler *h;
static struct conn *fake_conn = (struct conn *)&fake_conn;

static void call(const struct blockmsg *m, struct rpc_reply *r)
{
    struct proto_writer w;
    proto_writer_init(&w);
    blockmsg_encode(&w, m);
    r->ok = -1;
    h->on_rpc(h->ctx, fake_conn, r, w.buf, w.len);
    ck_assert_int_ne(r->ok, -1);
    proto_writer_free(&w);
}

static struct rpc_handler *create(struct shuffled_config *cfg)
{
    char err[512];
    struct rpc_handler *x = shuffle_service_create(cfg, err, sizeof(err));
    ck_assert_msg(x != NULL, "%s", err);
    return x;
}

static void destroy(void)
{
    for (int i = 0; i < nstreams; i++)
        streams[i].free_ctx(streams[i].ctx);
    nstreams = 0;
    h->destroy(h->ctx);
    h = NULL;
}

static void reg(const char *app, const char *exec, const char *dir, bool want_ok)
{
    struct blockmsg m = {.type = BLOCKMSG_REGISTER_EXECUTOR};
    struct proto_bytes d = {(char *)dir, (uint32_t)strlen(dir)};
    m.u.register_executor.app_id = (struct proto_bytes){(char *)app, (uint32_t)strlen(app)};
    m.u.register_executor.exec_id = (struct proto_bytes){(char *)exec, (uint32_t)strlen(exec)};
    m.u.register_executor.info.local_dirs = (struct proto_string_array){&d, 1};
    m.u.register_executor.info.sub_dirs_per_local_dir = 4;
    m.u.register_executor.info.shuffle_manager = (struct proto_bytes){"m", 1};
    struct rpc_reply r;
    call(&m, &r);
    ck_assert_msg(r.ok == want_ok, "register %s/%s: %s", app, exec, r.err);
}

/* GetLocalDirsForExecutors for one executor: its first dir, or NULL. */
static bool registered(const char *app, const char *exec)
{
    struct blockmsg m = {.type = BLOCKMSG_GET_LOCAL_DIRS_FOR_EXECUTORS};
    struct proto_bytes e = {(char *)exec, (uint32_t)strlen(exec)};
    m.u.get_local_dirs.app_id = (struct proto_bytes){(char *)app, (uint32_t)strlen(app)};
    m.u.get_local_dirs.exec_ids = (struct proto_string_array){&e, 1};
    struct rpc_reply r;
    call(&m, &r);
    if (!r.ok) {
        char want[256];
        snprintf(want, sizeof(want),
                 "java.lang.RuntimeException: Executor is not registered (appId=%s, execId=%s)",
                 app, exec);
        ck_assert_str_eq(r.err, want);
    }
    return r.ok == 1;
}

static void touch(const char *dir, const char *rel)
{
    char p[1024], cmd[2200];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\" && echo x > '%s'", p, p);
    ck_assert_int_eq(system(cmd), 0);
}

static bool has(const char *dir, const char *rel)
{
    char p[1024];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    return harness_path_exists(p);
}

START_TEST(test_restore_and_removal)
{
    const char *tmp = harness_test_dir();
    char state[600], d1[600], d2[600], err[256];
    snprintf(state, sizeof(state), "%s/state", tmp);
    snprintf(d1, sizeof(d1), "%s/app1-exec0", tmp);
    snprintf(d2, sizeof(d2), "%s/app2-exec0", tmp);
    touch(d1, "0a/shuffle_0_1_0.data");
    touch(d1, "0b/shuffle_0_1_0.index");
    touch(d1, "0c/rdd_1_1");
    touch(d1, "0c/broadcast_9");
    touch(d2, "01/shuffle_0_2_0.data");
    struct shuffled_config cfg;
    ck_assert_int_eq(config_defaults_for_test(&cfg, state), 0);
    cfg.fetch_rdd_enabled = true;
    h = create(&cfg);
    reg("app-1", "0", d1, true);
    reg("app-2", "0", d2, true);
    destroy();
    h = create(&cfg); /* restart: both come back from state_dir */
    ck_assert(registered("app-1", "0"));
    ck_assert(registered("app-2", "0"));
    struct block_service *s = block_service_of(h);
    ck_assert_int_eq(block_service_executor_removed(s, "app-1", "0"), 1); /* broadcast_9 */
    ck_assert(has(d1, "0a/shuffle_0_1_0.data") && has(d1, "0b/shuffle_0_1_0.index"));
    ck_assert(has(d1, "0c/rdd_1_1") && !has(d1, "0c/broadcast_9"));
    ck_assert(registered("app-1", "0"));
    ck_assert_int_eq(block_service_application_removed(s, "app-1", true, err, sizeof(err)), 1);
    ck_assert(!harness_path_exists(d1));
    ck_assert(!registered("app-1", "0"));
    ck_assert_int_eq(block_service_application_removed(s, "app-2", false, err, sizeof(err)), 1);
    ck_assert(has(d2, "01/shuffle_0_2_0.data"));
    destroy();
    h = create(&cfg); /* removals are durable too */
    ck_assert(!registered("app-1", "0"));
    ck_assert(!registered("app-2", "0"));
    destroy();
    config_free_for_test(&cfg);
}
END_TEST

/* The test's state dir and one local dir (tmp/rel, made) into state and dir, and cfg's
 * defaults. */
static void test_dirs(struct shuffled_config *cfg, const char *rel, char *state, char *dir,
                      size_t len)
{
    const char *tmp = harness_test_dir();
    snprintf(state, len, "%s/state", tmp);
    snprintf(dir, len, "%s/%s", tmp, rel);
    touch(dir, "x");
    ck_assert_int_eq(config_defaults_for_test(cfg, state), 0);
}

START_TEST(test_isolation_and_streams)
{
    char state[600], d1[600];
    struct shuffled_config cfg;
    test_dirs(&cfg, "exec", state, d1, sizeof(d1));
    cfg.fetch_rdd_enabled = true;
    h = create(&cfg);
    stub_client_id = "app-2";
    struct rpc_reply r;
    struct blockmsg m = {.type = BLOCKMSG_OPEN_BLOCKS};
    struct proto_bytes ids[2] = {{"rdd_1_0", 7}, {"rdd_1_1", 7}};
    m.u.open_blocks.app_id = (struct proto_bytes){"app-1", 5};
    m.u.open_blocks.exec_id = (struct proto_bytes){"0", 1};
    m.u.open_blocks.block_ids = (struct proto_string_array){ids, 2};
    call(&m, &r);
    ck_assert_int_eq(r.ok, 0);
    ck_assert_str_eq(r.err, "java.lang.SecurityException: Client for app-2 not authorized for "
                            "application app-1.");
    reg("app-1", "0", d1, false); /* registration is isolated too */
    stub_client_id = "app-1";
    reg("app-1", "0", d1, true);
    call(&m, &r);
    ck_assert_int_eq(r.ok, 1);
    ck_assert_uint_eq(r.len, 13);
    ck_assert_int_eq(nstreams, 1);
    ck_assert_uint_eq(streams[0].num_chunks, 2);
    /* rdd_1_1 exists, rdd_1_0 does not: Spark's null buffer */
    char rdd[700];
    const char *dirs[] = {d1};
    ck_assert_int_eq(placement_path(dirs, 1, 4, "rdd_1_1", rdd, sizeof(rdd)), 0);
    touch(d1, rdd + strlen(d1) + 1);
    struct chunk_segment seg;
    char err[512];
    ck_assert_int_eq(streams[0].resolve(streams[0].ctx, 0, &seg, err, sizeof(err)), 0);
    ck_assert_int_eq(seg.kind, CHUNK_MISSING);
    ck_assert_int_eq(streams[0].resolve(streams[0].ctx, 1, &seg, err, sizeof(err)), 0);
    ck_assert_int_eq(seg.kind, CHUNK_FILE);
    ck_assert_str_eq(seg.path, rdd);
    ck_assert_uint_eq(seg.offset, 0);
    ck_assert_uint_eq(seg.length, 2);
    free(seg.path);
    /* unknown type as a signed Java byte; a one-way message gets no answer */
    uint8_t ff = 0xff;
    r.ok = -1;
    h->on_rpc(h->ctx, fake_conn, &r, &ff, 1);
    ck_assert_str_eq(r.err, "java.lang.IllegalArgumentException: Unknown message type: -1");
    h->on_rpc(h->ctx, fake_conn, NULL, &ff, 1);
    /* FinalizeShuffleMerge as a 3.1 ESS without merge support */
    struct blockmsg fm = {.type = BLOCKMSG_FINALIZE_SHUFFLE_MERGE};
    fm.u.finalize_shuffle_merge.app_id = (struct proto_bytes){"app-1", 5};
    call(&fm, &r);
    ck_assert_str_eq(r.err,
                     "java.lang.UnsupportedOperationException: Cannot handle shuffle block merge");
    stub_client_id = NULL;
    destroy();
    config_free_for_test(&cfg);
}
END_TEST

/* MergedBlockMetaRequest as the daemon routes it (ctx: the service). */
static void merged_meta(int32_t merge_id)
{
    struct proto_msg q = {.type = PROTO_MERGED_BLOCK_META_REQUEST};
    q.u.merged_block_meta_request.request_id = 9;
    q.u.merged_block_meta_request.app_id = (struct proto_view){(const uint8_t *)"app-1", 5};
    q.u.merged_block_meta_request.shuffle_merge_id = merge_id;
    int before = stub_slot_answer.count;
    h->on_merged_meta(h->ctx, fake_conn, &q);
    ck_assert_int_eq(stub_slot_answer.count, before + 1);
    ck_assert(stub_slot_answer.request_id == 9);
}

/* Push-based shuffle's read side through the handler: merge dirs from the registration, a
 * merged partition's meta and chunk, a shuffleMergeId made stale by a newer one, and the
 * application's removal. */
START_TEST(test_merged_fetch)
{
    const char *tmp = harness_test_dir();
    char state[600], local[600];
    struct shuffled_config cfg;
    test_dirs(&cfg, "l/blockmgr", state, local, sizeof(local));
    cfg.push_enabled = true;
    h = create(&cfg);
    struct blockmsg m = {.type = BLOCKMSG_REGISTER_EXECUTOR};
    struct proto_bytes d = {local, (uint32_t)strlen(local)};
    static char manager[] = "m:{\"mergeDir\":\"merge\",\"attemptId\":\"1\"}}}";
    m.u.register_executor.app_id = (struct proto_bytes){"app-1", 5};
    m.u.register_executor.exec_id = (struct proto_bytes){"0", 1};
    m.u.register_executor.info.local_dirs = (struct proto_string_array){&d, 1};
    m.u.register_executor.info.sub_dirs_per_local_dir = 4;
    m.u.register_executor.info.shuffle_manager = (struct proto_bytes){manager, sizeof manager - 1};
    struct rpc_reply r;
    call(&m, &r);
    ck_assert_int_eq(r.ok, 1);
    struct merge_apps *apps = block_service_of(h)->merge_apps;
    struct merge_dirs dirs;
    ck_assert_int_eq(merge_apps_get(apps, "app-1", &dirs), 0);
    char want[700], path[900];
    snprintf(want, sizeof(want), "%s/l/merge", tmp);
    ck_assert_str_eq(dirs.dirs[0], want);
    static const uint8_t index[16] = {[15] = 5},
                         meta[18] = {0x3a, 0x30, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0, 0};
    const enum merged_file kinds[] = {MERGED_INDEX, MERGED_META, MERGED_DATA};
    const uint8_t *bytes[] = {index, meta, (const uint8_t *)"hello"};
    const size_t lens[] = {16, 18, 5};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(merged_file_path(&dirs, "app-1", 0, 0, 0, kinds[i], path, sizeof(path)),
                         0);
        touch(want, path + strlen(want) + 1);
        ck_assert_int_eq(harness_write_file(path, bytes[i], lens[i]), 0);
    }
    merge_dirs_free(&dirs);
    merged_meta(0);
    ck_assert_int_eq(stub_slot_answer.type, PROTO_MERGED_BLOCK_META_SUCCESS);
    ck_assert_int_eq(stub_slot_answer.num_chunks, 1);
    ck_assert_uint_eq(stub_slot_answer.len, 18);
    ck_assert(memcmp(stub_slot_answer.body, meta, 18) == 0);
    /* chunk 0 of reduce 0: the data file's [0, 5) */
    int32_t zero = 0;
    struct proto_int_array row = {&zero, 1};
    struct blockmsg f = {.type = BLOCKMSG_FETCH_SHUFFLE_BLOCK_CHUNKS};
    f.u.fetch_shuffle_block_chunks.app_id = (struct proto_bytes){"app-1", 5};
    f.u.fetch_shuffle_block_chunks.exec_id = (struct proto_bytes){"0", 1};
    f.u.fetch_shuffle_block_chunks.reduce_ids = (struct proto_int_array){&zero, 1};
    f.u.fetch_shuffle_block_chunks.chunk_ids = (struct proto_int_matrix){&row, 1};
    call(&f, &r);
    ck_assert_int_eq(r.ok, 1);
    struct chunk_segment seg;
    char err[512];
    ck_assert_int_eq(streams[0].resolve(streams[0].ctx, 0, &seg, err, sizeof(err)), 0);
    ck_assert_int_eq(seg.kind, CHUNK_FILE);
    ck_assert_str_eq(seg.path, path);
    ck_assert_uint_eq(seg.length, 5);
    free(seg.path);
    /* the merge manager has seen shuffleMergeId 1: merge 0 is stale for both fetches */
    ck_assert_int_eq(merge_apps_note_merge_id(apps, "app-1", 0, 1), 0);
    merged_meta(0);
    ck_assert_int_eq(stub_slot_answer.type, PROTO_RPC_FAILURE);
    ck_assert_str_eq(stub_slot_answer.err,
                     "java.lang.RuntimeException: MergedBlockMeta fetch for shuffle 0 with "
                     "shuffleMergeId 0 reduceId 0 is stale shuffle block fetch request as shuffle "
                     "blocks of a higher shuffleMergeId for the shuffle is available");
    ck_assert_int_eq(streams[0].resolve(streams[0].ctx, 0, &seg, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "RuntimeException: MergedBlockData fetch for shuffle 0 with "
                              "shuffleMergeId 0 reduceId 0 is stale") != NULL,
                  "%s", err);
    /* the application's removal forgets its merge dirs */
    ck_assert_int_eq(
        block_service_application_removed(block_service_of(h), "app-1", false, err, sizeof(err)),
        1);
    merged_meta(1);
    ck_assert_str_eq(stub_slot_answer.err, "java.lang.IllegalArgumentException: application app-1 "
                                           "is not registered or NM was restarted.");
    destroy();
    config_free_for_test(&cfg);
}
END_TEST

CHECK_MAIN((.suite = "block_service", .name = "core"), test_restore_and_removal,
           test_isolation_and_streams, test_merged_fetch)

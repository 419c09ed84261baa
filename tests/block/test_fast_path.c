/* SPDX-License-Identifier: Apache-2.0 */
/* The event-loop fast path against the real daemon: blocks of a map output whose data file is
 * kept open are served without the blocking pool (the daemon's own counters say so), and
 * the kept-open file never outlives what happens to it on disk: deleted, truncated, replaced
 * by a rename, replaced by a symlink under allowed_local_dir_roots, removed by RemoveBlocks
 * or with its application. Every case fetches through a new stream after the change, by
 * ChunkFetch and by StreamRequest, and compares bytes with what is on disk now. */
#include <config.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/http_client.h"
#include "../unit/prom_parse.h"
#include "../check_main.h"
#include "../harness/port.h"
#include "daemon_client.h"
#include "server/block/placement.h"

#define REDUCES 4
static const uint64_t sizes[REDUCES] = {100, 200, 300, 400};

struct fixture {
    const char *tmp; /* the test's temp dir */
    char dir[700];   /* the executor's one local dir, under <tmp>/allowed */
    char data[1200]; /* shuffle_0_0_0.data where Spark places it */
    char index[1200];
    uint8_t bytes[1000]; /* what the data file holds now */
    int admin_port;
    struct harness_daemon d;
    struct client c;
};

/* Writes path as Spark commits a file: a temp file renamed over it. */
static void commit_file(const char *path, const uint8_t *p, size_t n)
{
    char tmp[1300];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    ck_assert_int_eq(harness_write_file(tmp, p, n), 0);
    ck_assert_int_eq(rename(tmp, path), 0);
}

/* A data file of REDUCES blocks filled from seed, and its index. */
static void write_map_output(struct fixture *f, uint8_t seed)
{
    uint8_t idx[8 * (REDUCES + 1)];
    uint64_t off = 0;
    for (int r = 0; r <= REDUCES; r++) {
        for (int k = 0; k < 8; k++)
            idx[8 * r + k] = (uint8_t)(off >> (56 - 8 * k));
        if (r < REDUCES)
            off += sizes[r];
    }
    for (uint64_t i = 0; i < off; i++)
        f->bytes[i] = (uint8_t)(seed + i * 7);
    commit_file(f->data, f->bytes, off);
    commit_file(f->index, idx, sizeof(idx));
}

static void setup(struct fixture *f, bool confined)
{
    memset(f, 0, sizeof(*f));
    f->tmp = harness_test_dir();
    snprintf(f->dir, sizeof(f->dir), "%s/allowed/blockmgr-0", f->tmp);
    const char *dirs[1] = {f->dir};
    ck_assert_int_eq(placement_path(dirs, 1, 4, "shuffle_0_0_0.data", f->data, sizeof(f->data)), 0);
    ck_assert_int_eq(placement_path(dirs, 1, 4, "shuffle_0_0_0.index", f->index, sizeof(f->index)),
                     0);
    char cmd[3000];
    snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\" \"$(dirname '%s')\" '%s/outside'",
             f->data, f->index, f->tmp);
    ck_assert_int_eq(system(cmd), 0);
    write_map_output(f, 1);
    char state[800], extra[600];
    snprintf(state, sizeof(state), "%s/state", f->tmp);
    f->admin_port = harness_free_port();
    ck_assert_int_gt(f->admin_port, 0);
    int n = snprintf(extra, sizeof(extra), "\"admin_port\": %d", f->admin_port);
    if (confined)
        snprintf(extra + n, sizeof(extra) - (size_t)n,
                 ", \"allowed_local_dir_roots\": [\"%s/allowed\"]", f->tmp);
    daemon_start(&f->d, f->tmp, state, extra);
    client_open(&f->c, f->d.port);
    char *reg_dirs[1] = {f->dir};
    char err[512] = "";
    ck_assert_msg(client_register(&f->c, "app-1", "0", reg_dirs, 1, 4, err, sizeof(err)) ==
                      PROTO_RPC_RESPONSE,
                  "register: %s", err);
}

static void teardown(struct fixture *f)
{
    client_close(&f->c);
    daemon_stop_clean(&f->d);
}

static double metric(const struct fixture *f, const char *key)
{
    struct http_response r = http_request(f->admin_port, "GET", "/metrics");
    ck_assert_int_eq(r.status, 200);
    double v = prom_value(r.body, key);
    free(r.body);
    return v;
}

/* OpenBlocks of every reduce of map 0: a new stream of REDUCES chunks. */
static int64_t open_map(struct fixture *f)
{
    struct blockmsg m = {.type = BLOCKMSG_OPEN_BLOCKS};
    struct proto_bytes items[REDUCES];
    char names[REDUCES][32];
    for (int r = 0; r < REDUCES; r++) {
        snprintf(names[r], sizeof(names[r]), "shuffle_0_0_%d", r);
        items[r] = (struct proto_bytes){names[r], (uint32_t)strlen(names[r])};
    }
    m.u.open_blocks.app_id = (struct proto_bytes){"app-1", 5};
    m.u.open_blocks.exec_id = (struct proto_bytes){"0", 1};
    m.u.open_blocks.block_ids = (struct proto_string_array){items, REDUCES};
    int32_t chunks = 0;
    int64_t stream = client_open_stream(&f->c, &m, &chunks);
    ck_assert_int_eq(chunks, REDUCES);
    return stream;
}

static uint64_t offset_of(int reduce)
{
    uint64_t off = 0;
    for (int r = 0; r < reduce; r++)
        off += sizes[r];
    return off;
}

/* Block `reduce` by ChunkFetch (even) or StreamRequest (odd): 1 when it came back holding
 * what the file holds now, 0 on a failure answer (its first line in why). Anything else (a
 * success with other bytes) fails the test. */
static int fetch(struct fixture *f, int64_t sid, int reduce, char *why, size_t whylen)
{
    struct reply r;
    const uint8_t *got = NULL;
    size_t got_len = 0;
    if (reduce % 2) {
        char name[64];
        snprintf(name, sizeof(name), "%" PRId64 "_%d", sid, reduce);
        client_stream(&f->c, name, &r);
        if (r.type == PROTO_STREAM_RESPONSE) {
            got = r.raw;
            got_len = r.raw_len;
        } else {
            ck_assert_int_eq(r.type, PROTO_STREAM_FAILURE);
            first_line(r.msg.u.stream_failure.error.data, r.msg.u.stream_failure.error.len, why,
                       whylen);
        }
    } else {
        client_chunk(&f->c, sid, reduce, &r);
        if (r.type == PROTO_CHUNK_FETCH_SUCCESS) {
            got = r.msg.u.chunk_fetch_success.body.data;
            got_len = r.msg.u.chunk_fetch_success.body.len;
        } else {
            ck_assert_int_eq(r.type, PROTO_CHUNK_FETCH_FAILURE);
            first_line(r.msg.u.chunk_fetch_failure.error.data,
                       r.msg.u.chunk_fetch_failure.error.len, why, whylen);
        }
    }
    int ok = got != NULL;
    if (ok) {
        ck_assert_uint_eq(got_len, sizes[reduce]);
        ck_assert_msg(memcmp(got, f->bytes + offset_of(reduce), got_len) == 0,
                      "block %d: bytes differ from the file's current ones", reduce);
    }
    reply_free(&r);
    return ok;
}

/* Every block of a new stream is served from the file as it is now. */
static void fetch_all_ok(struct fixture *f)
{
    int64_t sid = open_map(f);
    char why[1024];
    for (int r = 0; r < REDUCES; r++)
        ck_assert_msg(fetch(f, sid, r, why, sizeof(why)) == 1, "block %d: %s", r, why);
}

/* Serves the map twice: the second time every block comes from the kept-open file. */
static void warm_up(struct fixture *f)
{
    fetch_all_ok(f);
    double before = metric(f, "shuffled_chunks_resolved_on_loop_total");
    fetch_all_ok(f);
    ck_assert_double_ge(metric(f, "shuffled_chunks_resolved_on_loop_total"), before + REDUCES);
    ck_assert_double_eq(metric(f, "shuffled_open_map_outputs"), 1);
}

START_TEST(deleted_underneath)
{
    struct fixture f;
    setup(&f, false);
    warm_up(&f);
    ck_assert_int_eq(unlink(f.data), 0);
    int64_t sid = open_map(&f);
    char why[1024];
    for (int r = 0; r < REDUCES; r++) {
        ck_assert_msg(fetch(&f, sid, r, why, sizeof(why)) == 0, "block %d of a deleted file", r);
        ck_assert_msg(strstr(why, "Failed to open file") != NULL, "got '%s'", why);
    }
    ck_assert_double_ge(metric(&f, "shuffled_open_map_outputs_stale_total"), 1);
    teardown(&f);
}
END_TEST

START_TEST(truncated_underneath)
{
    struct fixture f;
    setup(&f, false);
    warm_up(&f);
    ck_assert_int_eq(truncate(f.data, 150), 0);
    int64_t sid = open_map(&f);
    char why[1024];
    ck_assert_int_eq(fetch(&f, sid, 0, why, sizeof(why)), 1); /* bytes 0-100 are still there */
    ck_assert_int_eq(fetch(&f, sid, 1, why, sizeof(why)), 0); /* bytes 100-300 are not */
    ck_assert_msg(strstr(why, "EOFException") != NULL, "got '%s'", why);
    teardown(&f);
}
END_TEST

START_TEST(replaced_underneath)
{
    struct fixture f;
    setup(&f, false);
    warm_up(&f);
    write_map_output(&f, 99); /* a re-attempt committed over it: new bytes, same layout */
    fetch_all_ok(&f);         /* compares with the new bytes */
    warm_up(&f);              /* and the new file is kept open in turn */
    teardown(&f);
}
END_TEST

START_TEST(symlink_under_roots)
{
    struct fixture f;
    setup(&f, true);
    warm_up(&f);
    /* the data file swapped for a link to a file outside the roots, of the same size */
    char evil[900], cmd[4200];
    snprintf(evil, sizeof(evil), "%s/outside/evil", f.tmp);
    snprintf(cmd, sizeof(cmd), "head -c 1000 /dev/zero > '%s' && ln -sf '%s' '%s'", evil, evil,
             f.data);
    ck_assert_int_eq(system(cmd), 0);
    int64_t sid = open_map(&f);
    char why[1024];
    for (int r = 0; r < REDUCES; r++) {
        ck_assert_msg(fetch(&f, sid, r, why, sizeof(why)) == 0, "block %d through a symlink", r);
    }
    teardown(&f);
}
END_TEST

START_TEST(remove_blocks_closes_it)
{
    struct fixture f;
    setup(&f, false);
    warm_up(&f);
    const char *const names[] = {"shuffle_0_0_0.data"};
    ck_assert_int_eq(client_remove_blocks(&f.c, "app-1", "0", names, 1), 1);
    ck_assert_double_eq(metric(&f, "shuffled_open_map_outputs"), 0);
    int64_t sid = open_map(&f);
    char why[1024];
    ck_assert_int_eq(fetch(&f, sid, 0, why, sizeof(why)), 0);
    ck_assert_msg(strstr(why, "Failed to open file") != NULL, "got '%s'", why);
    teardown(&f);
}
END_TEST

START_TEST(application_removed)
{
    struct fixture f;
    setup(&f, false);
    warm_up(&f);
    int64_t sid = open_map(&f); /* opened before the removal, fetched after */
    struct http_response r =
        http_request(f.admin_port, "POST", "/admin/remove-application?app_id=app-1");
    ck_assert_int_eq(r.status, 200);
    free(r.body);
    ck_assert_double_eq(metric(&f, "shuffled_open_map_outputs"), 0);
    char why[1024];
    ck_assert_int_eq(fetch(&f, sid, 0, why, sizeof(why)), 0);
    ck_assert_str_eq(why, "java.lang.RuntimeException: Executor is not registered (appId=app-1, "
                          "execId=0)");
    teardown(&f);
}
END_TEST

CHECK_MAIN((.suite = "fast_path", .name = "daemon", .timeout_s = 60), deleted_underneath,
           truncated_underneath, replaced_underneath, symlink_under_roots, remove_blocks_closes_it,
           application_removed)

/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as an RpcRequest body to the real block handler
 * (block_handler.c on_rpc: decode, app/exec id checks, RegisterExecutor, OpenBlocks,
 * FetchShuffleBlocks, RemoveBlocks, GetLocalDirsForExecutors...), with the daemon core
 * replaced by stubs (no sockets, blocking jobs run inline). Every request must be answered
 * exactly once; every stream it registers is resolved chunk by chunk and freed. One
 * executor is registered at start over a temp dir holding a small shuffle output, so
 * resolution reaches placement, the index cache and the files. Push-based shuffle is on and
 * the executor names a merge dir holding one merged partition, so shuffleChunk_ ids and
 * FetchShuffleBlockChunks reach the merged files, and every input is also sent as a
 * MergedBlockMetaRequest. The block sources it is linked with are listed in
 * tests/fuzz/local.mk. */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../block/core_stubs.h"
#include "../harness/fs.h"
#include "proto/blockmsg.h"
#include "server/block/block_service.h"
#include "server/push/merge_registration.h"
#include "common/log.h"
#include "server/service.h"
#include "server/stream/stream_manager.h"

/* ---- stubs of the daemon core ---- */

struct rpc_reply {
    int answers;
};

void rpc_reply_ok(struct rpc_reply *r, const uint8_t *body, size_t len)
{
    (void)body;
    (void)len;
    r->answers++;
}

void rpc_reply_fail(struct rpc_reply *r, const char *error)
{
    if (!error || !*error)
        abort(); /* every failure carries a text for the client */
    r->answers++;
}

#define MAX_STREAMS 16
static struct stream_source streams[MAX_STREAMS];
static int nstreams;

int64_t stream_register(struct conn *c, const char *app_id, struct stream_source src, char *err,
                        size_t errlen)
{
    (void)c;
    (void)app_id;
    if (nstreams == MAX_STREAMS) {
        src.free_ctx(src.ctx);
        snprintf(err, errlen, "java.lang.IllegalStateException: too many streams");
        return -1;
    }
    streams[nstreams++] = src;
    return nstreams;
}

/* ---- setup ---- */

static struct rpc_handler *h;
static char tmp[256];

static void cleanup_tmp(void)
{
    if (h)
        h->destroy(h->ctx);
    if (harness_rm_rf(tmp) != 0)
        fprintf(stderr, "fuzz_blockrpc: could not remove %s\n", tmp);
}

static void write_bytes(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n)
        abort();
    fclose(f);
}

/* app "app-1", exec "0": one local dir, 1 subdir ("00"), shuffle_0_0 with 3 reduces. */
static void setup(void)
{
    stub_peer = "fuzz";
    if (harness_temp_dir_into(tmp, sizeof(tmp)) != 0)
        abort();
    char path[512], dir[400], state[400];
    snprintf(dir, sizeof(dir), "%s/blockmgr", tmp);
    snprintf(state, sizeof(state), "%s/state", tmp);
    snprintf(path, sizeof(path), "%s/00", dir);
    if (mkdir(dir, 0700) != 0 || mkdir(path, 0700) != 0)
        abort();
    static const uint8_t idx[32] = {[15] = 5, [23] = 9, [31] = 20};
    uint8_t data[20] = {0};
    snprintf(path, sizeof(path), "%s/00/shuffle_0_0_0.index", dir);
    write_bytes(path, idx, sizeof(idx));
    snprintf(path, sizeof(path), "%s/00/shuffle_0_0_0.data", dir);
    write_bytes(path, data, sizeof(data));
    snprintf(path, sizeof(path), "%s/00/rdd_0_0", dir);
    write_bytes(path, data, 3);
    /* shuffle_0_0's ADLER32 checksums (Adler32 of 5, 4 and 11 zero bytes), for
     * DiagnoseCorruption */
    static const uint8_t sums[24] = {
        [5] = 0x05, [7] = 0x01, [13] = 0x04, [15] = 0x01, [21] = 0x0b, [23] = 0x01};
    snprintf(path, sizeof(path), "%s/00/shuffle_0_0_0.checksum.ADLER32", dir);
    write_bytes(path, sums, sizeof(sums));
    /* merge dir "merge" beside the local dir: shuffle 0, merge 0, reduce 0 in two chunks */
    char merge[420];
    snprintf(merge, sizeof(merge), "%s/merge", tmp);
    snprintf(path, sizeof(path), "%s/00", merge);
    if (mkdir(merge, 0700) != 0 || mkdir(path, 0700) != 0)
        abort();
    static const uint8_t midx[24] = {[15] = 5, [23] = 20};
    static const uint8_t meta[36] = {0x3a, 0x30, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0, 0,
                                     0x3a, 0x30, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 1, 0};
    snprintf(path, sizeof(path), "%s/00/shuffleMerged_app-1_0_0_0.index", merge);
    write_bytes(path, midx, sizeof(midx));
    snprintf(path, sizeof(path), "%s/00/shuffleMerged_app-1_0_0_0.data", merge);
    write_bytes(path, data, sizeof(data));
    snprintf(path, sizeof(path), "%s/00/shuffleMerged_app-1_0_0_0.meta", merge);
    write_bytes(path, meta, sizeof(meta));

    struct shuffled_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.index_cache_bytes = 1 << 16;
    cfg.fetch_rdd_enabled = true;
    cfg.state_dir = state;
    char *roots[1] = {tmp}; /* so resolution also goes through the roots confinement */
    cfg.allowed_local_dir_roots = roots;
    cfg.allowed_local_dir_roots_count = 1;
    cfg.push_enabled = true;
    char err[512];
    h = shuffle_service_create(&cfg, err, sizeof(err));
    if (!h) {
        fprintf(stderr, "fuzz_blockrpc: %s\n", err);
        abort();
    }
    char *dirs[1] = {dir};
    char manager[] = "sort:{\"mergeDir\":\"merge\",\"attemptId\":\"1\"}}}";
    struct executor_info info = {dirs, 1, 1, manager, NULL};
    if (resolver_register(block_service_of(h)->res, "app-1", "0", &info) != 0 ||
        merge_registration_note(block_service_of(h)->merge_apps, "app-1", &info, err,
                                sizeof(err)) != 0)
        abort();
    atexit(cleanup_tmp);
}

static void segment_drop(struct chunk_segment *seg)
{
    free(seg->path);
    free(seg->data);
    if (seg->kind == CHUNK_OPEN_FILE) {
        if (seg->release)
            seg->release(seg->owner, seg->fd);
        else
            close(seg->fd);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!h)
        setup();
    /* a private copy of exactly size bytes, so reads past the end are caught */
    uint8_t *body = malloc(size ? size : 1);
    memcpy(body, data, size);
    struct rpc_reply r = {0};
    h->on_rpc(h->ctx, (struct conn *)&r, &r, body, size);
    if (r.answers != 1)
        abort();
    h->on_rpc(h->ctx, (struct conn *)&r, NULL, body, size); /* as a OneWayMessage */
    /* as a MergedBlockMetaRequest: app id from the bytes after the first 12, the shuffle,
     * merge and reduce ids small (so that the merged partition is hit) or as given */
    if (size >= 12) {
        struct proto_msg m = {.type = PROTO_MERGED_BLOCK_META_REQUEST};
        bool ours = size == 12 || (body[3] & 1);
        const char *app = ours ? "app-1" : (const char *)body + 12;
        m.u.merged_block_meta_request.app_id =
            (struct proto_view){(const uint8_t *)app, ours ? 5 : (uint32_t)(size - 12)};
        int32_t v[3];
        memcpy(v, body, sizeof v);
        m.u.merged_block_meta_request.shuffle_id = v[0] & 0x100 ? v[0] : v[0] & 1;
        m.u.merged_block_meta_request.shuffle_merge_id = v[1] & 0x100 ? v[1] : v[1] & 1;
        m.u.merged_block_meta_request.reduce_id = v[2] & 0x100 ? v[2] : v[2] & 1;
        int before = stub_slot_answer.count;
        h->on_merged_meta(h->ctx, (struct conn *)&r, &m);
        if (stub_slot_answer.count != before + 1)
            abort(); /* answered exactly once */
    }
    free(body);
    for (int i = 0; i < nstreams; i++) {
        struct stream_source *s = &streams[i];
        for (uint32_t k = 0; k < s->num_chunks && k < 8; k++) {
            struct chunk_segment seg;
            char err[512];
            if (s->resolve(s->ctx, k, &seg, err, sizeof(err)) != 0) {
                if (!err[0])
                    abort();
                continue;
            }
            segment_drop(&seg);
            /* the event-loop path, now that the map output may be kept open */
            int rc = s->resolve_fast ? s->resolve_fast(s->ctx, k, &seg, err, sizeof(err)) : 1;
            if (rc == 0)
                segment_drop(&seg);
            else if (rc < 0 && !err[0])
                abort();
        }
        s->free_ctx(s->ctx);
    }
    nstreams = 0;
    return 0;
}

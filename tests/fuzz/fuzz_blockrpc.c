/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as an RpcRequest body to the real block handler
 * (block_handler.c on_rpc: decode, app/exec id checks, RegisterExecutor, OpenBlocks,
 * FetchShuffleBlocks, RemoveBlocks, GetLocalDirsForExecutors...), with the daemon core
 * replaced by stubs (no sockets, blocking jobs run inline). Every request must be answered
 * exactly once; every stream it registers is resolved chunk by chunk and freed. One
 * executor is registered at start over a temp dir holding a small shuffle output, so
 * resolution reaches placement, the index cache and the files. The block sources it is
 * linked with are listed in tests/fuzz/local.mk. */
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
    char *made = harness_temp_dir();
    if (!made)
        abort();
    snprintf(tmp, sizeof(tmp), "%s", made);
    free(made);
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

    struct shuffled_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.index_cache_bytes = 1 << 16;
    cfg.fetch_rdd_enabled = true;
    cfg.state_dir = state;
    char *roots[1] = {tmp}; /* so resolution also goes through the roots confinement */
    cfg.allowed_local_dir_roots = roots;
    cfg.allowed_local_dir_roots_count = 1;
    char err[512];
    h = shuffle_service_create(&cfg, err, sizeof(err));
    if (!h) {
        fprintf(stderr, "fuzz_blockrpc: %s\n", err);
        abort();
    }
    char *dirs[1] = {dir};
    struct executor_info info = {dirs, 1, 1, "sort", NULL};
    if (resolver_register(block_service_of(h)->res, "app-1", "0", &info) != 0)
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

/* libFuzzer target: arbitrary bytes as an RpcRequest body to the real block handler
 * (block_handler.c on_rpc: decode, app/exec id checks, RegisterExecutor, OpenBlocks,
 * FetchShuffleBlocks, RemoveBlocks, GetLocalDirsForExecutors...), with the daemon core
 * replaced by stubs (no sockets, blocking jobs run inline). Every request must be answered
 * exactly once; every stream it registers is resolved chunk by chunk and freed. One
 * executor is registered at start over a temp dir holding a small shuffle output, so
 * resolution reaches placement, the index cache and the files.
 * fuzz-sources: src/server/block/block_handler.c src/server/block/block_streams.c
 * fuzz-sources: src/server/block/block_reply.c src/server/block/block_ops.c
 * fuzz-sources: src/server/block/map_output_cache.c src/server/ops/metrics.c
 * fuzz-sources: src/server/ops/process_metrics.c
 * fuzz-sources: src/server/block/blockid.c src/server/block/placement.c
 * fuzz-sources: src/server/block/resolver.c src/server/block/index_cache.c
 * fuzz-sources: src/server/block/registry_store.c src/server/block/cleanup.c
 * fuzz-sources: src/server/stream/file_open.c */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/blockmsg.h"
#include "server/block/block_service.h"
#include "server/ops/log.h"
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

const char *conn_peer(const struct conn *c)
{
    (void)c;
    return "fuzz";
}

const char *conn_client_id(const struct conn *c)
{
    (void)c;
    return NULL;
}

void conn_run_blocking(struct conn *c, void (*fn)(void *), void (*done)(struct conn *, void *),
                       void *arg)
{
    fn(arg);
    if (done)
        done(c, arg);
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

int log_enabled(enum log_level level)
{
    (void)level;
    return 0;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    (void)level;
    (void)fmt;
}

/* ---- setup ---- */

static struct rpc_handler *h;
static char tmp[256];

static void cleanup_tmp(void)
{
    if (h)
        h->destroy(h->ctx);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
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
    const char *base = getenv("TMPDIR");
    snprintf(tmp, sizeof(tmp), "%s/fuzz-blockrpc-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmp))
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
    struct executor_info info = {dirs, 1, 1, "sort"};
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

/* OpenBlocks / FetchShuffleBlocks (spec 9.2, 9.3): one stream per request, one
 * chunk per block (or per batch range), each resolved lazily on the blocking
 * pool when the client asks for it (spec 6.2). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/codec.h"
#include "server/block/block_service.h"
#include "server/block/blockid.h"
#include "server/block/map_output_cache.h"
#include "server/stream/stream_manager.h"

struct chunk_spec {
    int64_t map_id;
    int32_t id;    /* shuffle id, or rdd id */
    int32_t start; /* reduce id / batch start, or split index */
    int32_t end;   /* exclusive batch end (start + 1 for one block) */
    uint8_t rdd;
};

struct block_stream {
    struct resolver *res;
    char *app, *exec;
    /* The registration the last resolution used, and the resolver epoch it was read under:
     * while the epoch stands, it is still app/exec's registration (0: not known yet). Read
     * and written only by this stream's resolutions, which never run concurrently. */
    uint64_t reg_id, reg_epoch;
    uint32_t n;
    struct chunk_spec specs[];
};

static void stream_free(void *ctx)
{
    struct block_stream *bs = ctx;
    free(bs->app);
    free(bs->exec);
    free(bs);
}

static int stream_resolve(void *ctx, uint32_t index, struct chunk_segment *seg, char *err,
                          size_t errlen)
{
    struct block_stream *bs = ctx;
    struct block_location loc;
    memset(seg, 0, sizeof(*seg));
    if (index >= bs->n) {
        snprintf(err, errlen,
                 "java.lang.IllegalStateException: Requested chunk index beyond end %u", index);
        return -1;
    }
    const struct chunk_spec *sp = &bs->specs[index];
    struct map_output *mo = NULL;
    uint64_t epoch = resolver_epoch(bs->res), reg_id = 0;
    int rc = sp->rdd ? resolver_rdd_block(bs->res, bs->app, bs->exec, sp->id, sp->start, &loc, err,
                                          errlen)
                     : resolver_shuffle_open(bs->res, bs->app, bs->exec, sp->id, sp->map_id,
                                             sp->start, sp->end, &loc, &mo, &reg_id, err, errlen);
    if (rc < 0)
        return -1;
    if (mo) { /* kept open: later blocks of this map take the fast path */
        bs->reg_id = reg_id;
        bs->reg_epoch = epoch;
        seg->kind = CHUNK_OPEN_FILE;
        seg->fd = map_output_fd(mo);
        seg->release = map_output_release;
        seg->owner = mo;
        seg->offset = loc.offset;
        seg->length = loc.length;
        return 0;
    }
    if (loc.missing) {
        seg->kind = CHUNK_MISSING;
        return 0;
    }
    seg->kind = CHUNK_FILE;
    seg->path = loc.path;
    seg->no_symlinks = loc.no_symlinks;
    seg->offset = loc.offset;
    seg->length = loc.length;
    return 0;
}

/* On the event loop: a shuffle block of a map whose data file is kept open (no lock but the
 * open-maps mutex, no path, one fstat); 1 (use the pool) for anything else. */
static int stream_resolve_fast(void *ctx, uint32_t index, struct chunk_segment *seg, char *err,
                               size_t errlen)
{
    struct block_stream *bs = ctx;
    (void)err;
    (void)errlen;
    if (index >= bs->n || bs->specs[index].rdd || bs->reg_id == 0)
        return 1;
    uint64_t epoch = resolver_epoch(bs->res);
    if (epoch != bs->reg_epoch) { /* some registration changed: is ours still current? */
        if (resolver_registration_id(bs->res, bs->app, bs->exec) != bs->reg_id) {
            bs->reg_id = 0;
            return 1;
        }
        bs->reg_epoch = epoch;
    }
    const struct chunk_spec *sp = &bs->specs[index];
    struct map_output_cache *maps = resolver_open_maps(bs->res);
    struct map_output *mo = map_output_cache_get(maps, bs->reg_id, sp->id, sp->map_id);
    if (!mo)
        return 1;
    uint64_t offset, length;
    if (!map_output_range(maps, mo, sp->start, sp->end, &offset, &length)) {
        map_output_release(mo, -1);
        return 1;
    }
    memset(seg, 0, sizeof(*seg));
    seg->kind = CHUNK_OPEN_FILE;
    seg->fd = map_output_fd(mo);
    seg->release = map_output_release;
    seg->owner = mo;
    seg->offset = offset;
    seg->length = length;
    return 0;
}

static struct block_stream *stream_new(struct block_service *s, const struct proto_bytes *app,
                                       const struct proto_bytes *exec, size_t n)
{
    struct block_stream *bs = calloc(1, sizeof(*bs) + n * sizeof(struct chunk_spec));
    if (!bs)
        return NULL;
    bs->res = s->res;
    bs->app = strdup(app->data);
    bs->exec = strdup(exec->data);
    bs->n = (uint32_t)n;
    if (!bs->app || !bs->exec) {
        stream_free(bs);
        return NULL;
    }
    /* known from the start, so that even the first block can take the fast path */
    bs->reg_epoch = resolver_epoch(s->res);
    bs->reg_id = resolver_registration_id(s->res, bs->app, bs->exec);
    return bs;
}

/* Registers the stream and replies StreamHandle; consumes bs and reply. */
static void register_and_reply(struct conn *c, struct rpc_reply *reply, struct block_stream *bs)
{
    struct stream_source src = {bs, bs->n, stream_resolve, stream_resolve_fast, stream_free};
    uint32_t n = bs->n;
    int64_t id = stream_register(c, conn_client_id(c), src);
    if (id == STREAM_REGISTER_OVER_LIMIT) {
        char err[200];
        snprintf(err, sizeof err,
                 "java.lang.IllegalStateException: too many chunks opened and not fetched on this "
                 "connection (limit %u): fetch or close earlier streams first",
                 STREAM_MAX_REGISTERED_CHUNKS);
        rpc_reply_fail(reply, err);
        return;
    }
    if (id < 0) {
        rpc_reply_fail(reply, "java.lang.OutOfMemoryError: cannot register stream");
        return;
    }
    struct blockmsg m = {.type = BLOCKMSG_STREAM_HANDLE};
    m.u.stream_handle.stream_id = id;
    m.u.stream_handle.num_chunks = (int32_t)n;
    block_reply_msg(reply, &m);
}

void block_open_blocks(struct block_service *s, struct conn *c, struct rpc_reply *reply,
                       const struct blockmsg *m)
{
    const struct proto_string_array *ids = &m->u.open_blocks.block_ids;
    size_t n = ids->count;
    const char **names = calloc(n ? n : 1, sizeof(char *));
    size_t *lens = calloc(n ? n : 1, sizeof(size_t));
    struct block_id *parsed = calloc(n ? n : 1, sizeof(*parsed));
    struct block_stream *bs = stream_new(s, &m->u.open_blocks.app_id, &m->u.open_blocks.exec_id, n);
    char err[512];
    if (!names || !lens || !parsed || !bs) {
        rpc_reply_fail(reply, "java.lang.OutOfMemoryError: OpenBlocks");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        names[i] = ids->items[i].data ? ids->items[i].data : "";
        lens[i] = ids->items[i].len;
    }
    if (block_ids_parse_open(names, lens, n, s->fetch_rdd_enabled, parsed, err, sizeof(err)) < 0) {
        rpc_reply_fail(reply, err);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct chunk_spec *sp = &bs->specs[i];
        if (parsed[i].kind == BLOCK_RDD) {
            *sp = (struct chunk_spec){
                .id = parsed[i].rdd_id, .start = parsed[i].split_index, .rdd = 1};
        } else {
            *sp = (struct chunk_spec){.id = parsed[i].shuffle_id,
                                      .map_id = parsed[i].map_id,
                                      .start = parsed[i].reduce_id,
                                      .end = parsed[i].reduce_id + 1};
        }
    }
    register_and_reply(c, reply, bs);
    bs = NULL;
out:
    if (bs)
        stream_free(bs);
    free(names);
    free(lens);
    free(parsed);
}

void block_fetch_shuffle_blocks(struct block_service *s, struct conn *c, struct rpc_reply *reply,
                                const struct blockmsg *m)
{
    const __typeof__(m->u.fetch_shuffle_blocks) *f = &m->u.fetch_shuffle_blocks;
    char err[256];
    if (f->map_ids.count != f->reduce_ids.count) {
        snprintf(err, sizeof(err),
                 "java.lang.IllegalArgumentException: FetchShuffleBlocks has %u mapIds but %u "
                 "reduceId arrays",
                 f->map_ids.count, f->reduce_ids.count);
        rpc_reply_fail(reply, err);
        return;
    }
    uint64_t n = 0;
    for (uint32_t i = 0; i < f->map_ids.count; i++) {
        const struct proto_int_array *row = &f->reduce_ids.rows[i];
        if (f->batch_fetch_enabled &&
            (row->count != 2 || row->items[0] < 0 || row->items[1] < row->items[0])) {
            snprintf(err, sizeof(err),
                     "java.lang.IllegalArgumentException: FetchShuffleBlocks with "
                     "batchFetchEnabled needs [start, end) with 0 <= start <= end for each map; "
                     "map %" PRId64 " has %u reduce ids",
                     f->map_ids.items[i], row->count);
            rpc_reply_fail(reply, err);
            return;
        }
        n += f->batch_fetch_enabled ? 1 : row->count;
    }
    if (n > INT32_MAX) {
        rpc_reply_fail(reply, "java.lang.IllegalArgumentException: too many blocks");
        return;
    }
    struct block_stream *bs = stream_new(s, &f->app_id, &f->exec_id, (size_t)n);
    if (!bs) {
        rpc_reply_fail(reply, "java.lang.OutOfMemoryError: FetchShuffleBlocks");
        return;
    }
    size_t k = 0;
    for (uint32_t i = 0; i < f->map_ids.count; i++) {
        const struct proto_int_array *row = &f->reduce_ids.rows[i];
        if (f->batch_fetch_enabled) {
            bs->specs[k++] = (struct chunk_spec){.id = f->shuffle_id,
                                                 .map_id = f->map_ids.items[i],
                                                 .start = row->items[0],
                                                 .end = row->items[1]};
            continue;
        }
        for (uint32_t j = 0; j < row->count; j++) {
            int32_t r = row->items[j];
            /* a negative or INT_MAX reduce fails its chunk with IndexOutOfBounds */
            bs->specs[k++] = (struct chunk_spec){.id = f->shuffle_id,
                                                 .map_id = f->map_ids.items[i],
                                                 .start = r,
                                                 .end = r < INT32_MAX ? r + 1 : -1};
        }
    }
    register_and_reply(c, reply, bs);
}

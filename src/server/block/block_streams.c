/* SPDX-License-Identifier: Apache-2.0 */
/* OpenBlocks / FetchShuffleBlocks (protocol.md 9.2, 9.3): one stream per request, one
 * chunk per block (or per batch range), each resolved lazily on the blocking
 * pool when the client asks for it (protocol.md 6.2). */
#include <config.h>

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

/* A stream's chunks. OpenBlocks: one chunk_spec per block id (its ids are strings of at
 * least 13 bytes in the request). FetchShuffleBlocks: the request's own arrays kept flat
 * (4 bytes per reduce id, 12 per map), and a cursor, so a million blocks cost 4 MB and a
 * chunk is found in O(1) as they are fetched in order. One allocation per stream. */
struct block_stream {
    struct resolver *res;
    char *app, *exec;
    /* The registration the last resolution used, and the resolver epoch it was read under:
     * while the epoch stands, it is still app/exec's registration (0: not known yet). Read
     * and written only by this stream's resolutions, which never run concurrently. */
    uint64_t reg_id, reg_epoch;
    uint32_t n;
    size_t bytes; /* what this stream occupies (the stream manager's budget) */
    bool compact; /* FetchShuffleBlocks' form below, else specs[] */
    bool batch;   /* compact: each map's two reduces are [start, end) of one chunk */
    int32_t shuffle_id;
    uint32_t nmaps, cursor; /* cursor: the map row of the last chunk looked up */
    int64_t *map_ids;
    uint32_t *row_end; /* chunks up to and including each map row */
    int32_t *reduces;
    struct chunk_spec specs[];
};

/* The spec of chunk index (< bs->n). */
static struct chunk_spec spec_at(struct block_stream *bs, uint32_t index)
{
    if (!bs->compact)
        return bs->specs[index];
    if (bs->batch)
        return (struct chunk_spec){.id = bs->shuffle_id,
                                   .map_id = bs->map_ids[index],
                                   .start = bs->reduces[2 * index],
                                   .end = bs->reduces[2 * index + 1]};
    uint32_t r = bs->cursor;
    if (r >= bs->nmaps || index >= bs->row_end[r] || (r > 0 && index < bs->row_end[r - 1])) {
        uint32_t lo = 0, hi = bs->nmaps - 1; /* the first row ending after index */
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (bs->row_end[mid] > index)
                hi = mid;
            else
                lo = mid + 1;
        }
        r = lo;
    }
    while (bs->row_end[r] <= index) /* empty rows between */
        r++;
    bs->cursor = r;
    int32_t reduce = bs->reduces[index];
    /* a negative or INT_MAX reduce fails its chunk with IndexOutOfBounds */
    return (struct chunk_spec){.id = bs->shuffle_id,
                               .map_id = bs->map_ids[r],
                               .start = reduce,
                               .end = reduce < INT32_MAX ? reduce + 1 : -1};
}

static void stream_free(void *ctx)
{
    struct block_stream *bs = ctx;
    free(bs->app);
    free(bs->exec);
    free(bs);
}

static int stream_resolve_fast(void *ctx, uint32_t index, struct chunk_segment *seg, char *err,
                               size_t errlen);

static int stream_resolve(void *ctx, uint32_t index, struct chunk_segment *seg, char *err,
                          size_t errlen)
{
    struct block_stream *bs = ctx;
    struct block_location loc;
    /* a block sent here only because its pages were cold: its map output is open already */
    if (stream_resolve_fast(ctx, index, seg, err, errlen) == 0)
        return 0;
    memset(seg, 0, sizeof(*seg));
    if (index >= bs->n) {
        snprintf(err, errlen,
                 "java.lang.IllegalStateException: Requested chunk index beyond end %u", index);
        return -1;
    }
    const struct chunk_spec spec = spec_at(bs, index), *sp = &spec;
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
    if (index >= bs->n || bs->reg_id == 0)
        return 1;
    const struct chunk_spec spec = spec_at(bs, index), *sp = &spec;
    if (sp->rdd)
        return 1;
    uint64_t epoch = resolver_epoch(bs->res);
    if (epoch != bs->reg_epoch) { /* some registration changed: is ours still current? */
        if (resolver_registration_id(bs->res, bs->app, bs->exec) != bs->reg_id) {
            bs->reg_id = 0;
            return 1;
        }
        bs->reg_epoch = epoch;
    }
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

/* n chunks; specs: room for n chunk_specs, else extra bytes for the compact arrays. */
static struct block_stream *stream_new(struct block_service *s, const struct proto_bytes *app,
                                       const struct proto_bytes *exec, size_t n, bool specs,
                                       size_t extra)
{
    size_t bytes = sizeof(struct block_stream) + (specs ? n * sizeof(struct chunk_spec) : extra);
    struct block_stream *bs = calloc(1, bytes);
    if (!bs)
        return NULL;
    bs->bytes = bytes + app->len + exec->len + 2;
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
    struct stream_source src = {bs,        bs->n,      stream_resolve, stream_resolve_fast,
                                bs->bytes, stream_free};
    block_reply_stream(c, reply, src);
}

void block_open_blocks(struct block_service *s, struct conn *c, struct rpc_reply *reply,
                       const struct blockmsg *m)
{
    const struct proto_string_array *ids = &m->u.open_blocks.block_ids;
    size_t n = ids->count;
    const char **names = calloc(n ? n : 1, sizeof(char *));
    size_t *lens = calloc(n ? n : 1, sizeof(size_t));
    struct block_id *parsed = calloc(n ? n : 1, sizeof(*parsed));
    struct block_stream *bs =
        stream_new(s, &m->u.open_blocks.app_id, &m->u.open_blocks.exec_id, n, true, 0);
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
    uint32_t nmaps = f->map_ids.count;
    size_t nreduces = f->batch_fetch_enabled ? 2 * (size_t)nmaps : (size_t)n;
    /* int64 map ids first, then uint32 row ends and int32 reduces: each array aligned */
    size_t extra = nmaps * sizeof(int64_t) + nmaps * sizeof(uint32_t) + nreduces * sizeof(int32_t);
    struct block_stream *bs = stream_new(s, &f->app_id, &f->exec_id, (size_t)n, false, extra);
    if (!bs) {
        rpc_reply_fail(reply, "java.lang.OutOfMemoryError: FetchShuffleBlocks");
        return;
    }
    bs->compact = true;
    bs->batch = f->batch_fetch_enabled;
    bs->shuffle_id = f->shuffle_id;
    bs->nmaps = nmaps;
    bs->map_ids = (int64_t *)(void *)bs->specs;
    bs->row_end = (uint32_t *)(void *)(bs->map_ids + nmaps);
    bs->reduces = (int32_t *)(void *)(bs->row_end + nmaps);
    size_t k = 0;
    for (uint32_t i = 0; i < nmaps; i++) {
        const struct proto_int_array *row = &f->reduce_ids.rows[i];
        bs->map_ids[i] = f->map_ids.items[i];
        if (row->count)
            memcpy(bs->reduces + k, row->items, row->count * sizeof(int32_t));
        k += row->count;
        bs->row_end[i] = f->batch_fetch_enabled ? i + 1 : (uint32_t)k;
    }
    register_and_reply(c, reply, bs);
}

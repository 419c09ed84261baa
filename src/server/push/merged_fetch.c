/* SPDX-License-Identifier: Apache-2.0 */
/* Merged meta and merged chunk fetches; see merged_fetch.h. Texts are the first lines of
 * what Spark 3.5's RemoteBlockPushResolver throws; where Spark would send nonsense (an index
 * too short to hold a chunk, a meta file missing bitmaps) the answer is a clear failure. */
#include <config.h>

#include "server/push/merged_fetch.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/blockmsg.h"
#include "proto/codec.h"
#include "proto/message.h"
#include "server/block/block_service.h"
#include "server/block/blockid.h"
#include "server/net/conn.h"
#include "server/net/handler.h"
#include "server/net/rpc_reply.h"
#include "server/ops/metrics.h"
#include "server/push/merge_apps.h"
#include "server/stream/file_open.h"
#include "server/stream/stream_manager.h"

/* A .meta file is sent from memory: beyond this it is refused rather than buffered (a
 * merged partition of 2 MiB chunks would need terabytes of data to get there). */
#define META_MAX_BYTES (16u << 20)

/* The path of one merged file of app's current attempt, confined to the allowed roots. 0 with
 * *no_symlinks, or -1 with err (app without merge dirs, or a shuffleMergeId older than the
 * newest the merge manager has seen: Spark's texts; what names the fetch in the latter). */
static int merged_path(struct block_service *s, const char *app, int32_t shuffle_id,
                       int32_t merge_id, int32_t reduce_id, enum merged_file kind, char *path,
                       size_t pathlen, bool *no_symlinks, char *err, size_t errlen)
{
    int32_t newest;
    if (merge_apps_newest_merge_id(s->merge_apps, app, shuffle_id, &newest) && newest > merge_id) {
        merge_apps_stale_fetch(kind == MERGED_DATA ? "MergedBlockData" : "MergedBlockMeta",
                               shuffle_id, merge_id, reduce_id, err, errlen);
        return -1;
    }
    int rc = merge_apps_file_path(s->merge_apps, app, shuffle_id, merge_id, reduce_id, kind, path,
                                  pathlen, NULL);
    if (rc == 1) {
        merge_apps_not_registered(app, err, errlen);
        return -1;
    }
    if (rc < 0) {
        snprintf(err, errlen, "java.io.IOException: the merged file path of %s is too long", app);
        return -1;
    }
    int confined = resolver_confine_path(s->res, path, pathlen, err, errlen);
    if (confined < 0)
        return -1;
    *no_symlinks = confined == 1;
    return 0;
}

/* Opens a merged file: the fd, or -1 with Spark's "<what> <path> not found" when it is missing
 * and an IOException otherwise. */
static int open_merged(const char *path, bool no_symlinks, const char *what, char *err,
                       size_t errlen)
{
    int fd = file_open_for_read(path, no_symlinks);
    if (fd >= 0)
        return fd;
    if (errno == ENOENT)
        snprintf(err, errlen, "java.lang.RuntimeException: %s %s not found", what, path);
    else
        snprintf(err, errlen, "java.io.IOException: cannot open %s %s: %s", what, path,
                 strerror(errno));
    return -1;
}

/* ---- MergedBlockMetaRequest ---- */

struct meta_job {
    struct block_service *s;
    struct reply_slot *slot;
    int64_t request_id;
    int32_t shuffle_id, merge_id, reduce_id;
    char app[BLOCKID_MAX_LEN + 1];
    bool ok;
    int32_t num_chunks;
    uint8_t *body;
    size_t len;
    char err[PATH_MAX + 256];
    uint64_t start_usec; /* its arrival (metrics) */
};

/* One MergedBlockMetaRequest answered (or dropped): Spark's fetchMergedBlocksMetaLatencyMillis
 * times it from arrival to answer, failures included. */
static void meta_request_done(uint64_t start_usec, bool ok)
{
    metrics_observe_usec(MH_MERGED_META_LATENCY, metrics_now_usec() - start_usec);
    if (!ok)
        metrics_rpc_error(MR_MERGED_BLOCK_META);
}

/* The number of chunks the merged index at fd describes (Spark: size / 8 - 1), or -1. */
static int64_t chunks_of_index(int fd, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "java.io.IOException: Merged shuffle index file %s is unreadable",
                 path);
        return -1;
    }
    int64_t n = st.st_size / 8 - 1;
    if (n < 0 || n > INT32_MAX) { /* Spark would send a negative or wrapped count */
        snprintf(err, errlen,
                 "java.io.IOException: Merged shuffle index file %s holds %lld bytes, not the "
                 "8-byte offsets of 0.."
                 "%d chunks",
                 path, (long long)st.st_size, INT32_MAX);
        return -1;
    }
    return n;
}

/* Reads the whole .meta file at fd and checks it holds n bitmaps. 0, or -1 with err. */
static int read_meta(struct meta_job *j, int fd, const char *path)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > META_MAX_BYTES) {
        snprintf(j->err, sizeof j->err,
                 "java.io.IOException: Merged shuffle meta file %s is unreadable or larger than "
                 "%u bytes",
                 path, META_MAX_BYTES);
        return -1;
    }
    j->len = (size_t)st.st_size;
    j->body = malloc(j->len ? j->len : 1);
    if (!j->body) {
        snprintf(j->err, sizeof j->err, "java.lang.OutOfMemoryError: merged meta");
        return -1;
    }
    size_t got = 0;
    while (got < j->len) {
        ssize_t r = pread(fd, j->body + got, j->len - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    j->len = got; /* a file that shrank meanwhile is checked as it is now */
    size_t at = 0;
    for (int32_t i = 0; i < j->num_chunks; i++) {
        size_t n = proto_bitmap_size(j->body + at, j->len - at);
        if (n == 0) {
            snprintf(j->err, sizeof j->err,
                     "java.io.IOException: Merged shuffle meta file %s is truncated or corrupt: "
                     "chunk bitmap %" PRId32 " of %" PRId32 " does not parse",
                     path, i, j->num_chunks);
            return -1;
        }
        at += n;
    }
    return 0;
}

static void meta_run(void *arg)
{
    struct meta_job *j = arg;
    char index_path[PATH_MAX], meta_path[PATH_MAX];
    bool index_nosym, meta_nosym;
    if (merged_path(j->s, j->app, j->shuffle_id, j->merge_id, j->reduce_id, MERGED_INDEX,
                    index_path, sizeof index_path, &index_nosym, j->err, sizeof j->err) < 0 ||
        merged_path(j->s, j->app, j->shuffle_id, j->merge_id, j->reduce_id, MERGED_META, meta_path,
                    sizeof meta_path, &meta_nosym, j->err, sizeof j->err) < 0)
        return;
    int fd =
        open_merged(index_path, index_nosym, "Merged shuffle index file", j->err, sizeof j->err);
    if (fd < 0)
        return;
    int64_t n = chunks_of_index(fd, index_path, j->err, sizeof j->err);
    close(fd);
    if (n < 0)
        return;
    j->num_chunks = (int32_t)n;
    fd = open_merged(meta_path, meta_nosym, "Merged shuffle meta file", j->err, sizeof j->err);
    if (fd < 0)
        return;
    j->ok = read_meta(j, fd, meta_path) == 0;
    close(fd);
}

static void meta_done(struct conn *c, void *arg)
{
    struct meta_job *j = arg;
    meta_request_done(j->start_usec, j->ok);
    if (!c) {
        conn_slot_discard(j->slot);
    } else if (j->ok) {
        struct proto_msg m = {.type = PROTO_MERGED_BLOCK_META_SUCCESS};
        m.u.merged_block_meta_success.request_id = j->request_id;
        m.u.merged_block_meta_success.num_chunks = j->num_chunks;
        m.u.merged_block_meta_success.body = (struct proto_view){j->body, (uint32_t)j->len};
        conn_slot_fill_msg(c, j->slot, &m, false);
    } else {
        rpc_answer_now(c, j->slot, j->request_id, false, j->err, strlen(j->err), false);
    }
    free(j->body);
    free(j);
}

void merged_meta_on_msg(void *ctx, struct conn *c, const struct proto_msg *m)
{
    struct block_service *s = ctx;
    const __typeof__(m->u.merged_block_meta_request) *q = &m->u.merged_block_meta_request;
    uint64_t start_usec = metrics_now_usec();
    metrics_rpc_request(MR_MERGED_BLOCK_META);
    struct reply_slot *slot = conn_slot_reserve(c, CONN_SLOT_RPC);
    if (!slot) {
        conn_close(c, "out of memory");
        return;
    }
    conn_slot_charge_rpc(c, slot, q->app_id.len + 12);
    char err[600], app[BLOCKID_MAX_LEN + 1] = "";
    size_t len = q->app_id.len;
    bool app_ok = len > 0 && len <= BLOCKID_MAX_LEN;
    if (app_ok) {
        memcpy(app, q->app_id.data, len);
        app[len] = 0;
        app_ok = strlen(app) == len && id_is_safe(app, len);
    }
    const char *client = conn_client_id(c);
    struct meta_job *j = NULL;
    if (!app_ok) {
        snprintf(err, sizeof err,
                 "java.lang.IllegalArgumentException: invalid appId in MergedBlockMetaRequest: "
                 "ids must be 1-%d printable ASCII bytes without '/', '\\\\', spaces, or be "
                 "'.'/'..'",
                 BLOCKID_MAX_LEN);
    } else if (client && strcmp(client, app) != 0) {
        snprintf(err, sizeof err,
                 "java.lang.SecurityException: Client for %s not authorized for application %s.",
                 client, app);
    } else if (!(j = calloc(1, sizeof *j))) {
        snprintf(err, sizeof err, "java.lang.OutOfMemoryError: MergedBlockMetaRequest");
    }
    if (!j) {
        meta_request_done(start_usec, false);
        rpc_answer_now(c, slot, q->request_id, false, err, strlen(err), false);
        return;
    }
    *j = (struct meta_job){.s = s,
                           .slot = slot,
                           .request_id = q->request_id,
                           .shuffle_id = q->shuffle_id,
                           .merge_id = q->shuffle_merge_id,
                           .reduce_id = q->reduce_id,
                           .start_usec = start_usec};
    memcpy(j->app, app, len + 1);
    conn_run_blocking(c, meta_run, meta_done, j);
}

/* ---- merged chunk streams ---- */

/* A stream of merged chunks: chunk i is (reduce pairs[2i], chunk pairs[2i+1]). */
struct chunk_stream {
    struct block_service *s;
    char *app;
    int32_t shuffle_id, merge_id;
    uint32_t n;
    size_t bytes;
    int32_t pairs[];
};

static void chunk_stream_free(void *ctx)
{
    struct chunk_stream *cs = ctx;
    free(cs->app);
    free(cs);
}

/* [index[chunk], index[chunk + 1]) of the merged index at path: 0, or -1 with err. */
static int chunk_range(const char *path, bool no_symlinks, int32_t chunk, uint64_t *offset,
                       uint64_t *length, char *err, size_t errlen)
{
    int fd = file_open_for_read(path, no_symlinks);
    if (fd < 0) {
        snprintf(err, errlen,
                 "java.lang.RuntimeException: Failed to open merged shuffle index file %s", path);
        return -1;
    }
    struct stat st;
    uint8_t raw[16];
    int rc = -1;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen,
                 "java.lang.RuntimeException: Failed to open merged shuffle index file %s", path);
    } else if (chunk < 0 || ((uint64_t)chunk + 2) * 8 > (uint64_t)st.st_size) {
        snprintf(err, errlen, "java.lang.IndexOutOfBoundsException");
    } else if (pread(fd, raw, sizeof raw, (off_t)chunk * 8) != (ssize_t)sizeof raw) {
        snprintf(err, errlen, "java.io.IOException: Short read of merged shuffle index file %s",
                 path);
    } else {
        uint64_t start = 0, end = 0;
        for (int i = 0; i < 8; i++) {
            start = start << 8 | raw[i];
            end = end << 8 | raw[8 + i];
        }
        if (start > end || end > INT64_MAX) {
            snprintf(err, errlen,
                     "java.io.IOException: Corrupt merged shuffle index file %s: chunk %" PRId32
                     " spans [%" PRIu64 ", %" PRIu64 ")",
                     path, chunk, start, end);
        } else {
            *offset = start;
            *length = end - start;
            rc = 0;
        }
    }
    close(fd);
    return rc;
}

static int chunk_resolve(void *ctx, uint32_t index, struct chunk_segment *seg, char *err,
                         size_t errlen)
{
    struct chunk_stream *cs = ctx;
    memset(seg, 0, sizeof *seg);
    if (index >= cs->n) {
        snprintf(err, errlen,
                 "java.lang.IllegalStateException: Requested chunk index beyond end %u", index);
        return -1;
    }
    int32_t reduce = cs->pairs[2 * index], chunk = cs->pairs[2 * index + 1];
    char data_path[PATH_MAX], index_path[PATH_MAX];
    bool data_nosym, index_nosym;
    if (merged_path(cs->s, cs->app, cs->shuffle_id, cs->merge_id, reduce, MERGED_DATA, data_path,
                    sizeof data_path, &data_nosym, err, errlen) < 0 ||
        merged_path(cs->s, cs->app, cs->shuffle_id, cs->merge_id, reduce, MERGED_INDEX, index_path,
                    sizeof index_path, &index_nosym, err, errlen) < 0)
        return -1;
    struct stat st;
    if (stat(data_path, &st) < 0) {
        snprintf(err, errlen, "java.lang.RuntimeException: Merged shuffle data file %s not found",
                 data_path);
        return -1;
    }
    if (chunk_range(index_path, index_nosym, chunk, &seg->offset, &seg->length, err, errlen) < 0)
        return -1;
    seg->path = strdup(data_path);
    if (!seg->path) {
        snprintf(err, errlen, "java.lang.OutOfMemoryError");
        return -1;
    }
    seg->kind = CHUNK_FILE; /* the stream manager checks the file holds the range */
    seg->no_symlinks = data_nosym;
    metrics_inc(MC_MERGED_CHUNKS_FETCHED);
    return 0;
}

static struct chunk_stream *chunk_stream_new(struct block_service *s, const char *app, size_t n)
{
    size_t bytes = sizeof(struct chunk_stream) + 2 * n * sizeof(int32_t);
    struct chunk_stream *cs = calloc(1, bytes);
    if (!cs)
        return NULL;
    cs->s = s;
    cs->n = (uint32_t)n;
    cs->bytes = bytes + strlen(app) + 1;
    cs->app = strdup(app);
    if (!cs->app) {
        free(cs);
        return NULL;
    }
    return cs;
}

/* Registers cs and replies StreamHandle; consumes cs and reply. */
static void chunk_stream_reply(struct conn *c, struct rpc_reply *reply, struct chunk_stream *cs)
{
    struct stream_source src = {cs, cs->n, chunk_resolve, NULL, cs->bytes, chunk_stream_free};
    block_reply_stream(c, reply, src);
}

void merged_fetch_chunks(struct block_service *s, struct conn *c, struct rpc_reply *reply,
                         const struct blockmsg *m)
{
    const __typeof__(m->u.fetch_shuffle_block_chunks) *f = &m->u.fetch_shuffle_block_chunks;
    char err[256];
    if (f->reduce_ids.count == 0 || f->reduce_ids.count != f->chunk_ids.count) {
        snprintf(err, sizeof err,
                 "java.lang.IllegalArgumentException: FetchShuffleBlockChunks needs one chunkIds "
                 "array per reduceId and at least one (got %u reduceIds, %u arrays)",
                 f->reduce_ids.count, f->chunk_ids.count);
        rpc_reply_fail(reply, err);
        return;
    }
    uint64_t n = 0;
    for (uint32_t i = 0; i < f->chunk_ids.count; i++)
        n += f->chunk_ids.rows[i].count;
    if (n > INT32_MAX / 2) {
        rpc_reply_fail(reply, "java.lang.IllegalArgumentException: too many chunks");
        return;
    }
    struct chunk_stream *cs = chunk_stream_new(s, f->app_id.data, (size_t)n);
    if (!cs) {
        rpc_reply_fail(reply, "java.lang.OutOfMemoryError: FetchShuffleBlockChunks");
        return;
    }
    cs->shuffle_id = f->shuffle_id;
    cs->merge_id = f->shuffle_merge_id;
    size_t k = 0;
    for (uint32_t i = 0; i < f->reduce_ids.count; i++)
        for (uint32_t j = 0; j < f->chunk_ids.rows[i].count; j++) {
            cs->pairs[k++] = f->reduce_ids.items[i];
            cs->pairs[k++] = f->chunk_ids.rows[i].items[j];
        }
    chunk_stream_reply(c, reply, cs);
}

bool merged_open_blocks_wanted(const struct blockmsg *m)
{
    const struct proto_string_array *ids = &m->u.open_blocks.block_ids;
    return ids->count > 0 && ids->items[0].data &&
           block_id_is_chunk(ids->items[0].data, ids->items[0].len);
}

void merged_open_chunks(struct block_service *s, struct conn *c, struct rpc_reply *reply,
                        const struct blockmsg *m)
{
    const struct proto_string_array *ids = &m->u.open_blocks.block_ids;
    size_t n = ids->count;
    const char **names = calloc(n ? n : 1, sizeof(char *));
    size_t *lens = calloc(n ? n : 1, sizeof(size_t));
    struct chunk_stream *cs = chunk_stream_new(s, m->u.open_blocks.app_id.data, n);
    char err[512];
    if (!names || !lens || !cs) {
        rpc_reply_fail(reply, "java.lang.OutOfMemoryError: OpenBlocks");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        names[i] = ids->items[i].data ? ids->items[i].data : "";
        lens[i] = ids->items[i].len;
    }
    if (block_ids_parse_chunks(names, lens, n, &cs->shuffle_id, &cs->merge_id, cs->pairs, err,
                               sizeof err) < 0) {
        rpc_reply_fail(reply, err);
        goto out;
    }
    chunk_stream_reply(c, reply, cs);
    cs = NULL;
out:
    if (cs)
        chunk_stream_free(cs);
    free(names);
    free(lens);
}

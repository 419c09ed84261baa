/* SPDX-License-Identifier: Apache-2.0 */
/* Serving chunks (protocol.md 6.2, 6.5). A request whose stream is idle is resolved on the event
 * loop when the service can do it from its caches (resolve_fast) and the bytes are in the
 * page cache: no allocation, no thread hop. Otherwise it queues behind its stream, and the
 * queue is resolved in batches on the blocking pool (index reads, opens, page-cache warm-up)
 * and answered back on the loop (chunk_answer.c). Answers leave in arrival order whatever path
 * they took. */
#include <config.h>

#include "server/stream/stream_manager.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/message.h"
#include "server/net/conn.h"
#include "server/net/worker.h"
#include "common/log.h"
#include "server/ops/metrics.h"
#include "server/server.h"
#include "server/stream/blocking_pool.h"
#include "server/stream/chunk_answer.h"
#include "server/stream/chunk_window.h"
#include "server/stream/file_open.h"
#include "server/stream/page_cache.h"
#include "server/stream/stream_name.h"
#include "server/stream/stream_table.h"

/* Up to this many waiting requests of one stream are resolved by one blocking job. */
#define MAX_BATCH 64

struct batch {
    struct conn *c;
    struct stream *s;
    struct chunk_req *head; /* in chunk order */
};

/* ---- the streams of one connection ---- */

/* Keeps c's share of the stream budget equal to what its table holds. */
static void charge_streams(struct conn *c, const struct stream_table *t)
{
    uint64_t held = t ? t->bytes : 0;
    conn_budget_charge(c, CONN_BUDGET_STREAMS,
                       (int64_t)held - (int64_t)conn_budget_used(c, CONN_BUDGET_STREAMS));
}

static void drop_stream(struct stream *s, void *arg)
{
    (void)arg;
    while (s->q_head) { /* their slots were detached when the connection closed */
        struct chunk_req *r = s->q_head;
        s->q_head = r->next;
        conn_slot_discard(r->slot);
        r->slot = NULL;
        chunk_req_free(r);
    }
    s->q_tail = NULL;
    if (!s->busy)
        stream_free(s); /* a busy one is freed by batch_done */
}

static void release_table(struct conn *c, void *state)
{
    struct stream_table *t = state;
    stream_table_drain(t, drop_stream, NULL);
    charge_streams(c, NULL);
    stream_table_free(t);
    free(t);
}

static struct stream_table *table_of(struct conn *c, bool create)
{
    struct stream_table *t = conn_attachment(c, CONN_ATTACH_STREAMS);
    if (!t && create && (t = calloc(1, sizeof *t)) != NULL)
        conn_attach(c, CONN_ATTACH_STREAMS, t, release_table);
    return t;
}

static struct stream *find_stream(struct conn *c, int64_t id)
{
    struct stream_table *t = table_of(c, false);
    return t ? stream_table_find(t, id) : NULL;
}

int64_t stream_register(struct conn *c, const char *app_id, struct stream_source src, char *err,
                        size_t errlen)
{
    const struct shuffled_config *cfg = server_config(conn_server(c));
    struct stream_table *t = table_of(c, true);
    uint64_t weight = src.num_chunks ? src.num_chunks : 1;
    uint64_t bytes = src.mem_bytes + sizeof(struct stream);
    if (t && (t->weight + weight > STREAM_MAX_REGISTERED_CHUNKS ||
              t->bytes + bytes > cfg->max_stream_bytes_per_connection)) {
        snprintf(err, errlen,
                 "java.lang.IllegalStateException: this connection holds %" PRIu64
                 " chunks (%" PRIu64 " bytes) of streams opened and not fetched; %u more "
                 "(%" PRIu64 " bytes) would exceed %u chunks or max_stream_bytes_per_connection "
                 "(%" PRIu64 "): fetch or close earlier streams first",
                 t->weight, t->bytes, src.num_chunks, bytes, STREAM_MAX_REGISTERED_CHUNKS,
                 cfg->max_stream_bytes_per_connection);
        log_warn("%s: refused a stream: %s", conn_peer(c), err);
        metrics_inc(MC_REFUSED_BY_STREAM_LIMIT);
        if (src.free_ctx)
            src.free_ctx(src.ctx);
        return -1;
    }
    struct stream *s = t ? stream_table_add(t, app_id, src) : NULL;
    if (!s) {
        if (!t && src.free_ctx)
            src.free_ctx(src.ctx);
        snprintf(err, errlen, "java.lang.OutOfMemoryError: cannot register stream");
        log_error("%s: out of memory registering a stream", conn_peer(c));
        return -1;
    }
    charge_streams(c, t);
    int64_t id = s->id;
    if (conn_budget_shed(c, CONN_BUDGET_STREAMS)) { /* c held the most: it is closed now */
        snprintf(err, errlen, "java.lang.IllegalStateException: over max_stream_bytes");
        return -1;
    }
    log_debug("%s: registered stream %" PRId64 " with %u chunks", conn_peer(c), id, src.num_chunks);
    return id;
}

/* Spark drops a stream once its last buffer has been handed out. */
static void retire_stream(struct conn *c, struct stream *s)
{
    struct stream_table *t = table_of(c, false);
    stream_table_remove(t, s);
    charge_streams(c, t);
    while (s->q_head) {
        struct chunk_req *r = s->q_head;
        s->q_head = r->next;
        chunk_answer_unknown(r);
        chunk_req_free(r);
    }
    s->q_tail = NULL;
    stream_free(s);
}

/* ---- the slow path: batches on the blocking pool ---- */

static void check_open_file(struct chunk_req *r)
{
    struct stat st;
    const char *path = r->seg.path ? r->seg.path : "";
    /* the fstat below refuses anything but a regular file */
    r->fd = file_open_for_read(path, r->seg.no_symlinks);
    if (r->fd < 0) {
        snprintf(r->err, sizeof r->err, "java.io.IOException: Failed to open file %s: %s",
                 r->seg.path ? r->seg.path : "(none)", strerror(errno));
        r->failed = true;
    } else if (fstat(r->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(r->err, sizeof r->err, "java.io.IOException: %s is not a readable file", path);
        r->failed = true;
    } else if ((uint64_t)st.st_size < r->seg.offset ||
               (uint64_t)st.st_size - r->seg.offset < r->seg.length) {
        snprintf(r->err, sizeof r->err,
                 "java.io.EOFException: %s holds %lld bytes but the chunk needs bytes %" PRIu64
                 "-%" PRIu64,
                 path, (long long)st.st_size, r->seg.offset, r->seg.offset + r->seg.length);
        r->failed = true;
    }
}

/* Blocking pool: resolves one chunk, opens and checks its file, warms its first part. */
static void resolve_one(struct stream *s, struct chunk_req *r)
{
    r->processed = true;
    r->rc = s->src.resolve(s->src.ctx, r->iter, &r->seg, r->err, sizeof r->err);
    if (r->rc != 0) {
        r->failed = true;
        if (r->err[0] == '\0')
            snprintf(r->err, sizeof r->err, "java.lang.RuntimeException: cannot resolve chunk");
        return;
    }
    int fd = r->seg.kind == CHUNK_OPEN_FILE ? r->seg.fd : -1;
    if (r->seg.kind == CHUNK_FILE) {
        check_open_file(r);
        fd = r->fd;
    }
    if (fd >= 0 && !r->failed && r->seg.length > 0)
        page_cache_warm(fd, r->seg.offset, r->seg.length); /* sendfile runs on the loop */
}

static void batch_done(void *arg);

/* Blocking pool: the batch in chunk order, stopping at the first resolve failure (the
 * requests after it are checked again, since the buffer they expected did not move on). */
static void batch_job(void *arg)
{
    struct batch *b = arg;
    for (struct chunk_req *r = b->head; r; r = r->next) {
        resolve_one(b->s, r);
        if (r->rc != 0)
            break;
    }
    worker_post(conn_worker(b->c), batch_done, b);
}

/* Starts resolving the waiting requests of s on the pool, unless a batch is running. */
static void pump(struct stream *s)
{
    if (s->busy || !s->q_head)
        return;
    struct batch *b = NULL;
    struct chunk_req **tail = NULL;
    uint32_t n = 0;
    while (s->q_head && n < MAX_BATCH) {
        struct chunk_req *r = s->q_head;
        char err[200];
        int rc = stream_begin_chunk(s, r->index, n, &r->iter, err, sizeof err);
        if (rc == 1)
            break; /* only if an earlier one fails is there a buffer left for it */
        s->q_head = r->next;
        if (!s->q_head)
            s->q_tail = NULL;
        r->next = NULL;
        if (rc < 0) {
            chunk_answer_failure(r, err);
            chunk_req_free(r);
            continue;
        }
        if (!b) {
            b = calloc(1, sizeof *b);
            if (!b) { /* out of memory: fail it rather than lose it */
                stream_unbegin_chunks(s, 1);
                chunk_answer_failure(r, "java.lang.OutOfMemoryError");
                chunk_req_free(r);
                continue;
            }
            b->c = r->c;
            b->s = s;
            tail = &b->head;
        }
        *tail = r;
        tail = &r->next;
        n++;
    }
    if (!b)
        return;
    metrics_add(MC_CHUNKS_ON_POOL, n);
    s->busy = true;
    conn_ref(b->c);
    if (blocking_pool_submit(conn_server(b->c)->pool, batch_job, b) != 0)
        batch_job(b); /* pool gone (shutdown) or no memory: resolve here */
}

static void batch_done(void *arg)
{
    struct batch *b = arg;
    struct conn *c = b->c;
    struct stream *s = b->s;
    bool last = false;
    uint32_t unprocessed = 0;
    struct chunk_req *retry = NULL, **retry_tail = &retry, *retry_last = NULL;
    struct chunk_req *r = b->head;
    while (r) {
        struct chunk_req *next = r->next;
        r->next = NULL;
        if (!r->processed) {
            *retry_tail = r;
            retry_tail = &r->next;
            retry_last = r;
            unprocessed++;
        } else {
            last = stream_end_chunk(s, r->rc == 0);
            if (!conn_is_closed(c))
                chunk_answer(r);
            else
                conn_slot_discard(r->slot);
            r->slot = NULL;
            chunk_req_free(r);
        }
        r = next;
    }
    free(b);
    s->busy = false;
    if (conn_is_closed(c)) {
        /* c closed while s was busy: s was unlinked and left for us to free */
        while (retry) {
            struct chunk_req *n2 = retry->next;
            conn_slot_discard(retry->slot);
            retry->slot = NULL;
            chunk_req_free(retry);
            retry = n2;
        }
        stream_free(s);
    } else {
        if (retry) { /* back to the head of the queue, as if never looked at */
            stream_unbegin_chunks(s, unprocessed);
            *retry_tail = s->q_head;
            if (!s->q_head)
                s->q_tail = retry_last;
            s->q_head = retry;
        }
        if (last)
            retire_stream(c, s);
        else
            pump(s);
    }
    conn_unref(c);
}

/* ---- the fast path ---- */

/* Answers r (on the caller's stack) from the service's caches when its stream is idle and
 * the bytes are in the page cache. False: queue it for the pool (nothing changed). */
static bool try_fast(struct stream *s, struct chunk_req *r)
{
    if (!s->src.resolve_fast || s->busy || s->q_head)
        return false;
    char err[200];
    int rc = stream_begin_chunk(s, r->index, 0, &r->iter, err, sizeof err);
    if (rc < 0) {
        chunk_answer_failure(r, err);
        return true;
    }
    if (rc == 1)
        return false;
    int frc = s->src.resolve_fast(s->src.ctx, r->iter, &r->seg, r->err, sizeof r->err);
    bool cold = frc == 0 && r->seg.kind == CHUNK_OPEN_FILE && r->seg.length > 0 &&
                !page_cache_resident(r->seg.fd, r->seg.offset,
                                     r->seg.length < CHUNK_WINDOW_BYTES ? r->seg.length
                                                                        : CHUNK_WINDOW_BYTES);
    if (frc == 1 || cold) {
        chunk_seg_release(&r->seg);
        stream_unbegin_chunks(s, 1);
        return false;
    }
    r->processed = true;
    r->rc = frc;
    r->failed = frc != 0;
    metrics_inc(MC_CHUNKS_ON_LOOP);
    if (r->failed && r->err[0] == '\0')
        snprintf(r->err, sizeof r->err, "java.lang.RuntimeException: cannot resolve chunk");
    bool last = stream_end_chunk(s, frc == 0);
    chunk_answer(r);
    if (last && !conn_is_closed(r->c))
        retire_stream(r->c, s);
    return true;
}

/* r is on the caller's stack: answered here, or copied into the stream's queue. */
static void serve(struct stream *s, struct chunk_req *r)
{
    if (try_fast(s, r)) {
        chunk_req_clear(r);
        return;
    }
    struct chunk_req *q = malloc(sizeof *q);
    if (!q) {
        chunk_answer_failure(r, "java.lang.OutOfMemoryError");
        chunk_req_clear(r);
        return;
    }
    *q = *r;
    q->next = NULL;
    if (s->q_tail)
        s->q_tail->next = q;
    else
        s->q_head = q;
    s->q_tail = q;
    pump(s);
}

/* ---- requests ---- */

/* Reserves r's answer slot (in arrival order). False when out of memory (c closed). */
static bool begin_request(struct conn *c, struct chunk_req *r)
{
    memset(r, 0, sizeof *r);
    r->c = c;
    r->fd = -1;
    r->seg.fd = -1;
    r->slot = conn_slot_reserve(c, CONN_SLOT_CHUNK);
    if (!r->slot) {
        log_error("%s: out of memory for a chunk request, closing", conn_peer(c));
        conn_close(c, NULL);
        return false;
    }
    return true;
}

static void chunk_fetch(struct conn *c, int64_t stream_id, int32_t chunk_index)
{
    struct chunk_req r;
    if (!begin_request(c, &r))
        return;
    r.stream_id = stream_id;
    r.index = chunk_index;
    struct stream *s = find_stream(c, stream_id);
    const char *cid = conn_client_id(c);
    if (s && cid && s->app_id && strcmp(cid, s->app_id) != 0) {
        char why[400];
        snprintf(why, sizeof why,
                 "java.lang.SecurityException: Client %s not authorized to read stream %" PRId64
                 " (app %s).",
                 cid, stream_id, s->app_id);
        chunk_answer_failure(&r, why);
    } else if (!s) {
        chunk_answer_unknown(&r);
    } else {
        serve(s, &r);
        return;
    }
    chunk_req_clear(&r);
}

static void stream_request(struct conn *c, const uint8_t *id, uint32_t len)
{
    struct chunk_req r;
    if (!begin_request(c, &r))
        return;
    r.is_stream = true;
    r.name = malloc((size_t)len + 1);
    if (!r.name) {
        conn_close(c, "out of memory"); /* detaches the slot, which we then free */
        conn_slot_discard(r.slot);
        return;
    }
    memcpy(r.name, id, len);
    r.name[len] = '\0';
    char err[200];
    /* an embedded NUL cannot be a number: parse the C string, which stops there */
    size_t clen = strlen(r.name);
    if (clen != len) {
        snprintf(err, sizeof err, "java.lang.NumberFormatException: For input string: \"%s\"",
                 r.name);
        chunk_answer_failure(&r, err);
    } else if (stream_name_parse(r.name, clen, &r.stream_id, &r.index, err, sizeof err) != 0) {
        chunk_answer_failure(&r, err);
    } else {
        struct stream *s = find_stream(c, r.stream_id);
        if (s) {
            serve(s, &r);
            return;
        }
        chunk_answer_unknown(&r);
    }
    chunk_req_clear(&r);
}

void stream_manager_on_msg(void *ctx, struct conn *c, const struct proto_msg *m)
{
    (void)ctx;
    if (m->type == PROTO_CHUNK_FETCH_REQUEST) {
        metrics_rpc_request(MR_CHUNK_FETCH);
        chunk_fetch(c, m->u.chunk_fetch_request.stream_id, m->u.chunk_fetch_request.chunk_index);
    } else if (m->type == PROTO_STREAM_REQUEST) {
        metrics_rpc_request(MR_STREAM);
        stream_request(c, m->u.stream_request.stream_id.data, m->u.stream_request.stream_id.len);
    }
}

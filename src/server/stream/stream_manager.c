/* Serving chunks (spec 6.2, 6.5): checks on the worker, resolution and open+fstat on the
 * blocking pool, then header in an evbuffer + the file segment (sendfile) or memory. */
#include "server/stream/stream_manager.h"

#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/message.h"
#include "server/stream/blocking_pool.h"
#include "server/stream/chunk_window.h"
#include "server/stream/file_open.h"
#include "server/net/conn.h"
#include "server/ops/log.h"
#include "server/ops/metrics.h"
#include "server/stream/page_cache.h"
#include "server/server.h"
#include "server/stream/stream_manager_internal.h"
#include "server/stream/stream_table.h"
#include "server/net/worker.h"

/* Largest ChunkFetchSuccess body: frameLen - 8 = 1 + 12 + body must stay within Java's limit. */
#define MAX_IN_FRAME_CHUNK (PROTO_MAX_FRAME_CONTENT - 13)

/* File chunks below this size are sent with the socket corked (header and body together);
 * for larger ones the extra header packet does not matter. */
#define CORK_BELOW (64u << 10)

struct chunk_req {
    struct chunk_req *next;
    struct conn *c;
    struct resp *resp;
    struct stream *s;
    bool is_stream; /* StreamRequest (name) rather than ChunkFetchRequest */
    char *name;
    int64_t stream_id;
    int32_t index;
    uint32_t iter;
    /* result of the blocking part */
    bool processed; /* false: not attempted because an earlier one in the batch failed */
    int rc;         /* resolve's result: 0 means the stream's iterator moved on */
    bool failed;    /* the answer is a failure with err (resolve error or file problem) */
    int fd;
    struct chunk_segment seg;
    char err[512];
};

int64_t stream_register(struct conn *c, const char *app_id, struct stream_source src)
{
    uint64_t weight = src.num_chunks ? src.num_chunks : 1;
    if (c->streams.weight + weight > STREAM_MAX_REGISTERED_CHUNKS) {
        log_warn("%s: refused a stream of %u chunks: %" PRIu64
                 " chunks already registered and not fetched on this connection (limit %u)",
                 c->peer, src.num_chunks, c->streams.weight, STREAM_MAX_REGISTERED_CHUNKS);
        if (src.free_ctx)
            src.free_ctx(src.ctx);
        return STREAM_REGISTER_OVER_LIMIT;
    }
    struct stream *s = stream_table_add(&c->streams, app_id, src);
    if (!s) {
        log_error("%s: out of memory registering a stream", c->peer);
        return -1;
    }
    log_debug("%s: registered stream %" PRId64 " with %u chunks", c->peer, s->id, src.num_chunks);
    return s->id;
}

static void seg_release(struct chunk_segment *seg)
{
    free(seg->path);
    free(seg->data);
    seg->path = NULL;
    seg->data = NULL;
}

static void req_free(struct chunk_req *r)
{
    if (r->fd >= 0)
        close(r->fd);
    seg_release(&r->seg);
    free(r->name);
    free(r);
}

static void answer_failure(struct chunk_req *r, const char *error)
{
    struct proto_msg m = {0};
    if (r->is_stream) {
        m.type = PROTO_STREAM_FAILURE;
        m.u.stream_failure.stream_id.data = (const uint8_t *)r->name;
        m.u.stream_failure.stream_id.len = (uint32_t)strlen(r->name);
        m.u.stream_failure.error.data = (const uint8_t *)error;
        m.u.stream_failure.error.len = (uint32_t)strlen(error);
    } else {
        m.type = PROTO_CHUNK_FETCH_FAILURE;
        m.u.chunk_fetch_failure.stream_id = r->stream_id;
        m.u.chunk_fetch_failure.chunk_index = r->index;
        m.u.chunk_fetch_failure.error.data = (const uint8_t *)error;
        m.u.chunk_fetch_failure.error.len = (uint32_t)strlen(error);
    }
    conn_resp_msg(r->c, r->resp, &m);
    r->resp = NULL;
    metrics_rpc_error(r->is_stream ? MR_STREAM : MR_CHUNK_FETCH);
}

static void free_data_cb(const void *data, size_t len, void *extra)
{
    (void)len;
    (void)extra;
    free((void *)data);
}

/* Header into the slot's buffer, then the body without copying it. */
static void answer_success(struct chunk_req *r)
{
    uint64_t len = r->seg.length;
    if (!r->is_stream && len > MAX_IN_FRAME_CHUNK) {
        char why[200];
        snprintf(why, sizeof why,
                 "java.lang.IllegalArgumentException: chunk of %" PRIu64
                 " bytes does not fit in one frame; fetch it with a StreamRequest",
                 len);
        answer_failure(r, why);
        return;
    }
    struct proto_msg m = {0};
    struct proto_writer w;
    proto_writer_init(&w);
    if (r->is_stream) {
        m.type = PROTO_STREAM_RESPONSE;
        m.u.stream_response.stream_id.data = (const uint8_t *)r->name;
        m.u.stream_response.stream_id.len = (uint32_t)strlen(r->name);
        m.u.stream_response.byte_count = (int64_t)len;
        proto_msg_encode(&w, &m);
    } else {
        m.type = PROTO_CHUNK_FETCH_SUCCESS;
        m.u.chunk_fetch_success.stream_id = r->stream_id;
        m.u.chunk_fetch_success.chunk_index = r->index;
        proto_msg_encode_header(&w, &m, len);
    }
    struct evbuffer *buf = evbuffer_new();
    bool ok = !w.failed && buf != NULL;
    if (ok) {
        /* lets the file segment below be a sendfile chain, not a copy */
        evbuffer_set_flags(buf, EVBUFFER_FLAG_DRAINS_TO_FD);
        ok = evbuffer_add(buf, w.buf, w.len) == 0;
    }
    proto_writer_free(&w);
    if (ok && len > 0 && r->seg.kind == CHUNK_MEMORY) {
        ok = evbuffer_add_reference(buf, r->seg.data, len, free_data_cb, NULL) == 0;
        if (ok)
            r->seg.data = NULL; /* owned by buf now */
    }
    if (!ok) {
        if (buf)
            evbuffer_free(buf);
        answer_failure(r, "java.lang.OutOfMemoryError: cannot queue the chunk");
        return;
    }
    r->resp->buf = buf;
    struct resp *slot = r->resp;
    if (len > 0 && r->seg.kind == CHUNK_FILE) {
        slot->small_file = len < CORK_BELOW;
        int fd = r->fd;
        r->fd = -1; /* chunk_window_send takes it */
        if (chunk_window_send(r->c, slot, fd, r->seg.offset, len) != 0) {
            evbuffer_free(buf);
            slot->buf = NULL;
            answer_failure(r, "java.lang.OutOfMemoryError: cannot queue the chunk");
            return;
        }
    } else {
        conn_resp_ready(r->c, slot);
    }
    r->resp = NULL;
    metrics_add(MC_BLOCK_TRANSFER_BYTES, len);
    metrics_inc(MC_BLOCK_TRANSFER_MESSAGES);
}

struct batch {
    struct conn *c;
    struct stream *s;
    struct chunk_req *head; /* in chunk order */
};

static void batch_done(void *arg);

/* Resolves one chunk and opens + checks its file. */
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
    if (r->seg.kind != CHUNK_FILE)
        return;
    struct stat st;
    /* the fstat below refuses anything but a regular file */
    r->fd = file_open_for_read(r->seg.path ? r->seg.path : "", r->seg.no_symlinks);
    if (r->fd < 0) {
        snprintf(r->err, sizeof r->err, "java.io.IOException: Failed to open file %s: %s",
                 r->seg.path ? r->seg.path : "(none)", strerror(errno));
        r->failed = true;
    } else if (fstat(r->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(r->err, sizeof r->err, "java.io.IOException: %s is not a readable file",
                 r->seg.path);
        r->failed = true;
    } else if ((uint64_t)st.st_size < r->seg.offset ||
               (uint64_t)st.st_size - r->seg.offset < r->seg.length) {
        snprintf(r->err, sizeof r->err,
                 "java.io.EOFException: %s holds %lld bytes but the chunk needs bytes %" PRIu64
                 "-%" PRIu64,
                 r->seg.path, (long long)st.st_size, r->seg.offset, r->seg.offset + r->seg.length);
        r->failed = true;
    } else if (r->seg.length > 0) {
        /* sendfile runs on the event loop: the disk wait for the first part happens here */
        page_cache_warm(r->fd, r->seg.offset, r->seg.length);
    }
}

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
    worker_post(b->c->w, batch_done, b);
}

static void fail_unknown(struct chunk_req *r)
{
    const char *cid = conn_client_id(r->c);
    answer_failure(r, !r->is_stream && cid
                          ? "java.lang.IllegalArgumentException: Unknown stream ID."
                          : "java.lang.NullPointerException");
}

/* Up to this many waiting requests of one stream are resolved by one blocking job. */
#define MAX_BATCH 64

/* Starts resolving the waiting requests of s, unless a batch is already running. */
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
            answer_failure(r, err);
            req_free(r);
            continue;
        }
        if (!b) {
            b = calloc(1, sizeof *b);
            if (!b) { /* out of memory: fail it rather than lose it */
                stream_unbegin_chunks(s, 1);
                answer_failure(r, "java.lang.OutOfMemoryError");
                req_free(r);
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
    s->busy = true;
    conn_ref(b->c);
    if (blocking_pool_submit(b->c->srv->pool, batch_job, b) != 0)
        batch_job(b); /* pool gone (shutdown) or no memory: resolve here */
}

static void fail_queued(struct stream *s)
{
    while (s->q_head) {
        struct chunk_req *r = s->q_head;
        s->q_head = r->next;
        fail_unknown(r);
        req_free(r);
    }
    s->q_tail = NULL;
}

static void answer(struct chunk_req *r)
{
    if (r->failed) {
        answer_failure(r, r->err);
    } else if (r->seg.kind == CHUNK_MISSING) {
        if (r->is_stream) {
            char why[300];
            snprintf(why, sizeof why, "Stream '%s' was not found.", r->name);
            answer_failure(r, why);
        } else {
            answer_failure(r, "java.lang.IllegalStateException: Chunk was not found");
        }
    } else {
        answer_success(r);
    }
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
            if (!c->closed)
                answer(r);
            else if (r->resp)
                conn_resp_discard(r->resp);
            r->resp = NULL;
            req_free(r);
        }
        r = next;
    }
    free(b);
    s->busy = false;
    if (c->closed) {
        /* c closed while s was busy: s was unlinked and left for us to free */
        while (retry) {
            struct chunk_req *n2 = retry->next;
            conn_resp_discard(retry->resp);
            retry->resp = NULL;
            req_free(retry);
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
        if (last) { /* Spark drops a stream once its last buffer has been handed out */
            stream_table_remove(&c->streams, s);
            fail_queued(s);
            stream_free(s);
        } else {
            pump(s);
        }
    }
    conn_unref(c);
}

static struct chunk_req *new_req(struct conn *c)
{
    conn_chunk_accepted(c);
    struct chunk_req *r = calloc(1, sizeof *r);
    struct resp *slot = r ? conn_resp_reserve(c, true) : NULL;
    if (!slot) {
        free(r);
        log_error("%s: out of memory for a chunk request, closing", c->peer);
        conn_close(c, NULL);
        return NULL;
    }
    r->c = c;
    r->resp = slot;
    r->fd = -1;
    return r;
}

static void enqueue(struct stream *s, struct chunk_req *r)
{
    r->s = s;
    if (s->q_tail)
        s->q_tail->next = r;
    else
        s->q_head = r;
    s->q_tail = r;
    pump(s);
}

void stream_manager_chunk_fetch(struct conn *c, int64_t stream_id, int32_t chunk_index)
{
    struct chunk_req *r = new_req(c);
    if (!r)
        return;
    r->stream_id = stream_id;
    r->index = chunk_index;
    struct stream *s = stream_table_find(&c->streams, stream_id);
    const char *cid = conn_client_id(c);
    if (s && cid && s->app_id && strcmp(cid, s->app_id) != 0) {
        char why[400];
        snprintf(why, sizeof why,
                 "java.lang.SecurityException: Client %s not authorized to read stream %" PRId64
                 " (app %s).",
                 cid, stream_id, s->app_id);
        answer_failure(r, why);
        req_free(r);
        return;
    }
    if (!s) {
        fail_unknown(r);
        req_free(r);
        return;
    }
    enqueue(s, r);
}

/* Java's Long.parseLong / Integer.parseInt on [p, p+n): optional sign, decimal digits. */
static bool parse_java_long(const char *p, size_t n, int64_t min, int64_t max, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (n > 0 && (p[0] == '-' || p[0] == '+')) {
        neg = p[0] == '-';
        i = 1;
    }
    if (i == n)
        return false;
    uint64_t limit = neg ? (uint64_t)(-(min + 1)) + 1 : (uint64_t)max;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        uint64_t d = (uint64_t)(p[i] - '0');
        if (v > (limit - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* Splits "<streamId>_<chunkIndex>" as Java's split("_") then parseLong/parseInt do (trailing
 * empty parts are dropped; extra parts ignored). Returns -1 with Java's text in err. */
static int parse_stream_name(const char *name, size_t len, int64_t *sid, int32_t *idx, char *err,
                             size_t errlen)
{
    const char *part[2] = {name, NULL};
    size_t plen[2] = {0, 0};
    size_t nparts = 0, last_nonempty = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || name[i] == '_') {
            if (nparts < 2) {
                part[nparts] = name + start;
                plen[nparts] = i - start;
            }
            nparts++;
            if (i > start)
                last_nonempty = nparts;
            start = i + 1;
        }
    }
    size_t count = len == 0 ? 1 : last_nonempty;
    if (count < 2) {
        snprintf(err, errlen,
                 "java.lang.ArrayIndexOutOfBoundsException: Index %zu out of bounds for length %zu",
                 count, count);
        return -1;
    }
    int64_t v;
    for (int k = 0; k < 2; k++) {
        bool ok = k == 0 ? parse_java_long(part[0], plen[0], INT64_MIN, INT64_MAX, sid)
                         : parse_java_long(part[1], plen[1], INT32_MIN, INT32_MAX, &v);
        if (!ok) {
            snprintf(err, errlen, "java.lang.NumberFormatException: For input string: \"%.*s\"",
                     (int)plen[k], part[k]);
            return -1;
        }
    }
    *idx = (int32_t)v;
    return 0;
}

void stream_manager_stream_request(struct conn *c, const uint8_t *id, uint32_t len)
{
    struct chunk_req *r = new_req(c);
    if (!r)
        return;
    r->is_stream = true;
    r->name = malloc((size_t)len + 1);
    if (!r->name) {
        conn_close(c, "out of memory"); /* detaches the slot, which we then free */
        conn_resp_discard(r->resp);
        r->resp = NULL;
        req_free(r);
        return;
    }
    memcpy(r->name, id, len);
    r->name[len] = '\0';
    char err[200];
    /* an embedded NUL cannot be a number: parse the C string, which stops there */
    if (parse_stream_name(r->name, strlen(r->name), &r->stream_id, &r->index, err, sizeof err) !=
            0 ||
        strlen(r->name) != len) {
        if (strlen(r->name) != len)
            snprintf(err, sizeof err, "java.lang.NumberFormatException: For input string: \"%s\"",
                     r->name);
        answer_failure(r, err);
        req_free(r);
        return;
    }
    struct stream *s = stream_table_find(&c->streams, r->stream_id);
    if (!s) {
        fail_unknown(r);
        req_free(r);
        return;
    }
    enqueue(s, r);
}

static void drop_stream(struct stream *s, void *arg)
{
    (void)arg;
    while (s->q_head) { /* their slots were detached by conn_close */
        struct chunk_req *r = s->q_head;
        s->q_head = r->next;
        conn_resp_discard(r->resp);
        r->resp = NULL;
        req_free(r);
    }
    s->q_tail = NULL;
    if (!s->busy)
        stream_free(s); /* a busy one is freed by batch_done */
}

void stream_manager_conn_closed(struct conn *c)
{
    stream_table_drain(&c->streams, drop_stream, NULL);
    stream_table_free(&c->streams);
}

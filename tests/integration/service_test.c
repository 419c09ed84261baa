/* SPDX-License-Identifier: Apache-2.0 */
/* Test-only service, linked only into tests/integration/shuffled-test: lets the integration
 * tests register streams over files and memory, and exercise every way of answering an RPC.
 *
 * RPC body = one command byte, then its arguments (Spark encodings):
 *   'R' i32 n, n x chunk            register a stream -> reply i64 streamId, i32 n
 *       chunk = u8 0 (file) str path, i64 offset, i64 length
 *             | u8 1 (memory) byte[] data
 *             | u8 2 (missing)
 *             | u8 3 (resolve error) str text
 *   'L'                             -> i64 live streams, i64 chunks in flight
 *   'E' bytes                       echo, answered at once
 *   'A' bytes                       echo, answered from a conn_run_blocking done callback
 *   'T' bytes                       echo, answered from another thread
 *   'W'                             -> i64 OneWayMessages seen so far
 *   'H' bytes                       held: answered (empty) only by a later 'G'
 *   'G'                             answers every held 'H' -> i64 how many it answered
 *   'Q'                             -> i64 'H' requests held now
 *   'P'                             -> i64 windows of large bodies found cached, i64 windows
 *                                      warmed on the pool (chunk_window.c), so far
 *   'D' bytes                       echo, answered at once, with a "record" the output hook
 *                                      must make durable before the answer leaves
 *   'B' bytes                       the same, answered from a conn_run_blocking done callback
 * Anything else: RpcFailure. A OneWayMessage only bumps the counter. */
#include <config.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/codec.h"
#include "server/net/conn.h"
#include "server/ops/metrics.h"
#include "server/server.h"
#include "server/service.h"
#include "server/stream/stream_manager.h"
#include "server/stream/stream_table.h"

struct test_chunk {
    uint8_t kind;
    char *path;
    int64_t offset, length;
    uint8_t *data;
    uint32_t data_len;
    char *text;
};

struct test_stream {
    uint32_t n;
    struct test_chunk *chunks;
};

static atomic_long one_way_seen;

/* 'H' requests waiting for a 'G' (answered from any thread: the contract allows it). */
static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rpc_reply **held;
static size_t held_count, held_cap;

static void hold(struct rpc_reply *reply)
{
    pthread_mutex_lock(&held_lock);
    if (held_count == held_cap) {
        size_t cap = held_cap ? held_cap * 2 : 64;
        struct rpc_reply **h = realloc(held, cap * sizeof *h);
        if (!h) {
            pthread_mutex_unlock(&held_lock);
            rpc_reply_fail(reply, "java.lang.OutOfMemoryError");
            return;
        }
        held = h;
        held_cap = cap;
    }
    held[held_count++] = reply;
    pthread_mutex_unlock(&held_lock);
}

static int64_t release_held(void)
{
    pthread_mutex_lock(&held_lock);
    struct rpc_reply **h = held;
    size_t n = held_count;
    held = NULL;
    held_count = held_cap = 0;
    pthread_mutex_unlock(&held_lock);
    for (size_t i = 0; i < n; i++)
        rpc_reply_ok(h[i], NULL, 0);
    free(h);
    return (int64_t)n;
}

static void free_stream(void *ctx)
{
    struct test_stream *ts = ctx;
    for (uint32_t i = 0; i < ts->n; i++) {
        free(ts->chunks[i].path);
        free(ts->chunks[i].data);
        free(ts->chunks[i].text);
    }
    free(ts->chunks);
    free(ts);
}

static int resolve(void *ctx, uint32_t index, struct chunk_segment *seg, char *err, size_t errlen)
{
    struct test_stream *ts = ctx;
    if (index >= ts->n) {
        snprintf(err, errlen, "java.lang.IndexOutOfBoundsException: %u", index);
        return -1;
    }
    struct test_chunk *c = &ts->chunks[index];
    memset(seg, 0, sizeof *seg);
    switch (c->kind) {
    case 0:
        seg->kind = CHUNK_FILE;
        seg->path = strdup(c->path);
        seg->offset = (uint64_t)c->offset;
        seg->length = (uint64_t)c->length;
        return seg->path ? 0 : -1;
    case 1:
        seg->kind = CHUNK_MEMORY;
        seg->length = c->data_len;
        seg->data = malloc(c->data_len ? c->data_len : 1);
        if (!seg->data)
            return -1;
        memcpy(seg->data, c->data, c->data_len);
        return 0;
    case 2:
        seg->kind = CHUNK_MISSING;
        return 0;
    default:
        snprintf(err, errlen, "%s", c->text);
        return -1;
    }
}

static int parse_register(struct proto_reader *r, struct test_stream **out)
{
    int32_t n;
    if (!proto_read_i32(r, &n) || n < 0 || (size_t)n > proto_reader_remaining(r))
        return -1;
    struct test_stream *ts = calloc(1, sizeof *ts);
    if (!ts)
        return -1;
    ts->chunks = calloc((size_t)n + 1, sizeof *ts->chunks);
    if (!ts->chunks) {
        free(ts);
        return -1;
    }
    for (int32_t i = 0; i < n; i++) {
        struct test_chunk *c = &ts->chunks[i];
        ts->n = (uint32_t)i + 1;
        const uint8_t *p;
        uint32_t len;
        if (!proto_read_u8(r, &c->kind))
            goto bad;
        if (c->kind == 0) {
            if (!proto_read_bytes_borrowed(r, &p, &len) || !proto_read_i64(r, &c->offset) ||
                !proto_read_i64(r, &c->length) || !(c->path = strndup((const char *)p, len)))
                goto bad;
        } else if (c->kind == 1) {
            if (!proto_read_bytes_borrowed(r, &p, &len) || !(c->data = malloc(len ? len : 1)))
                goto bad;
            memcpy(c->data, p, len);
            c->data_len = len;
        } else if (c->kind == 3) {
            if (!proto_read_bytes_borrowed(r, &p, &len) ||
                !(c->text = strndup((const char *)p, len)))
                goto bad;
        } else if (c->kind != 2) {
            goto bad;
        }
    }
    ts->n = (uint32_t)n;
    *out = ts;
    return 0;
bad:
    free_stream(ts);
    return -1;
}

/* 'D' and 'B': records not yet durable, which the output hook (conn_set_output_hooks) appends,
 * a byte each, to <state_dir>/durable before any answer leaves. It pauses first, so that an
 * answer sent ahead of its record would reach the client before the file holds it. */
static char durable_path[4200];
static atomic_int undurable;

static void make_durable(void)
{
    int n = atomic_exchange(&undurable, 0);
    if (n <= 0)
        return;
    usleep(50 * 1000);
    int fd = open(durable_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    for (; fd >= 0 && n > 0; n--)
        if (write(fd, "d", 1) != 1)
            break;
    if (fd >= 0)
        close(fd);
}

struct echo_job {
    struct rpc_reply *reply;
    uint8_t *data;
    size_t len;
    bool durable; /* 'B' */
};

static void echo_fn(void *arg)
{
    (void)arg; /* the "disk work" of the test: nothing */
}

static void echo_done(struct conn *c, void *arg)
{
    struct echo_job *j = arg;
    (void)c;
    if (j->durable)
        atomic_fetch_add(&undurable, 1);
    rpc_reply_ok(j->reply, j->data, j->len); /* dropped if c closed */
    free(j->data);
    free(j);
}

static void *echo_thread(void *arg)
{
    echo_done(NULL, arg);
    return NULL;
}

static void test_on_rpc(void *ctx, struct conn *c, struct rpc_reply *reply, const uint8_t *body,
                        size_t len)
{
    (void)ctx;
    if (!reply) {
        atomic_fetch_add(&one_way_seen, 1);
        return;
    }
    struct proto_writer w;
    proto_writer_init(&w);
    struct proto_reader r;
    proto_reader_init(&r, body + (len ? 1 : 0), len ? len - 1 : 0);
    switch (len ? body[0] : 0) {
    case 'R': {
        struct test_stream *ts;
        if (parse_register(&r, &ts) != 0) {
            rpc_reply_fail(reply, "java.lang.IllegalArgumentException: bad register request");
            break;
        }
        uint32_t n = ts->n;
        struct stream_source src = {
            .ctx = ts, .num_chunks = n, .resolve = resolve, .free_ctx = free_stream};
        char err[400];
        int64_t id = stream_register(c, "app-test", src, err, sizeof err);
        proto_write_i64(&w, id);
        proto_write_i32(&w, (int32_t)n);
        rpc_reply_ok(reply, w.buf, w.len);
        break;
    }
    case 'L':
        proto_write_i64(&w, (int64_t)stream_live_count());
        proto_write_i64(&w, (int64_t)atomic_load(&conn_server(c)->chunks_in_flight));
        rpc_reply_ok(reply, w.buf, w.len);
        break;
    case 'P':
        proto_write_i64(&w, (int64_t)metrics_counter(MC_FILE_WINDOWS_CACHED));
        proto_write_i64(&w, (int64_t)metrics_counter(MC_FILE_WINDOWS_WARMED));
        rpc_reply_ok(reply, w.buf, w.len);
        break;
    case 'W':
        proto_write_i64(&w, atomic_load(&one_way_seen));
        rpc_reply_ok(reply, w.buf, w.len);
        break;
    case 'E':
        rpc_reply_ok(reply, body + 1, len - 1);
        break;
    case 'D':
        atomic_fetch_add(&undurable, 1);
        rpc_reply_ok(reply, body + 1, len - 1);
        break;
    case 'H':
        hold(reply);
        break;
    case 'G':
        proto_write_i64(&w, release_held());
        rpc_reply_ok(reply, w.buf, w.len);
        break;
    case 'Q':
        pthread_mutex_lock(&held_lock);
        proto_write_i64(&w, (int64_t)held_count);
        pthread_mutex_unlock(&held_lock);
        rpc_reply_ok(reply, w.buf, w.len);
        break;
    case 'A':
    case 'B':
    case 'T': {
        struct echo_job *j = calloc(1, sizeof *j);
        if (!j || !(j->data = malloc(len))) {
            free(j);
            rpc_reply_fail(reply, "java.lang.OutOfMemoryError");
            break;
        }
        j->reply = reply;
        j->len = len - 1;
        j->durable = body[0] == 'B';
        memcpy(j->data, body + 1, len - 1);
        pthread_t t;
        if (body[0] == 'A' || body[0] == 'B') {
            conn_run_blocking(c, echo_fn, echo_done, j);
        } else if (pthread_create(&t, NULL, echo_thread, j) == 0) {
            pthread_detach(t);
        } else {
            echo_done(c, j);
        }
        break;
    }
    default:
        rpc_reply_fail(reply, "java.lang.UnsupportedOperationException: test service: unknown "
                              "command");
        break;
    }
    proto_writer_free(&w);
}

static struct rpc_handler test_handler = {.on_rpc = test_on_rpc};

struct rpc_handler *shuffle_service_create(const struct shuffled_config *cfg, char *err,
                                           size_t errlen)
{
    (void)err;
    (void)errlen;
    static const struct conn_output_hooks hooks = {.before_output = make_durable};
    snprintf(durable_path, sizeof durable_path, "%s/durable", cfg->state_dir);
    conn_set_output_hooks(&hooks);
    return &test_handler;
}

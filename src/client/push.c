/* SPDX-License-Identifier: Apache-2.0 */
/* Pushing blocks to be merged (Spark's OneForOneBlockPusher under its
 * RetryingBlockTransferor, with BlockPushErrorHandler's rules): see shuffle/push.h.
 * One attempt at a time on one pooled connection; each block's UploadStream carries a
 * PushBlockStream meta whose index is the block's position in the attempt. A retry
 * (the connection lost after it was up) starts a new attempt with the blocks still
 * unanswered; replies of an abandoned attempt are dropped, so each block is reported
 * exactly once. Block bodies go out by reference: on_done (after which the caller may free
 * them) waits until the transport released every one, which may be after the last answer
 * (a refusal fails the blocks after it while their bodies still wait to be sent). */
#include <config.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "client/errors.h"
#include "client/internal.h"
#include "client/pool.h"
#include "client/transport.h"
#include "proto/blockmsg.h"
#include "shuffle/push.h"

enum { DEFAULT_MAX_IN_FLIGHT = 64 };

struct push_op;

/* What one UploadStream's reply comes back to. */
struct push_slot {
    struct push_op *op;
    size_t index;
    size_t pos;       /* its place in the attempt's queue */
    unsigned attempt; /* the attempt that sent it */
};

struct push_op {
    struct client_op link; /* first: cancel() gets this pointer */
    shuffle_client *c;
    int refs; /* the caller's, plus one per request on a connection */
    char *host, *app_id;
    int port, app_attempt_id;
    size_t n;
    char **ids;
    int32_t (*parts)[4]; /* shuffle, merge, map index, reduce of each block */
    const uint8_t **data;
    uint64_t *sizes;
    struct push_slot *slots;
    bool *done;
    size_t outstanding, failed;
    size_t bodies_held; /* bodies the transport still references */
    size_t max_in_flight, in_flight;
    size_t *queue; /* blocks of this attempt not yet sent, in order */
    size_t queued, next;
    unsigned attempt;
    int retries;
    struct tconn *t; /* the current attempt's connection */
    struct event *timer;
    struct event *finish_ev; /* on_done once the last body was released */
    bool finished;
    shuffle_push_fn on_block;
    shuffle_fetch_done_fn on_done;
    void *arg;
};

static void op_unref(struct push_op *op)
{
    if (--op->refs > 0)
        return;
    if (op->t)
        tconn_unref(op->t);
    if (op->timer)
        event_free(op->timer);
    if (op->finish_ev)
        event_free(op->finish_ev);
    free(op->host);
    free(op->app_id);
    free(op->ids);
    free(op->parts);
    free(op->data);
    free(op->sizes);
    free(op->slots);
    free(op->done);
    free(op->queue);
    free(op);
}

static void maybe_finish(struct push_op *op)
{
    if (op->outstanding > 0 || op->bodies_held > 0 || op->finished)
        return;
    op->finished = true;
    client_op_remove(&op->link);
    if (op->on_done)
        op->on_done(op->arg, op->n - op->failed, op->failed);
    op_unref(op);
}

/* The transport no longer reads a body (written, copied, or dropped by a close): on_done
 * follows on the next turn of the loop when it was the last one the op waited for (never from
 * inside the transport, which may be draining a buffer). */
static void body_released(const void *data, size_t len, void *arg)
{
    struct push_op *op = arg;
    (void)data;
    (void)len;
    if (--op->bodies_held == 0 && op->outstanding == 0 && !op->finished)
        event_active(op->finish_ev, EV_TIMEOUT, 1);
}

static void on_finish_ev(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    maybe_finish(arg);
}

static void report(struct push_op *op, size_t i, int status, int code, const char *error)
{
    if (op->done[i])
        return;
    op->done[i] = true;
    op->outstanding--;
    if (status != SHUFFLE_OK)
        op->failed++;
    struct shuffle_push_result r = {.struct_size = sizeof(r),
                                    .index = i,
                                    .block_id = op->ids[i],
                                    .status = status,
                                    .return_code = code,
                                    .error = error};
    op->on_block(op->arg, &r);
}

/* Every block of this attempt not yet sent fails as the one that stopped it did. */
static void fail_unsent(struct push_op *op, int status, int code, const char *error)
{
    while (op->next < op->queued)
        report(op, op->queue[op->next++], status, code, error);
}

/* Spark fails the refused block and every one after it in the batch, sent or not: their
 * later answers (or the closed connection's failures) are dropped, never retried. */
static void fail_from(struct push_op *op, size_t pos, int status, int code, const char *error)
{
    for (size_t p = pos; p < op->next; p++)
        report(op, op->queue[p], status, code, error);
    fail_unsent(op, status, code, error);
}

static void pump(struct push_op *op);

/* A new attempt with every block not yet reported, after retry_wait_ms. */
static void start_retry(struct push_op *op)
{
    op->retries++;
    op->attempt++;
    op->in_flight = 0;
    op->queued = op->next = 0;
    for (size_t i = 0; i < op->n; i++)
        if (!op->done[i])
            op->queue[op->queued++] = i;
    if (op->t) {
        tconn_unref(op->t);
        op->t = NULL;
    }
    int ms = op->c->opts.retry_wait_ms > 0 ? op->c->opts.retry_wait_ms : 0;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(op->timer, &tv);
}

/* BlockPushReturnCode (an empty reply is a Spark 3.1 server's success). */
static void on_return_code(struct push_op *op, const struct push_slot *s, const uint8_t *body,
                           size_t len)
{
    size_t i = s->index;
    if (len == 0) {
        report(op, i, SHUFFLE_OK, 0, NULL);
        return;
    }
    struct blockmsg m;
    char err[200];
    memset(&m, 0, sizeof(m));
    int bad = blockmsg_decode(body, len, &m, err, sizeof(err));
    if (!bad && m.type != BLOCKMSG_BLOCK_PUSH_RETURN_CODE) {
        snprintf(err, sizeof(err), "expected BlockPushReturnCode, got %s",
                 blockmsg_type_name(m.type));
        bad = 1;
    }
    int code = bad ? -1 : m.u.block_push_return_code.return_code;
    const char *failed_id = bad ? "" : m.u.block_push_return_code.failure_block_id.data;
    static const char *const suffix[] = {"", " is received after merged shuffle is finalized",
                                         " experienced merge collision on the server side",
                                         " is a stale block push from an indeterminate stage retry",
                                         " is from an older app attempt"};
    if (!bad && code == SHUFFLE_PUSH_SUCCESS) {
        report(op, i, SHUFFLE_OK, 0, NULL);
    } else if (!bad && code > 0 && code <= SHUFFLE_PUSH_TOO_OLD_ATTEMPT && failed_id[0]) {
        char *msg = client_strf("Block %s%s", failed_id, suffix[code]);
        report(op, i, SHUFFLE_ESERVER, code, msg);
        if (code != SHUFFLE_PUSH_COLLISION) /* the others would be refused too */
            fail_from(op, s->pos + 1, SHUFFLE_ESERVER, code, msg);
        free(msg);
    } else {
        char *msg = client_strf("UploadStream of block %s to %s: bad reply: %s", op->ids[i],
                                tconn_peer(op->t),
                                bad ? err : "a failure code without a block id, or unknown");
        report(op, i, SHUFFLE_EPROTO, 0, msg);
        free(msg);
    }
    blockmsg_free(&m);
}

static void on_reply(void *arg, int status, const char *err, const uint8_t *body, size_t len)
{
    struct push_slot *s = arg;
    struct push_op *op = s->op;
    if (s->attempt == op->attempt && !op->done[s->index] && !op->finished) {
        op->in_flight--;
        if (status == SHUFFLE_OK) {
            on_return_code(op, s, body, len);
        } else if (status == SHUFFLE_EIO && tconn_was_connected(op->t) &&
                   op->retries < op->c->opts.max_retries && !op->c->stopping) {
            start_retry(op);
        } else {
            char *msg = NULL;
            if (status == SHUFFLE_EIO && op->retries > 0)
                msg = client_strf("%s (gave up after %d retries)", err, op->retries);
            report(op, s->index, status, 0, msg ? msg : err);
            if (status == SHUFFLE_EIO || status == SHUFFLE_ECANCELED || status == SHUFFLE_EAUTH)
                fail_unsent(op, status, 0, msg ? msg : err); /* the connection is gone */
            free(msg);
        }
        pump(op);
        maybe_finish(op);
    }
    op_unref(op);
}

/* Sends queued blocks while fewer than max_in_flight are unanswered. */
static void pump(struct push_op *op)
{
    if (op->finished || op->next >= op->queued || evtimer_pending(op->timer, NULL))
        return;
    if (!op->t) {
        op->t = pool_get(op->c->pool, op->host, op->port, op->c->opts.max_retries > 0);
        if (!op->t) {
            fail_unsent(op, SHUFFLE_ECANCELED, 0, "the client is shutting down");
            return;
        }
        tconn_ref(op->t);
    }
    struct proto_writer w;
    proto_writer_init(&w);
    while (op->next < op->queued && op->in_flight < op->max_in_flight) {
        size_t i = op->queue[op->next];
        struct blockmsg m = {.type = BLOCKMSG_PUSH_BLOCK_STREAM};
        m.u.push_block_stream.layout = BLOCKMSG_LAYOUT_32;
        m.u.push_block_stream.app_id.data = op->app_id; /* borrowed: not freed */
        m.u.push_block_stream.app_id.len = (uint32_t)strlen(op->app_id);
        m.u.push_block_stream.app_attempt_id = op->app_attempt_id;
        m.u.push_block_stream.shuffle_id = op->parts[i][0];
        m.u.push_block_stream.shuffle_merge_id = op->parts[i][1];
        m.u.push_block_stream.map_index = op->parts[i][2];
        m.u.push_block_stream.reduce_id = op->parts[i][3];
        m.u.push_block_stream.index = (int32_t)op->next;
        proto_writer_reset(&w);
        blockmsg_encode(&w, &m);
        op->slots[i].attempt = op->attempt;
        op->slots[i].pos = op->next;
        op->next++;
        op->in_flight++;
        op->refs++;
        op->bodies_held++; /* released by the transport, also when the call fails */
        struct tconn_body body = {.data = op->data[i],
                                  .len = (size_t)op->sizes[i],
                                  .release = body_released,
                                  .release_arg = op};
        if (w.failed)
            body_released(body.data, body.len, op);
        if (w.failed ||
            tconn_upload_stream(op->t, w.buf, w.len, &body, on_reply, &op->slots[i]) != 0) {
            op->in_flight--;
            op->refs--;
            char *msg = w.failed ? client_strf("out of memory")
                                 : client_strf("Connection to %s closed", tconn_peer(op->t));
            int status = w.failed ? SHUFFLE_ELOCAL : SHUFFLE_EIO;
            report(op, i, status, 0, msg);
            fail_unsent(op, status, 0, msg);
            free(msg);
        }
    }
    proto_writer_free(&w);
}

static void on_retry_timer(evutil_socket_t fd, short what, void *arg)
{
    struct push_op *op = arg;
    pump(op);
    maybe_finish(op);
}

/* The client is shutting down: every block fails, and on_done comes once the bodies still
 * queued on the connection are dropped (it is closed now if any are: the loop stops after this
 * turn, so nothing would release them later). */
static void cancel_op(struct client_op *link)
{
    struct push_op *op = (struct push_op *)link;
    evtimer_del(op->timer);
    client_op_remove(&op->link);
    for (size_t i = 0; i < op->n; i++)
        report(op, i, SHUFFLE_ECANCELED, 0, "the client was shut down");
    if (op->bodies_held > 0 && op->t)
        tconn_close(op->t, SHUFFLE_ECANCELED, "the client was shut down");
    maybe_finish(op);
}

static void start_cmd(shuffle_client *c, void *arg)
{
    struct push_op *op = arg;
    client_op_add(c, &op->link);
    pump(op);
    maybe_finish(op);
}

/* "shufflePush_S_M_MAP_R" into its four numbers (Java's Integer.parseInt each). */
static bool parse_push_id(const char *id, int32_t out[4])
{
    const char *prefix = "shufflePush_";
    if (strncmp(id, prefix, strlen(prefix)) != 0)
        return false;
    const char *p = id + strlen(prefix);
    for (int k = 0; k < 4; k++) {
        char *end;
        if (!((*p >= '0' && *p <= '9') || *p == '-' || *p == '+'))
            return false;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < INT32_MIN || v > INT32_MAX || *end != (k < 3 ? '_' : '\0'))
            return false;
        out[k] = (int32_t)v;
        p = end + (k < 3);
    }
    return true;
}

static struct push_op *op_build(shuffle_client *c, const struct shuffle_push_request *r)
{
    struct push_op *op = calloc(1, sizeof(*op));
    if (!op)
        return NULL;
    size_t n = r->num_blocks;
    op->link.cancel = cancel_op;
    op->c = c;
    op->refs = 1;
    op->port = r->port;
    op->app_attempt_id = r->app_attempt_id;
    op->n = op->outstanding = op->queued = n;
    op->max_in_flight = r->max_in_flight ? r->max_in_flight : DEFAULT_MAX_IN_FLIGHT;
    op->on_block = r->on_block;
    op->on_done = r->on_done;
    op->arg = r->arg;
    op->host = client_strdup(r->host);
    op->app_id = client_strdup(r->app_id);
    op->ids = client_strv_dup(r->block_ids, n);
    op->parts = calloc(n, sizeof(*op->parts));
    op->data = calloc(n, sizeof(*op->data));
    op->sizes = calloc(n, sizeof(*op->sizes));
    op->slots = calloc(n, sizeof(*op->slots));
    op->done = calloc(n, 1);
    op->queue = calloc(n, sizeof(size_t));
    op->timer = evtimer_new(c->base, on_retry_timer, op);
    op->finish_ev = event_new(c->base, -1, 0, on_finish_ev, op);
    if (!op->host || !op->app_id || !op->ids || !op->parts || !op->data || !op->sizes ||
        !op->slots || !op->done || !op->queue || !op->timer || !op->finish_ev) {
        op_unref(op);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        op->data[i] = r->data[i];
        op->sizes[i] = r->sizes[i];
        op->slots[i].op = op;
        op->slots[i].index = i;
        op->queue[i] = i;
    }
    return op;
}

int shuffle_push_blocks(shuffle_client *c, const struct shuffle_push_request *request)
{
    struct shuffle_push_request r;
    shuffle_push_request_init(&r);
    if (request && client_read_sized(c, &r, sizeof(r), request, "shuffle_push_request") != 0)
        return SHUFFLE_EINVAL;
    if (!c || !request || !r.host || !r.app_id || !r.block_ids || !r.data || !r.sizes ||
        !r.on_block)
        return client_fail(c, SHUFFLE_EINVAL,
                           "push: host, app_id, block_ids, data, sizes and on_block are required");
    if (r.num_blocks == 0)
        return client_fail(c, SHUFFLE_EINVAL, "push: no blocks");
    for (size_t i = 0; i < r.num_blocks; i++) {
        int32_t parts[4];
        if (!r.block_ids[i] || !parse_push_id(r.block_ids[i], parts))
            return client_fail(c, SHUFFLE_EINVAL, "Unexpected shuffle push block id format: %s",
                               r.block_ids[i] ? r.block_ids[i] : "(null)");
        if (!r.data[i] && r.sizes[i])
            return client_fail(c, SHUFFLE_EINVAL, "push: no data for block %s", r.block_ids[i]);
    }
    struct push_op *op = op_build(c, &r);
    if (!op)
        return client_fail(c, SHUFFLE_ELOCAL, "out of memory");
    for (size_t i = 0; i < r.num_blocks; i++)
        parse_push_id(r.block_ids[i], op->parts[i]);
    if (client_post(c, start_cmd, op) != 0) {
        op_unref(op);
        return client_fail(c, SHUFFLE_ECANCELED, "the client is shutting down");
    }
    return SHUFFLE_OK;
}

/* client.h's layout rule: the struct ends exactly after its last field. */
_Static_assert(sizeof(struct shuffle_push_request) ==
                   offsetof(struct shuffle_push_request, arg) + sizeof(void *),
               "shuffle_push_request ends in padding");

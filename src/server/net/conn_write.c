/* SPDX-License-Identifier: Apache-2.0 */
/* The connection's write path: answer slots filled in any order and written in reservation
 * order (reply_queue.c), the output budget, and the switch to a stacked channel. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "server/net/channel.h"
#include "server/net/conn_state.h"
#include "server/ops/metrics.h"
#include "server/server.h"

/* ---- writing ---- */

static void slot_written(void *ctx, const struct reply_slot *s)
{
    struct conn *c = ctx;
    if (s->chunk) {
        c->chunks_pending--;
        atomic_fetch_sub(&c->srv->chunks_in_flight, 1);
    }
    if (s->close_after)
        c->no_more_requests = true;
}

/* Queued answers and what the channel holds to write (a cipher's window). */
static uint64_t output_held(struct conn *c)
{
    return c->q.mem_bytes + channel_memory(c->ch, true);
}

static void account_output(struct conn *c)
{
    conn_budget_charge(c, CONN_BUDGET_OUTPUT,
                       (int64_t)output_held(c) - (int64_t)c->budget[CONN_BUDGET_OUTPUT]);
}

/* Over the output total while answering (inside a producer's call): the biggest holder of
 * this loop is closed from its wake event, never under the producer. */
static void close_later_biggest(struct conn *c, enum conn_budget kind)
{
    struct conn *victim = c->host.biggest ? c->host.biggest(c->host.ctx, kind) : c;
    if (!victim || victim->close_pending || victim->budget[kind] == 0)
        return;
    log_warn("%s: holds %llu bytes of queued answers while all connections hold more than "
             "max_output_bytes (%llu): closing it",
             victim->peer, (unsigned long long)victim->budget[kind],
             (unsigned long long)server_config(c->srv)->max_output_bytes);
    metrics_inc(MC_CLOSED_BY_OUTPUT_BUDGET);
    conn_close_later(victim, "over max_output_bytes");
}

void conn_flush(struct conn *c)
{
    if (c->flushing || c->closed || c->close_pending)
        return;
    if (conn_output_hooks.before_output)
        conn_output_hooks.before_output();
    c->flushing = true;
    uint64_t before = c->q.written;
    enum reply_flush r = reply_queue_flush(&c->q, c->ch, slot_written, c);
    c->flushing = false;
    if (output_held(c) < c->budget[CONN_BUDGET_OUTPUT])
        account_output(c);
    if (c->q.written != before)
        c->last_activity_ms = conn_now_ms(c);
    if (r == REPLY_FLUSH_ERROR) {
        char why[96];
        snprintf(why, sizeof why, "write failed: %s", strerror(errno));
        conn_close_later(c, why);
        return;
    }
    if (r == REPLY_FLUSH_IDLE && c->next_ch) {
        c->ch = c->next_ch;
        c->next_ch = NULL;
    }
    bool blocked = r == REPLY_FLUSH_BLOCKED;
    if (blocked != c->write_armed) {
        if (blocked)
            event_add(c->write_ev, NULL);
        else
            event_del(c->write_ev);
        c->write_armed = blocked;
    }
    if (c->no_more_requests) {
        if (!c->read_paused)
            conn_stop_reading(c);
        if (r == REPLY_FLUSH_IDLE) {
            conn_close_later(c, "finished");
            return;
        }
    }
    conn_recheck_paused(c);
}

struct reply_slot *conn_slot_reserve(struct conn *c, enum conn_slot_kind kind)
{
    struct reply_slot *s = reply_queue_reserve(&c->q);
    if (s && kind == CONN_SLOT_CHUNK) {
        s->chunk = true;
        c->chunks_pending++;
        atomic_fetch_add(&c->srv->chunks_in_flight, 1);
    }
    return s;
}

void conn_slot_charge_rpc(struct conn *c, struct reply_slot *s, size_t len)
{
    /* a fixed part for the slot and the reply, so empty requests count too */
    s->rpc_cost = (uint32_t)(len < UINT32_MAX - 256 ? len + 256 : UINT32_MAX);
    c->rpc_pending += s->rpc_cost;
}

void conn_slot_discard(struct reply_slot *s)
{
    reply_slot_free(s);
}

static int fill(struct conn *c, struct reply_slot *s, const uint8_t *hdr, size_t hdr_len,
                uint8_t *mem, size_t mem_len, const struct reply_file *file, uint64_t avail)
{
    if (s->detached) { /* the connection closed before the answer was known */
        free(mem);
        if (file)
            reply_file_release(file);
        reply_slot_free(s);
        return 0;
    }
    if (c->q.unsent == 0)
        c->last_activity_ms = conn_now_ms(c); /* the stalled-reader clock starts with new output */
    if (reply_slot_fill(&c->q, s, hdr, hdr_len, mem, mem_len, file, avail) != 0) {
        log_error("%s: out of memory queueing an answer, closing", c->peer);
        conn_close(c, NULL); /* detached s, which was never filled */
        reply_slot_free(s);
        return -1;
    }
    if (s->rpc_cost) {
        c->rpc_pending -= s->rpc_cost;
        s->rpc_cost = 0;
    }
    if (c->in_read_cb && !s->close_after && !file && mem_len == 0) {
        c->flush_deferred = true; /* conn_read_cb flushes once it has processed its input */
        return 0;
    }
    conn_flush(c);
    if (!c->closed && output_held(c) > c->budget[CONN_BUDGET_OUTPUT]) {
        account_output(c);
        if (conn_budget_over(c, CONN_BUDGET_OUTPUT))
            close_later_biggest(c, CONN_BUDGET_OUTPUT);
    }
    return 0;
}

void conn_slot_fill_msg(struct conn *c, struct reply_slot *s, const struct proto_msg *m,
                        bool close_after)
{
    uint8_t small[REPLY_INLINE_BYTES];
    struct proto_writer w;
    proto_writer_init_fixed(&w, small, sizeof small); /* most answers fit: no allocation */
    proto_msg_encode(&w, m);
    if (w.failed) { /* a larger one: again into a growing buffer */
        proto_writer_init(&w);
        proto_msg_encode(&w, m);
    }
    if (w.failed) {
        proto_writer_free(&w);
        log_error("%s: cannot encode a %s reply (out of memory)", c->peer,
                  proto_msg_type_name(m->type));
        if (!s->detached)
            conn_close(c, NULL);
        reply_slot_free(s);
        return;
    }
    s->close_after = close_after;
    if (w.len <= REPLY_INLINE_BYTES) {
        fill(c, s, w.buf, w.len, NULL, 0, NULL, 0);
        proto_writer_free(&w);
    } else {
        size_t len;
        uint8_t *frame = proto_writer_take(&w, &len);
        fill(c, s, NULL, 0, frame, len, NULL, 0);
    }
}

int conn_slot_fill_body(struct conn *c, struct reply_slot *s, const struct proto_msg *m,
                        uint64_t body_len, uint8_t *body_mem, const struct reply_file *file,
                        uint64_t file_avail)
{
    uint8_t hdr[128];
    size_t hdr_len = proto_msg_header_len(m);
    struct proto_writer w;
    proto_writer_init(&w);
    if (hdr_len <= sizeof hdr) { /* the common case: the writer never grows, so no allocation */
        w.buf = hdr;
        w.cap = sizeof hdr;
    }
    if (m->type == PROTO_STREAM_RESPONSE || m->type == PROTO_UPLOAD_STREAM)
        proto_msg_encode(&w, m); /* the body follows the frame, outside its length */
    else
        proto_msg_encode_header(&w, m, body_len);
    int rc = -1;
    if (w.failed) { /* a header too long for hdr, and no memory for it */
        free(body_mem);
        if (file)
            reply_file_release(file);
        if (!s->detached)
            conn_close(c, "out of memory encoding a header");
        reply_slot_free(s);
    } else {
        rc = fill(c, s, w.buf, w.len, body_mem, body_mem ? body_len : 0, file, file_avail);
    }
    if (w.buf != hdr)
        proto_writer_free(&w);
    return rc;
}

void conn_slot_extend(struct conn *c, struct reply_slot *s, uint64_t n, bool last)
{
    reply_queue_extend(&c->q, s, n, last);
    conn_flush(c);
}

/* ---- channel ---- */

struct channel *conn_channel(const struct conn *c)
{
    return c->ch;
}

void conn_set_channel(struct conn *c, struct channel *ch)
{
    if (c->q.head == NULL && c->q.unsent == 0)
        c->ch = ch;
    else
        c->next_ch = ch; /* flush installs it once the queue is empty */
}

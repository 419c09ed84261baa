/* SPDX-License-Identifier: Apache-2.0 */
/* The connection's read path: channel -> frame decoder -> message -> phase handler, pausing
 * under the limits (input kept) and resuming by itself; after-frame bodies to their sink. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "proto/frame.h"
#include "server/net/channel.h"
#include "server/net/conn_state.h"
#include "server/ops/metrics.h"

static void process(struct conn *c, const uint8_t *data, size_t len);

/* Bodies with at least this much left are read to their end (frame_decoder_read_hint); a
 * smaller rest costs less to copy than the extra read that would save it. */
#define READ_TO_BODY_END_MIN (8u << 10)

/* Keeps unprocessed input (it may already live in c->in) until reading resumes. */
static void keep_input(struct conn *c, const uint8_t *data, size_t len)
{
    if (c->in && data >= c->in && data <= c->in + c->in_len) {
        memmove(c->in, data, len);
        c->in_len = len;
        return;
    }
    metrics_add(MC_INPUT_BYTES_KEPT, len);
    uint8_t *copy = malloc(len);
    if (!copy) {
        conn_close(c, "out of memory keeping input");
        return;
    }
    memcpy(copy, data, len);
    free(c->in);
    c->in = copy;
    c->in_len = len;
}

/* Resumes reading when nothing holds the connection any more: input kept first. */
void conn_try_resume(struct conn *c)
{
    if (!c->read_paused || c->closed || conn_still_held(c))
        return;
    c->read_paused = false;
    if (c->in_len) {
        uint8_t *kept = c->in;
        size_t n = c->in_len;
        c->in_len = 0;
        process(c, kept, n);
        if (c->closed || c->read_paused)
            return; /* what is left stays in c->in */
        free(c->in);
        c->in = NULL;
    }
    event_del(c->hangup_ev);
    event_add(c->read_ev, NULL);
    if (channel_pending(c->ch)) /* plaintext the socket will not signal */
        event_active(c->read_ev, EV_READ, 1);
}

/* ---- reading ---- */

static void deliver(struct conn *c, const struct frame_out *out)
{
    struct proto_msg m;
    char err[256];
    if (proto_msg_decode(out->type, out->content, out->content_len, &m, err, sizeof err) != 0) {
        log_warn("%s: bad %s frame, closing the connection: %s", c->peer,
                 proto_msg_type_name(out->type), err);
        metrics_inc(MC_CAUGHT_EXCEPTIONS);
        conn_close(c, NULL);
        return;
    }
    c->delivering = c->nphases - 1;
    const struct conn_phase *p = &c->phases[c->delivering];
    p->on_msg(p->ctx, c, &m);
}

/* Decodes and delivers data until it runs out or a limit says stop (the rest is kept). */
static void process(struct conn *c, const uint8_t *data, size_t len)
{
    conn_ref(c);
    while (len > 0 && !c->closed && !c->close_pending) {
        if (conn_must_pause(c)) {
            conn_pause_reading(c);
            keep_input(c, data, len);
            break;
        }
        struct frame_out out;
        enum frame_event ev = frame_decoder_next(&c->dec, &data, &len, &out);
        if (ev == FRAME_ERROR) {
            log_warn("%s: bad frame, closing the connection: %s", c->peer, c->dec.error);
            metrics_inc(MC_CAUGHT_EXCEPTIONS);
            conn_close(c, NULL);
        } else if (ev == FRAME_MESSAGE) {
            deliver(c, &out);
        } else if (ev == FRAME_RAW && c->body_sink.on_body) {
            struct conn_body_sink sink = c->body_sink;
            if (out.raw_remaining == 0)
                c->body_sink = (struct conn_body_sink){0};
            sink.on_body(sink.ctx, c, out.raw, out.raw_len, out.raw_remaining == 0);
        }
        /* Other FRAME_RAW: after-frame bytes nobody took (an UploadStream refused while we
         * are closing, a StreamResponse a client sent us): nothing to do with them. */
    }
    conn_unref(c);
}

/* After input was taken in: the partial frame's clock and the input budget. True when c
 * was closed by the budget. */
static bool account_input(struct conn *c)
{
    bool partial = !frame_decoder_idle(&c->dec);
    if (partial && !c->frame_started_ms) {
        c->frame_started_ms = conn_now_ms(c);
        conn_arm_timer(c);
    } else if (!partial) {
        c->frame_started_ms = 0;
    }
    uint64_t held = c->dec.buf_cap + c->in_len + channel_memory(c->ch, false);
    conn_budget_charge(c, CONN_BUDGET_INPUT, (int64_t)held - (int64_t)c->budget[CONN_BUDGET_INPUT]);
    return conn_budget_shed(c, CONN_BUDGET_INPUT);
}

/* Where the next read goes: the body sink's buffer for the rest of a large body on a plain
 * channel (no copy to join its pieces), else the connection's read buffer. */
static uint8_t *read_target(struct conn *c, size_t *ask)
{
    size_t want = frame_decoder_read_hint(&c->dec, READ_TO_BODY_END_MIN);
    *ask = want && want < c->host.read_buf_len ? want : c->host.read_buf_len;
    if (!want || !c->body_sink.read_into || strcmp(c->ch->ops->name, "plain") != 0)
        return c->host.read_buf;
    size_t rest = c->dec.raw_remaining < want ? (size_t)c->dec.raw_remaining : want;
    size_t room = 0;
    uint8_t *into = c->body_sink.read_into(c->body_sink.ctx, rest, &room);
    if (!into || room == 0)
        return c->host.read_buf;
    *ask = room < rest ? room : rest; /* the body only: the next header goes to read_buf */
    return into;
}

void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    (void)what;
    conn_ref(c);
    c->last_activity_ms = conn_now_ms(c);
    c->in_read_cb = true;
    if (conn_output_hooks.read_begin)
        conn_output_hooks.read_begin();
    bool read_all = false; /* the reads per event ended it, not the socket or a limit */
    for (int i = 0; i < READS_PER_EVENT && !c->closed && !c->read_paused && !c->close_pending;
         i++) {
        /* Held (e.g. a pushed body's piece went to the pool): what a read took now could
         * only be kept aside, a copy per held piece; the socket keeps it until resumed. */
        if (conn_must_pause(c)) {
            conn_pause_reading(c);
            break;
        }
        /* Inside a large after-frame body, read up to its end and the next frame's header,
         * not further: the following body then comes whole in one read and goes on from
         * the read buffer, instead of straddling two reads (and being copied to join). */
        size_t ask;
        uint8_t *into = read_target(c, &ask);
        ssize_t n = channel_read(c->ch, into, ask);
        read_all = n > 0 && i == READS_PER_EVENT - 1;
        if (n > 0) {
            process(c, into, (size_t)n);
            if (c->closed || account_input(c))
                break;
            if ((size_t)n < ask && channel_pending(c->ch) == 0)
                break;
        } else if (n == 0) {
            conn_close(c, "closed by the client");
        } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
            char why[96];
            snprintf(why, sizeof why, "socket error: %s", strerror(errno));
            metrics_inc(MC_CAUGHT_EXCEPTIONS);
            conn_close(c, why);
        } else {
            if (c->ch->ops->memory) /* e.g. a TLS handshake's buffers, before any frame */
                account_input(c);
            break;
        }
    }
    /* input a channel holds (e.g. AES-GCM under TLS) that the socket will not signal */
    if (read_all && !c->closed && !c->read_paused && !c->close_pending &&
        channel_pending(c->ch) > 0)
        event_active(c->read_ev, EV_READ, 1);
    c->in_read_cb = false;
    if (conn_output_hooks.before_output)
        conn_output_hooks.before_output(); /* also ends what read_begin started */
    if (c->flush_deferred) {
        c->flush_deferred = false;
        conn_flush(c);
    }
    conn_unref(c);
}

/* ---- upload bodies ---- */

void conn_take_body(struct conn *c, const struct conn_body_sink *sink)
{
    c->body_sink = *sink;
}

void conn_hold_input(struct conn *c, bool hold)
{
    if (hold)
        c->input_held++;
    else if (c->input_held > 0)
        c->input_held--;
    if (!hold && !c->input_held && !c->closed)
        conn_recheck_paused(c);
}

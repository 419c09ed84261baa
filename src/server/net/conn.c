/* SPDX-License-Identifier: Apache-2.0 */
/* The connection state machine; see conn.h. Reading: channel -> frame decoder -> message ->
 * phase handler, pausing under the limits. Writing: reply_queue.c. */
#include <config.h>

#include "server/net/conn.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "proto/frame.h"
#include "server/net/channel.h"
#include "common/log.h"
#include "server/ops/metrics.h"
#include "server/server.h"

/* How often a connection paused by max_chunks_in_flight looks again. */
#define GLOBAL_RETRY_MS 5
/* Reads per readiness event before other connections get their turn. */
#define READS_PER_EVENT 4
#define MAX_PHASES 3

struct conn {
    struct conn_link link;
    struct conn_host host;
    struct server *srv;
    struct channel *ch;
    struct frame_decoder dec;
    char peer[64];
    char *client_id;
    int refs;    /* the socket itself + producers holding slots, jobs in flight */
    bool closed; /* socket gone; struct kept until refs drop to 0 */
    bool read_paused;
    bool no_more_requests; /* after a close_after answer, or at shutdown */
    bool flushing;
    bool waiting_global; /* paused by max_chunks_in_flight only */
    bool write_armed;
    struct channel *next_ch; /* conn_set_channel: takes over when the queue is empty */
    /* A close decided while writing: done from wake_ev, never inside a producer's call
     * (an answer filled by the stream manager must not free its stream under it). */
    bool close_pending;
    char close_reason[96];
    struct event *read_ev, *write_ev;
    struct event *hangup_ev; /* while reading is paused: notices the client going away */
    struct event *timer_ev;  /* idle timeout, and retry while over max_chunks_in_flight */
    struct event *wake_ev;   /* activated (never added) to resume reading from the loop */
    uint8_t *in;             /* input read but not processed when reading paused */
    size_t in_len;
    struct reply_queue q;
    uint32_t chunks_pending; /* chunk answers reserved and not written yet */
    uint64_t rpc_pending;    /* bytes of RPC requests not answered yet (see conn_slot_charge_rpc) */
    uint64_t last_activity_ms;
    uint64_t frame_started_ms;  /* when the partial frame in the decoder began (0: none) */
    uint64_t phase_deadline_ms; /* conn_set_phase_deadline (0: none) */
    char phase_deadline_reason[64];
    uint64_t budget[CONN_BUDGET_COUNT]; /* bytes charged (conn_budget_charge) */
    struct conn_phase phases[MAX_PHASES];
    int nphases;
    int delivering; /* index of the phase whose handler is running (conn_pass_down) */
    struct {
        void *state;
        void (*release)(struct conn *c, void *state);
    } attached[CONN_ATTACH_COUNT];
    struct conn_body_sink body_sink; /* conn_take_body: the current UploadStream's body */
    bool input_held;                 /* conn_hold_input */
};

static uint64_t now_ms(struct conn *c)
{
    struct timeval tv;
    event_base_gettimeofday_cached(c->host.base, &tv);
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

static void flush(struct conn *c);
static void process(struct conn *c, const uint8_t *data, size_t len);

/* ---- flow control ---- */

static bool over_limit(const struct conn *c, const struct shuffled_config *cfg)
{
    uint64_t max = cfg->max_chunks_in_flight;
    return max != 0 && atomic_load(&c->srv->chunks_in_flight) >= max;
}

static bool must_pause(struct conn *c)
{
    const struct shuffled_config *cfg = server_config(c->srv);
    return c->no_more_requests || c->input_held || c->q.unsent > cfg->write_high_water ||
           c->chunks_pending >= cfg->max_chunks_per_connection ||
           c->rpc_pending > cfg->write_high_water || over_limit(c, cfg);
}

/* What keeps a paused connection paused, apart from the global limit. Each of these eases
 * only on this connection's thread (a write, an answer), which then rechecks. */
static bool held_by_connection(struct conn *c, const struct shuffled_config *cfg)
{
    return c->no_more_requests || c->input_held || c->q.unsent > cfg->write_low_water ||
           c->chunks_pending >= cfg->max_chunks_per_connection ||
           c->rpc_pending > cfg->write_low_water;
}

/* ms from now until deadline (at least 1), or UINT64_MAX for none */
static uint64_t until(uint64_t now, uint64_t deadline)
{
    if (deadline == 0)
        return UINT64_MAX;
    return deadline > now ? deadline - now : 1;
}

static void arm_timer(struct conn *c)
{
    const struct shuffled_config *cfg = server_config(c->srv);
    uint64_t now = now_ms(c), t = cfg->idle_timeout_ms, ms = UINT64_MAX;
    if (c->read_paused && c->waiting_global) {
        ms = GLOBAL_RETRY_MS;
    } else if (t != 0) {
        uint64_t idle = now - c->last_activity_ms;
        ms = idle < t ? t - idle : t;
    }
    if (c->frame_started_ms && cfg->frame_timeout_ms) {
        uint64_t f = until(now, c->frame_started_ms + cfg->frame_timeout_ms);
        ms = f < ms ? f : ms;
    }
    uint64_t p = until(now, c->phase_deadline_ms);
    ms = p < ms ? p : ms;
    if (ms == UINT64_MAX)
        return;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(c->timer_ev, &tv);
}

/* Decides what wakes a paused connection: its own state (the event that eases it calls this
 * again), the global limit (polled every GLOBAL_RETRY_MS, since other threads ease it), or
 * nothing (resume from wake_ev, not from inside a write). The global count is read once. */
static void recheck_paused(struct conn *c)
{
    if (!c->read_paused || c->closed)
        return;
    const struct shuffled_config *cfg = server_config(c->srv);
    if (held_by_connection(c, cfg)) {
        c->waiting_global = false;
    } else if (over_limit(c, cfg)) {
        if (!c->waiting_global) {
            c->waiting_global = true;
            arm_timer(c);
        }
    } else {
        /* not timer_ev: an evtimer_add before it ran would cancel a timeout activation */
        event_active(c->wake_ev, EV_READ, 1);
    }
}

static void stop_reading(struct conn *c)
{
    c->read_paused = true;
    event_del(c->read_ev);
    event_add(c->hangup_ev, NULL);
}

static void pause_reading(struct conn *c)
{
    if (!c->read_paused) {
        c->waiting_global = false;
        stop_reading(c);
    }
    recheck_paused(c);
}

/* Keeps unprocessed input (it may already live in c->in) until reading resumes. */
static void keep_input(struct conn *c, const uint8_t *data, size_t len)
{
    if (c->in && data >= c->in && data <= c->in + c->in_len) {
        memmove(c->in, data, len);
        c->in_len = len;
        return;
    }
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
static void try_resume(struct conn *c)
{
    if (!c->read_paused || c->closed)
        return;
    const struct shuffled_config *cfg = server_config(c->srv);
    bool held = held_by_connection(c, cfg);
    c->waiting_global = !held && over_limit(c, cfg);
    if (held || c->waiting_global)
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

/* The client closed (or reset) the connection while we were not reading from it. */
static void hangup_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    (void)what;
    conn_close(c, "closed by the client");
}

/* Closes c from its wake event (see close_pending). */
static void close_later(struct conn *c, const char *reason)
{
    if (c->close_pending)
        return;
    c->close_pending = true;
    snprintf(c->close_reason, sizeof c->close_reason, "%s", reason);
    event_active(c->wake_ev, EV_READ, 1);
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    (void)what;
    if (c->close_pending) {
        conn_close(c, c->close_reason);
        return;
    }
    conn_ref(c);
    bool was_waiting = c->waiting_global;
    try_resume(c);
    if (!c->closed && c->read_paused && c->waiting_global && !was_waiting)
        arm_timer(c); /* found the global limit full after all: poll it */
    conn_unref(c);
}

/* A frame begun too long ago, or a phase past its deadline: closes c (true). */
static bool deadline_passed(struct conn *c)
{
    const struct shuffled_config *cfg = server_config(c->srv);
    uint64_t now = now_ms(c);
    if (c->frame_started_ms && cfg->frame_timeout_ms && !c->read_paused &&
        now - c->frame_started_ms >= cfg->frame_timeout_ms) {
        log_warn("%s: a frame begun %llu ms ago is still incomplete (frame_timeout_ms), closing",
                 c->peer, (unsigned long long)(now - c->frame_started_ms));
        metrics_inc(MC_FRAMES_TIMED_OUT);
        conn_close(c, NULL);
        return true;
    }
    if (c->phase_deadline_ms && now >= c->phase_deadline_ms) {
        log_warn("%s: %s, closing", c->peer, c->phase_deadline_reason);
        metrics_inc(MC_HANDSHAKES_TIMED_OUT);
        conn_close(c, NULL);
        return true;
    }
    return false;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    (void)what;
    conn_ref(c);
    try_resume(c);
    if (!c->closed && deadline_passed(c)) {
        conn_unref(c);
        return;
    }
    if (!c->closed) {
        uint64_t t = server_config(c->srv)->idle_timeout_ms;
        uint64_t unsent = c->q.unsent;
        bool idle = c->q.head == NULL && c->chunks_pending == 0 && unsent == 0;
        /* Output waiting while the client reads nothing is not work of ours: every write
         * refreshes last_activity_ms, so a client that stopped reading times out (as Netty's
         * all-idle does) instead of pinning its chunks and fds for good. */
        if (t != 0 && unsent > 0 && now_ms(c) - c->last_activity_ms >= t) {
            log_warn("%s: client read nothing for %llu ms (%llu bytes unsent), closing", c->peer,
                     (unsigned long long)t, (unsigned long long)unsent);
            conn_close(c, NULL);
        } else if (t != 0 && idle && now_ms(c) - c->last_activity_ms >= t) {
            log_debug("%s: idle for %llu ms, closing", c->peer, (unsigned long long)t);
            conn_close(c, NULL);
        } else {
            if (!idle && unsent == 0)
                c->last_activity_ms = now_ms(c); /* outstanding work is not idleness */
            arm_timer(c);
        }
    }
    conn_unref(c);
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
        if (must_pause(c)) {
            pause_reading(c);
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
        c->frame_started_ms = now_ms(c);
        arm_timer(c);
    } else if (!partial) {
        c->frame_started_ms = 0;
    }
    uint64_t held = c->dec.buf_cap + c->in_len + channel_memory(c->ch, false);
    conn_budget_charge(c, CONN_BUDGET_INPUT, (int64_t)held - (int64_t)c->budget[CONN_BUDGET_INPUT]);
    return conn_budget_shed(c, CONN_BUDGET_INPUT);
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    (void)what;
    conn_ref(c);
    c->last_activity_ms = now_ms(c);
    bool read_all = false; /* the reads per event ended it, not the socket or a limit */
    for (int i = 0; i < READS_PER_EVENT && !c->closed && !c->read_paused && !c->close_pending;
         i++) {
        ssize_t n = channel_read(c->ch, c->host.read_buf, c->host.read_buf_len);
        read_all = n > 0 && i == READS_PER_EVENT - 1;
        if (n > 0) {
            process(c, c->host.read_buf, (size_t)n);
            if (c->closed || account_input(c))
                break;
            if ((size_t)n < c->host.read_buf_len && channel_pending(c->ch) == 0)
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
    conn_unref(c);
}

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

static void close_later(struct conn *c, const char *reason);
static bool conn_budget_over(const struct conn *c, enum conn_budget kind);

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
    close_later(victim, "over max_output_bytes");
}

static void flush(struct conn *c)
{
    if (c->flushing || c->closed || c->close_pending)
        return;
    c->flushing = true;
    uint64_t before = c->q.written;
    enum reply_flush r = reply_queue_flush(&c->q, c->ch, slot_written, c);
    c->flushing = false;
    if (output_held(c) < c->budget[CONN_BUDGET_OUTPUT])
        account_output(c);
    if (c->q.written != before)
        c->last_activity_ms = now_ms(c);
    if (r == REPLY_FLUSH_ERROR) {
        char why[96];
        snprintf(why, sizeof why, "write failed: %s", strerror(errno));
        close_later(c, why);
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
            stop_reading(c);
        if (r == REPLY_FLUSH_IDLE) {
            close_later(c, "finished");
            return;
        }
    }
    recheck_paused(c);
}

static void write_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    (void)what;
    conn_ref(c);
    flush(c);
    conn_unref(c);
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
        c->last_activity_ms = now_ms(c); /* the stalled-reader clock starts with new output */
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
    flush(c);
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
    struct proto_writer w;
    proto_writer_init(&w);
    proto_msg_encode(&w, m);
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
    flush(c);
}

/* ---- upload bodies ---- */

void conn_take_body(struct conn *c, const struct conn_body_sink *sink)
{
    c->body_sink = *sink;
}

void conn_hold_input(struct conn *c, bool hold)
{
    c->input_held = hold;
    if (!hold && !c->closed)
        recheck_paused(c);
}

/* ---- life cycle ---- */

struct conn *conn_create(const struct conn_host *host, int fd, const char *peer,
                         struct conn_phase base)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->host = *host;
    c->srv = host->srv;
    c->refs = 1;
    c->phases[0] = base;
    c->nphases = 1;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    reply_queue_init(&c->q);
    c->ch = channel_plain_new(fd);
    c->read_ev = event_new(host->base, fd, EV_READ | EV_PERSIST, read_cb, c);
    c->write_ev = event_new(host->base, fd, EV_WRITE | EV_PERSIST, write_cb, c);
    c->hangup_ev = event_new(host->base, fd, EV_CLOSED | EV_PERSIST, hangup_cb, c);
    c->timer_ev = evtimer_new(host->base, timer_cb, c);
    c->wake_ev = event_new(host->base, -1, 0, wake_cb, c);
    if (!c->ch || !c->read_ev || !c->write_ev || !c->hangup_ev || !c->timer_ev || !c->wake_ev) {
        struct event *evs[] = {c->read_ev, c->write_ev, c->hangup_ev, c->timer_ev, c->wake_ev};
        for (size_t i = 0; i < sizeof evs / sizeof *evs; i++)
            if (evs[i])
                event_free(evs[i]);
        free(c->ch); /* not channel_destroy: the caller keeps fd */
        free(c);
        return NULL;
    }
    frame_decoder_init(&c->dec, server_config(c->srv)->max_frame_bytes);
    event_add(c->read_ev, NULL);
    c->last_activity_ms = now_ms(c);
    arm_timer(c);
    metrics_inc(MC_CONNECTIONS_ACCEPTED);
    return c;
}

void conn_ref(struct conn *c)
{
    c->refs++;
}

void conn_unref(struct conn *c)
{
    if (--c->refs == 0) {
        reply_queue_free(&c->q);
        free(c);
    }
}

void conn_close(struct conn *c, const char *reason)
{
    if (c->closed)
        return;
    c->closed = true;
    if (reason)
        log_debug("%s: connection closed: %s", c->peer, reason);
    event_free(c->read_ev);
    event_free(c->write_ev);
    event_free(c->hangup_ev);
    event_free(c->timer_ev);
    event_free(c->wake_ev);
    c->read_ev = c->write_ev = c->hangup_ev = c->timer_ev = c->wake_ev = NULL;
    if (c->q.corked)
        channel_cork(c->ch, false);
    channel_destroy(c->next_ch ? c->next_ch : c->ch); /* the new one wraps the old */
    c->ch = c->next_ch = NULL;
    frame_decoder_free(&c->dec);
    free(c->in);
    c->in = NULL;
    c->in_len = 0;
    /* Filled answers die with the socket; unfilled slots are detached (their fillers free
     * them); partial bodies go back to their producers. */
    reply_queue_close(&c->q);
    for (int k = 0; k < CONN_BUDGET_COUNT; k++) /* streams: released by their attachment */
        if (k != CONN_BUDGET_STREAMS)
            conn_budget_charge(c, (enum conn_budget)k, -(int64_t)c->budget[k]);
    atomic_fetch_sub(&c->srv->chunks_in_flight, c->chunks_pending);
    c->chunks_pending = 0;
    if (c->body_sink.on_abort) {
        struct conn_body_sink sink = c->body_sink;
        c->body_sink = (struct conn_body_sink){0};
        sink.on_abort(sink.ctx);
    }
    for (int k = 0; k < CONN_ATTACH_COUNT; k++) {
        if (c->attached[k].release)
            c->attached[k].release(c, c->attached[k].state);
        c->attached[k].state = NULL;
        c->attached[k].release = NULL;
    }
    free(c->client_id);
    c->client_id = NULL;
    if (c->host.on_closed)
        c->host.on_closed(c->host.ctx, c);
    conn_unref(c);
}

void conn_finish(struct conn *c)
{
    if (c->closed)
        return;
    c->no_more_requests = true;
    if (!c->read_paused)
        stop_reading(c);
    if (c->q.head == NULL && c->q.unsent == 0)
        conn_close(c, "finished");
}

bool conn_is_closed(const struct conn *c)
{
    return c->closed;
}

const char *conn_peer(const struct conn *c)
{
    return c->peer;
}

const char *conn_client_id(const struct conn *c)
{
    return c->client_id;
}

void conn_set_client_id(struct conn *c, const char *id)
{
    free(c->client_id);
    c->client_id = id ? strdup(id) : NULL;
}

struct server *conn_server(const struct conn *c)
{
    return c->srv;
}

struct worker *conn_worker(const struct conn *c)
{
    return c->host.worker;
}

struct conn_link *conn_link(struct conn *c)
{
    return &c->link;
}

int conn_push_phase(struct conn *c, struct conn_phase phase)
{
    if (c->nphases == MAX_PHASES)
        return -1;
    c->phases[c->nphases++] = phase;
    return 0;
}

void conn_pop_phase(struct conn *c)
{
    if (c->nphases > 1)
        c->nphases--;
}

void conn_pass_down(struct conn *c, const struct proto_msg *m)
{
    if (c->delivering == 0 || c->closed)
        return;
    c->delivering--;
    const struct conn_phase *p = &c->phases[c->delivering];
    p->on_msg(p->ctx, c, m);
}

void *conn_attachment(const struct conn *c, enum conn_attachment kind)
{
    return c->attached[kind].state;
}

void conn_attach(struct conn *c, enum conn_attachment kind, void *state,
                 void (*release)(struct conn *c, void *state))
{
    c->attached[kind].state = state;
    c->attached[kind].release = release;
}

/* ---- budgets ---- */

static uint64_t budget_limit(const struct shuffled_config *cfg, enum conn_budget kind)
{
    switch (kind) {
    case CONN_BUDGET_STREAMS:
        return cfg->max_stream_bytes;
    case CONN_BUDGET_INPUT:
        return cfg->max_input_bytes;
    default:
        return cfg->max_output_bytes;
    }
}

static const char *budget_key(enum conn_budget kind)
{
    return kind == CONN_BUDGET_STREAMS ? "max_stream_bytes"
           : kind == CONN_BUDGET_INPUT ? "max_input_bytes"
                                       : "max_output_bytes";
}

void conn_budget_charge(struct conn *c, enum conn_budget kind, int64_t delta)
{
    c->budget[kind] = (uint64_t)((int64_t)c->budget[kind] + delta);
    if (delta >= 0)
        atomic_fetch_add(&c->srv->budget_used[kind], (uint64_t)delta);
    else
        atomic_fetch_sub(&c->srv->budget_used[kind], (uint64_t)-delta);
}

uint64_t conn_budget_used(const struct conn *c, enum conn_budget kind)
{
    return c->budget[kind];
}

static bool conn_budget_over(const struct conn *c, enum conn_budget kind)
{
    return atomic_load(&c->srv->budget_used[kind]) > budget_limit(server_config(c->srv), kind);
}

bool conn_budget_shed(struct conn *c, enum conn_budget kind)
{
    if (!conn_budget_over(c, kind))
        return false;
    struct conn *victim = c->host.biggest ? c->host.biggest(c->host.ctx, kind) : c;
    if (!victim || victim->budget[kind] == 0)
        return false; /* the holders are on other loops: each sheds when it grows */
    log_warn("%s: holds %llu bytes while all connections hold %llu, more than %s (%llu): "
             "closing it",
             victim->peer, (unsigned long long)victim->budget[kind],
             (unsigned long long)atomic_load(&c->srv->budget_used[kind]), budget_key(kind),
             (unsigned long long)budget_limit(server_config(c->srv), kind));
    metrics_inc(kind == CONN_BUDGET_STREAMS ? MC_CLOSED_BY_STREAM_BUDGET
                                            : MC_CLOSED_BY_INPUT_BUDGET);
    bool self = victim == c;
    conn_close(victim, NULL);
    return self;
}

void conn_set_phase_deadline(struct conn *c, uint64_t ms_from_now, const char *reason)
{
    c->phase_deadline_ms = ms_from_now ? now_ms(c) + ms_from_now : 0;
    snprintf(c->phase_deadline_reason, sizeof c->phase_deadline_reason, "%s",
             reason ? reason : "phase timed out");
    if (!c->closed)
        arm_timer(c);
}

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

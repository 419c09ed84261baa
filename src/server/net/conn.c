#include "server/net/conn.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "server/net/auth.h"
#include "server/net/dispatch.h"
#include "server/ops/log.h"
#include "server/ops/metrics.h"
#include "server/server.h"
#include "server/stream/stream_manager_internal.h"
#include "server/net/worker.h"

/* How often a connection paused by max_chunks_in_flight looks again. */
#define GLOBAL_RETRY_MS 5

static uint64_t now_ms(struct conn *c)
{
    struct timeval tv;
    event_base_gettimeofday_cached(c->w->base, &tv);
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

void conn_resp_discard(struct resp *r)
{
    if (r->buf)
        evbuffer_free(r->buf);
    free(r);
}

static bool over_limit(const struct conn *c, const struct shuffled_config *cfg)
{
    uint64_t max = cfg->max_chunks_in_flight;
    return max != 0 && atomic_load(&c->srv->chunks_in_flight) >= max;
}

static bool must_pause(struct conn *c)
{
    const struct shuffled_config *cfg = server_config(c->srv);
    if (c->no_more_requests)
        return true;
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) > cfg->write_high_water)
        return true;
    if (c->chunks_pending >= cfg->max_chunks_per_connection)
        return true;
    if (c->rpc_pending > cfg->write_high_water)
        return true;
    return over_limit(c, cfg);
}

/* What keeps a paused connection paused, apart from the global limit. Each of these eases
 * only in out_cb or conn_resp_ready (on this connection's thread), which then recheck. */
static bool held_by_connection(struct conn *c, const struct shuffled_config *cfg)
{
    return c->no_more_requests ||
           evbuffer_get_length(bufferevent_get_output(c->bev)) > cfg->write_low_water ||
           c->chunks_pending >= cfg->max_chunks_per_connection ||
           c->rpc_pending > cfg->write_low_water;
}

static void arm_timer(struct conn *c)
{
    uint64_t ms, t = server_config(c->srv)->idle_timeout_ms;
    if (c->read_paused && c->waiting_global) {
        ms = GLOBAL_RETRY_MS;
    } else if (t != 0) {
        uint64_t idle = now_ms(c) - c->last_activity_ms;
        ms = idle < t ? t - idle : t;
    } else {
        return;
    }
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(c->timer_ev, &tv);
}

/* Decides what wakes a paused connection. Held by its own state: the event that eases it calls
 * this again. Held only by max_chunks_in_flight, which other threads ease: the timer looks
 * again every GLOBAL_RETRY_MS. Held by nothing: resume (from wake_ev's callback, not from
 * inside an output callback). The global count is read once, so a change between two reads
 * cannot leave the connection with no one to wake it. */
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

static void pause_reading(struct conn *c)
{
    if (!c->read_paused) {
        c->read_paused = true;
        c->waiting_global = false;
        bufferevent_disable(c->bev, EV_READ);
    }
    recheck_paused(c);
}

/* Decodes and dispatches buffered input until it runs out or a limit says stop. */
static void process_input(struct conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    conn_ref(c);
    while (!c->closed) {
        if (must_pause(c)) {
            pause_reading(c);
            break;
        }
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
            break;
        const uint8_t *p = v.iov_base;
        size_t len = v.iov_len;
        struct frame_out out;
        enum frame_event ev = frame_decoder_next(&c->dec, &p, &len, &out);
        size_t consumed = v.iov_len - len;
        if (ev == FRAME_ERROR) {
            log_warn("%s: bad frame, closing the connection: %s", c->peer, c->dec.error);
            metrics_inc(MC_CAUGHT_EXCEPTIONS);
            conn_close(c, NULL);
            break;
        }
        if (ev == FRAME_MESSAGE)
            dispatch_frame(c, out.type, out.content, out.content_len);
        /* FRAME_RAW: after-frame bytes of an UploadStream (we are closing) or of a
         * StreamResponse a client sent us: nothing to do with them. */
        if (!c->closed)
            evbuffer_drain(in, consumed);
    }
    conn_unref(c);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    (void)bev;
    c->last_activity_ms = now_ms(c);
    process_input(c);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    (void)bev;
    /* the output is empty: send what the cork held back */
    if (c->corked) {
        int off = 0;
        setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_CORK, &off, sizeof off);
        c->corked = false;
    }
    if (c->no_more_requests && c->q_head == NULL)
        conn_close(c, "finished");
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;
    (void)bev;
    if (what & BEV_EVENT_EOF) {
        conn_close(c, "closed by the client");
    } else if (what & BEV_EVENT_ERROR) {
        char why[96];
        snprintf(why, sizeof why, "socket error: %s",
                 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        metrics_inc(MC_CAUGHT_EXCEPTIONS);
        conn_close(c, why);
    }
}

/* Output accounting: chunk answers leave the output in order, so a ring of their end offsets
 * tells in O(1) when each one has been written. */
static void out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct conn *c = arg;
    if (info->n_deleted == 0)
        return;
    c->out_sent += info->n_deleted;
    c->last_activity_ms = now_ms(c);
    while (c->ring_len && c->ring[c->ring_start] <= c->out_sent) {
        c->ring_start = (c->ring_start + 1) % c->ring_cap;
        c->ring_len--;
        c->chunks_pending--;
        atomic_fetch_sub(&c->srv->chunks_in_flight, 1);
    }
    struct resp *h = c->q_head;
    if (h && h->partial && h->ready && evbuffer_get_length(buf) <= RESP_PART_LOW_BYTES)
        h->on_output(c, h, false);
    recheck_paused(c);
}

/* Resumes reading when nothing holds the connection any more. */
static void try_resume(struct conn *c)
{
    if (!c->read_paused || c->closed)
        return;
    const struct shuffled_config *cfg = server_config(c->srv);
    bool held = held_by_connection(c, cfg);
    c->waiting_global = !held && over_limit(c, cfg);
    if (!held && !c->waiting_global) {
        c->read_paused = false;
        bufferevent_enable(c->bev, EV_READ);
        process_input(c);
    }
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    (void)what;
    conn_ref(c);
    bool was_waiting = c->waiting_global;
    try_resume(c);
    if (!c->closed && c->read_paused && c->waiting_global && !was_waiting)
        arm_timer(c); /* found the global limit full after all: poll it */
    conn_unref(c);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    (void)what;
    conn_ref(c);
    try_resume(c);
    if (!c->closed) {
        uint64_t t = server_config(c->srv)->idle_timeout_ms;
        size_t unsent = evbuffer_get_length(bufferevent_get_output(c->bev));
        bool idle = c->q_head == NULL && c->chunks_pending == 0 && unsent == 0;
        /* Output waiting while the client reads nothing is not work of ours: out_cb refreshes
         * last_activity_ms on every byte that leaves, so a client that stopped reading times
         * out (as Netty's all-idle does) instead of pinning its chunks and fds for good. */
        if (t != 0 && unsent > 0 && now_ms(c) - c->last_activity_ms >= t) {
            log_warn("%s: client read nothing for %llu ms (%zu bytes unsent), closing", c->peer,
                     (unsigned long long)t, unsent);
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

struct conn *conn_create(struct worker *w, int fd, const char *peer)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->w = w;
    c->srv = w->srv;
    c->refs = 1;
    c->auth_pending = c->srv->auth != NULL;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    c->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
    c->timer_ev = evtimer_new(w->base, timer_cb, c);
    c->wake_ev = event_new(w->base, -1, 0, wake_cb, c);
    if (!c->bev || !c->timer_ev || !c->wake_ev) {
        if (c->bev)
            bufferevent_free(c->bev);
        if (c->timer_ev)
            event_free(c->timer_ev);
        if (c->wake_ev)
            event_free(c->wake_ev);
        free(c);
        return NULL;
    }
    frame_decoder_init(&c->dec, server_config(c->srv)->max_frame_bytes);
    bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
    evbuffer_add_cb(bufferevent_get_output(c->bev), out_cb, c);
    bufferevent_enable(c->bev, EV_READ);
    c->last_activity_ms = now_ms(c);
    arm_timer(c);
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    w->nconns++;
    metrics_inc(MC_CONNECTIONS_ACCEPTED);
    return c;
}

void conn_ref(struct conn *c)
{
    c->refs++;
}

void conn_unref(struct conn *c)
{
    if (--c->refs == 0)
        free(c);
}

void conn_close(struct conn *c, const char *reason)
{
    if (c->closed)
        return;
    c->closed = true;
    if (reason)
        log_debug("%s: connection closed: %s", c->peer, reason);
    evbuffer_remove_cb(bufferevent_get_output(c->bev), out_cb, c);
    bufferevent_free(c->bev);
    c->bev = NULL;
    event_free(c->timer_ev);
    c->timer_ev = NULL;
    event_free(c->wake_ev);
    c->wake_ev = NULL;
    frame_decoder_free(&c->dec);
    /* Ready answers die with the socket; a slot still being produced belongs to its producer,
     * which sees c->closed and frees it. */
    struct resp *r = c->q_head;
    while (r) {
        struct resp *next = r->next;
        r->next = NULL;
        if (r->partial)
            r->on_output(c, r, true);
        else if (r->ready)
            conn_resp_discard(r);
        r = next;
    }
    c->q_head = c->q_tail = NULL;
    stream_manager_conn_closed(c);
    atomic_fetch_sub(&c->srv->chunks_in_flight, c->chunks_pending);
    c->chunks_pending = 0;
    free(c->ring);
    c->ring = NULL;
    c->ring_len = 0;
    free(c->client_id);
    c->client_id = NULL;
    if (c->auth) {
        auth_conn_free(c->auth);
        c->auth = NULL;
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        c->w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->w->nconns--;
    atomic_fetch_sub(&c->srv->conns, 1);
    worker_conn_closed(c->w);
    conn_unref(c);
}

void conn_finish(struct conn *c)
{
    if (c->closed)
        return;
    c->no_more_requests = true;
    if (!c->read_paused) {
        c->read_paused = true;
        bufferevent_disable(c->bev, EV_READ);
    }
    if (c->q_head == NULL && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        conn_close(c, "finished");
}

void conn_resp_charge_rpc(struct conn *c, struct resp *r, size_t len)
{
    /* a fixed part for the slot and the reply, so empty requests count too */
    r->rpc_cost = (uint32_t)(len < UINT32_MAX - 256 ? len + 256 : UINT32_MAX);
    c->rpc_pending += r->rpc_cost;
}

struct resp *conn_resp_reserve(struct conn *c, bool is_chunk)
{
    struct resp *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->is_chunk = is_chunk;
    if (c->q_tail)
        c->q_tail->next = r;
    else
        c->q_head = r;
    c->q_tail = r;
    return r;
}

static int ring_push(struct conn *c, uint64_t end)
{
    if (c->ring_len == c->ring_cap) {
        uint32_t ncap = c->ring_cap ? c->ring_cap * 2 : 16;
        uint64_t *nr = malloc(ncap * sizeof *nr);
        if (!nr)
            return -1;
        for (uint32_t i = 0; i < c->ring_len; i++)
            nr[i] = c->ring[(c->ring_start + i) % c->ring_cap];
        free(c->ring);
        c->ring = nr;
        c->ring_cap = ncap;
        c->ring_start = 0;
    }
    c->ring[(c->ring_start + c->ring_len) % c->ring_cap] = end;
    c->ring_len++;
    return 0;
}

/* Moves every ready answer at the head of the queue into the output; a partial answer gives
 * what it has and keeps the head until its last part. */
static void flush_ready(struct conn *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    bool finish = false;
    if (evbuffer_get_length(out) == 0)
        c->last_activity_ms = now_ms(c); /* the stalled-reader clock starts with new output */
    while (c->q_head && c->q_head->ready) {
        struct resp *h = c->q_head;
        size_t len = h->buf ? evbuffer_get_length(h->buf) : 0;
        if (h->buf && evbuffer_add_buffer(out, h->buf) != 0) {
            conn_close(c, "out of memory queueing a response");
            return;
        }
        c->out_added += len;
        if (h->partial)
            break;
        c->q_head = h->next;
        if (!c->q_head)
            c->q_tail = NULL;
        if (h->is_chunk && ring_push(c, c->out_added) != 0) {
            conn_resp_discard(h);
            conn_close(c, "out of memory");
            return;
        }
        finish |= h->close_after;
        if (h->small_file && !c->corked) {
            /* a header is written, then its small body by sendfile: cork so that they (and the
             * next answers) share packets; write_cb uncorks once the output is empty */
            int on = 1;
            if (setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_CORK, &on, sizeof on) == 0)
                c->corked = true;
        }
        conn_resp_discard(h);
    }
    if (finish)
        conn_finish(c);
}

void conn_resp_ready(struct conn *c, struct resp *r)
{
    if (c->closed) { /* the slot was detached when the connection closed */
        conn_resp_discard(r);
        return;
    }
    r->ready = true;
    if (r->rpc_cost) {
        c->rpc_pending -= r->rpc_cost;
        r->rpc_cost = 0;
        recheck_paused(c);
    }
    flush_ready(c);
}

void conn_resp_more(struct conn *c, struct resp *r, bool last)
{
    if (last)
        r->partial = false;
    if (!c->closed && r->ready && c->q_head == r)
        flush_ready(c);
}

void conn_resp_msg(struct conn *c, struct resp *r, const struct proto_msg *m)
{
    struct proto_writer w;
    proto_writer_init(&w);
    proto_msg_encode(&w, m);
    if (!r->buf)
        r->buf = evbuffer_new();
    if (w.failed || !r->buf || evbuffer_add(r->buf, w.buf, w.len) != 0) {
        proto_writer_free(&w);
        log_error("%s: cannot encode a %s reply (out of memory)", c->peer,
                  proto_msg_type_name(m->type));
        if (!c->closed)
            conn_close(c, NULL);
        conn_resp_discard(r);
        return;
    }
    proto_writer_free(&w);
    conn_resp_ready(c, r);
}

void conn_chunk_accepted(struct conn *c)
{
    c->chunks_pending++;
    atomic_fetch_add(&c->srv->chunks_in_flight, 1);
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

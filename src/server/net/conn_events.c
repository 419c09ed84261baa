/* SPDX-License-Identifier: Apache-2.0 */
/* A connection on its loop: conn_create and the events it sets up (read: conn_read.c, write,
 * hang-up, the timer and the wake-up). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "server/net/channel.h"
#include "server/net/conn_state.h"
#include "server/ops/metrics.h"
#include "server/server.h"

/* The client closed (or reset) the connection while we were not reading from it. */
static void hangup_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    (void)what;
    conn_close(c, "closed by the client");
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
    conn_try_resume(c);
    if (!c->closed && c->read_paused && c->waiting_global && !was_waiting)
        conn_arm_timer(c); /* found the global limit full after all: poll it */
    conn_unref(c);
}

/* A frame begun too long ago, or a phase past its deadline: closes c (true). */
static bool deadline_passed(struct conn *c)
{
    const struct shuffled_config *cfg = server_config(c->srv);
    uint64_t now = conn_now_ms(c);
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
    conn_try_resume(c);
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
        if (t != 0 && unsent > 0 && conn_now_ms(c) - c->last_activity_ms >= t) {
            log_warn("%s: client read nothing for %llu ms (%llu bytes unsent), closing", c->peer,
                     (unsigned long long)t, (unsigned long long)unsent);
            conn_close(c, NULL);
        } else if (t != 0 && idle && conn_now_ms(c) - c->last_activity_ms >= t) {
            log_debug("%s: idle for %llu ms, closing", c->peer, (unsigned long long)t);
            conn_close(c, NULL);
        } else {
            if (!idle && unsent == 0)
                c->last_activity_ms = conn_now_ms(c); /* outstanding work is not idleness */
            conn_arm_timer(c);
        }
    }
    conn_unref(c);
}

static void write_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    (void)what;
    conn_ref(c);
    conn_flush(c);
    conn_unref(c);
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
    c->read_ev = event_new(host->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
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
    c->last_activity_ms = conn_now_ms(c);
    conn_arm_timer(c);
    metrics_inc(MC_CONNECTIONS_ACCEPTED);
    return c;
}

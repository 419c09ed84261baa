/* SPDX-License-Identifier: Apache-2.0 */
/* The connection core's bottom (see conn.h; conn_state.h lists the other files): close and
 * references, accessors, phases, attachments, the output hooks and the memory budgets. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "server/net/channel.h"
#include "server/net/conn_state.h"
#include "server/ops/metrics.h"
#include "server/server.h"

void conn_stop_reading(struct conn *c)
{
    c->read_paused = true;
    event_del(c->read_ev);
    event_add(c->hangup_ev, NULL);
}

/* Closes c from its wake event (see close_pending). */
void conn_close_later(struct conn *c, const char *reason)
{
    if (c->close_pending)
        return;
    c->close_pending = true;
    snprintf(c->close_reason, sizeof c->close_reason, "%s", reason);
    event_active(c->wake_ev, EV_READ, 1);
}

/* ---- life cycle ---- */

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
        conn_stop_reading(c);
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

/* ---- output hooks ---- */

struct conn_output_hooks conn_output_hooks;

void conn_set_output_hooks(const struct conn_output_hooks *hooks)
{
    conn_output_hooks = *hooks;
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

bool conn_budget_over(const struct conn *c, enum conn_budget kind)
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

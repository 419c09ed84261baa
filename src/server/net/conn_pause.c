/* SPDX-License-Identifier: Apache-2.0 */
/* The connection's flow control: when reading must pause (the watermarks and limits) and
 * what wakes a paused connection. Both the read path (conn_read.c) and the write path
 * (conn_write.c), whose progress eases the limits, call it. */
#include <config.h>

#include "server/net/conn_state.h"
#include "server/server.h"

static bool over_limit(const struct conn *c, const struct shuffled_config *cfg)
{
    uint64_t max = cfg->max_chunks_in_flight;
    return max != 0 && atomic_load(&c->srv->chunks_in_flight) >= max;
}

bool conn_must_pause(struct conn *c)
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

/* Decides what wakes a paused connection: its own state (the event that eases it calls this
 * again), the global limit (polled every GLOBAL_RETRY_MS, since other threads ease it), or
 * nothing (resume from wake_ev, not from inside a write). The global count is read once. */
void conn_recheck_paused(struct conn *c)
{
    if (!c->read_paused || c->closed)
        return;
    const struct shuffled_config *cfg = server_config(c->srv);
    if (held_by_connection(c, cfg)) {
        c->waiting_global = false;
    } else if (over_limit(c, cfg)) {
        if (!c->waiting_global) {
            c->waiting_global = true;
            conn_arm_timer(c);
        }
    } else {
        /* not timer_ev: an evtimer_add before it ran would cancel a timeout activation */
        event_active(c->wake_ev, EV_READ, 1);
    }
}

void conn_pause_reading(struct conn *c)
{
    if (!c->read_paused) {
        c->waiting_global = false;
        conn_stop_reading(c);
    }
    conn_recheck_paused(c);
}

bool conn_still_held(struct conn *c)
{
    const struct shuffled_config *cfg = server_config(c->srv);
    bool held = held_by_connection(c, cfg);
    c->waiting_global = !held && over_limit(c, cfg);
    return held || c->waiting_global;
}

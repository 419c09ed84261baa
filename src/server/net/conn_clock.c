/* SPDX-License-Identifier: Apache-2.0 */
/* The connection's one timer (timer_ev): when it must fire next. What it does when it fires
 * is in conn_events.c. */
#include <config.h>

#include <stdio.h>

#include "server/net/conn_state.h"
#include "server/server.h"

/* ms from now until deadline (at least 1), or UINT64_MAX for none */
static uint64_t until(uint64_t now, uint64_t deadline)
{
    if (deadline == 0)
        return UINT64_MAX;
    return deadline > now ? deadline - now : 1;
}

void conn_arm_timer(struct conn *c)
{
    const struct shuffled_config *cfg = server_config(c->srv);
    uint64_t now = conn_now_ms(c), t = cfg->idle_timeout_ms, ms = UINT64_MAX;
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

void conn_set_phase_deadline(struct conn *c, uint64_t ms_from_now, const char *reason)
{
    c->phase_deadline_ms = ms_from_now ? conn_now_ms(c) + ms_from_now : 0;
    snprintf(c->phase_deadline_reason, sizeof c->phase_deadline_reason, "%s",
             reason ? reason : "phase timed out");
    if (!c->closed)
        conn_arm_timer(c);
}

static _Thread_local uint64_t loop_turn; /* this thread's: see conn_loop_turn */

void conn_loop_turn_next(void)
{
    loop_turn++;
}

uint64_t conn_loop_turn(void)
{
    return loop_turn;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the connection core (conn_*.c): the struct behind conn.h and the calls its files
 * make to each other. Nothing outside src/server/net/conn_*.c includes this.
 *
 * The files, from the bottom: conn_state.c (close, references, accessors, phases, attachments,
 * the output hooks, budgets), conn_clock.c (the one timer's deadline), conn_pause.c (when
 * reading pauses and what wakes it), conn_write.c (answers, flushing, the channel switch),
 * conn_read.c (reading, decoding, resuming; flushes the answers its input produced),
 * conn_events.c (create: the loop's events and what they do). Each calls only the files below
 * it (scripts/check-layers). */
#ifndef SHUFFLED_SERVER_NET_CONN_STATE_H
#define SHUFFLED_SERVER_NET_CONN_STATE_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

#include "proto/frame.h"
#include "server/net/conn.h"

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
    unsigned input_held;             /* conn_hold_input: holds not yet released */
    /* Small answers filled while the read callback runs are written together at its end
     * (one send for the answers of every request that input held, not one each). */
    bool in_read_cb;
    bool flush_deferred;
};

static inline uint64_t conn_now_ms(struct conn *c)
{
    struct timeval tv;
    event_base_gettimeofday_cached(c->host.base, &tv);
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

/* conn_state.c */
void conn_stop_reading(struct conn *c);
/* Closes c from its wake event (see close_pending). */
void conn_close_later(struct conn *c, const char *reason);
bool conn_budget_over(const struct conn *c, enum conn_budget kind);
extern struct conn_output_hooks conn_output_hooks; /* conn_set_output_hooks */

/* conn_clock.c: (re)arms timer_ev for the nearest of the idle timeout, the partial frame's
 * timeout, the phase deadline and the max_chunks_in_flight poll. */
void conn_arm_timer(struct conn *c);

/* conn_pause.c */
/* Whether reading must pause now (over a high watermark or a limit). */
bool conn_must_pause(struct conn *c);
/* Stops reading (if it was not stopped already) and decides what wakes c. */
void conn_pause_reading(struct conn *c);
void conn_recheck_paused(struct conn *c);
/* Whether a paused c must stay paused: held by its own state (over a low watermark), or by
 * the global limit only (then waiting_global is set). */
bool conn_still_held(struct conn *c);

/* conn_write.c: writes what the queue holds, then settles the write event and pausing. */
void conn_flush(struct conn *c);

/* conn_read.c */
void conn_read_cb(evutil_socket_t fd, short what, void *arg);
void conn_try_resume(struct conn *c);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Whether pushed blocks may be written on the event loop right now. A buffered write into a
 * file we own is normally a copy into the page cache, as cheap as handing the block to a
 * thread; but the kernel may make the writer sleep (dirty pages throttled, the filesystem's
 * journal full). A loop write that slept for longer than max_usec turns loop writes off, on
 * every loop, for pause_usec after it ended; a slow write that did not sleep (the thread was
 * preempted on a busy machine) says nothing about the disk and does not count.
 *
 * The clock is the caller's (any monotonic microseconds), so the decision is testable
 * without a slow disk. Thread-safe: loops share one guard. */
#ifndef SHUFFLED_SERVER_PUSH_LOOP_WRITE_GUARD_H
#define SHUFFLED_SERVER_PUSH_LOOP_WRITE_GUARD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* The daemon's: a write that slept over 2 ms sends writes to the blocking pool for 1 s. */
#define LOOP_WRITE_GUARD_MAX_USEC 2000u
#define LOOP_WRITE_GUARD_PAUSE_USEC 1000000u

struct loop_write_guard {
    uint64_t max_usec;   /* a write that slept longer turns loop writes off */
    uint64_t pause_usec; /* for this long after it ended */
    _Atomic uint64_t off_until_usec;
};

void loop_write_guard_init(struct loop_write_guard *g, uint64_t max_usec, uint64_t pause_usec);

/* May a block be written on the loop at now_usec? */
bool loop_write_guard_allows(struct loop_write_guard *g, uint64_t now_usec);

/* A loop write ran from started_usec to ended_usec; slept: its thread waited meanwhile (a
 * voluntary context switch). True when this write turned loop writes off (the caller logs). */
bool loop_write_guard_note(struct loop_write_guard *g, uint64_t started_usec, uint64_t ended_usec,
                           bool slept);

/* Whether a loop write slept, counted once per loop turn instead of before every write: the
 * thread's voluntary context switches (a system call) are counted at the first loop write of
 * a turn, and again after a write only when it was slow. A switch since that count means the
 * thread slept in this turn's writes (or the locks they take); the loop's own wait (between
 * turns) never counts, as each turn counts afresh. One per loop thread. */
struct loop_write_probe {
    uint64_t turn; /* the loop turn of the count; 0: none */
    long switches; /* the thread's voluntary context switches then */
};

/* Before a loop write in turn (conn_loop_turn: distinct per loop turn, 0 if unknown):
 * counts the thread's switches with count_switches unless this turn already did. */
void loop_write_probe_begin(struct loop_write_probe *p, uint64_t turn,
                            long (*count_switches)(void));

/* After a slow loop write: did the thread sleep since the turn's count? Counts again. */
bool loop_write_probe_slept(const struct loop_write_probe *p, long (*count_switches)(void));

#endif

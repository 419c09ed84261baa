/* SPDX-License-Identifier: Apache-2.0 */
/* The loop-write guard (loop_write_guard.c) with a clock of the test's own: a loop write that
 * slept past the limit sends writes to the pool for the pause after it ended, on every loop;
 * a slow write that did not sleep (preempted) or a quick one that slept changes nothing; a
 * later, longer pause is never shortened by an earlier one. Whether a write slept is counted
 * once per loop turn (the probe), never across the loop's wait between turns. */
#include <config.h>

#include "server/push/loop_write_guard.h"
#include "../check_main.h"

#define MAX 2000u
#define PAUSE 1000000u
#define T0 5000000u /* an arbitrary start on the test's clock */

START_TEST(test_allows_at_first)
{
    struct loop_write_guard g;
    loop_write_guard_init(&g, MAX, PAUSE);
    ck_assert(loop_write_guard_allows(&g, 0));
    ck_assert(loop_write_guard_allows(&g, T0));
}
END_TEST

START_TEST(test_slow_sleeping_write_pauses_loop_writes)
{
    struct loop_write_guard g;
    loop_write_guard_init(&g, MAX, PAUSE);
    uint64_t end = T0 + MAX + 1;
    ck_assert(loop_write_guard_note(&g, T0, end, true));
    ck_assert(!loop_write_guard_allows(&g, end));
    ck_assert(!loop_write_guard_allows(&g, end + PAUSE - 1));
    ck_assert(loop_write_guard_allows(&g, end + PAUSE)); /* the pause is over */
}
END_TEST

START_TEST(test_preempted_or_quick_writes_do_not_count)
{
    struct loop_write_guard g;
    loop_write_guard_init(&g, MAX, PAUSE);
    /* slow but never slept: the machine is busy, not the disk */
    ck_assert(!loop_write_guard_note(&g, T0, T0 + 50 * MAX, false));
    ck_assert(loop_write_guard_allows(&g, T0 + 50 * MAX));
    /* slept, but exactly the limit: not over it */
    ck_assert(!loop_write_guard_note(&g, T0, T0 + MAX, true));
    ck_assert(loop_write_guard_allows(&g, T0 + MAX));
    /* a clock that went backwards is no slow write */
    ck_assert(!loop_write_guard_note(&g, T0 + MAX * 10, T0, true));
    ck_assert(loop_write_guard_allows(&g, T0 + 1));
}
END_TEST

START_TEST(test_later_pause_is_kept)
{
    struct loop_write_guard g;
    loop_write_guard_init(&g, MAX, PAUSE);
    uint64_t late_end = T0 + 10 * MAX;
    ck_assert(loop_write_guard_note(&g, T0, late_end, true));
    /* another loop reports an earlier slow write afterwards: the later end stands */
    ck_assert(loop_write_guard_note(&g, T0 - 5 * MAX, T0 - 2 * MAX, true));
    ck_assert(!loop_write_guard_allows(&g, late_end + PAUSE - 1));
    ck_assert(loop_write_guard_allows(&g, late_end + PAUSE));
}
END_TEST

/* The thread's voluntary switches as the test sets them, and how often they were counted. */
static long fake_switches;
static int fake_counts;

static long count_fake_switches(void)
{
    fake_counts++;
    return fake_switches;
}

START_TEST(test_probe_counts_once_per_turn)
{
    struct loop_write_probe p = {0};
    fake_switches = 7;
    fake_counts = 0;
    loop_write_probe_begin(&p, 100, count_fake_switches);
    loop_write_probe_begin(&p, 100, count_fake_switches); /* a second write in that turn */
    loop_write_probe_begin(&p, 100, count_fake_switches);
    ck_assert_int_eq(fake_counts, 1);
    loop_write_probe_begin(&p, 101, count_fake_switches); /* the next turn counts afresh */
    ck_assert_int_eq(fake_counts, 2);
}
END_TEST

START_TEST(test_probe_sees_a_sleep_in_the_turns_writes)
{
    struct loop_write_probe p = {0};
    fake_switches = 7;
    loop_write_probe_begin(&p, 100, count_fake_switches);
    ck_assert(!loop_write_probe_slept(&p, count_fake_switches)); /* a slow write, preempted */
    fake_switches++;                                             /* the pwrite slept */
    ck_assert(loop_write_probe_slept(&p, count_fake_switches));
    /* a later write of the same turn still compares with the turn's count */
    loop_write_probe_begin(&p, 100, count_fake_switches);
    ck_assert(loop_write_probe_slept(&p, count_fake_switches));
}
END_TEST

START_TEST(test_probe_ignores_the_loops_wait)
{
    struct loop_write_probe p = {0};
    fake_switches = 7;
    loop_write_probe_begin(&p, 100, count_fake_switches);
    fake_switches += 3; /* the loop slept in epoll_wait between its turns */
    loop_write_probe_begin(&p, 250, count_fake_switches);
    ck_assert(!loop_write_probe_slept(&p, count_fake_switches)); /* slow, but never slept */
}
END_TEST

START_TEST(test_probe_without_turns_counts_every_write)
{
    struct loop_write_probe p = {0};
    fake_switches = 7;
    fake_counts = 0;
    loop_write_probe_begin(&p, 0, count_fake_switches); /* a thread that counts no turns */
    fake_switches++;
    loop_write_probe_begin(&p, 0, count_fake_switches);
    ck_assert_int_eq(fake_counts, 2);
    ck_assert(!loop_write_probe_slept(&p, count_fake_switches)); /* counted just before */
}
END_TEST

CHECK_MAIN((.suite = "loop_write_guard", .name = "guard"), test_allows_at_first,
           test_slow_sleeping_write_pauses_loop_writes, test_preempted_or_quick_writes_do_not_count,
           test_later_pause_is_kept, test_probe_counts_once_per_turn,
           test_probe_sees_a_sleep_in_the_turns_writes, test_probe_ignores_the_loops_wait,
           test_probe_without_turns_counts_every_write)

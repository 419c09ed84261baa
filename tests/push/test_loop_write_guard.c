/* SPDX-License-Identifier: Apache-2.0 */
/* The loop-write guard (loop_write_guard.c) with a clock of the test's own: a loop write that
 * slept past the limit sends writes to the pool for the pause after it ended, on every loop;
 * a slow write that did not sleep (preempted) or a quick one that slept changes nothing; a
 * later, longer pause is never shortened by an earlier one. */
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

CHECK_MAIN((.suite = "loop_write_guard", .name = "guard"), test_allows_at_first,
           test_slow_sleeping_write_pauses_loop_writes, test_preempted_or_quick_writes_do_not_count,
           test_later_pause_is_kept)

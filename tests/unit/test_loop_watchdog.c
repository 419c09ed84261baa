/* SPDX-License-Identifier: Apache-2.0 */
/* The loop watchdog pings only while every loop runs its heartbeats: a loop that stops
 * running posted work (stuck) stops the pings until it runs again. */
#include <config.h>

#include <check.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdlib.h>

#include "server/ops/loop_watchdog.h"
#include "../check_main.h"

#define NLOOPS 3
#define MAXQ 8

/* Fake loops: posted work waits in a queue per loop until the test runs it. */
struct fake_loops {
    struct {
        void (*fn)(void *);
        void *arg;
    } q[NLOOPS][MAXQ];
    int n[NLOOPS];
    bool run_inline;
};

static void fake_post(void *loops, int i, void (*fn)(void *), void *arg)
{
    struct fake_loops *f = loops;
    if (f->run_inline) {
        fn(arg);
        return;
    }
    ck_assert_int_lt(f->n[i], MAXQ);
    f->q[i][f->n[i]].fn = fn;
    f->q[i][f->n[i]++].arg = arg;
}

static void run_loop(struct fake_loops *f, int i)
{
    for (int k = 0; k < f->n[i]; k++)
        f->q[i][k].fn(f->q[i][k].arg);
    f->n[i] = 0;
}

static int late_reports, last_late = -2;

static void count_ping(void *ctx, int late_loop)
{
    if (late_loop < 0) {
        (*(int *)ctx)++;
    } else {
        late_reports++;
        last_late = late_loop;
    }
}

START_TEST(pings_while_all_loops_run)
{
    struct fake_loops f = {0};
    int pings = 0;
    struct loop_watchdog *wd =
        loop_watchdog_create(NULL, 0, NLOOPS, fake_post, &f, count_ping, &pings);
    ck_assert_ptr_nonnull(wd);
    ck_assert_int_eq(loop_watchdog_tick(wd), 1);
    ck_assert_int_eq(pings, 1);
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < NLOOPS; i++) {
            ck_assert_int_eq(f.n[i], 1); /* one heartbeat posted to each loop */
            run_loop(&f, i);
        }
        ck_assert_int_eq(loop_watchdog_tick(wd), 1);
    }
    ck_assert_int_eq(pings, 6);
    loop_watchdog_free(wd);
}
END_TEST

START_TEST(stuck_loop_stops_pings)
{
    struct fake_loops f = {0};
    int pings = 0;
    struct loop_watchdog *wd =
        loop_watchdog_create(NULL, 0, NLOOPS, fake_post, &f, count_ping, &pings);
    ck_assert_int_eq(loop_watchdog_tick(wd), 1);
    run_loop(&f, 0);
    run_loop(&f, 2); /* loop 1 is stuck */
    late_reports = 0;
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq(loop_watchdog_tick(wd), 0);
    ck_assert_int_eq(pings, 1);
    ck_assert_int_eq(late_reports, 4);
    ck_assert_int_eq(last_late, 1); /* names the stuck loop */
    /* no heartbeats pile up on the stuck loop, none are posted to the others meanwhile */
    ck_assert_int_eq(f.n[1], 1);
    ck_assert_int_eq(f.n[0], 0);
    run_loop(&f, 1); /* it recovers */
    ck_assert_int_eq(loop_watchdog_tick(wd), 1);
    ck_assert_int_eq(pings, 2);
    /* the next round needs every loop again: loop 2 has not run it yet */
    run_loop(&f, 0);
    run_loop(&f, 1);
    ck_assert_int_eq(loop_watchdog_tick(wd), 0);
    loop_watchdog_free(wd);
}
END_TEST

START_TEST(timer_ticks_on_the_main_loop)
{
    struct event_base *base = event_base_new();
    struct fake_loops f = {.run_inline = true};
    int pings = 0;
    struct loop_watchdog *wd =
        loop_watchdog_create(base, 1000, NLOOPS, fake_post, &f, count_ping, &pings);
    ck_assert_ptr_nonnull(wd);
    for (int k = 0; k < 3; k++)
        event_base_loop(base, EVLOOP_ONCE);
    ck_assert_int_eq(pings, 3);
    loop_watchdog_stop(wd);
    ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 1); /* nothing armed anymore */
    ck_assert_int_eq(pings, 3);
    loop_watchdog_free(wd);
    event_base_free(base);
}
END_TEST

CHECK_MAIN((.suite = "loop_watchdog", .name = "core"), pings_while_all_loops_run,
           stuck_loop_stops_pings, timer_ticks_on_the_main_loop)

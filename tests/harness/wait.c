/* SPDX-License-Identifier: Apache-2.0 */
/* See wait.h. */
#include <config.h>

#include "wait.h"

#include <errno.h>
#include <time.h>

void harness_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool harness_wait_until(bool (*done)(void *arg), void *arg, long timeout_ms, long interval_ms)
{
    long deadline = now_ms() + timeout_ms;
    while (now_ms() < deadline) {
        if (done(arg))
            return true;
        harness_sleep_ms(interval_ms);
    }
    return done(arg);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* See loop_write_guard.h. */
#include <config.h>

#include "server/push/loop_write_guard.h"

void loop_write_guard_init(struct loop_write_guard *g, uint64_t max_usec, uint64_t pause_usec)
{
    g->max_usec = max_usec;
    g->pause_usec = pause_usec;
    atomic_init(&g->off_until_usec, 0);
}

bool loop_write_guard_allows(struct loop_write_guard *g, uint64_t now_usec)
{
    return now_usec >= atomic_load_explicit(&g->off_until_usec, memory_order_relaxed);
}

bool loop_write_guard_note(struct loop_write_guard *g, uint64_t started_usec, uint64_t ended_usec,
                           bool slept)
{
    uint64_t took = ended_usec > started_usec ? ended_usec - started_usec : 0;
    if (!slept || took <= g->max_usec)
        return false;
    uint64_t until = ended_usec + g->pause_usec;
    /* another loop may have noted a later end meanwhile: keep the later one */
    uint64_t cur = atomic_load(&g->off_until_usec);
    while (cur < until && !atomic_compare_exchange_weak(&g->off_until_usec, &cur, until))
        ;
    return true;
}

void loop_write_probe_begin(struct loop_write_probe *p, uint64_t turn, long (*count_switches)(void))
{
    if (turn != 0 && p->turn == turn) /* 0: turns unknown, count before every write */
        return;
    p->turn = turn;
    p->switches = count_switches();
}

bool loop_write_probe_slept(const struct loop_write_probe *p, long (*count_switches)(void))
{
    return count_switches() != p->switches;
}

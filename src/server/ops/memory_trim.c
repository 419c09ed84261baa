/* SPDX-License-Identifier: Apache-2.0 */
/* See memory_trim.h. */
#include <config.h>

#include "server/ops/memory_trim.h"

#include <event2/event.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/log.h"
#include "server/server.h"

/* Trim once the budgets fell this much below the highest they reached since the last trim. */
#define TRIM_AFTER_BYTES (4u << 20)
#define MMAP_THRESHOLD (128 * 1024)

struct memory_trim {
    struct server *srv;
    struct event *ev;
    uint64_t high; /* the most the budgets held since the last trim */
};

void memory_trim_setup(void)
{
    /* fixed, so glibc does not raise it after the first large free and keep big buffers */
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
    struct memory_trim *t = arg;
    (void)fd;
    (void)what;
    uint64_t used = 0;
    for (int k = 0; k < 3; k++)
        used += atomic_load(&t->srv->budget_used[k]);
    if (used > t->high)
        t->high = used;
    if (t->high - used >= TRIM_AFTER_BYTES) {
        malloc_trim(0);
        log_debug("memory trimmed: client-driven memory fell from %llu to %llu bytes",
                  (unsigned long long)t->high, (unsigned long long)used);
        t->high = used;
    }
}

struct memory_trim *memory_trim_start(struct event_base *base, struct server *srv)
{
    struct memory_trim *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->srv = srv;
    t->ev = event_new(base, -1, EV_PERSIST, tick, t);
    struct timeval tv = {1, 0};
    if (!t->ev || event_add(t->ev, &tv) != 0) {
        if (t->ev)
            event_free(t->ev);
        free(t);
        return NULL;
    }
    return t;
}

void memory_trim_stop(struct memory_trim *t)
{
    if (!t)
        return;
    event_free(t->ev);
    free(t);
}

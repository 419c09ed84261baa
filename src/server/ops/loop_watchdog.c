/* SPDX-License-Identifier: Apache-2.0 */
/* Event-loop liveness for the systemd watchdog; see loop_watchdog.h. */
#include <config.h>

#include "server/ops/loop_watchdog.h"

#include <event2/event.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/log.h"

struct heartbeat {
    _Atomic uint64_t posted; /* round carried by the heartbeat in flight */
    _Atomic uint64_t acked;  /* last round this loop ran */
};

struct loop_watchdog {
    struct event *timer;
    uint64_t round; /* main thread only */
    int nloops;
    loop_post_fn post;
    void *loops;
    watchdog_result_fn result;
    void *result_ctx;
    int late_loop; /* loop reported late, -1 if none (log once per episode) */
    struct heartbeat beats[];
};

static void heartbeat_run(void *arg)
{
    struct heartbeat *hb = arg;
    atomic_store(&hb->acked, atomic_load(&hb->posted));
}

int loop_watchdog_tick(struct loop_watchdog *wd)
{
    for (int i = 0; i < wd->nloops; i++) {
        if (atomic_load(&wd->beats[i].acked) != wd->round) {
            if (wd->late_loop != i)
                log_warn("io thread %d has not run its heartbeat: /healthz reports unhealthy "
                         "and the systemd watchdog ping is withheld",
                         i);
            wd->late_loop = i;
            wd->result(wd->result_ctx, i);
            return 0;
        }
    }
    if (wd->late_loop >= 0)
        log_info("io thread %d is responsive again", wd->late_loop);
    wd->late_loop = -1;
    wd->result(wd->result_ctx, -1);
    wd->round++;
    for (int i = 0; i < wd->nloops; i++) {
        atomic_store(&wd->beats[i].posted, wd->round);
        wd->post(wd->loops, i, heartbeat_run, &wd->beats[i]);
    }
    return 1;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    loop_watchdog_tick(arg);
}

struct loop_watchdog *loop_watchdog_create(struct event_base *main_base, uint64_t interval_usec,
                                           int nloops, loop_post_fn post, void *loops,
                                           watchdog_result_fn result, void *result_ctx)
{
    struct loop_watchdog *wd =
        calloc(1, sizeof(*wd) + (size_t)(nloops > 0 ? nloops : 0) * sizeof(struct heartbeat));
    if (!wd)
        return NULL;
    wd->nloops = nloops;
    wd->post = post;
    wd->loops = loops;
    wd->result = result;
    wd->result_ctx = result_ctx;
    wd->late_loop = -1;
    if (interval_usec > 0) {
        wd->timer = event_new(main_base, -1, EV_PERSIST, timer_cb, wd);
        struct timeval tv = {(time_t)(interval_usec / 1000000),
                             (suseconds_t)(interval_usec % 1000000)};
        if (!wd->timer || event_add(wd->timer, &tv) != 0) {
            loop_watchdog_free(wd);
            return NULL;
        }
    }
    return wd;
}

void loop_watchdog_stop(struct loop_watchdog *wd)
{
    if (wd && wd->timer)
        event_del(wd->timer);
}

void loop_watchdog_free(struct loop_watchdog *wd)
{
    if (!wd)
        return;
    if (wd->timer)
        event_free(wd->timer);
    free(wd);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* conn_run_blocking (handler.h): a handler's disk work on the blocking pool, its completion
 * back on the connection's loop. */
#include <config.h>

#include <stdlib.h>

#include "server/net/conn.h"
#include "server/net/handler.h"
#include "server/net/worker.h"
#include "server/server.h"
#include "server/stream/blocking_pool.h"

struct blocking_job {
    struct conn *c;
    void (*fn)(void *arg);
    void (*done)(struct conn *c, void *arg);
    void *arg;
};

static void blocking_done(void *p)
{
    struct blocking_job *j = p;
    if (j->done)
        j->done(conn_is_closed(j->c) ? NULL : j->c, j->arg);
    conn_unref(j->c);
    free(j);
}

static void blocking_run(void *p)
{
    struct blocking_job *j = p;
    j->fn(j->arg);
    worker_post(conn_worker(j->c), blocking_done, j);
}

void conn_run_blocking(struct conn *c, void (*fn)(void *arg),
                       void (*done)(struct conn *c, void *arg), void *arg)
{
    struct blocking_job *j = malloc(sizeof *j);
    if (!j) { /* no memory for the job: do the work here rather than lose it */
        fn(arg);
        if (done)
            done(c, arg);
        return;
    }
    *j = (struct blocking_job){c, fn, done, arg};
    conn_ref(c);
    if (blocking_pool_submit(conn_server(c)->pool, blocking_run, j) != 0)
        blocking_run(j);
}

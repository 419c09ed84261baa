/* SPDX-License-Identifier: Apache-2.0 */
/* The public fetch (Spark's RetryingBlockFetcher over OneForOneBlockFetcher):
 * only I/O failures are retried, at most max_retries times per fetch call,
 * retry_wait_ms apart; a retry asks the pool again (a dead connection has left it,
 * so this is a fresh one) and requests only the blocks still outstanding, in
 * their original order. Late results of an abandoned attempt are dropped, so
 * each block is delivered exactly once, to success or to failure. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "client/errors.h"
#include "client/fetcher.h"
#include "client/internal.h"
#include "client/pool.h"

struct fetch_op {
    struct client_op link; /* first: cancel() gets this pointer */
    shuffle_client *c;
    char *host;
    int port;
    char *app_id, *exec_id;
    char **ids;
    bool *to_file;
    bool *done;
    size_t n, outstanding, failed;
    int retries;
    struct fetch_attempt *cur;
    struct event *timer;
    shuffle_block_fn on_block;
    shuffle_fetch_done_fn on_done;
    void *arg;
};

static void op_free(struct fetch_op *op)
{
    if (op->timer)
        event_free(op->timer);
    free(op->host);
    free(op->app_id);
    free(op->exec_id);
    free(op->ids);
    free(op->to_file);
    free(op->done);
    free(op);
}

static void maybe_finish(struct fetch_op *op)
{
    if (op->outstanding > 0)
        return;
    if (op->cur) {
        fetch_attempt_detach(op->cur);
        op->cur = NULL;
    }
    client_op_remove(&op->link);
    if (op->on_done)
        op->on_done(op->arg, op->n - op->failed, op->failed);
    op_free(op);
}

static void deliver_failure(struct fetch_op *op, size_t pos, int status, const char *err)
{
    op->done[pos] = true;
    op->outstanding--;
    op->failed++;
    struct shuffle_block b = {
        .struct_size = sizeof(b), .index = pos, .block_id = op->ids[pos], .status = status};
    char *msg = NULL;
    if (op->retries > 0 && status == SHUFFLE_EIO)
        msg = client_strf("%s (gave up after %d retries)", err, op->retries);
    b.error = msg ? msg : err;
    op->on_block(op->arg, &b);
    free(msg);
}

static void fail_outstanding(struct fetch_op *op, int status, const char *err)
{
    for (size_t i = 0; i < op->n; i++)
        if (!op->done[i])
            deliver_failure(op, i, status, err);
    maybe_finish(op);
}

static void on_ok(void *arg, size_t pos, const uint8_t *data, uint64_t len, const char *path)
{
    struct fetch_op *op = arg;
    if (op->done[pos])
        return;
    op->done[pos] = true;
    op->outstanding--;
    struct shuffle_block b = {.struct_size = sizeof(b),
                              .index = pos,
                              .block_id = op->ids[pos],
                              .status = SHUFFLE_OK,
                              .data = data,
                              .len = len,
                              .path = path};
    op->on_block(op->arg, &b);
    maybe_finish(op);
}

static void on_fail(void *arg, size_t pos, int status, const char *err)
{
    struct fetch_op *op = arg;
    if (op->done[pos])
        return;
    if (status == SHUFFLE_EIO && op->retries < op->c->opts.max_retries && !op->c->stopping) {
        /* Abandon this attempt (its other failures and late successes are dropped)
         * and try again for what is still outstanding. */
        op->retries++;
        fetch_attempt_detach(op->cur);
        op->cur = NULL;
        int ms = op->c->opts.retry_wait_ms > 0 ? op->c->opts.retry_wait_ms : 0;
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
        evtimer_add(op->timer, &tv);
        return;
    }
    deliver_failure(op, pos, status, err);
    maybe_finish(op);
}

static void start_attempt(struct fetch_op *op)
{
    size_t m = 0;
    const char **ids = malloc((op->outstanding + 1) * sizeof(char *));
    size_t *pos = malloc((op->outstanding + 1) * sizeof(size_t));
    bool *tf = malloc(op->outstanding + 1);
    if (!ids || !pos || !tf) {
        free(ids);
        free(pos);
        free(tf);
        fail_outstanding(op, SHUFFLE_ELOCAL, "out of memory");
        return;
    }
    for (size_t i = 0; i < op->n; i++) {
        if (op->done[i])
            continue;
        ids[m] = op->ids[i];
        pos[m] = i;
        tf[m] = op->to_file[i];
        m++;
    }
    struct tconn *t = pool_get(op->c->pool, op->host, op->port, op->c->opts.max_retries > 0);
    char err[512];
    int status = SHUFFLE_ECANCELED;
    struct fetch_listener l = {on_ok, on_fail, op};
    if (t)
        op->cur = fetch_attempt_start(op->c, t, op->app_id, op->exec_id, ids, pos, tf, m, &l,
                                      &status, err, sizeof(err));
    else
        client_set_err(err, sizeof(err), "the client is shutting down");
    free(ids);
    free(pos);
    free(tf);
    if (!op->cur)
        fail_outstanding(op, status, err);
}

static void on_retry_timer(evutil_socket_t fd, short what, void *arg)
{
    start_attempt(arg);
}

static void cancel_op(struct client_op *link)
{
    struct fetch_op *op = (struct fetch_op *)link;
    evtimer_del(op->timer);
    if (op->cur) {
        fetch_attempt_detach(op->cur);
        op->cur = NULL;
    }
    fail_outstanding(op, SHUFFLE_ECANCELED, "the client was shut down");
}

static void start_cmd(shuffle_client *c, void *arg)
{
    struct fetch_op *op = arg;
    client_op_add(c, &op->link);
    start_attempt(op);
}

int shuffle_fetch_blocks(shuffle_client *c, const struct shuffle_fetch_request *request)
{
    struct shuffle_fetch_request req;
    const struct shuffle_fetch_request *r = &req;
    shuffle_fetch_request_init(&req);
    if (request && client_read_sized(c, &req, sizeof(req), request, "shuffle_fetch_request") != 0)
        return SHUFFLE_EINVAL;
    if (!c || !request || !r->host || !r->app_id || !r->exec_id || !r->block_ids || !r->on_block) {
        return client_fail(c, SHUFFLE_EINVAL,
                           "fetch: host, app_id, exec_id, block_ids and on_block are required");
    }
    if (r->num_blocks == 0) {
        return client_fail(c, SHUFFLE_EINVAL, "fetch: Zero-sized blockIds array");
    }
    struct fetch_op *op = calloc(1, sizeof(*op));
    if (!op) {
        return client_fail(c, SHUFFLE_ELOCAL, "out of memory");
    }
    op->link.cancel = cancel_op;
    op->c = c;
    op->port = r->port;
    op->n = op->outstanding = r->num_blocks;
    op->on_block = r->on_block;
    op->on_done = r->on_done;
    op->arg = r->arg;
    op->host = client_strdup(r->host);
    op->app_id = client_strdup(r->app_id);
    op->exec_id = client_strdup(r->exec_id);
    op->ids = client_strv_dup(r->block_ids, r->num_blocks);
    op->to_file = calloc(r->num_blocks, 1);
    op->done = calloc(r->num_blocks, 1);
    op->timer = evtimer_new(c->base, on_retry_timer, op);
    if (!op->host || !op->app_id || !op->exec_id || !op->ids || !op->to_file || !op->done ||
        !op->timer) {
        bool oom = true;
        for (size_t i = 0; i < r->num_blocks; i++)
            oom = oom && r->block_ids[i] != NULL;
        op_free(op);
        return client_fail(c, oom ? SHUFFLE_ELOCAL : SHUFFLE_EINVAL,
                           oom ? "out of memory" : "fetch: a block id is NULL");
    }
    uint64_t limit = c->opts.fetch_to_file_bytes;
    for (size_t i = 0; i < r->num_blocks; i++)
        op->to_file[i] = limit == 0 || (r->sizes && r->sizes[i] > limit);
    if (client_post(c, start_cmd, op) != 0) {
        op_free(op);
        return client_fail(c, SHUFFLE_ECANCELED, "the client is shutting down");
    }
    return SHUFFLE_OK;
}

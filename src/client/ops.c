/* SPDX-License-Identifier: Apache-2.0 */
/* The single-RPC shuffle operations (RemoveBlocks, GetLocalDirsForExecutors, raw
 * RPC, one-way message, stream) and executor registration, which, like Spark's,
 * uses a connection of its own per attempt with the registration timeout. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "client/errors.h"
#include "client/internal.h"
#include "client/ops.h"
#include "client/pool.h"
#include "client/transport.h"
#include "proto/blockmsg.h"

enum rpc_kind { OP_RAW, OP_REMOVE, OP_DIRS, OP_ONEWAY, OP_STREAM, OP_REGISTER, OP_META };

struct rpc_op {
    struct client_op link; /* used by OP_REGISTER only */
    shuffle_client *c;
    enum rpc_kind kind;
    const char *name;
    char *host;
    int port;
    uint8_t *body;
    size_t len;
    char *stream_id;
    struct shuffle_stream_handler sh;
    union {
        shuffle_rpc_fn raw;
        shuffle_removed_fn removed;
        shuffle_local_dirs_fn dirs;
        shuffle_status_fn status;
    } cb;
    void *arg;
    /* MergedBlockMetaRequest */
    int32_t meta_ids[3]; /* shuffle, merge, reduce */
    char *meta_app;
    /* registration */
    int attempt;
    struct tconn *reg_conn;
    struct event *timer;
};

static void op_free(struct rpc_op *op)
{
    if (op->timer)
        event_free(op->timer);
    if (op->reg_conn)
        tconn_unref(op->reg_conn);
    free(op->host);
    free(op->body);
    free(op->stream_id);
    free(op->meta_app);
    free(op);
}

static void report_dirs(struct rpc_op *op, const uint8_t *body, size_t len)
{
    struct blockmsg m;
    char derr[200];
    memset(&m, 0, sizeof(m));
    int bad = blockmsg_decode(body, len, &m, derr, sizeof(derr));
    if (!bad && m.type != BLOCKMSG_LOCAL_DIRS_FOR_EXECUTORS) {
        snprintf(derr, sizeof(derr), "expected LocalDirsForExecutors, got %s",
                 blockmsg_type_name(m.type));
        bad = 1;
    }
    size_t n = bad ? 0 : m.u.local_dirs.exec_ids.count;
    if (!bad && m.u.local_dirs.num_local_dirs_by_exec.count != n) {
        snprintf(derr, sizeof(derr), "LocalDirsForExecutors: %zu executors but %u counts", n,
                 m.u.local_dirs.num_local_dirs_by_exec.count);
        bad = 1;
    }
    const char **execs = calloc(n + 1, sizeof(char *));
    size_t *counts = calloc(n + 1, sizeof(size_t));
    const char **flat = calloc(bad ? 1 : m.u.local_dirs.all_local_dirs.count + 1, sizeof(char *));
    const char *const **dirs = calloc(n + 1, sizeof(*dirs));
    if (!bad && (!execs || !counts || !flat || !dirs)) {
        snprintf(derr, sizeof(derr), "out of memory");
        bad = 1;
    }
    size_t at = 0;
    for (size_t i = 0; !bad && i < n; i++) {
        int32_t k = m.u.local_dirs.num_local_dirs_by_exec.items[i];
        if (k < 0 || (size_t)k > m.u.local_dirs.all_local_dirs.count - at) {
            snprintf(derr, sizeof(derr), "LocalDirsForExecutors: dir counts exceed the %u dirs",
                     m.u.local_dirs.all_local_dirs.count);
            bad = 1;
            break;
        }
        execs[i] = m.u.local_dirs.exec_ids.items[i].data;
        counts[i] = (size_t)k;
        dirs[i] = flat + at;
        for (int32_t j = 0; j < k; j++, at++)
            flat[at] = m.u.local_dirs.all_local_dirs.items[at].data;
    }
    if (bad) {
        char *msg = client_strf("GetLocalDirsForExecutors to %s: bad reply: %s", op->host, derr);
        op->cb.dirs(op->arg, SHUFFLE_EPROTO, msg, NULL);
        free(msg);
    } else {
        struct shuffle_local_dirs d = {sizeof(d), n, execs, counts,
                                       (const char *const *const *)dirs};
        op->cb.dirs(op->arg, SHUFFLE_OK, NULL, &d);
    }
    free(execs);
    free(counts);
    free(flat);
    free(dirs);
    blockmsg_free(&m);
}

static void report_removed(struct rpc_op *op, const uint8_t *body, size_t len)
{
    struct blockmsg m;
    char derr[200];
    memset(&m, 0, sizeof(m));
    int bad = blockmsg_decode(body, len, &m, derr, sizeof(derr));
    if (!bad && m.type != BLOCKMSG_BLOCKS_REMOVED) {
        snprintf(derr, sizeof(derr), "expected BlocksRemoved, got %s", blockmsg_type_name(m.type));
        bad = 1;
    }
    if (bad) {
        char *msg = client_strf("RemoveBlocks to %s: bad reply: %s", op->host, derr);
        op->cb.removed(op->arg, SHUFFLE_EPROTO, msg, 0);
        free(msg);
    } else {
        op->cb.removed(op->arg, SHUFFLE_OK, NULL, m.u.blocks_removed.num_removed_blocks);
    }
    blockmsg_free(&m);
}

static void report_error(struct rpc_op *op, int status, const char *err)
{
    char peer[300];
    client_peer_name(peer, sizeof(peer), op->host, op->port);
    char *msg = client_strf("%s to %s failed: %s", op->name, peer, err);
    switch (op->kind) {
    case OP_RAW:
    case OP_META:
        op->cb.raw(op->arg, status, msg, NULL, 0);
        break;
    case OP_REMOVE:
        op->cb.removed(op->arg, status, msg, 0);
        break;
    case OP_DIRS:
        op->cb.dirs(op->arg, status, msg, NULL);
        break;
    case OP_STREAM:
        op->sh.on_done(op->sh.arg, status, msg);
        break;
    case OP_REGISTER:
        op->cb.status(op->arg, status, msg);
        break;
    case OP_ONEWAY:
        break;
    }
    free(msg);
}

static void on_reply(void *arg, int status, const char *err, const uint8_t *body, size_t len)
{
    struct rpc_op *op = arg;
    if (status != SHUFFLE_OK)
        report_error(op, status, err);
    else if (op->kind == OP_RAW || op->kind == OP_META)
        op->cb.raw(op->arg, SHUFFLE_OK, NULL, body, len);
    else if (op->kind == OP_REMOVE)
        report_removed(op, body, len);
    else
        report_dirs(op, body, len);
    op_free(op);
}

static int stream_start(void *arg, uint64_t n)
{
    struct rpc_op *op = arg;
    if (op->sh.on_start)
        op->sh.on_start(op->sh.arg, n);
    return 0;
}

static int stream_data(void *arg, const uint8_t *d, size_t n)
{
    struct rpc_op *op = arg;
    return op->sh.on_data(op->sh.arg, d, n);
}

static void stream_done(void *arg, int status, const char *err)
{
    struct rpc_op *op = arg;
    if (status != SHUFFLE_OK)
        report_error(op, status, err);
    else
        op->sh.on_done(op->sh.arg, SHUFFLE_OK, NULL);
    op_free(op);
}

static void run_cmd(shuffle_client *c, void *arg)
{
    struct rpc_op *op = arg;
    struct tconn *t = pool_get(c->pool, op->host, op->port, false);
    if (!t) {
        report_error(op, SHUFFLE_ECANCELED, "the client is shutting down");
        op_free(op);
        return;
    }
    int rc;
    if (op->kind == OP_ONEWAY) {
        tconn_oneway(t, op->body, op->len);
        op_free(op);
        return;
    } else if (op->kind == OP_STREAM) {
        struct tconn_stream_cb scb = {stream_start, stream_data, stream_done, op, NULL};
        rc = tconn_fetch_stream(t, op->stream_id, &scb);
    } else if (op->kind == OP_META) {
        rc = tconn_merged_meta(t, op->meta_app, op->meta_ids[0], op->meta_ids[1], op->meta_ids[2],
                               on_reply, op);
    } else {
        rc = tconn_rpc(t, op->body, op->len, on_reply, op);
    }
    if (rc != 0) {
        report_error(op, SHUFFLE_EIO, "the request could not be queued");
        op_free(op);
    }
}

static struct rpc_op *op_new(shuffle_client *c, enum rpc_kind kind, const char *name,
                             const char *host, int port)
{
    if (!c || !host) {
        client_fail(c, SHUFFLE_EINVAL, "%s: client and host are required", name);
        return NULL;
    }
    struct rpc_op *op = calloc(1, sizeof(*op));
    if (!op || !(op->host = strdup(host))) {
        free(op);
        client_fail(c, SHUFFLE_EINVAL, "out of memory");
        return NULL;
    }
    op->c = c;
    op->kind = kind;
    op->name = name;
    op->port = port;
    return op;
}

/* Takes the encoding of m as the op's body. */
static int set_body(struct rpc_op *op, const struct blockmsg *m)
{
    struct proto_writer w;
    proto_writer_init(&w);
    blockmsg_encode(&w, m);
    if (w.failed) {
        proto_writer_free(&w);
        return -1;
    }
    op->body = proto_writer_take(&w, &op->len);
    return 0;
}

static int submit(struct rpc_op *op, void (*fn)(shuffle_client *, void *))
{
    shuffle_client *c = op->c;
    if (client_post(c, fn, op) != 0) {
        op_free(op);
        return client_fail(c, SHUFFLE_ECANCELED, "the client is shutting down");
    }
    return SHUFFLE_OK;
}

static bool fill_strings(struct proto_string_array *a, const char *const *v, size_t n)
{
    a->items = calloc(n + 1, sizeof(*a->items));
    if (!a->items)
        return false;
    a->count = (uint32_t)n;
    for (size_t i = 0; i < n; i++)
        if (!v[i] || !proto_bytes_set_str(&a->items[i], v[i]))
            return false;
    return true;
}

int shuffle_rpc(shuffle_client *c, const char *host, int port, const void *body, size_t len,
                shuffle_rpc_fn cb, void *arg)
{
    return ops_rpc_named(c, "RPC", host, port, body, len, cb, arg);
}

int ops_rpc_named(shuffle_client *c, const char *name, const char *host, int port, const void *body,
                  size_t len, shuffle_rpc_fn cb, void *arg)
{
    struct rpc_op *op = op_new(c, OP_RAW, name, host, port);
    if (!op)
        return SHUFFLE_EINVAL;
    op->cb.raw = cb;
    op->arg = arg;
    op->body = malloc(len ? len : 1);
    if (!op->body || !cb) {
        op_free(op);
        return client_fail(c, SHUFFLE_EINVAL, cb ? "out of memory" : "rpc: a callback is required");
    }
    if (len)
        memcpy(op->body, body, len);
    op->len = len;
    return submit(op, run_cmd);
}

int ops_merged_meta(shuffle_client *c, const char *host, int port, const char *app_id,
                    int32_t shuffle_id, int32_t shuffle_merge_id, int32_t reduce_id,
                    shuffle_rpc_fn cb, void *arg)
{
    struct rpc_op *op = op_new(c, OP_META, "MergedBlockMetaRequest", host, port);
    if (!op)
        return SHUFFLE_EINVAL;
    op->cb.raw = cb;
    op->arg = arg;
    op->meta_ids[0] = shuffle_id;
    op->meta_ids[1] = shuffle_merge_id;
    op->meta_ids[2] = reduce_id;
    if (!(op->meta_app = strdup(app_id))) {
        op_free(op);
        return client_fail(c, SHUFFLE_ELOCAL, "out of memory");
    }
    return submit(op, run_cmd);
}

int shuffle_send_oneway(shuffle_client *c, const char *host, int port, const void *body, size_t len)
{
    struct rpc_op *op = op_new(c, OP_ONEWAY, "OneWayMessage", host, port);
    if (!op)
        return SHUFFLE_EINVAL;
    op->body = malloc(len ? len : 1);
    if (!op->body) {
        op_free(op);
        return client_fail(c, SHUFFLE_ELOCAL, "out of memory");
    }
    if (len)
        memcpy(op->body, body, len);
    op->len = len;
    return submit(op, run_cmd);
}

int shuffle_fetch_stream(shuffle_client *c, const char *host, int port, const char *stream_id,
                         const struct shuffle_stream_handler *handler)
{
    struct shuffle_stream_handler h;
    shuffle_stream_handler_init(&h);
    if (handler && client_read_sized(c, &h, sizeof(h), handler, "shuffle_stream_handler") != 0)
        return SHUFFLE_EINVAL;
    if (!h.on_data || !h.on_done || !stream_id)
        return client_fail(c, SHUFFLE_EINVAL,
                           "stream: stream_id, on_data and on_done are required");
    struct rpc_op *op = op_new(c, OP_STREAM, "StreamRequest", host, port);
    if (!op)
        return SHUFFLE_EINVAL;
    op->sh = h;
    if (!(op->stream_id = strdup(stream_id))) {
        op_free(op);
        return client_fail(c, SHUFFLE_ELOCAL, "out of memory");
    }
    return submit(op, run_cmd);
}

int shuffle_remove_blocks(shuffle_client *c, const char *host, int port, const char *app_id,
                          const char *exec_id, const char *const *block_ids, size_t num_blocks,
                          shuffle_removed_fn cb, void *arg)
{
    if (!app_id || !exec_id || (!block_ids && num_blocks) || !cb) {
        return client_fail(c, SHUFFLE_EINVAL,
                           "remove: app_id, exec_id, block_ids and cb are required");
    }
    struct rpc_op *op = op_new(c, OP_REMOVE, "RemoveBlocks", host, port);
    if (!op)
        return SHUFFLE_EINVAL;
    op->cb.removed = cb;
    op->arg = arg;
    struct blockmsg m = {.type = BLOCKMSG_REMOVE_BLOCKS};
    bool ok = proto_bytes_set_str(&m.u.remove_blocks.app_id, app_id) &&
              proto_bytes_set_str(&m.u.remove_blocks.exec_id, exec_id) &&
              fill_strings(&m.u.remove_blocks.block_ids, block_ids, num_blocks) &&
              set_body(op, &m) == 0;
    blockmsg_free(&m);
    if (!ok) {
        op_free(op);
        return client_fail(c, SHUFFLE_EINVAL, "remove: a block id is NULL, or out of memory");
    }
    return submit(op, run_cmd);
}

int shuffle_get_local_dirs(shuffle_client *c, const char *host, int port, const char *app_id,
                           const char *const *exec_ids, size_t num_execs, shuffle_local_dirs_fn cb,
                           void *arg)
{
    if (!app_id || (!exec_ids && num_execs) || !cb) {
        return client_fail(c, SHUFFLE_EINVAL,
                           "get_local_dirs: app_id, exec_ids and cb are required");
    }
    struct rpc_op *op = op_new(c, OP_DIRS, "GetLocalDirsForExecutors", host, port);
    if (!op)
        return SHUFFLE_EINVAL;
    op->cb.dirs = cb;
    op->arg = arg;
    struct blockmsg m = {.type = BLOCKMSG_GET_LOCAL_DIRS_FOR_EXECUTORS};
    bool ok = proto_bytes_set_str(&m.u.get_local_dirs.app_id, app_id) &&
              fill_strings(&m.u.get_local_dirs.exec_ids, exec_ids, num_execs) &&
              set_body(op, &m) == 0;
    blockmsg_free(&m);
    if (!ok) {
        op_free(op);
        return client_fail(c, SHUFFLE_EINVAL,
                           "get_local_dirs: an executor id is NULL, or out of memory");
    }
    return submit(op, run_cmd);
}

/* ---- RegisterExecutor: one unpooled connection per attempt ---- */

static void reg_attempt(struct rpc_op *op);

static void reg_finish(struct rpc_op *op, int status, const char *err)
{
    client_op_remove(&op->link);
    if (status == SHUFFLE_OK)
        op->cb.status(op->arg, SHUFFLE_OK, NULL);
    else
        report_error(op, status, err);
    op_free(op);
}

static void reg_reply(void *arg, int status, const char *err, const uint8_t *body, size_t len)
{
    struct rpc_op *op = arg;
    struct tconn *t = op->reg_conn;
    op->reg_conn = NULL;
    tconn_close(t, SHUFFLE_ECANCELED, "registration attempt finished");
    tconn_unref(t);
    /* an auth refusal would only be refused again (the secret does not change) */
    if (status == SHUFFLE_OK || status == SHUFFLE_EAUTH ||
        op->attempt >= op->c->opts.registration_attempts || op->c->stopping) {
        char *msg = NULL;
        if (status != SHUFFLE_OK)
            msg = client_strf("%s (attempt %d of %d)", err, op->attempt,
                              op->c->opts.registration_attempts);
        reg_finish(op, status, msg);
        free(msg);
        return;
    }
    int ms = op->c->opts.retry_wait_ms > 0 ? op->c->opts.retry_wait_ms : 0;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(op->timer, &tv);
}

static void reg_attempt(struct rpc_op *op)
{
    shuffle_client *c = op->c;
    op->attempt++;
    int timeout = c->opts.registration_timeout_ms;
    op->reg_conn = tconn_new(&c->env, op->host, op->port, timeout, timeout);
    if (!op->reg_conn) {
        reg_finish(op, SHUFFLE_ELOCAL, "out of memory");
        return;
    }
    if (tconn_rpc(op->reg_conn, op->body, op->len, reg_reply, op) != 0) {
        tconn_unref(op->reg_conn);
        op->reg_conn = NULL;
        reg_finish(op, SHUFFLE_ELOCAL, "the request could not be queued");
    }
}

static void reg_timer(evutil_socket_t fd, short what, void *arg)
{
    reg_attempt(arg);
}

static void reg_cancel(struct client_op *link)
{
    struct rpc_op *op = (struct rpc_op *)link;
    if (op->reg_conn) {
        /* the reply callback runs with ECANCELED and finishes the op */
        client_op_remove(&op->link);
        op->attempt = op->c->opts.registration_attempts;
        tconn_close(op->reg_conn, SHUFFLE_ECANCELED, "the client was shut down");
        return;
    }
    evtimer_del(op->timer);
    reg_finish(op, SHUFFLE_ECANCELED, "the client was shut down");
}

static void reg_cmd(shuffle_client *c, void *arg)
{
    struct rpc_op *op = arg;
    if (c->stopping) {
        report_error(op, SHUFFLE_ECANCELED, "the client is shutting down");
        op_free(op);
        return;
    }
    client_op_add(c, &op->link);
    reg_attempt(op);
}

int shuffle_register_executor(shuffle_client *c, const char *host, int port,
                              const struct shuffle_executor_info *executor, shuffle_status_fn cb,
                              void *arg)
{
    struct shuffle_executor_info info;
    shuffle_executor_info_init(&info);
    if (!executor)
        return client_fail(c, SHUFFLE_EINVAL, "register: the executor info is required");
    if (client_read_sized(c, &info, sizeof(info), executor, "shuffle_executor_info") != SHUFFLE_OK)
        return SHUFFLE_EINVAL;
    if (!info.app_id || !info.exec_id || (!info.local_dirs && info.num_dirs) ||
        !info.shuffle_manager || !cb)
        return client_fail(c, SHUFFLE_EINVAL,
                           "register: app_id, exec_id, local_dirs, shuffle_manager and cb are "
                           "required");
    struct rpc_op *op = op_new(c, OP_REGISTER, "RegisterExecutor", host, port);
    if (!op)
        return SHUFFLE_EINVAL;
    op->link.cancel = reg_cancel;
    op->cb.status = cb;
    op->arg = arg;
    op->timer = evtimer_new(c->base, reg_timer, op);
    struct blockmsg m = {.type = BLOCKMSG_REGISTER_EXECUTOR};
    m.u.register_executor.info.sub_dirs_per_local_dir = info.sub_dirs_per_local_dir;
    bool ok =
        op->timer && proto_bytes_set_str(&m.u.register_executor.app_id, info.app_id) &&
        proto_bytes_set_str(&m.u.register_executor.exec_id, info.exec_id) &&
        proto_bytes_set_str(&m.u.register_executor.info.shuffle_manager, info.shuffle_manager) &&
        fill_strings(&m.u.register_executor.info.local_dirs, info.local_dirs, info.num_dirs) &&
        set_body(op, &m) == 0;
    blockmsg_free(&m);
    if (!ok) {
        op_free(op);
        return client_fail(c, SHUFFLE_EINVAL, "register: a local dir is NULL, or out of memory");
    }
    return submit(op, reg_cmd);
}

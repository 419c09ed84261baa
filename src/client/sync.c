/* SPDX-License-Identifier: Apache-2.0 */
/* Blocking convenience API over the asynchronous core: each call starts the
 * operation and waits on a condition variable for its callback. */
#include <config.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/errors.h"
#include "client/internal.h"
#include "client/merge_ops.h"
#include "shuffle/push.h"
#include "shuffle/sync.h"

struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    int status;
    char *error;
    /* fetch */
    struct shuffle_fetch_result *res;
    /* remove */
    int removed;
    /* rpc */
    uint8_t *reply;
    size_t reply_len;
    /* push-based shuffle */
    struct shuffle_push_outcome *pushed;
    void *owned; /* the reply struct handed over by merge_ops.c */
    int cause;
};

static void waiter_init(struct waiter *w)
{
    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
}

static void waiter_signal(struct waiter *w)
{
    pthread_mutex_lock(&w->lock);
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

/* The operation's status; its error becomes shuffle_last_error(c). */
static int waiter_wait(struct waiter *w, const shuffle_client *c)
{
    pthread_mutex_lock(&w->lock);
    while (!w->done)
        pthread_cond_wait(&w->cond, &w->lock);
    pthread_mutex_unlock(&w->lock);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    if (w->status != SHUFFLE_OK)
        client_fail(c, w->status, "%s", w->error ? w->error : shuffle_strerror(w->status));
    free(w->error);
    w->error = NULL;
    return w->status;
}

static bool refuse_on_loop(shuffle_client *c)
{
    if (c && client_on_loop_thread(c)) {
        client_fail(c, SHUFFLE_EINVAL, "blocking libshuffle calls cannot run inside a callback");
        return true;
    }
    return false;
}

static void sync_block(void *arg, const struct shuffle_block *b)
{
    struct waiter *w = arg;
    struct shuffle_fetch_result *r = &w->res[b->index];
    r->status = b->status;
    if (b->status != SHUFFLE_OK) {
        r->error = client_strdup(b->error);
        if (w->status == SHUFFLE_OK) {
            w->status = b->status;
            w->error = client_strdup(b->error);
        }
        return;
    }
    r->len = b->len;
    if (b->path) {
        /* keep the file: move it to a name the library will not remove */
        char *kept = client_strf("%s.blk", b->path);
        if (rename(b->path, kept) == 0) {
            r->path = kept;
        } else {
            free(kept);
            r->status = SHUFFLE_ELOCAL;
            r->error = client_strf("cannot keep fetched file %s", b->path);
        }
    } else if (b->len) {
        r->data = malloc(b->len);
        if (r->data) {
            memcpy(r->data, b->data, b->len);
        } else {
            r->status = SHUFFLE_ELOCAL;
            r->error = client_strdup("out of memory");
        }
    }
    if (r->status != SHUFFLE_OK && w->status == SHUFFLE_OK) {
        w->status = r->status;
        w->error = client_strdup(r->error);
    }
}

static void sync_fetch_done(void *arg, size_t delivered, size_t failed)
{
    waiter_signal(arg);
}

void shuffle_fetch_results_free(struct shuffle_fetch_result *res, size_t n)
{
    if (!res)
        return;
    for (size_t i = 0; i < n; i++) {
        free(res[i].error);
        free(res[i].data);
        free(res[i].path);
    }
    free(res);
}

int shuffle_fetch_blocks_sync(shuffle_client *c, const struct shuffle_fetch_request *r,
                              struct shuffle_fetch_result **out)
{
    *out = NULL;
    if (refuse_on_loop(c))
        return SHUFFLE_EINVAL;
    struct shuffle_fetch_request req;
    shuffle_fetch_request_init(&req);
    if (!r)
        return client_fail(c, SHUFFLE_EINVAL, "fetch: the request is required");
    if (client_read_sized(c, &req, sizeof(req), r, "shuffle_fetch_request") != SHUFFLE_OK)
        return SHUFFLE_EINVAL;
    struct waiter w;
    waiter_init(&w);
    w.res = calloc(req.num_blocks + 1, sizeof(*w.res));
    if (!w.res) {
        pthread_mutex_destroy(&w.lock);
        pthread_cond_destroy(&w.cond);
        return client_fail(c, SHUFFLE_ELOCAL, "out of memory");
    }
    req.on_block = sync_block;
    req.on_done = sync_fetch_done;
    req.arg = &w;
    int rc = shuffle_fetch_blocks(c, &req);
    if (rc != SHUFFLE_OK) {
        free(w.res);
        pthread_mutex_destroy(&w.lock);
        pthread_cond_destroy(&w.cond);
        return rc;
    }
    rc = waiter_wait(&w, c);
    *out = w.res;
    return rc;
}

static void sync_status(void *arg, int status, const char *error)
{
    struct waiter *w = arg;
    w->status = status;
    w->error = client_strdup(error);
    waiter_signal(w);
}

int shuffle_register_executor_sync(shuffle_client *c, const char *host, int port,
                                   const struct shuffle_executor_info *info)
{
    if (refuse_on_loop(c))
        return SHUFFLE_EINVAL;
    struct waiter w;
    waiter_init(&w);
    int rc = shuffle_register_executor(c, host, port, info, sync_status, &w);
    if (rc != SHUFFLE_OK) {
        pthread_mutex_destroy(&w.lock);
        pthread_cond_destroy(&w.cond);
        return rc;
    }
    return waiter_wait(&w, c);
}

static void sync_removed(void *arg, int status, const char *error, int n)
{
    struct waiter *w = arg;
    w->removed = n;
    sync_status(w, status, error);
}

int shuffle_remove_blocks_sync(shuffle_client *c, const char *host, int port, const char *app_id,
                               const char *exec_id, const char *const *block_ids, size_t num_blocks,
                               int *num_removed)
{
    if (refuse_on_loop(c))
        return SHUFFLE_EINVAL;
    struct waiter w;
    waiter_init(&w);
    int rc = shuffle_remove_blocks(c, host, port, app_id, exec_id, block_ids, num_blocks,
                                   sync_removed, &w);
    if (rc != SHUFFLE_OK) {
        pthread_mutex_destroy(&w.lock);
        pthread_cond_destroy(&w.cond);
        return rc;
    }
    rc = waiter_wait(&w, c);
    if (num_removed)
        *num_removed = w.removed;
    return rc;
}

static void sync_reply(void *arg, int status, const char *error, const uint8_t *body, size_t len)
{
    struct waiter *w = arg;
    if (status == SHUFFLE_OK) {
        w->reply = malloc(len ? len : 1);
        if (w->reply) {
            if (len)
                memcpy(w->reply, body, len);
            w->reply_len = len;
        } else {
            status = SHUFFLE_ELOCAL;
            error = "out of memory";
        }
    }
    sync_status(w, status, error);
}

int shuffle_rpc_sync(shuffle_client *c, const char *host, int port, const void *body, size_t len,
                     uint8_t **reply, size_t *reply_len)
{
    *reply = NULL;
    *reply_len = 0;
    if (refuse_on_loop(c))
        return SHUFFLE_EINVAL;
    struct waiter w;
    waiter_init(&w);
    int rc = shuffle_rpc(c, host, port, body, len, sync_reply, &w);
    if (rc != SHUFFLE_OK) {
        pthread_mutex_destroy(&w.lock);
        pthread_cond_destroy(&w.cond);
        return rc;
    }
    rc = waiter_wait(&w, c);
    *reply = w.reply;
    *reply_len = w.reply_len;
    return rc;
}

/* ---- push-based shuffle (shuffle/push.h) ---- */

/* A started operation (rc) waited for, or its start failure. */
static int wait_started(struct waiter *w, shuffle_client *c, int rc)
{
    if (rc != SHUFFLE_OK) {
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->cond);
        return rc;
    }
    return waiter_wait(w, c);
}

static void sync_pushed(void *arg, const struct shuffle_push_result *r)
{
    struct waiter *w = arg;
    struct shuffle_push_outcome *o = &w->pushed[r->index];
    o->status = r->status;
    o->return_code = r->return_code;
    if (r->status != SHUFFLE_OK) {
        o->error = client_strdup(r->error);
        if (w->status == SHUFFLE_OK) {
            w->status = r->status;
            w->error = client_strdup(r->error);
        }
    }
}

void shuffle_push_outcomes_free(struct shuffle_push_outcome *o, size_t n)
{
    for (size_t i = 0; o && i < n; i++)
        free(o[i].error);
    free(o);
}

int shuffle_push_blocks_sync(shuffle_client *c, const struct shuffle_push_request *r,
                             struct shuffle_push_outcome **out)
{
    *out = NULL;
    if (refuse_on_loop(c))
        return SHUFFLE_EINVAL;
    struct shuffle_push_request req;
    shuffle_push_request_init(&req);
    if (!r)
        return client_fail(c, SHUFFLE_EINVAL, "push: the request is required");
    if (client_read_sized(c, &req, sizeof(req), r, "shuffle_push_request") != SHUFFLE_OK)
        return SHUFFLE_EINVAL;
    struct waiter w;
    waiter_init(&w);
    w.pushed = calloc(req.num_blocks + 1, sizeof(*w.pushed));
    req.on_block = sync_pushed;
    req.on_done = sync_fetch_done;
    req.arg = &w;
    int rc =
        w.pushed ? shuffle_push_blocks(c, &req) : client_fail(c, SHUFFLE_ELOCAL, "out of memory");
    rc = wait_started(&w, c, rc);
    if (w.pushed && !w.done) { /* never started */
        free(w.pushed);
        return rc;
    }
    *out = w.pushed;
    return rc;
}

static void sync_finalized(void *arg, int status, const char *error,
                           const struct shuffle_merge_statuses *ms)
{
    struct waiter *w = arg;
    w->owned = (void *)ms;
    sync_status(w, status, error);
}

int shuffle_finalize_merge_sync(shuffle_client *c, const char *host, int port, const char *app_id,
                                int app_attempt_id, int shuffle_id, int shuffle_merge_id,
                                struct shuffle_merge_statuses **out)
{
    *out = NULL;
    if (refuse_on_loop(c))
        return SHUFFLE_EINVAL;
    struct waiter w;
    waiter_init(&w);
    int rc = wait_started(&w, c,
                          merge_ops_finalize(c, host, port, app_id, app_attempt_id, shuffle_id,
                                             shuffle_merge_id, true, sync_finalized, &w));
    *out = w.owned;
    return rc;
}

static void sync_meta(void *arg, int status, const char *error,
                      const struct shuffle_map_sets *chunks)
{
    struct waiter *w = arg;
    w->owned = (void *)chunks;
    sync_status(w, status, error);
}

int shuffle_fetch_merged_meta_sync(shuffle_client *c, const char *host, int port,
                                   const char *app_id, int shuffle_id, int shuffle_merge_id,
                                   int reduce_id, struct shuffle_map_sets **out)
{
    *out = NULL;
    if (refuse_on_loop(c))
        return SHUFFLE_EINVAL;
    struct waiter w;
    waiter_init(&w);
    int rc = wait_started(&w, c,
                          merge_ops_merged_meta(c, host, port, app_id, shuffle_id, shuffle_merge_id,
                                                reduce_id, true, sync_meta, &w));
    *out = w.owned;
    return rc;
}

static void sync_cause(void *arg, int status, const char *error, int cause)
{
    struct waiter *w = arg;
    w->cause = cause;
    sync_status(w, status, error);
}

int shuffle_diagnose_corruption_sync(shuffle_client *c, const char *host, int port,
                                     const char *app_id, const char *exec_id, int shuffle_id,
                                     int64_t map_id, int reduce_id, int64_t checksum,
                                     const char *algorithm, int *cause)
{
    if (refuse_on_loop(c))
        return SHUFFLE_EINVAL;
    struct waiter w;
    waiter_init(&w);
    w.cause = -1;
    int rc =
        wait_started(&w, c,
                     shuffle_diagnose_corruption(c, host, port, app_id, exec_id, shuffle_id, map_id,
                                                 reduce_id, checksum, algorithm, sync_cause, &w));
    if (cause)
        *cause = w.cause;
    return rc;
}

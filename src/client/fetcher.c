/* SPDX-License-Identifier: Apache-2.0 */
/* One fetch attempt (Spark's OneForOneBlockFetcher): see fetcher.h. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/blockids.h"
#include "client/fetcher.h"
#include "proto/blockmsg.h"

struct chunk_ctx {
    struct fetch_attempt *a;
    size_t chunk;
    int fd;
    char *path;
    uint64_t got; /* stream bytes written to path */
};

struct fetch_attempt {
    shuffle_client *c;
    struct tconn *t;
    int refs;
    bool detached;
    struct fetch_listener l;
    size_t n;
    char **ids;
    size_t *pos;
    bool *to_file;
    size_t *order; /* chunk i carries local block order[i] */
    bool *done;
    struct chunk_ctx *chunks;
    const char *op; /* "FetchShuffleBlocks", "FetchShuffleBlockChunks" or "OpenBlocks" */
    int64_t stream_id;
};

static void attempt_unref(struct fetch_attempt *a)
{
    if (--a->refs > 0)
        return;
    tconn_unref(a->t);
    for (size_t i = 0; i < a->n; i++) {
        if (a->chunks[i].fd >= 0)
            close(a->chunks[i].fd);
        if (a->chunks[i].path) {
            unlink(a->chunks[i].path);
            free(a->chunks[i].path);
        }
    }
    free(a->ids);
    free(a->pos);
    free(a->to_file);
    free(a->order);
    free(a->done);
    free(a->chunks);
    free(a);
}

void fetch_attempt_detach(struct fetch_attempt *a)
{
    if (a->detached)
        return;
    a->detached = true;
    attempt_unref(a);
}

/* Fails every block from chunk `from` on that has not been delivered yet. */
static void fail_from(struct fetch_attempt *a, size_t from, int status, const char *what,
                      const char *reason)
{
    for (size_t i = from; i < a->n && !a->detached; i++) {
        size_t b = a->order[i];
        if (a->done[b])
            continue;
        a->done[b] = true;
        char *msg = client_strf("%s of block %s from %s failed: %s", what, a->ids[b],
                                tconn_peer(a->t), reason);
        a->l.on_fail(a->l.arg, a->pos[b], status, msg);
        free(msg);
    }
}

static void deliver(struct fetch_attempt *a, size_t chunk, const uint8_t *data, uint64_t len,
                    const char *path)
{
    size_t b = a->order[chunk];
    if (a->detached || a->done[b])
        return;
    a->done[b] = true;
    a->l.on_ok(a->l.arg, a->pos[b], data, len, path);
}

static void on_chunk(void *arg, int status, const char *err, const uint8_t *body, size_t len)
{
    struct chunk_ctx *cc = arg;
    struct fetch_attempt *a = cc->a;
    if (status == SHUFFLE_OK)
        deliver(a, cc->chunk, body, len, NULL);
    else
        fail_from(a, cc->chunk, status, "ChunkFetch", err);
    attempt_unref(a);
}

static int stream_start(void *arg, uint64_t byte_count)
{
    struct chunk_ctx *cc = arg;
    struct fetch_attempt *a = cc->a;
    if (a->detached)
        return 0; /* bytes are discarded */
    cc->path = client_strf("%s/libshuffle-%lld_%zu-XXXXXX", a->c->tmp_dir, (long long)a->stream_id,
                           cc->chunk);
    cc->fd = mkstemp(cc->path);
    if (cc->fd < 0) {
        free(cc->path);
        cc->path = NULL;
        return -1;
    }
    return 0;
}

static int stream_data(void *arg, const uint8_t *data, size_t len)
{
    struct chunk_ctx *cc = arg;
    if (cc->fd >= 0)
        cc->got += len;
    if (!data)
        return 0; /* the transport wrote them to cc->fd */
    while (cc->fd >= 0 && len > 0) {
        ssize_t w = write(cc->fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

static int stream_sink(void *arg)
{
    struct chunk_ctx *cc = arg;
    return cc->fd;
}

static void stream_done(void *arg, int status, const char *err)
{
    struct chunk_ctx *cc = arg;
    struct fetch_attempt *a = cc->a;
    char why[300];
    if (cc->fd >= 0) {
        if (close(cc->fd) != 0 && status == SHUFFLE_OK) {
            snprintf(why, sizeof(why), "cannot write %s: %s", cc->path, strerror(errno));
            status = SHUFFLE_ELOCAL;
            err = why;
        }
        cc->fd = -1;
    }
    if (status == SHUFFLE_ELOCAL && cc->path == NULL) {
        snprintf(why, sizeof(why), "cannot create a temp file in %s: %s", a->c->tmp_dir,
                 strerror(errno));
        err = why;
    }
    if (status == SHUFFLE_OK && cc->path)
        deliver(a, cc->chunk, NULL, cc->got, cc->path);
    else if (status != SHUFFLE_OK)
        fail_from(a, cc->chunk, status, "StreamRequest", err);
    if (cc->path) {
        unlink(cc->path); /* the listener renamed it or is done with it */
        free(cc->path);
        cc->path = NULL;
    }
    attempt_unref(a);
}

static void on_handle(void *arg, int status, const char *err, const uint8_t *body, size_t len)
{
    struct fetch_attempt *a = arg;
    if (status != SHUFFLE_OK) {
        fail_from(a, 0, status, a->op, err);
        attempt_unref(a);
        return;
    }
    struct blockmsg m;
    char derr[200];
    memset(&m, 0, sizeof(m));
    int bad = blockmsg_decode(body, len, &m, derr, sizeof(derr));
    if (bad == 0 && m.type != BLOCKMSG_STREAM_HANDLE) {
        snprintf(derr, sizeof(derr), "expected a StreamHandle reply, got %s",
                 blockmsg_type_name(m.type));
        bad = -1;
    }
    if (bad) {
        blockmsg_free(&m);
        fail_from(a, 0, SHUFFLE_EPROTO, a->op, derr);
        attempt_unref(a);
        return;
    }
    a->stream_id = m.u.stream_handle.stream_id;
    blockmsg_free(&m);
    /* Spark does not compare numChunks with the number of ids: one chunk per id. */
    for (size_t i = 0; i < a->n && !a->detached; i++) {
        struct chunk_ctx *cc = &a->chunks[i];
        int rc;
        a->refs++;
        if (a->to_file[a->order[i]]) {
            char sid[48];
            snprintf(sid, sizeof(sid), "%lld_%zu", (long long)a->stream_id, i);
            struct tconn_stream_cb scb = {stream_start, stream_data, stream_done, cc, stream_sink};
            rc = tconn_fetch_stream(a->t, sid, &scb);
        } else {
            rc = tconn_fetch_chunk(a->t, a->stream_id, (int32_t)i, on_chunk, cc);
        }
        if (rc != 0) {
            a->refs--;
            char *msg = client_strf("Connection to %s closed", tconn_peer(a->t));
            fail_from(a, i, SHUFFLE_EIO, a->to_file[a->order[i]] ? "StreamRequest" : "ChunkFetch",
                      msg);
            free(msg);
            break;
        }
    }
    attempt_unref(a);
}

struct fetch_attempt *fetch_attempt_start(shuffle_client *c, struct tconn *t, const char *app_id,
                                          const char *exec_id, const char *const *ids,
                                          const size_t *pos, const bool *to_file, size_t n,
                                          const struct fetch_listener *l, int *status, char *err,
                                          size_t errlen)
{
    *status = SHUFFLE_ELOCAL;
    struct fetch_attempt *a = calloc(1, sizeof(*a));
    if (!a) {
        client_set_err(err, errlen, "out of memory");
        return NULL;
    }
    a->c = c;
    a->t = t;
    tconn_ref(t);
    a->refs = 1;
    a->l = *l;
    a->n = n;
    a->ids = client_strv_dup(ids, n);
    a->pos = malloc((n + 1) * sizeof(size_t));
    a->to_file = malloc(n + 1);
    a->order = malloc((n + 1) * sizeof(size_t));
    a->done = calloc(n + 1, 1);
    a->chunks = calloc(n + 1, sizeof(*a->chunks));
    if (!a->ids || !a->pos || !a->to_file || !a->order || !a->done || !a->chunks) {
        client_set_err(err, errlen, "out of memory");
        attempt_unref(a);
        return NULL;
    }
    memcpy(a->pos, pos, n * sizeof(size_t));
    memcpy(a->to_file, to_file, n);
    for (size_t i = 0; i < n; i++) {
        a->chunks[i].a = a;
        a->chunks[i].chunk = i;
        a->chunks[i].fd = -1;
        a->order[i] = i;
    }
    struct blockmsg m;
    if (!c->opts.use_old_fetch_protocol && blockids_all_chunks(ids, n)) {
        a->op = "FetchShuffleBlockChunks";
        if (blockids_plan_fetch_chunks(app_id, exec_id, ids, n, &m, a->order, err, errlen) != 0) {
            *status = SHUFFLE_EINVAL;
            attempt_unref(a);
            return NULL;
        }
    } else if (!c->opts.use_old_fetch_protocol && blockids_all_shuffle(ids, n)) {
        a->op = "FetchShuffleBlocks";
        if (blockids_plan_fetch_shuffle(app_id, exec_id, ids, n, &m, a->order, err, errlen) != 0) {
            *status = SHUFFLE_EINVAL;
            attempt_unref(a);
            return NULL;
        }
    } else {
        a->op = "OpenBlocks";
        if (n == 0) {
            client_set_err(err, errlen, "Zero-sized blockIds array");
            *status = SHUFFLE_EINVAL;
            attempt_unref(a);
            return NULL;
        }
        if (blockids_open_blocks(app_id, exec_id, ids, n, &m) != 0) {
            client_set_err(err, errlen, "out of memory");
            attempt_unref(a);
            return NULL;
        }
    }
    struct proto_writer w;
    proto_writer_init(&w);
    blockmsg_encode(&w, &m);
    blockmsg_free(&m);
    a->refs++;
    if (w.failed || tconn_rpc(t, w.buf, w.len, on_handle, a) != 0) {
        proto_writer_free(&w);
        a->refs--;
        client_set_err(err, errlen, "cannot send %s to %s", a->op, tconn_peer(t));
        attempt_unref(a);
        return NULL;
    }
    proto_writer_free(&w);
    return a;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* A scripted fake shuffle service for client tests: see fake_ess.h. */
#include <config.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_ess.h"
#include "tclient.h"
#include "proto/blockmsg.h"
#include "proto/codec.h"
#include "proto/frame.h"
#include "proto/message.h"

#define MAX_CONNS 256
#define MAX_RPCS 1024

struct fstream {
    int64_t id;
    char **ids;
    size_t n, next;
};

struct fconn {
    struct fake_ess *f;
    int index;
    int fd;
    pthread_t thread;
    uint8_t *rx;
    size_t rx_len, rx_cap;
    struct fstream *streams;
    size_t nstreams;
    int sent_chunks;
    uint32_t rnd;  /* dribble piece sizes */
    bool cut_body; /* drop_mid_body: the next reply write is the body to cut */
};

struct fake_ess {
    struct fake_ess_opts o;
    int lfd, port;
    pthread_t acceptor;
    atomic_int stop;
    pthread_mutex_t lock;
    struct fconn *conns[MAX_CONNS];
    atomic_int nconns;
    atomic_int nrpcs;
    atomic_int nstream_requests;
    int rpc_blocks[MAX_RPCS];
    int64_t next_stream;
};

/* A reply's bytes, dribbled or cut as the options say. */
static int conn_write(struct fconn *c, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    if (c->cut_body) {
        c->cut_body = false;
        tc_send_all(c->fd, p, len / 2);
        return -1; /* the connection closes */
    }
    int piece = c->f->o.dribble;
    if (piece <= 0)
        return tc_send_all(c->fd, p, len);
    while (len) {
        c->rnd = c->rnd * 1103515245u + 12345u;
        size_t n = 1 + (c->rnd >> 8) % (uint32_t)piece;
        n = n < len ? n : len;
        if (tc_send_all(c->fd, p, n) != 0)
            return -1;
        p += n;
        len -= n;
        sched_yield();
    }
    return 0;
}

/* drop_mid_body: arms the cut for the reply about to be written. */
static void maybe_cut(struct fconn *c)
{
    if (c->f->o.drop_mid_body && c->index == 0 && c->sent_chunks == 0)
        c->cut_body = true;
}
static int send_msg(struct fconn *c, const struct proto_msg *m)
{
    struct proto_writer w;
    proto_writer_init(&w);
    proto_msg_encode(&w, m);
    int rc = conn_write(c, w.buf, w.len);
    proto_writer_free(&w);
    return rc;
}

static int rpc_reply(struct fconn *c, int64_t id, const struct blockmsg *reply)
{
    struct proto_writer body;
    proto_writer_init(&body);
    if (reply)
        blockmsg_encode(&body, reply);
    struct proto_msg m = {.type = PROTO_RPC_RESPONSE};
    m.u.rpc.request_id = id;
    m.u.rpc.body.data = body.buf;
    m.u.rpc.body.len = (uint32_t)body.len;
    int rc = send_msg(c, &m);
    proto_writer_free(&body);
    return rc;
}

static int rpc_fail(struct fconn *c, int64_t id, const char *text)
{
    struct proto_msg m = {.type = PROTO_RPC_FAILURE};
    m.u.rpc_failure.request_id = id;
    m.u.rpc_failure.error.data = (const uint8_t *)text;
    m.u.rpc_failure.error.len = (uint32_t)strlen(text);
    return send_msg(c, &m);
}

static int open_stream(struct fconn *c, int64_t rpc_id, char **ids, size_t n)
{
    struct fake_ess *f = c->f;
    int k = atomic_fetch_add(&f->nrpcs, 1);
    if (k < MAX_RPCS)
        f->rpc_blocks[k] = (int)n;
    if (f->o.wrong_reply) {
        for (size_t i = 0; i < n; i++)
            free(ids[i]);
        free(ids);
        struct blockmsg r = {.type = BLOCKMSG_BLOCKS_REMOVED};
        return rpc_reply(c, rpc_id, &r);
    }
    if (f->o.fetch_error) {
        for (size_t i = 0; i < n; i++)
            free(ids[i]);
        free(ids);
        return rpc_fail(c, rpc_id, f->o.fetch_error);
    }
    pthread_mutex_lock(&f->lock);
    int64_t sid = f->next_stream++;
    pthread_mutex_unlock(&f->lock);
    c->streams = realloc(c->streams, (c->nstreams + 1) * sizeof(*c->streams));
    c->streams[c->nstreams++] = (struct fstream){sid, ids, n, 0};
    struct blockmsg h = {.type = BLOCKMSG_STREAM_HANDLE};
    h.u.stream_handle.stream_id = sid;
    h.u.stream_handle.num_chunks = (int32_t)n;
    return rpc_reply(c, rpc_id, &h);
}

static char *dupview(const struct proto_bytes *b)
{
    return strndup(b->data, b->len);
}

static int handle_rpc(struct fconn *c, int64_t id, const uint8_t *body, size_t len)
{
    struct blockmsg m;
    char err[200];
    memset(&m, 0, sizeof(m));
    if (c->f->o.garbage) {
        /* a frame length of -1, then junk */
        static const uint8_t junk[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 4};
        return tc_send_all(c->fd, junk, sizeof(junk));
    }
    if (blockmsg_decode(body, len, &m, err, sizeof(err)) != 0) {
        char text[260];
        snprintf(text, sizeof(text), "java.lang.IllegalArgumentException: %s", err);
        return rpc_fail(c, id, text);
    }
    int rc = 0;
    const struct manifest *man = c->f->o.manifest;
    switch (m.type) {
    case BLOCKMSG_REGISTER_EXECUTOR:
        rc = rpc_reply(c, id, NULL);
        break;
    case BLOCKMSG_OPEN_BLOCKS: {
        size_t n = m.u.open_blocks.block_ids.count;
        char **ids = calloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
            ids[i] = dupview(&m.u.open_blocks.block_ids.items[i]);
        rc = open_stream(c, id, ids, n);
        break;
    }
    case BLOCKMSG_FETCH_SHUFFLE_BLOCKS: {
        size_t n = 0;
        bool batch = m.u.fetch_shuffle_blocks.batch_fetch_enabled;
        for (uint32_t i = 0; i < m.u.fetch_shuffle_blocks.reduce_ids.count; i++)
            n += m.u.fetch_shuffle_blocks.reduce_ids.rows[i].count / (batch ? 2 : 1);
        char **ids = calloc(n + 1, sizeof(char *));
        size_t k = 0;
        for (uint32_t i = 0; i < m.u.fetch_shuffle_blocks.reduce_ids.count; i++) {
            const struct proto_int_array *row = &m.u.fetch_shuffle_blocks.reduce_ids.rows[i];
            for (uint32_t j = 0; j + (batch ? 1 : 0) < row->count; j += batch ? 2 : 1) {
                char *s = NULL;
                int ok;
                if (batch)
                    ok = asprintf(&s, "shuffle_%d_%lld_%d_%d", m.u.fetch_shuffle_blocks.shuffle_id,
                                  (long long)m.u.fetch_shuffle_blocks.map_ids.items[i],
                                  row->items[j], row->items[j + 1]);
                else
                    ok = asprintf(&s, "shuffle_%d_%lld_%d", m.u.fetch_shuffle_blocks.shuffle_id,
                                  (long long)m.u.fetch_shuffle_blocks.map_ids.items[i],
                                  row->items[j]);
                ids[k++] = ok < 0 ? strdup("?") : s;
            }
        }
        rc = open_stream(c, id, ids, k);
        break;
    }
    case BLOCKMSG_REMOVE_BLOCKS: {
        int removed = 0;
        for (uint32_t i = 0; i < m.u.remove_blocks.block_ids.count; i++)
            if (manifest_find(man, m.u.remove_blocks.block_ids.items[i].data))
                removed++;
        struct blockmsg r = {.type = BLOCKMSG_BLOCKS_REMOVED};
        r.u.blocks_removed.num_removed_blocks = removed;
        rc = rpc_reply(c, id, &r);
        break;
    }
    case BLOCKMSG_GET_LOCAL_DIRS_FOR_EXECUTORS: {
        uint32_t n = m.u.get_local_dirs.exec_ids.count;
        struct blockmsg r = {.type = BLOCKMSG_LOCAL_DIRS_FOR_EXECUTORS};
        r.u.local_dirs.exec_ids = m.u.get_local_dirs.exec_ids; /* borrowed */
        int32_t *counts = calloc(n + 1, sizeof(int32_t));
        struct proto_bytes *all = calloc(n * man->num_dirs + 1, sizeof(*all));
        for (uint32_t i = 0; i < n; i++) {
            counts[i] = (int32_t)man->num_dirs;
            for (size_t j = 0; j < man->num_dirs; j++) {
                all[i * man->num_dirs + j].data = man->local_dirs[j];
                all[i * man->num_dirs + j].len = (uint32_t)strlen(man->local_dirs[j]);
            }
        }
        r.u.local_dirs.num_local_dirs_by_exec.items = counts;
        r.u.local_dirs.num_local_dirs_by_exec.count = n;
        r.u.local_dirs.all_local_dirs.items = all;
        r.u.local_dirs.all_local_dirs.count = (uint32_t)(n * man->num_dirs);
        rc = rpc_reply(c, id, &r);
        free(counts);
        free(all);
        break;
    }
    default:
        rc = rpc_fail(c, id, "java.lang.UnsupportedOperationException: Unexpected message");
    }
    blockmsg_free(&m);
    return rc;
}

static struct fstream *find_stream(struct fconn *c, int64_t sid)
{
    for (size_t i = 0; i < c->nstreams; i++)
        if (c->streams[i].id == sid)
            return &c->streams[i];
    return NULL;
}

/* Spark's getChunk checks; returns the block id or NULL with text filled. */
static const char *next_chunk(struct fconn *c, int64_t sid, int32_t idx, char *text, size_t tl)
{
    struct fstream *s = find_stream(c, sid);
    if (!s) {
        snprintf(text, tl, "java.lang.NullPointerException");
        return NULL;
    }
    if ((size_t)idx != s->next) {
        snprintf(text, tl,
                 "java.lang.IllegalStateException: Received out-of-order chunk index "
                 "%d (expected %zu)",
                 idx, s->next);
        return NULL;
    }
    if (s->next >= s->n) {
        snprintf(text, tl, "java.lang.IllegalStateException: Requested chunk index beyond end %d",
                 idx);
        return NULL;
    }
    return s->ids[s->next++];
}

static uint8_t *block_bytes(struct fconn *c, const char *id, uint64_t *len, char *text, size_t tl)
{
    uint8_t *b = manifest_read(c->f->o.manifest, id, len);
    if (!b)
        snprintf(text, tl,
                 "java.lang.RuntimeException: Failed to open file: %s.index\n\tat "
                 "fake",
                 id);
    return b;
}

static int handle_chunk(struct fconn *c, int64_t sid, int32_t idx)
{
    char text[300];
    uint64_t len = 0;
    const char *id = next_chunk(c, sid, idx, text, sizeof(text));
    uint8_t *data = id ? block_bytes(c, id, &len, text, sizeof(text)) : NULL;
    struct proto_msg m;
    int rc;
    if (data) {
        m.type = PROTO_CHUNK_FETCH_SUCCESS;
        m.u.chunk_fetch_success.stream_id = sid;
        m.u.chunk_fetch_success.chunk_index = idx;
        m.u.chunk_fetch_success.body.data = data;
        m.u.chunk_fetch_success.body.len = (uint32_t)len;
        maybe_cut(c);
    } else {
        m.type = PROTO_CHUNK_FETCH_FAILURE;
        m.u.chunk_fetch_failure.stream_id = sid;
        m.u.chunk_fetch_failure.chunk_index = idx;
        m.u.chunk_fetch_failure.error.data = (const uint8_t *)text;
        m.u.chunk_fetch_failure.error.len = (uint32_t)strlen(text);
    }
    rc = send_msg(c, &m);
    free(data);
    return rc;
}

static int handle_stream(struct fconn *c, const struct proto_view *v)
{
    char sidstr[64], text[300];
    snprintf(sidstr, sizeof(sidstr), "%.*s", (int)v->len, (const char *)v->data);
    long long sid;
    int idx;
    uint64_t len = 0;
    uint8_t *data = NULL;
    atomic_fetch_add(&c->f->nstream_requests, 1);
    if (sscanf(sidstr, "%lld_%d", &sid, &idx) != 2) {
        snprintf(text, sizeof(text), "java.lang.NumberFormatException: For input string: \"%s\"",
                 sidstr);
    } else {
        const char *id = next_chunk(c, sid, idx, text, sizeof(text));
        data = id ? block_bytes(c, id, &len, text, sizeof(text)) : NULL;
    }
    struct proto_msg m;
    int rc;
    if (data) {
        m.type = PROTO_STREAM_RESPONSE;
        m.u.stream_response.stream_id = *v;
        m.u.stream_response.byte_count = (int64_t)len;
        rc = send_msg(c, &m);
        if (rc == 0 && len) {
            maybe_cut(c);
            rc = conn_write(c, data, len);
        }
    } else {
        m.type = PROTO_STREAM_FAILURE;
        m.u.stream_failure.stream_id = *v;
        m.u.stream_failure.error.data = (const uint8_t *)text;
        m.u.stream_failure.error.len = (uint32_t)strlen(text);
        rc = send_msg(c, &m);
    }
    free(data);
    return rc;
}

static bool should_close_after_chunks(struct fconn *c)
{
    const struct fake_ess_opts *o = &c->f->o;
    return o->close_after_chunks > 0 && (o->close_conns < 0 || c->index < o->close_conns) &&
           c->sent_chunks >= o->close_after_chunks;
}

static int handle_frame(struct fconn *c, const struct frame_out *out)
{
    struct proto_msg m;
    char err[200];
    if (proto_msg_decode(out->type, out->content, out->content_len, &m, err, sizeof(err)) != 0)
        return -1;
    switch (m.type) {
    case PROTO_RPC_REQUEST:
        return handle_rpc(c, m.u.rpc.request_id, m.u.rpc.body.data, m.u.rpc.body.len);
    case PROTO_CHUNK_FETCH_REQUEST:
        if (handle_chunk(c, m.u.chunk_fetch_request.stream_id,
                         m.u.chunk_fetch_request.chunk_index) != 0)
            return -1;
        c->sent_chunks++;
        return should_close_after_chunks(c) ? -1 : 0;
    case PROTO_STREAM_REQUEST:
        if (handle_stream(c, &m.u.stream_request.stream_id) != 0)
            return -1;
        c->sent_chunks++;
        return should_close_after_chunks(c) ? -1 : 0;
    default:
        return 0; /* one-way messages and anything else: no reply */
    }
}

static void *conn_main(void *arg)
{
    struct fconn *c = arg;
    const struct fake_ess_opts *o = &c->f->o;
    if (o->close_on_accept < 0 || c->index < o->close_on_accept) {
        shutdown(c->fd, SHUT_RDWR);
        return NULL;
    }
    struct frame_decoder d;
    frame_decoder_init(&d, 0);
    uint8_t buf[65536];
    for (;;) {
        ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (c->rx_len + (size_t)r > c->rx_cap) {
            c->rx_cap = (c->rx_len + (size_t)r) * 2;
            c->rx = realloc(c->rx, c->rx_cap);
        }
        memcpy(c->rx + c->rx_len, buf, (size_t)r);
        c->rx_len += (size_t)r;
        if (o->silent || (o->silent_first && c->index == 0))
            continue;
        const uint8_t *p = buf;
        size_t left = (size_t)r;
        struct frame_out out;
        enum frame_event ev;
        int stop = 0;
        while (!stop && (ev = frame_decoder_next(&d, &p, &left, &out)) != FRAME_NEED_MORE) {
            if (ev == FRAME_ERROR || (ev == FRAME_MESSAGE && handle_frame(c, &out) != 0))
                stop = 1;
        }
        if (stop)
            break;
    }
    frame_decoder_free(&d);
    shutdown(c->fd, SHUT_RDWR);
    return NULL;
}

static void *accept_main(void *arg)
{
    struct fake_ess *f = arg;
    while (!atomic_load(&f->stop)) {
        struct pollfd p = {f->lfd, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0)
            continue;
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        int k = atomic_load(&f->nconns);
        if (k >= MAX_CONNS) {
            close(fd);
            continue;
        }
        struct fconn *c = calloc(1, sizeof(*c));
        c->f = f;
        c->index = k;
        c->fd = fd;
        c->rnd = (uint32_t)k + 1;
        if (f->o.dribble) { /* every piece its own segment */
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
        f->conns[k] = c;
        atomic_store(&f->nconns, k + 1);
        pthread_create(&c->thread, NULL, conn_main, c);
    }
    return NULL;
}

struct fake_ess *fake_ess_start(const struct fake_ess_opts *o)
{
    struct fake_ess *f = calloc(1, sizeof(*f));
    f->o = *o;
    f->next_stream = o->first_stream_id ? o->first_stream_id : 792209503000LL;
    pthread_mutex_init(&f->lock, NULL);
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof(a);
    if (bind(f->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(f->lfd, 128) != 0 ||
        getsockname(f->lfd, (struct sockaddr *)&a, &al) != 0) {
        close(f->lfd);
        free(f);
        return NULL;
    }
    f->port = ntohs(a.sin_port);
    pthread_create(&f->acceptor, NULL, accept_main, f);
    return f;
}

int fake_ess_port(const struct fake_ess *f)
{
    return f->port;
}

int fake_ess_connections(struct fake_ess *f)
{
    return atomic_load(&f->nconns);
}

int fake_ess_fetch_rpcs(struct fake_ess *f)
{
    return atomic_load(&f->nrpcs);
}

int fake_ess_stream_requests(struct fake_ess *f)
{
    return atomic_load(&f->nstream_requests);
}

int fake_ess_fetch_rpc_blocks(struct fake_ess *f, int k)
{
    return k >= 0 && k < atomic_load(&f->nrpcs) && k < MAX_RPCS ? f->rpc_blocks[k] : -1;
}

const uint8_t *fake_ess_received(struct fake_ess *f, int k, size_t *len)
{
    if (k < 0 || k >= atomic_load(&f->nconns)) {
        *len = 0;
        return NULL;
    }
    *len = f->conns[k]->rx_len;
    return f->conns[k]->rx;
}

void fake_ess_halt(struct fake_ess *f)
{
    if (atomic_exchange(&f->stop, 1))
        return;
    pthread_join(f->acceptor, NULL);
    close(f->lfd);
    int n = atomic_load(&f->nconns);
    for (int i = 0; i < n; i++) {
        shutdown(f->conns[i]->fd, SHUT_RDWR);
        pthread_join(f->conns[i]->thread, NULL);
    }
}

void fake_ess_stop(struct fake_ess *f)
{
    fake_ess_halt(f);
    int n = atomic_load(&f->nconns);
    for (int i = 0; i < n; i++) {
        struct fconn *c = f->conns[i];
        close(c->fd);
        for (size_t s = 0; s < c->nstreams; s++) {
            for (size_t j = 0; j < c->streams[s].n; j++)
                free(c->streams[s].ids[j]);
            free(c->streams[s].ids);
        }
        free(c->streams);
        free(c->rx);
        free(c);
    }
    pthread_mutex_destroy(&f->lock);
    free(f);
}

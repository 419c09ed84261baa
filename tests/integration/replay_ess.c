/* SPDX-License-Identifier: Apache-2.0 */
/* A replaying shuffle service for client tests: see replay_ess.h. */
#include <config.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../harness/fs.h"
#include "proto/frame.h"
#include "proto/message.h"
#include "replay_ess.h"
#include "tclient.h"

/* One recorded frame: its key (request id, or stream id + chunk index) and bytes. */
struct rec_frame {
    uint8_t type;
    uint8_t key[12];
    size_t key_len;
    char *signature; /* client frames: the masked form a live frame must equal */
    uint8_t *bytes;  /* server frames: the whole frame */
    size_t len;
    bool used;
};

struct rec_list {
    struct rec_frame *f;
    size_t n;
};

struct replay_ess {
    struct rec_list c2s, s2c;
    int lfd, port;
    pthread_t thread;
    atomic_int stop, unmatched, conns;
    replay_answer_fn script; /* answers instead of the recording */
    void *script_ctx;
    pthread_mutex_t lock;
    uint8_t *rx;
    size_t rx_len, rx_cap;
};

/* Frames whose first 8 content bytes are a request id. */
static bool has_request_id(uint8_t type)
{
    return type == PROTO_RPC_REQUEST || type == PROTO_UPLOAD_STREAM ||
           type == PROTO_MERGED_BLOCK_META_REQUEST || type == PROTO_RPC_RESPONSE ||
           type == PROTO_RPC_FAILURE || type == PROTO_MERGED_BLOCK_META_SUCCESS;
}

static bool is_chunk_frame(uint8_t type)
{
    return type == PROTO_CHUNK_FETCH_REQUEST || type == PROTO_CHUNK_FETCH_SUCCESS ||
           type == PROTO_CHUNK_FETCH_FAILURE;
}

static char *hex_append(char *s, size_t *len, const uint8_t *data, size_t n, size_t masked)
{
    char *grown = realloc(s, *len + 2 * n + 2);
    if (!grown) {
        free(s);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        *len += (size_t)sprintf(grown + *len, "%02x", i < masked ? 0 : data[i]);
    return grown;
}

/* The masked form of a frame and its after-frame bytes. */
static char *signature(uint8_t type, const uint8_t *content, size_t len, const uint8_t *after,
                       size_t after_len)
{
    size_t n = 0;
    char *s = malloc(8);
    if (!s)
        return NULL;
    n = (size_t)sprintf(s, "%02x|", type);
    s = hex_append(s, &n, content, len, has_request_id(type) ? 8 : 0);
    if (s && after_len) {
        s[n++] = '+';
        s = hex_append(s, &n, after, after_len, 0);
    }
    return s;
}

struct scan_state {
    struct rec_list *list;
    bool client;
    struct rec_frame *last;
    uint8_t *after;
    size_t after_len;
};

static void finish_client_frame(struct scan_state *st)
{
    struct rec_frame *f = st->last;
    if (!f || f->signature)
        return;
    f->signature = signature(f->type, f->bytes, f->len, st->after, st->after_len);
    free(st->after);
    st->after = NULL;
    st->after_len = 0;
}

static int record(void *ctx, enum frame_event ev, const struct frame_out *out)
{
    struct scan_state *st = ctx;
    if (ev == FRAME_RAW) {
        uint8_t *grown = realloc(st->after, st->after_len + out->raw_len + 1);
        if (!grown)
            return -1;
        memcpy(grown + st->after_len, out->raw, out->raw_len);
        st->after = grown;
        st->after_len += out->raw_len;
        return 0;
    }
    if (st->client)
        finish_client_frame(st);
    struct rec_frame *grown = realloc(st->list->f, (st->list->n + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    st->list->f = grown;
    struct rec_frame *f = &grown[st->list->n++];
    memset(f, 0, sizeof(*f));
    f->type = out->type;
    size_t key_len = has_request_id(out->type) ? 8 : is_chunk_frame(out->type) ? 12 : 0;
    if (key_len <= out->content_len) {
        memcpy(f->key, out->content, key_len);
        f->key_len = key_len;
    }
    /* client frames keep their content (for the signature), server frames the whole frame */
    size_t header = st->client ? 0 : PROTO_FRAME_HEADER_LEN;
    f->len = out->content_len + header;
    f->bytes = malloc(f->len + 1);
    if (!f->bytes)
        return -1;
    if (header) {
        uint64_t frame_len = f->len;
        for (int i = 0; i < 8; i++)
            f->bytes[i] = (uint8_t)(frame_len >> (56 - 8 * i));
        f->bytes[8] = out->type;
    }
    memcpy(f->bytes + header, out->content, out->content_len);
    st->last = f;
    return 0;
}

static int load(const char *dir, const char *file, struct rec_list *list, bool client)
{
    char path[4096], err[200];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    size_t len;
    uint8_t *data = harness_read_file(path, &len);
    if (!data)
        return -1;
    struct scan_state st = {.list = list, .client = client};
    int rc = frame_scan(data, len, 0, record, &st, err, sizeof(err));
    if (client)
        finish_client_frame(&st);
    free(st.after);
    free(data);
    return rc;
}

static void free_list(struct rec_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->f[i].signature);
        free(l->f[i].bytes);
    }
    free(l->f);
}

/* Sends the recorded answers to the recorded client frame c, with live_id patched in. */
static int answer(struct replay_ess *r, int fd, const struct rec_frame *c, const uint8_t *live_id)
{
    for (size_t i = 0; i < r->s2c.n; i++) {
        struct rec_frame *s = &r->s2c.f[i];
        bool rpc_answer = has_request_id(c->type) && has_request_id(s->type);
        bool chunk_answer = c->type == PROTO_CHUNK_FETCH_REQUEST && is_chunk_frame(s->type);
        if (s->used || (!rpc_answer && !chunk_answer) || s->key_len != c->key_len ||
            memcmp(s->key, c->key, c->key_len) != 0)
            continue;
        s->used = true;
        if (rpc_answer)
            memcpy(s->bytes + PROTO_FRAME_HEADER_LEN, live_id, 8);
        if (tc_send_all(fd, s->bytes, s->len) != 0)
            return -1;
    }
    return 0;
}

/* A complete live frame (content + after-frame bytes): 0, or -1 to close. */
static int on_live_frame(struct replay_ess *r, int fd, uint8_t type, const uint8_t *content,
                         size_t len, const uint8_t *after, size_t after_len)
{
    if (r->script)
        return r->script(r->script_ctx, fd, atomic_load(&r->conns) - 1, type, content, len, after,
                         after_len);
    char *sig = signature(type, content, len, after, after_len);
    for (size_t i = 0; sig && i < r->c2s.n; i++) {
        struct rec_frame *c = &r->c2s.f[i];
        if (c->used || !c->signature || strcmp(c->signature, sig) != 0)
            continue;
        c->used = true;
        free(sig);
        return answer(r, fd, c, content);
    }
    free(sig);
    atomic_fetch_add(&r->unmatched, 1);
    return -1;
}

static void keep_received(struct replay_ess *r, const uint8_t *data, size_t n)
{
    pthread_mutex_lock(&r->lock);
    if (r->rx_len + n > r->rx_cap) {
        size_t cap = (r->rx_len + n) * 2;
        uint8_t *grown = realloc(r->rx, cap);
        if (grown) {
            r->rx = grown;
            r->rx_cap = cap;
        }
    }
    if (r->rx_len + n <= r->rx_cap) {
        memcpy(r->rx + r->rx_len, data, n);
        r->rx_len += n;
    }
    pthread_mutex_unlock(&r->lock);
}

/* Serves one connection until it closes, the replay fails or stop is set. */
static void serve(struct replay_ess *r, int fd)
{
    struct frame_decoder d;
    frame_decoder_init(&d, 0);
    uint8_t buf[65536], type = 0;
    uint8_t *content = NULL, *after = NULL;
    size_t content_len = 0, after_len = 0;
    bool waiting_body = false, open = true;
    while (open && !atomic_load(&r->stop)) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t got = recv(fd, buf, sizeof(buf), 0);
        if (got <= 0)
            break;
        keep_received(r, buf, (size_t)got);
        const uint8_t *in = buf;
        size_t left = (size_t)got;
        struct frame_out out;
        enum frame_event ev;
        while (open && (ev = frame_decoder_next(&d, &in, &left, &out)) != FRAME_NEED_MORE) {
            if (ev == FRAME_ERROR) {
                open = false;
            } else if (ev == FRAME_MESSAGE) {
                free(content);
                content = malloc(out.content_len + 1);
                memcpy(content, out.content, out.content_len);
                content_len = out.content_len;
                type = out.type;
                struct proto_msg m;
                char err[100];
                waiting_body =
                    type == PROTO_UPLOAD_STREAM &&
                    proto_msg_decode(type, content, content_len, &m, err, sizeof(err)) == 0 &&
                    m.u.upload_stream.body_byte_count > 0;
                if (!waiting_body)
                    open = on_live_frame(r, fd, type, content, content_len, NULL, 0) == 0;
            } else if (ev == FRAME_RAW && waiting_body) {
                after = realloc(after, after_len + out.raw_len + 1);
                memcpy(after + after_len, out.raw, out.raw_len);
                after_len += out.raw_len;
                if (out.raw_remaining == 0) {
                    open = on_live_frame(r, fd, type, content, content_len, after, after_len) == 0;
                    waiting_body = false;
                    after_len = 0;
                }
            }
        }
    }
    free(content);
    free(after);
    frame_decoder_free(&d);
    close(fd);
}

static void *run(void *arg)
{
    struct replay_ess *r = arg;
    while (!atomic_load(&r->stop)) {
        struct pollfd p = {r->lfd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept(r->lfd, NULL, NULL);
        if (fd >= 0) {
            atomic_fetch_add(&r->conns, 1);
            serve(r, fd);
        }
    }
    return NULL;
}

static struct replay_ess *start(const char *dir, replay_answer_fn fn, void *ctx)
{
    struct replay_ess *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    pthread_mutex_init(&r->lock, NULL);
    r->script = fn;
    r->script_ctx = ctx;
    r->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    if ((dir &&
         (load(dir, "c2s.bin", &r->c2s, true) != 0 || load(dir, "s2c.bin", &r->s2c, false) != 0)) ||
        r->lfd < 0 || bind(r->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(r->lfd, 8) != 0 || getsockname(r->lfd, (struct sockaddr *)&a, &alen) != 0 ||
        pthread_create(&r->thread, NULL, run, r) != 0) {
        if (r->lfd >= 0)
            close(r->lfd);
        free_list(&r->c2s);
        free_list(&r->s2c);
        pthread_mutex_destroy(&r->lock);
        free(r);
        return NULL;
    }
    r->port = ntohs(a.sin_port);
    return r;
}

struct replay_ess *replay_ess_start(const char *dir)
{
    return start(dir, NULL, NULL);
}

struct replay_ess *replay_ess_start_scripted(replay_answer_fn fn, void *ctx)
{
    return start(NULL, fn, ctx);
}

int replay_ess_connections(struct replay_ess *r)
{
    return atomic_load(&r->conns);
}

int replay_ess_port(const struct replay_ess *r)
{
    return r->port;
}

int replay_ess_unmatched(struct replay_ess *r)
{
    return atomic_load(&r->unmatched);
}

const uint8_t *replay_ess_received(struct replay_ess *r, size_t *len)
{
    *len = r->rx_len;
    return r->rx;
}

void replay_ess_stop(struct replay_ess *r)
{
    atomic_store(&r->stop, 1);
    pthread_join(r->thread, NULL);
    close(r->lfd);
    free_list(&r->c2s);
    free_list(&r->s2c);
    pthread_mutex_destroy(&r->lock);
    free(r->rx);
    free(r);
}

/* ---- frame listings ---- */

struct listing {
    char **items;
    size_t n;
    const uint8_t *after;
    size_t after_len;
    uint8_t type;
    uint8_t *content; /* a copy: the scan's view lasts one call */
    size_t content_len;
    bool pending;
};

static int flush_item(struct listing *l)
{
    if (!l->pending)
        return 0;
    l->pending = false;
    char **grown = realloc(l->items, (l->n + 1) * sizeof(char *));
    if (!grown)
        return -1;
    l->items = grown;
    l->items[l->n] = signature(l->type, l->content, l->content_len, l->after, l->after_len);
    free(l->content);
    l->content = NULL;
    return l->items[l->n++] ? 0 : -1;
}

static int list_frame(void *ctx, enum frame_event ev, const struct frame_out *out)
{
    struct listing *l = ctx;
    if (ev == FRAME_RAW) { /* frame_scan hands the whole after-frame body in one piece */
        l->after = out->raw;
        l->after_len = out->raw_len;
        return 0;
    }
    if (flush_item(l) != 0)
        return -1;
    l->pending = true;
    l->type = out->type;
    l->content = malloc(out->content_len + 1);
    if (!l->content)
        return -1;
    memcpy(l->content, out->content, out->content_len);
    l->content_len = out->content_len;
    l->after = NULL;
    l->after_len = 0;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int replay_frames(const uint8_t *data, size_t len, char ***items, size_t *n)
{
    struct listing l = {0};
    char err[200];
    int rc = frame_scan(data, len, 0, list_frame, &l, err, sizeof(err));
    if (rc == 0)
        rc = flush_item(&l);
    free(l.content);
    if (l.n)
        qsort(l.items, l.n, sizeof(char *), cmp_str);
    *items = l.items;
    *n = l.n;
    return rc;
}

void replay_frames_free(char **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
}

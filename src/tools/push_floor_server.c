/* SPDX-License-Identifier: Apache-2.0 */
/* push-floor's server: the least work a push server can do per block. One epoll loop (the
 * daemon's shape) over the client's connections; per block it recvs the header and body into
 * one reused buffer, appends the body to its partition's file (one file per partition, kept
 * open, offsets kept in memory: no index, no journal, no protocol), and sends one small ack.
 * The modes take parts away (recv only) or swap them (splice, overwrite): see
 * push_floor_server.h. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tools/push_floor_server.h"

#define HDR sizeof(struct floor_header)
/* coalesced acks: at most this many wait for the end of a read callback */
#define FLOOR_HELD_ACKS 8

struct floor_conn {
    int fd;
    int pipe_fds[2]; /* splice mode: socket -> pipe -> file */
    uint8_t *buf;    /* header, body, and at most the next header */
    size_t fill;     /* bytes of buf holding received data */
    size_t spliced;  /* splice mode: body bytes already in the file */
    struct floor_ack acks[FLOOR_HELD_ACKS];
    int held; /* acks not sent yet */
};

struct floor_server {
    const struct floor_server_args *args;
    int *files;
    uint64_t *file_end;
    struct floor_server_result res;
};

static const char *const mode_names[FLOOR_MODES] = {"recv+pwrite", "splice", "recv-only",
                                                    "overwrite"};

const char *floor_mode_name(enum floor_mode mode)
{
    return mode_names[mode];
}

void floor_partition_path(char *out, size_t cap, const char *dir, uint32_t partition)
{
    snprintf(out, cap, "%s/part-%05u.data", dir, partition);
}

static int64_t cpu_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int fail(struct floor_server *s, const char *what)
{
    fprintf(stderr, "push-floor server: %s: %s\n", what, strerror(errno));
    s->res.failed = 1;
    return -1;
}

static int open_partitions(struct floor_server *s)
{
    const struct floor_server_args *a = s->args;
    s->files = calloc(a->partitions, sizeof(*s->files));
    s->file_end = calloc(a->partitions, sizeof(*s->file_end));
    if (!s->files || !s->file_end)
        return fail(s, "out of memory");
    /* overwrite keeps the previous pass's pages; every other mode starts from empty files */
    int flags = O_WRONLY | O_CREAT | (a->mode == FLOOR_OVERWRITE ? 0 : O_TRUNC);
    for (uint32_t p = 0; p < a->partitions; p++) {
        char path[4096];
        floor_partition_path(path, sizeof(path), a->dir, p);
        s->files[p] = a->mode == FLOOR_RECV_ONLY ? -1 : open(path, flags, 0644);
        if (a->mode != FLOOR_RECV_ONLY && s->files[p] < 0)
            return fail(s, path);
    }
    return 0;
}

/* Sends the acks held for c in one send. */
static int flush_acks(struct floor_server *s, struct floor_conn *c)
{
    size_t len = (size_t)c->held * sizeof(struct floor_ack);
    /* the client reads its acks; a full socket buffer here would mean it stopped */
    if (len && send(c->fd, c->acks, len, MSG_DONTWAIT) != (ssize_t)len)
        return fail(s, "send ack");
    c->held = 0;
    return 0;
}

/* One ack per block: sent at once, or (coalesced) held until the read callback ends. */
static int send_ack(struct floor_server *s, struct floor_conn *c, uint64_t block, uint64_t off)
{
    c->acks[c->held++] = (struct floor_ack){.block = block, .offset = off};
    s->res.blocks++;
    if (s->args->coalesce_acks && c->held < FLOOR_HELD_ACKS)
        return 0;
    return flush_acks(s, c);
}

/* Appends a body received into memory to its partition (or drops it: recv-only). */
static int store_body(struct floor_server *s, const struct floor_header *h, const uint8_t *body,
                      uint64_t *off)
{
    *off = s->file_end[h->partition];
    if (s->args->mode != FLOOR_RECV_ONLY) {
        size_t done = 0;
        while (done < h->body_len) {
            ssize_t n = pwrite(s->files[h->partition], body + done, h->body_len - done,
                               (off_t)(*off + done));
            if (n <= 0)
                return fail(s, "pwrite");
            done += (size_t)n;
        }
    }
    s->file_end[h->partition] += h->body_len;
    s->res.bytes += h->body_len;
    return 0;
}

static int check_header(struct floor_server *s, const struct floor_header *h)
{
    if (h->body_len == 0 || h->body_len > FLOOR_MAX_BODY || h->partition >= s->args->partitions) {
        errno = EPROTO;
        return fail(s, "bad block header");
    }
    return 0;
}

/* recv modes: one recv per block when the data is there, asking for the rest of this block
 * plus the next header, so what is left over is never more than a header (no big memmove).
 * Returns 0 to wait for the socket again, -1 on error. */
static int on_readable_recv(struct floor_server *s, struct floor_conn *c)
{
    for (;;) {
        size_t want = HDR - c->fill;
        if (c->fill >= HDR) {
            const struct floor_header *h = (const void *)c->buf;
            want = HDR + h->body_len + HDR - c->fill;
        }
        ssize_t n = recv(c->fd, c->buf + c->fill, want, 0);
        s->res.socket_reads++;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n <= 0) {
            errno = n == 0 ? ECONNRESET : errno;
            return fail(s, "recv");
        }
        size_t before = c->fill;
        c->fill += (size_t)n;
        if (before < HDR && c->fill >= HDR && check_header(s, (const void *)c->buf) != 0)
            return -1;
        while (c->fill >= HDR) {
            struct floor_header h;
            memcpy(&h, c->buf, HDR);
            if (c->fill < HDR + h.body_len)
                break;
            uint64_t off;
            if (store_body(s, &h, c->buf + HDR, &off) != 0 || send_ack(s, c, h.block, off) != 0)
                return -1;
            c->fill -= HDR + h.body_len;
            memmove(c->buf, c->buf + HDR + h.body_len, c->fill);
            if (c->fill >= HDR && check_header(s, (const void *)c->buf) != 0)
                return -1;
        }
        /* a short read drained the socket: let epoll say when there is more */
        if ((size_t)n < want || s->res.blocks == s->args->blocks)
            return 0;
    }
}

/* splice mode: the header by recv, the body socket -> pipe -> file without a user copy. */
static int on_readable_splice(struct floor_server *s, struct floor_conn *c)
{
    for (;;) {
        if (c->fill < HDR) {
            ssize_t n = recv(c->fd, c->buf + c->fill, HDR - c->fill, 0);
            s->res.socket_reads++;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return 0;
            if (n <= 0) {
                errno = n == 0 ? ECONNRESET : errno;
                return fail(s, "recv");
            }
            c->fill += (size_t)n;
            if (c->fill < HDR)
                return 0;
            if (check_header(s, (const void *)c->buf) != 0)
                return -1;
            c->spliced = 0;
        }
        struct floor_header h;
        memcpy(&h, c->buf, HDR);
        uint64_t start = s->file_end[h.partition];
        while (c->spliced < h.body_len) {
            ssize_t in = splice(c->fd, NULL, c->pipe_fds[1], NULL, h.body_len - c->spliced,
                                SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            s->res.socket_reads++;
            if (in < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return 0;
            if (in <= 0) {
                errno = in == 0 ? ECONNRESET : errno;
                return fail(s, "splice from socket");
            }
            for (ssize_t left = in; left > 0;) {
                loff_t off = (loff_t)(start + c->spliced);
                ssize_t out = splice(c->pipe_fds[0], NULL, s->files[h.partition], &off,
                                     (size_t)left, SPLICE_F_MOVE);
                if (out <= 0)
                    return fail(s, "splice to file");
                left -= out;
                c->spliced += (size_t)out;
            }
        }
        s->file_end[h.partition] += h.body_len;
        s->res.bytes += h.body_len;
        c->fill = 0;
        if (send_ack(s, c, h.block, start) != 0)
            return -1;
        if (s->res.blocks == s->args->blocks)
            return 0;
    }
}

static int accept_conns(struct floor_server *s, struct floor_conn *conns, int ep)
{
    const struct floor_server_args *a = s->args;
    for (int i = 0; i < a->conns; i++) {
        struct floor_conn *c = &conns[i];
        c->pipe_fds[0] = c->pipe_fds[1] = -1;
        c->fd = accept4(a->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        c->buf = malloc(FLOOR_MAX_BODY + 2 * HDR);
        if (c->fd < 0 || !c->buf)
            return fail(s, "accept");
        if (a->mode == FLOOR_SPLICE) {
            if (pipe2(c->pipe_fds, O_CLOEXEC) != 0)
                return fail(s, "pipe");
            /* room for a whole block, so one socket splice is drained by one file splice */
            (void)fcntl(c->pipe_fds[1], F_SETPIPE_SZ, 1 << 20);
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
            return fail(s, "epoll_ctl");
    }
    return 0;
}

static void close_all(struct floor_server *s, struct floor_conn *conns, int n)
{
    for (int i = 0; i < n; i++) {
        if (conns[i].fd >= 0)
            close(conns[i].fd);
        if (conns[i].pipe_fds[0] >= 0) {
            close(conns[i].pipe_fds[0]);
            close(conns[i].pipe_fds[1]);
        }
        free(conns[i].buf);
    }
    for (uint32_t p = 0; s->files && p < s->args->partitions; p++)
        if (s->files[p] >= 0)
            close(s->files[p]);
    free(s->files);
    free(s->file_end);
}

struct floor_server_result floor_serve(const struct floor_server_args *args)
{
    struct floor_server s = {.args = args};
    struct floor_conn *conns = calloc((size_t)args->conns, sizeof(*conns));
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!conns || ep < 0) {
        fail(&s, "setup");
        free(conns);
        return s.res;
    }
    for (int i = 0; i < args->conns; i++)
        conns[i].fd = conns[i].pipe_fds[0] = -1;
    if (open_partitions(&s) == 0) {
        int64_t t0 = cpu_now_ns();
        if (accept_conns(&s, conns, ep) == 0) {
            struct epoll_event evs[16];
            while (!s.res.failed && s.res.blocks < args->blocks) {
                int n = epoll_wait(ep, evs, 16, 30000);
                s.res.waits++;
                if (n <= 0) {
                    if (n < 0 && errno == EINTR)
                        continue;
                    errno = n == 0 ? ETIMEDOUT : errno;
                    fail(&s, "waiting for blocks");
                    break;
                }
                for (int i = 0; i < n && !s.res.failed; i++) {
                    struct floor_conn *c = evs[i].data.ptr;
                    if ((args->mode == FLOOR_SPLICE ? on_readable_splice(&s, c)
                                                    : on_readable_recv(&s, c)) == 0)
                        (void)flush_acks(&s, c);
                }
            }
        }
        s.res.cpu_ns = cpu_now_ns() - t0;
    }
    close_all(&s, conns, args->conns);
    free(conns);
    close(ep);
    return s.res;
}

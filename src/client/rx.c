/* SPDX-License-Identifier: Apache-2.0 */
/* The receive side of one client connection: see rx.h. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "client/link.h"
#include "client/rx.h"
#include "common/write_all.h"
#include "proto/codec.h"
#include "proto/frame.h"
#include "proto/message.h"

enum {
    RX_PUMP_BUDGET_BYTES = 8 * 1024 * 1024, /* per pump: other connections get their turn */
};

struct rx {
    struct rx_handler h;
    struct frame_decoder dec;
    uint64_t max_frame_bytes;
    bool no_splice;
    const struct link *link; /* NULL or plain: the socket's bytes are the frames */
    uint8_t *buf;            /* RX_BUF_BYTES; NULL while released */
    size_t start, end;       /* unread bytes: buf[start, end) */
    size_t need;             /* bytes from start that the next frame step needs */
    /* a large ChunkFetchSuccess read straight into its own allocation */
    uint8_t *body;
    uint8_t body_type;
    size_t body_len, body_have; /* its content (after the type byte) */
    /* after-frame bytes going to a file */
    int sink_fd; /* -1: none */
    uint64_t sink_left;
    uint64_t last_raw_count; /* of the frame being handed over */
    int pipe_fds[2];
    size_t pipe_bytes;
    struct rx_stats stats;
    int err;
    char error[200];
};

struct rx *rx_new(uint64_t max_frame_bytes, bool no_splice, const struct rx_handler *h)
{
    struct rx *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->h = *h;
    r->max_frame_bytes = max_frame_bytes;
    r->no_splice = no_splice;
    r->sink_fd = -1;
    r->pipe_fds[0] = r->pipe_fds[1] = -1;
    frame_decoder_init(&r->dec, max_frame_bytes);
    return r;
}

void rx_free(struct rx *r)
{
    if (!r)
        return;
    frame_decoder_free(&r->dec);
    free(r->buf);
    free(r->body);
    for (int i = 0; i < 2; i++)
        if (r->pipe_fds[i] >= 0)
            close(r->pipe_fds[i]);
    free(r);
}

const char *rx_error(const struct rx *r)
{
    return r->error;
}

int rx_errno(const struct rx *r)
{
    return r->err;
}

const struct rx_stats *rx_get_stats(const struct rx *r)
{
    return &r->stats;
}

void rx_sink_to(struct rx *r, int sink_fd)
{
    r->sink_fd = sink_fd;
}

int rx_set_link(struct rx *r, const struct link *link)
{
    if (r->start != r->end || r->body || r->sink_fd >= 0 || !frame_decoder_idle(&r->dec))
        return -1;
    r->link = link;
    return 0;
}

void rx_release_idle(struct rx *r)
{
    if (r->start == r->end && !r->body && r->sink_fd < 0 && frame_decoder_idle(&r->dec)) {
        free(r->buf);
        r->buf = NULL;
        r->start = r->end = 0;
        link_trim(r->link);
    }
}

static void reset_decoder(struct rx *r)
{
    frame_decoder_free(&r->dec);
    frame_decoder_init(&r->dec, r->max_frame_bytes);
}

/* n bytes went to the sink file: tells the owner. */
static enum rx_result report_sink(struct rx *r, size_t n)
{
    struct frame_out out;
    memset(&out, 0, sizeof(out));
    r->sink_left -= n;
    if (r->sink_left == 0)
        r->sink_fd = -1; /* the owner finishes (and closes) the file in on_raw */
    out.raw_len = n;
    out.raw_remaining = r->sink_left;
    return r->h.on_raw(r->h.arg, &out) ? RX_AGAIN : RX_STOPPED;
}

/* 0, or the errno of a failed write to the sink file */
static int sink_write(int fd, const uint8_t *p, size_t n)
{
    return write_all(fd, p, n) == 0 ? 0 : errno;
}

/* Sink bytes that are in the buffer: written to the file. */
static enum rx_result sink_buffered(struct rx *r)
{
    size_t n = r->end - r->start;
    if (n > r->sink_left)
        n = (size_t)r->sink_left;
    if ((r->err = sink_write(r->sink_fd, r->buf + r->start, n)) != 0)
        return RX_SINK_ERROR;
    r->start += n;
    r->stats.written_bytes += n;
    return report_sink(r, n);
}

/* Feeds up to n buffered bytes to the frame decoder and hands over its events.
 * Stops at the end of a frame (or of its after-frame bytes), and when the owner
 * sends the after-frame bytes to a file. */
static enum rx_result feed(struct rx *r, size_t n)
{
    const uint8_t *p = r->buf + r->start;
    size_t left = n;
    struct frame_out out;
    enum frame_event ev;
    while ((ev = frame_decoder_next(&r->dec, &p, &left, &out)) != FRAME_NEED_MORE) {
        if (ev == FRAME_ERROR) {
            snprintf(r->error, sizeof(r->error), "%s", r->dec.error);
            return RX_MALFORMED;
        }
        r->start += n - left;
        n = left;
        r->last_raw_count = ev == FRAME_MESSAGE ? out.raw_remaining : 0;
        if (!(ev == FRAME_MESSAGE ? r->h.on_frame : r->h.on_raw)(r->h.arg, &out))
            return RX_STOPPED;
        if (r->sink_fd >= 0) {
            /* the decoder waits for raw bytes that now bypass it */
            r->sink_left = r->last_raw_count;
            if (r->sink_left == 0)
                r->sink_fd = -1;
            reset_decoder(r);
            return RX_AGAIN;
        }
        if (frame_decoder_idle(&r->dec))
            return RX_AGAIN; /* between frames: drain_buffer picks the next one's path */
    }
    r->start += n - left;
    return RX_AGAIN;
}

/* A ChunkFetchSuccess too large to gather in the buffer: checked by the decoder,
 * then one allocation of exactly its content, which the rest is read into. */
static enum rx_result start_body(struct rx *r, uint64_t frame_len)
{
    uint8_t type = r->buf[r->start + 8];
    enum rx_result rc = feed(r, PROTO_FRAME_HEADER_LEN);
    if (rc != RX_AGAIN)
        return rc;
    reset_decoder(r);
    size_t len = (size_t)(frame_len - PROTO_FRAME_HEADER_LEN);
    if (!(r->body = malloc(len))) {
        snprintf(r->error, sizeof(r->error), "out of memory for a frame of %llu bytes",
                 (unsigned long long)len);
        return RX_MALFORMED;
    }
    r->body_type = type;
    r->body_len = len;
    r->body_have = r->end - r->start; /* less than len: the frame is incomplete */
    memcpy(r->body, r->buf + r->start, r->body_have);
    r->start = r->end;
    r->stats.direct_bodies++;
    return RX_AGAIN;
}

static enum rx_result finish_body(struct rx *r)
{
    struct frame_out out;
    memset(&out, 0, sizeof(out));
    out.type = r->body_type;
    out.content = r->body;
    out.content_len = r->body_len;
    r->stats.direct_bytes += r->body_len;
    bool go = r->h.on_frame(r->h.arg, &out);
    free(r->body);
    r->body = NULL;
    return go ? RX_AGAIN : RX_STOPPED;
}

/* Hands over everything complete in the buffer; sets need when a frame step
 * waits for more bytes. */
static enum rx_result drain_buffer(struct rx *r)
{
    uint64_t limit = r->max_frame_bytes ? r->max_frame_bytes : PROTO_MAX_FRAME_CONTENT + 8;
    enum rx_result rc = RX_AGAIN;
    r->need = 0;
    while (rc == RX_AGAIN && r->start < r->end && !r->body) {
        size_t avail = r->end - r->start;
        if (r->sink_fd >= 0) {
            rc = sink_buffered(r);
        } else if (!frame_decoder_idle(&r->dec)) {
            rc = feed(r, avail); /* inside a large frame, or a stream's bytes */
        } else if (avail < PROTO_FRAME_HEADER_LEN) {
            r->need = PROTO_FRAME_HEADER_LEN;
            break;
        } else {
            uint64_t frame_len = proto_load_u64(r->buf + r->start);
            uint8_t type = r->buf[r->start + 8];
            if (frame_len < PROTO_FRAME_HEADER_LEN || frame_len > limit)
                rc = feed(r, avail); /* the decoder says what is wrong */
            else if (frame_len <= avail)
                rc = feed(r, (size_t)frame_len); /* whole: handed over in place */
            else if (type == PROTO_CHUNK_FETCH_SUCCESS &&
                     frame_len - PROTO_FRAME_HEADER_LEN >= RX_DIRECT_MIN_BYTES)
                rc = start_body(r, frame_len);
            else if (frame_len <= RX_BUF_BYTES) {
                r->need = (size_t)frame_len;
                break;
            } else {
                rc = feed(r, avail); /* the decoder checks it, then gathers it */
            }
        }
    }
    if (r->start == r->end)
        r->start = r->end = 0;
    return rc;
}

/* One read from the socket into the body and the buffer behind it. */
static ssize_t read_body(struct rx *r, int fd, size_t *want)
{
    struct iovec iov[2] = {{r->body + r->body_have, r->body_len - r->body_have},
                           {r->buf + r->end, RX_BUF_BYTES - r->end}};
    *want = iov[0].iov_len + iov[1].iov_len;
    ssize_t n = link_readv(r->link, fd, iov, 2);
    if (n > 0) {
        size_t to_body = (size_t)n < iov[0].iov_len ? (size_t)n : iov[0].iov_len;
        r->body_have += to_body;
        r->end += (size_t)n - to_body;
    }
    return n;
}

static ssize_t read_buffer(struct rx *r, int fd, size_t *want)
{
    if (r->start + r->need > RX_BUF_BYTES) { /* the next frame would not fit behind */
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    *want = RX_BUF_BYTES - r->end;
    /* At a frame's start a link that reads ahead gives only the header: a large body then goes
     * straight into its own allocation (start_body) instead of through the buffer and a copy. */
    if (r->start == r->end && r->sink_fd < 0 && link_reads_ahead(r->link) &&
        frame_decoder_idle(&r->dec))
        *want = PROTO_FRAME_HEADER_LEN;
    struct iovec iov = {r->buf + r->end, *want};
    ssize_t n = link_is_plain(r->link) ? recv(fd, iov.iov_base, *want, 0)
                                       : link_readv(r->link, fd, &iov, 1);
    if (n > 0)
        r->end += (size_t)n;
    return n;
}

static void open_pipe(struct rx *r)
{
    if (pipe2(r->pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        r->pipe_fds[0] = r->pipe_fds[1] = -1;
        r->no_splice = true;
        return;
    }
    /* The default size (64 KiB) on purpose: with 1 MiB pipes, splicing 1 MiB blocks into
     * files took 40 % more CPU than read + write (the pages had left the CPU's caches
     * before the kernel copied them into the page cache); 64-128 KiB about match it. */
    int size = fcntl(r->pipe_fds[1], F_GETPIPE_SZ);
    r->pipe_bytes = size > 0 ? (size_t)size : 65536;
}

/* The file will not take spliced pages: the n bytes in the pipe are copied. */
static int copy_pipe_to_sink(struct rx *r, size_t n)
{
    while (n > 0) {
        size_t chunk = n < RX_BUF_BYTES ? n : RX_BUF_BYTES;
        ssize_t got = read(r->pipe_fds[0], r->buf, chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return got < 0 ? errno : EIO;
        int e = sink_write(r->sink_fd, r->buf, (size_t)got);
        if (e)
            return e;
        n -= (size_t)got;
    }
    return 0;
}

/* Socket -> pipe -> sink file. Returns what a read would (bytes moved, 0 at EOF,
 * -1 with errno), or -2 with r->err set when the file could not be written;
 * *spliced false: the bytes were read into the buffer instead. */
static ssize_t splice_to_sink(struct rx *r, int fd, size_t *want, bool *spliced)
{
    *spliced = false;
    if (r->pipe_fds[0] < 0 && !r->no_splice)
        open_pipe(r);
    if (r->no_splice || (!link_is_plain(r->link) && !r->link->ops->splice_ok))
        return read_buffer(r, fd, want); /* a cipher's bytes are decrypted on the way */
    *want = r->sink_left < r->pipe_bytes ? (size_t)r->sink_left : r->pipe_bytes;
    ssize_t n = splice(fd, NULL, r->pipe_fds[1], NULL, *want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {
        r->no_splice = true; /* this socket cannot be spliced: read it */
        return read_buffer(r, fd, want);
    }
    if (n <= 0)
        return n;
    *spliced = true;
    size_t moved = 0;
    while (moved < (size_t)n) {
        ssize_t m =
            splice(r->pipe_fds[0], NULL, r->sink_fd, NULL, (size_t)n - moved, SPLICE_F_MOVE);
        if (m > 0) {
            moved += (size_t)m;
        } else if (m < 0 && errno == EINTR) {
            continue;
        } else if (m < 0 && (errno == EINVAL || errno == ENOSYS)) {
            r->no_splice = true; /* the file system takes no spliced pages */
            if ((r->err = copy_pipe_to_sink(r, (size_t)n - moved)) != 0)
                return -2;
            r->stats.written_bytes += (size_t)n - moved;
            break;
        } else {
            r->err = m < 0 ? errno : EIO;
            return -2;
        }
    }
    r->stats.spliced_bytes += moved;
    return n;
}

enum rx_result rx_pump(struct rx *r, int fd)
{
    size_t budget = RX_PUMP_BUDGET_BYTES;
    bool drained = false;
    for (;;) {
        enum rx_result rc = drain_buffer(r);
        if (rc != RX_AGAIN || drained || budget == 0)
            return rc;
        if (!r->buf && !(r->buf = malloc(RX_BUF_BYTES))) {
            r->err = ENOMEM;
            return RX_IO_ERROR;
        }
        size_t want = 0;
        ssize_t n;
        bool spliced = false;
        if (r->body)
            n = read_body(r, fd, &want);
        else if (r->sink_fd >= 0)
            n = splice_to_sink(r, fd, &want, &spliced);
        else
            n = read_buffer(r, fd, &want);
        if (n == -2)
            return RX_SINK_ERROR;
        if (n == 0)
            return RX_EOF;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return RX_AGAIN;
            r->err = errno;
            return RX_IO_ERROR;
        }
        /* a short read: the socket is empty, hand over what came and wait */
        drained = (size_t)n < want;
        budget -= (size_t)n < budget ? (size_t)n : budget;
        if (spliced && (rc = report_sink(r, (size_t)n)) != RX_AGAIN)
            return rc;
        if (r->body && r->body_have == r->body_len && (rc = finish_body(r)) != RX_AGAIN)
            return rc;
    }
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Ordered answers and their writer; see reply_queue.h. */
#include <config.h>

#include "server/net/reply_queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/net/channel.h"

/* Slots kept for reuse per connection (a pipelined client keeps about this many in flight). */
#define SPARE_SLOTS 32
/* At most this many pieces gathered into one sendmsg. */
#define IOV_BATCH 64
/* File bodies below this size are small enough that packets shared by several answers (the
 * socket corked while a run of them is written) beat one packet train per answer. */
#define CORK_BELOW (64u << 10)
/* One sendfile call sends at most this much, so one connection cannot hog its loop. */
#define SENDFILE_MAX (8u << 20)

static uint64_t slot_total(const struct reply_slot *s)
{
    return s->hdr_len + s->mem_len + s->file.len;
}

/* Bytes of s that may be written now (excluding what has been). */
static uint64_t slot_sendable(const struct reply_slot *s)
{
    return s->hdr_len + s->mem_len + s->file_avail - s->done;
}

void reply_queue_init(struct reply_queue *q)
{
    memset(q, 0, sizeof *q);
}

void reply_file_release(const struct reply_file *f)
{
    if (f->release)
        f->release(f->owner, f->fd);
    else if (f->fd >= 0)
        close(f->fd);
}

static void release_file(struct reply_slot *s)
{
    if (s->file.fd < 0)
        return;
    reply_file_release(&s->file);
    s->file.fd = -1;
    s->file.len = 0;
}

static void slot_clear(struct reply_slot *s)
{
    release_file(s);
    free(s->mem);
    memset(s, 0, sizeof *s);
    s->file.fd = -1;
}

void reply_slot_free(struct reply_slot *s)
{
    if (!s)
        return;
    slot_clear(s);
    free(s);
}

static void recycle(struct reply_queue *q, struct reply_slot *s)
{
    if (q->nspare >= SPARE_SLOTS) {
        reply_slot_free(s);
        return;
    }
    slot_clear(s);
    s->next = q->spare;
    q->spare = s;
    q->nspare++;
}

struct reply_slot *reply_queue_reserve(struct reply_queue *q)
{
    struct reply_slot *s = q->spare;
    if (s) {
        q->spare = s->next;
        q->nspare--;
        s->next = NULL;
    } else {
        s = calloc(1, sizeof *s);
        if (!s)
            return NULL;
        s->file.fd = -1;
    }
    if (q->tail)
        q->tail->next = s;
    else
        q->head = s;
    q->tail = s;
    return s;
}

int reply_slot_fill(struct reply_queue *q, struct reply_slot *s, const uint8_t *hdr, size_t hdr_len,
                    uint8_t *body_mem, size_t body_len, const struct reply_file *file,
                    uint64_t file_avail)
{
    if (file)
        s->file = *file;
    if (hdr_len <= REPLY_INLINE_BYTES) {
        if (hdr_len)
            memcpy(s->hdr, hdr, hdr_len);
        s->hdr_len = (uint8_t)hdr_len;
        s->mem = body_mem;
        s->mem_len = body_mem ? body_len : 0;
    } else { /* a long header: header and body together in one heap buffer */
        uint8_t *m = malloc(hdr_len + (body_mem ? body_len : 0));
        if (!m) {
            free(body_mem);
            release_file(s);
            return -1;
        }
        memcpy(m, hdr, hdr_len);
        if (body_mem)
            memcpy(m + hdr_len, body_mem, body_len);
        s->mem = m;
        s->mem_len = hdr_len + (body_mem ? body_len : 0);
        free(body_mem);
    }
    s->file_avail = file ? (file_avail < file->len ? file_avail : file->len) : 0;
    s->partial = file && s->file_avail < file->len;
    s->ready = true;
    q->unsent += slot_sendable(s);
    q->mem_bytes += sizeof *s + s->mem_len;
    return 0;
}

void reply_queue_extend(struct reply_queue *q, struct reply_slot *s, uint64_t n, bool last)
{
    uint64_t room = s->file.len - s->file_avail;
    if (n > room)
        n = room;
    s->file_avail += n;
    q->unsent += n;
    if (last || s->file_avail == s->file.len)
        s->partial = false;
}

/* Marks n written bytes off the head slots; fully written slots are reported and recycled. */
static void advance(struct reply_queue *q, uint64_t n, reply_written_fn written, void *ctx)
{
    q->written += n;
    q->unsent -= n;
    while (n > 0 || (q->head && q->head->ready && !q->head->partial &&
                     q->head->done == slot_total(q->head))) {
        struct reply_slot *s = q->head;
        if (!s)
            break;
        uint64_t take = slot_sendable(s);
        if (take > n)
            take = n;
        s->done += take;
        n -= take;
        if (s->partial || s->done < slot_total(s))
            break;
        q->head = s->next;
        if (!q->head)
            q->tail = NULL;
        written(ctx, s);
        q->mem_bytes -= sizeof *s + s->mem_len;
        recycle(q, s);
        if (!q->head)
            break;
    }
}

/* Cork while a run of several small file answers is written, so they share packets. */
static bool run_of_small_files(const struct reply_queue *q)
{
    int files = 0, seen = 0;
    for (const struct reply_slot *s = q->head; s && s->ready && seen < 16; s = s->next, seen++)
        if (s->file.len > 0 && s->file.len < CORK_BELOW && ++files == 2)
            return true;
    return false;
}

static enum reply_flush finish(struct reply_queue *q, struct channel *ch, enum reply_flush r)
{
    /* nothing more to give the channel for now: what it holds back must go too */
    if ((r == REPLY_FLUSH_IDLE || r == REPLY_FLUSH_WAITING) && channel_flush(ch) < 0)
        r = errno == EAGAIN || errno == EWOULDBLOCK ? REPLY_FLUSH_BLOCKED : REPLY_FLUSH_ERROR;
    if (q->corked && r != REPLY_FLUSH_BLOCKED) {
        channel_cork(ch, false);
        q->corked = false;
    }
    return r;
}

static enum reply_flush failed(struct reply_queue *q, struct channel *ch)
{
    return finish(
        q, ch, errno == EAGAIN || errno == EWOULDBLOCK ? REPLY_FLUSH_BLOCKED : REPLY_FLUSH_ERROR);
}

enum reply_flush reply_queue_flush(struct reply_queue *q, struct channel *ch,
                                   reply_written_fn written, void *ctx)
{
    if (channel_flush(ch) < 0) /* what the channel holds back leaves first */
        return failed(q, ch);
    if (!q->corked && run_of_small_files(q)) {
        channel_cork(ch, true);
        q->corked = true;
    }
    for (;;) {
        /* completed slots with nothing to write (empty frames are impossible, but a slot
         * extended to its end after its last byte left) */
        advance(q, 0, written, ctx);
        struct reply_slot *head = q->head;
        if (!head)
            return finish(q, ch, REPLY_FLUSH_IDLE);
        if (!head->ready)
            return finish(q, ch, REPLY_FLUSH_WAITING);
        struct iovec iov[IOV_BATCH];
        int n = 0;
        uint64_t bytes = 0;
        struct reply_slot *file_slot = NULL;
        for (struct reply_slot *s = head; s && s->ready && n < IOV_BATCH - 1; s = s->next) {
            uint64_t d = s->done, mem_end = (uint64_t)s->hdr_len + s->mem_len;
            if (d < s->hdr_len) {
                iov[n++] = (struct iovec){s->hdr + d, s->hdr_len - d};
                bytes += s->hdr_len - d;
                d = s->hdr_len;
            }
            if (d < mem_end) {
                iov[n++] = (struct iovec){s->mem + (d - s->hdr_len), mem_end - d};
                bytes += mem_end - d;
            }
            if (s->file.len > 0) {
                file_slot = s;
                break;
            }
        }
        if (n > 0) {
            bool body_follows = file_slot && file_slot->file_avail > 0;
            ssize_t w = channel_writev(ch, iov, n, body_follows);
            if (w < 0)
                return failed(q, ch);
            advance(q, (uint64_t)w, written, ctx);
            if ((uint64_t)w < bytes)
                return finish(q, ch, REPLY_FLUSH_BLOCKED); /* the socket buffer is full */
        }
        if (!file_slot)
            continue;
        /* every byte before file_slot's body has left: it is the head now */
        struct reply_slot *s = file_slot;
        uint64_t body_done = s->done - s->hdr_len - s->mem_len;
        if (body_done < s->file_avail) {
            uint64_t want = s->file_avail - body_done;
            if (want > SENDFILE_MAX)
                want = SENDFILE_MAX;
            ssize_t w = channel_sendfile(ch, s->file.fd, s->file.offset + body_done, (size_t)want);
            if (w < 0)
                return failed(q, ch);
            if (w == 0) { /* the file is shorter than when it was checked */
                errno = EIO;
                return finish(q, ch, REPLY_FLUSH_ERROR);
            }
            body_done += (uint64_t)w;
            bool short_write = (uint64_t)w < want;
            bool slot_done = !s->partial && body_done == s->file.len;
            advance(q, (uint64_t)w, written, ctx); /* recycles s when slot_done */
            if (slot_done) {
                if (short_write)
                    return finish(q, ch, REPLY_FLUSH_BLOCKED);
                continue;
            }
            if (s->partial && s->file_avail - body_done <= REPLY_PART_LOW_BYTES && s->on_drain)
                s->on_drain(s->producer, s, false); /* may extend s right away */
            if (short_write)
                return finish(q, ch, REPLY_FLUSH_BLOCKED);
        } else if (s->partial && s->on_drain) {
            s->on_drain(s->producer, s, false);
        }
        if (s->partial && s->file_avail == body_done)
            return finish(q, ch, REPLY_FLUSH_WAITING);
    }
}

void reply_queue_close(struct reply_queue *q)
{
    struct reply_slot *s = q->head;
    while (s) {
        struct reply_slot *next = s->next;
        s->next = NULL;
        if (s->partial && s->on_drain) {
            s->detached = true;
            s->on_drain(s->producer, s, true);
        } else if (s->ready) {
            reply_slot_free(s);
        } else {
            s->detached = true;
        }
        s = next;
    }
    q->head = q->tail = NULL;
    q->unsent = 0;
    q->mem_bytes = 0;
}

void reply_queue_free(struct reply_queue *q)
{
    while (q->spare) {
        struct reply_slot *s = q->spare;
        q->spare = s->next;
        free(s);
    }
    q->nspare = 0;
}

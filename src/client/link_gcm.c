/* SPDX-License-Identifier: Apache-2.0 */
/* AES-GCM under a client connection: see link_gcm.h. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "client/link_gcm.h"
#include "crypto/aes_session.h"
#include "crypto/gcm_message.h"

#define RAW_BYTES 65536 /* ciphertext read from the socket at a time */

struct gcm_link {
    struct gcm_key seal;
    struct gcm_reader reader;
    uint8_t *raw; /* ciphertext read and not yet fed */
    size_t raw_off, raw_len;
    uint8_t *plain; /* the last verified segment's plaintext, inside the reader */
    size_t plain_off, plain_len;
    int error; /* sticky once a message did not verify */
};

/* Copies held plaintext into the iovecs from iov_done bytes on; the bytes copied. */
static size_t hand_out(struct gcm_link *g, const struct iovec *iov, int iovcnt, size_t done)
{
    size_t copied = 0, skip = done;
    for (int i = 0; i < iovcnt && g->plain_off < g->plain_len; i++) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        size_t room = iov[i].iov_len - skip, n = g->plain_len - g->plain_off;
        n = n < room ? n : room;
        memcpy((uint8_t *)iov[i].iov_base + skip, g->plain + g->plain_off, n);
        g->plain_off += n;
        copied += n;
        skip = 0;
    }
    return copied;
}

/* Feeds held ciphertext until a segment's plaintext is out or none is left; 0 or -1. */
static int feed(struct gcm_link *g)
{
    while (g->raw_off < g->raw_len && g->plain_off == g->plain_len) {
        size_t len = 0;
        ssize_t took = gcm_reader_feed(&g->reader, g->raw + g->raw_off, g->raw_len - g->raw_off,
                                       &g->plain, &len);
        if (took < 0) {
            g->error = errno;
            return -1;
        }
        g->raw_off += (size_t)took;
        g->plain_off = 0;
        g->plain_len = len;
    }
    return 0;
}

static ssize_t gcm_readv(void *state, int fd, const struct iovec *iov, int iovcnt)
{
    struct gcm_link *g = state;
    size_t want = 0, out = 0;
    for (int i = 0; i < iovcnt; i++)
        want += iov[i].iov_len;
    while (out < want) {
        if (g->plain_off < g->plain_len) {
            out += hand_out(g, iov, iovcnt, out);
            continue;
        }
        if (g->error || feed(g) != 0) {
            if (out)
                break; /* the error shows on the next call */
            errno = g->error;
            return -1;
        }
        if (g->plain_off < g->plain_len)
            continue;
        if (out)
            break;
        ssize_t n = read(fd, g->raw, RAW_BYTES);
        if (n <= 0)
            return n;
        g->raw_off = 0;
        g->raw_len = (size_t)n;
    }
    return (ssize_t)out;
}

static size_t gcm_pending(void *state)
{
    struct gcm_link *g = state;
    return (g->plain_len - g->plain_off) + (g->raw_len - g->raw_off);
}

static int gcm_write(void *state, struct evbuffer *out, uint8_t *plain, size_t len)
{
    struct gcm_link *g = state;
    size_t key_len = g->seal.key_len, total = (size_t)gcm_message_len(key_len, len);
    struct evbuffer_iovec v;
    if (evbuffer_reserve_space(out, (ev_ssize_t)total, &v, 1) != 1 || v.iov_len < total)
        return -1;
    uint8_t *msg = v.iov_base;
    for (size_t s = 0; s * GCM_SEGMENT_PLAIN < len; s++) {
        size_t l = len - s * GCM_SEGMENT_PLAIN;
        memcpy(msg + gcm_segment_offset(key_len, s), plain + s * GCM_SEGMENT_PLAIN,
               l < GCM_SEGMENT_PLAIN ? l : GCM_SEGMENT_PLAIN);
    }
    if (gcm_message_seal(&g->seal, NULL, msg, len) != 0)
        return -1;
    v.iov_len = total;
    return evbuffer_commit_space(out, &v, 1);
}

static void gcm_destroy(void *state)
{
    struct gcm_link *g = state;
    gcm_key_free(&g->seal);
    gcm_reader_free(&g->reader);
    free(g->raw);
    free(g);
}

static const struct link_ops gcm_ops = {
    .name = "aes-gcm",
    .splice_ok = false,
    .readv = gcm_readv,
    .pending = gcm_pending,
    .write = gcm_write,
    .destroy = gcm_destroy,
};

int link_gcm_new(struct link *l, const struct aes_session *s)
{
    struct gcm_link *g = calloc(1, sizeof(*g));
    if (!g)
        return -1;
    if (gcm_key_init(&g->seal, s->key, s->key_len) != 0 ||
        gcm_reader_init(&g->reader, s->key, s->key_len) != 0 || !(g->raw = malloc(RAW_BYTES))) {
        gcm_destroy(g);
        return -1;
    }
    l->ops = &gcm_ops;
    l->state = g;
    return 0;
}

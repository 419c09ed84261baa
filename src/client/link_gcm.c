/* SPDX-License-Identifier: Apache-2.0 */
/* AES-GCM under a client connection: see link_gcm.h. */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "client/link_gcm.h"
#include "crypto/aes_session.h"
#include "crypto/gcm_inbox.h"
#include "crypto/gcm_message.h"

/* Ciphertext read from the socket at a time: 64 KiB, and once a read fills that (a bulk
 * transfer), as much as rx's own buffer, so that most segments lie whole in it and are
 * decrypted straight into the frame's place (gcm_inbox_take); back to the small size when the
 * connection is quiet (gcm_trim). Connections of small messages (the RPC env's) stay small. */
#define RAW_BYTES (64 * 1024)
#define RAW_BULK_BYTES (256 * 1024)

struct gcm_link {
    struct gcm_key seal;
    struct gcm_inbox inbox;
    bool grow; /* the last read filled the input buffer */
};

static ssize_t gcm_readv(void *state, int fd, const struct iovec *iov, int iovcnt)
{
    struct gcm_link *g = state;
    size_t out = 0;
    for (int i = 0; i < iovcnt; i++) {
        for (size_t at = 0; at < iov[i].iov_len;) {
            ssize_t n =
                gcm_inbox_take(&g->inbox, (uint8_t *)iov[i].iov_base + at, iov[i].iov_len - at);
            if (n < 0)
                return out ? (ssize_t)out : -1; /* the error shows on the next call */
            if (n == 0) {
                if (out)
                    return (ssize_t)out;
                if (g->grow) { /* nothing is held: the buffer can change */
                    gcm_inbox_resize(&g->inbox, RAW_BULK_BYTES);
                    g->grow = false;
                }
                size_t room = 0;
                uint8_t *space = gcm_inbox_space(&g->inbox, &room);
                if (!space)
                    return -1;
                ssize_t got = read(fd, space, room);
                if (got <= 0)
                    return got;
                gcm_inbox_filled(&g->inbox, (size_t)got);
                g->grow = (size_t)got == room && g->inbox.raw_cap < RAW_BULK_BYTES;
                continue;
            }
            at += (size_t)n;
            out += (size_t)n;
        }
    }
    return (ssize_t)out;
}

static size_t gcm_pending(void *state)
{
    return gcm_inbox_pending(&((struct gcm_link *)state)->inbox);
}

static int gcm_write(void *state, struct evbuffer *out, uint8_t *plain, size_t len)
{
    struct gcm_link *g = state;
    size_t key_len = g->seal.key_len, total = (size_t)gcm_message_len(key_len, len);
    struct evbuffer_iovec v;
    if (evbuffer_reserve_space(out, (ev_ssize_t)total, &v, 1) != 1 || v.iov_len < total)
        return -1;
    gcm_message_place(key_len, v.iov_base, plain, len);
    if (gcm_message_seal(&g->seal, NULL, v.iov_base, len) != 0)
        return -1;
    v.iov_len = total;
    return evbuffer_commit_space(out, &v, 1);
}

static void gcm_trim(void *state)
{
    struct gcm_link *g = state;
    gcm_inbox_trim(&g->inbox);
    gcm_inbox_resize(&g->inbox, RAW_BYTES);
}

static void gcm_destroy(void *state)
{
    struct gcm_link *g = state;
    gcm_key_free(&g->seal);
    gcm_inbox_free(&g->inbox);
    free(g);
}

static const struct link_ops gcm_ops = {
    .name = "aes-gcm",
    .splice_ok = false,
    .readv = gcm_readv,
    .pending = gcm_pending,
    .write = gcm_write,
    .destroy = gcm_destroy,
    .trim = gcm_trim,
};

int link_gcm_new(struct link *l, const struct aes_session *s)
{
    struct gcm_link *g = calloc(1, sizeof(*g));
    if (!g)
        return -1;
    if (gcm_key_init(&g->seal, s->key, s->key_len) != 0 ||
        gcm_inbox_init(&g->inbox, s->key, s->key_len, RAW_BYTES) != 0) {
        gcm_destroy(g);
        return -1;
    }
    l->ops = &gcm_ops;
    l->state = g;
    return 0;
}

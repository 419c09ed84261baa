/* SPDX-License-Identifier: Apache-2.0 */
/* AES-CTR under a client connection: see link_aes.h. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>

#include <event2/buffer.h>

#include "client/link_aes.h"
#include "crypto/aes_session.h"
#include "crypto/ctr_stream.h"

struct aes_link {
    struct ctr_stream rd, wr;
};

static ssize_t aes_readv(void *state, int fd, const struct iovec *iov, int iovcnt)
{
    struct aes_link *a = state;
    ssize_t n = readv(fd, iov, iovcnt);
    size_t left = n > 0 ? (size_t)n : 0;
    for (int i = 0; i < iovcnt && left > 0; i++) {
        size_t len = iov[i].iov_len < left ? iov[i].iov_len : left;
        if (ctr_stream_apply(&a->rd, iov[i].iov_base, iov[i].iov_base, len) != 0) {
            errno = EPROTO;
            return -1;
        }
        left -= len;
    }
    return n;
}

static int aes_write(void *state, struct evbuffer *out, uint8_t *plain, size_t len)
{
    struct aes_link *a = state;
    if (ctr_stream_apply(&a->wr, plain, plain, len) != 0)
        return -1;
    return evbuffer_add(out, plain, len);
}

static void aes_destroy(void *state)
{
    struct aes_link *a = state;
    ctr_stream_free(&a->rd); /* frees the EVP contexts, which wipe the key schedules */
    ctr_stream_free(&a->wr);
    free(a);
}

static const struct link_ops aes_ops = {
    .name = "aes-ctr",
    .splice_ok = false,
    .readv = aes_readv,
    .pending = NULL, /* decrypts exactly what it reads */
    .write = aes_write,
    .destroy = aes_destroy,
};

int link_aes_new(struct link *l, const struct aes_session *s)
{
    struct aes_link *a = calloc(1, sizeof(*a));
    if (!a || aes_session_streams(s, &a->rd, &a->wr) != 0) {
        free(a);
        return -1;
    }
    l->ops = &aes_ops;
    l->state = a;
    return 0;
}

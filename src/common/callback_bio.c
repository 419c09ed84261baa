/* SPDX-License-Identifier: Apache-2.0 */
/* The callback BIO; see callback_bio.h. */
#include <config.h>

#include "common/callback_bio.h"

#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>

struct callback_bio {
    const struct callback_bio_ops *ops;
    void *arg;
};

static BIO_METHOD *method;
static pthread_once_t method_once = PTHREAD_ONCE_INIT;

/* n from a callback as a BIO result: the retry flag for EAGAIN, nothing for a failure (which
 * SSL reports as SSL_ERROR_SYSCALL with errno kept) or the end of stream. */
static int bio_result(BIO *b, ssize_t n, int retry_flag)
{
    BIO_clear_retry_flags(b);
    if (n > 0)
        return (int)n;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_flags(b, retry_flag | BIO_FLAGS_SHOULD_RETRY);
    return n < 0 ? -1 : 0;
}

static int cb_read(BIO *b, char *buf, int len)
{
    struct callback_bio *s = BIO_get_data(b);
    if (len <= 0)
        return 0;
    return bio_result(b, s->ops->read(s->arg, buf, (size_t)len), BIO_FLAGS_READ);
}

static int cb_write(BIO *b, const char *buf, int len)
{
    struct callback_bio *s = BIO_get_data(b);
    if (len <= 0)
        return 0;
    if (!s->ops->write) {
        errno = EPERM;
        return -1;
    }
    return bio_result(b, s->ops->write(s->arg, buf, (size_t)len), BIO_FLAGS_WRITE);
}

static long cb_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    /* a flush is the writer's business (the stream below holds what it could not send) */
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int cb_create(BIO *b)
{
    BIO_set_init(b, 0);
    return 1;
}

static int cb_destroy(BIO *b)
{
    free(BIO_get_data(b));
    BIO_set_data(b, NULL);
    return 1;
}

static void make_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "callback");
    if (m && BIO_meth_set_read(m, cb_read) == 1 && BIO_meth_set_write(m, cb_write) == 1 &&
        BIO_meth_set_ctrl(m, cb_ctrl) == 1 && BIO_meth_set_create(m, cb_create) == 1 &&
        BIO_meth_set_destroy(m, cb_destroy) == 1) {
        method = m;
        return;
    }
    BIO_meth_free(m);
}

BIO *callback_bio_new(const struct callback_bio_ops *ops, void *arg)
{
    pthread_once(&method_once, make_method);
    struct callback_bio *s = method ? malloc(sizeof *s) : NULL;
    BIO *b = s ? BIO_new(method) : NULL;
    if (!b) {
        free(s);
        return NULL;
    }
    s->ops = ops;
    s->arg = arg;
    BIO_set_data(b, s);
    BIO_set_init(b, 1);
    return b;
}

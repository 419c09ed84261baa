/* SPDX-License-Identifier: Apache-2.0 */
/* The BIO that puts SSL's records into a send window; see tls_window_bio.h. */
#include <config.h>

#include "server/net/tls_window_bio.h"

#include <openssl/ssl3.h>
#include <pthread.h>
#include <string.h>

static BIO_METHOD *window_method;
static pthread_once_t window_method_once = PTHREAD_ONCE_INIT;

size_t tls_window_plain_fits(size_t room)
{
    /* every started record may add the overhead: ceil(plain / 16 KiB) <= room / 16 KiB + 1 */
    size_t overhead = TLS_RECORD_OVERHEAD_MAX * (room / SSL3_RT_MAX_PLAIN_LENGTH + 1);
    return room > overhead ? room - overhead : 0;
}

static int window_write(BIO *b, const char *data, size_t len, size_t *written)
{
    struct send_window *w = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    size_t n = len;
    uint8_t *at = n ? send_window_room(w, &n) : NULL;
    if (!at && len)
        return 0; /* out of memory: SSL fails the write */
    if (n == 0) {
        BIO_set_retry_write(b); /* full: SSL keeps the record and is called again */
        return 0;
    }
    memcpy(at, data, n);
    w->end += n;
    *written = n;
    return 1;
}

static long window_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b, (void)num, (void)ptr;
    /* a flush is the channel's to do (it writes the window to the socket) */
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int window_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static void make_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "send window");
    if (m &&
        (BIO_meth_set_write_ex(m, window_write) != 1 || BIO_meth_set_ctrl(m, window_ctrl) != 1 ||
         BIO_meth_set_create(m, window_create) != 1)) {
        BIO_meth_free(m);
        m = NULL;
    }
    window_method = m;
}

BIO *tls_window_bio_new(struct send_window *w)
{
    pthread_once(&window_method_once, make_method);
    BIO *b = window_method ? BIO_new(window_method) : NULL;
    if (b)
        BIO_set_data(b, w);
    return b;
}

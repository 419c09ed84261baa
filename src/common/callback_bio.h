/* SPDX-License-Identifier: Apache-2.0 */
/* An OpenSSL BIO whose reads and writes are two callbacks: how a TLS session is stacked on a
 * byte stream that is not the socket itself (the AES-CTR or AES-GCM stream that Spark puts
 * outside TLS when spark.ssl.rpc and spark.network.crypto are both on; docs/tls.md). Used by
 * the daemon's TLS channel and libshuffle's TLS link. Non-blocking: a callback returns > 0
 * bytes, 0 at end of stream, or -1 with errno (EAGAIN/EWOULDBLOCK: try again later, which
 * OpenSSL sees as WANT_READ/WANT_WRITE; anything else is a failure of the stream). */
#ifndef SHUFFLED_COMMON_CALLBACK_BIO_H
#define SHUFFLED_COMMON_CALLBACK_BIO_H

#include <openssl/bio.h>
#include <stddef.h>
#include <sys/types.h>

struct callback_bio_ops {
    ssize_t (*read)(void *arg, void *buf, size_t len);
    /* NULL: the BIO only reads (writes fail) */
    ssize_t (*write)(void *arg, const void *buf, size_t len);
};

/* A BIO calling ops with arg (both borrowed: they must outlive it). NULL when out of memory. */
BIO *callback_bio_new(const struct callback_bio_ops *ops, void *arg);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* The TLS channel (spark.ssl.rpc; docs/tls.md): an OpenSSL SSL over the connection's socket,
 * server side. The handshake runs inside the first reads (the daemon speaks only after the
 * client's first request, so no write comes before it); hooks->on_handshake reports its end.
 *
 * Sending file bytes: when OpenSSL switched the socket to kernel TLS after the handshake
 * (SSL_OP_ENABLE_KTLS, the kernel's `tls` module, an AES-GCM suite), file ranges go with
 * SSL_sendfile, the kernel encrypting them with no copy to user space; otherwise they are
 * read into a bounded window (send_window.h, CHANNEL_TLS_WINDOW) and sealed with SSL_write into
 * records that SSL writes into the same window (tls_window_bio.h), which leaves in one socket
 * write when full or when the answer ends. */
#ifndef SHUFFLED_SERVER_NET_CHANNEL_TLS_H
#define SHUFFLED_SERVER_NET_CHANNEL_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "server/net/channel.h"

#ifndef CHANNEL_TLS_WINDOW
#define CHANNEL_TLS_WINDOW (256 * 1024)
#endif
/* OpenSSL's record buffers of a busy connection (read and write, 16 KiB + overhead each);
 * SSL_MODE_RELEASE_BUFFERS gives them back while it is idle. Counted in channel_tls_memory. */
#define CHANNEL_TLS_RECORD_BUFFERS (2 * (16384 + 1024))

struct channel_tls_hooks {
    /* The handshake ended: failure is NULL when it succeeded, else OpenSSL's reason. */
    void (*on_handshake)(void *arg, struct channel *ch, const char *failure);
    void *arg;
};

/* Wraps inner (a plain socket channel; taken: destroyed with the new channel) with ssl (taken;
 * in accept state). NULL when out of memory (inner and ssl are then left as they were). */
struct channel *channel_tls_new(struct channel *inner, SSL *ssl,
                                const struct channel_tls_hooks *hooks);

/* After the handshake: file ranges go by kernel TLS (SSL_sendfile). */
bool channel_tls_ktls_send(const struct channel *ch);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384" once the handshake is done, for logs. */
const char *channel_tls_describe(const struct channel *ch, char *buf, size_t len);
/* Bytes the channel holds for its connection now (channel_ops.memory): for output its send
 * window; for input OpenSSL's record buffers while the connection is busy (a handshake too,
 * before any frame: max_input_bytes sheds a flood of half-open handshakes). */
size_t channel_tls_memory(struct channel *ch, bool output);

/* True when ch is a TLS channel. */
bool channel_is_tls(const struct channel *ch);
/* What the TLS records go through: the socket channel, or the transport set below. */
struct channel *channel_tls_transport(const struct channel *ch);
/* Spark's AES with TLS (docs/tls.md): from now on the TLS records are read from and written to
 * transport (a cipher channel over channel_tls_transport(ch), which it took over; destroyed
 * with ch) instead of the socket. Call with nothing of TLS pending in either direction: just
 * after the last record of the auth handshake left and before the next one arrives. 0, or -1
 * with *why set (errno EPROTO, or ENOMEM): transport is then not taken. */
int channel_tls_set_transport(struct channel *ch, struct channel *transport, const char **why);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* TLS under a libshuffle connection (spark.ssl.rpc; docs/tls.md), on the cipher seam of
 * link.h: an OpenSSL client that reads the socket itself (through a buffer: several records
 * per read) and yields plaintext through the link's readv; plaintext written comes out as TLS
 * records in a memory BIO, appended to the connection's output buffer. The handshake starts at once
 * (the ClientHello goes out when the link is made) and is driven by the reads; its end is reported
 * to the transport, which then authenticates or releases the requests held meanwhile. */
#ifndef SHUFFLE_CLIENT_TLS_LINK_H
#define SHUFFLE_CLIENT_TLS_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include "client/link.h"

struct evbuffer;
struct shuffle_client_options;
struct client_tls;

/* The client's TLS settings from o (NULL *out when o->tls is off). 0, or -1 with err filled
 * (a file that cannot be read, a key that does not fit its certificate). */
int client_tls_new(const struct shuffle_client_options *o, struct client_tls **out, char *err,
                   size_t errlen);
void client_tls_free(struct client_tls *t);

struct tls_link_owner {
    /* The connection's output buffer, NULL once it closed. */
    struct evbuffer *(*out)(void *arg);
    /* The handshake ended: failure NULL when it succeeded, else why (certificate, name,
     * protocol). Runs inside a readv. */
    void (*on_handshake)(void *arg, const char *failure);
    /* The session failed after the handshake (an alert: with TLS 1.3 a refused client
     * certificate shows only here). Runs inside a readv; the readv then fails. */
    void (*on_error)(void *arg, const char *why);
    void *arg;
};

/* Starts a TLS client on socket fd for host (checked against the certificate unless insecure)
 * into l and writes its ClientHello. 0, or -1 with err filled (out of memory). */
int tls_link_start(struct link *l, const struct client_tls *t, int fd, const char *host,
                   const struct tls_link_owner *owner, char *err, size_t errlen);

/* True when l is a TLS link. */
bool tls_link_is(const struct link *l);
/* Spark's spark.network.crypto with spark.ssl.rpc: from now on TLS records are read and written
 * through cipher (taken: l owns it), i.e. the cipher sits under TLS, on the socket (docs/tls.md).
 * Call between records: right after the reply that ended the auth handshake was read, before
 * anything else is sent. 0, or -1 with *why set (cipher left with the caller). */
int tls_link_set_below(struct link *l, struct link *cipher, const char **why);

#endif

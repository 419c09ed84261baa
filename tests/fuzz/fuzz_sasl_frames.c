/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as what a client sends once SASL's security layer is on
 * (protocol.md 12.3: `i64 len | wrapped` pieces), through the daemon's reader of those pieces
 * (channel_sasl.c) over a socketpair. The Cyrus session has no mechanism's layer negotiated,
 * so each piece unwraps to its own bytes: what the reader hands out can never exceed what was
 * sent, and no piece length (negative, tiny, huge, split) may crash, hang or leak it.
 * Linked with libsasl2 (tests/fuzz/local.mk). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <sasl/sasl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/net/channel.h"
#include "server/net/channel_sasl.h"

static void release(void *owner)
{
    sasl_conn_t *conn = owner;
    sasl_dispose(&conn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int started;
    if (!started) {
        if (sasl_server_init(NULL, "shuffled-fuzz") != SASL_OK)
            abort();
        started = 1;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        abort();
    int bufsize = 1 << 20;
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
    setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    sasl_conn_t *conn = NULL;
    if (sasl_server_new("null", "default", "default", NULL, NULL, NULL, 0, &conn) != SASL_OK)
        abort();
    sasl_security_properties_t sp = {.maxbufsize = 16777215};
    sasl_setprop(conn, SASL_SEC_PROPS, &sp);
    struct channel *plain = channel_plain_new(sv[0]);
    struct channel *ch = plain ? channel_sasl_new(plain, conn, release, conn) : NULL;
    if (!ch)
        abort();
    size_t sent = 0;
    while (sent < size) {
        ssize_t w = write(sv[1], data + sent, size - sent);
        if (w <= 0)
            abort();
        sent += (size_t)w;
    }
    shutdown(sv[1], SHUT_WR);
    uint8_t out[4096];
    size_t got = 0;
    for (;;) {
        ssize_t n = channel_read(ch, out, sizeof out);
        if (n <= 0)
            break; /* EOF, EAGAIN (a piece still incomplete) or a refused piece */
        got += (size_t)n;
        if (got > size)
            abort();
    }
    channel_destroy(ch); /* closes sv[0], disposes of conn */
    close(sv[1]);
    return 0;
}

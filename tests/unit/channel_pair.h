/* SPDX-License-Identifier: Apache-2.0 */
/* A channel under test at one end of a non-blocking socketpair, the raw peer at the other
 * (test_channel_aes, test_channel_gcm). Header-only. */
#ifndef SHUFFLED_TESTS_CHANNEL_PAIR_H
#define SHUFFLED_TESTS_CHANNEL_PAIR_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "aes_handshake.h"
#include "server/net/channel.h"
#include "server/net/channel_aes.h"

struct pair {
    int ours, peer;
    struct channel *ch;
};

/* sndbuf: the socket buffers' size (0: the default). */
static inline void pair_open(struct pair *p, int sndbuf)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    p->ours = sv[0];
    p->peer = sv[1];
    p->ch = NULL;
    if (sndbuf) {
        setsockopt(p->ours, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
        setsockopt(p->peer, SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof sndbuf);
    }
    fcntl(p->ours, F_SETFL, O_NONBLOCK);
    fcntl(p->peer, F_SETFL, O_NONBLOCK);
}

static inline void pair_close(struct pair *p)
{
    if (p->ch)
        channel_destroy(p->ch); /* closes ours */
    close(p->peer);
}

/* Writes the len bytes of wire into the peer in small pieces (1 to max_piece bytes), reading
 * the channel 64 bytes at a time after each, until want bytes of plaintext have come out
 * (into got). A read may find nothing yet (EAGAIN) only while fewer than eagain_until bytes
 * were sent. The bytes read. */
static inline size_t pair_trickle(struct pair *p, const uint8_t *wire, size_t len, uint8_t *got,
                                  size_t want, size_t max_piece, size_t eagain_until)
{
    size_t have = 0, sent = 0;
    while (have < want) {
        size_t piece = 1 + (sent * 7 + 3) % max_piece;
        if (sent < len) {
            if (piece > len - sent)
                piece = len - sent;
            ck_assert_int_eq(write(p->peer, wire + sent, piece), (ssize_t)piece);
            sent += piece;
        }
        ssize_t n = channel_read(p->ch, got + have, 64);
        if (n < 0) {
            ck_assert_int_eq(errno, EAGAIN);
            ck_assert_uint_lt(sent, eagain_until);
            continue;
        }
        ck_assert_int_gt(n, 0);
        have += (size_t)n;
    }
    return have;
}

/* Up to 4 iovecs of odd sizes over data[off, total) (the order of sizes moves with off):
 * their count; *end is where they stop. */
static inline int pair_odd_iovecs(uint8_t *data, size_t total, size_t off, struct iovec iov[4],
                                  size_t *end)
{
    static const size_t sizes[] = {21, 70001, 13, 200003};
    size_t at = off;
    int n = 0;
    for (int i = 0; i < 4 && at < total; i++) {
        size_t l = sizes[(off / 7 + (size_t)i) % 4];
        l = l > total - at ? total - at : l;
        iov[n++] = (struct iovec){data + at, l};
        at += l;
    }
    *end = at;
    return n;
}

/* What a write of the bytes up to want_end returned (as the reply queue takes it): EAGAIN
 * (counted in *eagains) or bytes taken, *off moved on (a short write counted in *shorts). */
static inline void pair_took(ssize_t w, size_t *off, size_t want_end, size_t *eagains,
                             size_t *shorts)
{
    if (w < 0) {
        ck_assert_int_eq(errno, EAGAIN);
        (*eagains)++;
    } else {
        *shorts += (size_t)w < want_end - *off;
        *off += (size_t)w;
    }
}

/* A fresh handshake of protocol, then the server's undecided channel (allowing allow) as
 * p->ch and a client channel (GCM or CTR) at the peer's end, which it owns (p->peer becomes a
 * dup). The client channel. */
static inline struct channel *pair_handshake(struct pair *p, enum aes_protocol protocol,
                                             bool gcm_client, enum channel_aes_cipher allow)
{
    struct aes_server sv;
    struct aes_session cs;
    aes_fresh_handshake(protocol, "app-1", "secret", &sv, &cs);
    pair_open(p, 0);
    p->ch = channel_aes_new_undecided(channel_plain_new(p->ours), sv.sessions, sv.nsessions);
    channel_aes_allow(p->ch, allow);
    struct channel *client = gcm_client ? channel_aes_new_gcm(channel_plain_new(p->peer), &cs)
                                        : channel_aes_new(channel_plain_new(p->peer), &cs);
    p->peer = dup(p->peer);
    aes_server_free(&sv);
    return client;
}

/* A temporary file holding data (unlinked; the caller closes it). */
static inline int pair_temp_file(const uint8_t *data, size_t len)
{
    char path[] = "/tmp/test_channel_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
    return fd;
}

#endif

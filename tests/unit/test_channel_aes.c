/* SPDX-License-Identifier: Apache-2.0 */
/* The AES-CTR channel over a socketpair, against a reference stream built from the recorded
 * session keys: what the channel writes is the recording's ciphertext, what it reads is the
 * recording's plaintext; the 3.2+ server's undecided channel picks the engine version from the
 * client's first bytes, however they are split; large writes and sendfile through a small
 * socket buffer, with EAGAIN and partial writes, keep one unbroken keystream. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aes_handshake.h"
#include "aes_vectors.h"
#include "channel_pair.h"
#include "crypto/aes_auth.h"
#include "server/net/channel_aes.h"
#include "test_util.h"

/* The server session of recording i, from its messages (server side, recorded randomness). */
static void server_sessions(const struct aes_recording *r, struct aes_server *sv,
                            struct aes_capture *c2s, struct aes_capture *s2c)
{
    char err[160];
    struct scripted_rng srng;
    struct crypto_rng rng = scripted(&srng, r->server_rng);
    aes_capture_load(c2s, r->dir, "c2s.bin");
    aes_capture_load(s2c, r->dir, "s2c.bin");
    aes_server_init(sv);
    ck_assert_int_eq(aes_server_parse(sv, c2s->body, c2s->body_len, err, sizeof err), 0);
    ck_assert_int_eq(aes_server_respond(sv, r->secret, &rng, err, sizeof err), 0);
}

/* Every recording: the server's channel (undecided: one candidate for v1, two for 3.2+) reads
 * the client's ciphertext, fed in 1..7-byte pieces, as its frames and writes the server's plaintext
 * as the recorded ciphertext. */
START_TEST(recorded_sessions_through_the_channel)
{
    const struct aes_recording *r = &aes_recordings[_i];
    struct aes_server sv;
    struct aes_capture c2s, s2c;
    server_sessions(r, &sv, &c2s, &s2c);
    struct pair p;
    pair_open(&p, 0);
    p.ch = channel_aes_new_undecided(channel_plain_new(p.ours), sv.sessions, sv.nsessions);
    ck_assert_ptr_nonnull(p.ch);

    /* a reference for the plaintext: the session's read stream on its own */
    int pick = aes_session_pick(sv.sessions, sv.nsessions, c2s.cipher);
    struct ctr_stream ref_rd, ref_wr;
    ck_assert_int_eq(aes_session_streams(&sv.sessions[pick], &ref_rd, &ref_wr), 0);
    uint8_t *want = malloc(c2s.cipher_len);
    ck_assert_int_eq(ctr_stream_apply(&ref_rd, c2s.cipher, want, c2s.cipher_len), 0);

    uint8_t *got = malloc(c2s.cipher_len + 64);
    uint8_t b[1] = {0};
    ck_assert_int_eq(channel_writev(p.ch, &(struct iovec){b, 1}, 1, false), -1);
    ck_assert_int_eq(errno, EPROTO);
    pair_trickle(&p, c2s.cipher, c2s.cipher_len, got, c2s.cipher_len, 7, AES_PICK_BYTES + 8);
    ck_assert_mem_eq(got, want, c2s.cipher_len);
    ck_assert_int_eq(channel_aes_protocol(p.ch), r->protocol);

    /* what the server wrote: decrypt the recording with the client's view, then write it */
    uint8_t *plain = malloc(s2c.cipher_len);
    struct ctr_stream s2c_dec;
    ck_assert_int_eq(ctr_stream_init(&s2c_dec, sv.sessions[pick].key, sv.sessions[pick].key_len,
                                     sv.sessions[pick].write_iv),
                     0);
    ck_assert_int_eq(ctr_stream_apply(&s2c_dec, s2c.cipher, plain, s2c.cipher_len), 0);
    struct iovec iov[3] = {{plain, 21}, {plain + 21, 13}, {plain + 34, s2c.cipher_len - 34}};
    ck_assert_int_eq(channel_writev(p.ch, iov, 3, false), (ssize_t)s2c.cipher_len);
    uint8_t *wire = malloc(s2c.cipher_len);
    ck_assert_int_eq(read(p.peer, wire, s2c.cipher_len), (ssize_t)s2c.cipher_len);
    ck_assert_mem_eq(wire, s2c.cipher, s2c.cipher_len);
    uint64_t dec, enc;
    channel_aes_counts(p.ch, &dec, &enc);
    ck_assert_uint_eq(dec, c2s.cipher_len);
    ck_assert_uint_eq(enc, s2c.cipher_len);

    ctr_stream_free(&ref_rd);
    ctr_stream_free(&ref_wr);
    ctr_stream_free(&s2c_dec);
    free(want);
    free(got);
    free(plain);
    free(wire);
    free(c2s.data);
    free(s2c.data);
    aes_server_free(&sv);
    pair_close(&p);
}
END_TEST

/* First bytes that fit neither engine version: EBADMSG. */
START_TEST(undecided_refuses_garbage)
{
    const struct aes_recording *r = &aes_recordings[3];
    struct aes_server sv;
    struct aes_capture c2s, s2c;
    server_sessions(r, &sv, &c2s, &s2c);
    struct pair p;
    pair_open(&p, 0);
    p.ch = channel_aes_new_undecided(channel_plain_new(p.ours), sv.sessions, 2);
    uint8_t first[AES_PICK_BYTES];
    memcpy(first, c2s.cipher, sizeof first);
    first[8] ^= 0x40; /* the type byte: no longer a request under either key */
    ck_assert_int_eq(write(p.peer, first, sizeof first), (ssize_t)sizeof first);
    uint8_t buf[32];
    ck_assert_int_eq(channel_read(p.ch, buf, sizeof buf), -1);
    ck_assert_int_eq(errno, EBADMSG);
    ck_assert_int_eq(channel_aes_protocol(p.ch), -1);
    free(c2s.data);
    free(s2c.data);
    aes_server_free(&sv);
    pair_close(&p);
}
END_TEST

static const struct aes_session test_session = {
    .protocol = AES_PROTO_X25519_V2,
    .key = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
    .key_len = 16,
    .read_iv = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0xff, 0xf0}, /* the counter wraps through all 128 bits within the test */
    .write_iv = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                 0xff, 0xfe},
};

/* Reads whatever the peer has and decrypts it with the reference into out. */
static size_t drain(struct pair *p, struct ctr_stream *ref, uint8_t *out, size_t room)
{
    size_t total = 0;
    for (;;) {
        ssize_t n = read(p->peer, out + total, room - total);
        if (n <= 0)
            break;
        ck_assert_int_eq(ctr_stream_apply(ref, out + total, out + total, (size_t)n), 0);
        total += (size_t)n;
    }
    return total;
}

#define BIG (3 * 1024 * 1024 + 777)

/* Large writes and file bodies through a small socket buffer, with every EAGAIN and short
 * write handled as the reply queue does: offer what was not taken, channel_flush at the end.
 * The peer decrypts with a reference stream and must see the exact bytes, in order. */
START_TEST(partial_writes_and_sendfile_keep_one_keystream)
{
    struct pair p;
    pair_open(&p, 16 * 1024);
    p.ch = channel_aes_new(channel_plain_new(p.ours), &test_session);
    struct ctr_stream ref;
    ck_assert_int_eq(ctr_stream_init(&ref, test_session.key, 16, test_session.write_iv), 0);

    uint8_t *data = malloc(BIG), *seen = malloc(2 * BIG + 64);
    for (size_t i = 0; i < BIG; i++)
        data[i] = (uint8_t)(i * 2654435761u >> 13);
    char path[] = "/tmp/test_channel_aes_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    ck_assert_int_eq(write(fd, data, BIG), BIG);

    /* part 1: memory, in iovecs of odd sizes */
    size_t off = 0, got = 0, eagains = 0, shorts = 0;
    while (off < BIG) {
        struct iovec iov[4];
        size_t at;
        int n = pair_odd_iovecs(data, BIG, off, iov, &at);
        ssize_t w = channel_writev(p.ch, iov, n, true);
        pair_took(w, &off, at, &eagains, &shorts);
        if (w < 0 || off % 3 == 0) /* not always: the next call must meet a full socket */
            got += drain(&p, &ref, seen + got, 2 * BIG + 64 - got);
    }
    /* part 2: the same bytes as a file body, asked for in ranges the socket cannot take */
    off = 0;
    while (off < BIG) {
        size_t want = BIG - off < 500000 ? BIG - off : 500000;
        ssize_t w = channel_sendfile(p.ch, fd, off, want);
        if (w < 0) {
            ck_assert_int_eq(errno, EAGAIN);
            eagains++;
        } else {
            ck_assert_int_gt(w, 0);
            off += (size_t)w;
        }
        if (w < 0 || off % 2 == 0)
            got += drain(&p, &ref, seen + got, 2 * BIG + 64 - got);
    }
    while (channel_flush(p.ch) < 0) { /* the last window's held ciphertext */
        ck_assert_int_eq(errno, EAGAIN);
        got += drain(&p, &ref, seen + got, 2 * BIG + 64 - got);
    }
    got += drain(&p, &ref, seen + got, 2 * BIG + 64 - got);
    ck_assert_uint_eq(got, 2 * (size_t)BIG);
    ck_assert_mem_eq(seen, data, BIG);
    ck_assert_mem_eq(seen + BIG, data, BIG);
    ck_assert_uint_gt(eagains, 0); /* the test did go through the blocked paths */
    ck_assert_uint_gt(shorts, 0);

    /* everything left: the large window went back */
    ck_assert_uint_le(channel_aes_window_bytes(p.ch), CHANNEL_AES_KEEP);
    /* a file shorter than asked: 0 once its end is reached */
    ck_assert_int_eq(channel_sendfile(p.ch, fd, BIG, 100), 0);
    uint64_t dec, enc;
    channel_aes_counts(p.ch, &dec, &enc);
    ck_assert_uint_eq(enc, 2 * (uint64_t)BIG);

    close(fd);
    ctr_stream_free(&ref);
    free(data);
    free(seen);
    pair_close(&p);
}
END_TEST

/* Ciphertext the socket did not take is held (one window at most), leaves before anything
 * new and through channel_flush, and the window goes back once it has left. */
START_TEST(held_ciphertext_leaves_first)
{
    struct pair p;
    pair_open(&p, 4096);
    p.ch = channel_aes_new(channel_plain_new(p.ours), &test_session);
    struct ctr_stream ref;
    ck_assert_int_eq(ctr_stream_init(&ref, test_session.key, 16, test_session.write_iv), 0);
    size_t len = 256 * 1024;
    uint8_t *data = malloc(len), *seen = malloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)i;
    ssize_t w = channel_writev(p.ch, &(struct iovec){data, len}, 1, false);
    ck_assert_int_gt(w, 0);
    ck_assert_int_lt(w, (ssize_t)len);
    ck_assert_uint_eq(channel_aes_window_bytes(p.ch), CHANNEL_AES_WINDOW); /* held */
    size_t off = (size_t)w;
    /* the socket is full: nothing new is taken, nothing held leaves */
    ck_assert_int_eq(channel_writev(p.ch, &(struct iovec){data + off, 10}, 1, false), -1);
    ck_assert_int_eq(errno, EAGAIN);
    ck_assert_int_eq(channel_flush(p.ch), -1);
    ck_assert_int_eq(errno, EAGAIN);
    size_t got = drain(&p, &ref, seen, len);
    while (channel_flush(p.ch) < 0)
        got += drain(&p, &ref, seen + got, len - got);
    ck_assert_uint_le(channel_aes_window_bytes(p.ch), CHANNEL_AES_KEEP); /* given back */
    while (off < len) { /* the rest in small offers */
        size_t offer = len - off < 1000 ? len - off : 1000;
        w = channel_writev(p.ch, &(struct iovec){data + off, offer}, 1, false);
        if (w > 0)
            off += (size_t)w;
        else
            ck_assert_int_eq(errno, EAGAIN);
        ck_assert_int_le(w, (ssize_t)offer);
        got += drain(&p, &ref, seen + got, len - got);
    }
    while (channel_flush(p.ch) < 0)
        got += drain(&p, &ref, seen + got, len - got);
    got += drain(&p, &ref, seen + got, len - got);
    ck_assert_uint_eq(got, len);
    ck_assert_mem_eq(seen, data, len);
    ctr_stream_free(&ref);
    free(data);
    free(seen);
    pair_close(&p);
}
END_TEST

/* Fresh handshakes of each protocol, then a channel at each end of a socketpair: the client's
 * request reaches the (undecided, for 3.2+) server channel as plaintext, and a file body the
 * server sends by sendfile reaches the client intact. */
START_TEST(handshake_then_both_channels)
{
    struct pair p;
    struct channel *client = pair_handshake(&p, aes_all_protocols[_i], false, CHANNEL_AES_CTR);

    uint8_t req[21] = {0, 0, 0, 0, 0, 0, 0, 21, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 3};
    ck_assert_int_eq(channel_writev(client, &(struct iovec){req, sizeof req}, 1, false), 21);
    uint8_t got[64];
    ck_assert_int_eq(channel_read(p.ch, got, 4), 4); /* the pick holds the first 9 bytes */
    ck_assert_uint_eq(channel_pending(p.ch), 5);     /* ... which the socket will not signal */
    ck_assert_int_eq(channel_read(p.ch, got + 4, sizeof got - 4), 17);
    ck_assert_uint_eq(channel_pending(p.ch), 0);
    ck_assert_mem_eq(got, req, 21);
    ck_assert_int_eq(channel_aes_protocol(p.ch), aes_all_protocols[_i]);

    char path[] = "/tmp/test_channel_aes_XXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    uint8_t data[5000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);
    ck_assert_int_eq(write(fd, data, sizeof data), (ssize_t)sizeof data);
    ck_assert_int_eq(channel_sendfile(p.ch, fd, 1000, 4000), 4000);
    uint8_t in[4000];
    size_t have = 0;
    while (have < sizeof in) {
        ssize_t n = channel_read(client, in + have, sizeof in - have);
        ck_assert_int_gt(n, 0);
        have += (size_t)n;
    }
    ck_assert_mem_eq(in, data + 1000, sizeof in);
    close(fd);
    channel_destroy(client);
    pair_close(&p);
}
END_TEST

int main(void)
{
    return aes_check_main(
        "channel_aes", (const TTest *const[3]){recorded_sessions_through_the_channel},
        CHECK_TESTS(recorded_sessions_through_the_channel, undecided_refuses_garbage,
                    partial_writes_and_sendfile_keep_one_keystream, held_ciphertext_leaves_first),
        handshake_then_both_channels);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The AES channel with the AES-GCM cipher over a socketpair: the server's undecided channel
 * (crypto_cipher auto) reads each recorded gcm-* client stream, fed in small pieces, as its
 * plaintext and picks GCM with the engine version the header names; after fresh handshakes a
 * GCM client and the server exchange a request and a file body; large writes and sendfile
 * through a small socket buffer arrive whole; a frame of a megabyte leaves as one message; the
 * window and input buffers go back; a channel limited to one cipher refuses the other. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check_main.h"
#include "aes_handshake.h"
#include "channel_pair.h"
#include "gcm_vectors.h"
#include "server/net/channel_aes.h"

/* Candidates as a 3.2+ server holds them: v1's 32-byte key and v2's 16-byte one; the one of
 * the recording is its session key, the other a decoy. */
static void candidates_for(const struct gcm_expected *e, struct aes_session cand[2])
{
    memset(cand, 0, 2 * sizeof *cand);
    cand[0] = (struct aes_session){.protocol = AES_PROTO_X25519_V1, .key_len = 32};
    cand[1] = (struct aes_session){.protocol = AES_PROTO_X25519_V2, .key_len = 16};
    memset(cand[0].key, 0x11, 32);
    memset(cand[1].key, 0x22, 16);
    memcpy(cand[e->key_len == 32 ? 0 : 1].key, e->key, e->key_len);
}

static void count_hook(void *arg, uint64_t decrypted, uint64_t encrypted)
{
    uint64_t *n = arg;
    n[0] += decrypted;
    n[1] += encrypted;
}
static void decided_hook(void *arg, int protocol, bool gcm)
{
    uint64_t *n = arg;
    n[2] = (uint64_t)protocol + (gcm ? 10 : 0);
}
static const struct channel_aes_hooks hooks = {decided_hook, count_hook};

/* A decided GCM channel under s as p->ch (sndbuf as pair_open). */
static void gcm_pair(struct pair *p, const struct aes_session *s, int sndbuf)
{
    pair_open(p, sndbuf);
    p->ch = channel_aes_new_gcm(channel_plain_new(p->ours), s);
    ck_assert_ptr_nonnull(p->ch);
}

/* Reads one message off the peer's socket and opens it with r: its plaintext must be want. */
static void expect_message(struct pair *p, struct gcm_reader *r, const uint8_t *want, size_t len)
{
    uint8_t wire[512], *out;
    size_t plen;
    ssize_t n = read(p->peer, wire, sizeof wire);
    ck_assert_int_eq(n, (ssize_t)gcm_message_len(r->k.key_len, len)); /* one message */
    ck_assert_int_eq(gcm_reader_feed(r, wire, (size_t)n, &out, &plen), n);
    ck_assert_uint_eq(plen, len);
    ck_assert_mem_eq(out, want, len);
}

START_TEST(recorded_client_streams_through_the_channel)
{
    for (size_t i = 0; i < GCM_CAPTURES; i++) {
        const struct gcm_capture *c = &gcm_captures[i];
        if (strcmp(c->dir_label, "c2s") != 0)
            continue;
        struct gcm_expected e;
        gcm_expected_of(c, &e);
        struct aes_capture cap;
        size_t want_len;
        uint8_t *want = gcm_decrypt_capture(c, &e, SIZE_MAX, &want_len, &cap);
        struct aes_session cand[2];
        candidates_for(&e, cand);
        struct pair p;
        pair_open(&p, 0);
        p.ch = channel_aes_new_undecided(channel_plain_new(p.ours), cand, 2);
        channel_aes_allow(p.ch, CHANNEL_AES_AUTO);
        uint64_t counted[3] = {0};
        channel_aes_set_hooks(p.ch, &hooks, counted);
        uint8_t *got = malloc(want_len + 64);
        size_t have = pair_trickle(&p, cap.cipher, cap.cipher_len, got, want_len, 13, SIZE_MAX);
        ck_assert_uint_eq(have, want_len);
        ck_assert_mem_eq(got, want, want_len);
        ck_assert(channel_aes_is_gcm(p.ch));
        int protocol = e.key_len == 32 ? AES_PROTO_X25519_V1 : AES_PROTO_X25519_V2;
        ck_assert_int_eq(channel_aes_protocol(p.ch), protocol);
        ck_assert_uint_eq(counted[0], want_len);
        ck_assert_uint_eq(counted[2], (uint64_t)protocol + 10);
        /* all read: the input buffers went back */
        ck_assert_uint_eq(channel_aes_input_bytes(p.ch), 0);
        free(got);
        free(want);
        free(cap.data);
        pair_close(&p);
    }
}
END_TEST

/* Fresh 3.2+ handshakes (both engine versions), a GCM client, the auto server. */
START_TEST(handshake_then_gcm_both_ways)
{
    struct pair p;
    struct channel *client = pair_handshake(&p, aes_all_protocols[1 + _i], true, CHANNEL_AES_AUTO);

    uint8_t req[21] = {0, 0, 0, 0, 0, 0, 0, 21, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 3};
    ck_assert_int_eq(channel_writev(client, &(struct iovec){req, sizeof req}, 1, false), 21);
    uint8_t got[64];
    ck_assert_int_eq(channel_read(p.ch, got, 4), 4);
    ck_assert_uint_eq(channel_pending(p.ch), 17); /* the rest of the segment's plaintext */
    ck_assert_int_eq(channel_read(p.ch, got + 4, sizeof got - 4), 17);
    ck_assert_mem_eq(got, req, 21);
    ck_assert(channel_aes_is_gcm(p.ch));
    ck_assert_int_eq(channel_aes_protocol(p.ch), aes_all_protocols[1 + _i]);

    uint8_t *data = malloc(200000);
    for (size_t i = 0; i < 200000; i++)
        data[i] = (uint8_t)(i * 7);
    int fd = pair_temp_file(data, 200000);
    size_t off = 1000, have = 0;
    uint8_t *in = malloc(199000);
    while (have < 199000) {
        if (off < 200000) {
            ssize_t w = channel_sendfile(p.ch, fd, off, 200000 - off);
            if (w > 0)
                off += (size_t)w;
            else
                ck_assert_int_eq(errno, EAGAIN);
        } else if (channel_flush(p.ch) < 0) {
            ck_assert_int_eq(errno, EAGAIN);
        }
        ssize_t n = channel_read(client, in + have, 199000 - have);
        if (n < 0)
            ck_assert_int_eq(errno, EAGAIN);
        else
            have += (size_t)n;
    }
    ck_assert_mem_eq(in, data + 1000, 199000);
    uint64_t dec, enc;
    channel_aes_counts(p.ch, &dec, &enc);
    ck_assert_uint_eq(dec, 21);
    ck_assert_uint_eq(enc, 199000);
    close(fd);
    free(data);
    free(in);
    channel_destroy(client);
    pair_close(&p);
}
END_TEST

#define BIG (3 * 1024 * 1024 + 777)

/* Reads what the peer's GCM channel can give into out. */
static size_t drain(struct channel *client, uint8_t *out, size_t room)
{
    size_t total = 0;
    for (;;) {
        ssize_t n = channel_read(client, out + total, room - total);
        if (n <= 0)
            break;
        total += (size_t)n;
    }
    return total;
}

/* Large iovecs and file ranges through a 16 KiB socket buffer, with EAGAIN and short writes
 * handled as the reply queue does; the client's GCM channel sees the exact bytes in order. */
START_TEST(partial_writes_and_sendfile_arrive_whole)
{
    static const struct aes_session s = {
        .protocol = AES_PROTO_X25519_V2,
        .key = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
        .key_len = 16,
    };
    struct pair p;
    gcm_pair(&p, &s, 16 * 1024);
    struct channel *client = channel_aes_new_gcm(channel_plain_new(dup(p.peer)), &s);
    uint8_t *data = malloc(BIG), *seen = malloc(2 * BIG + 64);
    for (size_t i = 0; i < BIG; i++)
        data[i] = (uint8_t)(i * 2654435761u >> 13);
    int fd = pair_temp_file(data, BIG);
    size_t off = 0, got = 0, eagains = 0, shorts = 0;
    while (off < BIG) {
        struct iovec iov[4];
        size_t at;
        int n = pair_odd_iovecs(data, BIG, off, iov, &at);
        pair_took(channel_writev(p.ch, iov, n, true), &off, at, &eagains, &shorts);
        ck_assert_uint_le(channel_memory(p.ch, true), 65536 + 128); /* one message held */
        got += drain(client, seen + got, 2 * BIG + 64 - got);
    }
    for (off = 0; off < BIG;) {
        ssize_t w = channel_sendfile(p.ch, fd, off, BIG - off < 500000 ? BIG - off : 500000);
        if (w < 0) {
            ck_assert_int_eq(errno, EAGAIN);
            eagains++;
        } else {
            off += (size_t)w;
        }
        got += drain(client, seen + got, 2 * BIG + 64 - got);
    }
    while (channel_flush(p.ch) < 0) {
        ck_assert_int_eq(errno, EAGAIN);
        got += drain(client, seen + got, 2 * BIG + 64 - got);
    }
    got += drain(client, seen + got, 2 * BIG + 64 - got);
    ck_assert_uint_eq(got, 2 * (size_t)BIG);
    ck_assert_mem_eq(seen, data, BIG);
    ck_assert_mem_eq(seen + BIG, data, BIG);
    ck_assert_uint_gt(eagains, 0);
    ck_assert_uint_gt(shorts, 0);
    ck_assert_uint_le(channel_aes_window_bytes(p.ch), CHANNEL_AES_KEEP); /* given back */
    ck_assert_uint_eq(channel_memory(client, false), 0);
    ck_assert_int_eq(channel_sendfile(p.ch, fd, BIG, 100), 0); /* past the end */
    close(fd);
    free(data);
    free(seen);
    channel_destroy(client);
    pair_close(&p);
}
END_TEST

/* A frame's header written with "more follows" and its file body become one message, as
 * Spark sends a frame; a header whose body never comes leaves at channel_flush. */
START_TEST(header_and_body_one_message)
{
    static const struct aes_session s = {.protocol = AES_PROTO_X25519_V2, .key_len = 16};
    struct pair p;
    gcm_pair(&p, &s, 0);
    uint8_t frame[61] = {0, 0, 0, 0, 0, 0, 0, 61, 1}, wire[8];
    memset(frame + 21, 0x5c, 40);
    int fd = pair_temp_file(frame + 21, 40);
    struct gcm_reader r;
    ck_assert_int_eq(gcm_reader_init(&r, s.key, 16), 0);
    ck_assert_int_eq(channel_writev(p.ch, &(struct iovec){frame, 21}, 1, true), 21);
    ck_assert_int_eq(read(p.peer, wire, sizeof wire), -1); /* nothing sealed yet */
    ck_assert_int_eq(channel_sendfile(p.ch, fd, 0, 40), 40);
    expect_message(&p, &r, frame, 61);
    /* a header alone, then flush */
    ck_assert_int_eq(channel_writev(p.ch, &(struct iovec){frame, 21}, 1, true), 21);
    ck_assert_int_eq(channel_flush(p.ch), 0);
    expect_message(&p, &r, frame, 21);
    ck_assert_uint_eq(r.messages, 2);
    gcm_reader_free(&r);
    close(fd);
    pair_close(&p);
}
END_TEST

/* A frame of a megabyte (its header written with "more", then the file body, through a 16 KiB
 * socket buffer with EAGAIN and short writes as the reply queue sees them) leaves as one
 * message, as Spark sends a frame: one key derivation, not one per window; the window never
 * holds more than the header and two segments; the reader gets the frame's bytes in order. */
START_TEST(large_frame_is_one_message)
{
    static const struct aes_session s = {
        .protocol = AES_PROTO_X25519_V2, .key = {9}, .key_len = 16};
    enum { BODY = 1024 * 1024 + 333 };
    struct pair p;
    gcm_pair(&p, &s, 16 * 1024);
    uint8_t header[21] = {0, 0, 0, 0, 0, 0x10, 1, 0x62, 1};
    uint8_t *body = malloc(BODY), *seen = malloc(sizeof header + BODY + 1), wire[65536];
    for (size_t i = 0; i < BODY; i++)
        body[i] = (uint8_t)(i * 131 + 7);
    int fd = pair_temp_file(body, BODY);
    struct gcm_reader r;
    ck_assert_int_eq(gcm_reader_init(&r, s.key, 16), 0);
    size_t got = 0, hdr = 0, off = 0, eagains = 0, window_max = 0;
    const size_t total = sizeof header + BODY;
    while (got < total) {
        ssize_t w;
        if (hdr < sizeof header) {
            w = channel_writev(p.ch, &(struct iovec){header + hdr, sizeof header - hdr}, 1, true);
            if (w > 0)
                hdr += (size_t)w;
        } else if (off < BODY) {
            w = channel_sendfile(p.ch, fd, off, BODY - off);
            if (w > 0)
                off += (size_t)w;
        } else {
            w = channel_flush(p.ch);
        }
        if (w < 0) {
            ck_assert_int_eq(errno, EAGAIN);
            eagains++;
        }
        size_t held = channel_memory(p.ch, true);
        window_max = held > window_max ? held : window_max;
        ssize_t n = read(p.peer, wire, sizeof wire);
        for (ssize_t at = 0; at < n;) {
            uint8_t *plain;
            size_t plen;
            ssize_t took = gcm_reader_feed(&r, wire + at, (size_t)(n - at), &plain, &plen);
            ck_assert_int_gt(took, 0);
            memcpy(seen + got, plain, plen);
            got += plen;
            at += took;
        }
    }
    ck_assert_mem_eq(seen, header, sizeof header);
    ck_assert_mem_eq(seen + sizeof header, body, BODY);
    ck_assert_uint_eq(r.messages, 1);
    ck_assert(gcm_reader_idle(&r));
    ck_assert_uint_gt(eagains, 0);
    ck_assert_uint_le(window_max, 8 + 24 + 2 * GCM_SEGMENT_LEN);
    uint64_t dec, enc;
    channel_aes_counts(p.ch, &dec, &enc);
    ck_assert_uint_eq(enc, total);
    gcm_reader_free(&r);
    close(fd);
    free(body);
    free(seen);
    pair_close(&p);
}
END_TEST

/* crypto_cipher ctr refuses a GCM client, gcm a CTR client: EBADMSG, nothing read. */
START_TEST(one_cipher_only_refuses_the_other)
{
    for (int gcm_client = 0; gcm_client < 2; gcm_client++) {
        struct pair p;
        struct channel *client = pair_handshake(&p, AES_PROTO_X25519_V2, gcm_client,
                                                gcm_client ? CHANNEL_AES_CTR : CHANNEL_AES_GCM);
        uint8_t req[21] = {0, 0, 0, 0, 0, 0, 0, 21, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 3};
        ck_assert_int_eq(channel_writev(client, &(struct iovec){req, sizeof req}, 1, false), 21);
        uint8_t got[64];
        ck_assert_int_eq(channel_read(p.ch, got, sizeof got), -1);
        ck_assert_int_eq(errno, EBADMSG);
        ck_assert_int_eq(channel_aes_protocol(p.ch), -1);
        channel_destroy(client);
        pair_close(&p);
    }
}
END_TEST

/* A message that does not verify: the read fails with EBADMSG, and keeps failing. */
START_TEST(tampered_message_refused)
{
    static const struct aes_session s = {.protocol = AES_PROTO_X25519_V1, .key_len = 32};
    struct pair p;
    gcm_pair(&p, &s, 0);
    struct channel *client = channel_aes_new_gcm(channel_plain_new(dup(p.peer)), &s);
    uint8_t req[40] = {0, 0, 0, 0, 0, 0, 0, 40, 3};
    ck_assert_int_eq(channel_writev(client, &(struct iovec){req, sizeof req}, 1, false), 40);
    uint8_t wire[200]; /* taken off the server's socket before its channel sees it */
    ssize_t n = read(p.ours, wire, sizeof wire);
    ck_assert_int_eq(n, (ssize_t)gcm_message_len(32, 40));
    wire[60] ^= 0x80;
    ck_assert_int_eq(write(p.peer, wire, (size_t)n), n);
    uint8_t got[64];
    ck_assert_int_eq(channel_read(p.ch, got, sizeof got), -1);
    ck_assert_int_eq(errno, EBADMSG);
    ck_assert_int_eq(channel_read(p.ch, got, sizeof got), -1);
    ck_assert_int_eq(errno, EBADMSG);
    channel_destroy(client);
    pair_close(&p);
}
END_TEST

int main(void)
{
    check_require_shared_vectors();
    Suite *s = suite_create("channel_gcm");
    check_add_case(
        s, &(struct check_case){.suite = "channel_gcm", .name = "channel_gcm", .timeout_s = 120},
        CHECK_TESTS(recorded_client_streams_through_the_channel,
                    partial_writes_and_sendfile_arrive_whole, one_cipher_only_refuses_the_other,
                    tampered_message_refused, header_and_body_one_message,
                    large_frame_is_one_message));
    check_add_case(s,
                   &(struct check_case){.suite = "channel_gcm",
                                        .name = "each_engine_version",
                                        .loops = 2,
                                        .looped = {handshake_then_gcm_both_ways}},
                   CHECK_TESTS(handshake_then_gcm_both_ways));
    return check_run_suite(s);
}

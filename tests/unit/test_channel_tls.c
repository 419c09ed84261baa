/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's TLS channel without kernel TLS (channel_tls.c over tls_window_bio.c) against an
 * OpenSSL client over TCP on 127.0.0.1, for TLS 1.3, TLS 1.2 AES-GCM and TLS 1.2 CBC (the largest
 * record overhead): a header then file bodies of 3 MiB and odd sizes, and a large write from
 * memory, arrive whole and in order through a small socket buffer that fills again and again;
 * the window never exceeds CHANNEL_TLS_WINDOW and goes back once everything left; records
 * leave many per socket write (not one write per 16 KiB record). */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../check_main.h"
#include "server/net/channel_tls.h"

/* The server's socket seen by the TLS channel: writes counted, then passed on. */
struct counting_channel {
    struct channel base;
    size_t writes, bytes;
};

static ssize_t counted_writev(struct channel *ch, const struct iovec *iov, int n, bool more)
{
    (void)more;
    struct counting_channel *c = (struct counting_channel *)ch;
    ssize_t w = writev(ch->fd, iov, n);
    if (w > 0) {
        c->writes++;
        c->bytes += (size_t)w;
    }
    return w;
}
static ssize_t unused_read(struct channel *ch, void *buf, size_t len)
{
    return read(ch->fd, buf, len);
}
static ssize_t unused_sendfile(struct channel *ch, int fd, uint64_t off, size_t len)
{
    (void)ch, (void)fd, (void)off, (void)len;
    errno = ENOSYS;
    return -1;
}
static void no_cork(struct channel *ch, bool on)
{
    (void)ch, (void)on;
}
static void counted_destroy(struct channel *ch)
{
    close(ch->fd);
}
static const struct channel_ops counting_ops = {
    .name = "counting",
    .read = unused_read,
    .writev = counted_writev,
    .sendfile = unused_sendfile,
    .cork = no_cork,
    .destroy = counted_destroy,
};

/* A self-signed P-256 certificate and key, made once. */
static EVP_PKEY *key;
static X509 *cert;

static void make_certificate(void)
{
    if (cert)
        return;
    key = EVP_EC_gen("P-256");
    cert = X509_new();
    ck_assert(key && cert);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"test", -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_set_pubkey(cert, key);
    ck_assert_int_gt(X509_sign(cert, key, EVP_sha256()), 0);
}

/* _i: 0 TLS 1.3, 1 TLS 1.2 AES-GCM, 2 TLS 1.2 AES-256-CBC with SHA-384 (IV, MAC, padding) */
static const char *const tls12_ciphers[] = {NULL, "ECDHE-ECDSA-AES128-GCM-SHA256",
                                            "ECDHE-ECDSA-AES256-SHA384"};

struct session {
    struct counting_channel *sock;
    struct channel *ch; /* the daemon's TLS channel */
    SSL_CTX *sctx, *cctx;
    SSL *client;
    int client_fd;
    uint8_t *got; /* what the client read */
    size_t have, cap;
};

/* Reads what the client can (up to max bytes) into s->got. */
static void client_reads(struct session *s, size_t max)
{
    while (max > 0) {
        ck_assert_uint_le(s->have, s->cap); /* got has 4 KiB more: too many bytes show */
        size_t room = s->cap + 4096 - s->have < max ? s->cap + 4096 - s->have : max;
        int n = SSL_read(s->client, s->got + s->have, (int)room);
        if (n <= 0) {
            ck_assert_int_eq(SSL_get_error(s->client, n), SSL_ERROR_WANT_READ);
            return;
        }
        s->have += (size_t)n;
        max -= (size_t)n;
    }
}

/* A TCP connection over 127.0.0.1 (as the daemon's): sv[0] accepted, sv[1] connected. */
static void tcp_pair(int sv[2])
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(l, 0);
    ck_assert_int_eq(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(l, 1), 0);
    ck_assert_int_eq(getsockname(l, (struct sockaddr *)&a, &alen), 0);
    sv[1] = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(connect(sv[1], (struct sockaddr *)&a, sizeof a), 0);
    sv[0] = accept(l, NULL, NULL);
    ck_assert_int_ge(sv[0], 0);
    close(l);
}

static void session_open(struct session *s, int variant, int sndbuf, size_t cap)
{
    make_certificate();
    memset(s, 0, sizeof *s);
    int sv[2];
    tcp_pair(sv);
    if (sndbuf) {
        setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
        setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof sndbuf);
    }
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    s->sctx = SSL_CTX_new(TLS_server_method());
    s->cctx = SSL_CTX_new(TLS_client_method());
    ck_assert(s->sctx && s->cctx);
    ck_assert_int_eq(SSL_CTX_use_certificate(s->sctx, cert), 1);
    ck_assert_int_eq(SSL_CTX_use_PrivateKey(s->sctx, key), 1);
    /* the daemon's modes (tls_context.c) */
    SSL_CTX_set_mode(s->sctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (tls12_ciphers[variant]) {
        SSL_CTX_set_max_proto_version(s->cctx, TLS1_2_VERSION);
        ck_assert_int_eq(SSL_CTX_set_cipher_list(s->cctx, tls12_ciphers[variant]), 1);
    }
    SSL *server = SSL_new(s->sctx);
    SSL_set_accept_state(server);
    s->sock = calloc(1, sizeof *s->sock);
    s->sock->base = (struct channel){.ops = &counting_ops, .fd = sv[0]};
    s->ch = channel_tls_new(&s->sock->base, server, NULL);
    ck_assert_ptr_nonnull(s->ch);
    s->client = SSL_new(s->cctx);
    s->client_fd = sv[1];
    SSL_set_fd(s->client, sv[1]);
    SSL_set_connect_state(s->client);
    s->cap = cap;
    s->got = malloc(cap + 4096);
    /* the handshake, then a first byte from the client: the server's handshake is done */
    uint8_t byte;
    for (int i = 0; i < 100 && SSL_do_handshake(s->client) != 1; i++)
        ck_assert_int_eq(channel_read(s->ch, &byte, 1), -1);
    ck_assert_int_eq(SSL_write(s->client, "x", 1), 1);
    ck_assert_int_eq(channel_read(s->ch, &byte, 1), 1);
    ck_assert(!channel_tls_ktls_send(s->ch));
    if (tls12_ciphers[variant])
        ck_assert_str_eq(SSL_get_cipher_name(s->client), tls12_ciphers[variant]);
}

static void session_close(struct session *s)
{
    channel_destroy(s->ch); /* and the counting channel's socket */
    free(s->sock);
    SSL_free(s->client);
    close(s->client_fd);
    SSL_CTX_free(s->sctx);
    SSL_CTX_free(s->cctx);
    free(s->got);
}

/* The reply queue's way after a short write: the held bytes first (channel_flush), then on. */
static void flush_until_done(struct session *s)
{
    while (channel_flush(s->ch) != 0) {
        ck_assert_int_eq(errno, EAGAIN);
        client_reads(s, SIZE_MAX);
    }
    client_reads(s, SIZE_MAX);
}

static uint8_t byte_at(size_t i)
{
    return (uint8_t)(i * 7 + (i >> 13));
}

/* A file of len pattern bytes. */
static int pattern_file(size_t len)
{
    char path[] = "/tmp/test_channel_tls.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    uint8_t *data = malloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = byte_at(i);
    ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
    free(data);
    return fd;
}

START_TEST(file_bodies_through_a_small_socket_buffer_arrive_whole)
{
    static const size_t sizes[] = {3 * 1024 * 1024 + 12345, 1, 16384, 16385, 300000};
    size_t file_len = sizes[0], total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        total += 21 + sizes[i];
    int fd = pattern_file(file_len);
    struct session s;
    session_open(&s, _i, 32 * 1024, total);
    const uint8_t header[21] = "header-of-the-chunk!";
    int blocked = 0;
    for (size_t b = 0; b < sizeof sizes / sizeof *sizes; b++) {
        /* a header that waits for its body, as the reply queue writes it */
        struct iovec h = {(void *)header, sizeof header};
        ssize_t w;
        while ((w = channel_writev(s.ch, &h, 1, true)) < 0) {
            ck_assert_int_eq(errno, EAGAIN);
            flush_until_done(&s);
        }
        ck_assert_int_eq(w, (ssize_t)sizeof header);
        size_t done = 0;
        while (done < sizes[b]) {
            ssize_t n = channel_sendfile(s.ch, fd, done, sizes[b] - done);
            ck_assert_uint_le(channel_memory(s.ch, true), CHANNEL_TLS_WINDOW);
            if (n < 0) {
                ck_assert_int_eq(errno, EAGAIN);
                blocked++;
                client_reads(&s, 40000); /* some room, not all */
                if (channel_flush(s.ch) != 0)
                    ck_assert_int_eq(errno, EAGAIN);
                continue;
            }
            ck_assert_int_gt(n, 0);
            done += (size_t)n;
        }
        flush_until_done(&s);
    }
    ck_assert_int_gt(blocked, 10); /* the socket buffer filled, many times */
    ck_assert_uint_eq(s.have, total);
    size_t at = 0;
    for (size_t b = 0; b < sizeof sizes / sizeof *sizes; b++) {
        ck_assert_mem_eq(s.got + at, header, sizeof header);
        at += sizeof header;
        for (size_t i = 0; i < sizes[b]; i++)
            if (s.got[at + i] != byte_at(i))
                ck_abort_msg("block %zu: byte %zu differs", b, i);
        at += sizes[b];
    }
    ck_assert_uint_eq(channel_memory(s.ch, true), 0); /* all left: the window went back */
    session_close(&s);
    close(fd);
}
END_TEST

START_TEST(a_large_write_from_memory_arrives_whole)
{
    size_t len = 700001;
    uint8_t *data = malloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = byte_at(i);
    struct session s;
    session_open(&s, _i, 32 * 1024, len);
    size_t done = 0;
    while (done < len) {
        /* odd pieces: records and windows start anywhere in them */
        struct iovec iov[3] = {{data + done, 0}, {data + done, 0}, {data + done, 0}};
        size_t left = len - done, a = left < 1000 ? left : 1000,
               b = left - a < 99999 ? left - a : 99999;
        iov[0].iov_len = a;
        iov[1].iov_base = data + done + a;
        iov[1].iov_len = b;
        iov[2].iov_base = data + done + a + b;
        iov[2].iov_len = left - a - b;
        ssize_t n = channel_writev(s.ch, iov, 3, false);
        ck_assert_uint_le(channel_memory(s.ch, true), CHANNEL_TLS_WINDOW);
        if (n < 0) {
            ck_assert_int_eq(errno, EAGAIN);
            client_reads(&s, 50000);
            continue;
        }
        done += (size_t)n;
    }
    flush_until_done(&s);
    ck_assert_uint_eq(s.have, len);
    ck_assert_mem_eq(s.got, data, len);
    session_close(&s);
    free(data);
}
END_TEST

START_TEST(records_leave_many_per_socket_write)
{
    size_t len = 2 * 1024 * 1024;
    int fd = pattern_file(len);
    struct session s;
    session_open(&s, 0, 0, len); /* the socket's default buffer */
    size_t writes0 = s.sock->writes, bytes0 = s.sock->bytes, done = 0;
    while (done < len) {
        ssize_t n = channel_sendfile(s.ch, fd, done, len - done);
        if (n < 0) {
            ck_assert_int_eq(errno, EAGAIN);
            flush_until_done(&s);
            continue;
        }
        done += (size_t)n;
    }
    flush_until_done(&s);
    ck_assert_uint_eq(s.have, len);
    size_t writes = s.sock->writes - writes0, bytes = s.sock->bytes - bytes0;
    /* 128 records of 16 KiB; written one by one they would average 16 KiB + 22 */
    ck_assert_uint_gt(writes, 0); /* through the window, not from SSL to the socket */
    ck_assert_uint_ge(bytes, len);
    ck_assert_msg(bytes / writes >= 64 * 1024, "%zu writes of %zu bytes on average", writes,
                  bytes / writes);
    session_close(&s);
    close(fd);
}
END_TEST

CHECK_MAIN((.suite = "channel_tls", .name = "userspace", .timeout_s = 60, .loops = 3,
            .looped = {file_bodies_through_a_small_socket_buffer_arrive_whole,
                       a_large_write_from_memory_arrives_whole}),
           file_bodies_through_a_small_socket_buffer_arrive_whole,
           a_large_write_from_memory_arrives_whole, records_leave_many_per_socket_write)

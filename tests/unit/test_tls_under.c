/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's TLS channel with a cipher put under it (channel_under_tls), watched from the
 * wire: an OpenSSL client over memory BIOs at the other end of a socketpair, its raw bytes
 * captured. After the handshake and one "auth" exchange in TLS, the server's AES-CTR channel goes
 * under TLS at its first use; the client switches too. Every byte the server sent after the
 * record of its auth reply is AES-CTR (s2c IV, counter from 0) of well-formed TLS records, the
 * bytes before it are TLS records ending exactly there (Spark 4's layering,
 * ../shared/vectors-40/tls-plus-aes); requests and a 300 KiB answer cross intact both ways. A
 * client that sends TLS bytes after its auth message, before the switch, is refused. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../check_main.h"
#include "crypto/aes_session.h"
#include "crypto/ctr_stream.h"
#include "server/net/channel_aes.h"
#include "server/net/channel_tls.h"
#include "server/net/channel_under_tls.h"

#define BIG (300 * 1024)

static const struct aes_session session = {
    .protocol = AES_PROTO_X25519_V2,
    .key = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
    .key_len = 16,
    .read_iv = {0xc2, 0x5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0xff, 0xfe},
    .write_iv = {0x52, 0xc, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0xff, 0xff, 0xff, 0xf0},
};

/* Both ends: the server's channels, the client's SSL over memory BIOs and what crossed. */
struct wire {
    int server_fd, client_fd;
    struct channel *tls, *top; /* top: what the connection reads and writes */
    SSL_CTX *sctx, *cctx;
    SSL *client;
    BIO *c_in, *c_out;
    bool client_ctr; /* the client's side of the cipher is on */
    struct ctr_stream c_enc, c_dec;
    uint8_t *s2c; /* every raw byte the server sent */
    size_t s2c_len, s2c_cap;
};

static void make_cert(SSL_CTX *ctx)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    ck_assert_ptr_nonnull(key);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"test", -1, -1, 0);
    X509_set_issuer_name(x, name);
    ck_assert_int_gt(X509_sign(x, key, EVP_sha256()), 0);
    ck_assert_int_eq(SSL_CTX_use_certificate(ctx, x), 1);
    ck_assert_int_eq(SSL_CTX_use_PrivateKey(ctx, key), 1);
    X509_free(x);
    EVP_PKEY_free(key);
}

/* Client -> socket: what the client SSL wrote, through its CTR once it is on. */
static void client_send(struct wire *w)
{
    uint8_t buf[16384];
    int n;
    while ((n = BIO_read(w->c_out, buf, sizeof buf)) > 0) {
        if (w->client_ctr)
            ck_assert_int_eq(ctr_stream_apply(&w->c_enc, buf, buf, (size_t)n), 0);
        ck_assert_int_eq(write(w->client_fd, buf, (size_t)n), n);
    }
}

/* Socket -> client: what the server sent, captured, then into the client SSL. */
static void client_receive(struct wire *w)
{
    uint8_t buf[16384];
    ssize_t n;
    while ((n = read(w->client_fd, buf, sizeof buf)) > 0) {
        if (w->s2c_len + (size_t)n > w->s2c_cap) {
            w->s2c_cap = (w->s2c_len + (size_t)n) * 2;
            w->s2c = realloc(w->s2c, w->s2c_cap);
        }
        memcpy(w->s2c + w->s2c_len, buf, (size_t)n);
        w->s2c_len += (size_t)n;
        if (w->client_ctr)
            ck_assert_int_eq(ctr_stream_apply(&w->c_dec, buf, buf, (size_t)n), 0);
        ck_assert_int_eq(BIO_write(w->c_in, buf, (int)n), (int)n);
    }
}

/* The server reads from top until it has len bytes (driving the handshake meanwhile). */
static void server_expect(struct wire *w, const char *want, size_t len)
{
    uint8_t got[256];
    size_t have = 0;
    for (int round = 0; have < len && round < 1000; round++) {
        ssize_t n = channel_read(w->top, got + have, sizeof got - have);
        if (n < 0) {
            ck_assert_msg(errno == EAGAIN, "server read: %s", strerror(errno));
            client_receive(w);
            (void)SSL_do_handshake(w->client);
            client_send(w);
            continue;
        }
        ck_assert_int_gt(n, 0);
        have += (size_t)n;
    }
    ck_assert_uint_eq(have, len);
    ck_assert_mem_eq(got, want, len);
}

/* The client reads len bytes of plaintext (the server flushing what it holds meanwhile). */
static void client_expect(struct wire *w, const uint8_t *want, size_t len)
{
    uint8_t *got = malloc(len);
    size_t have = 0;
    for (int round = 0; have < len && round < 100000; round++) {
        int rc = channel_flush(w->top);
        ck_assert(rc == 0 || errno == EAGAIN);
        client_receive(w);
        int n = SSL_read(w->client, got + have, (int)(len - have));
        if (n > 0)
            have += (size_t)n;
        else
            ck_assert_int_eq(SSL_get_error(w->client, n), SSL_ERROR_WANT_READ);
    }
    ck_assert_uint_eq(have, len);
    ck_assert_mem_eq(got, want, len);
    free(got);
}

static void wire_open(struct wire *w)
{
    memset(w, 0, sizeof *w);
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    w->server_fd = sv[0];
    w->client_fd = sv[1];
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    w->sctx = SSL_CTX_new(TLS_server_method());
    make_cert(w->sctx);
    w->cctx = SSL_CTX_new(TLS_client_method());
    SSL *s = SSL_new(w->sctx);
    SSL_set_accept_state(s);
    w->tls = w->top = channel_tls_new(channel_plain_new(w->server_fd), s, NULL);
    ck_assert_ptr_nonnull(w->tls);
    w->client = SSL_new(w->cctx);
    w->c_in = BIO_new(BIO_s_mem());
    w->c_out = BIO_new(BIO_s_mem());
    SSL_set_bio(w->client, w->c_in, w->c_out);
    SSL_set_connect_state(w->client);
    uint8_t buf[16];
    int done = 0;
    for (int round = 0; done != 1 && round < 100; round++) {
        done = SSL_do_handshake(w->client);
        client_send(w);
        ck_assert_int_eq(channel_read(w->tls, buf, sizeof buf), -1); /* the server's part */
        ck_assert_int_eq(errno, EAGAIN);
        client_receive(w);
    }
    ck_assert_int_eq(done, 1);
}

static void wire_close(struct wire *w)
{
    channel_destroy(w->top);
    SSL_free(w->client);
    SSL_CTX_free(w->sctx);
    SSL_CTX_free(w->cctx);
    if (w->client_ctr) {
        ctr_stream_free(&w->c_enc);
        ctr_stream_free(&w->c_dec);
    }
    close(w->client_fd);
    free(w->s2c);
}

/* The handshake and the "auth" exchange in TLS; then the cipher is made and wrapped (not yet
 * used). The offset of the s2c capture where the server's auth reply record ends. */
static size_t authenticate(struct wire *w)
{
    static const char auth[] = "auth message", reply[] = "auth reply";
    ck_assert_int_eq(SSL_write(w->client, auth, sizeof auth), (int)sizeof auth);
    client_send(w);
    server_expect(w, auth, sizeof auth);
    struct iovec v = {(void *)reply, sizeof reply};
    ck_assert_int_eq(channel_writev(w->top, &v, 1, false), (ssize_t)sizeof reply);
    ck_assert_int_eq(channel_flush(w->top), 0);
    client_expect(w, (const uint8_t *)reply, sizeof reply);
    size_t boundary = w->s2c_len;
    struct channel *cipher = channel_aes_new(channel_under_tls_base(w->tls), &session);
    ck_assert_ptr_nonnull(cipher);
    w->top = channel_under_tls_stack(w->tls, cipher, channel_aes_abandon, "test");
    ck_assert_ptr_nonnull(w->top);
    return boundary;
}

static void client_cipher_on(struct wire *w)
{
    ck_assert_int_eq(ctr_stream_init(&w->c_enc, session.key, 16, session.read_iv), 0);
    ck_assert_int_eq(ctr_stream_init(&w->c_dec, session.key, 16, session.write_iv), 0);
    w->client_ctr = true;
}

/* p[0, len) is a whole number of TLS records (types 20-23, version 0x0303). */
static unsigned records_in(const uint8_t *p, size_t len)
{
    unsigned count = 0;
    for (size_t at = 0; at < len; count++) {
        ck_assert_uint_ge(len - at, 5);
        ck_assert_msg(p[at] >= 20 && p[at] <= 23 && p[at + 1] == 3 && p[at + 2] == 3,
                      "no TLS record header at %zu", at);
        size_t rec = 5 + ((size_t)p[at + 3] << 8 | p[at + 4]);
        ck_assert_uint_le(rec, len - at);
        at += rec;
    }
    return count;
}

START_TEST(cipher_under_tls_on_the_wire)
{
    struct wire w;
    wire_open(&w);
    size_t boundary = authenticate(&w);
    client_cipher_on(&w);

    static const char request[] = "a request after the switch";
    ck_assert_int_eq(SSL_write(w.client, request, sizeof request), (int)sizeof request);
    client_send(&w);
    server_expect(&w, request, sizeof request); /* the first use puts the cipher under TLS */
    uint8_t *big = malloc(BIG);
    for (size_t i = 0; i < BIG; i++)
        big[i] = (uint8_t)(i * 31 + i / 1000);
    size_t sent = 0;
    for (int round = 0; sent < BIG && round < 100000; round++) {
        /* the socket buffer is smaller than the answer: the client drains it meanwhile */
        struct iovec one = {big + sent, BIG - sent};
        ssize_t took = channel_writev(w.top, &one, 1, false);
        if (took < 0) {
            ck_assert_int_eq(errno, EAGAIN);
            client_receive(&w);
        } else {
            sent += (size_t)took;
        }
    }
    ck_assert_uint_eq(sent, BIG);
    client_expect(&w, big, BIG);

    /* the wire: TLS records up to the auth reply's end, then CTR(TLS records) to the end */
    ck_assert_uint_ge(records_in(w.s2c, boundary), 3);
    struct ctr_stream dec;
    ck_assert_int_eq(ctr_stream_init(&dec, session.key, 16, session.write_iv), 0);
    size_t after = w.s2c_len - boundary;
    uint8_t *plain = malloc(after);
    ck_assert_int_eq(ctr_stream_apply(&dec, w.s2c + boundary, plain, after), 0);
    ck_assert_uint_ge(records_in(plain, after), BIG / 16384);
    ctr_stream_free(&dec);
    free(plain);
    free(big);
    wire_close(&w);
}
END_TEST

START_TEST(bytes_after_the_auth_message_are_refused)
{
    struct wire w;
    wire_open(&w);
    (void)authenticate(&w);
    static const char early[] = "sent before the switch";
    ck_assert_int_eq(SSL_write(w.client, early, sizeof early), (int)sizeof early);
    client_send(&w);
    /* the server's TLS session takes the record in; the first use of the wrapped channel
     * then finds it and refuses to put the cipher under TLS */
    uint8_t buf[64];
    ssize_t n = -1;
    for (int tries = 0; n < 0 && tries < 100; tries++)
        n = channel_read(w.tls, buf, 1); /* one byte of it: OpenSSL holds the rest */
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(channel_read(w.top, buf, sizeof buf), -1);
    ck_assert_int_eq(errno, EPROTO);
    ck_assert_int_eq(channel_flush(w.top), -1); /* and stays refused */
    wire_close(&w);
}
END_TEST

CHECK_MAIN((.suite = "tls_under", .name = "tls_under", .timeout_s = 60),
           cipher_under_tls_on_the_wire, bytes_after_the_auth_message_are_refused)

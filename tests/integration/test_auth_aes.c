/* SPDX-License-Identifier: Apache-2.0 */
/* spark.network.crypto against the real daemon (crypto_enabled on the fixture's shared-secret
 * daemon): for each protocol (3.1's PBKDF2 v1; 3.2+'s X25519 with engine versions 1 and 2) a
 * client made of the same state machines a Spark client follows authenticates over raw
 * frames, then talks through an AES-CTR channel: a RegisterExecutor and a fetched block
 * (sent by the daemon's encrypting sendfile path) come back intact. A wrong secret is refused
 * with Spark's text and closed; SASL still works beside it (crypto_sasl_fallback). Spark 4.0's
 * AES-GCM channel works for both engine versions beside CTR (crypto_cipher auto). A replayed
 * auth message, truncated and oversized ones are refused without harm. */
#include <config.h>

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth_fixture.h"
#include "crypto/aes_auth.h"
#include "proto/codec.h"
#include "proto/frame.h"
#include "proto/message.h"
#include "server/net/channel.h"
#include "server/net/channel_aes.h"
#include "tclient.h"

/* The handshake over raw frames; returns the channel to talk through (NULL: refused, with the
 * failure's text in why). */
static struct channel *aes_connect_as(int fd, const char *app, enum aes_protocol protocol, bool gcm,
                                      const char *secret, char *why, size_t whylen)
{
    struct aes_client cl;
    ck_assert_int_eq(aes_client_init(&cl, protocol, app, secret), 0);
    uint8_t *body = NULL;
    size_t len = 0;
    ck_assert_int_eq(aes_client_start(&cl, NULL, &body, &len), 0);
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    int rc = tc_rpc(fd, body, len, &reply, &reply_len);
    free(body);
    struct channel *ch = NULL;
    if (rc == 0) {
        struct aes_session s;
        char err[256];
        ck_assert_msg(aes_client_finish(&cl, reply, reply_len, &s, err, sizeof err) == 0, "%s",
                      err);
        ch = gcm ? channel_aes_new_gcm(channel_plain_new(fd), &s)
                 : channel_aes_new(channel_plain_new(fd), &s);
        ck_assert_ptr_nonnull(ch);
    } else {
        ck_assert_int_eq(rc, 1);
        snprintf(why, whylen, "%.*s", (int)reply_len, (const char *)reply);
    }
    free(reply);
    aes_client_free(&cl);
    return ch;
}

static struct channel *aes_connect(int fd, enum aes_protocol protocol, const char *secret,
                                   char *why, size_t whylen)
{
    return aes_connect_as(fd, "app-1", protocol, false, secret, why, whylen);
}

static void send_all(struct channel *ch, const uint8_t *p, size_t n)
{
    while (n > 0) {
        struct iovec v = {(void *)p, n};
        ssize_t w = channel_writev(ch, &v, 1, false);
        ck_assert_int_gt(w, 0);
        p += w;
        n -= (size_t)w;
        ck_assert_int_eq(channel_flush(ch), 0);
    }
}

/* One frame through the channel: its type, its content after the type byte (malloc'd). */
static int recv_frame(struct channel *ch, uint8_t **content, size_t *len)
{
    struct frame_decoder dec;
    frame_decoder_init(&dec, 0);
    uint8_t buf[65536];
    for (;;) {
        ssize_t n = channel_read(ch, buf, sizeof buf);
        if (n <= 0) {
            frame_decoder_free(&dec);
            return -1;
        }
        const uint8_t *p = buf;
        size_t left = (size_t)n;
        struct frame_out out;
        enum frame_event ev = frame_decoder_next(&dec, &p, &left, &out);
        if (ev == FRAME_MESSAGE) {
            ck_assert_uint_eq(left, 0); /* one request, one answer */
            *content = malloc(out.content_len + 1);
            memcpy(*content, out.content, out.content_len);
            *len = out.content_len;
            frame_decoder_free(&dec);
            return out.type;
        }
        ck_assert_int_eq(ev, FRAME_NEED_MORE);
    }
}

static void send_rpc(struct channel *ch, int64_t id, const struct blockmsg *m)
{
    struct proto_writer body, w;
    proto_writer_init(&body);
    proto_writer_init(&w);
    blockmsg_encode(&body, m);
    struct proto_msg req = {.type = PROTO_RPC_REQUEST};
    req.u.rpc.request_id = id;
    req.u.rpc.body = (struct proto_view){body.buf, (uint32_t)body.len};
    proto_msg_encode(&w, &req);
    send_all(ch, w.buf, w.len);
    proto_writer_free(&body);
    proto_writer_free(&w);
}

static void register_and_fetch(struct channel *ch)
{
    struct blockmsg reg = register_msg("app-1");
    send_rpc(ch, 41, &reg);
    uint8_t *content = NULL;
    size_t len = 0;
    ck_assert_int_eq(recv_frame(ch, &content, &len), PROTO_RPC_RESPONSE);
    ck_assert_uint_eq(proto_load_u64(content), 41);
    free(content);

    struct proto_bytes id;
    struct blockmsg open = open_first_block_msg(&id);
    send_rpc(ch, 42, &open);
    ck_assert_int_eq(recv_frame(ch, &content, &len), PROTO_RPC_RESPONSE);
    int64_t stream = (int64_t)proto_load_u64(content + 8 + 4 + 1);
    free(content);

    struct proto_msg fetch = {.type = PROTO_CHUNK_FETCH_REQUEST};
    fetch.u.chunk_fetch_request.stream_id = stream;
    struct proto_writer w;
    proto_writer_init(&w);
    proto_msg_encode(&w, &fetch);
    send_all(ch, w.buf, w.len);
    proto_writer_free(&w);
    ck_assert_int_eq(recv_frame(ch, &content, &len), PROTO_CHUNK_FETCH_SUCCESS);
    assert_first_block(content, len);
    free(content);
}

/* Authenticates with protocol, then AES-GCM (gcm) or AES-CTR; registers and fetches a block. */
static void connect_register_fetch(enum aes_protocol protocol, bool gcm)
{
    int fd = tc_connect(authd.port);
    char why[512] = "";
    struct channel *ch = aes_connect_as(fd, "app-1", protocol, gcm, SECRET, why, sizeof why);
    ck_assert_msg(ch != NULL, "protocol %d refused: %s", (int)protocol, why);
    register_and_fetch(ch);
    channel_destroy(ch); /* closes fd */
}

START_TEST(each_protocol_authenticates_then_encrypts)
{
    static const enum aes_protocol protocols[] = {AES_PROTO_PBKDF2, AES_PROTO_X25519_V1,
                                                  AES_PROTO_X25519_V2};
    for (size_t i = 0; i < 3; i++)
        connect_register_fetch(protocols[i], false);
}
END_TEST

/* Spark 4.0's AES/GCM/NoPadding, engine versions 1 and 2: the daemon's default crypto_cipher
 * (auto) tells GCM from the first bytes; the block comes back through sealed messages. */
START_TEST(gcm_each_engine_version)
{
    static const enum aes_protocol protocols[] = {AES_PROTO_X25519_V1, AES_PROTO_X25519_V2};
    for (size_t i = 0; i < 2; i++)
        connect_register_fetch(protocols[i], true);
}
END_TEST

START_TEST(wrong_secret_refused_and_closed)
{
    int fd = tc_connect(authd.port);
    char why[512] = "";
    ck_assert_ptr_null(aes_connect(fd, AES_PROTO_X25519_V2, "not-the-secret", why, sizeof why));
    ck_assert_str_eq(why, "java.lang.IllegalArgumentException: Authentication failed.");
    ck_assert(tc_wait_closed(fd));
    close(fd);
}
END_TEST

/* A client of protocol (as app-1 with the fixture's secret) and its first auth message. */
static void client_first_message(struct aes_client *cl, enum aes_protocol protocol, uint8_t **body,
                                 size_t *len)
{
    ck_assert_int_eq(aes_client_init(cl, protocol, "app-1", SECRET), 0);
    ck_assert_int_eq(aes_client_start(cl, NULL, body, len), 0);
}

/* A recorded AuthMessage sent again on a new connection is answered (the server cannot tell),
 * but the replayer, without the secret, holds no session: its next bytes close the
 * connection, and nothing it sends is read as a request. */
START_TEST(replayed_auth_message_gets_nothing)
{
    struct aes_client cl;
    uint8_t *body = NULL, *reply = NULL;
    size_t len = 0, reply_len = 0;
    client_first_message(&cl, AES_PROTO_X25519_V2, &body, &len);
    for (int attempt = 0; attempt < 2; attempt++) { /* the original, then the replay */
        int fd = tc_connect(authd.port);
        ck_assert_int_eq(tc_rpc(fd, body, len, &reply, &reply_len), 0);
        free(reply);
        uint8_t garbage[64];
        for (size_t i = 0; i < sizeof garbage; i++)
            garbage[i] = (uint8_t)(i * 37 + 11);
        ck_assert_int_eq(tc_send_all(fd, garbage, sizeof garbage), 0);
        ck_assert(tc_wait_closed(fd));
        close(fd);
    }
    free(body);
    aes_client_free(&cl);
}
END_TEST

/* Truncated and oversized auth messages with an AES tag: refused with SASL's text (Spark's
 * server answers them so, and its client may then fall back), never a crash; the daemon serves
 * the next client. */
START_TEST(truncated_and_oversized_messages_refused)
{
    struct aes_client cl;
    uint8_t *body = NULL, *reply = NULL;
    size_t len = 0, reply_len = 0;
    client_first_message(&cl, AES_PROTO_X25519_V1, &body, &len);
    int fd = tc_connect(authd.port);
    for (size_t cut = 1; cut < len; cut += 13) {
        ck_assert_int_eq(tc_rpc(fd, body, cut, &reply, &reply_len), 1);
        ck_assert_ptr_nonnull(memmem(reply, reply_len, "Expected SaslMessage", 20));
        free(reply);
    }
    size_t big_len = 1u << 20;
    uint8_t *big = calloc(1, big_len);
    big[0] = 0xfb;
    big[1] = 0x00; /* appId length 0x000fffff: most of the megabyte */
    big[2] = 0x0f;
    big[3] = 0xff;
    big[4] = 0xff;
    ck_assert_int_eq(tc_rpc(fd, big, big_len, &reply, &reply_len), 1);
    free(reply);
    close(fd);
    free(big);
    free(body);
    aes_client_free(&cl);
    connect_register_fetch(AES_PROTO_X25519_V2, false); /* still serving */
}
END_TEST

/* Per-app secrets (appd: auth_app_secrets_dir, crypto_enabled by this test): the AES
 * handshake reads the app's own file; an app without one is refused with Spark's text and
 * closed, like a wrong secret, never a crash. */
START_TEST(per_app_secrets_and_unknown_app)
{
    int fd = tc_connect(appd.port);
    char why[512] = "";
    struct channel *ch =
        aes_connect_as(fd, "app-1", AES_PROTO_X25519_V2, false, "secret-one", why, sizeof why);
    ck_assert_msg(ch != NULL, "%s", why);
    channel_destroy(ch);
    fd = tc_connect(appd.port);
    ck_assert_ptr_null(aes_connect_as(fd, "app-unknown", AES_PROTO_X25519_V1, false, "secret-one",
                                      why, sizeof why));
    ck_assert_str_eq(why, "java.lang.IllegalArgumentException: Authentication failed.");
    ck_assert(tc_wait_closed(fd));
    close(fd);
}
END_TEST

START_TEST(sasl_still_accepted_beside_it)
{
    int fd = tc_connect(authd.port);
    char err[512];
    ck_assert_int_eq(java_auth(fd, "app-1", SECRET, err, sizeof err), 0);
    struct blockmsg reg = register_msg("app-1");
    char *out = NULL;
    ck_assert_int_eq(rpc_msg(fd, &reg, &out), 0);
    free(out);
    close(fd);
}
END_TEST

int main(void)
{
    setenv("SHUFFLED_TEST_AUTH_EXTRA", "\"crypto_enabled\": true", 1);
    setenv("SHUFFLED_TEST_APPS_EXTRA", "\"crypto_enabled\": true", 1);
    return auth_fixture_main(
        &(struct check_case){.suite = "auth_aes", .name = "auth_aes", .timeout_s = 60},
        CHECK_TESTS(each_protocol_authenticates_then_encrypts, gcm_each_engine_version,
                    wrong_secret_refused_and_closed, replayed_auth_message_gets_nothing,
                    truncated_and_oversized_messages_refused, per_app_secrets_and_unknown_app,
                    sasl_still_accepted_beside_it));
}

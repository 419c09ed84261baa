/* SPDX-License-Identifier: Apache-2.0 */
/* SASL encryption (QOP auth-conf, spark.authenticate.enableSaslEncryption) against the real
 * daemon: a Cyrus DIGEST-MD5 client asks for auth-conf over raw frames; after the handshake
 * every byte both ways is a `i64 len | wrapped` piece: a RegisterExecutor and a chunk fetch go
 * through wrapped (an unwrapped frame is refused by closing), and the block's bytes come back
 * intact. A client asking for plain auth still gets no security layer. The daemon of the auth
 * fixture has auth_sasl_encryption on; Cyrus's DIGEST-MD5 plugin leaks its OpenSSL cipher per
 * encrypted session (Debian 12), so that one leak is suppressed for this test's processes. */
#include <config.h>

#include <check.h>
#include <sasl/sasl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth_fixture.h"
#include "proto/codec.h"
#include "proto/frame.h"
#include "proto/message.h"
#include "proto/saslmsg.h"
#include "tclient.h"

#define CB(f) ((int (*)(void))(void (*)(void))(f))

struct creds {
    char user[64];
    sasl_secret_t *pass;
};

static int get_user(void *ctx, int id, const char **result, unsigned *len)
{
    struct creds *cr = ctx;
    (void)id;
    *result = cr->user;
    if (len)
        *len = (unsigned)strlen(cr->user);
    return SASL_OK;
}

static int get_pass(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **out)
{
    (void)conn;
    (void)id;
    *out = ((struct creds *)ctx)->pass;
    return SASL_OK;
}

/* Runs the SaslMessage exchange with a Cyrus client that wants min_ssf <= ssf <= max_ssf (0: plain
 * auth, as Spark's client without enableSaslEncryption); returns it. */
static char challenge[1024]; /* the server's first answer of the last handshake */

static sasl_conn_t *handshake(int fd, const char *secret, struct creds *cr, sasl_callback_t *cbs,
                              unsigned min_ssf, unsigned max_ssf)
{
    char *password = sasl_spark_password(secret);
    size_t plen = strlen(password);
    cr->pass = calloc(1, sizeof(sasl_secret_t) + plen);
    cr->pass->len = plen;
    memcpy(cr->pass->data, password, plen);
    free(password);
    snprintf(cr->user, sizeof cr->user, "%s", SASL_SPARK_USER);
    cbs[0] = (sasl_callback_t){SASL_CB_USER, CB(get_user), cr};
    cbs[1] = (sasl_callback_t){SASL_CB_AUTHNAME, CB(get_user), cr};
    cbs[2] = (sasl_callback_t){SASL_CB_PASS, CB(get_pass), cr};
    cbs[3] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
    sasl_conn_t *conn = NULL;
    ck_assert_int_eq(sasl_client_new("null", "default", NULL, NULL, cbs, 0, &conn), SASL_OK);
    sasl_security_properties_t sp = {.min_ssf = min_ssf, .max_ssf = max_ssf, .maxbufsize = 65536};
    ck_assert_int_eq(sasl_setprop(conn, SASL_SEC_PROPS, &sp), SASL_OK);
    const char *out = NULL, *mech = NULL;
    unsigned outlen = 0;
    int rc = sasl_client_start(conn, "DIGEST-MD5", NULL, &out, &outlen, &mech);
    ck_assert(rc == SASL_CONTINUE || rc == SASL_OK);
    char *token = strndup(out ? out : "", outlen);
    for (int round = 0; round < 3; round++) {
        char *answer = NULL;
        ck_assert_int_eq(sasl_rpc(fd, "app-1", token, &answer), 0);
        free(token);
        if (round == 0)
            snprintf(challenge, sizeof challenge, "%s", answer);
        rc = sasl_client_step(conn, answer, (unsigned)strlen(answer), NULL, &out, &outlen);
        free(answer);
        ck_assert_msg(rc == SASL_CONTINUE || rc == SASL_OK, "step: %s", sasl_errdetail(conn));
        if (rc == SASL_OK && outlen == 0)
            return conn;
        token = strndup(out ? out : "", outlen);
    }
    ck_abort_msg("the handshake did not end");
    return NULL;
}

/* Sends plaintext bytes as one wrapped piece. */
static void send_wrapped(int fd, sasl_conn_t *conn, const uint8_t *p, size_t n)
{
    const char *tok = NULL;
    unsigned toklen = 0;
    ck_assert_int_eq(sasl_encode(conn, (const char *)p, (unsigned)n, &tok, &toklen), SASL_OK);
    uint8_t len[8];
    proto_store_u64(len, 8 + (uint64_t)toklen - 4);
    ck_assert_int_eq(tc_send_all(fd, len, 8), 0);
    ck_assert_int_eq(tc_send_all(fd, tok + 4, toklen - 4), 0);
}

/* Reads wrapped pieces until one whole frame has arrived; returns its type, the frame's
 * content after the type byte in *content (malloc'd). -1 when the connection closed. */
static int recv_frame(int fd, sasl_conn_t *conn, uint8_t **content, size_t *len)
{
    struct frame_decoder dec;
    frame_decoder_init(&dec, 0);
    for (;;) {
        uint8_t hdr[8];
        if (tc_read_exact(fd, hdr, 8) != 0) {
            frame_decoder_free(&dec);
            return -1;
        }
        size_t piece = (size_t)proto_load_u64(hdr) - 8;
        uint8_t *wrapped = malloc(4 + piece);
        proto_store_u32(wrapped, (uint32_t)piece);
        ck_assert_int_eq(tc_read_exact(fd, wrapped + 4, piece), 0);
        const char *plain = NULL;
        unsigned plen = 0;
        ck_assert_int_eq(
            sasl_decode(conn, (const char *)wrapped, (unsigned)(4 + piece), &plain, &plen),
            SASL_OK);
        free(wrapped);
        const uint8_t *p = (const uint8_t *)plain;
        size_t left = plen;
        struct frame_out out;
        enum frame_event ev = frame_decoder_next(&dec, &p, &left, &out);
        if (ev == FRAME_MESSAGE) {
            *content = malloc(out.content_len + 1);
            memcpy(*content, out.content, out.content_len);
            *len = out.content_len;
            frame_decoder_free(&dec);
            return out.type;
        }
        ck_assert_int_eq(ev, FRAME_NEED_MORE);
    }
}

static void rpc_frame(struct proto_writer *w, int64_t id, const struct blockmsg *m)
{
    struct proto_writer body;
    proto_writer_init(&body);
    blockmsg_encode(&body, m);
    struct proto_msg req = {.type = PROTO_RPC_REQUEST};
    req.u.rpc.request_id = id;
    req.u.rpc.body = (struct proto_view){body.buf, (uint32_t)body.len};
    proto_msg_encode(w, &req);
    proto_writer_free(&body);
}

/* A connection to authd that ran the handshake, with what its SASL client refers to. */
struct session {
    int fd;
    struct creds cr;
    sasl_callback_t cbs[4];
    sasl_conn_t *conn;
};

static void session_open_at(struct session *ss, int port, const char *secret, unsigned min_ssf,
                            unsigned max_ssf)
{
    ck_assert_int_eq(sasl_client_init(NULL), SASL_OK);
    ss->fd = tc_connect(port);
    ss->conn = handshake(ss->fd, secret, &ss->cr, ss->cbs, min_ssf, max_ssf);
}

static void session_open(struct session *ss, unsigned min_ssf, unsigned max_ssf)
{
    session_open_at(ss, authd.port, SECRET, min_ssf, max_ssf);
}

static void session_close(struct session *ss)
{
    close(ss->fd);
    sasl_dispose(&ss->conn);
    free(ss->cr.pass);
    sasl_client_done();
}

START_TEST(auth_conf_wraps_everything_after_the_handshake)
{
    struct session ss;
    session_open(&ss, 56, 256);
    int fd = ss.fd;
    sasl_conn_t *conn = ss.conn;
    const void *ssf = NULL;
    ck_assert_int_eq(sasl_getprop(conn, SASL_SSF, &ssf), SASL_OK);
    ck_assert_uint_gt(*(const sasl_ssf_t *)ssf, 1); /* a cipher, not just integrity */

    struct proto_writer w;
    proto_writer_init(&w);
    struct blockmsg reg = register_msg("app-1");
    rpc_frame(&w, 41, &reg);
    send_wrapped(fd, conn, w.buf, w.len);
    uint8_t *content = NULL;
    size_t len = 0;
    ck_assert_int_eq(recv_frame(fd, conn, &content, &len), PROTO_RPC_RESPONSE);
    ck_assert_uint_eq(proto_load_u64(content), 41);
    free(content);

    /* a block, fetched wrapped: OpenBlocks then ChunkFetch of its only chunk */
    struct proto_bytes id;
    struct blockmsg open = open_first_block_msg(&id);
    proto_writer_reset(&w);
    rpc_frame(&w, 42, &open);
    send_wrapped(fd, conn, w.buf, w.len);
    ck_assert_int_eq(recv_frame(fd, conn, &content, &len), PROTO_RPC_RESPONSE);
    int64_t stream = (int64_t)proto_load_u64(content + 8 + 4 + 1);
    free(content);
    struct proto_msg fetch = {.type = PROTO_CHUNK_FETCH_REQUEST};
    fetch.u.chunk_fetch_request.stream_id = stream;
    fetch.u.chunk_fetch_request.chunk_index = 0;
    proto_writer_reset(&w);
    proto_msg_encode(&w, &fetch);
    send_wrapped(fd, conn, w.buf, w.len);
    ck_assert_int_eq(recv_frame(fd, conn, &content, &len), PROTO_CHUNK_FETCH_SUCCESS);
    assert_first_block(content, len);
    free(content);

    /* a frame sent in the clear now is not a SASL piece: the daemon closes */
    proto_writer_reset(&w);
    proto_msg_encode(&w, &fetch);
    ck_assert_int_eq(tc_send_all(fd, w.buf, w.len), 0);
    ck_assert_int_eq(recv_frame(fd, conn, &content, &len), -1);
    proto_writer_free(&w);
    session_close(&ss);
}
END_TEST

START_TEST(plain_auth_gets_no_security_layer)
{
    struct session ss;
    session_open(&ss, 0, 0);
    struct blockmsg reg = register_msg("app-1");
    char *out = NULL;
    ck_assert_int_eq(rpc_msg(ss.fd, &reg, &out), 0); /* in the clear, as before */
    free(out);
    session_close(&ss);
}
END_TEST

/* sasl_encryption "allowed" (authd): auth and auth-conf offered, and of the ciphers only rc4,
 * the one Debian 12's Cyrus can run (a Java client would pick the broken 3des first). */
START_TEST(allowed_offers_auth_and_rc4_only)
{
    struct session ss;
    session_open(&ss, 0, 0);
    ck_assert_ptr_nonnull(strstr(challenge, "qop=\"auth,auth-int,auth-conf\""));
    ck_assert_ptr_nonnull(strstr(challenge, "cipher=\"rc4\""));
    session_close(&ss);
}
END_TEST

/* sasl_encryption "required" (appd): only auth-conf (rc4) is offered, so a client that wants
 * plain auth cannot agree on a layer, and one asking for encryption is served wrapped. */
START_TEST(required_offers_auth_conf_only)
{
    struct session ss;
    session_open_at(&ss, appd.port, "secret-one", 56, 256);
    ck_assert_ptr_nonnull(strstr(challenge, "qop=\"auth-conf\""));
    ck_assert_ptr_nonnull(strstr(challenge, "cipher=\"rc4\""));
    struct proto_writer w;
    proto_writer_init(&w);
    struct blockmsg reg = register_msg("app-1");
    rpc_frame(&w, 7, &reg);
    send_wrapped(ss.fd, ss.conn, w.buf, w.len);
    uint8_t *content = NULL;
    size_t len = 0;
    ck_assert_int_eq(recv_frame(ss.fd, ss.conn, &content, &len), PROTO_RPC_RESPONSE);
    free(content);
    proto_writer_free(&w);
    session_close(&ss);

    /* a client without encryption: its first step already finds no common layer */
    ck_assert_int_eq(sasl_client_init(NULL), SASL_OK);
    int fd = tc_connect(appd.port);
    struct creds cr = {0};
    sasl_callback_t cbs[4];
    char *password = sasl_spark_password("secret-one");
    cr.pass = calloc(1, sizeof(sasl_secret_t) + strlen(password));
    cr.pass->len = strlen(password);
    memcpy(cr.pass->data, password, cr.pass->len);
    free(password);
    snprintf(cr.user, sizeof cr.user, "%s", SASL_SPARK_USER);
    cbs[0] = (sasl_callback_t){SASL_CB_USER, CB(get_user), &cr};
    cbs[1] = (sasl_callback_t){SASL_CB_AUTHNAME, CB(get_user), &cr};
    cbs[2] = (sasl_callback_t){SASL_CB_PASS, CB(get_pass), &cr};
    cbs[3] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
    sasl_conn_t *conn = NULL;
    ck_assert_int_eq(sasl_client_new("null", "default", NULL, NULL, cbs, 0, &conn), SASL_OK);
    sasl_security_properties_t sp = {.min_ssf = 0, .max_ssf = 0, .maxbufsize = 65536};
    ck_assert_int_eq(sasl_setprop(conn, SASL_SEC_PROPS, &sp), SASL_OK);
    const char *out = NULL, *mech = NULL;
    unsigned outlen = 0;
    int rc = sasl_client_start(conn, "DIGEST-MD5", NULL, &out, &outlen, &mech);
    ck_assert(rc == SASL_CONTINUE || rc == SASL_OK);
    char *answer = NULL;
    ck_assert_int_eq(sasl_rpc(fd, "app-1", "", &answer), 0);
    rc = sasl_client_step(conn, answer, (unsigned)strlen(answer), NULL, &out, &outlen);
    ck_assert_int_ne(rc, SASL_CONTINUE);
    ck_assert_int_ne(rc, SASL_OK);
    free(answer);
    sasl_dispose(&conn);
    free(cr.pass);
    sasl_client_done();
    close(fd);
}
END_TEST

int main(void)
{
    auth_fixture_suppress_cyrus_cipher_leak();
    setenv("SHUFFLED_TEST_AUTH_EXTRA", "\"auth_sasl_encryption\": true", 1);
    setenv("SHUFFLED_TEST_APPS_EXTRA", "\"sasl_encryption\": \"required\"", 1);
    return auth_fixture_main(
        &(struct check_case){.suite = "auth_conf", .name = "auth_conf", .timeout_s = 60},
        CHECK_TESTS(auth_conf_wraps_everything_after_the_handshake,
                    plain_auth_gets_no_security_layer, allowed_offers_auth_and_rc4_only,
                    required_offers_auth_conf_only));
}

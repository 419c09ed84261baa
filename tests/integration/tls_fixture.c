/* SPDX-License-Identifier: Apache-2.0 */
/* The TLS tests' certificates, daemon config and client; see tls_fixture.h. */
#include <config.h>

#include "tls_fixture.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness/fs.h"
#include "../harness/process.h"
#include "proto/codec.h"
#include "proto/message.h"
#include "tclient.h"

char tls_certs[512];

int tls_certs_make(void)
{
    char *dir = harness_temp_dir();
    if (!dir)
        return -1;
    snprintf(tls_certs, sizeof tls_certs, "%s/certs", dir);
    free(dir);
    char cmd[1200], out[256];
    const char *src = getenv("SHUFFLE_SRCDIR");
    snprintf(cmd, sizeof cmd, "sh %s/tests/integration/tls_certs.sh %s", src ? src : ".",
             tls_certs);
    return harness_run(cmd, out, sizeof out) == 0 ? 0 : -1;
}

const char *tls_cert_path(const char *name)
{
    static char bufs[8][600];
    static unsigned next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", tls_certs, name);
    return b;
}

char *tls_daemon_json(const char *name, const char *extra)
{
    size_t len = 4 * sizeof tls_certs + 256 + (extra ? strlen(extra) : 0);
    char *j = malloc(len);
    if (j && !name)
        snprintf(j, len, "\"tls_enabled\": true%s%s", extra ? ", " : "", extra ? extra : "");
    else if (j)
        snprintf(j, len,
                 "\"tls_enabled\": true, \"tls_cert_file\": \"%s/%s.pem\", "
                 "\"tls_key_file\": \"%s/%s.key\"%s%s",
                 tls_certs, name, tls_certs, name, extra ? ", " : "", extra ? extra : "");
    return j;
}

/* The harness keeps opts' strings for a restart: they live until exit. */
static char *kept_json[32];
static size_t nkept;

static void free_kept_json(void)
{
    while (nkept)
        free(kept_json[--nkept]);
}

int tls_daemon_start(struct harness_daemon *d, const char *cert_name, const char *extra)
{
    char *json = tls_daemon_json(cert_name, extra);
    if (!json || nkept == sizeof kept_json / sizeof *kept_json) {
        free(json);
        return -1;
    }
    if (nkept == 0)
        atexit(free_kept_json);
    kept_json[nkept++] = json;
    struct harness_daemon_opts o = {.extra_json = json};
    return harness_daemon_start(d, &o);
}

static void reason(char *why, size_t whylen, const char *what, SSL *ssl)
{
    unsigned long e = ERR_get_error();
    char err[256] = "";
    if (e)
        ERR_error_string_n(e, err, sizeof err);
    long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    snprintf(why, whylen, "%s: %s%s%s", what, err, v != X509_V_OK ? " / " : "",
             v != X509_V_OK ? X509_verify_cert_error_string(v) : "");
    ERR_clear_error();
}

SSL *tls_client_connect(int port, const char *ca, const char *client_cert, char *why, size_t whylen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = NULL;
    if (!ctx) {
        reason(why, whylen, "SSL_CTX_new", NULL);
        return NULL;
    }
    if (ca) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
            reason(why, whylen, "CA file", NULL);
            goto fail;
        }
    }
    if (client_cert) {
        char pem[600], key[600];
        snprintf(pem, sizeof pem, "%s/%s.pem", tls_certs, client_cert);
        snprintf(key, sizeof key, "%s/%s.key", tls_certs, client_cert);
        if (SSL_CTX_use_certificate_chain_file(ctx, pem) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
            reason(why, whylen, "client certificate", NULL);
            goto fail;
        }
    }
    int fd = tc_connect(port);
    if (fd < 0) {
        snprintf(why, whylen, "connect: %s", tc_last_error());
        goto fail;
    }
    ssl = SSL_new(ctx);
    if (!ssl || SSL_set_fd(ssl, fd) != 1) {
        close(fd);
        reason(why, whylen, "SSL_new", NULL);
        goto fail;
    }
    if (ca)
        SSL_set1_host(ssl, "localhost");
    if (SSL_connect(ssl) != 1) {
        reason(why, whylen, "handshake", ssl);
        tls_client_close(ssl);
        ssl = NULL;
    }
fail:
    SSL_CTX_free(ctx); /* ssl keeps its own reference */
    return ssl;
}

void tls_client_close(SSL *ssl)
{
    if (!ssl)
        return;
    int fd = SSL_get_fd(ssl);
    SSL_free(ssl);
    if (fd >= 0)
        close(fd);
}

static int read_exact(SSL *ssl, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        int r = SSL_read(ssl, buf + got, (int)(n - got));
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

int tls_client_probe(SSL *ssl)
{
    static const uint8_t unknown_message[] = {99};
    struct proto_msg m = {.type = PROTO_RPC_REQUEST};
    m.u.rpc.request_id = 7;
    m.u.rpc.body.data = unknown_message;
    m.u.rpc.body.len = sizeof unknown_message;
    struct proto_writer w;
    proto_writer_init(&w);
    proto_msg_encode(&w, &m);
    int rc = w.failed || SSL_write(ssl, w.buf, (int)w.len) != (int)w.len ? -1 : 0;
    proto_writer_free(&w);
    uint8_t head[9];
    if (rc != 0 || read_exact(ssl, head, sizeof head) != 0)
        return -1;
    uint64_t len = 0;
    for (int i = 0; i < 8; i++)
        len = len << 8 | head[i];
    if (len < 9 || len > 1 << 20)
        return -1;
    uint8_t *rest = malloc(len - 9 + 1);
    rc = rest && read_exact(ssl, rest, len - 9) == 0 ? head[8] : -1;
    free(rest);
    ERR_clear_error();
    return rc;
}

const char *tls_client_peer_cn(SSL *ssl, char *buf, size_t len)
{
    X509 *cert = SSL_get1_peer_certificate(ssl);
    buf[0] = '\0';
    if (cert) {
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, (int)len);
        X509_free(cert);
    }
    return buf;
}

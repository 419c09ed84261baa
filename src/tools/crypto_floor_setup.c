/* SPDX-License-Identifier: Apache-2.0 */
/* crypto-floor's fixtures: the page-cached test file, the AES keys, the buffers, TLS contexts
 * with a certificate made in-process, and the in-memory cipher figures. */
#include <config.h>

#include "tools/crypto_floor.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FLOOR_FILE_BYTES (64u << 20)
#define FLOOR_BUF_SLACK 64 /* header and tag room around a block */
#define FLOOR_COPY_PIECE (64u << 10)

static int make_file(struct floor_setup *setup, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/crypto-floor-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("crypto-floor: the test file");
        return -1;
    }
    unlink(path); /* gone when the tool exits */
    setup->file_fd = fd;
    setup->file_bytes = FLOOR_FILE_BYTES - FLOOR_FILE_BYTES % setup->block_bytes;
    if (setup->file_bytes == 0)
        setup->file_bytes = setup->block_bytes;
    size_t piece = 1u << 20;
    unsigned char *buf = malloc(piece);
    if (!buf)
        return -1;
    for (size_t off = 0; off < setup->file_bytes; off += piece) {
        size_t len = setup->file_bytes - off < piece ? setup->file_bytes - off : piece;
        for (size_t k = 0; k < len; k++)
            buf[k] = floor_file_byte(off + k);
        if (pwrite(fd, buf, len, (off_t)off) != (ssize_t)len) {
            perror("crypto-floor: writing the test file");
            free(buf);
            return -1;
        }
    }
    free(buf);
    return 0; /* just written: in the page cache */
}

/* a self-signed P-256 certificate for the sender, trusted by the receiver's context alone */
static int make_tls_contexts(struct floor_setup *setup)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *cert = X509_new();
    X509_NAME *name = X509_NAME_new();
    int ok = key && cert && name;
    ok = ok && X509_set_version(cert, 2) == 1 &&
         ASN1_INTEGER_set(X509_get_serialNumber(cert), 1) == 1 &&
         X509_gmtime_adj(X509_getm_notBefore(cert), -60) &&
         X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600) &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"crypto-floor",
                                    -1, -1, 0) == 1 &&
         X509_set_subject_name(cert, name) == 1 && X509_set_issuer_name(cert, name) == 1 &&
         X509_set_pubkey(cert, key) == 1 && X509_sign(cert, key, EVP_sha256()) > 0;
    setup->tls_server = ok ? SSL_CTX_new(TLS_server_method()) : NULL;
    setup->tls_client = ok ? SSL_CTX_new(TLS_client_method()) : NULL;
    ok = ok && setup->tls_server && setup->tls_client;
    for (int side = 0; ok && side < 2; side++) {
        SSL_CTX *ctx = side ? setup->tls_client : setup->tls_server;
        ok = SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) == 1 &&
             SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256") == 1;
    }
    ok = ok && SSL_CTX_use_certificate(setup->tls_server, cert) == 1 &&
         SSL_CTX_use_PrivateKey(setup->tls_server, key) == 1 &&
         X509_STORE_add_cert(SSL_CTX_get_cert_store(setup->tls_client), cert) == 1;
    if (ok)
        SSL_CTX_set_verify(setup->tls_client, SSL_VERIFY_PEER, NULL);
    X509_NAME_free(name);
    X509_free(cert);
    EVP_PKEY_free(key);
    if (!ok) {
        fprintf(stderr, "crypto-floor: cannot make the TLS contexts\n");
        ERR_print_errors_fp(stderr);
    }
    return ok ? 0 : -1;
}

int floor_setup_init(struct floor_setup *setup, const char *dir, size_t block_bytes,
                     long block_count)
{
    memset(setup, 0, sizeof *setup);
    setup->file_fd = -1;
    setup->block_bytes = block_bytes;
    setup->block_count = block_count;
    setup->send_buf = malloc(block_bytes + FLOOR_BUF_SLACK);
    setup->recv_buf = malloc(block_bytes + FLOOR_BUF_SLACK);
    if (!setup->send_buf || !setup->recv_buf) {
        fprintf(stderr, "crypto-floor: out of memory for %zu-byte buffers\n", block_bytes);
        return -1;
    }
    /* touched once, so no run pays their first page faults */
    memset(setup->send_buf, 0, block_bytes + FLOOR_BUF_SLACK);
    memset(setup->recv_buf, 0, block_bytes + FLOOR_BUF_SLACK);
    if (RAND_bytes(setup->key, sizeof setup->key) != 1 ||
        RAND_bytes(setup->iv, sizeof setup->iv) != 1)
        return -1;
    if (make_file(setup, dir) != 0)
        return -1;
    return make_tls_contexts(setup);
}

void floor_setup_free(struct floor_setup *setup)
{
    if (setup->file_fd >= 0)
        close(setup->file_fd);
    free(setup->send_buf);
    free(setup->recv_buf);
    SSL_CTX_free(setup->tls_server);
    SSL_CTX_free(setup->tls_client);
    memset(setup, 0, sizeof *setup);
}

static double thread_cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* pread into a reused buffer that stays in the cache (64 KiB calls, the daemon's cipher window;
 * 256 KiB and more cost about twice as much per byte here): one copy out of the page cache */
static double pread_seconds_per_gb(const struct floor_setup *setup, unsigned long long bytes)
{
    size_t piece = setup->block_bytes < FLOOR_COPY_PIECE ? setup->block_bytes : FLOOR_COPY_PIECE;
    unsigned long long done = 0;
    double start = thread_cpu_seconds();
    for (off_t at = 0; done < bytes; done += piece) {
        if (at + (off_t)piece > (off_t)setup->file_bytes)
            at = 0;
        if (pread(setup->file_fd, setup->recv_buf, piece, at) != (ssize_t)piece)
            return -1.0;
        at += (off_t)piece;
    }
    return (thread_cpu_seconds() - start) / ((double)done / 1e9);
}

double floor_alone_seconds_per_gb(const struct floor_setup *setup, const char *what,
                                  unsigned long long bytes)
{
    if (strcmp(what, "pread") == 0)
        return pread_seconds_per_gb(setup, bytes);
    int is_ctr = strcmp(what, "ctr") == 0, is_open = strcmp(what, "gcm-open") == 0;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    const EVP_CIPHER *cipher = is_ctr ? EVP_aes_128_ctr() : EVP_aes_128_gcm();
    unsigned char *buf = setup->send_buf, tag[16] = {0};
    int len = (int)setup->block_bytes, outl = 0, ok = ctx != NULL;
    ok = ok && EVP_CipherInit_ex(ctx, cipher, NULL, setup->key, setup->iv, !is_open) == 1;
    /* gcm-open: a real tag for the buffer as it is, so every open succeeds and is timed */
    if (ok && is_open) {
        EVP_CIPHER_CTX *seal = EVP_CIPHER_CTX_new();
        unsigned char *copy = malloc((size_t)len);
        ok = seal && copy && EVP_EncryptInit_ex(seal, cipher, NULL, setup->key, setup->iv) == 1 &&
             EVP_EncryptUpdate(seal, copy, &outl, buf, len) == 1 &&
             EVP_EncryptFinal_ex(seal, copy, &outl) == 1 &&
             EVP_CIPHER_CTX_ctrl(seal, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
        if (ok)
            memcpy(buf, copy, (size_t)len);
        free(copy);
        EVP_CIPHER_CTX_free(seal);
    }
    unsigned long long done = 0;
    double start = thread_cpu_seconds();
    while (ok && done < bytes) {
        if (is_ctr) {
            ok = EVP_EncryptUpdate(ctx, buf, &outl, buf, len) == 1;
        } else if (!is_open) {
            ok = EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, setup->iv) == 1 &&
                 EVP_EncryptUpdate(ctx, buf, &outl, buf, len) == 1 &&
                 EVP_EncryptFinal_ex(ctx, buf + outl, &outl) == 1 &&
                 EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
        } else {
            /* open into a second buffer so the ciphertext (and its tag) stays valid */
            ok = EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, setup->iv) == 1 &&
                 EVP_DecryptUpdate(ctx, setup->recv_buf, &outl, buf, len) == 1 &&
                 EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1 &&
                 EVP_DecryptFinal_ex(ctx, setup->recv_buf + outl, &outl) == 1;
        }
        done += (unsigned long long)len;
    }
    double seconds = thread_cpu_seconds() - start;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? seconds / ((double)done / 1e9) : -1.0;
}

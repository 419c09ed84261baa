/* SPDX-License-Identifier: Apache-2.0 */
/* crypto-floor: the least CPU per GB that serving large blocks can cost on this machine for
 * plain, AES-CTR, AES-GCM and TLS, without any protocol around it. A sender serves blocks of a
 * page-cached file over loopback TCP to a forked receiver, one way per mode:
 *   sendfile  21-byte header (MSG_MORE) + sendfile: plain's floor
 *   copy      pread into a reused buffer + write: the copies alone
 *   ctr       pread + AES-128-CTR in place + write; the receiver decrypts in place
 *   gcm       pread + AES-128-GCM seal (one message per block) + write; the receiver opens it
 *   gcm-mmap  as gcm, sealed from the block mapped (mmap per block, munmap after): no pread copy
 *   tls       TLS 1.3 TLS_AES_128_GCM_SHA256, SSL_write over a socket BIO; receiver SSL_read
 *   tls-mmap  as tls, the header its own SSL_write and the block SSL_written from its mapping
 *   ktls      as tls with SSL_OP_ENABLE_KTLS and SSL_sendfile (only where the kernel has it)
 * Each side's user+sys CPU is taken with getrusage over its data loop only (both are single
 * threaded processes). All crypto is OpenSSL's EVP / libssl. Figures only: it asserts nothing
 * about speed; --verify makes the receiver check every byte (for tests, not for figures). */
#include <config.h>

#include "tools/crypto_floor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FLOOR_HEADER_BYTES 21 /* a ChunkFetchSuccess frame header */
#define GCM_HEADER_BYTES 16   /* length + nonce: what a sealed message carries besides the tag */
#define GCM_TAG_BYTES 16

const char *const floor_mode_names[FLOOR_MODES] = {"sendfile", "copy", "ctr",      "gcm",
                                                   "gcm-mmap", "tls",  "tls-mmap", "ktls"};

static int is_gcm(enum floor_mode mode)
{
    return mode == FLOOR_GCM || mode == FLOOR_GCM_MMAP;
}

static int is_tls(enum floor_mode mode)
{
    return mode == FLOOR_TLS || mode == FLOOR_TLS_MMAP || mode == FLOOR_KTLS;
}

static double rusage_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           1e-6 * (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* the file offset of block INDEX: blocks follow each other and wrap at the file's end */
static off_t block_offset(const struct floor_setup *setup, long index)
{
    long per_file = (long)(setup->file_bytes / setup->block_bytes);
    return (off_t)((index % per_file) * (long)setup->block_bytes);
}

static int write_all(int fd, const unsigned char *data, size_t len)
{
    while (len > 0) {
        ssize_t sent = write(fd, data, len);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent <= 0)
            return -1;
        data += sent;
        len -= (size_t)sent;
    }
    return 0;
}

static int read_exact(int fd, unsigned char *data, size_t len)
{
    while (len > 0) {
        ssize_t got = read(fd, data, len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        data += got;
        len -= (size_t)got;
    }
    return 0;
}

static int pread_block(const struct floor_setup *setup, long index, unsigned char *into)
{
    size_t done = 0;
    off_t offset = block_offset(setup, index);
    while (done < setup->block_bytes) {
        ssize_t got =
            pread(setup->file_fd, into + done, setup->block_bytes - done, offset + (off_t)done);
        if (got <= 0)
            return -1;
        done += (size_t)got;
    }
    return 0;
}

/* the block INDEX mapped (the page holding its start onwards): its first byte, and in
 * *mapping / *mapped_len what to munmap; NULL on failure */
static const unsigned char *map_block(const struct floor_setup *setup, long index, void **mapping,
                                      size_t *mapped_len)
{
    off_t offset = block_offset(setup, index), page = (off_t)sysconf(_SC_PAGESIZE);
    off_t start = offset - offset % page;
    *mapped_len = setup->block_bytes + (size_t)(offset - start);
    *mapping = mmap(NULL, *mapped_len, PROT_READ, MAP_SHARED, setup->file_fd, start);
    return *mapping == MAP_FAILED ? NULL : (const unsigned char *)*mapping + (offset - start);
}

static void gcm_nonce(long index, unsigned char nonce[12])
{
    memset(nonce, 0, 12);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] = (unsigned char)((unsigned long)index >> (8 * i));
}

/* ---- senders: serve setup->block_count blocks on SOCK; 0 or -1 ---- */

static int send_sendfile(const struct floor_setup *setup, int sock)
{
    unsigned char header[FLOOR_HEADER_BYTES] = {0};
    for (long i = 0; i < setup->block_count; i++) {
        if (send(sock, header, sizeof header, MSG_MORE) != (ssize_t)sizeof header)
            return -1;
        off_t offset = block_offset(setup, i);
        size_t left = setup->block_bytes;
        while (left > 0) {
            ssize_t sent = sendfile(sock, setup->file_fd, &offset, left);
            if (sent <= 0)
                return -1;
            left -= (size_t)sent;
        }
    }
    return 0;
}

/* copy and ctr: header and block in one buffer, one write per block */
static int send_copied(const struct floor_setup *setup, int sock, EVP_CIPHER_CTX *ctr)
{
    size_t frame = FLOOR_HEADER_BYTES + setup->block_bytes;
    unsigned char *buf = setup->send_buf;
    memset(buf, 0, FLOOR_HEADER_BYTES);
    for (long i = 0; i < setup->block_count; i++) {
        memset(buf, 0, FLOOR_HEADER_BYTES);
        if (pread_block(setup, i, buf + FLOOR_HEADER_BYTES) != 0)
            return -1;
        int outl = 0;
        if (ctr && EVP_EncryptUpdate(ctr, buf, &outl, buf, (int)frame) != 1)
            return -1;
        if (write_all(sock, buf, frame) != 0)
            return -1;
    }
    return 0;
}

/* mapped: sealed from the block's mapping into the buffer, instead of pread there first */
static int send_gcm(const struct floor_setup *setup, int sock, EVP_CIPHER_CTX *gcm, int mapped)
{
    unsigned char *buf = setup->send_buf;
    size_t body = setup->block_bytes;
    for (long i = 0; i < setup->block_count; i++) {
        unsigned char *header = buf, *payload = buf + GCM_HEADER_BYTES;
        const unsigned char *plain = payload;
        void *mapping = NULL;
        size_t mapped_len = 0;
        uint32_t len = htonl((uint32_t)(body + GCM_TAG_BYTES));
        memcpy(header, &len, 4);
        gcm_nonce(i, header + 4);
        if (mapped)
            plain = map_block(setup, i, &mapping, &mapped_len);
        else if (pread_block(setup, i, payload) != 0)
            plain = NULL;
        int outl = 0, finl = 0;
        int ok = plain && EVP_EncryptInit_ex(gcm, NULL, NULL, NULL, header + 4) == 1 &&
                 EVP_EncryptUpdate(gcm, payload, &outl, plain, (int)body) == 1 &&
                 EVP_EncryptFinal_ex(gcm, payload + outl, &finl) == 1 &&
                 EVP_CIPHER_CTX_ctrl(gcm, EVP_CTRL_GCM_GET_TAG, GCM_TAG_BYTES, payload + body) == 1;
        if (mapping && mapping != MAP_FAILED)
            munmap(mapping, mapped_len);
        if (!ok || write_all(sock, buf, GCM_HEADER_BYTES + body + GCM_TAG_BYTES) != 0)
            return -1;
    }
    return 0;
}

static int ssl_write_all(SSL *ssl, const unsigned char *data, size_t len)
{
    size_t written = 0;
    return SSL_write_ex(ssl, data, len, &written) == 1 && written == len ? 0 : -1;
}

/* tls: header and block in one SSL_write (OpenSSL cuts 16 KiB records); ktls: the header
 * with SSL_write, the block with SSL_sendfile (the kernel seals page-cache pages) */
static int send_tls(const struct floor_setup *setup, SSL *ssl, enum floor_mode mode)
{
    unsigned char *buf = setup->send_buf;
    for (long i = 0; i < setup->block_count; i++) {
        memset(buf, 0, FLOOR_HEADER_BYTES);
        if (mode == FLOOR_TLS) {
            if (pread_block(setup, i, buf + FLOOR_HEADER_BYTES) != 0 ||
                ssl_write_all(ssl, buf, FLOOR_HEADER_BYTES + setup->block_bytes) != 0)
                return -1;
            continue;
        }
        if (ssl_write_all(ssl, buf, FLOOR_HEADER_BYTES) != 0)
            return -1;
        if (mode == FLOOR_TLS_MMAP) {
            void *mapping = NULL;
            size_t mapped_len = 0;
            const unsigned char *plain = map_block(setup, i, &mapping, &mapped_len);
            int rc = plain ? ssl_write_all(ssl, plain, setup->block_bytes) : -1;
            if (plain)
                munmap(mapping, mapped_len);
            if (rc != 0)
                return -1;
            continue;
        }
        size_t left = setup->block_bytes;
        off_t offset = block_offset(setup, i);
        while (left > 0) {
            ossl_ssize_t sent = SSL_sendfile(ssl, setup->file_fd, offset, left, 0);
            if (sent <= 0)
                return -1;
            offset += sent;
            left -= (size_t)sent;
        }
    }
    return 0;
}

/* ---- receivers: read to the end; checks bytes when verify; 0 or -1 ---- */

/* the stream position POS of the frames [header][block]...: checks CHUNK of LEN bytes */
static int verify_stream(const struct floor_setup *setup, unsigned long long pos,
                         const unsigned char *chunk, size_t len)
{
    size_t frame = FLOOR_HEADER_BYTES + setup->block_bytes;
    for (size_t k = 0; k < len; k++) {
        unsigned long long p = pos + k;
        long index = (long)(p / frame);
        size_t within = (size_t)(p % frame);
        unsigned char want = 0;
        if (within >= FLOOR_HEADER_BYTES)
            want = floor_file_byte((unsigned long long)block_offset(setup, index) + within -
                                   FLOOR_HEADER_BYTES);
        if (chunk[k] != want)
            return -1;
    }
    return 0;
}

static int recv_stream(const struct floor_setup *setup, int sock, SSL *ssl, EVP_CIPHER_CTX *ctr,
                       unsigned long long *received)
{
    unsigned char *buf = setup->recv_buf;
    size_t cap = setup->block_bytes;
    for (;;) {
        size_t got = 0;
        if (ssl) {
            if (SSL_read_ex(ssl, buf, cap, &got) != 1) {
                int why = SSL_get_error(ssl, 0);
                return why == SSL_ERROR_ZERO_RETURN ? 0 : -1;
            }
        } else {
            ssize_t n = read(sock, buf, cap);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return -1;
            if (n == 0)
                return 0;
            got = (size_t)n;
        }
        int outl = 0;
        if (ctr && EVP_DecryptUpdate(ctr, buf, &outl, buf, (int)got) != 1)
            return -1;
        if (setup->verify && verify_stream(setup, *received, buf, got) != 0)
            return -1;
        *received += got;
    }
}

static int recv_gcm(const struct floor_setup *setup, int sock, EVP_CIPHER_CTX *gcm,
                    unsigned long long *received)
{
    unsigned char header[GCM_HEADER_BYTES];
    unsigned char *payload = setup->recv_buf;
    for (long i = 0;; i++) {
        ssize_t first = read(sock, header, 1);
        if (first == 0)
            return 0;
        if (first != 1 || read_exact(sock, header + 1, sizeof header - 1) != 0)
            return -1;
        uint32_t len;
        memcpy(&len, header, 4);
        len = ntohl(len);
        if (len != setup->block_bytes + GCM_TAG_BYTES || read_exact(sock, payload, len) != 0)
            return -1;
        size_t body = len - GCM_TAG_BYTES;
        int outl = 0, finl = 0;
        if (EVP_DecryptInit_ex(gcm, NULL, NULL, NULL, header + 4) != 1 ||
            EVP_DecryptUpdate(gcm, payload, &outl, payload, (int)body) != 1 ||
            EVP_CIPHER_CTX_ctrl(gcm, EVP_CTRL_GCM_SET_TAG, GCM_TAG_BYTES, payload + body) != 1 ||
            EVP_DecryptFinal_ex(gcm, payload + outl, &finl) != 1)
            return -1; /* a tag that does not match */
        if (setup->verify) {
            for (size_t k = 0; k < body; k++)
                if (payload[k] != floor_file_byte((unsigned long long)block_offset(setup, i) + k))
                    return -1;
        }
        *received += sizeof header + len;
    }
}

/* ---- one run of one mode ---- */

static EVP_CIPHER_CTX *cipher_for(const struct floor_setup *setup, enum floor_mode mode,
                                  int encrypt)
{
    if (mode != FLOOR_CTR && !is_gcm(mode))
        return NULL;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    const EVP_CIPHER *cipher = mode == FLOOR_CTR ? EVP_aes_128_ctr() : EVP_aes_128_gcm();
    if (!ctx || EVP_CipherInit_ex(ctx, cipher, NULL, setup->key, setup->iv, encrypt) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

struct receiver_report {
    double cpu_seconds;
    unsigned long long bytes;
    int ok;
};

static void receiver_main(const struct floor_setup *setup, enum floor_mode mode,
                          const struct sockaddr_in *addr, int report_fd)
{
    struct receiver_report report = {0};
    int sock = socket(AF_INET, SOCK_STREAM, 0);
    SSL *ssl = NULL;
    EVP_CIPHER_CTX *cipher = cipher_for(setup, mode, 0);
    if (sock < 0 || connect(sock, (const struct sockaddr *)addr, sizeof *addr) != 0)
        goto out;
    if (is_tls(mode)) {
        ssl = SSL_new(setup->tls_client);
        if (!ssl || SSL_set_fd(ssl, sock) != 1 || SSL_connect(ssl) != 1)
            goto out;
    }
    double start = rusage_seconds();
    int rc = is_gcm(mode)
                 ? recv_gcm(setup, sock, cipher, &report.bytes)
                 : recv_stream(setup, sock, ssl, mode == FLOOR_CTR ? cipher : NULL, &report.bytes);
    report.cpu_seconds = rusage_seconds() - start;
    report.ok = rc == 0;
out:
    if (write(report_fd, &report, sizeof report) != (ssize_t)sizeof report)
        _exit(2);
    _exit(report.ok ? 0 : 1);
}

static int sender_serve(const struct floor_setup *setup, enum floor_mode mode, int sock,
                        struct floor_result *result)
{
    SSL *ssl = NULL;
    EVP_CIPHER_CTX *cipher = cipher_for(setup, mode, 1);
    int rc = -1;
    if (is_tls(mode)) {
        ssl = SSL_new(setup->tls_server);
        if (!ssl)
            goto out;
        if (mode == FLOOR_KTLS)
            SSL_set_options(ssl, SSL_OP_ENABLE_KTLS);
        if (SSL_set_fd(ssl, sock) != 1 || SSL_accept(ssl) != 1)
            goto out;
        if (mode == FLOOR_KTLS && !BIO_get_ktls_send(SSL_get_wbio(ssl))) {
            result->unavailable = 1; /* no kernel TLS here: not measured */
            rc = 0;
            goto out;
        }
    }
    double cpu0 = rusage_seconds();
    switch (mode) {
    case FLOOR_SENDFILE:
        rc = send_sendfile(setup, sock);
        break;
    case FLOOR_COPY:
    case FLOOR_CTR:
        rc = send_copied(setup, sock, cipher);
        break;
    case FLOOR_GCM:
    case FLOOR_GCM_MMAP:
        rc = send_gcm(setup, sock, cipher, mode == FLOOR_GCM_MMAP);
        break;
    case FLOOR_TLS:
    case FLOOR_TLS_MMAP:
    case FLOOR_KTLS:
        rc = send_tls(setup, ssl, mode);
        break;
    default:
        break;
    }
    result->sender_cpu = rusage_seconds() - cpu0;
    if (ssl && rc == 0)
        SSL_shutdown(ssl);
out:
    SSL_free(ssl);
    EVP_CIPHER_CTX_free(cipher);
    return rc;
}

int floor_run(const struct floor_setup *setup, enum floor_mode mode, struct floor_result *result)
{
    memset(result, 0, sizeof *result);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t addr_len = sizeof addr;
    int listener = socket(AF_INET, SOCK_STREAM, 0), report[2] = {-1, -1};
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(listener, 1) != 0 || getsockname(listener, (struct sockaddr *)&addr, &addr_len) ||
        pipe(report) != 0) {
        perror("crypto-floor: loopback listener");
        return -1;
    }
    pid_t child = fork();
    if (child == 0) {
        close(listener);
        close(report[0]);
        receiver_main(setup, mode, &addr, report[1]);
    }
    close(report[1]);
    /* a receiver that failed before connecting must not leave the sender waiting */
    struct pollfd ready = {.fd = listener, .events = POLLIN};
    int sock = child > 0 && poll(&ready, 1, 10000) == 1 ? accept(listener, NULL, NULL) : -1;
    close(listener);
    double wall0 = monotonic_seconds();
    int rc = sock >= 0 ? sender_serve(setup, mode, sock, result) : -1;
    if (sock >= 0)
        close(sock);
    struct receiver_report got = {0};
    int status = 0;
    ssize_t n = read(report[0], &got, sizeof got);
    close(report[0]);
    if (child > 0)
        waitpid(child, &status, 0);
    result->wall = monotonic_seconds() - wall0;
    result->receiver_cpu = got.cpu_seconds;
    result->bytes = got.bytes;
    if (result->unavailable)
        return 0;
    if (rc != 0 || n != (ssize_t)sizeof got || !got.ok ||
        got.bytes != floor_stream_bytes(setup, mode)) {
        fprintf(stderr,
                "crypto-floor: %s: the run failed (sender %s, receiver %s, %llu of %llu bytes)\n",
                floor_mode_names[mode], rc == 0 ? "ok" : "failed", got.ok ? "ok" : "failed",
                got.bytes, floor_stream_bytes(setup, mode));
        ERR_print_errors_fp(stderr);
        return -1;
    }
    return 0;
}

unsigned long long floor_stream_bytes(const struct floor_setup *setup, enum floor_mode mode)
{
    size_t overhead = is_gcm(mode) ? GCM_HEADER_BYTES + GCM_TAG_BYTES : FLOOR_HEADER_BYTES;
    return (unsigned long long)setup->block_count * (setup->block_bytes + overhead);
}

unsigned char floor_file_byte(unsigned long long offset)
{
    unsigned long long x = offset * 0x9E3779B97F4A7C15ull;
    return (unsigned char)(x >> 56);
}

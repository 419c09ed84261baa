/* SPDX-License-Identifier: Apache-2.0 */
/* crypto-floor: what serving large blocks costs at least, per way of sending them (see
 * crypto_floor.c for the modes, crypto_floor_main.c for the report). */
#ifndef SHUFFLE_TOOLS_CRYPTO_FLOOR_H
#define SHUFFLE_TOOLS_CRYPTO_FLOOR_H

#include <openssl/ssl.h>
#include <stddef.h>

enum floor_mode {
    FLOOR_SENDFILE,
    FLOOR_COPY,
    FLOOR_CTR,
    FLOOR_GCM,
    FLOOR_GCM_MMAP,
    FLOOR_TLS,
    FLOOR_TLS_MMAP,
    FLOOR_KTLS,
    FLOOR_MODES
};
extern const char *const floor_mode_names[FLOOR_MODES];

struct floor_setup {
    size_t block_bytes; /* one block, and the receiver's read size */
    long block_count;   /* blocks per run */
    size_t file_bytes;  /* the page-cached file the blocks come from (blocks wrap) */
    int file_fd;
    int verify;              /* receivers check every byte (tests) */
    unsigned char key[16];   /* AES-128 for ctr and gcm */
    unsigned char iv[16];    /* ctr's counter block; gcm uses 12 bytes of it, nonces per block */
    unsigned char *send_buf; /* block + room for a header and a tag */
    unsigned char *recv_buf;
    SSL_CTX *tls_server; /* TLS 1.3 only, TLS_AES_128_GCM_SHA256, a self-signed P-256 cert */
    SSL_CTX *tls_client; /* trusts exactly that certificate */
};

struct floor_result {
    double sender_cpu;   /* user+sys seconds of the sender's data loop */
    double receiver_cpu; /* the same for the receiver */
    double wall;         /* from the sender's first block to the receiver's end */
    unsigned long long bytes;
    int unavailable; /* the mode cannot run here (ktls without the kernel's tls module) */
};

/* crypto_floor_setup.c: the file, keys, buffers and TLS contexts; 0 or -1 with a message */
int floor_setup_init(struct floor_setup *setup, const char *dir, size_t block_bytes,
                     long block_count);
void floor_setup_free(struct floor_setup *setup);

/* crypto_floor.c: one run of MODE; 0 (result filled) or -1 with a message */
int floor_run(const struct floor_setup *setup, enum floor_mode mode, struct floor_result *result);
/* the bytes a receiver gets in one run of MODE */
unsigned long long floor_stream_bytes(const struct floor_setup *setup, enum floor_mode mode);
/* the test file's byte at OFFSET */
unsigned char floor_file_byte(unsigned long long offset);

/* crypto_floor_setup.c: one core's CPU seconds per GB for one piece of work alone, no socket
 * (what = "pread": out of the page cache into a 64 KiB buffer; "ctr", "gcm-seal", "gcm-open": the
 * cipher in memory) over BYTES bytes in block-sized calls; < 0 on error */
double floor_alone_seconds_per_gb(const struct floor_setup *setup, const char *what,
                                  unsigned long long bytes);

#endif

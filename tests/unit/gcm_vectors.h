/* SPDX-License-Identifier: Apache-2.0 */
/* The AES-GCM recordings of ../shared/vectors-40 (gcm-*) as the unit tests use them: each
 * direction of each connection, its session key and the totals its decoded.txt reports, and
 * its plaintext through a gcm_reader. Header-only. */
#ifndef SHUFFLED_TESTS_GCM_VECTORS_H
#define SHUFFLED_TESTS_GCM_VECTORS_H

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aes_vectors.h"
#include "crypto/gcm_message.h"

struct gcm_capture {
    const char *dir, *file;
    int conn;              /* which session key of decoded.txt (one per connection) */
    const char *dir_label; /* "c2s" or "s2c", as decoded.txt names the direction */
};

static const struct gcm_capture gcm_captures[] = {
    {"gcm-v1", "c2s.bin", 0, "c2s"},
    {"gcm-v1", "s2c.bin", 0, "s2c"},
    {"gcm-v1", "c2s.1.bin", 1, "c2s"},
    {"gcm-v1", "s2c.1.bin", 1, "s2c"},
    {"gcm-v2", "c2s.bin", 0, "c2s"},
    {"gcm-v2", "s2c.bin", 0, "s2c"},
    {"gcm-v2", "c2s.1.bin", 1, "c2s"},
    {"gcm-v2", "s2c.1.bin", 1, "s2c"},
    {"gcm-v2-length-boundary", "c2s.bin", 0, "c2s"},
    {"gcm-v2-length-boundary", "s2c.bin", 0, "s2c"},
    {"gcm-4.0.0-first-message", "c2s.bin", 0, "c2s"},
    {"gcm-4.0.0-first-message", "s2c.bin", 0, "s2c"},
    {"gcm-4.0.0-first-message", "c2s.1.bin", 1, "c2s"},
    {"gcm-4.0.0-first-message", "s2c.1.bin", 1, "s2c"},
    {"gcm-4.0.0-length-prefix", "c2s.bin", 0, "c2s"},
};
#define GCM_CAPTURES (sizeof gcm_captures / sizeof gcm_captures[0])

/* What decoded.txt says about one capture: the session key and the totals. */
struct gcm_expected {
    uint8_t key[32];
    size_t key_len;
    unsigned messages, frames;
    size_t plaintext;
};

static inline char *decoded_text(const char *dir)
{
    char path[512];
    size_t len;
    snprintf(path, sizeof path, "%s/vectors-40/%s/decoded.txt", harness_shared_dir(), dir);
    char *text = (char *)harness_read_file(path, &len);
    ck_assert_msg(text != NULL, "cannot read %s", path);
    char *z = realloc(text, len + 1);
    z[len] = '\0';
    return z;
}

static inline void gcm_expected_of(const struct gcm_capture *c, struct gcm_expected *e)
{
    char *text = decoded_text(c->dir);
    const char *p = text;
    for (int i = 0; i <= c->conn; i++) {
        p = strstr(p, "\nsession key = ");
        ck_assert_ptr_nonnull(p);
        p += strlen("\nsession key = ");
    }
    char hex[65];
    ck_assert_int_eq(sscanf(p, "%64[0-9a-f]", hex), 1);
    uint8_t *key = test_hex(hex, &e->key_len);
    memcpy(e->key, key, e->key_len);
    free(key);
    char label[80];
    snprintf(label, sizeof label, "\n-- connection %d %s: ", c->conn, c->dir_label);
    p = strstr(text, label);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(sscanf(p + strlen(label), "%u GCM messages, %zu plaintext bytes, %u Spark",
                            &e->messages, &e->plaintext, &e->frames),
                     3);
    free(text);
}

/* Decrypts what follows the auth frame of c, fed piece bytes at a time. */
static inline uint8_t *gcm_decrypt_capture(const struct gcm_capture *c,
                                           const struct gcm_expected *e, size_t piece,
                                           size_t *plain_len, struct aes_capture *cap)
{
    char dir[128];
    snprintf(dir, sizeof dir, "vectors-40/%s", c->dir);
    aes_capture_load(cap, dir, c->file);
    struct gcm_reader r;
    ck_assert_int_eq(gcm_reader_init(&r, e->key, e->key_len), 0);
    uint8_t *out = malloc(cap->cipher_len + 1);
    size_t got = 0;
    for (size_t at = 0; at < cap->cipher_len;) {
        size_t n = cap->cipher_len - at < piece ? cap->cipher_len - at : piece;
        uint8_t *plain;
        size_t plen;
        ssize_t took = gcm_reader_feed(&r, cap->cipher + at, n, &plain, &plen);
        ck_assert_msg(took > 0, "%s/%s: refused at %zu (errno %d)", c->dir, c->file, at, errno);
        memcpy(out + got, plain, plen);
        got += plen;
        at += (size_t)took;
    }
    ck_assert(gcm_reader_idle(&r));
    ck_assert_uint_eq(r.messages, e->messages);
    gcm_reader_free(&r);
    *plain_len = got;
    return out;
}

#endif

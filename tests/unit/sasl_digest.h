/* SPDX-License-Identifier: Apache-2.0 */
/* For tests: the DIGEST-MD5 response and rspauth exactly as protocol.md 12.2 computes them (RFC 2831,
 * QOP auth), so a test can speak for a Java client without Cyrus. MD5 from libsasl2. */
#ifndef SHUFFLED_TESTS_SASL_DIGEST_H
#define SHUFFLED_TESTS_SASL_DIGEST_H

#include <sasl/md5global.h>

#include <sasl/md5.h>
#include <stdio.h>
#include <string.h>

static inline void md5_hex(const void *data, size_t len, char hex[33])
{
    MD5_CTX c;
    unsigned char d[16];
    _sasl_MD5Init(&c);
    _sasl_MD5Update(&c, data, (unsigned)len);
    _sasl_MD5Final(d, &c);
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* rspauth = 0: the client's response; 1: the server's rspauth. */
static inline void digest_md5(const char *user, const char *realm, const char *password,
                              const char *nonce, const char *cnonce, const char *nc,
                              const char *uri, int rspauth, char out[33])
{
    char buf[2048], ha1[33], ha2[33];
    MD5_CTX c;
    unsigned char a1[16];
    int n = snprintf(buf, sizeof buf, "%s:%s:%s", user, realm, password);
    _sasl_MD5Init(&c);
    _sasl_MD5Update(&c, (unsigned char *)buf, (unsigned)n);
    _sasl_MD5Final(a1, &c);
    memcpy(buf, a1, 16);
    n = 16 + snprintf(buf + 16, sizeof buf - 16, ":%s:%s", nonce, cnonce);
    md5_hex(buf, (size_t)n, ha1);
    n = snprintf(buf, sizeof buf, "%s:%s", rspauth ? "" : "AUTHENTICATE", uri);
    md5_hex(buf, (size_t)n, ha2);
    n = snprintf(buf, sizeof buf, "%s:%s:%s:%s:auth:%s", ha1, nonce, nc, cnonce, ha2);
    md5_hex(buf, (size_t)n, out);
}

#endif

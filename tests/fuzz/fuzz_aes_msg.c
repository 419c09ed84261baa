/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as the AES auth messages a peer sends before it is
 * authenticated (protocol.md 12.4 ClientChallenge / ServerResponse, 12.5 AuthMessage). Whatever
 * decodes must re-encode to the bytes it came from (decoders ignore what follows the last
 * field, as Spark's do); challenge + 1 must be Java's BigInteger arithmetic: the sign-extended
 * result is the sign-extended input plus one, in the shortest two's-complement form. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/aes_authmsg.h"
#include "proto/aes_challenge.h"

static void same_prefix(const uint8_t *data, size_t size, uint8_t *out, size_t len)
{
    if (len > size || memcmp(out, data, len) != 0)
        abort();
    free(out);
}

static void check_plus_one(const uint8_t *in, size_t len)
{
    uint8_t out[65], a[66], b[66];
    size_t n = aes_challenge_plus_one(in, len, out);
    if (len == 0) {
        if (n != 0)
            abort();
        return;
    }
    if (n < 1 || n > len + 1)
        abort();
    if (n > 1 && ((out[0] == 0x00 && !(out[1] & 0x80)) || (out[0] == 0xff && (out[1] & 0x80))))
        abort(); /* not minimal */
    /* sign-extend both to len + 1 bytes; then in + 1 == out, as unsigned numbers mod 2^8(len+1) */
    size_t w = len + 1;
    memset(a, in[0] & 0x80 ? 0xff : 0, w);
    memcpy(a + w - len, in, len);
    memset(b, out[0] & 0x80 ? 0xff : 0, w);
    memcpy(b + w - n, out, n);
    for (size_t i = w; i-- > 0;)
        if (++a[i] != 0)
            break;
    if (memcmp(a, b, w) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[200];
    uint8_t *out;
    size_t len;
    struct aes_client_challenge cc;
    if (aes_client_challenge_decode(data, size, &cc, err, sizeof err) == 0) {
        if (aes_client_challenge_encode(&cc, &out, &len) != 0)
            abort();
        same_prefix(data, size, out, len);
    }
    struct aes_server_response sr;
    if (aes_server_response_decode(data, size, &sr, err, sizeof err) == 0) {
        if (aes_server_response_encode(&sr, &out, &len) != 0)
            abort();
        same_prefix(data, size, out, len);
    }
    struct aes_authmsg m;
    if (aes_authmsg_decode(data, size, &m, err, sizeof err) == 0) {
        if (aes_authmsg_encode(&m, &out, &len) != 0 || len != aes_authmsg_encoded_len(&m))
            abort();
        same_prefix(data, size, out, len);
    }
    check_plus_one(data, size > 64 ? 64 : size);
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The recorded AES sessions (../shared/vectors-aes, vectors-35, vectors-40) as the unit tests
 * use them: the secret, the random bytes each side drew (from the key logs, in draw order) and
 * the values the recordings' READMEs derive. Each capture is one plaintext auth frame per
 * direction, then AES-CTR ciphertext. Header-only. */
#ifndef SHUFFLED_TESTS_AES_VECTORS_H
#define SHUFFLED_TESTS_AES_VECTORS_H

#include <stdio.h>
#include <stdlib.h>

#include "crypto/aes_session.h"
#include "crypto/primitives.h"
#include "proto/codec.h"
#include "test_util.h"

struct aes_recording {
    const char *dir; /* under the shared dir */
    const char *secret;
    enum aes_protocol protocol;
    const char *client_rng[3]; /* hex, in draw order */
    const char *server_rng[3];
    const char *key, *c2s_iv, *s2c_iv; /* the session the recording's README derives */
};

static const struct aes_recording aes_recordings[] = {
    {"vectors-aes/auth-aes-31",
     "vector-secret-31",
     AES_PROTO_PBKDF2,
     {"94e63355a73ae11446687cca10c055f3", "bff6b598067852639d38e26a4bb89e82", NULL},
     {"140711fd422764794a8c3f7fd095745b", "636b294f32a34715b9d6919b134334c6",
      "312a832498df38eb38e48c70526addb3"},
     "8b63c01f29bfa6bd9a99cd77b367bd9d",
     "636b294f32a34715b9d6919b134334c6",
     "312a832498df38eb38e48c70526addb3"},
    {"vectors-35/auth-aes-35",
     "vector-secret-35",
     AES_PROTO_X25519_V1,
     {"7f19240eaccca308e1763c9b03680649c3c5cf00234babdd2936757f76933fb4",
      "5871225f5c9765c20bb0afb2ec7cf378", "56908be55e29592d67eea257"},
     {"0fd05ddaa8f5da8f70b6943a9d646922cc85fd3b9d4e257468b41e658ce19294",
      "3732f066401e33cbddde335916efa22f", "2522b414b4a3ab8bfbaa03c7"},
     "d123727e3e7fad8d1ea2366a239f134e3f3ea7f2765c1c6e2ae7580d54cea53f",
     "f7aba8f03c005c71b7593937fdabe5e5",
     "202045902e61a3023411a955db2ad3a5"},
    {"vectors-40/auth-aes-v1-40",
     "vector-secret-40",
     AES_PROTO_X25519_V1,
     {"8f04325b772c0311771a6ec7417444495d4e97067accd6596e9660f31fba7eb6",
      "ea9c9412dd0f5e17da0325a12d7c3ff5", "894085d5cc1f3c966431be04"},
     {"5fbe9ffa924b303fcfe378f834a13bffe5bcacd96bb3183cace384408662bb87",
      "d9e8c317476e0849938e586f4fa3483d", "b01f46c037fa081b86056716"},
     "5b9d903177be71647a48720ae2b61ec876a66f32162b8e560ca4c9308ba25f5c",
     "8a038c75df7d78a201dc214dbfa9c311",
     "b992260ce7e9ff4ff67bd2180e0dcf47"},
    {"vectors-40/auth-aes-v2",
     "vector-secret-40",
     AES_PROTO_X25519_V2,
     {"6fda0f489fad145d200f5d5d06c711641fc81e9d05e63bc93d2f613594e29a9c",
      "9e13d40ce656c26987d9eead14533d83", "ca1753bd64e07f9bbcc684ad"},
     {"1f689a281168f4020af2bea652b4d3e1c2a90300d413d9f88390203c01ab5490",
      "6bb433cd36caf772ed65b4ecf5e1f4fb", "50c8c203318da0dc786b0b4a"},
     "f85b1cb7403869a96e234ed1dd858495",
     "6fb4555db3dfcb6b5839882edf153145",
     "b578bc532a37df42cf16f45f8ead95e6"},
};
#define AES_RECORDINGS (sizeof aes_recordings / sizeof aes_recordings[0])

/* A crypto_rng that hands out recorded bytes in order; a draw of another size fails. */
struct scripted_rng {
    const char *const *chunks;
    int next;
    int failed_draws;
};

static inline int scripted_draw(void *ctx, uint8_t *out, size_t n)
{
    struct scripted_rng *s = ctx;
    const char *hex = s->chunks[s->next];
    size_t len = 0;
    uint8_t *bytes = hex ? test_hex(hex, &len) : NULL;
    if (!bytes || len != n) {
        free(bytes);
        s->failed_draws++;
        return -1;
    }
    memcpy(out, bytes, n);
    free(bytes);
    s->next++;
    return 0;
}

static inline struct crypto_rng scripted(struct scripted_rng *s, const char *const *chunks)
{
    s->chunks = chunks;
    s->next = 0;
    s->failed_draws = 0;
    return (struct crypto_rng){scripted_draw, s};
}

/* One direction of a capture: the auth frame's body and the ciphertext after the frame. */
struct aes_capture {
    uint8_t *data;
    size_t len;
    const uint8_t *body; /* the RpcRequest/RpcResponse body (after the 21-byte header) */
    size_t body_len;
    const uint8_t *cipher; /* everything after the auth frame */
    size_t cipher_len;
};

static inline void aes_capture_load(struct aes_capture *c, const char *dir, const char *side)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/%s", harness_shared_dir(), dir, side);
    c->data = harness_read_file(path, &c->len);
    ck_assert_msg(c->data != NULL, "cannot read %s", path);
    ck_assert_uint_ge(c->len, 21);
    uint64_t frame = proto_load_u64(c->data);
    ck_assert_uint_ge(frame, 21);
    ck_assert_uint_le(frame, c->len);
    c->body = c->data + 21;
    c->body_len = (size_t)frame - 21;
    c->cipher = c->data + frame;
    c->cipher_len = c->len - (size_t)frame;
}

#endif

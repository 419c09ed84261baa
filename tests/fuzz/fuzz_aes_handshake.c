/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as the first auth body a client sends the server, and as
 * the reply a client gets, through the AES handshake state machines with libcrypto (protocol.md 12.4,
 * 12.5). Neither may crash, leak or accept: a forged message cannot pass without the secret.
 * Linked with src/crypto and libcrypto (tests/fuzz/local.mk). */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/aes_auth.h"

/* deterministic "randomness", so a finding replays */
static int counter_rng(void *ctx, uint8_t *out, size_t n)
{
    uint8_t *c = ctx;
    for (size_t i = 0; i < n; i++)
        out[i] = (*c)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[200];
    uint8_t seed = 7;
    struct crypto_rng rng = {counter_rng, &seed};
    struct aes_server sv;
    aes_server_init(&sv);
    if (aes_server_parse(&sv, data, size, err, sizeof err) == 0) {
        if (!sv.app_id)
            abort();
        if (aes_server_respond(&sv, "fuzz-secret", &rng, err, sizeof err) == 0)
            abort(); /* the fuzzer cannot know the keystream or the GCM key */
        if (sv.state != AES_SERVER_FAILED || sv.reply)
            abort();
    }
    aes_server_free(&sv);

    static const enum aes_protocol protos[] = {AES_PROTO_PBKDF2, AES_PROTO_X25519_V1,
                                               AES_PROTO_X25519_V2};
    struct aes_client cl;
    if (aes_client_init(&cl, protos[size % 3], "app-cap", "fuzz-secret") != 0)
        return 0;
    uint8_t *body;
    size_t len;
    seed = 7;
    if (aes_client_start(&cl, &rng, &body, &len) != 0)
        abort();
    free(body);
    struct aes_session s;
    if (aes_client_finish(&cl, data, size, &s, err, sizeof err) == 0)
        abort();
    aes_client_free(&cl);
    return 0;
}

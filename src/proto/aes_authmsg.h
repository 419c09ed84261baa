/* SPDX-License-Identifier: Apache-2.0 */
/* AuthMessage, the one message of Spark 3.2+'s forward-secure auth protocol (protocol.md 12.5), sent
 * by the client as an RpcRequest body and answered by the server as an RpcResponse body:
 *   u8 0xFB | str appId | byte[] salt | byte[] ciphertext
 * The decoder borrows from the body and, like Spark's, ignores bytes after the last field; the
 * protocol's transcript is the re-encoding of the decoded fields, so such bytes never enter it. */
#ifndef SHUFFLED_PROTO_AES_AUTHMSG_H
#define SHUFFLED_PROTO_AES_AUTHMSG_H

#include <stddef.h>
#include <stdint.h>

#include "proto/aes_challenge.h"

#define AES_AUTHMSG_TAG 0xFB

struct aes_authmsg {
    struct aes_field app_id; /* never holds a NUL byte once decoded */
    struct aes_field salt;
    struct aes_field ciphertext;
};

/* 0, or -1 with err filled (wrong tag, truncated, appId holding a NUL). */
int aes_authmsg_decode(const uint8_t *body, size_t len, struct aes_authmsg *m, char *err,
                       size_t errlen);
/* Bytes the encoding takes. */
size_t aes_authmsg_encoded_len(const struct aes_authmsg *m);
/* malloc'd encoding (*out, *out_len); 0, or -1 (no memory, a field beyond an i32). */
int aes_authmsg_encode(const struct aes_authmsg *m, uint8_t **out, size_t *out_len);

#endif

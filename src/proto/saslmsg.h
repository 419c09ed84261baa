/* SPDX-License-Identifier: Apache-2.0 */
/* SaslMessage: the carrier of DIGEST-MD5 tokens from client to server inside an RpcRequest
 * body (protocol.md 1.3 and 12.2):
 *   u8 0xEA | i32 appIdLen | appId (UTF-8) | i32 tokenLen (written, ignored when read) | token
 * The token runs to the end of the body. The server answers with the raw token as the
 * RpcResponse body (no wrapper). */
#ifndef SHUFFLED_PROTO_SASLMSG_H
#define SHUFFLED_PROTO_SASLMSG_H

#include <stddef.h>
#include <stdint.h>

#define SASLMSG_TAG 0xEA

struct saslmsg {
    const char *app_id; /* borrowed from the body: app_id_len bytes, NOT NUL-terminated */
    uint32_t app_id_len;
    const uint8_t *token; /* borrowed: the rest of the body */
    size_t token_len;
};

/* Decodes body (borrowed views into it). Returns 0, or -1 with err filled: a wrong tag, a
 * truncated body, or an appId holding a NUL byte. */
int saslmsg_decode(const uint8_t *body, size_t len, struct saslmsg *m, char *err, size_t errlen);

/* Encodes a SaslMessage into a malloc'd buffer (*out, *out_len). Returns 0, or -1 (no memory,
 * or sizes beyond an i32). */
int saslmsg_encode(const char *app_id, const uint8_t *token, size_t token_len, uint8_t **out,
                   size_t *out_len);

/* The SASL user name and password Spark derives from the shared secret (protocol.md 12.2): the user
 * is base64("sparkSaslUser"); the password is base64 of the secret's bytes with a '\n' after
 * every 76 output characters (none at the end). Returns a malloc'd string, NULL without
 * memory. */
#define SASL_SPARK_USER "c3BhcmtTYXNsVXNlcg=="
char *sasl_spark_password(const char *secret);

#endif

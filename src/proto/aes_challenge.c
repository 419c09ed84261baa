/* SPDX-License-Identifier: Apache-2.0 */
/* ClientChallenge / ServerResponse codecs and the challenge + 1 rule; see aes_challenge.h. */
#include <config.h>

#include "proto/aes_challenge.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/codec.h"

static bool read_field(struct proto_reader *r, struct aes_field *f)
{
    return proto_read_bytes_borrowed(r, &f->data, &f->len);
}

static int check_tag(struct proto_reader *r, const uint8_t *body, size_t len, uint8_t want,
                     const char *what, char *err, size_t errlen)
{
    uint8_t tag = 0;
    if (!proto_read_u8(r, &tag) || tag != want) {
        snprintf(err, errlen, "not a %s (first byte %d, expected %d)", what,
                 len ? (int)(int8_t)body[0] : -1, (int)(int8_t)want);
        return -1;
    }
    return 0;
}

int aes_client_challenge_decode(const uint8_t *body, size_t len, struct aes_client_challenge *m,
                                char *err, size_t errlen)
{
    struct proto_reader r;
    proto_reader_init(&r, body, len);
    memset(m, 0, sizeof *m);
    if (check_tag(&r, body, len, AES_CLIENT_CHALLENGE_TAG, "ClientChallenge", err, errlen) != 0)
        return -1;
    read_field(&r, &m->app_id);
    read_field(&r, &m->kdf);
    proto_read_i32(&r, &m->iterations);
    read_field(&r, &m->cipher);
    proto_read_i32(&r, &m->key_length_bits);
    read_field(&r, &m->nonce);
    read_field(&r, &m->encrypted_challenge);
    if (proto_reader_error(&r)) {
        snprintf(err, errlen, "truncated ClientChallenge: %s", proto_reader_error(&r));
        memset(m, 0, sizeof *m);
        return -1;
    }
    if (m->app_id.len && memchr(m->app_id.data, '\0', m->app_id.len)) {
        snprintf(err, errlen, "ClientChallenge appId holds a NUL byte");
        memset(m, 0, sizeof *m);
        return -1;
    }
    return 0;
}

int aes_server_response_decode(const uint8_t *body, size_t len, struct aes_server_response *m,
                               char *err, size_t errlen)
{
    struct proto_reader r;
    proto_reader_init(&r, body, len);
    memset(m, 0, sizeof *m);
    if (check_tag(&r, body, len, AES_SERVER_RESPONSE_TAG, "ServerResponse", err, errlen) != 0)
        return -1;
    read_field(&r, &m->response);
    read_field(&r, &m->nonce);
    read_field(&r, &m->input_iv);
    read_field(&r, &m->output_iv);
    if (proto_reader_error(&r)) {
        snprintf(err, errlen, "truncated ServerResponse: %s", proto_reader_error(&r));
        memset(m, 0, sizeof *m);
        return -1;
    }
    return 0;
}

static int finish(struct proto_writer *w, uint8_t **out, size_t *out_len)
{
    if (w->failed) {
        proto_writer_free(w);
        return -1;
    }
    *out = proto_writer_take(w, out_len);
    proto_writer_free(w);
    return *out ? 0 : -1;
}

int aes_client_challenge_encode(const struct aes_client_challenge *m, uint8_t **out,
                                size_t *out_len)
{
    struct proto_writer w;
    proto_writer_init(&w);
    proto_write_u8(&w, AES_CLIENT_CHALLENGE_TAG);
    proto_write_bytes(&w, m->app_id.data, m->app_id.len);
    proto_write_bytes(&w, m->kdf.data, m->kdf.len);
    proto_write_i32(&w, m->iterations);
    proto_write_bytes(&w, m->cipher.data, m->cipher.len);
    proto_write_i32(&w, m->key_length_bits);
    proto_write_bytes(&w, m->nonce.data, m->nonce.len);
    proto_write_bytes(&w, m->encrypted_challenge.data, m->encrypted_challenge.len);
    return finish(&w, out, out_len);
}

int aes_server_response_encode(const struct aes_server_response *m, uint8_t **out, size_t *out_len)
{
    struct proto_writer w;
    proto_writer_init(&w);
    proto_write_u8(&w, AES_SERVER_RESPONSE_TAG);
    proto_write_bytes(&w, m->response.data, m->response.len);
    proto_write_bytes(&w, m->nonce.data, m->nonce.len);
    proto_write_bytes(&w, m->input_iv.data, m->input_iv.len);
    proto_write_bytes(&w, m->output_iv.data, m->output_iv.len);
    return finish(&w, out, out_len);
}

size_t aes_challenge_plus_one(const uint8_t *in, size_t len, uint8_t *out)
{
    if (len == 0)
        return 0;
    /* add one at full width plus one sign-extension byte, then drop redundant sign bytes */
    uint8_t sign = (in[0] & 0x80) ? 0xff : 0x00;
    out[0] = sign;
    memcpy(out + 1, in, len);
    for (size_t i = len + 1; i-- > 0;)
        if (++out[i] != 0)
            break;
    size_t skip = 0;
    while (skip < len && ((out[skip] == 0x00 && !(out[skip + 1] & 0x80)) ||
                          (out[skip] == 0xff && (out[skip + 1] & 0x80))))
        skip++;
    memmove(out, out + skip, len + 1 - skip);
    return len + 1 - skip;
}

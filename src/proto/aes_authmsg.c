/* SPDX-License-Identifier: Apache-2.0 */
/* AuthMessage codec; see aes_authmsg.h. */
#include <config.h>

#include "proto/aes_authmsg.h"

#include <stdio.h>
#include <string.h>

#include "proto/codec.h"

int aes_authmsg_decode(const uint8_t *body, size_t len, struct aes_authmsg *m, char *err,
                       size_t errlen)
{
    struct proto_reader r;
    proto_reader_init(&r, body, len);
    memset(m, 0, sizeof *m);
    uint8_t tag = 0;
    if (!proto_read_u8(&r, &tag) || tag != AES_AUTHMSG_TAG) {
        snprintf(err, errlen, "not an AuthMessage (first byte %d, expected %d)",
                 len ? (int)(int8_t)body[0] : -1, (int)(int8_t)AES_AUTHMSG_TAG);
        return -1;
    }
    proto_read_bytes_borrowed(&r, &m->app_id.data, &m->app_id.len);
    proto_read_bytes_borrowed(&r, &m->salt.data, &m->salt.len);
    proto_read_bytes_borrowed(&r, &m->ciphertext.data, &m->ciphertext.len);
    if (proto_reader_error(&r)) {
        snprintf(err, errlen, "truncated AuthMessage: %s", proto_reader_error(&r));
        memset(m, 0, sizeof *m);
        return -1;
    }
    if (m->app_id.len && memchr(m->app_id.data, '\0', m->app_id.len)) {
        snprintf(err, errlen, "AuthMessage appId holds a NUL byte");
        memset(m, 0, sizeof *m);
        return -1;
    }
    return 0;
}

size_t aes_authmsg_encoded_len(const struct aes_authmsg *m)
{
    return 1 + 4 + (size_t)m->app_id.len + 4 + m->salt.len + 4 + m->ciphertext.len;
}

int aes_authmsg_encode(const struct aes_authmsg *m, uint8_t **out, size_t *out_len)
{
    struct proto_writer w;
    proto_writer_init(&w);
    proto_write_u8(&w, AES_AUTHMSG_TAG);
    proto_write_bytes(&w, m->app_id.data, m->app_id.len);
    proto_write_bytes(&w, m->salt.data, m->salt.len);
    proto_write_bytes(&w, m->ciphertext.data, m->ciphertext.len);
    if (w.failed) {
        proto_writer_free(&w);
        return -1;
    }
    *out = proto_writer_take(&w, out_len);
    proto_writer_free(&w);
    return *out ? 0 : -1;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* SaslMessage codec; see saslmsg.h. */
#include <config.h>

#include "proto/saslmsg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/codec.h"

int saslmsg_decode(const uint8_t *body, size_t len, struct saslmsg *m, char *err, size_t errlen)
{
    struct proto_reader r;
    proto_reader_init(&r, body, len);
    uint8_t tag = 0;
    const uint8_t *app = NULL;
    uint32_t app_len = 0;
    int32_t legacy_len = 0;
    if (!proto_read_u8(&r, &tag) || tag != SASLMSG_TAG) {
        snprintf(err, errlen, "not a SaslMessage (first byte %d, expected %d)",
                 len ? (int)(int8_t)body[0] : -1, (int)(int8_t)SASLMSG_TAG);
        return -1;
    }
    if (!proto_read_bytes_borrowed(&r, &app, &app_len) || !proto_read_i32(&r, &legacy_len)) {
        snprintf(err, errlen, "truncated SaslMessage: %s", proto_reader_error(&r));
        return -1;
    }
    if (app_len && memchr(app, '\0', app_len)) {
        snprintf(err, errlen, "SaslMessage appId holds a NUL byte");
        return -1;
    }
    m->app_id = (const char *)app;
    m->app_id_len = app_len;
    m->token_len = proto_reader_remaining(&r);
    m->token = body + (len - m->token_len);
    return 0;
}

int saslmsg_encode(const char *app_id, const uint8_t *token, size_t token_len, uint8_t **out,
                   size_t *out_len)
{
    size_t app_len = strlen(app_id);
    if (app_len > INT32_MAX - 16 || token_len > (size_t)INT32_MAX - 16 - app_len)
        return -1;
    struct proto_writer w;
    proto_writer_init(&w);
    proto_write_u8(&w, SASLMSG_TAG);
    proto_write_str(&w, app_id);
    proto_write_bytes(&w, token, token_len);
    if (w.failed) {
        proto_writer_free(&w);
        return -1;
    }
    *out = proto_writer_take(&w, out_len);
    proto_writer_free(&w);
    return *out ? 0 : -1;
}

char *sasl_spark_password(const char *secret)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(secret), plain = (n + 2) / 3 * 4;
    char *out = malloc(plain + plain / 76 + 1);
    if (!out)
        return NULL;
    const uint8_t *in = (const uint8_t *)secret;
    size_t o = 0, col = 0;
    for (size_t i = 0; i < n; i += 3) {
        if (col == 76) { /* only between lines: a full last line gets no newline */
            out[o++] = '\n';
            col = 0;
        }
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = i + 1 < n ? abc[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? abc[v & 63] : '=';
        col += 4;
    }
    out[o] = '\0';
    return out;
}

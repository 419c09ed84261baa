/* SPDX-License-Identifier: Apache-2.0 */
#include <config.h>

#include "proto/frame.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/codec.h"
#include "proto/message.h"

enum { FRAME_KEEP_BUFFER_BYTES = 64 * 1024 };

void frame_decoder_init(struct frame_decoder *d, uint64_t max_frame_bytes)
{
    memset(d, 0, sizeof(*d));
    d->max_frame_bytes = max_frame_bytes;
}

void frame_decoder_free(struct frame_decoder *d)
{
    free(d->buf);
    d->buf = NULL;
    d->buf_cap = d->buf_have = 0;
}

bool frame_decoder_idle(const struct frame_decoder *d)
{
    return !d->failed && d->header_have == 0 && d->raw_remaining == 0;
}

__attribute__((format(printf, 2, 3))) static enum frame_event fail(struct frame_decoder *d,
                                                                   const char *fmt, ...)
{
    va_list ap;
    d->failed = true;
    va_start(ap, fmt);
    vsnprintf(d->error, sizeof(d->error), fmt, ap);
    va_end(ap);
    return FRAME_ERROR;
}

/* Validates the 9 header bytes (length + type) before any allocation. */
static enum frame_event check_header(struct frame_decoder *d)
{
    int64_t frame_len = (int64_t)proto_load_u64(d->header);
    uint8_t type = d->header[8];
    uint64_t limit = d->max_frame_bytes ? d->max_frame_bytes : PROTO_MAX_FRAME_CONTENT + 8;
    int64_t content_len = (int64_t)((uint64_t)frame_len - 8); /* Java reports this value */
    if (content_len <= 0)
        return fail(d, "frame length should be positive: %" PRId64, content_len);
    if ((uint64_t)frame_len - 8 > PROTO_MAX_FRAME_CONTENT || (uint64_t)frame_len > limit)
        return fail(d, "too large frame: %" PRIu64 " bytes (limit %" PRIu64 ")",
                    (uint64_t)frame_len, limit);
    if (!proto_msg_type_is_known(type))
        return fail(d, "unknown message type %u (0x%02x)", type, type);
    d->frame_len = (uint64_t)frame_len - PROTO_FRAME_HEADER_LEN;
    return FRAME_NEED_MORE;
}

/* After-frame data announced by StreamResponse and UploadStream (protocol.md 3.1). */
static int raw_byte_count(uint8_t type, const uint8_t *content, size_t len, uint64_t *count)
{
    struct proto_reader r;
    int64_t n = 0;
    proto_reader_init(&r, content, len);
    if (type == PROTO_STREAM_RESPONSE) {
        const uint8_t *id;
        uint32_t id_len;
        proto_read_bytes_borrowed(&r, &id, &id_len);
        proto_read_i64(&r, &n);
    } else if (type == PROTO_UPLOAD_STREAM) {
        const uint8_t *meta;
        uint32_t meta_len;
        int64_t request_id;
        proto_read_i64(&r, &request_id);
        proto_read_bytes_borrowed(&r, &meta, &meta_len);
        proto_read_i64(&r, &n);
    } else {
        *count = 0;
        return 0;
    }
    if (proto_reader_error(&r) || n < 0)
        return -1;
    *count = (uint64_t)n;
    return 0;
}

static enum frame_event emit_frame(struct frame_decoder *d, const uint8_t *content,
                                   struct frame_out *out)
{
    out->type = d->header[8];
    out->content = content;
    out->content_len = d->frame_len;
    out->raw = NULL;
    out->raw_len = 0;
    d->header_have = 0;
    d->buf_have = 0;
    if (raw_byte_count(out->type, content, d->frame_len, &d->raw_remaining) < 0)
        return fail(d, "malformed %s header: bad after-frame byte count",
                    proto_msg_type_name(out->type));
    out->raw_remaining = d->raw_remaining;
    if (d->raw_remaining > 0)
        d->last_head_len = PROTO_FRAME_HEADER_LEN + (size_t)d->frame_len;
    return FRAME_MESSAGE;
}

enum frame_event frame_decoder_next(struct frame_decoder *d, const uint8_t **data, size_t *len,
                                    struct frame_out *out)
{
    if (d->failed)
        return FRAME_ERROR;
    /* The previous frame may still be in buf until this call: only now can a
     * large buffer be let go, so one big frame does not pin memory for good. */
    if (d->buf_have == 0 && d->buf_cap > FRAME_KEEP_BUFFER_BYTES) {
        free(d->buf);
        d->buf = NULL;
        d->buf_cap = 0;
    }
    if (d->raw_remaining > 0) {
        if (*len == 0)
            return FRAME_NEED_MORE;
        size_t n = *len < d->raw_remaining ? *len : (size_t)d->raw_remaining;
        out->raw = *data;
        out->raw_len = n;
        d->raw_remaining -= n;
        out->raw_remaining = d->raw_remaining;
        *data += n;
        *len -= n;
        return FRAME_RAW;
    }
    while (d->header_have < PROTO_FRAME_HEADER_LEN) {
        if (*len == 0)
            return FRAME_NEED_MORE;
        d->header[d->header_have++] = **data;
        (*data)++;
        (*len)--;
        if (d->header_have == PROTO_FRAME_HEADER_LEN && check_header(d) == FRAME_ERROR)
            return FRAME_ERROR;
    }
    uint64_t missing = d->frame_len - d->buf_have;
    /* The whole content is already in the caller's input: no copy. */
    if (d->buf_have == 0 && *len >= missing) {
        const uint8_t *content = *data;
        *data += missing;
        *len -= missing;
        return emit_frame(d, content, out);
    }
    if (*len == 0)
        return FRAME_NEED_MORE;
    size_t n = *len < missing ? *len : (size_t)missing;
    if (d->buf_have + n > d->buf_cap) {
        /* Grow with what actually arrived, never straight to the announced size. */
        size_t cap = d->buf_cap ? d->buf_cap : 4096;
        while (cap < d->buf_have + n)
            cap *= 2;
        if (cap > d->frame_len)
            cap = (size_t)d->frame_len;
        uint8_t *b = realloc(d->buf, cap);
        if (!b)
            return fail(d, "out of memory for a frame of %" PRIu64 " bytes", d->frame_len);
        d->buf = b;
        d->buf_cap = cap;
    }
    memcpy(d->buf + d->buf_have, *data, n);
    d->buf_have += n;
    *data += n;
    *len -= n;
    if (d->buf_have < d->frame_len)
        return FRAME_NEED_MORE;
    return emit_frame(d, d->buf, out);
}

size_t frame_decoder_read_hint(const struct frame_decoder *d, size_t min_raw)
{
    if (d->failed || d->raw_remaining == 0 || d->raw_remaining < min_raw ||
        d->raw_remaining > SIZE_MAX / 2)
        return 0;
    return (size_t)d->raw_remaining + d->last_head_len;
}

int frame_scan(const uint8_t *data, size_t len, uint64_t max_frame_bytes, frame_visit_fn fn,
               void *ctx, char *err, size_t errlen)
{
    struct frame_decoder d;
    struct frame_out out;
    enum frame_event ev;
    int rc = 0;
    frame_decoder_init(&d, max_frame_bytes);
    while ((ev = frame_decoder_next(&d, &data, &len, &out)) != FRAME_NEED_MORE) {
        if (ev == FRAME_ERROR) {
            snprintf(err, errlen, "%s", d.error);
            rc = -1;
            break;
        }
        if (fn(ctx, ev, &out) != 0) {
            rc = -1;
            snprintf(err, errlen, "stopped by visitor");
            break;
        }
    }
    if (rc == 0 && !frame_decoder_idle(&d)) {
        snprintf(err, errlen, "input ends inside a frame");
        rc = -1;
    }
    frame_decoder_free(&d);
    return rc;
}

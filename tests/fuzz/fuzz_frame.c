/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes through the incremental frame decoder (in
 * input-chosen splits) and every decoded frame through the transport and
 * shuffle-RPC decoders, re-encoding whatever decodes; which fields hold a legacy
 * length or an RPC body comes from the message table. The same bytes also build
 * a sample of a table row that must round-trip. Run by scripts/fuzz.
 * Linked with tests/unit/test_blockmsg_sample.c (tests/fuzz/local.mk). */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/blockmsg.h"
#include "proto/frame.h"
#include "proto/message.h"
#include "proto/msgdesc_codec.h"
#include "../unit/test_blockmsg_sample.h"

static void check_body(const struct proto_view *body)
{
    struct blockmsg bm;
    char err[256];
    if (body->len == 0 || blockmsg_decode(body->data, body->len, &bm, err, sizeof(err)) != 0)
        return;
    struct proto_writer w;
    char desc[512];
    proto_writer_init(&w);
    blockmsg_encode(&w, &bm);
    blockmsg_describe(&bm, desc, sizeof(desc));
    /* Re-decoding what we encoded must succeed. */
    struct blockmsg again;
    if (blockmsg_decode(w.buf, w.len, &again, err, sizeof(err)) != 0)
        abort();
    blockmsg_free(&again);
    proto_writer_free(&w);
    blockmsg_free(&bm);
}

static void check_frame(const struct frame_out *out)
{
    struct proto_msg m;
    char err[256], desc[256];
    if (proto_msg_decode(out->type, out->content, out->content_len, &m, err, sizeof(err)) != 0)
        return;
    proto_msg_describe(&m, desc, sizeof(desc));
    struct proto_writer w;
    proto_writer_init(&w);
    proto_msg_encode(&w, &m);
    /* A decoded frame re-encodes to exactly its own bytes, except the legacy
     * body length, which readers ignore and the encoder fills in correctly. */
    if (w.len != out->content_len + PROTO_FRAME_HEADER_LEN)
        abort();
    const struct msgdesc *d = proto_msg_desc(m.type);
    const struct proto_view *body = msgdesc_body(d, &m);
    uint8_t *expect = malloc(out->content_len + 1);
    memcpy(expect, out->content, out->content_len);
    size_t at = 0;
    for (uint8_t i = 0; i < d->nfields; i++) {
        if (d->fields[i].kind == MSGF_LEGACY_LEN)
            proto_store_u32(expect + at, body ? body->len : 0);
        at += msgdesc_field_wire_len(&d->fields[i], &m);
    }
    if (memcmp(w.buf + PROTO_FRAME_HEADER_LEN, expect, out->content_len) != 0)
        abort();
    free(expect);
    proto_writer_free(&w);
    for (uint8_t i = 0; i < d->nfields; i++)
        if (d->fields[i].flags & MSGF_CARRIES_RPC)
            check_body(MSG_FIELD_OF(&m, &d->fields[i], struct proto_view));
}

/* A sample of the row the first byte picks, field values from the rest. */
static void check_sample(const uint8_t *data, size_t size)
{
    if (size < 1)
        return;
    const struct msgdesc *d = proto_msg_desc(data[0] % PROTO_MSG_TYPE_COUNT);
    struct sample_source src = {.data = data + 1, .len = size - 1};
    struct proto_msg m = {.type = (enum proto_msg_type)d->type}, back;
    struct proto_writer w, w2;
    char err[256];
    sample_fill(d, &m, MSG_LAYOUT_BASE, &src);
    proto_writer_init(&w);
    proto_writer_init(&w2);
    proto_msg_encode(&w, &m);
    if (proto_msg_decode(d->type, w.buf + PROTO_FRAME_HEADER_LEN, w.len - PROTO_FRAME_HEADER_LEN,
                         &back, err, sizeof(err)) != 0)
        abort();
    proto_msg_encode(&w2, &back);
    if (w2.len != w.len || memcmp(w.buf, w2.buf, w.len) != 0)
        abort();
    proto_writer_free(&w);
    proto_writer_free(&w2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct frame_decoder d;
    struct frame_out out;
    enum frame_event ev;
    /* The first byte picks the split size, so every split pattern gets explored. */
    size_t step = size ? (size_t)data[0] % 17 + 1 : 1;
    check_sample(data, size);
    frame_decoder_init(&d, 1 << 20);
    for (size_t pos = size ? 1 : 0; pos < size;) {
        size_t n = size - pos < step ? size - pos : step;
        const uint8_t *p = data + pos;
        size_t left = n;
        while ((ev = frame_decoder_next(&d, &p, &left, &out)) != FRAME_NEED_MORE) {
            if (ev == FRAME_ERROR)
                goto done;
            if (ev == FRAME_MESSAGE)
                check_frame(&out);
        }
        pos += n;
    }
done:
    frame_decoder_free(&d);
    return 0;
}

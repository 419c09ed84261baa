/* libFuzzer target: arbitrary bytes through the incremental frame decoder (in
 * input-chosen splits) and every decoded frame through the transport and
 * shuffle-RPC decoders, re-encoding whatever decodes. Run by scripts/fuzz. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/blockmsg.h"
#include "proto/frame.h"
#include "proto/message.h"

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
    uint8_t *expect = malloc(out->content_len + 1);
    memcpy(expect, out->content, out->content_len);
    if (m.type == PROTO_RPC_REQUEST || m.type == PROTO_RPC_RESPONSE)
        proto_store_u32(expect + 8, m.u.rpc.body.len);
    else if (m.type == PROTO_ONE_WAY_MESSAGE)
        proto_store_u32(expect, m.u.one_way.body.len);
    if (memcmp(w.buf + PROTO_FRAME_HEADER_LEN, expect, out->content_len) != 0)
        abort();
    free(expect);
    proto_writer_free(&w);
    if (m.type == PROTO_RPC_REQUEST || m.type == PROTO_RPC_RESPONSE)
        check_body(&m.u.rpc.body);
    else if (m.type == PROTO_ONE_WAY_MESSAGE)
        check_body(&m.u.one_way.body);
    else if (m.type == PROTO_UPLOAD_STREAM)
        check_body(&m.u.upload_stream.meta);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct frame_decoder d;
    struct frame_out out;
    enum frame_event ev;
    /* The first byte picks the split size, so every split pattern gets explored. */
    size_t step = size ? (size_t)data[0] % 17 + 1 : 1;
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

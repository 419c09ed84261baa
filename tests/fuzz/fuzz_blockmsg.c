/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as a shuffle RPC body (BlockTransferMessage).
 * Whatever decodes must re-encode and decode again to the same bytes. The same
 * bytes also pick a row of the message table, a layout and the field values of
 * a sample message, which must encode, decode and re-encode to the same bytes.
 * Linked with tests/unit/test_blockmsg_sample.c (tests/fuzz/local.mk). */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/blockmsg.h"
#include "proto/msgdesc_codec.h"
#include "../unit/test_blockmsg_sample.h"

/* Decodes an encoding that must decode, re-encodes it and compares. */
static void check_reencodes(const struct proto_writer *w)
{
    struct blockmsg again;
    struct proto_writer w2;
    char err[256], desc[512];
    if (blockmsg_decode(w->buf, w->len, &again, err, sizeof(err)) != 0)
        abort();
    blockmsg_describe(&again, desc, sizeof(desc));
    proto_writer_init(&w2);
    blockmsg_encode(&w2, &again);
    if (w2.len != w->len || memcmp(w->buf, w2.buf, w->len) != 0)
        abort();
    blockmsg_free(&again);
    proto_writer_free(&w2);
}

static void check_sample(const uint8_t *data, size_t size)
{
    if (size < 2)
        return;
    const struct msgdesc *d = blockmsg_desc(data[0] % BLOCKMSG_TYPE_COUNT);
    struct sample_source src = {.data = data + 2, .len = size - 2};
    struct blockmsg m = {.type = (enum blockmsg_type)d->type};
    struct proto_writer w;
    sample_fill(d, &m, data[1] % sample_layouts(d), &src);
    proto_writer_init(&w);
    blockmsg_encode(&w, &m);
    if (w.len != 1 + msgdesc_wire_len(d, &m))
        abort();
    check_reencodes(&w);
    blockmsg_free(&m);
    proto_writer_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct blockmsg m;
    char err[256], desc[512];
    check_sample(data, size);
    if (blockmsg_decode(data, size, &m, err, sizeof(err)) != 0)
        return 0;
    blockmsg_describe(&m, desc, sizeof(desc));
    struct proto_writer w;
    proto_writer_init(&w);
    blockmsg_encode(&w, &m);
    check_reencodes(&w);
    blockmsg_free(&m);
    proto_writer_free(&w);
    return 0;
}

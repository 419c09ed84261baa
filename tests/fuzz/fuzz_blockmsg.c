/* libFuzzer target: arbitrary bytes as a shuffle RPC body (BlockTransferMessage).
 * Whatever decodes must re-encode and decode again to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/blockmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct blockmsg m, again;
    char err[256], desc[512];
    if (blockmsg_decode(data, size, &m, err, sizeof(err)) != 0)
        return 0;
    blockmsg_describe(&m, desc, sizeof(desc));
    struct proto_writer w, w2;
    proto_writer_init(&w);
    proto_writer_init(&w2);
    blockmsg_encode(&w, &m);
    if (blockmsg_decode(w.buf, w.len, &again, err, sizeof(err)) != 0)
        abort();
    blockmsg_encode(&w2, &again);
    if (w2.len != w.len || memcmp(w.buf, w2.buf, w.len) != 0)
        abort();
    blockmsg_free(&again);
    blockmsg_free(&m);
    proto_writer_free(&w);
    proto_writer_free(&w2);
    return 0;
}

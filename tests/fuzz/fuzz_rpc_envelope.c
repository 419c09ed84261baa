/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as an RPC envelope (the body a remote env sends to a named
 * endpoint). Whatever decodes must re-encode to exactly the same bytes. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/codec.h"
#include "proto/rpc_envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rpc_envelope e;
    char err[160];
    if (rpc_envelope_decode(data, size, &e, err, sizeof err) != 0)
        return 0;
    if (rpc_envelope_header_len(&e) + e.payload.len != size)
        abort();
    struct proto_writer w;
    proto_writer_init(&w);
    if (!rpc_envelope_encode(&w, &e) || w.len != size || memcmp(w.buf, data, size) != 0)
        abort();
    proto_writer_free(&w);
    return 0;
}

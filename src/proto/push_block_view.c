/* SPDX-License-Identifier: Apache-2.0 */
/* See push_block_view.h. The layouts (protocol.md 8.13): appId, then 3.2's appAttemptId,
 * shuffleId, shuffleMergeId, mapIndex, reduceId, index, or 3.1's shuffleId, mapIndex,
 * reduceId, index; which one is decided, as the message table does, by whether what follows
 * the app id can hold 3.2's six ints. Bytes after the last field are ignored, as there. */
#include <config.h>

#include "proto/push_block_view.h"

#include <string.h>

#define INTS_32 6 /* ints after the app id in 3.2's layout */

int push_block_view_decode(const uint8_t *buf, size_t len, struct push_block_view *out)
{
    struct proto_reader r;
    uint8_t type;
    memset(out, 0, sizeof *out);
    proto_reader_init(&r, buf, len);
    if (!proto_read_u8(&r, &type) || type != BLOCKMSG_PUSH_BLOCK_STREAM)
        return -1;
    proto_read_bytes_borrowed(&r, &out->app_id, &out->app_id_len);
    bool layout_32 = proto_reader_remaining(&r) >= INTS_32 * 4;
    out->layout = layout_32 ? BLOCKMSG_LAYOUT_32 : BLOCKMSG_LAYOUT_31;
    if (layout_32)
        proto_read_i32(&r, &out->app_attempt_id);
    proto_read_i32(&r, &out->shuffle_id);
    if (layout_32)
        proto_read_i32(&r, &out->shuffle_merge_id);
    proto_read_i32(&r, &out->map_index);
    proto_read_i32(&r, &out->reduce_id);
    proto_read_i32(&r, &out->index);
    if (proto_reader_error(&r)) {
        memset(out, 0, sizeof *out);
        return -1;
    }
    return 0;
}

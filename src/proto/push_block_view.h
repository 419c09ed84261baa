/* SPDX-License-Identifier: Apache-2.0 */
/* PushBlockStream (BlockTransferMessage type 12) decoded without allocating: the daemon
 * decodes one per pushed block, and needs the app id only long enough to check and copy it.
 * Same verdict and fields as blockmsg_decode (the message table stays the reference;
 * tests/unit/test_push_block_view and tests/fuzz/fuzz_push_block_view compare the two). */
#ifndef SHUFFLED_PROTO_PUSH_BLOCK_VIEW_H
#define SHUFFLED_PROTO_PUSH_BLOCK_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "proto/blockmsg.h"

struct push_block_view {
    enum blockmsg_layout layout; /* 3.1's when fewer bytes follow the app id than 3.2's ints */
    const uint8_t *app_id;       /* borrowed from the decoded buffer; not NUL-terminated */
    uint32_t app_id_len;
    int32_t app_attempt_id; /* 3.2+ only (else 0) */
    int32_t shuffle_id;
    int32_t shuffle_merge_id; /* 3.2+ only (else 0) */
    int32_t map_index, reduce_id, index;
};

/* 0, or -1 when buf is no well-formed PushBlockStream (out is then zeroed). */
int push_block_view_decode(const uint8_t *buf, size_t len, struct push_block_view *out);

#endif

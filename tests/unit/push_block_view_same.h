/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by tests/unit/test_push_block_view and tests/fuzz/fuzz_push_block_view: does
 * push_block_view_decode give blockmsg_decode's verdict and fields for these bytes? */
#ifndef SHUFFLED_TESTS_PUSH_BLOCK_VIEW_SAME_H
#define SHUFFLED_TESTS_PUSH_BLOCK_VIEW_SAME_H

#include <stdbool.h>
#include <string.h>

#include "proto/blockmsg.h"
#include "proto/push_block_view.h"

static inline bool push_block_view_same(const uint8_t *buf, size_t len)
{
    struct blockmsg m;
    struct push_block_view v;
    char err[256];
    int want = blockmsg_decode(buf, len, &m, err, sizeof err);
    if (want == 0 && m.type != BLOCKMSG_PUSH_BLOCK_STREAM) {
        blockmsg_free(&m);
        want = -1; /* another message: not a PushBlockStream */
    }
    int got = push_block_view_decode(buf, len, &v);
    if (want != got)
        return false;
    if (want != 0)
        return true;
#define P m.u.push_block_stream
    bool same = v.layout == P.layout && v.app_id_len == P.app_id.len &&
                memcmp(v.app_id, P.app_id.data, v.app_id_len) == 0 &&
                v.app_attempt_id == P.app_attempt_id && v.shuffle_id == P.shuffle_id &&
                v.shuffle_merge_id == P.shuffle_merge_id && v.map_index == P.map_index &&
                v.reduce_id == P.reduce_id && v.index == P.index;
#undef P
    blockmsg_free(&m);
    return same;
}

#endif

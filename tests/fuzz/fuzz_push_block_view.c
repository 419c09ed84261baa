/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as a PushBlockStream for push_block_view_decode (the
 * push path's decoder), which must agree with blockmsg_decode (the message table) on the
 * verdict and every field. The first byte is forced to type 12 on every other input, so
 * most inputs reach the fields. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "../unit/push_block_view_same.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!push_block_view_same(data, size))
        abort();
    if (size == 0 || size > 4096)
        return 0;
    uint8_t *copy = malloc(size);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[0] = BLOCKMSG_PUSH_BLOCK_STREAM;
    if (!push_block_view_same(copy, size))
        abort();
    free(copy);
    return 0;
}

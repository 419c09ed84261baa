/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the push-based shuffle replies libshuffle decodes from a server
 * (client/mapsets.c through CRoaring): the first byte picks a MergedBlockMetaSuccess body
 * (numChunks + chunk bitmaps back to back) or an RPC body (MergeStatuses, with any other
 * BlockTransferMessage refused); whatever decodes must hold exactly the values it claims
 * (ascending map indices, parallel arrays). */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/mapsets.h"
#include "proto/blockmsg.h"

static void check_sets(const struct shuffle_map_sets *s)
{
    for (size_t i = 0; i < s->count; i++)
        for (size_t k = 1; k < s->sizes[i]; k++)
            if (s->map_indices[i][k] <= s->map_indices[i][k - 1])
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    if (size < 1)
        return 0;
    if (data[0] & 1) {
        struct shuffle_map_sets *chunks = mapsets_meta_reply(data + 1, size - 1, err, sizeof err);
        if (chunks)
            check_sets(chunks);
        free(chunks);
        return 0;
    }
    struct blockmsg m;
    memset(&m, 0, sizeof m);
    if (blockmsg_decode(data + 1, size - 1, &m, err, sizeof err) == 0 &&
        m.type == BLOCKMSG_MERGE_STATUSES) {
        struct shuffle_merge_statuses *ms = mapsets_statuses(&m, err, sizeof err);
        if (ms) {
            if (ms->num_partitions != ms->maps.count)
                abort();
            check_sets(&ms->maps);
        }
        free(ms);
    }
    blockmsg_free(&m);
    return 0;
}

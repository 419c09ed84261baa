/* SPDX-License-Identifier: Apache-2.0 */
/* See merge_bitmap.h. */
#include <config.h>

#include "server/push/merge_bitmap.h"

#include <roaring/containers/containers.h>
#include <roaring/containers/convert.h>
#include <stdlib.h>

/* Java converts an array container to runs only when 2*card > 2 + 4*runs; CRoaring already
 * when 2*card + 2 > 2 + 4*runs. So an array of 2*runs + 1 values that CRoaring turned into
 * runs goes back to an array (the only case where they differ; bitmaps agree). */
static void undo_runs_java_keeps(roaring_bitmap_t *b)
{
    roaring_array_t *ra = &b->high_low_container;
    for (int32_t i = 0; i < ra_get_size(ra); i++) {
        uint8_t type;
        void *c = ra_get_container_at_index(ra, (uint16_t)i, &type);
        if (type != RUN_CONTAINER_TYPE_CODE)
            continue;
        run_container_t *run = c;
        int32_t card = run_container_cardinality(run);
        if (card > DEFAULT_MAX_SIZE || 2 * card > 2 + 4 * run->n_runs)
            continue;
        uint8_t new_type;
        void *back = convert_to_bitset_or_array_container(run, card, &new_type);
        run_container_free(run);
        ra_set_container_at_index(ra, i, back, new_type);
    }
}

int merge_bitmap_serialize(roaring_bitmap_t *b, bool java_run_optimize, uint8_t **out, size_t *len)
{
    if (java_run_optimize) {
        roaring_bitmap_run_optimize(b);
        undo_runs_java_keeps(b);
    }
    size_t n = roaring_bitmap_portable_size_in_bytes(b);
    *out = malloc(n ? n : 1);
    if (!*out)
        return -1;
    *len = roaring_bitmap_portable_serialize(b, (char *)*out);
    return 0;
}

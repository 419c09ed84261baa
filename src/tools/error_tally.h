/* SPDX-License-Identifier: Apache-2.0 */
/* Distinct error messages with how often each occurred, so a tool reports a failure that
 * repeats a thousand times once, with its count. Not thread-safe: the caller locks. */
#ifndef SHUFFLE_TOOLS_ERROR_TALLY_H
#define SHUFFLE_TOOLS_ERROR_TALLY_H

#include <stdint.h>
#include <stdio.h>

#define ERROR_TALLY_KINDS 16 /* distinct messages kept; later new ones count as "other" */

struct error_tally {
    struct {
        char text[200];
        uint64_t count;
    } kinds[ERROR_TALLY_KINDS];
    int nkinds;
    uint64_t other;
};

/* Counts msg's first line, with block_id (if given and found in it) replaced by "<block>"
 * and numbers after '=' (Spark's "StreamChunkId[streamId=7,chunkIndex=0]") by "N", so that
 * the same failure of different blocks and requests is one kind. */
void error_tally_add(struct error_tally *t, const char *msg, const char *block_id);
/* One line per kind, most frequent first: "PREFIX: COUNT x TEXT". */
void error_tally_print(const struct error_tally *t, const char *prefix, FILE *out);

#endif

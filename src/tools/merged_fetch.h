/* SPDX-License-Identifier: Apache-2.0 */
/* shuffle-fetch's push-based shuffle side: merged partitions asked for as
 * shuffleMerged_S_M_R turned into their chunks (MergedBlockMetaRequest) and each chunk's
 * bytes checked against a manifest (a merged chunk is its maps' blocks of the partition,
 * in the order they were merged); and --diagnose's checksums for DiagnoseCorruption. */
#ifndef SHUFFLE_TOOLS_MERGED_FETCH_H
#define SHUFFLE_TOOLS_MERGED_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shuffle/client.h"
#include "tools/manifest_check.h"

struct merged_chunk {
    char *id; /* shuffleChunk_S_M_R_C */
    int shuffle, reduce;
    size_t num_maps;
    uint32_t *maps; /* the map indices whose blocks it holds */
};

struct merged_chunks {
    struct merged_chunk *c;
    size_t n;
};

/* Replaces every shuffleMerged_S_M_R in ids[0..*n) by the ids of its chunks, asking the
 * server for each partition's chunk maps. 0, or -1 with err (the server's answer). */
int merged_expand(shuffle_client *cl, const char *host, int port, const char *app, char ***ids,
                  size_t *n, struct merged_chunks *out, char *err, size_t errlen);
const struct merged_chunk *merged_find(const struct merged_chunks *m, const char *id);
void merged_chunks_free(struct merged_chunks *m);

/* Whether data is the concatenation, in some order, of the manifest's blocks
 * shuffle_S_<map>_R of the chunk's maps (map index = map id, as gen-shuffle-data writes). */
bool merged_verify(const struct mlist *man, const struct merged_chunk *c, const uint8_t *data,
                   uint64_t len, char *why, size_t whylen);

/* Spark's checksum of a block with algorithm ("ADLER32", "CRC32", "CRC32C"); false if unknown. The
 * value is the unsigned 32-bit checksum, as DiagnoseCorruption carries it. */
bool diagnose_checksum(const char *algorithm, const uint8_t *data, uint64_t len, int64_t *out);

#endif

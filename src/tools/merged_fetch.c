/* SPDX-License-Identifier: Apache-2.0 */
/* Merged partitions for shuffle-fetch: see merged_fetch.h. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/spark_checksum.h"
#include "shuffle/push.h"
#include "shuffle/sync.h"
#include "tools/merged_fetch.h"

static bool add_chunks(struct merged_chunks *out, char ***ids, size_t *n, size_t *cap, int shuffle,
                       int merge_id, int reduce, const struct shuffle_map_sets *sets)
{
    struct merged_chunk *grown = realloc(out->c, (out->n + sets->count + 1) * sizeof(*grown));
    if (!grown)
        return false;
    out->c = grown;
    for (size_t k = 0; k < sets->count; k++) {
        struct merged_chunk *c = &out->c[out->n++];
        memset(c, 0, sizeof(*c));
        if (asprintf(&c->id, "shuffleChunk_%d_%d_%d_%zu", shuffle, merge_id, reduce, k) < 0)
            return false;
        c->shuffle = shuffle;
        c->reduce = reduce;
        c->num_maps = sets->sizes[k];
        c->maps = malloc((c->num_maps + 1) * sizeof(uint32_t));
        if (!c->maps)
            return false;
        memcpy(c->maps, sets->map_indices[k], c->num_maps * sizeof(uint32_t));
        if (*n == *cap) {
            *cap = *cap * 2 + 16;
            char **more = realloc(*ids, *cap * sizeof(char *));
            if (!more)
                return false;
            *ids = more;
        }
        (*ids)[(*n)++] = strdup(c->id);
    }
    return true;
}

int merged_expand(shuffle_client *cl, const char *host, int port, const char *app, char ***ids,
                  size_t *n, struct merged_chunks *out, char *err, size_t errlen)
{
    char **in = *ids;
    size_t in_n = *n, cap = 0;
    *ids = NULL;
    *n = 0;
    int rc = 0;
    for (size_t i = 0; i < in_n; i++) {
        int shuffle, merge_id, reduce;
        char tail;
        if (rc == 0 &&
            sscanf(in[i], "shuffleMerged_%d_%d_%d%c", &shuffle, &merge_id, &reduce, &tail) == 3) {
            struct shuffle_map_sets *sets = NULL;
            if (shuffle_fetch_merged_meta_sync(cl, host, port, app, shuffle, merge_id, reduce,
                                               &sets) != SHUFFLE_OK) {
                snprintf(err, errlen, "%s: %s", in[i], shuffle_last_error(cl));
                rc = -1;
            } else if (!add_chunks(out, ids, n, &cap, shuffle, merge_id, reduce, sets)) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
            }
            free(sets);
        } else if (rc == 0) {
            if (*n == cap) {
                cap = cap * 2 + 16;
                *ids = realloc(*ids, cap * sizeof(char *));
            }
            (*ids)[(*n)++] = in[i];
            in[i] = NULL;
        }
        free(in[i]);
    }
    free(in);
    return rc;
}

const struct merged_chunk *merged_find(const struct merged_chunks *m, const char *id)
{
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->c[i].id, id))
            return &m->c[i];
    return NULL;
}

void merged_chunks_free(struct merged_chunks *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->c[i].id);
        free(m->c[i].maps);
    }
    free(m->c);
    memset(m, 0, sizeof(*m));
}

bool merged_verify(const struct mlist *man, const struct merged_chunk *c, const uint8_t *data,
                   uint64_t len, char *why, size_t whylen)
{
    bool *used = calloc(c->num_maps + 1, 1);
    uint64_t at = 0;
    size_t matched = 0;
    /* At each offset, the one unused map whose block has that size and crc32 there. */
    while (used && matched < c->num_maps) {
        bool found = false;
        for (size_t k = 0; k < c->num_maps && !found; k++) {
            char id[96];
            snprintf(id, sizeof(id), "shuffle_%d_%u_%d", c->shuffle, c->maps[k], c->reduce);
            const struct mblock *b = mlist_find(man, id);
            if (used[k] || !b || !b->has_crc || b->size > len - at)
                continue;
            if ((uint32_t)crc32(0, data + at, (uInt)b->size) == b->crc32) {
                used[k] = found = true;
                at += b->size;
                matched++;
            }
        }
        if (!found)
            break;
    }
    free(used);
    if (matched == c->num_maps && at == len)
        return true;
    snprintf(why, whylen,
             "%zu bytes are not the blocks of maps of this chunk: %zu of %zu maps matched, "
             "up to byte %llu",
             (size_t)len, matched, c->num_maps, (unsigned long long)at);
    return false;
}

bool diagnose_checksum(const char *algorithm, const uint8_t *data, uint64_t len, int64_t *out)
{
    enum spark_checksum_algo algo = spark_checksum_algo_of(algorithm);
    if (algo == SPARK_CHECKSUM_UNSUPPORTED)
        return false;
    *out = (int64_t)spark_checksum_update(algo, spark_checksum_start(algo), data, (size_t)len);
    return true;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Spark's block-id grouping for FetchShuffleBlocks: see blockids.h. */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/blockids.h"

bool blockids_all_shuffle(const char *const *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strncmp(ids[i], "shuffle_", 8) != 0)
            return false;
    return true;
}

/* Java's Long.parseLong / Integer.parseInt on one '_'-separated part. */
static bool parse_num(const char *s, size_t len, int64_t lo, int64_t hi, int64_t *out)
{
    char buf[32];
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = 0;
    const char *p = buf;
    if (*p == '+' || *p == '-')
        p++;
    if (!*p)
        return false;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return false;
    errno = 0;
    long long v = strtoll(buf, NULL, 10);
    if (errno || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* Splits "shuffle_S_M_R[_E]" into its numbers; returns the number of parts (4 or
 * 5) or -1 when the id is not of that shape. */
static int split_id(const char *id, int64_t v[4])
{
    const char *parts[6];
    size_t lens[6];
    int np = 0;
    const char *s = id;
    for (;;) {
        const char *u = strchr(s, '_');
        if (np == 6)
            return -1;
        parts[np] = s;
        lens[np] = u ? (size_t)(u - s) : strlen(s);
        np++;
        if (!u)
            break;
        s = u + 1;
    }
    if ((np != 4 && np != 5) || lens[0] != 7 || strncmp(parts[0], "shuffle", 7) != 0)
        return -1;
    if (!parse_num(parts[1], lens[1], INT32_MIN, INT32_MAX, &v[0]) ||
        !parse_num(parts[2], lens[2], INT64_MIN, INT64_MAX, &v[1]) ||
        !parse_num(parts[3], lens[3], INT32_MIN, INT32_MAX, &v[2]))
        return -1;
    if (np == 5 && !parse_num(parts[4], lens[4], INT32_MIN, INT32_MAX, &v[3]))
        return -1;
    return np;
}

struct group {
    int64_t key;
    size_t first; /* index into the member list */
    size_t count;
    size_t last;
};

/* Groups n keys in order of first appearance: groups[] (returned count) and, per
 * member, the next member of its group (member_next). An open-addressing map key ->
 * group keeps it O(n). -1 on OOM. */
static long group_by_key(const int64_t *keys, size_t n, struct group *groups, size_t *member_next)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    size_t *slots = malloc(cap * sizeof(size_t));
    if (!slots)
        return -1;
    for (size_t i = 0; i < cap; i++)
        slots[i] = SIZE_MAX;
    size_t ngroups = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t h = (uint64_t)keys[i] * 0x9E3779B97F4A7C15ULL;
        size_t k = (size_t)(h >> 17) & (cap - 1);
        while (slots[k] != SIZE_MAX && groups[slots[k]].key != keys[i])
            k = (k + 1) & (cap - 1);
        if (slots[k] == SIZE_MAX) {
            slots[k] = ngroups;
            groups[ngroups] = (struct group){.key = keys[i], .first = i, .last = i, .count = 1};
            ngroups++;
        } else {
            struct group *g = &groups[slots[k]];
            member_next[g->last] = i;
            g->last = i;
            g->count++;
        }
    }
    free(slots);
    return (long)ngroups;
}

/* The request's app and executor ids: 0, or -1 with err. */
static int set_app_exec(struct proto_bytes *app, struct proto_bytes *exec, const char *app_id,
                        const char *exec_id, char *err, size_t errlen)
{
    if (proto_bytes_set_str(app, app_id) && proto_bytes_set_str(exec, exec_id))
        return 0;
    snprintf(err, errlen, "out of memory");
    return -1;
}

int blockids_plan_fetch_shuffle(const char *app_id, const char *exec_id, const char *const *ids,
                                size_t n, struct blockmsg *m, size_t *chunk_order, char *err,
                                size_t errlen)
{
    memset(m, 0, sizeof(*m));
    m->type = BLOCKMSG_FETCH_SHUFFLE_BLOCKS;
    if (n == 0) {
        snprintf(err, errlen, "Zero-sized blockIds array");
        return -1;
    }
    int64_t(*vals)[4] = calloc(n, sizeof(*vals));
    int64_t *map_keys = calloc(n, sizeof(int64_t));
    size_t *member_next = calloc(n, sizeof(size_t));
    struct group *groups = calloc(n, sizeof(*groups));
    long ngroups = 0;
    int rc = -1;
    if (!vals || !map_keys || !member_next || !groups) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    int first_parts = 0;
    for (size_t i = 0; i < n; i++) {
        int np = split_id(ids[i], vals[i]);
        if (i == 0)
            first_parts = np;
        if (np < 0 || (first_parts == 5 && np != 5)) {
            snprintf(err, errlen, "Unexpected shuffle block id format: %s", ids[i]);
            goto out;
        }
        if (vals[i][0] != vals[0][0]) {
            snprintf(err, errlen, "Expected shuffleId=%lld, got:%s", (long long)vals[0][0], ids[i]);
            goto out;
        }
        map_keys[i] = vals[i][1];
    }
    if ((ngroups = group_by_key(map_keys, n, groups, member_next)) < 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    bool batch = first_parts == 5;
    struct proto_long_array *map_ids = &m->u.fetch_shuffle_blocks.map_ids;
    struct proto_int_matrix *reduce = &m->u.fetch_shuffle_blocks.reduce_ids;
    map_ids->items = calloc((size_t)ngroups, sizeof(int64_t));
    reduce->rows = calloc((size_t)ngroups, sizeof(*reduce->rows));
    if (!map_ids->items || !reduce->rows) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    map_ids->count = (uint32_t)ngroups;
    reduce->count = (uint32_t)ngroups;
    size_t chunk = 0;
    for (size_t g = 0; g < (size_t)ngroups; g++) {
        map_ids->items[g] = groups[g].key;
        size_t width = batch ? 2 : 1;
        struct proto_int_array *row = &reduce->rows[g];
        row->items = calloc(groups[g].count * width, sizeof(int32_t));
        if (!row->items) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        row->count = (uint32_t)(groups[g].count * width);
        size_t i = groups[g].first;
        for (size_t j = 0; j < groups[g].count; j++, i = member_next[i]) {
            row->items[j * width] = (int32_t)vals[i][2];
            if (batch)
                row->items[j * width + 1] = (int32_t)vals[i][3];
            chunk_order[chunk++] = i;
        }
    }
    m->u.fetch_shuffle_blocks.shuffle_id = (int32_t)vals[0][0];
    m->u.fetch_shuffle_blocks.batch_fetch_enabled = batch;
    rc = set_app_exec(&m->u.fetch_shuffle_blocks.app_id, &m->u.fetch_shuffle_blocks.exec_id, app_id,
                      exec_id, err, errlen);
out:
    if (rc != 0)
        blockmsg_free(m);
    free(vals);
    free(map_keys);
    free(member_next);
    free(groups);
    return rc;
}

int blockids_open_blocks(const char *app_id, const char *exec_id, const char *const *ids, size_t n,
                         struct blockmsg *m)
{
    memset(m, 0, sizeof(*m));
    m->type = BLOCKMSG_OPEN_BLOCKS;
    struct proto_string_array *a = &m->u.open_blocks.block_ids;
    a->items = calloc(n ? n : 1, sizeof(*a->items));
    if (!a->items)
        return -1;
    a->count = (uint32_t)n;
    bool ok = proto_bytes_set_str(&m->u.open_blocks.app_id, app_id) &&
              proto_bytes_set_str(&m->u.open_blocks.exec_id, exec_id);
    for (size_t i = 0; ok && i < n; i++)
        ok = proto_bytes_set_str(&a->items[i], ids[i]);
    if (!ok) {
        blockmsg_free(m);
        return -1;
    }
    return 0;
}

bool blockids_all_chunks(const char *const *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strncmp(ids[i], "shuffleChunk_", 13) != 0)
            return false;
    return n > 0;
}

/* "shuffleChunk_S_M_R_C" into S, M, R, C. */
static bool split_chunk_id(const char *id, int64_t v[4])
{
    const char *p = id + 13;
    for (int k = 0; k < 4; k++) {
        const char *u = k < 3 ? strchr(p, '_') : p + strlen(p);
        if (!u || !parse_num(p, (size_t)(u - p), INT32_MIN, INT32_MAX, &v[k]))
            return false;
        p = u + 1;
    }
    return true;
}

int blockids_plan_fetch_chunks(const char *app_id, const char *exec_id, const char *const *ids,
                               size_t n, struct blockmsg *m, size_t *chunk_order, char *err,
                               size_t errlen)
{
    memset(m, 0, sizeof(*m));
    m->type = BLOCKMSG_FETCH_SHUFFLE_BLOCK_CHUNKS;
    int64_t(*vals)[4] = calloc(n + 1, sizeof(*vals));
    int64_t *reduce_keys = calloc(n + 1, sizeof(int64_t));
    size_t *member_next = calloc(n + 1, sizeof(size_t));
    struct group *groups = calloc(n + 1, sizeof(*groups));
    int rc = -1;
    long ngroups = -1;
    if (!vals || !reduce_keys || !member_next || !groups) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (!split_chunk_id(ids[i], vals[i])) {
            snprintf(err, errlen, "Unexpected shuffle chunk id format: %s", ids[i]);
            goto out;
        }
        if (vals[i][0] != vals[0][0] || vals[i][1] != vals[0][1]) {
            bool shuffle = vals[i][0] != vals[0][0];
            snprintf(err, errlen, "Expected %s=%lld, got:%s",
                     shuffle ? "shuffleId" : "shuffleMergeId", (long long)vals[0][shuffle ? 0 : 1],
                     ids[i]);
            goto out;
        }
        reduce_keys[i] = vals[i][2];
    }
    if ((ngroups = group_by_key(reduce_keys, n, groups, member_next)) < 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    struct proto_int_array *reduce_ids = &m->u.fetch_shuffle_block_chunks.reduce_ids;
    struct proto_int_matrix *chunk_ids = &m->u.fetch_shuffle_block_chunks.chunk_ids;
    reduce_ids->items = calloc((size_t)ngroups + 1, sizeof(int32_t));
    chunk_ids->rows = calloc((size_t)ngroups + 1, sizeof(*chunk_ids->rows));
    if (!reduce_ids->items || !chunk_ids->rows) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    reduce_ids->count = chunk_ids->count = (uint32_t)ngroups;
    size_t chunk = 0;
    for (size_t g = 0; g < (size_t)ngroups; g++) {
        reduce_ids->items[g] = (int32_t)groups[g].key;
        struct proto_int_array *row = &chunk_ids->rows[g];
        if (!(row->items = calloc(groups[g].count, sizeof(int32_t)))) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        row->count = (uint32_t)groups[g].count;
        size_t i = groups[g].first;
        for (size_t j = 0; j < groups[g].count; j++, i = member_next[i]) {
            row->items[j] = (int32_t)vals[i][3];
            chunk_order[chunk++] = i;
        }
    }
    m->u.fetch_shuffle_block_chunks.shuffle_id = (int32_t)vals[0][0];
    m->u.fetch_shuffle_block_chunks.shuffle_merge_id = (int32_t)vals[0][1];
    rc = set_app_exec(&m->u.fetch_shuffle_block_chunks.app_id,
                      &m->u.fetch_shuffle_block_chunks.exec_id, app_id, exec_id, err, errlen);
out:
    if (rc != 0)
        blockmsg_free(m);
    free(vals);
    free(reduce_keys);
    free(member_next);
    free(groups);
    return rc;
}

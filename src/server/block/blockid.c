/* SPDX-License-Identifier: Apache-2.0 */
/* Strict block-id grammar; see blockid.h. */
#include <config.h>

#include "server/block/blockid.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define MAX_PARTS 8

struct part {
    const char *p;
    size_t len;
};

/* Splits on '_' like Java's String.split("_"): trailing empty parts are
 * dropped. Returns the part count, or MAX_PARTS + 1 if there are more. */
static size_t split_parts(const char *s, size_t len, struct part *parts)
{
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '_') {
            if (n == MAX_PARTS)
                return MAX_PARTS + 1;
            parts[n].p = s + start;
            parts[n].len = i - start;
            n++;
            start = i + 1;
        }
    }
    while (n > 0 && parts[n - 1].len == 0)
        n--;
    return n;
}

static bool parse_decimal(const struct part *pt, int64_t max, int64_t *out)
{
    if (pt->len == 0 || pt->len > 19)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < pt->len; i++) {
        char c = pt->p[i];
        if (c < '0' || c > '9')
            return false;
        int d = c - '0';
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool part_is(const struct part *pt, const char *word)
{
    size_t n = strlen(word);
    return pt->len == n && memcmp(pt->p, word, n) == 0;
}

static void number_error(const struct part *pt, char *err, size_t errlen)
{
    snprintf(err, errlen, "java.lang.NumberFormatException: For input string: \"%.*s\"",
             (int)pt->len, pt->p);
}

/* Parses the numeric fields of a split id; limits[i] is the max of field i. */
static int parse_fields(const struct part *parts, size_t n, const int64_t *limits, int64_t *vals,
                        char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (!parse_decimal(&parts[i + 1], limits[i], &vals[i])) {
            number_error(&parts[i + 1], err, errlen);
            return -1;
        }
    }
    return 0;
}

static bool id_chars_ok(const char *s, size_t len)
{
    if (len == 0 || len > BLOCKID_MAX_LEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return false;
    return true;
}

int block_id_parse(const char *s, size_t len, struct block_id *out, char *err, size_t errlen)
{
    struct part parts[MAX_PARTS];
    int64_t v[4];
    memset(out, 0, sizeof(*out));
    if (!id_chars_ok(s, len)) {
        snprintf(err, errlen,
                 "block id is empty, longer than %d bytes or holds non-printable bytes",
                 BLOCKID_MAX_LEN);
        return -1;
    }
    size_t n = split_parts(s, len, parts);
    /* A trailing '_' would be dropped by the split: refuse it outright. */
    if (s[len - 1] == '_' || n < 3 || n > 5) {
        snprintf(err, errlen, "Unexpected block id format: %.*s", (int)len, s);
        return -1;
    }
    if (n == 3 && part_is(&parts[0], "rdd")) {
        static const int64_t lim[2] = {INT32_MAX, INT32_MAX};
        if (parse_fields(parts, 2, lim, v, err, errlen) < 0)
            return -1;
        out->kind = BLOCK_RDD;
        out->rdd_id = (int32_t)v[0];
        out->split_index = (int32_t)v[1];
        return 0;
    }
    if ((n == 4 || n == 5) && part_is(&parts[0], "shuffle")) {
        static const int64_t lim[4] = {INT32_MAX, INT64_MAX, INT32_MAX, INT32_MAX};
        if (parse_fields(parts, n - 1, lim, v, err, errlen) < 0)
            return -1;
        out->kind = n == 4 ? BLOCK_SHUFFLE : BLOCK_SHUFFLE_BATCH;
        out->shuffle_id = (int32_t)v[0];
        out->map_id = v[1];
        out->reduce_id = (int32_t)v[2];
        if (n == 5) {
            out->end_reduce = (int32_t)v[3];
            if (out->end_reduce < out->reduce_id) {
                snprintf(err, errlen, "batch block id with end < start: %.*s", (int)len, s);
                return -1;
            }
        }
        return 0;
    }
    snprintf(err, errlen, "Unexpected block id format: %.*s", (int)len, s);
    return -1;
}

#define IAE "java.lang.IllegalArgumentException: "

int block_ids_parse_open(const char *const *ids, const size_t *lens, size_t count, bool allow_rdd,
                         struct block_id *out, char *err, size_t errlen)
{
    struct part parts[MAX_PARTS];
    if (count == 0) {
        snprintf(err, errlen, "java.lang.ArrayIndexOutOfBoundsException: 0");
        return -1;
    }
    size_t n0 = split_parts(ids[0], lens[0], parts);
    bool shuffle = n0 == 4 && part_is(&parts[0], "shuffle");
    bool rdd = n0 == 3 && part_is(&parts[0], "rdd");
    if ((!shuffle && !rdd) || !id_chars_ok(ids[0], lens[0])) {
        snprintf(err, errlen, IAE "Unexpected block id format: %.*s", (int)lens[0], ids[0]);
        return -1;
    }
    if (rdd && !allow_rdd) {
        snprintf(err, errlen,
                 "java.lang.UnsupportedOperationException: fetching RDD blocks is disabled on this "
                 "shuffle service (fetch_rdd_enabled=false): %.*s",
                 (int)lens[0], ids[0]);
        return -1;
    }
    int64_t first_shuffle = -1;
    for (size_t i = 0; i < count; i++) {
        const char *s = ids[i];
        size_t len = lens[i];
        size_t n = split_parts(s, len, parts);
        bool ok = id_chars_ok(s, len) && s[len - 1] != '_';
        int64_t v[3];
        if (shuffle) {
            if (!ok || n != 4 || !part_is(&parts[0], "shuffle")) {
                snprintf(err, errlen, IAE "Unexpected shuffle block id format: %.*s", (int)len, s);
                return -1;
            }
            static const int64_t lim[3] = {INT32_MAX, INT32_MAX, INT32_MAX};
            if (parse_fields(parts, 3, lim, v, err, errlen) < 0)
                return -1;
            if (i == 0)
                first_shuffle = v[0];
            if (v[0] != first_shuffle) {
                snprintf(err, errlen, IAE "Expected shuffleId=%" PRId64 ", got:%.*s", first_shuffle,
                         (int)len, s);
                return -1;
            }
            out[i] = (struct block_id){.kind = BLOCK_SHUFFLE,
                                       .shuffle_id = (int32_t)v[0],
                                       .map_id = v[1],
                                       .reduce_id = (int32_t)v[2]};
        } else {
            if (!ok || n != 3 || !part_is(&parts[0], "rdd")) {
                snprintf(err, errlen, IAE "Unexpected RDD block id format: %.*s", (int)len, s);
                return -1;
            }
            static const int64_t lim[2] = {INT32_MAX, INT32_MAX};
            if (parse_fields(parts, 2, lim, v, err, errlen) < 0)
                return -1;
            out[i] = (struct block_id){
                .kind = BLOCK_RDD, .rdd_id = (int32_t)v[0], .split_index = (int32_t)v[1]};
        }
    }
    return 0;
}

bool block_id_is_chunk(const char *s, size_t len)
{
    struct part parts[MAX_PARTS];
    return split_parts(s, len, parts) == 5 && part_is(&parts[0], "shuffleChunk");
}

int block_ids_parse_chunks(const char *const *ids, const size_t *lens, size_t count,
                           int32_t *shuffle_id, int32_t *merge_id, int32_t *pairs, char *err,
                           size_t errlen)
{
    struct part parts[MAX_PARTS];
    static const int64_t lim[4] = {INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX};
    int64_t v[4];
    if (count == 0 || !block_id_is_chunk(ids[0], lens[0])) {
        snprintf(err, errlen, IAE "Unexpected block id format: %.*s", count ? (int)lens[0] : 0,
                 count ? ids[0] : "");
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        const char *s = ids[i];
        size_t len = lens[i];
        size_t n = split_parts(s, len, parts);
        if (!id_chars_ok(s, len) || s[len - 1] == '_' || n != 5 ||
            !part_is(&parts[0], "shuffleChunk")) {
            snprintf(err, errlen, IAE "Unexpected shuffle chunk id format: %.*s", (int)len, s);
            return -1;
        }
        if (parse_fields(parts, 4, lim, v, err, errlen) < 0)
            return -1;
        if (i == 0) {
            *shuffle_id = (int32_t)v[0];
            *merge_id = (int32_t)v[1];
        } else if (v[0] != *shuffle_id || v[1] != *merge_id) {
            snprintf(err, errlen,
                     IAE "Expected shuffleId = %" PRId32 " and shuffleMergeId = %" PRId32
                         " but got %.*s",
                     *shuffle_id, *merge_id, (int)len, s);
            return -1;
        }
        pairs[2 * i] = (int32_t)v[2];
        pairs[2 * i + 1] = (int32_t)v[3];
    }
    return 0;
}

void block_index_file_name(int32_t shuffle_id, int64_t map_id, char *buf, size_t buflen)
{
    snprintf(buf, buflen, "shuffle_%" PRId32 "_%" PRId64 "_0.index", shuffle_id, map_id);
}

void block_data_file_name(int32_t shuffle_id, int64_t map_id, char *buf, size_t buflen)
{
    snprintf(buf, buflen, "shuffle_%" PRId32 "_%" PRId64 "_0.data", shuffle_id, map_id);
}

void block_rdd_file_name(int32_t rdd_id, int32_t split_index, char *buf, size_t buflen)
{
    snprintf(buf, buflen, "rdd_%" PRId32 "_%" PRId32, rdd_id, split_index);
}

bool file_name_is_safe(const char *s, size_t len)
{
    if (!id_chars_ok(s, len))
        return false;
    if (memchr(s, '/', len) || memchr(s, '\\', len))
        return false;
    return !(len == 1 && s[0] == '.') && !(len == 2 && s[0] == '.' && s[1] == '.');
}

bool id_is_safe(const char *s, size_t len)
{
    return file_name_is_safe(s, len);
}

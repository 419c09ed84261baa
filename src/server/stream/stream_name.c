/* SPDX-License-Identifier: Apache-2.0 */
/* See stream_name.h. */
#include <config.h>

#include "server/stream/stream_name.h"

#include <stdbool.h>
#include <stdio.h>

/* Java's Long.parseLong / Integer.parseInt on [p, p+n): optional sign, decimal digits. */
static bool parse_java_long(const char *p, size_t n, int64_t min, int64_t max, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (n > 0 && (p[0] == '-' || p[0] == '+')) {
        neg = p[0] == '-';
        i = 1;
    }
    if (i == n)
        return false;
    uint64_t limit = neg ? (uint64_t)(-(min + 1)) + 1 : (uint64_t)max;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        uint64_t d = (uint64_t)(p[i] - '0');
        if (v > (limit - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* Splits "<streamId>_<chunkIndex>" as Java's split("_") then parseLong/parseInt do (trailing
 * empty parts are dropped; extra parts ignored). Returns -1 with Java's text in err. */
int stream_name_parse(const char *name, size_t len, int64_t *sid, int32_t *idx, char *err,
                      size_t errlen)
{
    const char *part[2] = {name, NULL};
    size_t plen[2] = {0, 0};
    size_t nparts = 0, last_nonempty = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || name[i] == '_') {
            if (nparts < 2) {
                part[nparts] = name + start;
                plen[nparts] = i - start;
            }
            nparts++;
            if (i > start)
                last_nonempty = nparts;
            start = i + 1;
        }
    }
    size_t count = len == 0 ? 1 : last_nonempty;
    if (count < 2) {
        snprintf(err, errlen,
                 "java.lang.ArrayIndexOutOfBoundsException: Index %zu out of bounds for length %zu",
                 count, count);
        return -1;
    }
    int64_t v;
    for (int k = 0; k < 2; k++) {
        bool ok = k == 0 ? parse_java_long(part[0], plen[0], INT64_MIN, INT64_MAX, sid)
                         : parse_java_long(part[1], plen[1], INT32_MIN, INT32_MAX, &v);
        if (!ok) {
            snprintf(err, errlen, "java.lang.NumberFormatException: For input string: \"%.*s\"",
                     (int)plen[k], part[k]);
            return -1;
        }
    }
    *idx = (int32_t)v;
    return 0;
}

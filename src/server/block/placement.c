/* SPDX-License-Identifier: Apache-2.0 */
/* Spark's file placement; see placement.h. */
#include <config.h>

#include "server/block/placement.h"

#include <stdio.h>
#include <string.h>

/* Decodes one UTF-8 sequence at s[*i]; returns the code point (U+FFFD on a
 * malformed sequence, consuming one byte). */
static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *i)
{
    unsigned char c = s[*i];
    uint32_t cp;
    size_t need;
    if (c < 0x80) {
        (*i)++;
        return c;
    } else if ((c & 0xe0) == 0xc0) {
        cp = c & 0x1f;
        need = 1;
    } else if ((c & 0xf0) == 0xe0) {
        cp = c & 0x0f;
        need = 2;
    } else if ((c & 0xf8) == 0xf0) {
        cp = c & 0x07;
        need = 3;
    } else {
        (*i)++;
        return 0xfffd;
    }
    if (*i + need >= len) {
        (*i)++;
        return 0xfffd;
    }
    for (size_t k = 1; k <= need; k++) {
        if ((s[*i + k] & 0xc0) != 0x80) {
            (*i)++;
            return 0xfffd;
        }
        cp = (cp << 6) | (s[*i + k] & 0x3f);
    }
    static const uint32_t min_cp[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[need] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        (*i)++;
        return 0xfffd;
    }
    *i += need + 1;
    return cp;
}

int32_t java_string_hash(const char *utf8, size_t len)
{
    const unsigned char *s = (const unsigned char *)utf8;
    uint32_t h = 0;
    size_t i = 0;
    while (i < len) {
        uint32_t cp = utf8_next(s, len, &i);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            h = h * 31u + (0xd800u + (cp >> 10));
            h = h * 31u + (0xdc00u + (cp & 0x3ff));
        } else {
            h = h * 31u + cp;
        }
    }
    return (int32_t)h;
}

int32_t non_negative_hash(int32_t h)
{
    if (h == INT32_MIN)
        return 0;
    return h < 0 ? -h : h;
}

void placement_of(const char *name, size_t len, uint32_t n_dirs, int32_t sub_dirs,
                  uint32_t *dir_index, uint32_t *subdir)
{
    uint32_t nn = (uint32_t)non_negative_hash(java_string_hash(name, len));
    *dir_index = nn % n_dirs;
    *subdir = (nn / n_dirs) % (uint32_t)sub_dirs;
}

int placement_path(const char *const *dirs, uint32_t n_dirs, int32_t sub_dirs, const char *name,
                   char *buf, size_t buflen)
{
    if (n_dirs == 0 || sub_dirs <= 0)
        return -1;
    uint32_t d, sub;
    placement_of(name, strlen(name), n_dirs, sub_dirs, &d, &sub);
    const char *dir = dirs[d];
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/') /* Java's File drops a trailing slash */
        dl--;
    int n = snprintf(buf, buflen, "%.*s/%02x/%s", (int)dl, dir, sub, name);
    return n < 0 || (size_t)n >= buflen ? -1 : 0;
}

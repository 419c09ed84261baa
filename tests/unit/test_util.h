/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by the unit tests (header-only). */
#ifndef SHUFFLED_TEST_UTIL_H
#define SHUFFLED_TEST_UTIL_H

#include <check.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../check_main.h"
#include "../harness/fs.h"
#include "../harness/locate.h"

/* Parses "00 0a ff" (spaces, newlines and '|' ignored) into a malloc'd buffer. */
static inline uint8_t *test_hex(const char *hex, size_t *len)
{
    uint8_t *out = malloc(strlen(hex) / 2 + 1);
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        if (!isxdigit((unsigned char)*p))
            continue;
        int v = isdigit((unsigned char)*p) ? *p - '0' : tolower((unsigned char)*p) - 'a' + 10;
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    *len = n;
    return out;
}

#define ck_assert_mem_hex(buf, len, hex)                                                           \
    do {                                                                                           \
        size_t want_len_;                                                                          \
        uint8_t *want_ = test_hex(hex, &want_len_);                                                \
        ck_assert_uint_eq((len), want_len_);                                                       \
        ck_assert_mem_eq((buf), want_, want_len_);                                                 \
        free(want_);                                                                               \
    } while (0)

#endif

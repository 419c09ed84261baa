/* SPDX-License-Identifier: Apache-2.0 */
/* The DIGEST-MD5 challenge's cipher list; see sasl_offer.h. */
#include <config.h>

#include "server/net/sasl_offer.h"

#include <stdbool.h>
#include <string.h>

#define CIPHER_FIELD "cipher=\""

/* True when the comma-separated list [p, end) has the token "rc4" (not rc4-40, rc4-56). */
static bool has_rc4(const char *p, const char *end)
{
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        if (stop - p == 3 && memcmp(p, "rc4", 3) == 0)
            return true;
        p = stop + 1;
    }
    return false;
}

size_t sasl_offer_rc4_only(const char *s1, size_t len, char *out, size_t cap)
{
    size_t flen = sizeof CIPHER_FIELD - 1;
    const char *start = NULL;
    for (size_t i = 0; i + flen <= len; i++)
        if (memcmp(s1 + i, CIPHER_FIELD, flen) == 0 && (i == 0 || s1[i - 1] == ',')) {
            start = s1 + i + flen;
            break;
        }
    if (!start)
        return 0;
    const char *end = memchr(start, '"', len - (size_t)(start - s1));
    if (!end || !has_rc4(start, end))
        return 0;
    size_t head = (size_t)(start - s1), tail = len - (size_t)(end - s1);
    if (head + 3 + tail > cap)
        return 0;
    memcpy(out, s1, head);
    memcpy(out + head, "rc4", 3);
    memcpy(out + head + 3, end, tail);
    return head + 3 + tail;
}

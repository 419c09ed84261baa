/* SPDX-License-Identifier: Apache-2.0 */
/* tls_protocols: see tls_protocols.h. */
#include <config.h>

#include "server/net/tls_protocols.h"

#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

int tls_protocols_parse(const char *list, int *min, int *max, char *why, size_t whylen)
{
    static const struct {
        const char *name;
        int version;
    } known[] = {{"TLSv1.2", TLS1_2_VERSION}, {"TLSv1.3", TLS1_3_VERSION}};
    int lo = 0, hi = 0;
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        size_t k = 0;
        while (k < sizeof known / sizeof *known &&
               (strlen(known[k].name) != n || strncmp(p, known[k].name, n) != 0))
            k++;
        if (k == sizeof known / sizeof *known) {
            snprintf(why, whylen, "'%.*s' is not one of TLSv1.2, TLSv1.3", (int)n, p);
            return -1;
        }
        int v = known[k].version;
        lo = lo == 0 || v < lo ? v : lo;
        hi = v > hi ? v : hi;
        p += n;
        if (*p == ',')
            p++;
    }
    if (lo == 0) {
        snprintf(why, whylen, "names no protocol (TLSv1.2, TLSv1.3)");
        return -1;
    }
    if (min)
        *min = lo;
    if (max)
        *max = hi;
    return 0;
}

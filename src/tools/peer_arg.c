/* SPDX-License-Identifier: Apache-2.0 */
/* "HOST:PORT" / "[V6]:PORT" command-line arguments of the client tools. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/peer_arg.h"

int peer_arg_parse(const char *arg, char *host, size_t hostlen, int *port, char *err, size_t errlen)
{
    const char *colon = strrchr(arg, ':');
    const char *h = arg;
    size_t hl = colon ? (size_t)(colon - arg) : 0;
    if (colon && arg[0] == '[' && hl >= 2 && arg[hl - 1] == ']') {
        h = arg + 1;
        hl -= 2;
    }
    char *end = NULL;
    long p = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!colon || hl == 0 || hl >= hostlen || !end || *end || p <= 0 || p > 65535) {
        snprintf(err, errlen, "'%s' is not HOST:PORT (e.g. 127.0.0.1:7337)", arg);
        return -1;
    }
    memcpy(host, h, hl);
    host[hl] = 0;
    *port = (int)p;
    return 0;
}

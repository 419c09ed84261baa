/* SPDX-License-Identifier: Apache-2.0 */
/* "HOST:PORT" / "[V6]:PORT" command-line arguments of the client tools. */
#ifndef SHUFFLE_TOOLS_PEER_ARG_H
#define SHUFFLE_TOOLS_PEER_ARG_H

#include <stddef.h>

int peer_arg_parse(const char *arg, char *host, size_t hostlen, int *port, char *err,
                   size_t errlen);

#endif

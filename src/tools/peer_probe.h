/* SPDX-License-Identifier: Apache-2.0 */
/* One TCP connect to the server before a tool starts: a port nobody listens on (or an
 * unreachable host) fails at once with the system's reason, instead of after libshuffle's
 * retries, which are kept for I/O failures once the server has been reached. */
#ifndef SHUFFLE_TOOLS_PEER_PROBE_H
#define SHUFFLE_TOOLS_PEER_PROBE_H

#include <stddef.h>

/* 0 if some address of host accepts a connection on port within timeout_ms; else -1 with
 * err holding "Failed to connect to HOST:PORT: <strerror>". */
int peer_probe(const char *host, int port, int timeout_ms, char *err, size_t errlen);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Per-peer connection pool (Spark's TransportClientFactory): the key is the
 * unresolved (host, port); each key has connections_per_peer slots and a request
 * picks one at random. An empty or dead slot gets a new connection, connected
 * asynchronously: requests queued on it meanwhile form the peer's outbox. */
#ifndef SHUFFLE_CLIENT_POOL_H
#define SHUFFLE_CLIENT_POOL_H

#include <stdbool.h>

#include "client/transport.h"

struct pool_config {
    int connections_per_peer; /* >= 1 */
    int connect_timeout_ms, request_timeout_ms;
    int retry_wait_ms; /* sets the fast-fail window */
};

/* env and cfg must outlive the pool. */
struct pool *pool_new(const struct tconn_env *env, const struct pool_config *cfg);
void pool_free(struct pool *p);
/* A live connection to host:port (borrowed: tconn_ref it to keep it past the
 * current loop callback). NULL only when out of memory or the pool is stopped.
 * fast_fail (Spark's, for callers that retry): when a new connection is needed and
 * the last connect to this peer failed less than 0.95 x retry_wait_ms ago, the
 * connection returned is not connected at all and fails every request with
 * SHUFFLE_EIO "Connecting to <peer> failed in the last <ms> ms, fail this
 * connection directly". */
struct tconn *pool_get(struct pool *p, const char *host, int port, bool fast_fail);
/* From now on pool_get returns NULL (the client is shutting down). */
void pool_stop(struct pool *p);
/* Closes every pooled connection, failing their requests with status/why. */
void pool_close_all(struct pool *p, int status, const char *why);

#endif

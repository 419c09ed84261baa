/* Process-wide state of the daemon core, shared by the listener, workers and connections. */
#ifndef SHUFFLED_SERVER_SERVER_H
#define SHUFFLED_SERVER_SERVER_H

#include <stdatomic.h>
#include <stdint.h>

#include "server/config.h"
#include "server/handler.h"

struct worker;
struct blocking_pool;

struct server {
    const struct shuffled_config *cfg;
    struct rpc_handler *handler;
    struct blocking_pool *pool;
    struct worker **workers;
    int nworkers;
    atomic_uint_fast64_t chunks_in_flight; /* max_chunks_in_flight is checked against this */
    atomic_uint_fast32_t conns;            /* open connections, checked against max_connections */
};

#endif

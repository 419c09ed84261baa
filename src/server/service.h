/* The one service the daemon installs (block_handler.c in production, service_none.c on the
 * core branch, a test service in the test build). */
#ifndef SHUFFLED_SERVER_SERVICE_H
#define SHUFFLED_SERVER_SERVICE_H

#include <stddef.h>

#include "server/ops/config.h"
#include "server/net/handler.h"

/* Returns the handler to install, or NULL with err set (the daemon then exits with it).
 * cfg stays valid until after handler->destroy has run. */
struct rpc_handler *shuffle_service_create(const struct shuffled_config *cfg, char *err,
                                           size_t errlen);

/* SIGHUP: cfg (validated, restart-only keys already reset to the running values) is about to
 * become the current configuration; the service takes up what it caches from it (the allowed
 * local-dir roots) for every request that starts from now on. Returns 0, or -1 with err set:
 * the reload is then rejected and nothing changes. Called on the main thread; cfg stays
 * valid until after handler->destroy. Optional (a weak default does nothing). */
int shuffle_service_reload(struct rpc_handler *h, const struct shuffled_config *cfg, char *err,
                           size_t errlen);

#endif

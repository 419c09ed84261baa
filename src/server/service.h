/* SPDX-License-Identifier: Apache-2.0 */
/* The one service the daemon installs: block_handler.c in production, a test service in the
 * test build (each links its own shuffle_service_create). */
#ifndef SHUFFLED_SERVER_SERVICE_H
#define SHUFFLED_SERVER_SERVICE_H

#include <stddef.h>

#include "server/ops/config.h"
#include "server/net/handler.h"

/* Returns the handler to install, or NULL with err set (the daemon then exits with it).
 * cfg stays valid until after handler->destroy has run. */
struct rpc_handler *shuffle_service_create(const struct shuffled_config *cfg, char *err,
                                           size_t errlen);

#endif

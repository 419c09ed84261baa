/* Operations hooks of the installed shuffle service: admin actions (application/executor
 * removal, spec 9.5) for the admin HTTP endpoint, and its metrics. The block service
 * defines them (block_ops.c); without it weak defaults in ops_runtime.c do nothing and
 * the admin endpoints answer 501. */
#ifndef SHUFFLED_SERVER_SERVICE_ADMIN_H
#define SHUFFLED_SERVER_SERVICE_ADMIN_H

#include "server/ops/admin_http.h"
#include "server/net/handler.h"

/* The actions for handler h (made by shuffle_service_create), or NULL. The result must
 * stay valid until h is destroyed. */
const struct admin_actions *shuffle_service_admin_actions(struct rpc_handler *h);

/* Sets the service's gauges and mirrored counters (registered executors, index cache) in
 * metrics.h; called before each /metrics rendering and STATUS= line, from any thread. */
void shuffle_service_collect_metrics(struct rpc_handler *h);

#endif

/* Admin actions of the installed shuffle service (application/executor removal, spec 9.5)
 * for the admin HTTP endpoint. The block service defines this function; without it a
 * weak default in ops_runtime.c returns NULL and the endpoints answer 501. */
#ifndef SHUFFLED_SERVER_SERVICE_ADMIN_H
#define SHUFFLED_SERVER_SERVICE_ADMIN_H

#include "server/admin_http.h"
#include "server/handler.h"

/* The actions for handler h (made by shuffle_service_create), or NULL. The result must
 * stay valid until h is destroyed. */
const struct admin_actions *shuffle_service_admin_actions(struct rpc_handler *h);

#endif

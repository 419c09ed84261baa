/* SPDX-License-Identifier: Apache-2.0 */
/* Test-only service for tests/integration/shuffled-stall (main.c + this file):
 *   RpcRequest "S": blocks its worker's event loop until the file named by
 *                   $SHUFFLED_TEST_RELEASE exists (at most 30 s), then answers "ok";
 *   anything else:  RpcFailure.
 * It also installs admin actions (rpc_handler.admin_actions):
 * application "app-known" has 2 executors; any other id is unknown. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/service.h"
#include "server/ops/admin_http.h"
#include "server/net/handler.h"

static void stall_on_rpc(void *ctx, struct conn *c, struct rpc_reply *reply, const uint8_t *body,
                         size_t len)
{
    (void)ctx;
    (void)c;
    if (!reply)
        return;
    if (len == 1 && body[0] == 'S') {
        const char *release = getenv("SHUFFLED_TEST_RELEASE");
        for (int i = 0; i < 3000 && release && access(release, F_OK) != 0; i++)
            usleep(10000); /* deliberately on the event loop: this is the stuck loop */
        rpc_reply_ok(reply, (const uint8_t *)"ok", 2);
        return;
    }
    rpc_reply_fail(reply, "java.lang.UnsupportedOperationException: stall test service");
}

static const struct admin_actions *stall_admin_actions(void *ctx);
static struct rpc_handler stall_handler = {.on_rpc = stall_on_rpc,
                                           .admin_actions = stall_admin_actions};

struct rpc_handler *shuffle_service_create(const struct shuffled_config *cfg, char *err,
                                           size_t errlen)
{
    (void)cfg;
    (void)err;
    (void)errlen;
    return &stall_handler;
}

static int remove_app(void *ctx, const char *app, bool cleanup, char *msg, size_t msglen)
{
    (void)ctx;
    if (strcmp(app, "app-known") != 0) {
        snprintf(msg, msglen, "application %s has no registered executors", app);
        return -ENOENT;
    }
    snprintf(msg, msglen, "removed 2 executors of %s%s", app, cleanup ? " and their dirs" : "");
    return 0;
}

static const struct admin_actions stall_actions = {NULL, remove_app, NULL, NULL, NULL};

static const struct admin_actions *stall_admin_actions(void *ctx)
{
    (void)ctx;
    return &stall_actions;
}

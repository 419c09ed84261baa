/* The service used when no shuffle service is built in: every RPC fails, naming its type. */
#include <stdio.h>
#include <stdlib.h>

#include "server/service.h"

static void none_on_rpc(void *ctx, struct conn *c, struct rpc_reply *reply, const uint8_t *body,
                        size_t len)
{
    (void)ctx;
    (void)c;
    if (!reply)
        return; /* OneWayMessage: never answered */
    char why[160];
    snprintf(why, sizeof why,
             "java.lang.UnsupportedOperationException: no shuffle service installed "
             "(message type %d)",
             len > 0 ? body[0] : -1);
    rpc_reply_fail(reply, why);
}

static struct rpc_handler none_handler = {NULL, none_on_rpc, NULL};

struct rpc_handler *shuffle_service_create(const struct shuffled_config *cfg, char *err,
                                           size_t errlen)
{
    (void)cfg;
    (void)err;
    (void)errlen;
    return &none_handler;
}

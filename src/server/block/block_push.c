/* SPDX-License-Identifier: Apache-2.0 */
/* The block service's side of push-based shuffle's merging (push_enabled): the push service
 * over the application attempts the registrations gave (s->merge_apps, merge_registration.h),
 * its journal replayed at start; FinalizeShuffleMerge, RemoveShuffleMerge and UploadStream go
 * to it; a removed application takes its merge state and, with cleanup, its merged files
 * along; a newer attempt's registration the older attempt's. */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "server/block/block_service.h"
#include "server/ops/config.h"
#include "server/push/push_service.h"

static void on_upload(void *ctx, struct conn *c, const struct proto_msg *m)
{
    struct block_service *s = ctx;
    push_on_upload(s->push, c, m);
}

int block_push_start(struct block_service *s, const struct shuffled_config *cfg, char *err,
                     size_t errlen)
{
    if (!cfg->push_enabled)
        return 0;
    s->push = push_service_create(cfg, s->merge_apps);
    if (!s->push) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->handler.on_upload = on_upload;
    merge_manager_set_resolver(s->push->merges, s->res);
    char why[512];
    if (push_service_restore(s->push, cfg, why, sizeof why) != 0) {
        snprintf(err, errlen, "state_dir: %s", why);
        return -1;
    }
    return 0;
}

void block_push_stop(struct block_service *s)
{
    push_service_destroy(s->push);
    s->push = NULL;
}

bool block_push_rpc(struct block_service *s, struct conn *c, struct rpc_reply *reply,
                    const struct blockmsg *m)
{
    if (!s->push)
        return false;
    if (m->type == BLOCKMSG_FINALIZE_SHUFFLE_MERGE && reply) {
        push_finalize(s->push, c, reply, m);
        return true;
    }
    if (m->type == BLOCKMSG_REMOVE_SHUFFLE_MERGE && !reply) {
        push_remove_merge(s->push, c, m);
        return true;
    }
    return false;
}

void block_push_attempt_replaced(struct block_service *s, const char *app)
{
    if (s->push)
        merge_manager_attempt_replaced(s->push->merges, app);
}

void block_push_app_removed(struct block_service *s, const char *app, bool cleanup)
{
    if (!s->push)
        return;
    merge_manager_app_removed(s->push->merges, app, cleanup); /* then its merge dirs go */
}

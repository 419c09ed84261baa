/* SPDX-License-Identifier: Apache-2.0 */
/* The block service's side of push-based shuffle (push_enabled): registrations carrying merge
 * dirs feed the application attempts (merge_apps.h), at start too; FinalizeShuffleMerge,
 * RemoveShuffleMerge and UploadStream go to the push service; a removed application takes
 * its merge state and, with cleanup, its merged files along. */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "server/block/block_service.h"
#include "server/ops/config.h"
#include "server/push/push_service.h"

int block_push_registered(struct block_service *s, const char *app,
                          const struct executor_info *info, char *err, size_t errlen)
{
    struct merge_dirs dirs, replaced = {0};
    if (!s->push)
        return 0;
    enum merge_info got = merge_dirs_parse(info->shuffle_manager, info->local_dirs, info->n_dirs,
                                           info->sub_dirs, &dirs, err, errlen);
    if (got != MERGE_INFO_OK)
        return got == MERGE_INFO_INVALID ? -1 : 0;
    int rc = merge_apps_register(s->push->attempts, app, &dirs, &replaced);
    if (rc < 0)
        snprintf(err, errlen, "java.lang.OutOfMemoryError: merge dirs of %s", app);
    merge_dirs_free(&dirs);
    merge_dirs_free(&replaced); /* its merged files go when the merge state notices */
    return rc < 0 ? -1 : 0;
}

static void restore_one(void *arg, const char *app, const char *exec,
                        const struct executor_info *info)
{
    char err[512];
    if (block_push_registered(arg, app, info, err, sizeof err) < 0)
        log_warn("restored executor %s of %s: no merge dirs: %s", exec, app, err);
}

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
    s->push = push_service_create(cfg);
    if (!s->push) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->handler.on_upload = on_upload;
    merge_manager_set_resolver(s->push->merges, s->res);
    resolver_foreach(s->res, restore_one, s);
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

void block_push_app_removed(struct block_service *s, const char *app, bool cleanup)
{
    if (!s->push)
        return;
    merge_manager_app_removed(s->push->merges, app, cleanup);
    merge_apps_remove(s->push->attempts, app, NULL);
}

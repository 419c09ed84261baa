/* SPDX-License-Identifier: Apache-2.0 */
/* Registrations into merge dirs; see merge_registration.h. */
#include <config.h>

#include "server/push/merge_registration.h"

#include <stdbool.h>
#include <stdio.h>

#include "common/log.h"
#include "server/block/resolver.h"
#include "server/push/merge_apps.h"
#include "server/push/merged_layout.h"

int merge_registration_note(struct merge_apps *t, const char *app, const struct executor_info *info,
                            char *err, size_t errlen)
{
    struct merge_dirs dirs, replaced;
    enum merge_info rc = merge_dirs_parse(info->shuffle_manager, info->local_dirs, info->n_dirs,
                                          info->sub_dirs, &dirs, err, errlen);
    if (rc == MERGE_INFO_INVALID)
        return -1;
    if (rc == MERGE_INFO_NONE) {
        if (err[0]) /* Spark logs it and registers the executor without push */
            log_warn("RegisterExecutor(appId=%s): %s; push-based shuffle off for it", app, err);
        return 0;
    }
    int r = merge_apps_register(t, app, &dirs, &replaced);
    if (r < 0)
        snprintf(err, errlen, "java.lang.OutOfMemoryError: merge dirs");
    if (r > 0 && replaced.n_dirs)
        log_info("application %s: attempt %d replaces attempt %d for push-based shuffle", app,
                 dirs.attempt_id, replaced.attempt_id);
    bool newer = r > 0 && replaced.n_dirs > 0;
    merge_dirs_free(&replaced);
    merge_dirs_free(&dirs);
    return r < 0 ? -1 : newer ? 1 : 0;
}

static void replay_one(void *arg, const char *app, const char *exec,
                       const struct executor_info *info)
{
    char err[600] = "";
    if (merge_registration_note(arg, app, info, err, sizeof err) < 0)
        log_warn("registration of executor %s of %s: %s; no merge dirs from it", exec, app, err);
}

void merge_registration_replay(struct merge_apps *t, struct resolver *r)
{
    resolver_foreach(r, replay_one, t);
}

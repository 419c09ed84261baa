/* SPDX-License-Identifier: Apache-2.0 */
/* Push-based shuffle's part of the shuffle service (docs/push.md): the merge manager and
 * what the connection side needs to feed it. Created by the block service when
 * push_enabled is true; the block service routes UploadStream, FinalizeShuffleMerge and
 * RemoveShuffleMerge here. */
#ifndef SHUFFLED_SERVER_PUSH_PUSH_SERVICE_H
#define SHUFFLED_SERVER_PUSH_PUSH_SERVICE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "proto/blockmsg.h"
#include "server/net/handler.h"
#include "server/push/loop_write_guard.h"
#include "server/push/merge_manager.h"

struct shuffled_config;

/* Uploads kept for reuse with their piece buffers (no allocation per push). */
#define PUSH_SPARE_UPLOADS 64

struct push_upload;

struct push_service {
    struct merge_apps *attempts; /* from the registrations (merge_apps.h; borrowed) */
    struct merge_manager *merges;
    struct merge_journal *journal; /* state_dir/merges.wal, once restored */
    uint64_t max_deferred_bytes;
    _Atomic uint64_t deferred_bytes;     /* bodies buffered while their partition is busy */
    _Atomic uint64_t unheld_bytes;       /* complete bodies written while their conn reads on */
    bool journal_sync;                   /* state_sync: commits fdatasync the journal */
    struct loop_write_guard loop_writes; /* push_upload.c write_on_loop's guard */
    pthread_mutex_t spare_lock;
    struct push_upload *spare[PUSH_SPARE_UPLOADS];
    size_t n_spare;
};

/* Merging for the application attempts in attempts (borrowed). NULL out of memory. */
struct push_service *push_service_create(const struct shuffled_config *cfg,
                                         struct merge_apps *attempts);
void push_service_destroy(struct push_service *ps);
/* Replays state_dir/merges.wal into the merge manager (once the registrations fed the
 * application attempts) and journals from then on. 0, or -1 with err. Blocking. */
int push_service_restore(struct push_service *ps, const struct shuffled_config *cfg, char *err,
                         size_t errlen);

/* Frees the spare uploads (push_service_destroy). */
void push_upload_spares_free(struct push_service *ps);
/* An UploadStream (handler.h on_upload): a PushBlockStream merged, answered with its
 * BlockPushReturnCode; anything else refused as Spark 3.1 does. */
void push_on_upload(struct push_service *ps, struct conn *c, const struct proto_msg *m);
/* FinalizeShuffleMerge -> MergeStatuses (consumes reply). */
void push_finalize(struct push_service *ps, struct conn *c, struct rpc_reply *reply,
                   const struct blockmsg *m);
/* RemoveShuffleMerge (a OneWayMessage: no answer). */
void push_remove_merge(struct push_service *ps, struct conn *c, const struct blockmsg *m);

#endif

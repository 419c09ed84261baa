/* SPDX-License-Identifier: Apache-2.0 */
/* merge_ops.c's operations for the blocking forms (sync.c): with hand_over, the callback
 * owns the struct it gets (one malloc'd block: free() it) instead of borrowing it. */
#ifndef SHUFFLE_CLIENT_MERGE_OPS_H
#define SHUFFLE_CLIENT_MERGE_OPS_H

#include <stdbool.h>

#include "shuffle/push.h"

int merge_ops_finalize(shuffle_client *c, const char *host, int port, const char *app_id,
                       int app_attempt_id, int shuffle_id, int shuffle_merge_id, bool hand_over,
                       shuffle_finalize_fn cb, void *arg);
int merge_ops_merged_meta(shuffle_client *c, const char *host, int port, const char *app_id,
                          int shuffle_id, int shuffle_merge_id, int reduce_id, bool hand_over,
                          shuffle_merged_meta_fn cb, void *arg);

#endif

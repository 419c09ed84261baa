/* SPDX-License-Identifier: Apache-2.0 */
/* RegisterExecutor's merge info into the application attempts' merge dirs (merge_apps.h),
 * with push_enabled: at each registration, and for the registrations replayed at start. */
#ifndef SHUFFLED_SERVER_PUSH_MERGE_REGISTRATION_H
#define SHUFFLED_SERVER_PUSH_MERGE_REGISTRATION_H

#include <stddef.h>

struct executor_info;
struct merge_apps;
struct resolver;

/* Notes app's executor registration: its merge dirs become the app's by Spark's attempt
 * rules (a newer attempt's dirs replace an older one's). 1 when a newer attempt replaced
 * one (the caller then has the older attempt's merged files deleted:
 * merge_manager_attempt_replaced), 0 otherwise (also when it carries no merge info), or -1
 * with the RpcFailure text Spark answers the registration with (MERGE_INFO_INVALID,
 * memory). */
int merge_registration_note(struct merge_apps *t, const char *app, const struct executor_info *info,
                            char *err, size_t errlen);
/* Notes every registration the resolver holds (start-up, after the registrations were
 * replayed); an invalid one is logged and skipped. */
void merge_registration_replay(struct merge_apps *t, struct resolver *r);

#endif

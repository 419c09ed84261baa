/* SPDX-License-Identifier: Apache-2.0 */
/* libshuffle set up for a test, against a daemon on 127.0.0.1: every test makes its clients
 * and registers its executors through these, so a change of libshuffle's set-up calls is
 * made here once. */
#ifndef SHUFFLED_TESTS_HARNESS_CLIENT_H
#define SHUFFLED_TESTS_HARNESS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "shuffle/client.h"
#include "shuffle/push.h"

#define HARNESS_SORT_SHUFFLE_MANAGER "org.apache.spark.shuffle.sort.SortShuffleManager"

/* libshuffle's defaults with what the tests vary: retries, retry wait, request timeout, the
 * old fetch protocol; connecting times out after 5 s. */
void harness_client_options(struct shuffle_client_options *o, int max_retries, int retry_wait_ms,
                            int request_timeout_ms, bool old_protocol);
/* A client with o; a failure to make one fails the running check test. */
shuffle_client *harness_client_with(const struct shuffle_client_options *o);
/* harness_client_options + harness_client_with. */
shuffle_client *harness_client(int max_retries, int retry_wait_ms, int request_timeout_ms,
                               bool old_protocol);

/* RegisterExecutor(app, exec) at 127.0.0.1:port with dirs, 64 subdirs per dir and
 * shuffle_manager (NULL: SortShuffleManager), synchronously: a shuffle_status (the error:
 * shuffle_last_error(c)). */
int harness_register_executor(shuffle_client *c, int port, const char *app, const char *exec,
                              const char *const *dirs, size_t num_dirs,
                              const char *shuffle_manager);

/* A push of blocks (ids, data and sizes: n each) of app's attempt to 127.0.0.1:port, with
 * libshuffle's other defaults. */
void harness_push_request(struct shuffle_push_request *r, int port, const char *app, int attempt,
                          const char *const *ids, const uint8_t *const *data, const uint64_t *sizes,
                          size_t n);

#endif

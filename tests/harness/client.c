/* SPDX-License-Identifier: Apache-2.0 */
/* See client.h. */
#include <config.h>

#include "client.h"

#include <check.h>

#include "shuffle/sync.h"

void harness_client_options(struct shuffle_client_options *o, int max_retries, int retry_wait_ms,
                            int request_timeout_ms, bool old_protocol)
{
    shuffle_client_options_init(o);
    o->max_retries = max_retries;
    o->retry_wait_ms = retry_wait_ms;
    o->request_timeout_ms = request_timeout_ms;
    o->connect_timeout_ms = 5000;
    o->use_old_fetch_protocol = old_protocol;
}

shuffle_client *harness_client_with(const struct shuffle_client_options *o)
{
    shuffle_client *c = NULL;
    ck_assert_msg(shuffle_client_new(o, &c) == SHUFFLE_OK, "%s", shuffle_last_error(NULL));
    return c;
}

shuffle_client *harness_client(int max_retries, int retry_wait_ms, int request_timeout_ms,
                               bool old_protocol)
{
    struct shuffle_client_options o;
    harness_client_options(&o, max_retries, retry_wait_ms, request_timeout_ms, old_protocol);
    return harness_client_with(&o);
}

int harness_register_executor(shuffle_client *c, int port, const char *app, const char *exec,
                              const char *const *dirs, size_t num_dirs, const char *shuffle_manager)
{
    struct shuffle_executor_info info;
    shuffle_executor_info_init(&info);
    info.app_id = app;
    info.exec_id = exec;
    info.local_dirs = dirs;
    info.num_dirs = num_dirs;
    info.sub_dirs_per_local_dir = 64;
    info.shuffle_manager = shuffle_manager ? shuffle_manager : HARNESS_SORT_SHUFFLE_MANAGER;
    return shuffle_register_executor_sync(c, "127.0.0.1", port, &info);
}

void harness_push_request(struct shuffle_push_request *r, int port, const char *app, int attempt,
                          const char *const *ids, const uint8_t *const *data, const uint64_t *sizes,
                          size_t n)
{
    shuffle_push_request_init(r);
    r->host = "127.0.0.1";
    r->port = port;
    r->app_id = app;
    r->app_attempt_id = attempt;
    r->block_ids = ids;
    r->data = data;
    r->sizes = sizes;
    r->num_blocks = n;
}

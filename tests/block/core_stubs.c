/* SPDX-License-Identifier: Apache-2.0 */
/* See core_stubs.h. */
#include <config.h>

#include "core_stubs.h"

#include <stddef.h>

#include "server/net/conn.h"
#include "server/stream/blocking_pool.h"

#include "common/log.h"
#include "server/service.h"

const char *stub_peer = "127.0.0.1:1";
const char *stub_client_id;

const char *conn_peer(const struct conn *c)
{
    return stub_peer;
}

const char *conn_client_id(const struct conn *c)
{
    return stub_client_id;
}

void conn_run_blocking(struct conn *c, void (*fn)(void *), void (*done)(struct conn *, void *),
                       void *arg)
{
    fn(arg);
    if (done)
        done(c, arg);
}

/* A connection here keeps nothing: what it would hold is released at once. */
void *conn_attachment(const struct conn *c, enum conn_attachment kind)
{
    return NULL;
}

void conn_attach(struct conn *c, enum conn_attachment kind, void *state,
                 void (*release)(struct conn *c, void *state))
{
    if (release)
        release(c, state);
}

int blocking_pool_submit(struct blocking_pool *p, void (*fn)(void *arg), void *arg)
{
    fn(arg);
    return 0;
}

int log_enabled(enum log_level level)
{
    return 0;
}

void log_msg(enum log_level level, const char *fmt, ...) {}

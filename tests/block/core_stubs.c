/* SPDX-License-Identifier: Apache-2.0 */
/* See core_stubs.h. */
#include <config.h>

#include "core_stubs.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "server/net/conn.h"
#include "server/stream/blocking_pool.h"

#include "common/log.h"
#include "server/net/dispatch.h"
#include "server/service.h"
#include "server/net/conn.h"
#include "server/net/rpc_reply.h"

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

/* ---- reply slots (answers outside rpc_reply) ---- */

struct stub_slot_answer stub_slot_answer;

struct reply_slot *conn_slot_reserve(struct conn *c, enum conn_slot_kind kind)
{
    static char one_slot;
    return (struct reply_slot *)(void *)&one_slot;
}

void conn_slot_charge_rpc(struct conn *c, struct reply_slot *s, size_t len) {}

void conn_slot_discard(struct reply_slot *s) {}

void conn_close(struct conn *c, const char *reason) {}

void conn_slot_fill_msg(struct conn *c, struct reply_slot *s, const struct proto_msg *m,
                        bool close_after)
{
    struct stub_slot_answer *a = &stub_slot_answer;
    a->count++;
    a->type = m->type;
    a->request_id = m->u.merged_block_meta_success.request_id;
    a->num_chunks = m->u.merged_block_meta_success.num_chunks;
    a->len = m->u.merged_block_meta_success.body.len;
    if (a->len > sizeof a->body)
        a->len = sizeof a->body;
    memcpy(a->body, m->u.merged_block_meta_success.body.data, a->len);
}

void rpc_answer_now(struct conn *c, struct reply_slot *slot, int64_t request_id, bool ok,
                    const void *data, size_t len, bool close_after)
{
    struct stub_slot_answer *a = &stub_slot_answer;
    a->count++;
    a->type = ok ? PROTO_RPC_RESPONSE : PROTO_RPC_FAILURE;
    a->request_id = request_id;
    snprintf(a->err, sizeof a->err, "%.*s", (int)len, (const char *)data);
}

/* Push-based shuffle's upload path (push_upload.c) is linked in but never driven here. */
void conn_take_body(struct conn *c, const struct conn_body_sink *sink) {}
void conn_hold_input(struct conn *c, bool hold) {}
void conn_ref(struct conn *c) {}
void conn_unref(struct conn *c) {}
bool conn_is_closed(const struct conn *c)
{
    return false;
}
void dispatch_refuse_upload(struct conn *c, const struct proto_msg *m) {}

void conn_set_output_hooks(const struct conn_output_hooks *hooks)
{
    (void)hooks;
}

uint64_t conn_loop_turn(void)
{
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The single-request operations of push-based shuffle (shuffle/push.h): finalize,
 * merged block meta, corruption diagnosis, merge removal. Each builds Spark 3.2+'s
 * message, sends it through ops.c and turns the reply into the public structs. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/errors.h"
#include "client/mapsets.h"
#include "client/merge_ops.h"
#include "client/ops.h"
#include "client/util.h"
#include "proto/blockmsg.h"
#include "proto/codec.h"
#include "shuffle/push.h"

const char *shuffle_push_code_name(int code)
{
    static const char *const names[] = {"SUCCESS", "TOO_LATE_BLOCK_PUSH",
                                        "BLOCK_APPEND_COLLISION_DETECTED", "STALE_BLOCK_PUSH",
                                        "TOO_OLD_ATTEMPT_PUSH"};
    return code >= 0 && code < 5 ? names[code] : "UNKNOWN";
}

const char *shuffle_corruption_cause_name(int cause)
{
    static const char *const names[] = {"DISK_ISSUE", "NETWORK_ISSUE", "UNKNOWN_ISSUE",
                                        "CHECKSUM_VERIFY_PASS", "UNSUPPORTED_CHECKSUM_ALGORITHM"};
    return cause >= 0 && cause < 5 ? names[cause] : "UNKNOWN";
}

/* What a reply is handed to. */
struct merge_call {
    const char *name;
    bool hand_over; /* the callback owns the reply's struct (the blocking forms) */
    union {
        shuffle_finalize_fn finalize;
        shuffle_merged_meta_fn meta;
        shuffle_cause_fn cause;
    } cb;
    void *arg;
};

static struct merge_call *call_new(const char *name, void *arg)
{
    struct merge_call *mc = calloc(1, sizeof(*mc));
    if (mc) {
        mc->name = name;
        mc->arg = arg;
    }
    return mc;
}

/* Decodes an RPC reply that must be a blockmsg of type want. 0, or -1 with err. */
static int decode_reply(const uint8_t *body, size_t len, enum blockmsg_type want,
                        struct blockmsg *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    if (blockmsg_decode(body, len, m, err, errlen) != 0)
        return -1;
    if (m->type != want) {
        snprintf(err, errlen, "expected %s, got %s", blockmsg_type_name((int)want),
                 blockmsg_type_name((int)m->type));
        blockmsg_free(m);
        return -1;
    }
    return 0;
}

/* Sends m as an RPC named after the call; frees m. */
static int send_rpc(shuffle_client *c, struct merge_call *mc, const char *host, int port,
                    struct blockmsg *m, shuffle_rpc_fn on_reply)
{
    struct proto_writer w;
    proto_writer_init(&w);
    blockmsg_encode(&w, m);
    blockmsg_free(m);
    if (w.failed) {
        proto_writer_free(&w);
        free(mc);
        return client_fail(c, SHUFFLE_ELOCAL, "out of memory");
    }
    int rc = ops_rpc_named(c, mc->name, host, port, w.buf, w.len, on_reply, mc);
    proto_writer_free(&w);
    if (rc != SHUFFLE_OK)
        free(mc);
    return rc;
}

/* ---- FinalizeShuffleMerge -> MergeStatuses ---- */

static void on_finalize(void *arg, int status, const char *error, const uint8_t *body, size_t len)
{
    struct merge_call *mc = arg;
    struct shuffle_merge_statuses *ms = NULL;
    char err[256];
    struct blockmsg m;
    if (status == SHUFFLE_OK) {
        if (decode_reply(body, len, BLOCKMSG_MERGE_STATUSES, &m, err, sizeof(err)) == 0) {
            ms = mapsets_statuses(&m, err, sizeof(err));
            blockmsg_free(&m);
        }
        if (!ms) {
            char *msg = client_strf("%s: bad reply: %s", mc->name, err);
            mc->cb.finalize(mc->arg, SHUFFLE_EPROTO, msg, NULL);
            free(msg);
        }
    }
    if (status != SHUFFLE_OK)
        mc->cb.finalize(mc->arg, status, error, NULL);
    else if (ms)
        mc->cb.finalize(mc->arg, SHUFFLE_OK, NULL, ms);
    if (!mc->hand_over)
        free(ms);
    free(mc);
}

int shuffle_finalize_merge(shuffle_client *c, const char *host, int port, const char *app_id,
                           int app_attempt_id, int shuffle_id, int shuffle_merge_id,
                           shuffle_finalize_fn cb, void *arg)
{
    return merge_ops_finalize(c, host, port, app_id, app_attempt_id, shuffle_id, shuffle_merge_id,
                              false, cb, arg);
}

int merge_ops_finalize(shuffle_client *c, const char *host, int port, const char *app_id,
                       int app_attempt_id, int shuffle_id, int shuffle_merge_id, bool hand_over,
                       shuffle_finalize_fn cb, void *arg)
{
    if (!app_id || !cb)
        return client_fail(c, SHUFFLE_EINVAL, "finalize: app_id and cb are required");
    struct merge_call *mc = call_new("FinalizeShuffleMerge", arg);
    if (mc)
        mc->hand_over = hand_over;
    struct blockmsg m = {.type = BLOCKMSG_FINALIZE_SHUFFLE_MERGE};
    m.u.finalize_shuffle_merge.layout = BLOCKMSG_LAYOUT_32;
    m.u.finalize_shuffle_merge.app_attempt_id = app_attempt_id;
    m.u.finalize_shuffle_merge.shuffle_id = shuffle_id;
    m.u.finalize_shuffle_merge.shuffle_merge_id = shuffle_merge_id;
    if (!mc || !proto_bytes_set_str(&m.u.finalize_shuffle_merge.app_id, app_id)) {
        blockmsg_free(&m);
        free(mc);
        return client_fail(c, SHUFFLE_ELOCAL, "out of memory");
    }
    mc->cb.finalize = cb;
    return send_rpc(c, mc, host, port, &m, on_finalize);
}

/* ---- MergedBlockMetaRequest -> chunk bitmaps ---- */

static void on_meta(void *arg, int status, const char *error, const uint8_t *body, size_t len)
{
    struct merge_call *mc = arg;
    if (status != SHUFFLE_OK) {
        mc->cb.meta(mc->arg, status, error, NULL);
    } else {
        char err[256];
        struct shuffle_map_sets *sets = mapsets_meta_reply(body, len, err, sizeof(err));
        if (sets) {
            mc->cb.meta(mc->arg, SHUFFLE_OK, NULL, sets);
        } else {
            char *msg = client_strf("%s: bad reply: %s", mc->name, err);
            mc->cb.meta(mc->arg, SHUFFLE_EPROTO, msg, NULL);
            free(msg);
        }
        if (!mc->hand_over)
            free(sets);
    }
    free(mc);
}

int shuffle_fetch_merged_meta(shuffle_client *c, const char *host, int port, const char *app_id,
                              int shuffle_id, int shuffle_merge_id, int reduce_id,
                              shuffle_merged_meta_fn cb, void *arg)
{
    return merge_ops_merged_meta(c, host, port, app_id, shuffle_id, shuffle_merge_id, reduce_id,
                                 false, cb, arg);
}

int merge_ops_merged_meta(shuffle_client *c, const char *host, int port, const char *app_id,
                          int shuffle_id, int shuffle_merge_id, int reduce_id, bool hand_over,
                          shuffle_merged_meta_fn cb, void *arg)
{
    if (!app_id || !cb)
        return client_fail(c, SHUFFLE_EINVAL, "merged meta: app_id and cb are required");
    struct merge_call *mc = call_new("MergedBlockMetaRequest", arg);
    if (!mc)
        return client_fail(c, SHUFFLE_ELOCAL, "out of memory");
    mc->cb.meta = cb;
    mc->hand_over = hand_over;
    int rc = ops_merged_meta(c, host, port, app_id, shuffle_id, shuffle_merge_id, reduce_id,
                             on_meta, mc);
    if (rc != SHUFFLE_OK)
        free(mc);
    return rc;
}

/* ---- DiagnoseCorruption -> CorruptionCause ---- */

static void on_cause(void *arg, int status, const char *error, const uint8_t *body, size_t len)
{
    struct merge_call *mc = arg;
    struct blockmsg m;
    char err[256];
    if (status != SHUFFLE_OK) {
        mc->cb.cause(mc->arg, status, error, -1);
    } else if (decode_reply(body, len, BLOCKMSG_CORRUPTION_CAUSE, &m, err, sizeof(err)) == 0) {
        mc->cb.cause(mc->arg, SHUFFLE_OK, NULL, m.u.corruption_cause.cause);
        blockmsg_free(&m);
    } else {
        char *msg = client_strf("%s: bad reply: %s", mc->name, err);
        mc->cb.cause(mc->arg, SHUFFLE_EPROTO, msg, -1);
        free(msg);
    }
    free(mc);
}

int shuffle_diagnose_corruption(shuffle_client *c, const char *host, int port, const char *app_id,
                                const char *exec_id, int shuffle_id, int64_t map_id, int reduce_id,
                                int64_t checksum, const char *algorithm, shuffle_cause_fn cb,
                                void *arg)
{
    if (!app_id || !exec_id || !algorithm || !cb)
        return client_fail(c, SHUFFLE_EINVAL,
                           "diagnose: app_id, exec_id, algorithm and cb are required");
    struct merge_call *mc = call_new("DiagnoseCorruption", arg);
    struct blockmsg m = {.type = BLOCKMSG_DIAGNOSE_CORRUPTION};
    m.u.diagnose_corruption.shuffle_id = shuffle_id;
    m.u.diagnose_corruption.map_id = map_id;
    m.u.diagnose_corruption.reduce_id = reduce_id;
    m.u.diagnose_corruption.checksum = checksum;
    if (!mc || !proto_bytes_set_str(&m.u.diagnose_corruption.app_id, app_id) ||
        !proto_bytes_set_str(&m.u.diagnose_corruption.exec_id, exec_id) ||
        !proto_bytes_set_str(&m.u.diagnose_corruption.algorithm, algorithm)) {
        blockmsg_free(&m);
        free(mc);
        return client_fail(c, SHUFFLE_ELOCAL, "out of memory");
    }
    mc->cb.cause = cb;
    return send_rpc(c, mc, host, port, &m, on_cause);
}

/* ---- RemoveShuffleMerge (one-way) ---- */

int shuffle_remove_shuffle_merge(shuffle_client *c, const char *host, int port, const char *app_id,
                                 int app_attempt_id, int shuffle_id, int shuffle_merge_id)
{
    if (!app_id)
        return client_fail(c, SHUFFLE_EINVAL, "remove merge: app_id is required");
    struct blockmsg m = {.type = BLOCKMSG_REMOVE_SHUFFLE_MERGE};
    m.u.remove_shuffle_merge.app_attempt_id = app_attempt_id;
    m.u.remove_shuffle_merge.shuffle_id = shuffle_id;
    m.u.remove_shuffle_merge.shuffle_merge_id = shuffle_merge_id;
    struct proto_writer w;
    proto_writer_init(&w);
    if (proto_bytes_set_str(&m.u.remove_shuffle_merge.app_id, app_id))
        blockmsg_encode(&w, &m);
    else
        w.failed = true;
    blockmsg_free(&m);
    int rc = w.failed ? client_fail(c, SHUFFLE_ELOCAL, "out of memory")
                      : shuffle_send_oneway(c, host, port, w.buf, w.len);
    proto_writer_free(&w);
    return rc;
}

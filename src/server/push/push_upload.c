/* SPDX-License-Identifier: Apache-2.0 */
/* One PushBlockStream: its UploadStream decoded on the loop, the merge manager's verdict
 * taken on the blocking pool, then the after-frame body streamed into the merged data file
 * through a bounded buffer (reading holds while a piece is written), committed, answered
 * with Spark's BlockPushReturnCode. A body that never completes is cut away again. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "server/block/blockid.h"
#include "server/net/dispatch.h"
#include "server/net/rpc_reply.h"
#include "server/ops/metrics.h"
#include "server/push/push_service.h"

/* Bytes gathered before they are written: one write per this much of a body. */
#define PIECE_BYTES (64u << 10)

enum upload_mode { MODE_WAIT, MODE_DISCARD, MODE_WRITE, MODE_DEFER };

struct push_upload {
    struct push_service *ps;
    struct conn *c; /* referenced until freed */
    struct reply_slot *slot;
    int64_t request_id;
    struct merge_push_key key;
    char app[256];
    uint64_t body_len, received, written;
    enum upload_mode mode;
    enum merge_verdict verdict;
    struct merge_claim *claim;
    uint8_t *buf;
    size_t buf_len, buf_cap;
    uint64_t deferred; /* charged to ps->deferred_bytes */
    bool body_done;    /* the last piece arrived (or there was none) */
    bool job_running;
    bool aborted; /* the connection closed first */
    bool answered;
    bool merged; /* the block's bytes were committed */
    char err[512];
};

static void upload_free(struct push_upload *u)
{
    if (!u->answered) /* the connection closed first: its slot is detached */
        conn_slot_discard(u->slot);
    atomic_fetch_sub(&u->ps->deferred_bytes, u->deferred);
    metrics_gauge_add(MG_PUSH_DEFERRED_BYTES, -(int64_t)u->deferred);
    metrics_gauge_add(MG_PUSH_DEFERRED_BLOCKS, -(int64_t)(u->deferred > 0));
    metrics_add(MC_PUSH_BYTES_IGNORED, u->merged ? 0 : u->received);
    free(u->buf);
    conn_unref(u->c);
    free(u);
}

/* Sends the answer (once): a BlockPushReturnCode, or an RpcFailure for MERGE_FAILED. */
static void answer(struct push_upload *u, bool close_after)
{
    if (u->answered)
        return;
    u->answered = true;
    static const enum metric_counter by_code[] = {
        [MERGE_SUCCESS] = MC_PUSHES_ACCEPTED,
        [MERGE_TOO_LATE] = MC_PUSHES_TOO_LATE,
        [MERGE_COLLISION] = MC_PUSHES_COLLISION,
        [MERGE_STALE] = MC_PUSHES_STALE,
        [MERGE_TOO_OLD_ATTEMPT] = MC_PUSHES_TOO_OLD_ATTEMPT,
        [MERGE_WRITE] = MC_PUSHES_ACCEPTED,
        [MERGE_BUSY] = MC_PUSHES_COLLISION,
        [MERGE_DUPLICATE] = MC_PUSHES_ACCEPTED,
        [MERGE_FAILED] = MC_PUSHES_FAILED,
    };
    metrics_inc(by_code[u->verdict]);
    metrics_add(MC_PUSHES_DUPLICATE, u->verdict == MERGE_DUPLICATE);
    if (u->verdict == MERGE_FAILED)
        metrics_rpc_error(MR_PUSH_BLOCK_STREAM);
    if (u->merged)
        metrics_add(MC_PUSH_BYTES_MERGED, u->written);
    if (u->aborted || conn_is_closed(u->c)) {
        conn_slot_discard(u->slot);
        return;
    }
    if (u->verdict == MERGE_FAILED) {
        rpc_answer_now(u->c, u->slot, u->request_id, false, u->err, strlen(u->err), close_after);
        return;
    }
    uint8_t code = u->verdict == MERGE_DUPLICATE || u->verdict == MERGE_WRITE ? MERGE_SUCCESS
                                                                              : (uint8_t)u->verdict;
    char id[160] = "";
    if (code != MERGE_SUCCESS)
        snprintf(id, sizeof id, "shufflePush_%d_%d_%d_%d", u->key.shuffle, u->key.merge_id,
                 u->key.map_index, u->key.reduce);
    struct blockmsg r = {.type = BLOCKMSG_BLOCK_PUSH_RETURN_CODE};
    r.u.block_push_return_code.return_code = code;
    r.u.block_push_return_code.failure_block_id = (struct proto_bytes){id, (uint32_t)strlen(id)};
    struct proto_writer w;
    proto_writer_init(&w);
    blockmsg_encode(&w, &r);
    if (w.failed)
        rpc_answer_now(u->c, u->slot, u->request_id, false, "java.lang.OutOfMemoryError", 26,
                       close_after);
    else
        rpc_answer_now(u->c, u->slot, u->request_id, true, w.buf, w.len, close_after);
    proto_writer_free(&w);
}

/* ---- pool jobs ---- */

static void decide_job(void *arg)
{
    struct push_upload *u = arg;
    u->verdict =
        merge_manager_push(u->ps->merges, &u->key, u->body_len, &u->claim, u->err, sizeof u->err);
}

/* Writes what is buffered; at the end of the body, merges the block. */
static void write_job(void *arg)
{
    struct push_upload *u = arg;
    struct merge_manager *mm = u->ps->merges;
    if (u->mode == MODE_DEFER) { /* the body is all here: may it be written now? */
        u->verdict = merge_manager_push(mm, &u->key, u->body_len, &u->claim, u->err, sizeof u->err);
        if (u->verdict == MERGE_BUSY)
            u->verdict = MERGE_COLLISION;
        if (u->verdict != MERGE_WRITE)
            return;
    }
    if (merge_claim_write(u->claim, u->buf, u->buf_len, u->written, u->err, sizeof u->err) != 0) {
        u->verdict = MERGE_FAILED;
        merge_claim_abort(mm, u->claim);
        u->claim = NULL;
        return;
    }
    u->written += u->buf_len;
    u->buf_len = 0;
    if (u->body_done) {
        u->verdict = merge_claim_commit(mm, u->claim, u->written, u->err, sizeof u->err);
        u->merged = u->verdict == MERGE_SUCCESS;
        u->claim = NULL;
    }
}

static void abort_job(void *arg)
{
    struct push_upload *u = arg;
    if (u->claim)
        merge_claim_abort(u->ps->merges, u->claim);
    u->claim = NULL;
}

static void freed_done(struct conn *c, void *arg)
{
    (void)c;
    upload_free(arg);
}

/* The connection went away while u waited for no job: give the claim back, then free. */
static void abandon(struct push_upload *u)
{
    if (u->claim)
        conn_run_blocking(u->c, abort_job, freed_done, u);
    else
        upload_free(u);
}

/* ---- on the loop ---- */

static void finish(struct push_upload *u)
{
    answer(u, false);
    upload_free(u);
}

/* finish, closing the connection once the answer is written. */
static void finish_closing(struct push_upload *u)
{
    answer(u, true);
    upload_free(u);
}

static void flush_piece(struct push_upload *u);

/* A pool job of u is back on the loop: false when the connection is gone (u then freed),
 * else reading resumes. */
static bool job_back(struct push_upload *u, struct conn *c)
{
    u->job_running = false;
    if (u->aborted || !c) {
        abandon(u);
        return false;
    }
    conn_hold_input(c, false);
    return true;
}

static void written_done(struct conn *c, void *arg)
{
    struct push_upload *u = arg;
    if (!job_back(u, c))
        return;
    if (u->verdict == MERGE_FAILED && !u->body_done) {
        u->mode = MODE_DISCARD; /* the rest is read and dropped, the failure answered then */
        return;
    }
    if (u->body_done)
        finish(u);
}

static void flush_piece(struct push_upload *u)
{
    u->job_running = true;
    conn_hold_input(u->c, true);
    conn_run_blocking(u->c, write_job, written_done, u);
}

/* Keeps data in u's buffer; false when it cannot (out of memory, or the deferred budget). */
static bool keep(struct push_upload *u, const uint8_t *data, size_t len)
{
    if (u->buf_len + len > u->buf_cap) {
        size_t cap = u->buf_cap ? u->buf_cap : PIECE_BYTES;
        while (cap < u->buf_len + len)
            cap *= 2;
        if (u->mode == MODE_DEFER) {
            uint64_t grow = cap - u->buf_cap;
            uint64_t now = atomic_fetch_add(&u->ps->deferred_bytes, grow) + grow;
            u->deferred += grow;
            metrics_gauge_add(MG_PUSH_DEFERRED_BYTES, (int64_t)grow);
            metrics_gauge_add(MG_PUSH_DEFERRED_BLOCKS, u->deferred == grow); /* its first */
            if (now > u->ps->max_deferred_bytes)
                return false;
        }
        uint8_t *b = realloc(u->buf, cap);
        if (!b)
            return false;
        u->buf = b;
        u->buf_cap = cap;
    }
    memcpy(u->buf + u->buf_len, data, len);
    u->buf_len += len;
    return true;
}

static void on_body(void *ctx, struct conn *c, const uint8_t *data, size_t len, bool last)
{
    struct push_upload *u = ctx;
    (void)c;
    u->received += len;
    u->body_done = last;
    if ((u->mode == MODE_WRITE || u->mode == MODE_DEFER) && !keep(u, data, len)) {
        if (u->mode == MODE_DEFER) {
            u->verdict = MERGE_COLLISION; /* over push_max_deferred_bytes: as if still busy */
        } else {
            u->verdict = MERGE_FAILED;
            snprintf(u->err, sizeof u->err, "java.lang.OutOfMemoryError: push buffer");
        }
        u->mode = MODE_DISCARD;
        if (u->claim) { /* give the partition back now; the rest of the body is dropped */
            u->job_running = true;
            conn_hold_input(u->c, true);
            conn_run_blocking(u->c, abort_job, written_done, u);
            return;
        }
    }
    if (u->mode == MODE_WRITE && (u->buf_len >= PIECE_BYTES || last))
        flush_piece(u);
    else if (u->mode == MODE_DEFER && last)
        flush_piece(u);
    else if (last && !u->job_running)
        finish(u);
}

static void on_abort(void *ctx)
{
    struct push_upload *u = ctx;
    u->aborted = true;
    if (!u->job_running)
        abandon(u);
}

static void decided_done(struct conn *c, void *arg)
{
    struct push_upload *u = arg;
    if (!job_back(u, c))
        return;
    switch (u->verdict) {
    case MERGE_TOO_OLD_ATTEMPT: /* refused before the body: the stream cannot go on */
    case MERGE_FAILED:
        log_info("%s: push of %s refused (%s); closing after the reply", conn_peer(c), u->key.app,
                 u->verdict == MERGE_FAILED ? u->err : "an older application attempt");
        u->mode = MODE_DISCARD;
        if (u->body_len == 0) {
            finish_closing(u);
            return;
        }
        /* The body's sink owns u from here: the answer may close the connection at once,
         * which frees u (on_abort); else its end or the close does. */
        answer(u, true);
        return;
    case MERGE_WRITE:
        u->mode = MODE_WRITE;
        break;
    case MERGE_BUSY:
        u->mode = MODE_DEFER;
        break;
    default: /* too late, stale, duplicate: the body is read and dropped */
        u->mode = MODE_DISCARD;
        break;
    }
    if (u->body_len == 0) { /* no body will come */
        u->body_done = true;
        if (u->mode == MODE_WRITE || u->mode == MODE_DEFER)
            flush_piece(u);
        else
            finish(u);
    }
}

void push_on_upload(struct push_service *ps, struct conn *c, const struct proto_msg *m)
{
    const struct proto_view *meta = &m->u.upload_stream.meta;
    struct blockmsg b;
    char why[256];
    if (meta->len == 0 || meta->data[0] != BLOCKMSG_PUSH_BLOCK_STREAM ||
        blockmsg_decode(meta->data, meta->len, &b, why, sizeof why) != 0) {
        dispatch_refuse_upload(c, m);
        return;
    }
    const struct proto_bytes *app = &b.u.push_block_stream.app_id;
    const char *client = conn_client_id(c);
    const char *refusal = NULL;
    if (b.u.push_block_stream.layout != BLOCKMSG_LAYOUT_32) { /* Spark 3.1's: as 3.1.2 answers */
        blockmsg_free(&b);
        dispatch_refuse_upload(c, m);
        return;
    }
    if (!app->data || strlen(app->data) != app->len || !id_is_safe(app->data, app->len))
        refusal = "java.lang.IllegalArgumentException: invalid appId in PushBlockStream";
    else if (client && strcmp(client, app->data) != 0)
        refusal = "java.lang.SecurityException: Client not authorized for this application";
    struct push_upload *u = refusal ? NULL : calloc(1, sizeof *u);
    struct reply_slot *slot = u ? conn_slot_reserve(c, CONN_SLOT_RPC) : NULL;
    if (!slot) {
        if (!refusal)
            refusal = "java.lang.OutOfMemoryError: push";
        free(u);
        metrics_rpc_error(MR_PUSH_BLOCK_STREAM);
        rpc_answer_now(c, NULL, m->u.upload_stream.request_id, false, refusal, strlen(refusal),
                       true);
        blockmsg_free(&b);
        return;
    }
    u->ps = ps;
    u->c = c;
    conn_ref(c);
    u->slot = slot;
    u->request_id = m->u.upload_stream.request_id;
    u->body_len = (uint64_t)m->u.upload_stream.body_byte_count;
    snprintf(u->app, sizeof u->app, "%s", app->data);
    u->key = (struct merge_push_key){u->app,
                                     b.u.push_block_stream.app_attempt_id,
                                     b.u.push_block_stream.shuffle_id,
                                     b.u.push_block_stream.shuffle_merge_id,
                                     b.u.push_block_stream.map_index,
                                     b.u.push_block_stream.reduce_id};
    blockmsg_free(&b);
    if (u->body_len > 0) {
        struct conn_body_sink sink = {on_body, on_abort, u};
        conn_take_body(c, &sink);
    }
    u->job_running = true;
    conn_hold_input(c, true);
    conn_run_blocking(c, decide_job, decided_done, u);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* One PushBlockStream: its UploadStream decoded on the loop, the merge manager's verdict
 * taken there too when it needs no disk (else on the blocking pool), then the after-frame
 * body streamed into the merged data file through a bounded buffer (reading holds while a
 * piece of an unfinished body is written), committed, answered with Spark's
 * BlockPushReturnCode. A body that never completes is cut away again.
 *
 * Per block in the usual case (the partition exists, the body fits one piece): the verdict
 * and the claim on the loop, the body copied once into a reused buffer, one blocking-pool
 * job (write, commit, journal), the answer. */
#include <config.h>

#include <stddef.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "proto/push_block_view.h"
#include "server/block/blockid.h"
#include "server/net/dispatch.h"
#include "server/net/rpc_reply.h"
#include "server/ops/metrics.h"
#include "server/push/merge_journal.h"
#include "server/push/push_service.h"

/* Bytes gathered before they are written: one write per this much of a body. */
#define PIECE_BYTES (64u << 10)
/* Complete bodies waiting for their write while their connection reads on: beyond this (all
 * connections together) reading holds during the write, as for a piece. */
#define UNHELD_MAX_BYTES (16u << 20)

enum upload_mode { MODE_WAIT, MODE_DISCARD, MODE_WRITE, MODE_DEFER };

struct push_upload {
    uint8_t *buf; /* kept with the upload when it is reused */
    size_t buf_cap;
    /* from here on zeroed for each upload */
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
    size_t buf_len;
    uint64_t deferred; /* charged to ps->deferred_bytes */
    uint64_t unheld;   /* charged to ps->unheld_bytes */
    uint64_t wait_seq; /* the journal record to wait for before answering */
    bool body_done;    /* the last piece arrived (or there was none) */
    bool job_running;
    bool holding; /* this upload holds its connection's input */
    bool aborted; /* the connection closed first */
    bool answered;
    bool merged;   /* the block's bytes were committed */
    char err[512]; /* last: not zeroed on reuse */
};

/* A spare upload (with its buffer) or a new one; NULL out of memory. */
static struct push_upload *upload_new(struct push_service *ps)
{
    struct push_upload *u = NULL;
    pthread_mutex_lock(&ps->spare_lock);
    if (ps->n_spare > 0)
        u = ps->spare[--ps->n_spare];
    pthread_mutex_unlock(&ps->spare_lock);
    if (!u)
        return calloc(1, sizeof *u);
    memset(&u->ps, 0, offsetof(struct push_upload, err) - offsetof(struct push_upload, ps));
    u->err[0] = '\0';
    return u;
}

static void upload_free(struct push_upload *u)
{
    struct push_service *ps = u->ps;
    if (!u->answered) /* the connection closed first: its slot is detached */
        conn_slot_discard(u->slot);
    if (u->deferred) {
        atomic_fetch_sub(&ps->deferred_bytes, u->deferred);
        metrics_gauge_add(MG_PUSH_DEFERRED_BYTES, -(int64_t)u->deferred);
        metrics_gauge_add(MG_PUSH_DEFERRED_BLOCKS, -1);
    }
    metrics_add(MC_PUSH_BYTES_IGNORED, u->merged ? 0 : u->received);
    atomic_fetch_sub(&ps->unheld_bytes, u->unheld);
    conn_unref(u->c);
    if (u->buf_cap > PIECE_BYTES) { /* a deferred body's: not kept */
        free(u->buf);
        u->buf = NULL;
        u->buf_cap = 0;
    }
    pthread_mutex_lock(&ps->spare_lock);
    bool kept = ps->n_spare < PUSH_SPARE_UPLOADS;
    if (kept)
        ps->spare[ps->n_spare++] = u;
    pthread_mutex_unlock(&ps->spare_lock);
    if (!kept) {
        free(u->buf);
        free(u);
    }
}

void push_upload_spares_free(struct push_service *ps)
{
    while (ps->n_spare > 0) {
        struct push_upload *u = ps->spare[--ps->n_spare];
        free(u->buf);
        free(u);
    }
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
    if (u->verdict == MERGE_DUPLICATE) /* the first copy's record may wait in a loop's batch */
        merge_journal_loop_cover(u->ps->journal);
    uint8_t code = u->verdict == MERGE_DUPLICATE || u->verdict == MERGE_WRITE ? MERGE_SUCCESS
                                                                              : (uint8_t)u->verdict;
    char id[160] = "";
    if (code != MERGE_SUCCESS)
        snprintf(id, sizeof id, "shufflePush_%d_%d_%d_%d", u->key.shuffle, u->key.merge_id,
                 u->key.map_index, u->key.reduce);
    struct blockmsg r = {.type = BLOCKMSG_BLOCK_PUSH_RETURN_CODE};
    r.u.block_push_return_code.return_code = code;
    r.u.block_push_return_code.failure_block_id = (struct proto_bytes){id, (uint32_t)strlen(id)};
    uint8_t storage[sizeof id + 16]; /* type, code, the id's length and bytes */
    struct proto_writer w;
    proto_writer_init_fixed(&w, storage, sizeof storage);
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
    if (u->body_done) { /* the last piece written and the block committed at once */
        u->verdict = merge_claim_finish(mm, u->claim, u->buf, u->buf_len, u->written, NULL, u->err,
                                        sizeof u->err);
        u->written += u->buf_len;
        u->buf_len = 0;
        u->merged = u->verdict == MERGE_SUCCESS;
        u->claim = NULL;
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
}

static void journal_wait_job(void *arg)
{
    struct push_upload *u = arg;
    merge_manager_journal_wait(u->ps->merges, u->wait_seq);
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
    if (u->holding) {
        u->holding = false;
        conn_hold_input(c, false);
    }
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

/* One hold per upload at most (holds are counted: job_back releases it once). */
static void hold(struct push_upload *u)
{
    if (u->holding)
        return;
    u->holding = true;
    conn_hold_input(u->c, true);
}

/* Reading holds while a piece of an unfinished body is written (one piece per upload in
 * memory). A complete body's write lets the connection's next requests in meanwhile (their
 * answers still leave in order), unless such bodies are over UNHELD_MAX_BYTES. */
static void flush_piece(struct push_upload *u)
{
    u->job_running = true;
    uint64_t unheld = u->buf_len ? u->buf_len : 1;
    if (u->body_done && atomic_fetch_add(&u->ps->unheld_bytes, unheld) + unheld <= UNHELD_MAX_BYTES)
        u->unheld = unheld;
    else if (u->body_done)
        atomic_fetch_sub(&u->ps->unheld_bytes, unheld);
    if (!u->unheld)
        hold(u);
    conn_run_blocking(u->c, write_job, written_done, u);
}

/* Makes u's buffer hold at least need bytes (doubling from one piece); false out of memory. */
static bool grow(struct push_upload *u, size_t need)
{
    if (need <= u->buf_cap)
        return true;
    size_t cap = u->buf_cap ? u->buf_cap : PIECE_BYTES;
    while (cap < need)
        cap *= 2;
    uint8_t *b = realloc(u->buf, cap);
    if (!b)
        return false;
    u->buf = b;
    u->buf_cap = cap;
    return true;
}

/* Keeps data in u's buffer; false when it cannot (out of memory, or the deferred budget). */
static bool keep(struct push_upload *u, const uint8_t *data, size_t len)
{
    if (u->mode == MODE_DEFER) {
        uint64_t now = atomic_fetch_add(&u->ps->deferred_bytes, len) + len;
        u->deferred += len;
        metrics_gauge_add(MG_PUSH_DEFERRED_BYTES, (int64_t)len);
        metrics_gauge_add(MG_PUSH_DEFERRED_BLOCKS, u->deferred == len); /* its first */
        if (now > u->ps->max_deferred_bytes)
            return false;
    }
    if (!grow(u, u->buf_len + len))
        return false;
    if (data != u->buf + u->buf_len) /* else read there already (body_read_into) */
        memcpy(u->buf + u->buf_len, data, len);
    u->buf_len += len;
    return true;
}

/* The connection reads the body's rest straight after what u's buffer holds (one piece at
 * most, as keep would grow it), so on_body's keep has nothing to copy. Not while the buffer
 * is with the pool, nor for a body that is dropped or over the deferred budget's way. */
static uint8_t *body_read_into(void *ctx, size_t want, size_t *room)
{
    struct push_upload *u = ctx;
    *room = 0;
    if (u->job_running || u->mode != MODE_WRITE || u->buf_len >= PIECE_BYTES)
        return NULL;
    size_t need = u->buf_len + (want < PIECE_BYTES - u->buf_len ? want : PIECE_BYTES - u->buf_len);
    if (!grow(u, need))
        return NULL;
    *room = u->buf_cap - u->buf_len < want ? u->buf_cap - u->buf_len : want;
    return u->buf + u->buf_len;
}

/* The calling thread's voluntary context switches so far (-1 if unknown). */
static long voluntary_switches(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_nvcsw : -1;
}

/* A complete body of at most one piece, claimed on the loop, is written and committed right
 * there (no thread hop, no copy when it arrived in one piece): a pwrite into the page cache
 * and a journal record, as cheap as handing it over. Not with state_sync (fdatasync), nor
 * while the partition is held by a finalize or removal (merge_claim_finish gives up: false);
 * and should a write on the loop ever block for long, every loop sends its writes to the
 * pool for a while (loop_write_guard.h). */
static bool write_on_loop(struct push_upload *u, const uint8_t *data, size_t len)
{
    struct push_service *ps = u->ps;
    if (ps->journal_sync || u->written != 0 || len > PIECE_BYTES)
        return false;
    uint64_t t0 = metrics_now_usec();
    if (!loop_write_guard_allows(&ps->loop_writes, t0))
        return false;
    static _Thread_local struct loop_write_probe probe; /* this loop thread's */
    loop_write_probe_begin(&probe, conn_loop_turn(), voluntary_switches);
    uint64_t wait_seq;
    enum merge_verdict v =
        merge_claim_finish(ps->merges, u->claim, data, len, 0, &wait_seq, u->err, sizeof u->err);
    if (v == MERGE_NEED_POOL)
        return false;
    uint64_t t1 = metrics_now_usec();
    /* counting the switches again (a system call) only for a slow write */
    bool slow = t1 - t0 > ps->loop_writes.max_usec;
    bool slept = slow && loop_write_probe_slept(&probe, voluntary_switches);
    if (loop_write_guard_note(&ps->loop_writes, t0, t1, slept))
        log_info("a pushed block took %llu us to write on the event loop; writes go to the "
                 "blocking pool for the next %llu ms",
                 (unsigned long long)(t1 - t0),
                 (unsigned long long)ps->loop_writes.pause_usec / 1000);
    u->verdict = v;
    u->written = len;
    u->buf_len = 0;
    u->merged = v == MERGE_SUCCESS;
    u->claim = NULL;
    if (wait_seq) { /* its journal record is being written by another thread: not yet */
        u->wait_seq = wait_seq;
        u->job_running = true;
        conn_run_blocking(u->c, journal_wait_job, written_done, u);
        return true;
    }
    finish(u);
    return true;
}

static void on_body(void *ctx, struct conn *c, const uint8_t *data, size_t len, bool last)
{
    struct push_upload *u = ctx;
    (void)c;
    u->received += len;
    u->body_done = last;
    bool tried = last && u->mode == MODE_WRITE && u->buf_len == 0;
    if (tried && write_on_loop(u, data, len))
        return;
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
            hold(u);
            conn_run_blocking(u->c, abort_job, written_done, u);
            return;
        }
    }
    if (!tried && u->mode == MODE_WRITE && last && write_on_loop(u, u->buf, u->buf_len))
        return;
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

/* The verdict is known (on the loop, or back from the pool): what becomes of the body. */
static void apply_verdict(struct push_upload *u, struct conn *c)
{
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

static void decided_done(struct conn *c, void *arg)
{
    struct push_upload *u = arg;
    if (job_back(u, c))
        apply_verdict(u, c);
}

void push_on_upload(struct push_service *ps, struct conn *c, const struct proto_msg *m)
{
    const struct proto_view *meta = &m->u.upload_stream.meta;
    struct push_block_view b; /* no allocation per push; the app id points into meta */
    if (push_block_view_decode(meta->data, meta->len, &b) != 0 ||
        b.layout != BLOCKMSG_LAYOUT_32) { /* Spark 3.1's: as 3.1.2 answers */
        dispatch_refuse_upload(c, m);
        return;
    }
    const char *app = (const char *)b.app_id;
    const char *client = conn_client_id(c);
    const char *refusal = NULL;
    if (memchr(app, '\0', b.app_id_len) || !id_is_safe(app, b.app_id_len))
        refusal = "java.lang.IllegalArgumentException: invalid appId in PushBlockStream";
    else if (client && (strlen(client) != b.app_id_len || memcmp(client, app, b.app_id_len) != 0))
        refusal = "java.lang.SecurityException: Client not authorized for this application";
    struct push_upload *u = refusal ? NULL : upload_new(ps);
    struct reply_slot *slot = u ? conn_slot_reserve(c, CONN_SLOT_RPC) : NULL;
    if (!slot) {
        if (!refusal)
            refusal = "java.lang.OutOfMemoryError: push";
        if (u) {
            free(u->buf);
            free(u);
        }
        metrics_rpc_error(MR_PUSH_BLOCK_STREAM);
        rpc_answer_now(c, NULL, m->u.upload_stream.request_id, false, refusal, strlen(refusal),
                       true);
        return;
    }
    u->ps = ps;
    u->c = c;
    conn_ref(c);
    u->slot = slot;
    u->request_id = m->u.upload_stream.request_id;
    u->body_len = (uint64_t)m->u.upload_stream.body_byte_count;
    size_t app_len = b.app_id_len < sizeof u->app - 1 ? b.app_id_len : sizeof u->app - 1;
    memcpy(u->app, app, app_len); /* as "%s" would, without formatting per push */
    u->app[app_len] = '\0';
    u->key = (struct merge_push_key){
        u->app, b.app_attempt_id, b.shuffle_id, b.shuffle_merge_id, b.map_index, b.reduce_id};
    if (u->body_len > 0) {
        struct conn_body_sink sink = {on_body, on_abort, u, body_read_into};
        conn_take_body(c, &sink);
    }
    u->verdict = merge_manager_push_fast(ps->merges, &u->key, u->body_len, &u->claim);
    if (u->verdict != MERGE_NEED_POOL) {
        apply_verdict(u, c);
        return;
    }
    u->job_running = true;
    hold(u);
    conn_run_blocking(c, decide_job, decided_done, u);
}

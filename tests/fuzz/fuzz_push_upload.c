/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as what a client sends on a connection, decoded frame by
 * frame, with every PushBlockStream (UploadStream meta and its after-frame body, in the pieces
 * the frame decoder cut), FinalizeShuffleMerge and RemoveShuffleMerge driven through the
 * real merge manager and merged files (merge_manager.h) in a temp merge dir; a body cut short
 * is aborted. After every finalize the merged files must hold together: the index starts at
 * 0, ascends and ends at the size MergeStatuses reports, which is the data file's length, and
 * the meta file is exactly one valid RoaringBitmap per chunk. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../harness/fs.h"
#include "proto/blockmsg.h"
#include "proto/frame.h"
#include "proto/message.h"
#include "server/push/merge_apps.h"
#include "server/push/merge_manager.h"

static struct merge_apps *apps;
static struct merge_dirs dirs;

static void setup(void)
{
    char *tmp = harness_temp_dir();
    static char merge_dir[512];
    snprintf(merge_dir, sizeof merge_dir, "%s/merge_manager_1", tmp);
    if (harness_make_block_dir(merge_dir, 4) != 0)
        abort();
    static char *dir_list[1];
    dir_list[0] = merge_dir;
    dirs = (struct merge_dirs){1, 4, 1, dir_list};
    apps = merge_apps_create();
    if (!apps || merge_apps_register(apps, "app-cap", &dirs, NULL) != 1)
        abort();
    free(tmp);
}

struct run {
    struct merge_manager *mm;
    struct merge_claim *claim; /* the body being written */
    uint64_t written;
};

static uint64_t be64_at(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* The files of one finalized partition agree with each other and with size. */
static void check_partition(int32_t shuffle, int32_t merge_id, int32_t reduce, int64_t size)
{
    char path[3][1024];
    uint8_t *buf[3];
    size_t len[3];
    for (int k = 0; k < 3; k++) {
        if (merged_file_path(&dirs, "app-cap", shuffle, merge_id, reduce, (enum merged_file)k,
                             path[k], sizeof path[k]) != 0 ||
            !(buf[k] = harness_read_file(path[k], &len[k])))
            abort();
    }
    size_t chunks = len[1] / 8 - 1;
    if (len[0] != (size_t)size || len[1] % 8 || len[1] < 16 || be64_at(buf[1]) != 0 ||
        be64_at(buf[1] + len[1] - 8) != (uint64_t)size)
        abort();
    for (size_t i = 1; i < len[1] / 8; i++)
        if (be64_at(buf[1] + 8 * i) <= be64_at(buf[1] + 8 * (i - 1)))
            abort();
    size_t at = 0;
    for (size_t c = 0; c < chunks; c++) {
        size_t n = proto_bitmap_size(buf[2] + at, len[2] - at);
        if (n == 0)
            abort();
        at += n;
    }
    if (at != len[2])
        abort();
    for (int k = 0; k < 3; k++)
        free(buf[k]);
}

static void finalize(struct run *r, const struct blockmsg *m)
{
    struct blockmsg st;
    char err[1024];
    int32_t shuffle = m->u.finalize_shuffle_merge.shuffle_id;
    int32_t merge_id = m->u.finalize_shuffle_merge.shuffle_merge_id;
    if (merge_manager_finalize(r->mm, m->u.finalize_shuffle_merge.app_id.data,
                               m->u.finalize_shuffle_merge.app_attempt_id, shuffle, merge_id, &st,
                               err, sizeof err) != 0) {
        if (!err[0])
            abort();
        return;
    }
    for (uint32_t i = 0; i < st.u.merge_statuses.bitmap_count; i++)
        check_partition(shuffle, merge_id, st.u.merge_statuses.reduce_ids.items[i],
                        st.u.merge_statuses.sizes.items[i]);
    blockmsg_free(&st);
}

static void abort_body(struct run *r)
{
    if (r->claim)
        merge_claim_abort(r->mm, r->claim);
    r->claim = NULL;
}

static void on_upload(struct run *r, const struct proto_msg *q)
{
    struct blockmsg b;
    char err[512];
    const struct proto_view *meta = &q->u.upload_stream.meta;
    if (blockmsg_decode(meta->data, meta->len, &b, err, sizeof err) != 0)
        return;
    if (b.type == BLOCKMSG_PUSH_BLOCK_STREAM &&
        b.u.push_block_stream.layout == BLOCKMSG_LAYOUT_32 && b.u.push_block_stream.app_id.data) {
        /* few shuffles and partitions, so pushes meet each other */
        struct merge_push_key k = {
            b.u.push_block_stream.app_id.data,        b.u.push_block_stream.app_attempt_id,
            b.u.push_block_stream.shuffle_id & 3,     b.u.push_block_stream.shuffle_merge_id & 3,
            b.u.push_block_stream.map_index & 0xffff, b.u.push_block_stream.reduce_id & 7};
        enum merge_verdict v = merge_manager_push(
            r->mm, &k, (uint64_t)q->u.upload_stream.body_byte_count, &r->claim, err, sizeof err);
        if (v == MERGE_WRITE && q->u.upload_stream.body_byte_count == 0) {
            merge_claim_commit(r->mm, r->claim, 0, err, sizeof err);
            r->claim = NULL;
        }
        r->written = 0;
    }
    blockmsg_free(&b);
}

static void on_rpc(struct run *r, const struct proto_view *body, bool one_way)
{
    struct blockmsg b;
    char err[512];
    if (blockmsg_decode(body->data, body->len, &b, err, sizeof err) != 0)
        return;
    if (!one_way && b.type == BLOCKMSG_FINALIZE_SHUFFLE_MERGE &&
        b.u.finalize_shuffle_merge.layout == BLOCKMSG_LAYOUT_32 &&
        b.u.finalize_shuffle_merge.app_id.data) {
        b.u.finalize_shuffle_merge.shuffle_id &= 3;
        b.u.finalize_shuffle_merge.shuffle_merge_id &= 3;
        finalize(r, &b);
    } else if (one_way && b.type == BLOCKMSG_REMOVE_SHUFFLE_MERGE &&
               b.u.remove_shuffle_merge.app_id.data) {
        merge_manager_remove(
            r->mm, b.u.remove_shuffle_merge.app_id.data, b.u.remove_shuffle_merge.app_attempt_id,
            b.u.remove_shuffle_merge.shuffle_id & 3, b.u.remove_shuffle_merge.shuffle_merge_id);
    }
    blockmsg_free(&b);
}

static int visit(void *ctx, enum frame_event ev, const struct frame_out *out)
{
    struct run *r = ctx;
    char err[512];
    if (ev == FRAME_RAW) {
        if (r->claim &&
            merge_claim_write(r->claim, out->raw, out->raw_len, r->written, err, sizeof err) != 0)
            abort_body(r);
        r->written += out->raw_len;
        if (r->claim && out->raw_remaining == 0) {
            merge_claim_commit(r->mm, r->claim, r->written, err, sizeof err);
            r->claim = NULL;
        }
        return 0;
    }
    abort_body(r); /* a new frame: a body still open was cut short */
    struct proto_msg q;
    if (proto_msg_decode(out->type, out->content, out->content_len, &q, err, sizeof err) != 0)
        return 0;
    if (q.type == PROTO_UPLOAD_STREAM)
        on_upload(r, &q);
    else if (q.type == PROTO_RPC_REQUEST)
        on_rpc(r, &q.u.rpc.body, false);
    else if (q.type == PROTO_ONE_WAY_MESSAGE)
        on_rpc(r, &q.u.one_way.body, true);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!apps)
        setup();
    struct merge_limits lim = {.min_chunk_bytes = 64, .max_open_partitions = 64};
    struct run r = {merge_manager_create(&lim, apps), NULL, 0};
    if (!r.mm)
        abort();
    char err[256];
    frame_scan(data, size, 1u << 20, visit, &r, err, sizeof err);
    abort_body(&r);
    merge_manager_app_removed(r.mm, "app-cap", true); /* every merged file deleted */
    merge_manager_destroy(r.mm);
    return 0;
}

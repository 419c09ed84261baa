/* SPDX-License-Identifier: Apache-2.0 */
/* The captured Spark 3.1.2 traffic in ../shared/vectors: every frame of every
 * c2s.bin and s2c.bin decodes; every frame re-encodes byte for byte; and the
 * decoded fields match the listing (decoded.txt) beside each capture. */
#include <config.h>

#include <check.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/blockmsg.h"
#include "proto/frame.h"
#include "proto/message.h"
#include "test_util.h"

static uint32_t crc32_of(const uint8_t *p, size_t n, uint32_t crc)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

struct text {
    char buf[8192];
    size_t len;
};

__attribute__((format(printf, 2, 3))) static void add(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n < sizeof(t->buf) - t->len ? (size_t)n : sizeof(t->buf) - t->len - 1;
}

static void add_strs(struct text *t, const struct proto_string_array *a)
{
    add(t, "[");
    for (uint32_t i = 0; i < a->count; i++)
        add(t, "%s'%s'", i ? ", " : "", a->items[i].data);
    add(t, "]");
}

static void add_ints(struct text *t, const struct proto_int_array *a)
{
    add(t, "[");
    for (uint32_t i = 0; i < a->count; i++)
        add(t, "%s%d", i ? ", " : "", a->items[i]);
    add(t, "]");
}

/* The listing's rendering of an RPC body, for the message kinds it contains. */
static void listing_of(const struct blockmsg *m, struct text *t)
{
    add(t, "%s(%d)", blockmsg_type_name(m->type), (int)m->type);
    switch (m->type) {
    case BLOCKMSG_OPEN_BLOCKS:
    case BLOCKMSG_REMOVE_BLOCKS:
        add(t, " appId='%s' execId='%s' blockIds=", m->u.open_blocks.app_id.data,
            m->u.open_blocks.exec_id.data);
        add_strs(t, &m->u.open_blocks.block_ids);
        break;
    case BLOCKMSG_REGISTER_EXECUTOR:
        add(t,
            " appId='%s' execId='%s' executorInfo={localDirs=", m->u.register_executor.app_id.data,
            m->u.register_executor.exec_id.data);
        add_strs(t, &m->u.register_executor.info.local_dirs);
        add(t, ", subDirsPerLocalDir=%d, shuffleManager='%s'}",
            m->u.register_executor.info.sub_dirs_per_local_dir,
            m->u.register_executor.info.shuffle_manager.data);
        break;
    case BLOCKMSG_STREAM_HANDLE:
        add(t, " streamId=%" PRId64 " numChunks=%d", m->u.stream_handle.stream_id,
            m->u.stream_handle.num_chunks);
        break;
    case BLOCKMSG_BLOCKS_REMOVED:
        add(t, " numRemovedBlocks=%d", m->u.blocks_removed.num_removed_blocks);
        break;
    case BLOCKMSG_FETCH_SHUFFLE_BLOCKS:
        add(t, " appId='%s' execId='%s' shuffleId=%d mapIds=[",
            m->u.fetch_shuffle_blocks.app_id.data, m->u.fetch_shuffle_blocks.exec_id.data,
            m->u.fetch_shuffle_blocks.shuffle_id);
        for (uint32_t i = 0; i < m->u.fetch_shuffle_blocks.map_ids.count; i++)
            add(t, "%s%" PRId64, i ? ", " : "", m->u.fetch_shuffle_blocks.map_ids.items[i]);
        add(t, "] reduceIds=[");
        for (uint32_t i = 0; i < m->u.fetch_shuffle_blocks.reduce_ids.count; i++) {
            add(t, "%s", i ? ", " : "");
            add_ints(t, &m->u.fetch_shuffle_blocks.reduce_ids.rows[i]);
        }
        add(t, "] batchFetchEnabled=%s",
            m->u.fetch_shuffle_blocks.batch_fetch_enabled ? "True" : "False");
        break;
    case BLOCKMSG_GET_LOCAL_DIRS_FOR_EXECUTORS:
        add(t, " appId='%s' execIds=", m->u.get_local_dirs.app_id.data);
        add_strs(t, &m->u.get_local_dirs.exec_ids);
        break;
    case BLOCKMSG_LOCAL_DIRS_FOR_EXECUTORS:
        add(t, " execIds=");
        add_strs(t, &m->u.local_dirs.exec_ids);
        add(t, " numLocalDirsByExec=");
        add_ints(t, &m->u.local_dirs.num_local_dirs_by_exec);
        add(t, " allLocalDirs=");
        add_strs(t, &m->u.local_dirs.all_local_dirs);
        break;
    default:
        add(t, " (not in the captures)");
    }
}

/* The listing's header line fields after "t=...s ". */
static void header_of(const struct proto_msg *m, size_t frame_len, struct text *t)
{
    add(t, "frameLength=%zu type=%s(%d)", frame_len, proto_msg_type_name(m->type), (int)m->type);
    switch (m->type) {
    case PROTO_CHUNK_FETCH_REQUEST:
    case PROTO_CHUNK_FETCH_SUCCESS:
        add(t, " streamId=%" PRId64 " chunkIndex=%d", m->u.chunk_fetch_request.stream_id,
            m->u.chunk_fetch_request.chunk_index);
        break;
    case PROTO_CHUNK_FETCH_FAILURE:
        add(t, " streamId=%" PRId64 " chunkIndex=%d errorString(%u chars)=",
            m->u.chunk_fetch_failure.stream_id, m->u.chunk_fetch_failure.chunk_index,
            m->u.chunk_fetch_failure.error.len);
        break;
    case PROTO_RPC_REQUEST:
    case PROTO_RPC_RESPONSE:
        add(t, " requestId=%" PRId64 " bodyLen=%u", m->u.rpc.request_id, m->u.rpc.body.len);
        break;
    case PROTO_RPC_FAILURE:
        add(t, " requestId=%" PRId64 " errorString(%u chars)=", m->u.rpc_failure.request_id,
            m->u.rpc_failure.error.len);
        break;
    case PROTO_STREAM_REQUEST:
        add(t, " streamId='%.*s'", (int)m->u.stream_request.stream_id.len,
            (const char *)m->u.stream_request.stream_id.data);
        break;
    case PROTO_STREAM_RESPONSE:
        add(t, " streamId='%.*s' byteCount=%" PRId64, (int)m->u.stream_response.stream_id.len,
            (const char *)m->u.stream_response.stream_id.data, m->u.stream_response.byte_count);
        break;
    case PROTO_STREAM_FAILURE:
        add(t, " streamId='%.*s' error(%u chars)=", (int)m->u.stream_failure.stream_id.len,
            (const char *)m->u.stream_failure.stream_id.data, m->u.stream_failure.error.len);
        break;
    default:
        break;
    }
}

/* State for checking one capture file against its listing section. */
struct capture_check {
    const char *where;
    const uint8_t *start;
    char **lines; /* listing lines of this direction's section */
    size_t nlines, line;
    int frames;
    /* after-frame (StreamResponse) payload being accumulated */
    uint64_t raw_expected, raw_seen;
    uint32_t raw_crc;
    char raw_listing[256];
};

/* Finds the next listing line that starts a frame ("#N @off ..."). */
static char *next_frame_line(struct capture_check *c)
{
    while (c->line < c->nlines && c->lines[c->line][0] != '#')
        c->line++;
    return c->line < c->nlines ? c->lines[c->line++] : NULL;
}

/* The listing line after the frame line that begins with prefix (before the next frame). */
static const char *detail_line(struct capture_check *c, const char *prefix)
{
    for (size_t i = c->line; i < c->nlines && c->lines[i][0] != '#'; i++) {
        const char *s = c->lines[i];
        while (*s == ' ')
            s++;
        if (strncmp(s, prefix, strlen(prefix)) == 0)
            return s + strlen(prefix);
    }
    return NULL;
}

static void check_payload(struct capture_check *c, const char *detail, uint32_t len, uint32_t crc)
{
    char want[128];
    ck_assert_msg(detail != NULL, "%s frame %d: listing has no payload line", c->where, c->frames);
    snprintf(want, sizeof(want), "payload %u bytes crc32=%08x", len, crc);
    ck_assert_msg(strncmp(detail, want, strlen(want)) == 0, "%s frame %d: got '%s', listing '%s'",
                  c->where, c->frames, want, detail);
}

static int visit(void *ctx, enum frame_event ev, const struct frame_out *out)
{
    struct capture_check *c = ctx;
    char err[256];
    if (ev == FRAME_RAW) {
        c->raw_seen += out->raw_len;
        c->raw_crc = crc32_of(out->raw, out->raw_len, c->raw_crc);
        if (out->raw_remaining == 0)
            check_payload(c, c->raw_listing, (uint32_t)c->raw_seen, c->raw_crc);
        return 0;
    }
    struct proto_msg m;
    size_t frame_len = out->content_len + PROTO_FRAME_HEADER_LEN;
    const uint8_t *frame = out->content - PROTO_FRAME_HEADER_LEN;
    ck_assert_msg(
        proto_msg_decode(out->type, out->content, out->content_len, &m, err, sizeof(err)) == 0,
        "%s frame %d: %s", c->where, c->frames, err);

    /* Re-encode: the same bytes, header and body. */
    struct proto_writer w;
    proto_writer_init(&w);
    proto_msg_encode(&w, &m);
    ck_assert_uint_eq(w.len, frame_len);
    ck_assert_msg(memcmp(w.buf, frame, frame_len) == 0, "%s frame %d re-encodes differently",
                  c->where, c->frames);

    /* The listing's header line for this frame. */
    char *line = next_frame_line(c);
    ck_assert_msg(line != NULL, "%s: more frames than the listing has", c->where);
    struct text want = {.len = 0};
    add(&want, "@%zu ", (size_t)(frame - c->start));
    ck_assert_msg(strstr(line, want.buf) != NULL, "%s frame %d: offset %s not in '%s'", c->where,
                  c->frames, want.buf, line);
    struct text got = {.len = 0};
    header_of(&m, frame_len, &got);
    ck_assert_msg(strstr(line, got.buf) != NULL, "%s frame %d:\n got     %s\n listing %s", c->where,
                  c->frames, got.buf, line);

    const struct proto_view *error = NULL;
    if (m.type == PROTO_CHUNK_FETCH_FAILURE)
        error = &m.u.chunk_fetch_failure.error;
    else if (m.type == PROTO_RPC_FAILURE)
        error = &m.u.rpc_failure.error;
    else if (m.type == PROTO_STREAM_FAILURE)
        error = &m.u.stream_failure.error;
    if (error) {
        /* The listing quotes the start of the text; compare its first line. */
        const char *quote = strstr(line, "chars)='");
        ck_assert_ptr_nonnull(quote);
        quote += strlen("chars)='");
        const char *nl = memchr(error->data, '\n', error->len);
        size_t first = nl ? (size_t)((const uint8_t *)nl - error->data) : error->len;
        ck_assert_msg(strncmp(quote, (const char *)error->data, first) == 0,
                      "%s frame %d: error text differs", c->where, c->frames);
    }

    if (m.type == PROTO_RPC_REQUEST || m.type == PROTO_RPC_RESPONSE) {
        const char *body_line = detail_line(c, "body(");
        ck_assert_ptr_nonnull(body_line);
        body_line = strstr(body_line, "): ") + 3;
        if (m.u.rpc.body.len == 0) {
            ck_assert_str_eq(body_line, "(empty body, 0 bytes)");
        } else {
            struct blockmsg bm;
            ck_assert_msg(
                blockmsg_decode(m.u.rpc.body.data, m.u.rpc.body.len, &bm, err, sizeof(err)) == 0,
                "%s frame %d: %s", c->where, c->frames, err);
            struct text desc = {.len = 0};
            listing_of(&bm, &desc);
            ck_assert_str_eq(desc.buf, body_line);
            /* The body re-encodes byte for byte from the decoded struct alone. */
            struct proto_writer bw;
            proto_writer_init(&bw);
            blockmsg_encode(&bw, &bm);
            ck_assert_uint_eq(bw.len, m.u.rpc.body.len);
            ck_assert_mem_eq(bw.buf, m.u.rpc.body.data, bw.len);
            proto_writer_free(&bw);
            blockmsg_free(&bm);
        }
    }
    if (m.type == PROTO_CHUNK_FETCH_SUCCESS) {
        const struct proto_view *b = &m.u.chunk_fetch_success.body;
        check_payload(c, detail_line(c, "body: "), b->len, crc32_of(b->data, b->len, 0));
    }
    if (m.type == PROTO_STREAM_RESPONSE) {
        c->raw_expected = (uint64_t)m.u.stream_response.byte_count;
        c->raw_seen = 0;
        c->raw_crc = 0;
        const char *d = detail_line(c, "+ ");
        if (c->raw_expected > 0) {
            ck_assert_ptr_nonnull(d);
            d = strstr(d, "payload ");
            ck_assert_ptr_nonnull(d);
            snprintf(c->raw_listing, sizeof(c->raw_listing), "%s", d);
        }
    }
    proto_writer_free(&w);
    c->frames++;
    return 0;
}

static char **split_lines(char *text, size_t *n)
{
    size_t cap = 64;
    char **lines = malloc(cap * sizeof(*lines));
    *n = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (*n == cap)
            lines = realloc(lines, (cap *= 2) * sizeof(*lines));
        lines[(*n)++] = l;
    }
    return lines;
}

/* Checks one direction of a scenario; returns the number of frames. */
static int check_capture(const char *dir, const char *side, char **lines, size_t nlines)
{
    char path[1024], where[1100], marker[64];
    size_t len;
    snprintf(path, sizeof(path), "%s/%s.bin", dir, side);
    snprintf(where, sizeof(where), "%s/%s", dir, side);
    uint8_t *data = harness_read_file(path, &len);
    ck_assert_msg(data != NULL, "cannot read %s", path);
    /* The listing's section for this direction. */
    snprintf(marker, sizeof(marker), "== connection 0 %s ", side);
    size_t from = 0;
    while (from < nlines && strncmp(lines[from], marker, strlen(marker)) != 0)
        from++;
    ck_assert_msg(from < nlines, "%s: no '%s' section in decoded.txt", where, marker);
    size_t to = from + 1;
    while (to < nlines && strncmp(lines[to], "== ", 3) != 0)
        to++;
    struct capture_check c = {
        .where = where, .start = data, .lines = lines + from + 1, .nlines = to - from - 1};
    char err[256];
    int rc = frame_scan(data, len, 0, visit, &c, err, sizeof(err));
    ck_assert_msg(rc == 0, "%s: %s", where, err);
    ck_assert_msg(next_frame_line(&c) == NULL, "%s: listing has more frames than decoded", where);
    int listed = 0;
    ck_assert(sscanf(strstr(lines[from], "calls, ") + 7, "%d frames", &listed) == 1);
    ck_assert_int_eq(c.frames, listed);
    free(data);
    return c.frames;
}

START_TEST(every_capture_decodes_reencodes_and_matches_listing)
{
    char vec[1024];
    snprintf(vec, sizeof(vec), "%s/vectors", harness_shared_dir());
    DIR *d = opendir(vec);
    ck_assert_msg(d != NULL, "cannot open %s (set SHUFFLE_SHARED_DIR)", vec);
    int scenarios = 0, frames = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char dir[1300], listing_path[1400];
        size_t len, nlines;
        snprintf(dir, sizeof(dir), "%s/%s", vec, e->d_name);
        snprintf(listing_path, sizeof(listing_path), "%s/decoded.txt", dir);
        char *listing = (char *)harness_read_file(listing_path, &len);
        if (!listing)
            continue;
        listing = realloc(listing, len + 1);
        listing[len] = '\0';
        char **lines = split_lines(listing, &nlines);
        frames += check_capture(dir, "c2s", lines, nlines);
        frames += check_capture(dir, "s2c", lines, nlines);
        scenarios++;
        free(lines);
        free(listing);
    }
    closedir(d);
    ck_assert_int_eq(scenarios, 16);
    ck_assert_int_ge(frames, 90);
}
END_TEST

/* The same captures fed to the incremental decoder in the splits the proxy
 * recorded (reads.tsv) and one byte at a time give the same frames. */
static int count_frames(const uint8_t *data, size_t len, const size_t *splits, size_t nsplits)
{
    struct frame_decoder dec;
    struct frame_out out;
    enum frame_event ev;
    int frames = 0;
    size_t pos = 0;
    frame_decoder_init(&dec, 0);
    for (size_t i = 0; pos < len; i++) {
        size_t n = nsplits ? (i < nsplits ? splits[i] : len - pos) : 1;
        const uint8_t *p = data + pos;
        size_t left = n;
        while ((ev = frame_decoder_next(&dec, &p, &left, &out)) != FRAME_NEED_MORE) {
            ck_assert_int_ne(ev, FRAME_ERROR);
            if (ev == FRAME_MESSAGE) {
                struct proto_msg m;
                char err[128];
                ck_assert_int_eq(
                    proto_msg_decode(out.type, out.content, out.content_len, &m, err, sizeof(err)),
                    0);
                frames++;
            }
        }
        pos += n;
    }
    ck_assert(frame_decoder_idle(&dec));
    frame_decoder_free(&dec);
    return frames;
}

START_TEST(captures_decode_in_recorded_splits_and_byte_by_byte)
{
    const char *scenarios[] = {"large-chunkfetch", "stream-to-disk", "fetchshuffleblocks-batch",
                               "error-missing-block"};
    for (size_t s = 0; s < sizeof(scenarios) / sizeof(*scenarios); s++) {
        for (int side = 0; side < 2; side++) {
            char path[1024];
            size_t len, tsv_len;
            snprintf(path, sizeof(path), "%s/vectors/%s/%s.bin", harness_shared_dir(), scenarios[s],
                     side ? "s2c" : "c2s");
            uint8_t *data = harness_read_file(path, &len);
            ck_assert_ptr_nonnull(data);
            snprintf(path, sizeof(path), "%s/vectors/%s/reads.tsv", harness_shared_dir(),
                     scenarios[s]);
            char *tsv = (char *)harness_read_file(path, &tsv_len);
            ck_assert_ptr_nonnull(tsv);
            tsv = realloc(tsv, tsv_len + 1);
            tsv[tsv_len] = '\0';
            /* reads.tsv rows: direction, offset, size (plus other columns). */
            size_t splits[4096], nsplits = 0;
            char *save = NULL;
            for (char *l = strtok_r(tsv, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char dir[16];
                unsigned long off, size;
                if (sscanf(l, "%*s %*s %*s %15s %lu %lu", dir, &off, &size) == 3 &&
                    strcmp(dir, side ? "s2c" : "c2s") == 0 && nsplits < 4096)
                    splits[nsplits++] = size;
            }
            int whole = count_frames(data, len, NULL, 0);
            if (nsplits)
                ck_assert_int_eq(count_frames(data, len, splits, nsplits), whole);
            ck_assert_int_gt(whole, 0);
            free(tsv);
            free(data);
        }
    }
}
END_TEST

CHECK_MAIN((.suite = "vectors", .name = "captures", .timeout_s = 120, .needs_shared_vectors = true),
           every_capture_decodes_reencodes_and_matches_listing,
           captures_decode_in_recorded_splits_and_byte_by_byte)

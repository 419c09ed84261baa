/* SPDX-License-Identifier: Apache-2.0 */
/* Incremental frame decoder (protocol.md 3.1).
 *
 * Bytes are fed in any split: one at a time or many frames at once. The decoder
 * yields, in order, complete frames (type + content) and, after a StreamResponse
 * or UploadStream, the raw after-frame bytes that belong to it. The frame length
 * is validated (and the type byte checked) before anything of that size is
 * allocated; content buffers grow only as bytes actually arrive.
 *
 * Typical loop:
 *   while ((ev = frame_decoder_next(&d, &data, &len, &out)) != FRAME_NEED_MORE) {
 *       if (ev == FRAME_ERROR) { log(d.error); close; break; }
 *       ...
 *   }
 */
#ifndef SHUFFLED_PROTO_FRAME_H
#define SHUFFLED_PROTO_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum frame_event {
    FRAME_NEED_MORE, /* all input consumed; feed more */
    FRAME_MESSAGE,   /* out->type/content/content_len hold one complete frame */
    FRAME_RAW,       /* out->raw/raw_len: after-frame data of the last message */
    FRAME_ERROR,     /* malformed input; d->error says why; the decoder stays failed */
};

struct frame_out {
    uint8_t type;
    /* FRAME_MESSAGE: the frame's bytes after the type byte. Valid until the next
     * call: either points into the caller's input (no copy) or into the
     * decoder's own buffer. */
    const uint8_t *content;
    size_t content_len;
    /* FRAME_RAW: a piece of after-frame data (points into the caller's input),
     * and how many raw bytes of this message are still to come after it. */
    const uint8_t *raw;
    size_t raw_len;
    uint64_t raw_remaining;
};

struct frame_decoder {
    uint64_t max_frame_bytes; /* limit on frameLen (whole frame incl. 8 length bytes) */
    /* private */
    uint8_t header[9];
    size_t header_have;
    uint64_t frame_len; /* content length expected (frameLen - 9) */
    uint8_t *buf;
    size_t buf_have;
    size_t buf_cap;
    uint64_t raw_remaining;
    size_t last_head_len; /* header + content of the last frame that announced raw bytes */
    bool failed;
    char error[160];
};

/* max_frame_bytes: 0 means Java's limit (frameLen - 8 <= 2147483646). */
void frame_decoder_init(struct frame_decoder *d, uint64_t max_frame_bytes);
void frame_decoder_free(struct frame_decoder *d);
/* Consumes input (advancing *data and *len) until one event is ready. */
enum frame_event frame_decoder_next(struct frame_decoder *d, const uint8_t **data, size_t *len,
                                    struct frame_out *out);
/* How much a reader should ask for next so that its read ends where a frame with after-frame
 * data is likely to end: the rest of the current raw data plus one more header like the one
 * that announced it (a stream of same-shaped uploads then arrives one whole body per read, in
 * place). 0 when there is no such guess (not inside raw data, or less than min_raw left). */
size_t frame_decoder_read_hint(const struct frame_decoder *d, size_t min_raw);
/* True when the decoder sits between frames (no partial frame or raw data). */
bool frame_decoder_idle(const struct frame_decoder *d);

/* Scans a byte string for complete frames without copying (used for capture
 * files and tests): calls fn for each frame; raw after-frame data is passed
 * as a FRAME_RAW event. Returns 0, or -1 with err set on malformed input. */
typedef int (*frame_visit_fn)(void *ctx, enum frame_event ev, const struct frame_out *out);
int frame_scan(const uint8_t *data, size_t len, uint64_t max_frame_bytes, frame_visit_fn fn,
               void *ctx, char *err, size_t errlen);

#endif

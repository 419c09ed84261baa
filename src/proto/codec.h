/* SPDX-License-Identifier: Apache-2.0 */
/* Big-endian reader and writer for Spark's network encodings (protocol.md 3.2).
 *
 * The reader works over a bounded buffer it does not own; every read checks the
 * remaining length first, so a malformed field can never read past the buffer.
 * After the first failure the reader is "poisoned": later reads fail too, and
 * proto_reader_error() says what went wrong, so decoders can read a whole message
 * and check once at the end.
 *
 * The writer appends to a growable heap buffer it owns. */
#ifndef SHUFFLED_PROTO_CODEC_H
#define SHUFFLED_PROTO_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A string or byte[] field. Decoders that own memory store a NUL after the
 * bytes (not counted in len), so ids can be used as C strings once the caller
 * has checked they hold no embedded NUL (strlen(data) == len). */
struct proto_bytes {
    char *data;
    uint32_t len;
};

/* A borrowed view of a str/byte[] field (transport messages point into the frame). */
struct proto_view {
    const uint8_t *data;
    uint32_t len;
};

struct proto_string_array {
    struct proto_bytes *items;
    uint32_t count;
};

struct proto_int_array {
    int32_t *items;
    uint32_t count;
};

struct proto_long_array {
    int64_t *items;
    uint32_t count;
};

/* int[][]: an explicit outer count, each inner array length-prefixed. */
struct proto_int_matrix {
    struct proto_int_array *rows;
    uint32_t count;
};

struct proto_reader {
    const uint8_t *buf;
    size_t len;
    size_t pos;
    const char *error; /* NULL while every read so far succeeded */
};

void proto_reader_init(struct proto_reader *r, const uint8_t *buf, size_t len);
static inline size_t proto_reader_remaining(const struct proto_reader *r)
{
    return r->len - r->pos;
}
static inline const char *proto_reader_error(const struct proto_reader *r)
{
    return r->error;
}
/* Marks the reader failed with a static message (kept if one is already set). */
void proto_reader_fail(struct proto_reader *r, const char *why);

/* Each returns true on success; on failure the output is zeroed and the reader
 * is poisoned. Arrays and strings are allocated with malloc and owned by the
 * caller (free with the matching proto_*_free). A negative length or count is
 * an error, and so is a count whose minimum encoded size exceeds what is left,
 * so no allocation is ever larger than the remaining input. */
static inline bool proto_read_u8(struct proto_reader *r, uint8_t *out);
bool proto_read_bool(struct proto_reader *r, bool *out);
static inline bool proto_read_i32(struct proto_reader *r, int32_t *out);
static inline bool proto_read_i64(struct proto_reader *r, int64_t *out);
bool proto_read_raw(struct proto_reader *r, size_t n, const uint8_t **out);
/* A str/byte[] borrowed from the buffer: data points into it, no NUL added. */
bool proto_read_bytes_borrowed(struct proto_reader *r, const uint8_t **data, uint32_t *len);
bool proto_read_bytes(struct proto_reader *r, struct proto_bytes *out);
bool proto_read_string_array(struct proto_reader *r, struct proto_string_array *out);
bool proto_read_int_array(struct proto_reader *r, struct proto_int_array *out);
bool proto_read_long_array(struct proto_reader *r, struct proto_long_array *out);
bool proto_read_int_matrix(struct proto_reader *r, struct proto_int_matrix *out);
/* A RoaringBitmap in portable format (self-delimiting, no length prefix):
 * validated and returned as its raw bytes. */
bool proto_read_bitmap(struct proto_reader *r, struct proto_bytes *out);

void proto_bytes_free(struct proto_bytes *b);
void proto_string_array_free(struct proto_string_array *a);
void proto_int_array_free(struct proto_int_array *a);
void proto_long_array_free(struct proto_long_array *a);
void proto_int_matrix_free(struct proto_int_matrix *m);
/* Copies (data, len) into an owned, NUL-terminated proto_bytes. */
bool proto_bytes_set(struct proto_bytes *b, const void *data, size_t len);
/* Convenience: owned copy of a C string. */
bool proto_bytes_set_str(struct proto_bytes *b, const char *s);

/* Size in bytes of the portable RoaringBitmap at buf, or 0 if it is malformed
 * or truncated. */
size_t proto_bitmap_size(const uint8_t *buf, size_t len);

struct proto_writer {
    uint8_t *buf;
    size_t len;
    size_t cap;
    bool failed; /* allocation failure or a field too long for an i32 length */
    bool fixed;  /* buf is the caller's storage: never grown nor freed */
};

void proto_writer_init(struct proto_writer *w);
/* A writer over the caller's storage (no allocation): writing past cap fails it. */
void proto_writer_init_fixed(struct proto_writer *w, void *storage, size_t cap);
void proto_writer_free(struct proto_writer *w);
void proto_writer_reset(struct proto_writer *w); /* len = 0, keeps the buffer */
/* Hands the buffer to the caller (free() it; a fixed writer's is a malloc'd copy, NULL
 * when that fails); the writer is left empty. */
uint8_t *proto_writer_take(struct proto_writer *w, size_t *len);
static inline bool proto_writer_reserve(struct proto_writer *w, size_t extra);
/* proto_writer_reserve's slow path: grows the buffer (or fails the writer). */
bool proto_writer_grow(struct proto_writer *w, size_t extra);

static inline void proto_write_u8(struct proto_writer *w, uint8_t v);
void proto_write_bool(struct proto_writer *w, bool v);
static inline void proto_write_i32(struct proto_writer *w, int32_t v);
static inline void proto_write_i64(struct proto_writer *w, int64_t v);
void proto_write_raw(struct proto_writer *w, const void *data, size_t n);
void proto_write_bytes(struct proto_writer *w, const void *data, size_t n); /* i32 n + bytes */
void proto_write_str(struct proto_writer *w, const char *s);                /* C string */
void proto_write_proto_bytes(struct proto_writer *w, const struct proto_bytes *b);
void proto_write_string_array(struct proto_writer *w, const struct proto_string_array *a);
void proto_write_int_array(struct proto_writer *w, const struct proto_int_array *a);
void proto_write_long_array(struct proto_writer *w, const struct proto_long_array *a);
void proto_write_int_matrix(struct proto_writer *w, const struct proto_int_matrix *m);
/* Overwrites 4/8 bytes at an earlier offset (for length fields known late). */
void proto_patch_i32(struct proto_writer *w, size_t at, int32_t v);
void proto_patch_i64(struct proto_writer *w, size_t at, int64_t v);

/* Big-endian helpers over raw memory. */
static inline uint32_t proto_load_u32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t proto_load_u64(const uint8_t *p)
{
    return ((uint64_t)proto_load_u32(p) << 32) | proto_load_u32(p + 4);
}
static inline void proto_store_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void proto_store_u64(uint8_t *p, uint64_t v)
{
    proto_store_u32(p, (uint32_t)(v >> 32));
    proto_store_u32(p + 4, (uint32_t)v);
}

/* The fixed-width reads and writes, inline: a message decodes or encodes a dozen of them,
 * and a call each (with its own checks) cost more than the field. Out-of-line parts handle
 * the failures. */
bool proto_read_short(struct proto_reader *r, size_t n, const char *what);

static inline bool proto_read_u8(struct proto_reader *r, uint8_t *out)
{
    *out = 0;
    if (r->error || r->len - r->pos < 1)
        return proto_read_short(r, 1, "truncated: byte past end");
    *out = r->buf[r->pos++];
    return true;
}

static inline bool proto_read_i32(struct proto_reader *r, int32_t *out)
{
    *out = 0;
    if (r->error || r->len - r->pos < 4)
        return proto_read_short(r, 4, "truncated: int past end");
    *out = (int32_t)proto_load_u32(r->buf + r->pos);
    r->pos += 4;
    return true;
}

static inline bool proto_read_i64(struct proto_reader *r, int64_t *out)
{
    *out = 0;
    if (r->error || r->len - r->pos < 8)
        return proto_read_short(r, 8, "truncated: long past end");
    *out = (int64_t)proto_load_u64(r->buf + r->pos);
    r->pos += 8;
    return true;
}

static inline bool proto_writer_reserve(struct proto_writer *w, size_t extra)
{
    return (!w->failed && extra <= w->cap - w->len) || proto_writer_grow(w, extra);
}

static inline void proto_write_u8(struct proto_writer *w, uint8_t v)
{
    if (!proto_writer_reserve(w, 1))
        return;
    w->buf[w->len++] = v;
}

static inline void proto_write_i32(struct proto_writer *w, int32_t v)
{
    if (!proto_writer_reserve(w, 4))
        return;
    proto_store_u32(w->buf + w->len, (uint32_t)v);
    w->len += 4;
}

static inline void proto_write_i64(struct proto_writer *w, int64_t v)
{
    if (!proto_writer_reserve(w, 8))
        return;
    proto_store_u64(w->buf + w->len, (uint64_t)v);
    w->len += 8;
}

#endif

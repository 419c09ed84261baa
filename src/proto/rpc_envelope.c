/* SPDX-License-Identifier: Apache-2.0 */
/* The RPC envelope codec; see rpc_envelope.h. */
#include <config.h>

#include "proto/rpc_envelope.h"

#include "proto/message.h"

#include <stdio.h>
#include <string.h>

static bool read_u16(struct proto_reader *r, uint16_t *out)
{
    const uint8_t *p;
    if (!proto_read_raw(r, 2, &p))
        return false;
    *out = (uint16_t)((p[0] << 8) | p[1]);
    return true;
}

/* A u16-length string with no NUL; what says why not in err. */
static bool read_string(struct proto_reader *r, const char *what, struct proto_view *out, char *err,
                        size_t errlen)
{
    uint16_t n = 0;
    const uint8_t *p = NULL;
    if (!read_u16(r, &n) || !proto_read_raw(r, n, &p)) {
        snprintf(err, errlen, "envelope %s: %s", what, proto_reader_error(r));
        return false;
    }
    if (n && memchr(p, '\0', n)) {
        snprintf(err, errlen, "envelope %s holds a NUL byte", what);
        return false;
    }
    out->data = p;
    out->len = n;
    return true;
}

static bool read_addr(struct proto_reader *r, const char *what, struct rpc_envelope_addr *a,
                      char *err, size_t errlen)
{
    uint8_t present = 0;
    memset(a, 0, sizeof *a);
    if (!proto_read_u8(r, &present)) {
        snprintf(err, errlen, "envelope %s: %s", what, proto_reader_error(r));
        return false;
    }
    if (present > 1) {
        snprintf(err, errlen, "envelope %s: presence byte %u (expected 0 or 1)", what, present);
        return false;
    }
    if (!present)
        return true;
    a->present = true;
    if (!read_string(r, what, &a->host, err, errlen))
        return false;
    if (!proto_read_i32(r, &a->port)) {
        snprintf(err, errlen, "envelope %s port: %s", what, proto_reader_error(r));
        return false;
    }
    if (a->port < 0 || a->port > 65535) {
        snprintf(err, errlen, "envelope %s port %d out of range", what, (int)a->port);
        return false;
    }
    return true;
}

int rpc_envelope_decode(const uint8_t *body, size_t len, struct rpc_envelope *e, char *err,
                        size_t errlen)
{
    struct proto_reader r;
    proto_reader_init(&r, body, len);
    memset(e, 0, sizeof *e);
    if (!read_addr(&r, "sender", &e->sender, err, errlen) ||
        !read_addr(&r, "receiver", &e->receiver, err, errlen) ||
        !read_string(&r, "name", &e->name, err, errlen))
        return -1;
    if (e->name.len == 0) {
        snprintf(err, errlen, "envelope name is empty");
        return -1;
    }
    size_t rest = proto_reader_remaining(&r);
    e->payload.data = body + (len - rest);
    e->payload.len = (uint32_t)rest;
    return 0;
}

static size_t addr_len(const struct rpc_envelope_addr *a)
{
    return a->present ? 1 + 2 + a->host.len + 4 : 1;
}

size_t rpc_envelope_header_len(const struct rpc_envelope *e)
{
    return addr_len(&e->sender) + addr_len(&e->receiver) + 2 + e->name.len;
}

static void write_string(struct proto_writer *w, const struct proto_view *s)
{
    if (s->len > RPC_ENVELOPE_MAX_STRING) {
        w->failed = true;
        return;
    }
    uint8_t n[2] = {(uint8_t)(s->len >> 8), (uint8_t)s->len};
    proto_write_raw(w, n, 2);
    proto_write_raw(w, s->data, s->len);
}

static void write_addr(struct proto_writer *w, const struct rpc_envelope_addr *a)
{
    proto_write_u8(w, a->present ? 1 : 0);
    if (!a->present)
        return;
    write_string(w, &a->host);
    proto_write_i32(w, a->port);
}

bool rpc_envelope_encode(struct proto_writer *w, const struct rpc_envelope *e)
{
    if (!proto_writer_reserve(w, rpc_envelope_header_len(e) + e->payload.len))
        return false;
    write_addr(w, &e->sender);
    write_addr(w, &e->receiver);
    write_string(w, &e->name);
    proto_write_raw(w, e->payload.data, e->payload.len);
    return !w->failed;
}

/* Appends a u16-length string to p; false if it is longer than 255 bytes. */
static bool head_string(uint8_t **p, const struct proto_view *s)
{
    if (s->len > 255)
        return false;
    (*p)[0] = 0;
    (*p)[1] = (uint8_t)s->len;
    if (s->len)
        memcpy(*p + 2, s->data, s->len);
    *p += 2 + s->len;
    return true;
}

static bool head_addr(uint8_t **p, const struct rpc_envelope_addr *a)
{
    *(*p)++ = a->present ? 1 : 0;
    if (!a->present)
        return true;
    if (!head_string(p, &a->host))
        return false;
    proto_store_u32(*p, (uint32_t)a->port);
    *p += 4;
    return true;
}

size_t rpc_frame_head(uint8_t *out, int64_t request_id, const struct rpc_envelope *e)
{
    bool ask = request_id >= 0;
    uint8_t *p = out + 9 + (ask ? 8 : 0) + 4;
    if (!head_addr(&p, &e->sender) || !head_addr(&p, &e->receiver) || !head_string(&p, &e->name))
        return 0;
    size_t head = (size_t)(p - out);
    size_t body = head - (9 + (ask ? 8 : 0) + 4) + e->payload.len;
    proto_store_u64(out, (uint64_t)(head + e->payload.len));
    out[8] = ask ? PROTO_RPC_REQUEST : PROTO_ONE_WAY_MESSAGE;
    if (ask)
        proto_store_u64(out + 9, (uint64_t)request_id);
    proto_store_u32(out + 9 + (ask ? 8 : 0), (uint32_t)body);
    return head;
}

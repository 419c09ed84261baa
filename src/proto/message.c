/* Transport message decode, encode and describe, all driven by the descriptions
 * in message_table.c. */
#include "proto/message.h"

#include <stdio.h>
#include <string.h>

#include "proto/message_table.h"

static const struct msgdesc *desc_of(int type)
{
    return (type >= 0 && type < PROTO_MSG_TYPE_COUNT) ? &proto_msg_descs[type] : NULL;
}

bool proto_msg_type_is_known(int type)
{
    return desc_of(type) != NULL;
}

const char *proto_msg_type_name(int type)
{
    const struct msgdesc *d = desc_of(type);
    return d ? d->name : "Unknown";
}

int proto_msg_decode(int type, const uint8_t *content, size_t len, struct proto_msg *out, char *err,
                     size_t errlen)
{
    struct proto_reader r;
    memset(out, 0, sizeof(*out));
    out->type = (enum proto_msg_type)type;
    if (!proto_msg_type_is_known(type)) {
        snprintf(err, errlen, "unknown message type %d", type);
        return -1;
    }
    proto_reader_init(&r, content, len);
    bool has_body = proto_msg_table_decode(type, &r, out);
    /* Only a message with an in-frame body may have bytes after its header. */
    if (!proto_reader_error(&r) && !has_body && proto_reader_remaining(&r) != 0)
        proto_reader_fail(&r, "trailing bytes after the message");
    if (proto_reader_error(&r)) {
        snprintf(err, errlen, "malformed %s (%zu bytes): %s", proto_msg_type_name(type), len,
                 proto_reader_error(&r));
        return -1;
    }
    return 0;
}

size_t proto_msg_header_len(const struct proto_msg *m)
{
    return PROTO_FRAME_HEADER_LEN + proto_msg_table_wire_len((int)m->type, m);
}

void proto_msg_encode_header(struct proto_writer *w, const struct proto_msg *m, uint64_t body_len)
{
    size_t header_len = proto_msg_header_len(m);
    if (!proto_writer_reserve(w, header_len))
        return;
    proto_write_i64(w, (int64_t)(header_len + body_len));
    proto_write_u8(w, (uint8_t)m->type);
    proto_msg_table_encode((int)m->type, w, m, body_len);
}

void proto_msg_encode(struct proto_writer *w, const struct proto_msg *m)
{
    const struct msgdesc *d = desc_of((int)m->type);
    const struct proto_view *body = d ? msgdesc_body(d, m) : NULL;
    uint64_t body_len = body ? body->len : 0;
    proto_msg_encode_header(w, m, body_len);
    if (body && body->len)
        proto_write_raw(w, body->data, body->len);
}

void proto_msg_describe(const struct proto_msg *m, char *buf, size_t buflen)
{
    const struct msgdesc *d = desc_of((int)m->type);
    struct msg_text t;
    msg_text_init(&t, buf, buflen);
    if (d)
        msgdesc_describe(d, &proto_msg_style, m, &t);
    else
        msg_text_add(&t, "Unknown(%d)", (int)m->type);
}

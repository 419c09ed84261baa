/* BlockTransferMessage decode, encode, free and describe, all driven by the
 * descriptions in blockmsg_table.c. */
#include "proto/blockmsg.h"

#include <stdio.h>
#include <string.h>

#include "proto/blockmsg_table.h"

static const struct msgdesc *desc_of(int type)
{
    return (type >= 0 && type < BLOCKMSG_TYPE_COUNT) ? &blockmsg_descs[type] : NULL;
}

const char *blockmsg_type_name(int type)
{
    const struct msgdesc *d = desc_of(type);
    return d ? d->name : "Unknown";
}

int blockmsg_decode(const uint8_t *buf, size_t len, struct blockmsg *out, char *err, size_t errlen)
{
    struct proto_reader r;
    uint8_t type;
    memset(out, 0, sizeof(*out));
    proto_reader_init(&r, buf, len);
    if (!proto_read_u8(&r, &type)) {
        snprintf(err, errlen, "empty message: no BlockTransferMessage type byte");
        return -1;
    }
    const struct msgdesc *d = desc_of(type);
    if (!d) {
        /* Java's byte is signed: 0xFF is reported as -1. */
        snprintf(err, errlen, "Unknown message type: %d", (int)(int8_t)type);
        return -1;
    }
    out->type = (enum blockmsg_type)type;
    blockmsg_table_decode(type, &r, out);
    if (proto_reader_error(&r)) {
        snprintf(err, errlen, "malformed %s (%zu bytes): %s", d->name, len, proto_reader_error(&r));
        blockmsg_free(out);
        return -1;
    }
    return 0;
}

void blockmsg_encode(struct proto_writer *w, const struct blockmsg *m)
{
    proto_write_u8(w, (uint8_t)m->type);
    blockmsg_table_encode((int)m->type, w, m);
}

void blockmsg_free(struct blockmsg *m)
{
    blockmsg_table_free((int)m->type, m);
    memset(m, 0, sizeof(*m));
}

void blockmsg_describe(const struct blockmsg *m, char *buf, size_t buflen)
{
    static const struct msgdesc unknown = {.name = "Unknown"};
    const struct msgdesc *d = desc_of((int)m->type);
    struct msg_text t;
    msg_text_init(&t, buf, buflen);
    msgdesc_describe(d ? d : &unknown, &blockmsg_style, m, &t);
}

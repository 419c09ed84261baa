/* SPDX-License-Identifier: Apache-2.0 */
/* Descriptions of described messages for logs and error texts: BlockTransfer
 * messages as Spark's toString prints them, transport messages as log lines. */
#ifndef SHUFFLED_PROTO_MSGDESC_DESCRIBE_H
#define SHUFFLED_PROTO_MSGDESC_DESCRIBE_H

#include "proto/msgdesc.h"

/* How a family of messages prints: BlockTransferMessages as Spark's
 * Name[a=1,b=2], transport messages as "Name a=1 b='text' body=3 bytes". */
struct msg_style {
    const char *open, *first_sep, *sep, *close;
    bool quote_text;       /* text as 'printable', long text elided */
    const char *size_unit; /* after a size: "" or " bytes" */
};

/* A bounded appender: output is cut at cap - 1, never overrun. */
struct msg_text {
    char *buf;
    size_t cap, len;
};
void msg_text_init(struct msg_text *t, char *buf, size_t cap);
__attribute__((format(printf, 2, 3))) void msg_text_add(struct msg_text *t, const char *fmt, ...);

/* Appends the name and the shown fields. */
void msgdesc_describe(const struct msgdesc *d, const struct msg_style *s, const void *msg,
                      struct msg_text *t);

#endif

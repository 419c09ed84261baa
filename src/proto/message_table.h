/* The transport message descriptions (spec section 4), one row per type. */
#ifndef SHUFFLED_PROTO_MESSAGE_TABLE_H
#define SHUFFLED_PROTO_MESSAGE_TABLE_H

#include "proto/message.h"
#include "proto/msgdesc.h"

#define PROTO_MSG_TYPE_COUNT (PROTO_MERGED_BLOCK_META_SUCCESS + 1)

/* Indexed by type code: proto_msg_descs[t].type == t. Offsets are into struct
 * proto_msg; the fields are those after the frame length and type byte. */
extern const struct msgdesc proto_msg_descs[PROTO_MSG_TYPE_COUNT];
/* "Name a=1 b='text' body=3 bytes", for logs and test listings. */
extern const struct msg_style proto_msg_style;

/* The engine's decode (true when the message has an in-frame body), encode
 * (frame fields after the type byte, body not included) and size, compiled per
 * row; a type outside the table does nothing. */
bool proto_msg_table_decode(int type, struct proto_reader *r, struct proto_msg *m);
void proto_msg_table_encode(int type, struct proto_writer *w, const struct proto_msg *m,
                            uint64_t body_len);
size_t proto_msg_table_wire_len(int type, const struct proto_msg *m);

#endif

/* The BlockTransferMessage descriptions (spec section 8), one row per type. */
#ifndef SHUFFLED_PROTO_BLOCKMSG_TABLE_H
#define SHUFFLED_PROTO_BLOCKMSG_TABLE_H

#include "proto/blockmsg.h"
#include "proto/msgdesc.h"

/* Indexed by type code: blockmsg_descs[t].type == t. Offsets are into struct blockmsg. */
extern const struct msgdesc blockmsg_descs[BLOCKMSG_TYPE_COUNT];
/* Spark's toString: Name[field=value,...] (commons-lang short prefix style). */
extern const struct msg_style blockmsg_style;

/* The engine's decode, encode (fields after the type byte) and free, compiled
 * per row; a type outside the table does nothing. */
void blockmsg_table_decode(int type, struct proto_reader *r, struct blockmsg *m);
void blockmsg_table_encode(int type, struct proto_writer *w, const struct blockmsg *m);
void blockmsg_table_free(int type, struct blockmsg *m);

#endif

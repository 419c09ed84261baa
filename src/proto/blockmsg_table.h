/* The BlockTransferMessage descriptions (spec section 8), one row per type. */
#ifndef SHUFFLED_PROTO_BLOCKMSG_TABLE_H
#define SHUFFLED_PROTO_BLOCKMSG_TABLE_H

#include "proto/blockmsg.h"
#include "proto/msgdesc.h"

/* Indexed by type code: blockmsg_descs[t].type == t. Offsets are into struct blockmsg. */
extern const struct msgdesc blockmsg_descs[BLOCKMSG_TYPE_COUNT];
/* Spark's toString: Name[field=value,...] (commons-lang short prefix style). */
extern const struct msg_style blockmsg_style;

#endif

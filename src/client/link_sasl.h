/* SPDX-License-Identifier: Apache-2.0 */
/* SASL's security layer (QOP auth-conf, spark.authenticate.enableSaslEncryption) as a client
 * link (link.h), in Spark's framing (protocol.md 12.3): both ways `i64 len | token` pieces, len
 * counting its own 8 bytes, token being what the mechanism wraps one piece of plaintext into
 * (Cyrus's token without its 4-byte length). Spark frames may span pieces. */
#ifndef SHUFFLE_CLIENT_LINK_SASL_H
#define SHUFFLE_CLIENT_LINK_SASL_H

#include "client/link.h"

/* Fills l with the layer of sasl_conn (a Cyrus sasl_conn_t whose handshake completed with an
 * SSF above 1). The link borrows sasl_conn: its owner (the auth phase, which the transport
 * frees after the link) must keep it until link_clear. 0, or -1 (no memory). */
int link_sasl_new(struct link *l, void *sasl_conn);

#endif

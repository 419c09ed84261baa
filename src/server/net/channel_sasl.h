/* SPDX-License-Identifier: Apache-2.0 */
/* SASL's security layer (QOP auth-conf, spark.authenticate.enableSaslEncryption) as a channel
 * over another one: every byte both ways is wrapped by the negotiated SASL mechanism, in the
 * framing Spark uses (docs/protocol.md 12.3). */
#ifndef SHUFFLED_SERVER_NET_CHANNEL_SASL_H
#define SHUFFLED_SERVER_NET_CHANNEL_SASL_H

struct channel;

/* Wraps inner (taken) with the security layer of sasl_conn (a Cyrus sasl_conn_t whose
 * handshake completed with an SSF > 0). The channel calls release(owner) when it is destroyed
 * (the owner then disposes of sasl_conn and what its callbacks use). NULL when out of memory
 * or the connection has no security layer (nothing is taken then). */
struct channel *channel_sasl_new(struct channel *inner, void *sasl_conn,
                                 void (*release)(void *owner), void *owner);

/* Frees ch (releasing its owner) without the channel below it (one never installed). */
void channel_sasl_abandon(struct channel *ch);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* A cipher put under a TLS channel once the auth handshake's answer has left: Spark 4 adds its
 * AES handlers in front of the SslHandler (pipeline.addFirst), so with spark.ssl.rpc and
 * spark.network.crypto both on, every byte after the AuthMessage records is AES(TLS records)
 * (../vectors-40/tls-plus-aes, docs/tls.md). The connection installs this channel with
 * conn_set_channel, i.e. once every queued answer (the AuthMessage reply) went out through
 * TLS over the socket; its first use then moves the TLS records onto the cipher
 * (channel_tls_set_transport) and from there on it is the TLS channel. SASL auth-conf goes the
 * same way (Spark's SaslEncryption.addToChannel uses addFirst too). */
#ifndef SHUFFLED_SERVER_NET_CHANNEL_UNDER_TLS_H
#define SHUFFLED_SERVER_NET_CHANNEL_UNDER_TLS_H

#include "server/net/channel.h"

/* tls: the connection's TLS channel; cipher: a channel over channel_tls_transport(tls), taken
 * (freed without the channel below it if never installed); peer: for the log. NULL when out of
 * memory (nothing taken). */
struct channel *channel_under_tls_new(struct channel *tls, struct channel *cipher,
                                      void (*abandon)(struct channel *cipher), const char *peer);

/* Where a security layer negotiated on a connection whose channel is cur goes: cur itself, or
 * on a TLS connection the channel beneath TLS. */
struct channel *channel_under_tls_base(struct channel *cur);
/* ch, made over channel_under_tls_base(cur): ch itself without TLS, else ch put under TLS at
 * its first use (channel_under_tls_new). NULL when out of memory (ch is then abandoned). */
struct channel *channel_under_tls_stack(struct channel *cur, struct channel *ch,
                                        void (*abandon)(struct channel *cipher), const char *peer);

#endif

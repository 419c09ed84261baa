/* SPDX-License-Identifier: Apache-2.0 */
/* The AES-CTR channel (protocol.md 12.4 step 4, 12.5): Spark's TransportCipher as a struct channel
 * stacked on another one (the plain socket). Every byte read is decrypted with the session's
 * read stream, every byte written encrypted with its write stream; the ciphertext is as long
 * as the plaintext, and there is no framing of its own.
 *
 * Writes take plaintext a window (at most CHANNEL_AES_WINDOW bytes) at a time: encrypt it,
 * write it, and count it taken; ciphertext the socket did not take is held and leaves first,
 * on the next write or channel_flush (channel.h's held-back output). A call stops when the
 * socket is full, so at most one window is ever held. sendfile is pread of the file into the
 * window, encrypt in place, write: the window is the connection's only buffer, and one beyond
 * CHANNEL_AES_KEEP bytes is given back whenever nothing is held. */
#ifndef SHUFFLED_SERVER_NET_CHANNEL_AES_H
#define SHUFFLED_SERVER_NET_CHANNEL_AES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/aes_session.h"
#include "server/net/channel.h"
#include "server/net/channel_cipher.h"

/* Wraps inner (taken: destroyed with the new channel) with session s. NULL when out of memory
 * or libcrypto refuses the key (inner is then left as it was). */
struct channel *channel_aes_new(struct channel *inner, const struct aes_session *s);

/* For the server: n candidate sessions (two for 3.2+, one per engine version; one for v1,
 * where the pick is a check that the client holds the session, which a replayed
 * ClientChallenge does not). The first AES_PICK_BYTES bytes read choose (aes_session_pick).
 * Until then a write fails with EPROTO (a server speaks only after the client's first
 * request, so that is a bug); a read whose first bytes fit no candidate fails with EBADMSG:
 * close the connection. */
struct channel *channel_aes_new_undecided(struct channel *inner, const struct aes_session *cand,
                                          int n);

void channel_aes_allow(struct channel *ch, enum channel_aes_cipher allow);
/* The undecided channel will sit under TLS (channel_under_tls.h): the client's first bytes
 * decrypt to a TLS record header, not a frame's (aes_tls_record_header_sane). */
void channel_aes_expect_tls_records(struct channel *ch);
/* Frees ch without the channel below it (one never installed, whose inner is still used). */
void channel_aes_abandon(struct channel *ch);

/* A decided channel with the AES-GCM cipher (Spark 4.0 AES/GCM/NoPadding) under session s's
 * key (the IVs are not used); for a client, and tests. NULL as channel_aes_new. */
struct channel *channel_aes_new_gcm(struct channel *inner, const struct aes_session *s);

void channel_aes_set_hooks(struct channel *ch, const struct channel_aes_hooks *hooks, void *arg);

/* True when ch encrypts with GCM (false for CTR and while undecided). */
bool channel_aes_is_gcm(const struct channel *ch);
/* Bytes of memory ch holds for input not yet handed out (GCM's read buffers). */
size_t channel_aes_input_bytes(const struct channel *ch);

/* The protocol of the session in use, or -1 while undecided. For logs and metrics. */
int channel_aes_protocol(const struct channel *ch);
/* Bytes of write window the channel holds now (memory metrics, tests). */
size_t channel_aes_window_bytes(const struct channel *ch);
/* Bytes decrypted and encrypted so far (metrics). */
void channel_aes_counts(const struct channel *ch, uint64_t *decrypted, uint64_t *encrypted);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* The AES-CTR channel of spark.network.crypto (protocol.md 12.4 step 4) as a client link
 * (link.h): each direction one endless keystream over the raw bytes below the framing, so
 * ciphertext and plaintext have the same length and both are transformed in place. */
#ifndef SHUFFLE_CLIENT_LINK_AES_H
#define SHUFFLE_CLIENT_LINK_AES_H

#include "client/link.h"

struct aes_session;

/* Fills l with a cipher holding the session's two streams (the session may be wiped
 * afterwards). 0, or -1 (out of memory, a cipher failure). */
int link_aes_new(struct link *l, const struct aes_session *s);

#endif

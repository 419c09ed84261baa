/* SPDX-License-Identifier: Apache-2.0 */
/* Spark 4.0's AES-GCM channel cipher (spark.network.crypto.cipher=AES/GCM/NoPadding; the
 * format is src/crypto/gcm_message.h) as a client link (link.h): each write, i.e. each frame,
 * is sealed as one message, as Spark's client does; reads verify segment by segment and hand
 * out their plaintext, whatever the messages' sizes. */
#ifndef SHUFFLE_CLIENT_LINK_GCM_H
#define SHUFFLE_CLIENT_LINK_GCM_H

#include "client/link.h"

struct aes_session;

/* Fills l with a GCM cipher under the session's key (its IVs are not used). 0, or -1. */
int link_gcm_new(struct link *l, const struct aes_session *s);

#endif

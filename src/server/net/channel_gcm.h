/* SPDX-License-Identifier: Apache-2.0 */
/* The AES-GCM cipher of the AES channel (Spark 4.0's spark.network.crypto.cipher=
 * AES/GCM/NoPadding; src/crypto/gcm_message.h has the format). Reads feed the socket's bytes
 * to a gcm_reader and hand out each verified segment's plaintext; writes make one message of
 * what a call offers (a writev's bytes, or a frame's header written with "more" and the file
 * body after it, read with preadv straight into the segments' places) and seal it segment by
 * segment through a window of two segments, held back as CTR's are. Memory: the window, a
 * CHANNEL_GCM_RAW input buffer and the reader's segment buffer, the latter two given back
 * whenever no message is half read. */
#ifndef SHUFFLED_SERVER_NET_CHANNEL_GCM_H
#define SHUFFLED_SERVER_NET_CHANNEL_GCM_H

#include "crypto/aes_session.h"

struct cipher_channel;

/* The plaintext of one message at most (a longer write becomes several). */
#define CHANNEL_GCM_MESSAGE_MAX (64u << 20)
/* Bytes written with "more" that wait in the window for what follows at once, at most. */
#define CHANNEL_GCM_STAGE_MAX GCM_SEGMENT_PLAIN

/* Turns c (decided or not) into a GCM channel under s's key. 0, or -1 (out of memory). */
int channel_gcm_start(struct cipher_channel *c, const struct aes_session *s);

#endif

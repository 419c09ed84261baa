/* SPDX-License-Identifier: Apache-2.0 */
/* What the daemon's DIGEST-MD5 challenge offers for QOP auth-conf (sasl_encryption).
 * Debian 12's Cyrus builds its "3des" and "des" layers on OpenSSL 3, where they fail to
 * initialise ("couldn't init cipher"), and a Java client prefers 3des when offered it
 * (protocol.md 12.2): the challenge is cut to the cipher that works, rc4, so such a client
 * picks it instead of failing after the handshake. */
#ifndef SHUFFLED_SERVER_NET_SASL_OFFER_H
#define SHUFFLED_SERVER_NET_SASL_OFFER_H

#include <stddef.h>

/* Copies the challenge s1 (len bytes) to out (cap bytes) with its cipher="..." list replaced
 * by "rc4" when it holds rc4. Returns the new length; 0 when nothing was to change (no list,
 * no rc4 in it, or out too small): send s1 as it is. */
size_t sasl_offer_rc4_only(const char *s1, size_t len, char *out, size_t cap);

#endif

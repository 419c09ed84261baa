/* SPDX-License-Identifier: Apache-2.0 */
/* The tls_protocols key's values, apart from the TLS context so that the config code can check
 * them without depending on it. */
#ifndef SHUFFLED_SERVER_NET_TLS_PROTOCOLS_H
#define SHUFFLED_SERVER_NET_TLS_PROTOCOLS_H

#include <stddef.h>

/* "TLSv1.2,TLSv1.3" (any order, one or both) -> the lowest and highest protocol version
 * (TLS1_2_VERSION, TLS1_3_VERSION); min/max may be NULL. 0, or -1 with why filled. */
int tls_protocols_parse(const char *list, int *min, int *max, char *why, size_t whylen);

#endif

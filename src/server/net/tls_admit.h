/* SPDX-License-Identifier: Apache-2.0 */
/* Admission of TLS handshakes, process-wide: each one costs the daemon a key exchange and a
 * signature as soon as its ClientHello arrives, so a flood of ClientHellos could take the CPU.
 * A handshake is admitted while fewer than max_in_progress are under way (begun, not ended)
 * and while a token bucket of max_per_second tokens (refilled at that rate, a second's burst)
 * has one left. 0 turns either limit off. Thread-safe. */
#ifndef SHUFFLED_SERVER_NET_TLS_ADMIT_H
#define SHUFFLED_SERVER_NET_TLS_ADMIT_H

#include <stdint.h>

enum tls_admit_verdict {
    TLS_ADMIT_OK,
    TLS_ADMIT_IN_PROGRESS, /* max_in_progress handshakes are under way */
    TLS_ADMIT_RATE,        /* max_per_second were begun in the last second */
};

/* Takes a place for one handshake at now_ms (a monotonic clock). After TLS_ADMIT_OK the caller
 * calls tls_admit_end once, when the handshake ends (done, failed or its connection closed). */
enum tls_admit_verdict tls_admit_begin(uint32_t max_in_progress, uint32_t max_per_second,
                                       uint64_t now_ms);
void tls_admit_end(void);
/* Handshakes under way now. */
uint32_t tls_admit_in_progress(void);
/* Forgets every place and token (tests). */
void tls_admit_reset(void);

#endif

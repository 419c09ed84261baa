/* SPDX-License-Identifier: Apache-2.0 */
/* Loopback ports for tests that need one nobody listens on. */
#ifndef SHUFFLED_TESTS_HARNESS_PORT_H
#define SHUFFLED_TESTS_HARNESS_PORT_H

/* A 127.0.0.1 port the kernel just handed out and that was closed again: nothing listens on
 * it (connects are refused) until someone binds it. -1 on failure. */
int harness_free_port(void);

#endif

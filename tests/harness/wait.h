/* SPDX-License-Identifier: Apache-2.0 */
/* Bounded waiting: tests poll for a condition instead of sleeping a guessed time. */
#ifndef SHUFFLED_TESTS_HARNESS_WAIT_H
#define SHUFFLED_TESTS_HARNESS_WAIT_H

#include <stdbool.h>

void harness_sleep_ms(long ms);
/* Calls done(arg) every interval_ms until it returns true or timeout_ms have passed;
 * returns its last answer (it is always asked once more at the deadline). */
bool harness_wait_until(bool (*done)(void *arg), void *arg, long timeout_ms, long interval_ms);

#endif

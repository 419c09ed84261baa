/* SPDX-License-Identifier: Apache-2.0 */
/* check(3) assertions over the test client, shared by the integration test programs. */
#ifndef SHUFFLED_TESTS_TEXPECT_H
#define SHUFFLED_TESTS_TEXPECT_H

#include <stddef.h>
#include <stdint.h>

#include "tclient.h"

uint64_t hash_of(const void *p, size_t n);
void expect_fetch_ok(int fd, int64_t sid, int32_t idx, const void *want, size_t n);
void expect_fetch_fail(int fd, int64_t sid, int32_t idx, const char *text);
void expect_stream_ok(int fd, const char *name, const void *want, size_t n);
void expect_stream_fail(int fd, const char *name, const char *text);
void expect_echo(int fd); /* an echo RPC round trip works on fd */

#endif

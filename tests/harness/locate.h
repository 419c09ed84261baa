/* SPDX-License-Identifier: Apache-2.0 */
/* Where the tests find what they did not make: the shared vectors and the build tree. */
#ifndef SHUFFLED_TESTS_HARNESS_LOCATE_H
#define SHUFFLED_TESTS_HARNESS_LOCATE_H

#include <stddef.h>

/* $SHUFFLE_SHARED_DIR (set by `make check` from configure), else ../shared. */
const char *harness_shared_dir(void);
/* $SHUFFLE_BUILDDIR (set by `make check`), else the current directory. */
const char *harness_build_dir(void);
/* out = the build dir / rel (e.g. "shuffled", "tests/integration/shuffled-test"). */
void harness_build_path(char *out, size_t outlen, const char *rel);

#endif

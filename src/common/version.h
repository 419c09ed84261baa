/* SPDX-License-Identifier: Apache-2.0 */
/* What every binary says to --version (and the daemon's shuffled_build_info): the package
 * version and the license, from configure (AC_INIT, PACKAGE_LICENSE). Sources compiled
 * without configure's config.h (scripts/fuzz) say "unknown". */
#ifndef SHUFFLED_COMMON_VERSION_H
#define SHUFFLED_COMMON_VERSION_H

#include <stdio.h>

#if defined(__has_include)
#if __has_include("config.h")
#include "config.h"
#endif
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif
#ifndef PACKAGE_LICENSE
#define PACKAGE_LICENSE "Apache-2.0"
#endif

static inline void print_version(const char *program)
{
    printf("%s (shuffled) %s\nLicense: %s (Apache License, Version 2.0)\n", program,
           PACKAGE_VERSION, PACKAGE_LICENSE);
}

#endif

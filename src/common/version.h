/* What every binary says to --version (and the daemon's shuffled_build_info): the package
 * version and the license, from configure (AC_INIT, PACKAGE_LICENSE). */
#ifndef SHUFFLED_COMMON_VERSION_H
#define SHUFFLED_COMMON_VERSION_H

#include <stdio.h>

#include "config.h"

static inline void print_version(const char *program)
{
    printf("%s (shuffled) %s\nLicense: %s (Apache License, Version 2.0)\n", program,
           PACKAGE_VERSION, PACKAGE_LICENSE);
}

#endif

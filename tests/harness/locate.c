/* SPDX-License-Identifier: Apache-2.0 */
/* See locate.h. */
#include <config.h>

#include "locate.h"

#include <stdio.h>
#include <stdlib.h>

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

const char *harness_shared_dir(void)
{
    return env_or("SHUFFLE_SHARED_DIR", "../shared");
}

const char *harness_build_dir(void)
{
    return env_or("SHUFFLE_BUILDDIR", ".");
}

void harness_build_path(char *out, size_t outlen, const char *rel)
{
    snprintf(out, outlen, "%s/%s", harness_build_dir(), rel);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The effective configuration as JSON (shuffled -T): every key with its value, defaults
 * filled in, in the order of shuffled.json(5). The output parses back to the same config. */
#ifndef SHUFFLED_SERVER_CONFIG_DUMP_H
#define SHUFFLED_SERVER_CONFIG_DUMP_H

#include <stdio.h>

#include "server/ops/config.h"

/* Returns 0, or -1 when out of memory or out could not be written. */
int config_dump(const struct shuffled_config *cfg, FILE *out);

#endif

/* SIGHUP: what a new configuration changes in a running daemon. Only log_level applies
 * live; the other keys are read by the I/O threads without locks (or were consumed at
 * start), so a change to them is reported as needing a restart and not applied. */
#ifndef SHUFFLED_SERVER_CONFIG_RELOAD_H
#define SHUFFLED_SERVER_CONFIG_RELOAD_H

#include <stddef.h>

#include "server/config.h"

/* Applies next's live keys to *live (and to the logger). Writes into restart the
 * comma-separated keys that differ but need a restart ("" if none). Returns the number
 * of such keys, or -1 when out of memory (nothing applied). */
int config_reload_apply(struct shuffled_config *live, const struct shuffled_config *next,
                        char *restart, size_t restartlen);

#endif

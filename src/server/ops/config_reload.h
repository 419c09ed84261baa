/* SPDX-License-Identifier: Apache-2.0 */
/* SIGHUP: what a new configuration changes in a running daemon.
 * Design: the daemon publishes whole configurations through an atomic pointer
 * (server_config(), server.h). A reload loads and validates the new file completely, gives
 * the keys that cannot change live their running values back, lets the service prepare
 * (allowed_local_dir_roots), and only then publishes the new pointer. Replaced configurations
 * stay allocated until exit (reloads are rare), so a thread that loaded the old pointer keeps
 * reading valid memory without locks; each reader loads the pointer once per decision.
 * Live: log_level, max_connections, max_frame_bytes (new connections), max_chunks_in_flight,
 * max_chunks_per_connection, write_high/low_water_bytes, idle_timeout_ms, shutdown_grace_ms,
 * allowed_local_dir_roots. Everything else needs a restart. */
#ifndef SHUFFLED_SERVER_CONFIG_RELOAD_H
#define SHUFFLED_SERVER_CONFIG_RELOAD_H

#include <stddef.h>

#include "server/ops/config.h"

/* Makes next (loaded and validated) fit to replace live: each restart-only key that differs
 * gets live's value back in next and is named in restart; each live key that differs is named
 * in applied (comma-separated lists, "" if none). Returns the number of restart-only keys that
 * differ, or -1 when out of memory (next is then still valid but must not be published). */
int config_reload_prepare(const struct shuffled_config *live, struct shuffled_config *next,
                          char *applied, size_t appliedlen, char *restart, size_t restartlen);

#endif

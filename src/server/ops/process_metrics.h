/* SPDX-License-Identifier: Apache-2.0 */
/* The standard process_* Prometheus family that dashboards expect of any process: CPU
 * seconds, resident and virtual memory, start time (the open-fd pair is in metrics.c). */
#ifndef SHUFFLED_SERVER_OPS_PROCESS_METRICS_H
#define SHUFFLED_SERVER_OPS_PROCESS_METRICS_H

#include <stdio.h>

/* Appends process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes and process_start_time_seconds, read from /proc/self/stat
 * (nothing if it cannot be read). */
void process_metrics_render(FILE *out);
/* Seconds since this process started (0 if /proc cannot tell). */
double process_uptime_seconds(void);

#endif

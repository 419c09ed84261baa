/* SPDX-License-Identifier: Apache-2.0 */
/* Spark's own External Shuffle Service metric names (protocol.md 9.6), as Spark's PrometheusServlet
 * exposes a standalone service's "shuffleService" source: metrics_shuffleService_<name>_<field>
 * with {type="timers"|"counters"|"gauges"}, so a dashboard built for Spark's service reads
 * shuffled. Computed from shuffled's own series; the mapping is in docs/metrics.md. */
#ifndef SHUFFLED_SERVER_OPS_SPARK_METRICS_H
#define SHUFFLED_SERVER_OPS_SPARK_METRICS_H

#include <stdio.h>

/* Appends the Spark-named series to a Prometheus exposition. Returns 0, or -1 if writing
 * failed. Thread-safe (the meters' moving averages are advanced under a lock). */
int spark_metrics_render(FILE *out);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* push-floor's figures (push_floor_report.c): a line per run, then the summary. */
#ifndef SHUFFLE_TOOLS_PUSH_FLOOR_REPORT_H
#define SHUFFLE_TOOLS_PUSH_FLOOR_REPORT_H

#include <stdint.h>

#include "tools/push_floor_setup.h"

/* One run's figures. */
struct floor_sample {
    int64_t server_ns, client_ns;
    double wall_s;
    uint64_t socket_reads, waits; /* the server's */
};

void floor_print_header(const struct floor_workload *w, const struct floor_opts *o);
void floor_print_run(const struct floor_workload *w, enum floor_mode m, int run,
                     const struct floor_sample *s);
/* samples[mode * repeat + run] */
void floor_print_summary(const struct floor_workload *w, const struct floor_opts *o,
                         const struct floor_sample *samples);

#endif

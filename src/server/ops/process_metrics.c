/* SPDX-License-Identifier: Apache-2.0 */
/* See process_metrics.h. Linux only: /proc/self/stat and /proc/stat's btime. */
#include <config.h>

#include "server/ops/process_metrics.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Seconds since the epoch at boot (/proc/stat "btime"), or -1. */
static long long boot_time(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    char line[256];
    long long btime = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "btime ", 6) == 0)
            btime = atoll(line + 6);
    fclose(f);
    return btime;
}

double process_uptime_seconds(void)
{
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return 0;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    unsigned long long start = 0;
    int k = 3;
    for (char *tok = p ? strtok(p + 2, " ") : NULL; tok && k <= 22; tok = strtok(NULL, " "), k++)
        if (k == 22)
            start = strtoull(tok, NULL, 10);
    struct timespec now;
    if (!start || clock_gettime(CLOCK_BOOTTIME, &now) != 0)
        return 0;
    double up =
        (double)now.tv_sec + now.tv_nsec / 1e9 - (double)start / (double)sysconf(_SC_CLK_TCK);
    return up > 0 ? up : 0;
}

static void gauge(FILE *out, const char *name, const char *type, const char *help, double v)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
}

void process_metrics_render(FILE *out)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* the command name may hold spaces and parentheses: fields start after the last ')' */
    char *p = strrchr(buf, ')');
    if (!p)
        return;
    unsigned long long field[64] = {0}; /* field[k] = stat field k (1-based, as in proc(5)) */
    int k = 3;
    for (char *tok = strtok(p + 2, " "); tok && k < 64; tok = strtok(NULL, " "), k++)
        field[k] = strtoull(tok, NULL, 10);
    if (k <= 24)
        return;
    double hz = (double)sysconf(_SC_CLK_TCK), page = (double)sysconf(_SC_PAGESIZE);
    gauge(out, "process_cpu_seconds_total", "counter", "User and system CPU time, in seconds.",
          (double)(field[14] + field[15]) / hz);
    gauge(out, "process_resident_memory_bytes", "gauge", "Resident memory, in bytes.",
          (double)field[24] * page);
    gauge(out, "process_virtual_memory_bytes", "gauge", "Virtual memory, in bytes.",
          (double)field[23]);
    long long btime = boot_time();
    if (btime >= 0)
        gauge(out, "process_start_time_seconds", "gauge",
              "Start time since the Unix epoch, in seconds.",
              (double)btime + (double)field[22] / hz);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* push-floor's figures: one line per run, then per mode the least and median CPU per block of
 * each side, and what the modes' differences say: the socket's share, the page cache's share
 * (fresh pages against pages already cached), splice against recv + pwrite, the floor's
 * server/client ratio and, given the bench's figures, the daemon's distance from it. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/push_floor_report.h"

static void cpu_model(char *out, size_t cap)
{
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof(line), f)) {
        const char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            snprintf(out, cap, "%s", colon + 2);
            out[strcspn(out, "\n")] = '\0';
            break;
        }
    }
    if (f)
        fclose(f);
}

void floor_print_header(const struct floor_workload *w, const struct floor_opts *o)
{
    char model[256];
    cpu_model(model, sizeof(model));
    double load[3] = {0};
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = -1;
        fclose(f);
    }
    printf("cpu %s; %ld online; load average %.2f %.2f %.2f\n", model,
           sysconf(_SC_NPROCESSORS_ONLN), load[0], load[1], load[2]);
    printf("blocks %llu, %.1f MB, mean %.0f B, %u partitions; %d connections, %d in flight; "
           "%d runs per mode; client %s; acks %s\n",
           (unsigned long long)w->count, (double)w->bytes / 1e6,
           (double)w->bytes / (double)w->count, w->partitions, o->conns, o->in_flight, o->repeat,
           o->from_memory ? "sends from memory" : "preads each block from the page cache",
           o->coalesce_acks ? "one send per read callback" : "one send each");
}

void floor_print_run(const struct floor_workload *w, enum floor_mode m, int run,
                     const struct floor_sample *s)
{
    double n = (double)w->count;
    printf("run %d %-11s server %6.2f us/block  client %6.2f us/block  %8.0f blocks/s  "
           "server socket reads %.2f, epoll_waits %.2f per block\n",
           run + 1, floor_mode_name(m), (double)s->server_ns / 1e3 / n,
           (double)s->client_ns / 1e3 / n, n / s->wall_s, (double)s->socket_reads / n,
           (double)s->waits / n);
    fflush(stdout);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct spread {
    double min, median;
};

/* The least and the median of one mode's runs of one side, in us per block. */
static struct spread spread_of(const struct floor_workload *w, const struct floor_opts *o,
                               const struct floor_sample *runs, int server_side)
{
    double *v = malloc((size_t)o->repeat * sizeof(*v));
    struct spread s = {0};
    if (!v)
        return s;
    for (int r = 0; r < o->repeat; r++)
        v[r] =
            (double)(server_side ? runs[r].server_ns : runs[r].client_ns) / 1e3 / (double)w->count;
    qsort(v, (size_t)o->repeat, sizeof(*v), cmp_double);
    s.min = v[0];
    s.median = o->repeat % 2 ? v[o->repeat / 2] : (v[o->repeat / 2 - 1] + v[o->repeat / 2]) / 2;
    free(v);
    return s;
}

/* Whether x is cheaper than y beyond the noise: its median under y's least, or the reverse. */
static const char *verdict(struct spread x, struct spread y)
{
    if (x.median < y.min)
        return "cheaper";
    if (x.min > y.median)
        return "dearer";
    return "no clear difference (the runs overlap)";
}

void floor_print_summary(const struct floor_workload *w, const struct floor_opts *o,
                         const struct floor_sample *samples)
{
    struct spread srv[FLOOR_MODES], cli[FLOOR_MODES];
    printf("\nmode         server us/block min / median   client us/block min / median   "
           "server/client (medians)\n");
    for (int m = 0; m < FLOOR_MODES; m++) {
        if (!o->modes[m])
            continue;
        srv[m] = spread_of(w, o, &samples[m * o->repeat], 1);
        cli[m] = spread_of(w, o, &samples[m * o->repeat], 0);
        printf("%-12s %8.2f / %-8.2f                  %8.2f / %-8.2f                  %.2fx\n",
               floor_mode_name((enum floor_mode)m), srv[m].min, srv[m].median, cli[m].min,
               cli[m].median, srv[m].median / cli[m].median);
    }
    int a = o->modes[FLOOR_RECV_PWRITE], c = o->modes[FLOOR_RECV_ONLY],
        d = o->modes[FLOOR_OVERWRITE], b = o->modes[FLOOR_SPLICE];
    printf("\n");
    if (a && c)
        printf("socket share (recv-only): %.2f us/block; appending into fresh page-cache pages "
               "adds %.2f (medians)\n",
               srv[FLOOR_RECV_ONLY].median,
               srv[FLOOR_RECV_PWRITE].median - srv[FLOOR_RECV_ONLY].median);
    if (a && d)
        printf("pages already cached (overwrite): %.2f us/block; fresh pages cost %.2f more "
               "(medians)\n",
               srv[FLOOR_OVERWRITE].median,
               srv[FLOOR_RECV_PWRITE].median - srv[FLOOR_OVERWRITE].median);
    if (a && b)
        printf("splice: %.2f us/block against recv+pwrite %.2f (medians): %s\n",
               srv[FLOOR_SPLICE].median, srv[FLOOR_RECV_PWRITE].median,
               verdict(srv[FLOOR_SPLICE], srv[FLOOR_RECV_PWRITE]));
    if (!a)
        return;
    double fs = srv[FLOOR_RECV_PWRITE].median, fc = cli[FLOOR_RECV_PWRITE].median;
    printf("floor: server %.2f, client %.2f us/block, server/client %.2fx (least: %.2f / %.2f)\n",
           fs, fc, fs / fc, srv[FLOOR_RECV_PWRITE].min, cli[FLOOR_RECV_PWRITE].min);
    if (o->daemon_run > 0 && o->client_run > 0)
        printf("daemon %.2f us/block = %.2fx its floor, %.2f us/block over it; libshuffle "
               "%.2f = %.2fx the client floor; daemon/client %.2fx against the floor's %.2fx\n",
               o->daemon_run, o->daemon_run / fs, o->daemon_run - fs, o->client_run,
               o->client_run / fc, o->daemon_run / o->client_run, fs / fc);
}

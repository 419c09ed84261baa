/* SPDX-License-Identifier: Apache-2.0 */
/* crypto-floor's command line and report: runs each mode REPEAT times (modes interleaved, so
 * a change of the machine's load spreads over all of them), prints min and median CPU-s per
 * GB for each side with its ratio to sendfile, then the floors derived from them. */
#define _GNU_SOURCE
#include "tools/crypto_floor.h"

#include <getopt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FLOOR_MAX_REPEAT 50

struct floor_args {
    size_t block_bytes;
    long block_count;
    int repeat;
    const char *dir;
    int verify;
    int wanted[FLOOR_MODES];
    double daemon_plain; /* the real daemon's and client's plain CPU-s/GB, 0 = not given */
    double client_plain;
};

struct floor_stats {
    double sender[FLOOR_MAX_REPEAT], receiver[FLOOR_MAX_REPEAT], mbps[FLOOR_MAX_REPEAT];
    int runs;
    int unavailable;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: crypto-floor [-b BYTES] [-n COUNT] [-r REPEAT] [-m MODES] [-d DIR] [--verify]\n"
            "                    [--daemon-plain S] [--client-plain S]\n"
            "  -b  block size (default 1048576)    -n  blocks per run (default 1024)\n"
            "  -r  runs per mode (default 5)       -m  modes, comma-separated (default all):\n"
            "      sendfile,copy,ctr,gcm,tls,ktls  -d  directory of the test file (default $TMPDIR "
            "or /tmp)\n"
            "  --verify  receivers check every byte (slow: for tests)\n"
            "  --daemon-plain S, --client-plain S  the real daemon's and client's plain CPU-s/GB\n"
            "      (scripts/bench, large): also print the floors with their protocol work kept\n");
}

static int parse_modes(char *list, int wanted[FLOOR_MODES])
{
    memset(wanted, 0, sizeof(int) * FLOOR_MODES);
    for (char *save = NULL, *name = strtok_r(list, ",", &save); name;
         name = strtok_r(NULL, ",", &save)) {
        int found = 0;
        for (int m = 0; m < FLOOR_MODES; m++)
            if (strcmp(name, floor_mode_names[m]) == 0)
                wanted[m] = found = 1;
        if (!found) {
            fprintf(stderr, "crypto-floor: unknown mode '%s'\n", name);
            return -1;
        }
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct floor_args *args)
{
    static const struct option longs[] = {{"verify", no_argument, NULL, 'V'},
                                          {"daemon-plain", required_argument, NULL, 'D'},
                                          {"client-plain", required_argument, NULL, 'C'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    *args = (struct floor_args){.block_bytes = 1u << 20, .block_count = 1024, .repeat = 5};
    args->dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    for (int m = 0; m < FLOOR_MODES; m++)
        args->wanted[m] = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "b:n:r:m:d:h", longs, NULL)) != -1) {
        switch (opt) {
        case 'b':
            args->block_bytes = strtoul(optarg, NULL, 10);
            break;
        case 'n':
            args->block_count = strtol(optarg, NULL, 10);
            break;
        case 'r':
            args->repeat = atoi(optarg);
            break;
        case 'm':
            if (parse_modes(optarg, args->wanted) != 0)
                return -1;
            break;
        case 'd':
            args->dir = optarg;
            break;
        case 'V':
            args->verify = 1;
            break;
        case 'D':
            args->daemon_plain = strtod(optarg, NULL);
            break;
        case 'C':
            args->client_plain = strtod(optarg, NULL);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (args->block_bytes < 1024 || args->block_bytes > (64u << 20) || args->block_count < 1 ||
        args->repeat < 1 || args->repeat > FLOOR_MAX_REPEAT || optind != argc) {
        fprintf(stderr, "crypto-floor: -b 1024..67108864, -n >= 1, -r 1..%d\n", FLOOR_MAX_REPEAT);
        return -1;
    }
    return 0;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double minimum(const double *values, int n)
{
    double low = values[0];
    for (int i = 1; i < n; i++)
        if (values[i] < low)
            low = values[i];
    return low;
}

static double median(const double *values, int n)
{
    double sorted[FLOOR_MAX_REPEAT];
    memcpy(sorted, values, sizeof(double) * (size_t)n);
    qsort(sorted, (size_t)n, sizeof(double), compare_doubles);
    return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

static void print_machine(const struct floor_args *args)
{
    char line[512], model[256] = "unknown", load[128] = "unknown";
    FILE *cpuinfo = fopen("/proc/cpuinfo", "r");
    while (cpuinfo && fgets(line, sizeof line, cpuinfo)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            snprintf(model, sizeof model, "%s", colon + 2);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    }
    if (cpuinfo)
        fclose(cpuinfo);
    FILE *loadavg = fopen("/proc/loadavg", "r");
    if (loadavg && fgets(load, sizeof load, loadavg))
        load[strcspn(load, "\n")] = '\0';
    if (loadavg)
        fclose(loadavg);
    printf("crypto-floor: %zu-byte blocks, %ld per run, %d runs per mode, loopback TCP\n",
           args->block_bytes, args->block_count, args->repeat);
    printf("CPU: %s, %ld online; %s; load average (/proc/loadavg): %s\n", model,
           sysconf(_SC_NPROCESSORS_ONLN), OpenSSL_version(OPENSSL_VERSION), load);
}

/* per mode: min and median of each side, the ratios of the minima to sendfile's */
static void print_table(const struct floor_args *args, const struct floor_stats *stats)
{
    const struct floor_stats *plain = &stats[FLOOR_SENDFILE];
    double plain_sender = plain->runs ? minimum(plain->sender, plain->runs) : 0;
    double plain_receiver = plain->runs ? minimum(plain->receiver, plain->runs) : 0;
    printf("\n%-9s %23s %7s %25s %7s %9s\n", "mode", "sender CPU-s/GB min/med", "x min",
           "receiver CPU-s/GB min/med", "x min", "MB/s med");
    for (int m = 0; m < FLOOR_MODES; m++) {
        const struct floor_stats *s = &stats[m];
        if (!args->wanted[m])
            continue;
        if (s->unavailable || s->runs == 0) {
            printf("%-9s not available here\n", floor_mode_names[m]);
            continue;
        }
        double sender = minimum(s->sender, s->runs), receiver = minimum(s->receiver, s->runs);
        printf("%-9s %11.3f / %-9.3f %6.2fx %11.3f / %-11.3f %6.2fx %9.0f\n", floor_mode_names[m],
               sender, median(s->sender, s->runs), plain_sender > 0 ? sender / plain_sender : 0,
               receiver, median(s->receiver, s->runs),
               plain_receiver > 0 ? receiver / plain_receiver : 0, median(s->mbps, s->runs));
    }
}

/* the most GB/s that sender and receiver can move, each single-threaded, sharing CORES */
static double ceiling_gbps(double sender, double receiver, double cores)
{
    double best = 1.0 / sender;
    if (1.0 / receiver < best)
        best = 1.0 / receiver;
    if (cores / (sender + receiver) < best)
        best = cores / (sender + receiver);
    return best;
}

static void print_derived(const struct floor_args *args, const struct floor_stats *stats,
                          double gcm_seal)
{
    const struct floor_stats *plain = &stats[FLOOR_SENDFILE];
    if (!args->wanted[FLOOR_SENDFILE] || plain->runs == 0)
        return;
    double ps = minimum(plain->sender, plain->runs), pr = minimum(plain->receiver, plain->runs);
    double cores = (double)sysconf(_SC_NPROCESSORS_ONLN);
    printf("\nderived floors (from each mode's least CPU over its runs: other load only adds "
           "CPU time; 'x' = times sendfile's):\n");
    const struct floor_stats *gcm = &stats[FLOOR_GCM];
    if (args->wanted[FLOOR_GCM] && gcm->runs) {
        double gs = minimum(gcm->sender, gcm->runs);
        printf("  GCM sender / plain sender, no protocol around either: %.2fx\n", gs / ps);
        if (args->daemon_plain > 0)
            printf("  GCM daemon / plain daemon with the daemon's plain %.3f s/GB kept as is "
                   "((P - sendfile + gcm) / P): %.2fx  (goal: <= 2x)\n",
                   args->daemon_plain, (args->daemon_plain - ps + gs) / args->daemon_plain);
    }
    const struct floor_stats *tls = &stats[FLOOR_TLS];
    if (args->wanted[FLOOR_TLS] && tls->runs) {
        double ts = minimum(tls->sender, tls->runs), tr = minimum(tls->receiver, tls->runs);
        double plain_ceiling = ceiling_gbps(ps, pr, cores),
               tls_ceiling = ceiling_gbps(ts, tr, cores);
        printf("  TLS sender / plain sender: %.2fx; receiver %.2fx\n", ts / ps, tr / pr);
        printf("  throughput ceiling, both ends on %.0f cores (min of 1/sender, 1/receiver, "
               "cores/(sender+receiver)):\n    plain %.2f GB/s, TLS %.2f GB/s: TLS at most %.0f %% "
               "of plain  (goal: >= 80 %%)\n",
               cores, plain_ceiling, tls_ceiling, 100 * tls_ceiling / plain_ceiling);
        if (args->daemon_plain > 0 && args->client_plain > 0) {
            double ds = args->daemon_plain - ps + ts, dr = args->client_plain - pr + tr;
            double real_plain = ceiling_gbps(args->daemon_plain, args->client_plain, cores);
            double real_tls = ceiling_gbps(ds, dr, cores);
            printf("    with the daemon's and client's plain work kept (%.3f / %.3f s/GB): plain "
                   "%.2f GB/s, TLS %.2f GB/s (daemon %.3f, client %.3f s/GB): %.0f %%\n",
                   args->daemon_plain, args->client_plain, real_plain, real_tls, ds, dr,
                   100 * real_tls / real_plain);
        }
        if (gcm_seal > 0) {
            /* kernel TLS: the kernel seals page-cache pages into the socket's buffers; no pread,
             * no copy into user space, no write copy; the receiver is unchanged */
            double ks = ps + gcm_seal;
            printf("  kTLS (estimated: sendfile + GCM seal alone): sender %.3f s/GB = %.2fx "
                   "plain; removes %.3f s/GB (%.0f %%) of userspace TLS's sender CPU\n",
                   ks, ks / ps, ts - ks, 100 * (ts - ks) / ts);
            if (args->daemon_plain > 0)
                printf("    with the daemon's plain work kept: %.3f s/GB = %.2fx the daemon's "
                       "plain  (goal: <= 1.5x)\n",
                       args->daemon_plain + gcm_seal,
                       (args->daemon_plain + gcm_seal) / args->daemon_plain);
        }
    }
    const struct floor_stats *ktls = &stats[FLOOR_KTLS];
    if (args->wanted[FLOOR_KTLS] && ktls->unavailable)
        printf("  ktls measured: not available here (no kernel TLS for the socket: the tls "
               "module is missing)\n");
}

int main(int argc, char **argv)
{
    struct floor_args args;
    if (parse_args(argc, argv, &args) != 0)
        return 2;
    struct floor_setup setup;
    if (floor_setup_init(&setup, args.dir, args.block_bytes, args.block_count) != 0) {
        floor_setup_free(&setup);
        return 1;
    }
    setup.verify = args.verify;
    print_machine(&args);
    static struct floor_stats stats[FLOOR_MODES];
    int failed = 0;
    for (int run = 0; run < args.repeat && !failed; run++) {
        for (int m = 0; m < FLOOR_MODES && !failed; m++) {
            if (!args.wanted[m] || stats[m].unavailable)
                continue;
            struct floor_result result;
            if (floor_run(&setup, (enum floor_mode)m, &result) != 0) {
                failed = 1;
                break;
            }
            if (result.unavailable) {
                stats[m].unavailable = 1;
                continue;
            }
            double gb = (double)args.block_count * (double)args.block_bytes / 1e9;
            struct floor_stats *s = &stats[m];
            s->sender[s->runs] = result.sender_cpu / gb;
            s->receiver[s->runs] = result.receiver_cpu / gb;
            s->mbps[s->runs] = gb * 1e3 / result.wall;
            s->runs++;
        }
    }
    /* as many bytes as one run sends (so a short run under valgrind stays short) */
    unsigned long long run_bytes = (unsigned long long)args.block_count * args.block_bytes;
    double ctr = -1, seal = -1, open = -1;
    if (!failed) {
        ctr = floor_cipher_seconds_per_gb(&setup, "ctr", run_bytes);
        seal = floor_cipher_seconds_per_gb(&setup, "gcm-seal", run_bytes);
        open = floor_cipher_seconds_per_gb(&setup, "gcm-open", run_bytes);
        printf("cipher alone, in memory, one core, %zu-byte calls: aes-128-ctr %.3f s/GB, "
               "aes-128-gcm seal %.3f s/GB, open %.3f s/GB\n",
               args.block_bytes, ctr, seal, open);
        print_table(&args, stats);
        print_derived(&args, stats, seal);
    }
    floor_setup_free(&setup);
    return failed || ctr < 0 || seal < 0 || open < 0 ? 1 : 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* crypto-floor's command line and report: runs each mode REPEAT times (modes interleaved, so
 * a change of the machine's load spreads over all of them), prints min and median CPU-s per
 * GB for each side with its ratio to sendfile, then the floors derived from them. */
#include <config.h>

#include "tools/crypto_floor.h"

#include <getopt.h>
#include <openssl/crypto.h>
#include <signal.h>
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
    double plain_mbps; /* the daemon's plain MB/s, 0 = not given */
};

struct floor_stats {
    double sender[FLOOR_MAX_REPEAT], receiver[FLOOR_MAX_REPEAT], mbps[FLOOR_MAX_REPEAT];
    /* sender + receiver of each run: on loopback the kernel's TCP receive work is done by
     * whichever side runs it (softirq under the sender's write, or the receiver's backlog), so
     * the split moves from run to run and the sum is the stable figure */
    double both[FLOOR_MAX_REPEAT];
    int runs;
    int unavailable;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: crypto-floor [-b BYTES] [-n COUNT] [-r REPEAT] [-m MODES] [-d DIR] [--verify]\n"
            "                    [--daemon-plain S] [--client-plain S] [--plain-mbps MB]\n"
            "  -b  block size (default 1048576)    -n  blocks per run (default 1024)\n"
            "  -r  runs per mode (default 5)       -m  modes, comma-separated (default all):\n"
            "      sendfile,copy,ctr,gcm,tls,ktls  -d  directory of the test file (default $TMPDIR "
            "or /tmp)\n"
            "  --verify  receivers check every byte (slow: for tests)\n"
            "  --daemon-plain S, --client-plain S  the real daemon's and client's plain CPU-s/GB\n"
            "      (scripts/bench, large): the floors then keep that protocol work\n"
            "  --plain-mbps MB  the daemon's plain MB/s: TLS's ceiling against it too\n");
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
                                          {"plain-mbps", required_argument, NULL, 'M'},
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
        case 'M':
            args->plain_mbps = strtod(optarg, NULL);
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
    double plain_both = plain->runs ? minimum(plain->both, plain->runs) : 0;
    printf("\n%-9s %17s %6s %17s %6s %17s %6s %8s\n", "CPU-s/GB", "sender min/med", "x min",
           "receiver min/med", "x min", "both min/med", "x min", "MB/s med");
    for (int m = 0; m < FLOOR_MODES; m++) {
        const struct floor_stats *s = &stats[m];
        if (!args->wanted[m])
            continue;
        if (s->unavailable || s->runs == 0) {
            printf("%-9s not available here\n", floor_mode_names[m]);
            continue;
        }
        double sender = minimum(s->sender, s->runs), receiver = minimum(s->receiver, s->runs);
        double both = minimum(s->both, s->runs);
        printf("%-9s %7.3f / %-7.3f %5.2fx %7.3f / %-7.3f %5.2fx %7.3f / %-7.3f %5.2fx %8.0f\n",
               floor_mode_names[m], sender, median(s->sender, s->runs),
               plain_sender > 0 ? sender / plain_sender : 0, receiver, median(s->receiver, s->runs),
               plain_receiver > 0 ? receiver / plain_receiver : 0, both, median(s->both, s->runs),
               plain_both > 0 ? both / plain_both : 0, median(s->mbps, s->runs));
    }
}

/* The floors of issue 20's goals, from pieces measured alone (no socket: stable) and the
 * daemon's and client's plain CPU-s/GB P_d and P_c (given, else sendfile's sides). copy: one
 * pass of a block between the page cache or a socket and a buffer (pread alone). The per-side
 * socket figures are not used: loopback moves the kernel's receive work between the sides. */
static void print_derived(const struct floor_args *args, const struct floor_stats *stats,
                          double copy, double seal, double open)
{
    const struct floor_stats *plain = &stats[FLOOR_SENDFILE];
    if (!plain->runs)
        return;
    double pd = args->daemon_plain > 0 ? args->daemon_plain : minimum(plain->sender, plain->runs);
    double pc = args->client_plain > 0 ? args->client_plain : minimum(plain->receiver, plain->runs);
    double cores = (double)sysconf(_SC_NPROCESSORS_ONLN);
    printf("\nderived floors, with P_d %.3f and P_c %.3f s/GB%s, copy %.3f, seal %.3f, open %.3f:"
           "\n",
           pd, pc,
           args->daemon_plain > 0 ? " (the daemon's and client's plain, given)"
                                  : " (sendfile's sides: no protocol work)",
           copy, seal, open);
    double gcm_pread = pd + 2 * copy + seal, gcm_mapped = pd + copy + seal;
    printf("  GCM daemon (goal <= 2x plain): pread, seal in place, write: P_d + 2 copies + seal = "
           "%.3f s/GB = %.2fx; sealed from a mapping: P_d + copy + seal = %.3f = %.2fx\n",
           gcm_pread, gcm_pread / pd, gcm_mapped, gcm_mapped / pd);
    /* userspace TLS adds on the sender pread, SSL's copy into its record buffer, the seal and
     * the write's copy; on the receiver SSL's copy out of its record buffer and the open */
    double plain_gbps = cores / (pd + pc);
    double tls_added = 4 * copy + seal + open, ktls_added = copy + seal + open;
    printf("  TLS (goal >= 80 %% of plain's MB/s): it adds 4 copies + seal + open = %.3f s/GB; "
           "with both ends busy on %.0f cores: plain %.2f GB/s, TLS %.2f: at most %.0f %%\n",
           tls_added, cores, plain_gbps, cores / (pd + pc + tls_added),
           100 * (pd + pc) / (pd + pc + tls_added));
    const struct floor_stats *tls = &stats[FLOOR_TLS];
    if (tls->runs) {
        double measured = minimum(tls->both, tls->runs) - minimum(plain->both, plain->runs);
        printf("       measured here (tls - sendfile, both sides): adds %.3f s/GB: at most "
               "%.0f %%\n",
               measured, 100 * (pd + pc) / (pd + pc + measured));
    }
    if (args->plain_mbps > 0)
        printf("       against plain's measured %.0f MB/s (not CPU-bound when lower than %.0f): "
               "at most %.0f %%\n",
               args->plain_mbps, plain_gbps * 1e3,
               100 * cores / (pd + pc + tls_added) * 1e3 / args->plain_mbps);
    /* kernel TLS: the kernel seals page-cache pages as it copies them into the socket's
     * buffers; the receiver (userspace) is unchanged */
    printf("  kTLS (goal <= 1.5x plain's daemon CPU): P_d + seal = %.3f s/GB = %.2fx; TLS then "
           "adds copy + seal + open = %.3f: at most %.0f %% of plain\n",
           pd + seal, (pd + seal) / pd, ktls_added, 100 * (pd + pc) / (pd + pc + ktls_added));
    if (args->wanted[FLOOR_KTLS] && stats[FLOOR_KTLS].unavailable)
        printf("  ktls measured: not available here (no kernel TLS for the socket: the tls "
               "module is missing)\n");
}

int main(int argc, char **argv)
{
    struct floor_args args;
    signal(SIGPIPE, SIG_IGN); /* a receiver that gave up: the sender's write fails instead */
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
    /* as many bytes as one run sends (so a short run under valgrind stays short) */
    unsigned long long run_bytes = (unsigned long long)args.block_count * args.block_bytes;
    int failed = 0;
    static const char *const alone_names[4] = {"pread", "ctr", "gcm-seal", "gcm-open"};
    double alone[4] = {-1, -1, -1, -1};
    for (int run = 0; run < args.repeat && !failed; run++) {
        for (int k = 0; k < 4 && !failed; k++) {
            double seconds = floor_alone_seconds_per_gb(&setup, alone_names[k], run_bytes);
            failed = seconds < 0;
            if (alone[k] < 0 || seconds < alone[k])
                alone[k] = seconds;
        }
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
            s->both[s->runs] = s->sender[s->runs] + s->receiver[s->runs];
            s->mbps[s->runs] = gb * 1e3 / result.wall;
            s->runs++;
        }
    }
    if (!failed) {
        printf("alone, no socket, one core, least of %d: pread (64 KiB calls) %.3f s/GB; "
               "%zu-byte calls: aes-128-ctr %.3f, aes-128-gcm seal %.3f, open %.3f\n",
               args.repeat, alone[0], args.block_bytes, alone[1], alone[2], alone[3]);
        print_table(&args, stats);
        print_derived(&args, stats, alone[0], alone[2], alone[3]);
    }
    floor_setup_free(&setup);
    return failed ? 1 : 0;
}

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

/* what MODE costs both sides together beyond sendfile (least sums); 0 if not run */
static double added(const struct floor_stats *stats, enum floor_mode mode)
{
    const struct floor_stats *m = &stats[mode], *plain = &stats[FLOOR_SENDFILE];
    if (!m->runs || !plain->runs)
        return 0;
    return minimum(m->both, m->runs) - minimum(plain->both, plain->runs);
}

/* The floors of issue 20's goals. Where the work lands is taken from what it is, not from
 * the per-side figures (loopback moves the kernel's receive work between the sides): the
 * copies (copy - sendfile) and the seal are the sender's, the rest of a mode's added work the
 * receiver's. P_d, P_c: the daemon's and client's plain CPU-s/GB (given, else sendfile's). */
static void print_derived(const struct floor_args *args, const struct floor_stats *stats,
                          double gcm_seal)
{
    const struct floor_stats *plain = &stats[FLOOR_SENDFILE];
    double copies = added(stats, FLOOR_COPY), gcm = added(stats, FLOOR_GCM);
    double tls = added(stats, FLOOR_TLS);
    if (!plain->runs)
        return;
    double pd = args->daemon_plain > 0 ? args->daemon_plain : minimum(plain->sender, plain->runs);
    double pc = args->client_plain > 0 ? args->client_plain : minimum(plain->receiver, plain->runs);
    double cores = (double)sysconf(_SC_NPROCESSORS_ONLN);
    printf("\nderived floors (least CPU over the runs: other load only adds CPU time), with "
           "P_d %.3f and P_c %.3f s/GB%s:\n",
           pd, pc,
           args->daemon_plain > 0 ? " (the daemon's and client's plain, given)"
                                  : " (sendfile's sides: no protocol work)");
    int have_copies = stats[FLOOR_COPY].runs > 0, have_gcm = stats[FLOOR_GCM].runs > 0;
    if (have_copies)
        printf("  the copies (pread + write instead of sendfile): +%.3f s/GB on the sender\n",
               copies);
    if (have_copies && have_gcm)
        printf("  GCM: daemon >= P_d + copies + seal = %.3f s/GB = %.2fx plain (goal: <= 2x); "
               "both sides add %.3f s/GB\n",
               pd + copies + gcm_seal, (pd + copies + gcm_seal) / pd, gcm);
    if (stats[FLOOR_TLS].runs > 0) {
        double plain_gbps = cores / (pd + pc), tls_gbps = cores / (pd + pc + tls);
        printf("  TLS: both sides add %.3f s/GB; with both ends busy on %.0f cores plain moves at "
               "most %.2f GB/s, TLS %.2f GB/s: %.0f %% (goal: >= 80 %%)\n",
               tls, cores, plain_gbps, tls_gbps, 100 * tls_gbps / plain_gbps);
        if (args->plain_mbps > 0)
            printf("       against plain's measured %.0f MB/s: TLS at most %.0f %%\n",
                   args->plain_mbps, 100 * tls_gbps * 1e3 / args->plain_mbps);
        if (have_copies && gcm_seal > 0) {
            /* kernel TLS: the kernel seals page-cache pages as it copies them into the
             * socket's buffers: no pread, no write copy; the receiver's side is unchanged */
            double ktls_gbps = cores / (pd + pc + tls - copies);
            printf("  kTLS (estimated): daemon >= P_d + seal = %.3f s/GB = %.2fx plain (goal: <= "
                   "1.5x); it removes the copies, %.3f s/GB; TLS then at most %.0f %% of plain\n",
                   pd + gcm_seal, (pd + gcm_seal) / pd, copies, 100 * ktls_gbps / plain_gbps);
        }
    }
    if (args->wanted[FLOOR_KTLS] && stats[FLOOR_KTLS].unavailable)
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
            s->both[s->runs] = s->sender[s->runs] + s->receiver[s->runs];
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

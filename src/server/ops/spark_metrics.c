/* SPDX-License-Identifier: Apache-2.0 */
/* See spark_metrics.h. Dropwizard semantics, reproduced from our counters:
 * - a Meter's 1/5/15-minute rates are exponentially weighted moving averages advanced in
 *   5-second ticks, lazily when read (as Dropwizard does): the first tick after a pause
 *   takes every event since the last one;
 * - a Timer's snapshot is in milliseconds, as Spark 3.2+ reads its timers (SPARK-35259: a
 *   Dropwizard Timer converted to ms when read; Max and Min whole ms, truncated, the others
 *   fractional); ours comes from the power-of-two latency histogram, cumulative since start
 *   (Dropwizard's reservoir favours the last 5 minutes), so a percentile is its bucket's
 *   upper bound. */
#include <config.h>

#include "server/ops/spark_metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "server/ops/metrics.h"
#include "server/ops/process_metrics.h"

#define PREFIX "metrics_shuffleService_"
#define TICK_SECONDS 5.0

struct meter {
    const char *name;
    int64_t (*read)(void); /* the events so far */
    bool net;              /* marked down as well as up (deferredBlocks): Count may fall */
    double last_tick;      /* monotonic seconds; 0 before the first read */
    int64_t counted;       /* read() at the last tick */
    double rate[3];        /* per second: 1, 5 and 15 minutes */
    bool started;
};

static int64_t transfer_bytes(void)
{
    return (int64_t)metrics_counter(MC_BLOCK_TRANSFER_BYTES);
}
static int64_t transfer_messages(void)
{
    return (int64_t)metrics_counter(MC_BLOCK_TRANSFER_MESSAGES);
}
/* PushMergeMetrics, from the push counters (docs/metrics.md says where Spark counts otherwise) */
static int64_t append_collisions(void)
{
    return (int64_t)metrics_counter(MC_PUSHES_COLLISION);
}
static int64_t late_pushes(void) /* too late, or for a map already merged: ignored */
{
    return (int64_t)(metrics_counter(MC_PUSHES_TOO_LATE) + metrics_counter(MC_PUSHES_DUPLICATE));
}
static int64_t bytes_written(void)
{
    return (int64_t)metrics_counter(MC_PUSH_BYTES_MERGED);
}
static int64_t deferred_blocks(void) /* Spark marks +1 when deferring, -1 when writing */
{
    return metrics_gauge(MG_PUSH_DEFERRED_BLOCKS);
}
static int64_t stale_pushes(void)
{
    return (int64_t)metrics_counter(MC_PUSHES_STALE);
}
static int64_t ignored_bytes(void)
{
    return (int64_t)metrics_counter(MC_PUSH_BYTES_IGNORED);
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct meter meters[] = {
    {.name = "blockTransferRateBytes", .read = transfer_bytes},
    {.name = "blockTransferMessageRate", .read = transfer_messages},
    {.name = "blockAppendCollisions", .read = append_collisions},
    {.name = "lateBlockPushes", .read = late_pushes},
    {.name = "blockBytesWritten", .read = bytes_written},
    {.name = "deferredBlocks", .read = deferred_blocks, .net = true},
    {.name = "staleBlockPushes", .read = stale_pushes},
    {.name = "ignoredBlockBytes", .read = ignored_bytes},
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void series(FILE *out, const char *name, const char *field, const char *type,
                   const char *help, double v)
{
    fprintf(out,
            "# HELP " PREFIX "%s_%s %s\n# TYPE " PREFIX "%s_%s gauge\n" PREFIX
            "%s_%s{type=\"%s\"} %.17g\n",
            name, field, help, name, field, name, field, type, v);
}

static void advance(struct meter *mt, double now)
{
    static const double minutes[3] = {1, 5, 15};
    int64_t total = mt->read();
    if (total < mt->counted && !mt->net) /* the counters were reset (tests) */
        mt->counted = total;
    if (mt->last_tick == 0) { /* first read: start from the total so far */
        mt->last_tick = now;
        mt->counted = total;
        return;
    }
    while (now - mt->last_tick >= TICK_SECONDS) {
        double instant = (double)(total - mt->counted) / TICK_SECONDS;
        mt->counted = total; /* later ticks of a pause see no events */
        for (int i = 0; i < 3; i++) {
            double alpha = 1 - exp(-TICK_SECONDS / 60.0 / minutes[i]);
            mt->rate[i] = mt->started ? mt->rate[i] + alpha * (instant - mt->rate[i]) : instant;
        }
        mt->started = true;
        mt->last_tick += TICK_SECONDS;
    }
}

static void render_meter(FILE *out, struct meter *mt, double uptime)
{
    int64_t total = mt->read();
    series(out, mt->name, "Count", "counters", "Spark ESS meter: events so far", (double)total);
    series(out, mt->name, "MeanRate", "counters", "Spark ESS meter: events/s since start",
           uptime > 0 ? (double)total / uptime : 0);
    series(out, mt->name, "OneMinuteRate", "counters", "Spark ESS meter: events/s, 1-minute EWMA",
           mt->rate[0]);
    series(out, mt->name, "FiveMinuteRate", "counters", "Spark ESS meter: events/s, 5-minute EWMA",
           mt->rate[1]);
    series(out, mt->name, "FifteenMinuteRate", "counters",
           "Spark ESS meter: events/s, 15-minute EWMA", mt->rate[2]);
}

/* Upper bound of bucket k in milliseconds (the +Inf bucket reports the largest finite one). */
static double bucket_ms(unsigned k)
{
    if (k >= METRICS_BUCKETS - 1)
        k = METRICS_BUCKETS - 2;
    return (double)(1ULL << k) / 1000.0;
}

static void render_timer(FILE *out, const char *name, enum metric_histogram h, double uptime)
{
    uint64_t b[METRICS_BUCKETS], sum_usec, n = 0;
    metrics_histogram_snapshot(h, b, &sum_usec);
    for (unsigned k = 0; k < METRICS_BUCKETS; k++)
        n += b[k];
    double mean = n ? (double)sum_usec / 1000.0 / (double)n : 0, var = 0, lo = 0, hi = 0;
    for (unsigned k = 0; k < METRICS_BUCKETS; k++) {
        if (!b[k])
            continue;
        double mid = k ? bucket_ms(k) * 0.75 : bucket_ms(0) / 2; /* between 2^(k-1) and 2^k */
        var += (double)b[k] * (mid - mean) * (mid - mean);
        if (lo == 0)
            lo = k ? bucket_ms(k) / 2 : 0;
        hi = bucket_ms(k);
    }
    static const struct {
        const char *field;
        double q;
    } pct[] = {{"50thPercentile", 0.5},  {"75thPercentile", 0.75}, {"95thPercentile", 0.95},
               {"98thPercentile", 0.98}, {"99thPercentile", 0.99}, {"999thPercentile", 0.999}};
    const char *help = "Spark ESS timer (ms; from the latency histogram, see docs/metrics.md)";
    series(out, name, "Count", "timers", help, (double)n);
    series(out, name, "Max", "timers", help, floor(hi)); /* a long in Spark's snapshot */
    series(out, name, "Mean", "timers", help, mean);
    series(out, name, "Min", "timers", help, floor(lo));
    for (size_t i = 0; i < sizeof pct / sizeof pct[0]; i++) {
        uint64_t want = (uint64_t)ceil(pct[i].q * (double)n), seen = 0;
        double v = 0;
        for (unsigned k = 0; n && k < METRICS_BUCKETS; k++) {
            seen += b[k];
            if (seen >= want && b[k]) {
                v = bucket_ms(k);
                break;
            }
        }
        series(out, name, pct[i].field, "timers", help, v);
    }
    series(out, name, "StdDev", "timers", help, n ? sqrt(var / (double)n) : 0);
    /* a timer's rates count the requests it timed: since start (no moving average kept) */
    double rate = uptime > 0 ? (double)n / uptime : 0;
    series(out, name, "FifteenMinuteRate", "timers", help, rate);
    series(out, name, "FiveMinuteRate", "timers", help, rate);
    series(out, name, "OneMinuteRate", "timers", help, rate);
    series(out, name, "MeanRate", "timers", help, rate);
}

int spark_metrics_render(FILE *out)
{
    double uptime = process_uptime_seconds(), now = now_seconds();
    render_timer(out, "openBlockRequestLatencyMillis", MH_OPEN_BLOCKS_LATENCY, uptime);
    render_timer(out, "registerExecutorRequestLatencyMillis", MH_REGISTER_EXECUTOR_LATENCY, uptime);
    render_timer(out, "finalizeShuffleMergeLatencyMillis", MH_FINALIZE_LATENCY, uptime);
    render_timer(out, "fetchMergedBlocksMetaLatencyMillis", MH_MERGED_META_LATENCY, uptime);
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < sizeof meters / sizeof meters[0]; i++) {
        advance(&meters[i], now);
        render_meter(out, &meters[i], uptime);
    }
    pthread_mutex_unlock(&lock);
    int64_t execs = metrics_gauge(MG_REGISTERED_EXECUTORS);
    series(out, "registeredExecutorsSize", "Number", "gauges",
           "Spark ESS gauge: registered (app, exec) pairs", (double)execs);
    series(out, "registeredExecutorsSize", "Value", "gauges",
           "Spark ESS gauge: registered (app, exec) pairs", (double)execs);
    series(out, "numActiveConnections", "Count", "counters",
           "Spark ESS counter: open client connections",
           (double)metrics_gauge(MG_ACTIVE_CONNECTIONS));
    series(out, "numRegisteredConnections", "Count", "counters",
           "Spark ESS counter: connections registered with an event loop",
           (double)metrics_gauge(MG_REGISTERED_CONNECTIONS));
    series(out, "numCaughtExceptions", "Count", "counters",
           "Spark ESS counter: errors caught on connections, decode errors included",
           (double)metrics_counter(MC_CAUGHT_EXCEPTIONS));
    series(out, "deferredBlockBytes", "Count", "counters",
           "Spark ESS push counter: memory holding deferred pushed blocks",
           (double)metrics_gauge(MG_PUSH_DEFERRED_BYTES));
    fflush(out);
    return ferror(out) ? -1 : 0;
}

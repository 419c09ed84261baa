/* SPDX-License-Identifier: Apache-2.0 */
/* Metrics: values after known updates, histogram buckets, Prometheus text structure,
 * exact totals under concurrent updates. */
#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "prom_parse.h"
#include "server/ops/metrics.h"
#include "server/ops/spark_metrics.h"
#include "../check_main.h"

static char *render(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(metrics_render(f), 0);
    fclose(f);
    prom_check_structure(text);
    return text;
}

START_TEST(counters_and_gauges)
{
    metrics_reset();
    metrics_add(MC_BLOCK_TRANSFER_BYTES, 1000);
    metrics_add(MC_BLOCK_TRANSFER_BYTES, 24);
    metrics_inc(MC_BLOCK_TRANSFER_MESSAGES);
    metrics_inc(MC_BLOCK_TRANSFER_MESSAGES);
    metrics_inc(MC_CAUGHT_EXCEPTIONS);
    metrics_inc(MC_INDEX_CACHE_HITS);
    metrics_add(MC_INDEX_CACHE_MISSES, 3);
    metrics_gauge_add(MG_ACTIVE_CONNECTIONS, 3);
    metrics_gauge_add(MG_ACTIVE_CONNECTIONS, -1);
    metrics_gauge_set(MG_REGISTERED_EXECUTORS, 7);
    metrics_gauge_add(MG_CHUNKS_IN_FLIGHT, -2); /* a bug elsewhere must show, not wrap */
    metrics_gauge_set(MG_INDEX_CACHE_BYTES, 123456789);
    char *t = render();
    ck_assert_double_eq(prom_value(t, "shuffled_block_transfer_bytes_total"), 1024);
    ck_assert_double_eq(prom_value(t, "shuffled_block_transfer_messages_total"), 2);
    ck_assert_double_eq(prom_value(t, "shuffled_caught_exceptions_total"), 1);
    ck_assert_double_eq(prom_value(t, "shuffled_index_cache_hits_total"), 1);
    ck_assert_double_eq(prom_value(t, "shuffled_index_cache_misses_total"), 3);
    ck_assert_double_eq(prom_value(t, "shuffled_active_connections"), 2);
    ck_assert_double_eq(prom_value(t, "shuffled_registered_connections"), 0);
    ck_assert_double_eq(prom_value(t, "shuffled_registered_executors"), 7);
    ck_assert_double_eq(prom_value(t, "shuffled_chunks_in_flight"), -2);
    ck_assert_double_eq(prom_value(t, "shuffled_index_cache_bytes"), 123456789);
    ck_assert_ptr_nonnull(strstr(t, "# TYPE shuffled_block_transfer_bytes_total counter\n"));
    ck_assert_ptr_nonnull(strstr(t, "# TYPE shuffled_active_connections gauge\n"));
    free(t);
    ck_assert_uint_eq(metrics_counter(MC_BLOCK_TRANSFER_BYTES), 1024);
    ck_assert_int_eq(metrics_gauge(MG_ACTIVE_CONNECTIONS), 2);

    metrics_reset();
    t = render();
    ck_assert_double_eq(prom_value(t, "shuffled_block_transfer_bytes_total"), 0);
    ck_assert_double_eq(prom_value(t, "shuffled_active_connections"), 0);
    free(t);
}
END_TEST

START_TEST(histogram_buckets)
{
    metrics_reset();
    const uint64_t obs[] = {0, 1, 2, 3, 1000, 1024, 1025, 60000000};
    uint64_t sum = 0;
    for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++) {
        metrics_observe_usec(MH_OPEN_BLOCKS_LATENCY, obs[i]);
        sum += obs[i];
    }
    metrics_observe_usec(MH_REGISTER_EXECUTOR_LATENCY, 5000);
    char *t = render();
    const char *h = "shuffled_open_block_request_latency_seconds";
    char key[160];
#define BUCKET(le) (snprintf(key, sizeof(key), "%s_bucket{le=\"%s\"}", h, le), prom_value(t, key))
    ck_assert_double_eq(BUCKET("1e-06"), 2);     /* 0 and 1 us */
    ck_assert_double_eq(BUCKET("2e-06"), 3);     /* + 2 */
    ck_assert_double_eq(BUCKET("4e-06"), 4);     /* + 3 */
    ck_assert_double_eq(BUCKET("0.000512"), 4);  /* nothing in (4, 512] us */
    ck_assert_double_eq(BUCKET("0.001024"), 6);  /* + 1000, 1024 */
    ck_assert_double_eq(BUCKET("0.002048"), 7);  /* + 1025 */
    ck_assert_double_eq(BUCKET("16.777216"), 7); /* the largest finite bound */
    ck_assert_double_eq(BUCKET("+Inf"), 8);      /* + 60 s */
#undef BUCKET
    snprintf(key, sizeof(key), "%s_count", h);
    ck_assert_double_eq(prom_value(t, key), 8);
    snprintf(key, sizeof(key), "%s_sum", h);
    ck_assert_double_eq_tol(prom_value(t, key), (double)sum / 1e6, 1e-6);
    ck_assert_ptr_nonnull(
        strstr(t, "# TYPE shuffled_open_block_request_latency_seconds histogram\n"));
    ck_assert_double_eq(
        prom_value(t, "shuffled_register_executor_request_latency_seconds_bucket{le=\"0.004096\"}"),
        0);
    ck_assert_double_eq(
        prom_value(t, "shuffled_register_executor_request_latency_seconds_bucket{le=\"0.008192\"}"),
        1);
    ck_assert_double_eq(prom_value(t, "shuffled_register_executor_request_latency_seconds_count"),
                        1);
    ck_assert_uint_eq(metrics_histogram_count(MH_OPEN_BLOCKS_LATENCY), 8);

    /* buckets are cumulative: never decreasing */
    double prev = -1;
    for (const char *p = strstr(t, h); (p = strstr(p, "_bucket{le=")) != NULL; p++) {
        if (strncmp(p - strlen(h), h, strlen(h)) != 0)
            break;
        double v = strtod(strchr(p, ' ') + 1, NULL);
        ck_assert(v >= prev);
        prev = v;
    }
    free(t);
}
END_TEST

START_TEST(rpc_counts_by_type)
{
    metrics_reset();
    ck_assert_int_eq(metrics_rpc_from_msg_type(0), MR_OPEN_BLOCKS);
    ck_assert_int_eq(metrics_rpc_from_msg_type(2), MR_REGISTER_EXECUTOR);
    ck_assert_int_eq(metrics_rpc_from_msg_type(7), MR_REMOVE_BLOCKS);
    ck_assert_int_eq(metrics_rpc_from_msg_type(9), MR_FETCH_SHUFFLE_BLOCKS);
    ck_assert_int_eq(metrics_rpc_from_msg_type(10), MR_GET_LOCAL_DIRS);
    ck_assert_int_eq(metrics_rpc_from_msg_type(200), MR_OTHER_RPC);
    ck_assert_int_eq(metrics_rpc_from_msg_type(-1), MR_OTHER_RPC);
    metrics_rpc_request(MR_FETCH_SHUFFLE_BLOCKS);
    metrics_rpc_request(MR_FETCH_SHUFFLE_BLOCKS);
    metrics_rpc_error(metrics_rpc_from_msg_type(9));
    metrics_rpc_error(MR_CHUNK_FETCH);
    metrics_rpc_error(MR_CHUNK_FETCH);
    char *t = render();
    ck_assert_double_eq(prom_value(t, "shuffled_rpc_requests_total{type=\"FetchShuffleBlocks\"}"),
                        2);
    ck_assert_double_eq(prom_value(t, "shuffled_rpc_errors_total{type=\"FetchShuffleBlocks\"}"), 1);
    ck_assert_double_eq(prom_value(t, "shuffled_rpc_errors_total{type=\"ChunkFetch\"}"), 2);
    ck_assert_double_eq(prom_value(t, "shuffled_rpc_errors_total{type=\"OpenBlocks\"}"), 0);
    ck_assert_double_eq(prom_value(t, "shuffled_rpc_errors_total{type=\"Stream\"}"), 0);
    ck_assert_uint_eq(metrics_rpc_errors(MR_CHUNK_FETCH), 2);
    free(t);
}
END_TEST

START_TEST(connections_by_security_and_cipher_bytes)
{
    metrics_reset();
    metrics_security_connection(MS_GCM_X25519_V2);
    metrics_security_connection(MS_GCM_X25519_V2);
    metrics_security_connection(MS_SASL_AUTH_CONF);
    metrics_cipher_bytes(100, 0);
    metrics_cipher_bytes(5, 70000);
    char *t = render();
    ck_assert_ptr_nonnull(strstr(t, "# TYPE shuffled_connections_by_security_total counter\n"));
    ck_assert_double_eq(
        prom_value(t, "shuffled_connections_by_security_total{mode=\"aes-gcm-x25519-v2\"}"), 2);
    ck_assert_double_eq(
        prom_value(t, "shuffled_connections_by_security_total{mode=\"sasl-auth-conf\"}"), 1);
    ck_assert_double_eq(prom_value(t, "shuffled_connections_by_security_total{mode=\"plain\"}"), 0);
    ck_assert_double_eq(prom_value(t, "shuffled_cipher_bytes_total{direction=\"decrypted\"}"), 105);
    ck_assert_double_eq(prom_value(t, "shuffled_cipher_bytes_total{direction=\"encrypted\"}"),
                        70000);
    free(t);
    metrics_reset();
    ck_assert_uint_eq(metrics_security_connections(MS_GCM_X25519_V2), 0);
    ck_assert_uint_eq(metrics_cipher_bytes_total(true), 0);
}
END_TEST

START_TEST(build_info_names_the_version)
{
    char *t = render();
    ck_assert_ptr_nonnull(strstr(t, "# TYPE shuffled_build_info gauge\n"));
    ck_assert_double_eq(prom_value(t, "shuffled_build_info{version=\"" PACKAGE_VERSION
                                      "\",license=\"Apache-2.0\"}"),
                        1);
    free(t);
}
END_TEST

START_TEST(process_family)
{
    char *t = render();
    double rss = prom_value(t, "process_resident_memory_bytes");
    double cpu = prom_value(t, "process_cpu_seconds_total");
    double start = prom_value(t, "process_start_time_seconds");
    ck_assert(prom_value(t, "process_virtual_memory_bytes") >= rss);
    ck_assert_ptr_nonnull(strstr(t, "# TYPE process_cpu_seconds_total counter\n"));
    free(t);
    ck_assert(rss > 1e5 && rss < 1e10);
    double now = (double)time(NULL);
    ck_assert_msg(start > now - 3600 && start <= now + 2, "start %f now %f", start, now);
    /* a quarter second of CPU shows */
    struct timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    volatile unsigned long spin = 0;
    do {
        for (int i = 0; i < 100000; i++)
            spin += (unsigned long)i;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    } while ((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9 < 0.25);
    ck_assert_uint_gt(spin, 0);
    t = render();
    ck_assert_double_ge(prom_value(t, "process_cpu_seconds_total"), cpu + 0.2);
    free(t);
}
END_TEST

static char *render_spark(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_int_eq(metrics_render(f), 0);
    ck_assert_int_eq(spark_metrics_render(f), 0);
    fclose(f);
    prom_check_structure(text);
    return text;
}

#define SPARK(name, field, type) "metrics_shuffleService_" name "_" field "{type=\"" type "\"}"

START_TEST(spark_names_follow_our_series)
{
    metrics_reset();
    for (int i = 0; i < 10; i++)
        metrics_observe_usec(MH_OPEN_BLOCKS_LATENCY, 3000); /* bucket (2048, 4096] us */
    metrics_observe_usec(MH_REGISTER_EXECUTOR_LATENCY, 100);
    metrics_add(MC_BLOCK_TRANSFER_BYTES, 12345);
    metrics_add(MC_CAUGHT_EXCEPTIONS, 2);
    metrics_gauge_set(MG_REGISTERED_EXECUTORS, 3);
    metrics_gauge_set(MG_ACTIVE_CONNECTIONS, 4);
    char *t = render_spark();
    ck_assert_double_eq(prom_value(t, SPARK("openBlockRequestLatencyMillis", "Count", "timers")),
                        10);
    ck_assert_double_eq(prom_value(t, SPARK("openBlockRequestLatencyMillis", "Mean", "timers")),
                        3); /* milliseconds, as Spark 3.2+ reads its timers */
    ck_assert_double_eq(
        prom_value(t, SPARK("openBlockRequestLatencyMillis", "99thPercentile", "timers")), 4.096);
    ck_assert_double_eq(prom_value(t, SPARK("openBlockRequestLatencyMillis", "Max", "timers")),
                        4); /* a whole number of ms, truncated, as Spark's long */
    ck_assert_double_eq(
        prom_value(t, SPARK("registerExecutorRequestLatencyMillis", "Count", "timers")), 1);
    ck_assert_double_eq(prom_value(t, SPARK("blockTransferRateBytes", "Count", "counters")), 12345);
    ck_assert_double_eq(prom_value(t, SPARK("registeredExecutorsSize", "Value", "gauges")), 3);
    ck_assert_double_eq(prom_value(t, SPARK("registeredExecutorsSize", "Number", "gauges")), 3);
    ck_assert_double_eq(prom_value(t, SPARK("numActiveConnections", "Count", "counters")), 4);
    ck_assert_double_eq(prom_value(t, SPARK("numCaughtExceptions", "Count", "counters")), 2);
    free(t);
}
END_TEST

/* The push timers in milliseconds (Spark 3.2+), not Dropwizard's nanoseconds: a finalize that
 * took 25 ms and a merged-meta request of 1.5 ms read as such. */
START_TEST(spark_push_timers_in_milliseconds)
{
    metrics_reset();
    metrics_observe_usec(MH_FINALIZE_LATENCY, 25000);   /* bucket (16384, 32768] us */
    metrics_observe_usec(MH_MERGED_META_LATENCY, 1500); /* bucket (1024, 2048] us */
    char *t = render_spark();
    double max = prom_value(t, SPARK("finalizeShuffleMergeLatencyMillis", "Max", "timers"));
    ck_assert_msg(max >= 25 && max < 1000, "finalize Max %g, want 25..33 ms", max);
    ck_assert_double_eq(max, 32);
    ck_assert_double_eq(prom_value(t, SPARK("finalizeShuffleMergeLatencyMillis", "Mean", "timers")),
                        25);
    ck_assert_double_eq(
        prom_value(t, SPARK("finalizeShuffleMergeLatencyMillis", "50thPercentile", "timers")),
        32.768);
    ck_assert_double_eq(prom_value(t, SPARK("finalizeShuffleMergeLatencyMillis", "Min", "timers")),
                        16); /* the bucket's lower bound, 16.384, truncated */
    ck_assert_double_eq(
        prom_value(t, SPARK("fetchMergedBlocksMetaLatencyMillis", "Mean", "timers")), 1.5);
    ck_assert_double_eq(prom_value(t, SPARK("fetchMergedBlocksMetaLatencyMillis", "Max", "timers")),
                        2);
    free(t);
}
END_TEST

START_TEST(spark_meter_rates_tick_every_5_seconds)
{
    metrics_reset();
    char *t = render_spark(); /* the meters start counting from here */
    free(t);
    metrics_add(MC_BLOCK_TRANSFER_BYTES, 5000);
    usleep(5100 * 1000);
    t = render_spark();
    /* one 5 s tick of 5000 bytes: the first rate is the instant one, 1000 bytes/s */
    ck_assert_double_eq_tol(
        prom_value(t, SPARK("blockTransferRateBytes", "OneMinuteRate", "counters")), 1000, 1e-6);
    ck_assert_double_eq_tol(
        prom_value(t, SPARK("blockTransferRateBytes", "FifteenMinuteRate", "counters")), 1000,
        1e-6);
    free(t);
}
END_TEST

START_TEST(open_fds_counted)
{
    char *t = render();
    double before = prom_value(t, "process_open_fds");
    free(t);
    ck_assert(before >= 3);
    int fd = open("/dev/null", O_RDONLY);
    ck_assert_int_ge(fd, 0);
    t = render();
    ck_assert_double_eq(prom_value(t, "process_open_fds"), before + 1);
    ck_assert(prom_value(t, "process_max_fds") >= before + 1);
    free(t);
    close(fd);
}
END_TEST

START_TEST(rpc_done_observes_by_type)
{
    metrics_reset();
    uint64_t start = metrics_now_usec();
    metrics_rpc_done(0, start, true);   /* OpenBlocks */
    metrics_rpc_done(9, start, false);  /* FetchShuffleBlocks, failed */
    metrics_rpc_done(2, start, true);   /* RegisterExecutor */
    metrics_rpc_done(7, start, false);  /* RemoveBlocks: no histogram */
    metrics_rpc_done(-1, start, false); /* empty body */
    ck_assert_uint_eq(metrics_histogram_count(MH_OPEN_BLOCKS_LATENCY), 2);
    ck_assert_uint_eq(metrics_histogram_count(MH_REGISTER_EXECUTOR_LATENCY), 1);
    ck_assert_uint_eq(metrics_rpc_errors(MR_FETCH_SHUFFLE_BLOCKS), 1);
    ck_assert_uint_eq(metrics_rpc_errors(MR_OPEN_BLOCKS), 0);
    ck_assert_uint_eq(metrics_rpc_errors(MR_REMOVE_BLOCKS), 1);
    ck_assert_uint_eq(metrics_rpc_errors(MR_OTHER_RPC), 1);
    /* a start in the future (clock misuse) counts as 0, not as ~584,000 years */
    metrics_rpc_done(2, metrics_now_usec() + 10000000, true);
    char *t = render();
    ck_assert_double_eq(prom_value(t, "shuffled_register_executor_request_latency_seconds_count"),
                        2);
    ck_assert(
        prom_value(t, "shuffled_register_executor_request_latency_seconds_bucket{le=\"1e-06\"}") >=
        1);
    free(t);
}
END_TEST

static void collect(void *ctx)
{
    metrics_gauge_set(MG_ACTIVE_CONNECTIONS, *(int *)ctx);
}

START_TEST(collector_refreshes_gauges)
{
    metrics_reset();
    int conns = 42;
    metrics_set_collector(collect, &conns);
    char *t = render();
    ck_assert_double_eq(prom_value(t, "shuffled_active_connections"), 42);
    free(t);
    conns = 41;
    t = render();
    ck_assert_double_eq(prom_value(t, "shuffled_active_connections"), 41);
    free(t);
    metrics_set_collector(NULL, NULL);
    conns = 7;
    t = render();
    ck_assert_double_eq(prom_value(t, "shuffled_active_connections"), 41);
    free(t);
}
END_TEST

#define THREADS 4
#define PER_THREAD 200000

static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        metrics_inc(MC_BLOCK_TRANSFER_MESSAGES);
        metrics_gauge_add(MG_CHUNKS_IN_FLIGHT, 1);
        metrics_gauge_add(MG_CHUNKS_IN_FLIGHT, -1);
        metrics_observe_usec(MH_OPEN_BLOCKS_LATENCY, (uint64_t)i % 5000);
    }
    return NULL;
}

START_TEST(concurrent_updates_are_exact)
{
    metrics_reset();
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, hammer, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    ck_assert_uint_eq(metrics_counter(MC_BLOCK_TRANSFER_MESSAGES), THREADS * PER_THREAD);
    ck_assert_int_eq(metrics_gauge(MG_CHUNKS_IN_FLIGHT), 0);
    ck_assert_uint_eq(metrics_histogram_count(MH_OPEN_BLOCKS_LATENCY), THREADS * PER_THREAD);
}
END_TEST

CHECK_MAIN((.suite = "metrics", .name = "core"), counters_and_gauges, histogram_buckets,
           rpc_counts_by_type, connections_by_security_and_cipher_bytes, open_fds_counted,
           build_info_names_the_version, process_family, spark_names_follow_our_series,
           spark_push_timers_in_milliseconds, spark_meter_rates_tick_every_5_seconds,
           collector_refreshes_gauges, rpc_done_observes_by_type, concurrent_updates_are_exact)

/* SPDX-License-Identifier: Apache-2.0 */
/* See tls_admit.h. */
#include <config.h>

#include "server/net/tls_admit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

static _Atomic uint32_t in_progress;

/* The token bucket: a mutex, since it is taken once per TLS connection accepted. */
static pthread_mutex_t bucket_lock = PTHREAD_MUTEX_INITIALIZER;
static double tokens;
static uint64_t refilled_ms;
static bool bucket_started;

/* One token if the bucket (rate per second, a second's worth at most) has one left. */
static bool take_token(uint32_t rate, uint64_t now_ms)
{
    pthread_mutex_lock(&bucket_lock);
    if (!bucket_started) {
        tokens = rate;
        refilled_ms = now_ms;
        bucket_started = true;
    } else if (now_ms > refilled_ms) {
        tokens += (double)(now_ms - refilled_ms) * rate / 1000.0;
        refilled_ms = now_ms;
    }
    if (tokens > rate) /* a full bucket, or a lower rate since a reload */
        tokens = rate;
    bool ok = tokens >= 1.0;
    if (ok)
        tokens -= 1.0;
    pthread_mutex_unlock(&bucket_lock);
    return ok;
}

enum tls_admit_verdict tls_admit_begin(uint32_t max_in_progress, uint32_t max_per_second,
                                       uint64_t now_ms)
{
    uint32_t before = atomic_fetch_add(&in_progress, 1);
    if (max_in_progress && before >= max_in_progress) {
        atomic_fetch_sub(&in_progress, 1);
        return TLS_ADMIT_IN_PROGRESS;
    }
    if (max_per_second && !take_token(max_per_second, now_ms)) {
        atomic_fetch_sub(&in_progress, 1);
        return TLS_ADMIT_RATE;
    }
    return TLS_ADMIT_OK;
}

void tls_admit_end(void)
{
    atomic_fetch_sub(&in_progress, 1);
}

uint32_t tls_admit_in_progress(void)
{
    return atomic_load(&in_progress);
}

void tls_admit_reset(void)
{
    atomic_store(&in_progress, 0);
    pthread_mutex_lock(&bucket_lock);
    bucket_started = false;
    tokens = 0;
    refilled_ms = 0;
    pthread_mutex_unlock(&bucket_lock);
}

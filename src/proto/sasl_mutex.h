/* SPDX-License-Identifier: Apache-2.0 */
/* Cyrus SASL's mutex hooks over pthread mutexes, shared by the daemon (src/server/net/auth.c)
 * and libshuffle (src/client/auth.c); each calls sasl_use_pthread_mutexes() before its
 * sasl_*_init. Header-only, so that libproto itself does not link libsasl2. */
#ifndef SHUFFLE_PROTO_SASL_MUTEX_H
#define SHUFFLE_PROTO_SASL_MUTEX_H

#include <pthread.h>
#include <sasl/sasl.h>
#include <stdlib.h>

static inline void *sasl_mutex_alloc_(void)
{
    pthread_mutex_t *m = malloc(sizeof *m);
    if (m)
        pthread_mutex_init(m, NULL);
    return m;
}

static inline int sasl_mutex_lock_(void *m)
{
    return pthread_mutex_lock(m) == 0 ? SASL_OK : SASL_FAIL;
}

static inline int sasl_mutex_unlock_(void *m)
{
    return pthread_mutex_unlock(m) == 0 ? SASL_OK : SASL_FAIL;
}

static inline void sasl_mutex_free_(void *m)
{
    pthread_mutex_destroy(m);
    free(m);
}

static inline void sasl_use_pthread_mutexes(void)
{
    sasl_set_mutex(sasl_mutex_alloc_, sasl_mutex_lock_, sasl_mutex_unlock_, sasl_mutex_free_);
}

#endif

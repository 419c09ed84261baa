/* SPDX-License-Identifier: Apache-2.0 */
/* The shared blocking-I/O thread pool: disk work (resolving chunks, opening files, handler
 * persistence) runs here so that no event loop ever waits on the disk. Results are posted
 * back to the owning worker by the caller's job function (see worker_post). */
#ifndef SHUFFLED_SERVER_BLOCKING_POOL_H
#define SHUFFLED_SERVER_BLOCKING_POOL_H

struct blocking_pool;

/* Returns NULL with err set on failure. */
struct blocking_pool *blocking_pool_create(int nthreads, char *err, unsigned long errlen);
/* Queues fn(arg); FIFO; thread-safe. Returns 0, or -1 (out of memory or pool stopping). */
int blocking_pool_submit(struct blocking_pool *p, void (*fn)(void *arg), void *arg);
/* Runs every queued job, then joins the threads and frees the pool. */
void blocking_pool_destroy(struct blocking_pool *p);

#endif

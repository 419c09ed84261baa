/* SPDX-License-Identifier: Apache-2.0 */
/* Giving memory back to the system once clients that drove it are gone: large buffers
 * (frames, streams, queued answers) are mmap'ed so that freeing them returns them at once,
 * and the heap is trimmed after the client-driven budgets (conn.h) have shrunk. */
#ifndef SHUFFLED_SERVER_OPS_MEMORY_TRIM_H
#define SHUFFLED_SERVER_OPS_MEMORY_TRIM_H

struct event_base;
struct server;
struct memory_trim;

/* Before any thread starts: allocations of 128 KiB and more get their own mapping. */
void memory_trim_setup(void);
/* Checks every second on base (the main loop) whether to trim. NULL when out of memory. */
struct memory_trim *memory_trim_start(struct event_base *base, struct server *srv);
void memory_trim_stop(struct memory_trim *t);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Durable executor registrations (protocol.md 10.6), crash-safe.
 *
 * An append-only log in <state_dir>/registrations.wal. Each record is
 *   u32 magic "SHR1" | u32 payload length | u32 CRC32(payload) | payload
 * with payload = u8 op (1 = put executor, 2 = remove app) and the fields as
 * i32-length-prefixed strings (put: app, exec, i32 nDirs, dirs, i32 subDirs,
 * shuffleManager; remove: app). A put is written and fdatasync'ed before the
 * RegisterExecutor reply goes out, so a kill -9 after the reply loses nothing.
 *
 * On open the log is replayed into the resolver. A record whose header or CRC
 * does not check out (a torn write at the tail, or a damaged sector) is skipped:
 * the reader resynchronises on the next magic whose CRC verifies, and reports
 * what it skipped. Then the live set is rewritten compactly to a temp file,
 * fsync'ed and renamed over the log (and the directory fsync'ed), so the log
 * stays near the size of the live registrations (it is compacted again
 * online once dead records dominate, see REGISTRY_COMPACT_SLACK). */
#ifndef SHUFFLED_SERVER_REGISTRY_STORE_H
#define SHUFFLED_SERVER_REGISTRY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/block/resolver.h"

struct registry_store;

struct registry_store_stats {
    size_t records;       /* valid records replayed */
    size_t skipped_bytes; /* bytes of damaged or partial records skipped */
    size_t live;          /* registrations after replay */
};

/* Creates state_dir if needed, replays the log into r and compacts it.
 * Returns NULL with err on an unusable state_dir or I/O error. */
struct registry_store *registry_store_open(const char *state_dir, struct resolver *r,
                                           struct registry_store_stats *stats, char *err,
                                           size_t errlen);
void registry_store_close(struct registry_store *s);

/* The log is compacted again online once it holds more dead records (replaced or removed
 * registrations, removal records) than live ones and exceeds this many bytes. */
#define REGISTRY_COMPACT_SLACK (256u << 10)

/* How a record is persisted before registry_store_put/remove return: written to the log (it
 * survives a crash or restart of the daemon, as Spark's LevelDB puts do), and with sync also
 * fdatasync'ed (it survives a crash of the machine). Off after open. */
void registry_store_set_sync(struct registry_store *s, bool sync);
/* fdatasync calls made for records so far (for tests). */
uint64_t registry_store_syncs(struct registry_store *s);

/* Checks the registration against the limits and dir ownership (resolver_admit), appends it
 * to the log (see registry_store_set_sync), then registers it in the resolver given at open
 * (all under the store's lock, so an online compaction always sees every logged registration
 * and no other registration slips in after the check). Thread-safe; blocking: call on the
 * blocking-I/O pool. 0; a positive enum resolver_refusal with err holding the RpcFailure
 * text; or -1 with err (I/O or memory). Nothing is registered unless 0. */
int registry_store_put(struct registry_store *s, const char *app, const char *exec,
                       const struct executor_info *info, char *err, size_t errlen);
/* Logs the removal of every executor of app and, under the same lock, removes them
 * from the resolver, handing their infos over like resolver_remove_app (removed may be NULL;
 * *nremoved gets the count). Returns 0, or -1 with err if the record could not be written
 * (the executors are removed from the resolver all the same). */
int registry_store_remove_app_take(struct registry_store *s, const char *app,
                                   struct executor_info **removed, size_t *nremoved, char *err,
                                   size_t errlen);
/* The same, dropping the removed infos. */
int registry_store_remove_app(struct registry_store *s, const char *app, char *err, size_t errlen);

/* CRC-32 (IEEE, as zlib), exposed for tests. */
uint32_t registry_crc32(const uint8_t *p, size_t n);

#endif

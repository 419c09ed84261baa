/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the push-based shuffle tests against the real daemon (test_client_push_daemon,
 * test_push_metrics, test_push_secure): the executor's merge dir, its registration, and a
 * PushBlockStream sent over raw frames so that a test can hold a partition half-written. */
#ifndef SHUFFLED_TESTS_PUSH_FIXTURE_H
#define SHUFFLED_TESTS_PUSH_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "../check_main.h"
#include "../harness/daemon.h"
#include "manifest.h"
#include "shuffle/client.h"
#include "shuffle/push.h"

/* The data set of a push test: skipped (77) while the build has no shuffled or
 * gen-shuffle-data; else a new temporary dir in tmp, gen-shuffle-data's shuffle 0 (maps x reduces,
 * then sizes: its size and seed options) in data_root = tmp/data with the merge dir of attempt,
 * its manifest loaded into man: 0, or 1 after saying what failed. */
int push_fixture_dataset(char *tmp, size_t tmp_len, char *data_root, size_t root_len, int maps,
                         int reduces, const char *sizes, int attempt, struct manifest *man);
/* Starts d with o, runs case c of tests in this process (one client, one registration for all),
 * then frees *cl (made by the tests, if any), stops d, frees man and removes tmp: the process's
 * exit status. */
int push_fixture_run(struct harness_daemon *d, const struct harness_daemon_opts *o,
                     const struct check_case *c, const TTest *const *tests, shuffle_client **cl,
                     struct manifest *man, const char *tmp);
/* push_fixture_run with the daemon's config members (JSON, without braces) and an admin port
 * picked free, stored in *admin_port, for the tests to read its metrics. */
int push_fixture_run_admin(struct harness_daemon *d, const char *members, int *admin_port,
                           const struct check_case *c, const TTest *const *tests,
                           shuffle_client **cl, struct manifest *man, const char *tmp);
/* Fetches blocks ids[0 .. n-1] of app's executor "1" from 127.0.0.1:port with c (a check
 * assertion that the call succeeded): the results, freed by shuffle_fetch_results_free. */
struct shuffle_fetch_result *push_fixture_fetch(shuffle_client *c, int port, const char *app,
                                                const char *const *ids, size_t n);
/* Merged partition (shuffle, merge 0, reduce) of app's executor "1" at 127.0.0.1:port, its
 * chunks (MergedBlockMetaRequest, then every shuffleChunk_ id) back to back: a malloc'd copy
 * of *len bytes (check assertions that every call succeeded). */
uint8_t *push_fixture_fetch_merged(shuffle_client *c, int port, const char *app, int shuffle,
                                   int reduce, size_t *len);
/* data_root/merge_manager_<attempt> with its 64 hashed sub-dirs (00 .. 3f), made where
 * missing; 0, or -1 after saying what failed. */
int push_fixture_merge_dirs(const char *data_root, int attempt);
/* Registers executor "1" of app on port with man's local dirs and merge_manager_<attempt> as
 * its merge dir (a check assertion). */
void push_fixture_register(shuffle_client *c, int port, const char *app, int attempt,
                           const struct manifest *man);
/* A new connection to port that has sent the UploadStream header of a PushBlockStream
 * (shuffle, merge 0, map, reduce) announcing body_len bytes, and none of the body yet. */
int push_fixture_raw_start(int port, const char *app, int attempt, int shuffle, int map, int reduce,
                           uint64_t body_len);
/* Reads the answer to a raw push on fd: its BlockPushReturnCode. */
int push_fixture_raw_code(int fd);

/* len bytes of test pattern k into b (the same bytes for the same len and k). */
void push_fixture_pattern(uint8_t *b, size_t len, unsigned k);
/* Pushes one block of len bytes of pattern k as shufflePush_<shuffle>_0_<map>_<reduce> of app's
 * attempt to 127.0.0.1:port with c: its outcome (error strdup'd, the caller frees it). */
struct shuffle_push_outcome push_fixture_push_one(shuffle_client *c, int port, const char *app,
                                                  int attempt, int shuffle, int map, int reduce,
                                                  size_t len, unsigned k);
/* The merged partition (shuffle, merge 0, reduce) of app, its chunks back to back, is exactly
 * the blocks of lens[] and patterns ks[] in order (check assertions). */
void push_fixture_check_merged(shuffle_client *c, int port, const char *app, int shuffle,
                               int reduce, const size_t *lens, const unsigned *ks, size_t n);
/* A field of /proc/<pid>/status in bytes ("VmRSS", "VmHWM"; a check assertion that it is). */
uint64_t push_fixture_proc_bytes(pid_t pid, const char *field);
/* Starts a new peak-RSS window for process pid (proc(5), clear_refs "5"): its RSS now. */
uint64_t push_fixture_rss_window_start(pid_t pid);

#endif

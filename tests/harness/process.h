/* SPDX-License-Identifier: Apache-2.0 */
/* Child processes of a test: spawned with their output in a file, reaped within a bound, and
 * killed when the test program exits if still running (a failed check leaves none behind). */
#ifndef SHUFFLED_TESTS_HARNESS_PROCESS_H
#define SHUFFLED_TESTS_HARNESS_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Starts argv with stdout and stderr appended to log_path (NULL: inherited), child_setup run
 * in the child first (may be NULL). The pid, or -1. */
pid_t harness_spawn(char *const argv[], const char *log_path, void (*child_setup)(void *arg),
                    void *child_arg);
/* True (and reaped, *status set if not NULL) if pid has exited; never waits. */
bool harness_try_reap(pid_t pid, int *status);
/* Reaps pid within timeout_ms, SIGKILL after: the raw wait status, or -1 if it was killed. */
int harness_reap_status(pid_t pid, long timeout_ms);
/* As harness_reap_status: exit status, 128 + signal, or -1 (killed). */
int harness_reap(pid_t pid, long timeout_ms);
/* Runs a shell command: its exit status (-1: it did not exit), its stdout in out. */
int harness_run(const char *cmd, char *out, size_t outlen);

#endif

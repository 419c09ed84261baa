/* SPDX-License-Identifier: Apache-2.0 */
/* A daemon for a test: shuffled (or a test build of it) started on 127.0.0.1 with a config
 * written for it, its ephemeral port read back through --port-file, its stderr captured in a
 * file, every wait bounded, stopped with SIGTERM and reaped. Daemons a failed test leaves
 * running are killed when the test program exits. */
#ifndef SHUFFLED_TESTS_HARNESS_DAEMON_H
#define SHUFFLED_TESTS_HARNESS_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "process.h"

struct harness_daemon_opts {
    const char *exe;        /* below the build dir; NULL: "shuffled" */
    const char *dir;        /* for the config, port file and log; NULL: a fresh temp dir that
                               stop removes */
    const char *state_dir;  /* NULL: dir */
    const char *log_level;  /* NULL: "warn" */
    const char *extra_json; /* more members, e.g. "\"idle_timeout_ms\": 300"; one naming a
                               default member ("listen", "io_threads", "admin_port" (0:
                               ephemeral), ...) replaces it */
    int port;               /* 0: ephemeral */
    /* run in the child before exec (environment for a simulated systemd, ...) */
    void (*child_setup)(void *arg);
    void *child_arg;
};

struct harness_daemon {
    pid_t pid; /* 0 once reaped */
    int port;
    bool owns_dir;
    char dir[256];
    char config[300], port_file[300], log[300]; /* files in dir; log: stdout and stderr */
    struct harness_daemon_opts opts; /* as started; its strings are not copied, so they must
                                        outlive d for a restart */
};

/* Sets d up without starting it: its dir (made if opts has none), file names, config. 0 or -1.
 * For a test that runs the daemon its own way (harness_spawn with other arguments). */
int harness_daemon_prepare(struct harness_daemon *d, const struct harness_daemon_opts *opts);
/* Writes d->config from opts (also for a SIGHUP reload with new members). 0 or -1. */
int harness_daemon_write_config(struct harness_daemon *d, const struct harness_daemon_opts *opts);
/* Writes the config, starts the daemon and waits (30 s at most) for its port. 0, or -1 with
 * the reason and the daemon's log on stderr (the daemon is not left running). */
int harness_daemon_start(struct harness_daemon *d, const struct harness_daemon_opts *opts);
/* Starts it again with the same options, on port (0: a new ephemeral one). */
int harness_daemon_restart(struct harness_daemon *d, int port);
/* SIGTERM and reap: the exit status (0: clean, under ASan also no leak), or -1 if it died by
 * a signal or had to be killed after 60 s. Removes a dir the harness made. */
int harness_daemon_stop(struct harness_daemon *d);
/* Sends sig (SIGCONT first, so a stopped daemon can take it) and reaps within 60 s, else
 * SIGKILL. The raw wait status; -1 if it was not running or had to be killed. */
int harness_daemon_kill(struct harness_daemon *d, int sig);
/* Waits (60 s at most) for the daemon to exit by itself; then as harness_daemon_stop. */
int harness_daemon_wait(struct harness_daemon *d);
/* The port in d's port file, 0 while there is none. */
int harness_daemon_read_port(const struct harness_daemon *d);
/* The daemon's captured output so far (malloc'd, NUL-terminated). */
char *harness_daemon_log(const struct harness_daemon *d);

#endif

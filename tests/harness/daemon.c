/* SPDX-License-Identifier: Apache-2.0 */
/* See daemon.h. */
#include <config.h>

#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs.h"
#include "locate.h"
#include "process.h"
#include "wait.h"

#define START_TIMEOUT_MS 30000 /* a sanitizer build starts slowly on a busy machine */
#define STOP_TIMEOUT_MS 60000

/* Appends `"key": value` (after a comma unless first) unless extra names key itself. */
static void member(FILE *f, bool *first, const char *extra, const char *key, const char *value)
{
    char quoted[64];
    snprintf(quoted, sizeof(quoted), "\"%s\"", key);
    if (extra && strstr(extra, quoted))
        return;
    fprintf(f, "%s  %s: %s", *first ? "" : ",\n", quoted, value);
    *first = false;
}

int harness_daemon_write_config(struct harness_daemon *d, const struct harness_daemon_opts *o)
{
    const char *extra = o->extra_json && *o->extra_json ? o->extra_json : NULL;
    char port[16], log_level[64], state[600];
    snprintf(port, sizeof(port), "%d", o->port);
    snprintf(log_level, sizeof(log_level), "\"%s\"", o->log_level ? o->log_level : "warn");
    snprintf(state, sizeof(state), "\"%s\"", o->state_dir ? o->state_dir : d->dir);
    FILE *f = fopen(d->config, "w");
    if (!f)
        return -1;
    bool first = true;
    fputs("{\n", f);
    member(f, &first, extra, "listen", "[\"127.0.0.1\"]");
    member(f, &first, extra, "port", port);
    member(f, &first, extra, "io_threads", "2");
    member(f, &first, extra, "blocking_threads", "2");
    member(f, &first, extra, "log_level", log_level);
    member(f, &first, extra, "state_dir", state);
    /* an ephemeral admin port unless the test picks one: a taken port is fatal at start */
    member(f, &first, extra, "admin_port", "0");
    if (extra)
        fprintf(f, "%s  %s", first ? "" : ",\n", extra);
    fputs("\n}\n", f);
    return fclose(f) == 0 ? 0 : -1;
}

static void dump_log(const struct harness_daemon *d)
{
    char *text = harness_daemon_log(d);
    if (*text)
        fprintf(stderr, "---- %s\n%s---- end of %s\n", d->log, text, d->log);
    free(text);
}

char *harness_daemon_log(const struct harness_daemon *d)
{
    size_t len = 0;
    char *text = (char *)harness_read_file(d->log, &len);
    if (!text)
        return calloc(1, 1);
    text = realloc(text, len + 1);
    text[len] = '\0';
    return text;
}

int harness_daemon_read_port(const struct harness_daemon *d)
{
    int port = 0;
    FILE *f = fopen(d->port_file, "r");
    if (f) {
        if (fscanf(f, "%d", &port) != 1)
            port = 0;
        fclose(f);
    }
    return port;
}

/* Polled while starting: the port file holds a port, or the daemon is gone. */
static bool port_known_or_exited(void *arg)
{
    struct harness_daemon *d = arg;
    d->port = harness_daemon_read_port(d);
    if (d->port > 0)
        return true;
    if (harness_try_reap(d->pid, NULL)) {
        d->pid = 0;
        return true;
    }
    return false;
}

/* The daemon's executable: the build dir / opts.exe. */
static void daemon_exe(const struct harness_daemon *d, char *out, size_t outlen)
{
    harness_build_path(out, outlen, d->opts.exe ? d->opts.exe : "shuffled");
}

static int spawn_daemon(struct harness_daemon *d)
{
    char exe[1024];
    daemon_exe(d, exe, sizeof(exe));
    char *argv[] = {exe, "-c", d->config, "--port-file", d->port_file, NULL};
    unlink(d->port_file);
    d->port = 0;
    d->pid = harness_spawn(argv, d->log, d->opts.child_setup, d->opts.child_arg);
    if (d->pid < 0) {
        d->pid = 0;
        return -1;
    }
    if (harness_wait_until(port_known_or_exited, d, START_TIMEOUT_MS, 10) && d->port > 0)
        return 0;
    fprintf(stderr, "%s did not come up (config %s)\n", exe, d->config);
    if (d->pid > 0)
        harness_daemon_kill(d, SIGKILL);
    dump_log(d);
    return -1;
}

int harness_daemon_prepare(struct harness_daemon *d, const struct harness_daemon_opts *o)
{
    memset(d, 0, sizeof(*d));
    d->opts = *o;
    if (o->dir) {
        snprintf(d->dir, sizeof(d->dir), "%s", o->dir);
        mkdir(d->dir, 0700);
    } else {
        char *made = harness_temp_dir();
        if (!made)
            return -1;
        snprintf(d->dir, sizeof(d->dir), "%s", made);
        free(made);
        d->owns_dir = true;
    }
    snprintf(d->config, sizeof(d->config), "%s/shuffled.json", d->dir);
    snprintf(d->port_file, sizeof(d->port_file), "%s/port", d->dir);
    snprintf(d->log, sizeof(d->log), "%s/daemon.log", d->dir);
    return harness_daemon_write_config(d, o);
}

int harness_daemon_start(struct harness_daemon *d, const struct harness_daemon_opts *o)
{
    if (harness_daemon_prepare(d, o) != 0)
        return -1;
    return spawn_daemon(d);
}

int harness_daemon_restart(struct harness_daemon *d, int port)
{
    d->opts.port = port;
    if (harness_daemon_write_config(d, &d->opts) != 0)
        return -1;
    return spawn_daemon(d);
}

int harness_daemon_kill(struct harness_daemon *d, int sig)
{
    if (d->pid <= 0)
        return -1;
    /* SIGCONT first: a stopped daemon must wake to take sig. (A SIGCONT that arrived while
     * LeakSanitizer's exit-time check runs would cancel the SIGSTOP of its ptrace attach and
     * hang the daemon, so it is never sent later.) */
    kill(d->pid, SIGCONT);
    kill(d->pid, sig);
    int st = harness_reap_status(d->pid, STOP_TIMEOUT_MS);
    d->pid = 0;
    return st;
}

/* Exit status from a wait status (-1: by a signal or killed); the log shown if not 0. */
static int finish(struct harness_daemon *d, int st)
{
    int rc = st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (st != -1 && WIFSIGNALED(st))
        fprintf(stderr, "daemon died by signal %d\n", WTERMSIG(st));
    if (rc != 0)
        dump_log(d);
    if (d->owns_dir) {
        harness_rm_rf(d->dir);
        d->owns_dir = false;
    }
    return rc;
}

int harness_daemon_stop(struct harness_daemon *d)
{
    if (d->pid <= 0)
        return finish(d, -1);
    return finish(d, harness_daemon_kill(d, SIGTERM));
}

int harness_daemon_wait(struct harness_daemon *d)
{
    if (d->pid <= 0)
        return finish(d, -1);
    int st = harness_reap_status(d->pid, STOP_TIMEOUT_MS);
    d->pid = 0;
    return finish(d, st);
}

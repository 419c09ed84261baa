/* SPDX-License-Identifier: Apache-2.0 */
/* See process.h. */
#include <config.h>

#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wait.h"

#define MAX_LIVE 16

/* Children started and not reaped yet, killed at exit so a failed test leaves none behind. */
static pid_t live[MAX_LIVE];

static void kill_leftovers(void)
{
    for (int i = 0; i < MAX_LIVE; i++) {
        if (live[i] > 0) {
            kill(live[i], SIGKILL);
            waitpid(live[i], NULL, 0);
            live[i] = 0;
        }
    }
}

static void track(pid_t pid, bool add)
{
    static bool registered;
    if (!registered) {
        atexit(kill_leftovers);
        registered = true;
    }
    for (int i = 0; i < MAX_LIVE; i++) {
        if (add ? live[i] == 0 : live[i] == pid) {
            live[i] = add ? pid : 0;
            return;
        }
    }
}

pid_t harness_spawn(char *const argv[], const char *log_path, void (*child_setup)(void *arg),
                    void *child_arg)
{
    pid_t pid = fork();
    if (pid != 0) {
        if (pid > 0)
            track(pid, true);
        return pid;
    }
    if (log_path) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
    }
    if (child_setup)
        child_setup(child_arg);
    execv(argv[0], argv);
    fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* The wait status, or -1 if pid had to be killed after timeout_ms. */
int harness_reap_status(pid_t pid, long timeout_ms)
{
    int st = 0;
    for (long waited = 0; waited < timeout_ms; waited += 10) {
        if (waitpid(pid, &st, WNOHANG) == pid) {
            track(pid, false);
            return st;
        }
        harness_sleep_ms(10);
    }
    fprintf(stderr, "process %d did not exit within %ld ms: killed\n", (int)pid, timeout_ms);
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    track(pid, false);
    return -1;
}

bool harness_try_reap(pid_t pid, int *status)
{
    int st;
    if (waitpid(pid, &st, WNOHANG) != pid)
        return false;
    track(pid, false);
    if (status)
        *status = st;
    return true;
}

int harness_reap(pid_t pid, long timeout_ms)
{
    int st = harness_reap_status(pid, timeout_ms);
    if (st == -1)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int harness_run(const char *cmd, char *out, size_t outlen)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

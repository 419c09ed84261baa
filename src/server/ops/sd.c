/* SPDX-License-Identifier: Apache-2.0 */
/* libsystemd glue; see sd.h. */
#include <config.h>

#include "server/ops/sd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>

static int notify_result(int r)
{
    return r < 0 ? r : 0;
}

int systemd_notify_ready(void)
{
    return notify_result(sd_notify(0, "READY=1"));
}

int systemd_notify_reloading(void)
{
    /* MONOTONIC_USEC lets systemd >= 253 (Type=notify-reload) match the reload. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    unsigned long long usec = (unsigned long long)ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
    return notify_result(sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", usec));
}

int systemd_notify_stopping(void)
{
    return notify_result(sd_notify(0, "STOPPING=1"));
}

int systemd_notify_watchdog(void)
{
    return notify_result(sd_notify(0, "WATCHDOG=1"));
}

int systemd_notify_status(const char *fmt, ...)
{
    char msg[512] = "STATUS=";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + 7, sizeof(msg) - 7, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return notify_result(sd_notify(0, msg));
}

uint64_t systemd_watchdog_usec(void)
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0)
        return 0;
    return usec;
}

int systemd_listen_fds(int **fds, char *err, size_t errlen)
{
    *fds = NULL;
    int n = sd_listen_fds(1);
    if (n < 0) {
        snprintf(err, errlen, "socket activation: bad LISTEN_FDS/LISTEN_PID: %s", strerror(-n));
        return n;
    }
    if (n == 0)
        return 0;
    int *out = calloc((size_t)n, sizeof(*out));
    if (!out) {
        snprintf(err, errlen, "socket activation: out of memory");
        return -ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        int fd = SD_LISTEN_FDS_START + i;
        int r = sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1);
        if (r <= 0) {
            snprintf(err, errlen,
                     "socket activation: fd %d is not a listening stream socket%s%s "
                     "(use ListenStream= in shuffled.socket)",
                     fd, r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
            free(out);
            return r < 0 ? r : -ENOTSOCK;
        }
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        out[i] = fd;
    }
    *fds = out;
    return n;
}

bool systemd_journal_stderr(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    if (!js || !*js)
        return false;
    unsigned long long dev, ino;
    if (sscanf(js, "%llu:%llu", &dev, &ino) != 2)
        return false;
    struct stat st;
    if (fstat(2, &st) != 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the auth secret file; see auth_secret.h. */
#include <config.h>

#include "server/net/auth_secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_MAX 4096

int auth_secret_read(const char *path, char **secret, char *why, size_t whylen)
{
    *secret = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "%s is not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_mode & 077) {
        snprintf(why, whylen,
                 "%s is accessible by group or others (mode %04o): the secret must be private "
                 "to the daemon's user (chmod 600 %s)",
                 path, (unsigned)(st.st_mode & 07777), path);
        close(fd);
        return -1;
    }
    char *buf = malloc(SECRET_MAX + 2);
    if (!buf) {
        snprintf(why, whylen, "out of memory");
        close(fd);
        return -1;
    }
    size_t len = 0;
    ssize_t n;
    while (len < SECRET_MAX + 1 && (n = read(fd, buf + len, SECRET_MAX + 1 - len)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno));
            free(buf);
            close(fd);
            return -1;
        }
        len += (size_t)n;
    }
    close(fd);
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    buf[len] = '\0';
    const char *bad = len == 0             ? "is empty"
                      : len > SECRET_MAX   ? "is longer than 4096 bytes"
                      : strlen(buf) != len ? "holds a NUL byte"
                                           : NULL;
    if (bad) {
        snprintf(why, whylen, "the secret in %s %s", path, bad);
        explicit_bzero(buf, len);
        free(buf);
        return -1;
    }
    *secret = buf;
    return 0;
}

int auth_secret_check(const char *path, char *why, size_t whylen)
{
    char *s;
    if (auth_secret_read(path, &s, why, whylen) != 0)
        return -1;
    explicit_bzero(s, strlen(s));
    free(s);
    return 0;
}

int auth_secret_dir_check(const char *path, char *why, size_t whylen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(why, whylen, "cannot use %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(why, whylen, "%s is not a directory", path);
        return -1;
    }
    if (st.st_mode & 007) {
        snprintf(why, whylen,
                 "%s is accessible by others (mode %04o): the secrets must be private (chmod "
                 "o-rwx %s)",
                 path, (unsigned)(st.st_mode & 07777), path);
        return -1;
    }
    return 0;
}

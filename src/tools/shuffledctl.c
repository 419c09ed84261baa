/* SPDX-License-Identifier: Apache-2.0 */
/* shuffledctl: the daemon's admin HTTP endpoint from the command line (loopback by default).
 *
 *   shuffledctl [-a HOST:PORT] [-t TOKEN_FILE] status | metrics [TEXT] | apps
 *               | remove-app APP_ID [--cleanup-local-dirs] | remove-executor APP_ID EXEC_ID
 *               | reload | config [FILE]
 *
 * One HTTP/1.0 request per call over a plain socket; the answer's body goes to stdout (2xx,
 * exit 0) or stderr (exit 1). `config` runs `shuffled -T` on the configuration (the
 * effective one, drop-ins applied). `reload` asks the daemon to reload as on SIGHUP
 * (`systemctl reload shuffled`). With admin_token_file set, -t names the same file. */
#include <config.h>

#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/version.h"
#include "tools/peer_arg.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: shuffledctl [-a HOST:PORT] COMMAND\n"
            "  -a HOST:PORT      the admin endpoint (default $SHUFFLED_ADMIN or 127.0.0.1:7338)\n"
            "  -t TOKEN_FILE     the bearer token (admin_token_file; default\n"
            "                    $SHUFFLED_ADMIN_TOKEN_FILE, else none)\n"
            "commands:\n"
            "  status                          /healthz: serving, starting, draining, unhealthy\n"
            "  metrics [TEXT]                  /metrics, only the lines containing TEXT\n"
            "  apps                            the applications, their executors, dir counts\n"
            "                                  and last activity (JSON, /admin/apps)\n"
            "  remove-app APP_ID [--cleanup-local-dirs]\n"
            "                                  forget an application (and delete its dirs)\n"
            "  remove-executor APP_ID EXEC_ID  delete an executor's non-shuffle files\n"
            "  reload                          reload the configuration (as SIGHUP)\n"
            "  config [FILE]                   the effective configuration (shuffled -T -c FILE,\n"
            "                                  default " SYSCONFDIR "/shuffled/shuffled.json)\n"
            "  --help | --version\n");
}

/* "Authorization: Bearer ...\r\n" when a token file is given, else "". */
static char auth_header[4200];

/* Reads the token (one trailing newline dropped, as the daemon does); 0, or -1 said why. */
static int read_token(const char *path)
{
    FILE *f = fopen(path, "r");
    char token[4100] = "";
    if (!f || !fgets(token, sizeof token, f)) {
        fprintf(stderr, "shuffledctl: -t %s: %s\n", path, f ? "empty" : strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    token[strcspn(token, "\r\n")] = '\0';
    snprintf(auth_header, sizeof auth_header, "Authorization: Bearer %s\r\n", token);
    explicit_bzero(token, sizeof token);
    return 0;
}

/* Spark ids as the daemon accepts them: no escaping is ever needed. */
static bool valid_id(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= 200 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789._:-") == n;
}

/* Sends the request; returns the HTTP status (body in *body, malloc'd) or -1 (said why). */
static int http(const char *addr, const char *method, const char *path, char **body)
{
    char host[256], err[256], portstr[16];
    int port;
    if (peer_arg_parse(addr, host, sizeof host, &port, err, sizeof err) != 0) {
        fprintf(stderr, "shuffledctl: -a %s: %s\n", addr, err);
        return -1;
    }
    snprintf(portstr, sizeof portstr, "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(host, portstr, &hints, &res), fd = -1, e = 0;
    if (rc != 0) {
        fprintf(stderr, "shuffledctl: %s: %s\n", host, gai_strerror(rc));
        return -1;
    }
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct timeval tv = {10, 0};
        if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
                        connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)) {
            e = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        fprintf(stderr, "shuffledctl: cannot reach the admin endpoint %s: %s\n", addr, strerror(e));
        return -1;
    }
    char req[5400];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.0\r\nHost: %s\r\n%sContent-Length: 0\r\n\r\n",
                     method, path, host, auth_header);
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    if (!buf || send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        fprintf(stderr, "shuffledctl: sending to %s: %s\n", addr, strerror(errno));
        free(buf);
        close(fd);
        return -1;
    }
    ssize_t r;
    while ((r = recv(fd, buf + len, cap - len - 1, 0)) > 0) {
        len += (size_t)r;
        if (len + 1 == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                break;
            buf = bigger;
        }
    }
    close(fd);
    buf[len] = '\0';
    int status = 0;
    char *start = strstr(buf, "\r\n\r\n");
    if (sscanf(buf, "HTTP/%*d.%*d %d", &status) != 1 || !start) {
        fprintf(stderr, "shuffledctl: %s did not answer HTTP (%s)\n", addr,
                r < 0 ? strerror(errno) : "malformed reply");
        free(buf);
        return -1;
    }
    memmove(buf, start + 4, len - (size_t)(start + 4 - buf) + 1);
    *body = buf;
    return status;
}

/* Sends the request, prints the body (filtered by text if given) and maps the status to an
 * exit status. */
static int request(const char *addr, const char *method, const char *path, const char *text)
{
    char *body = NULL;
    int status = http(addr, method, path, &body);
    if (status < 0)
        return 1;
    FILE *out = status >= 200 && status < 300 ? stdout : stderr;
    if (out == stderr)
        fprintf(stderr, "shuffledctl: HTTP %d: ", status);
    for (char *line = strtok(body, "\n"); line; line = strtok(NULL, "\n"))
        if (!text || strstr(line, text))
            fprintf(out, "%s\n", line);
    free(body);
    return out == stdout ? 0 : 1;
}

/* "FLAG VALUE" at argv[*i] into *value: 0 (and *i moved past it), 1 when argv[*i] is not FLAG,
 * -1 (said) when VALUE is missing. */
static int take_option(int argc, char **argv, int *i, const char *flag, const char *what,
                       const char **value)
{
    if (*i >= argc || strcmp(argv[*i], flag) != 0)
        return 1;
    if (*i + 1 >= argc) {
        fprintf(stderr, "shuffledctl: %s needs %s\n", flag, what);
        return -1;
    }
    *value = argv[*i + 1];
    *i += 2;
    return 0;
}

int main(int argc, char **argv)
{
    const char *addr = getenv("SHUFFLED_ADMIN");
    if (!addr || !*addr)
        addr = "127.0.0.1:7338";
    const char *token_file = getenv("SHUFFLED_ADMIN_TOKEN_FILE");
    int i = 1;
    for (;;) { /* -a and -t, in either order */
        int r = take_option(argc, argv, &i, "-a", "HOST:PORT", &addr);
        if (r == 1)
            r = take_option(argc, argv, &i, "-t", "TOKEN_FILE", &token_file);
        if (r < 0)
            return 2;
        if (r == 1)
            break;
    }
    if (token_file && *token_file && read_token(token_file) != 0)
        return 2;
    const char *cmd = i < argc ? argv[i++] : NULL;
    int nargs = argc - i;
    char **args = argv + i, path[600];
    if (!cmd || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(cmd ? stdout : stderr);
        return cmd ? 0 : 2;
    }
    if (strcmp(cmd, "--version") == 0) {
        print_version("shuffledctl");
        return 0;
    }
    if (strcmp(cmd, "status") == 0 && nargs == 0)
        return request(addr, "GET", "/healthz", NULL);
    if (strcmp(cmd, "metrics") == 0 && nargs <= 1)
        return request(addr, "GET", "/metrics", nargs ? args[0] : NULL);
    if (strcmp(cmd, "apps") == 0 && nargs == 0)
        return request(addr, "GET", "/admin/apps", NULL);
    if (strcmp(cmd, "reload") == 0 && nargs == 0)
        return request(addr, "POST", "/admin/reload", NULL);
    if (strcmp(cmd, "remove-app") == 0 && (nargs == 1 || nargs == 2)) {
        bool cleanup = nargs == 2 && strcmp(args[1], "--cleanup-local-dirs") == 0;
        if (!valid_id(args[0]) || (nargs == 2 && !cleanup)) {
            fprintf(stderr, "shuffledctl: remove-app APP_ID [--cleanup-local-dirs] (ids: "
                            "A-Z a-z 0-9 . _ : -)\n");
            return 2;
        }
        snprintf(path, sizeof path, "/admin/remove-application?app_id=%s&cleanup_local_dirs=%s",
                 args[0], cleanup ? "true" : "false");
        return request(addr, "POST", path, NULL);
    }
    if (strcmp(cmd, "remove-executor") == 0 && nargs == 2) {
        if (!valid_id(args[0]) || !valid_id(args[1])) {
            fprintf(stderr,
                    "shuffledctl: remove-executor APP_ID EXEC_ID (ids: A-Z a-z 0-9 . _ : -)\n");
            return 2;
        }
        snprintf(path, sizeof path, "/admin/remove-executor?app_id=%s&exec_id=%s", args[0],
                 args[1]);
        return request(addr, "POST", path, NULL);
    }
    if (strcmp(cmd, "config") == 0 && nargs <= 1) {
        const char *file = nargs ? args[0] : SYSCONFDIR "/shuffled/shuffled.json";
        const char *daemon = getenv("SHUFFLED_BIN");
        if (!daemon || !*daemon)
            daemon = SBINDIR "/shuffled";
        execl(daemon, daemon, "-T", "-c", file, (char *)NULL);
        fprintf(stderr, "shuffledctl: cannot run %s: %s\n", daemon, strerror(errno));
        return 1;
    }
    fprintf(stderr, "shuffledctl: unknown command or wrong arguments: %s\n", cmd);
    usage(stderr);
    return 2;
}

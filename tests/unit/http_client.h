/* SPDX-License-Identifier: Apache-2.0 */
/* A minimal HTTP/1.0 client for tests (header-only): one request per connection to
 * 127.0.0.1:port, the whole answer read until the server closes. Every wait is bounded
 * (10 s) so a broken server fails the test instead of hanging it. */
#ifndef SHUFFLED_TEST_HTTP_CLIENT_H
#define SHUFFLED_TEST_HTTP_CLIENT_H

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct http_response {
    int status;
    char head[2048];
    char *body; /* malloc'd, NUL-terminated */
};

static inline struct http_response http_raw(int port, const char *request)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    size_t len = strlen(request);
    ck_assert_int_eq(send(fd, request, len, MSG_NOSIGNAL), (ssize_t)len);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ck_assert_msg(poll(&p, 1, 10000) == 1, "HTTP server did not answer within 10 s");
        if (n + 1 == cap)
            buf = realloc(buf, cap *= 2);
        ssize_t r = recv(fd, buf + n, cap - n - 1, 0);
        ck_assert_int_ge(r, 0);
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    struct http_response resp = {0};
    ck_assert_msg(sscanf(buf, "HTTP/1.%*d %d", &resp.status) == 1, "not HTTP: %s", buf);
    char *sep = strstr(buf, "\r\n\r\n");
    ck_assert_ptr_nonnull(sep);
    snprintf(resp.head, sizeof(resp.head), "%.*s", (int)(sep - buf), buf);
    resp.body = strdup(sep + 4);
    free(buf);
    return resp;
}

static inline struct http_response http_request(int port, const char *method, const char *target)
{
    char req[1024];
    snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: localhost\r\n\r\n", method, target);
    return http_raw(port, req);
}

/* method target must answer status and, unless want_body is NULL, exactly want_body. */
static inline void http_expect(int port, const char *method, const char *target, int status,
                               const char *want_body)
{
    struct http_response r = http_request(port, method, target);
    ck_assert_msg(r.status == status, "%s %s: got %d, want %d: %s", method, target, r.status,
                  status, r.body);
    if (want_body)
        ck_assert_str_eq(r.body, want_body);
    free(r.body);
}

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#include <config.h>

#include "texpect.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t hash_of(const void *p, size_t n)
{
    return tc_hash(TC_HASH_INIT, p, n);
}

void expect_fetch_ok(int fd, int64_t sid, int32_t idx, const void *want, size_t n)
{
    struct tc_resp r;
    ck_assert_msg(tc_recv(fd, &r) == 0, "recv: %s", tc_last_error());
    ck_assert_int_eq(r.m.type, PROTO_CHUNK_FETCH_SUCCESS);
    ck_assert_int_eq(r.m.u.chunk_fetch_success.stream_id, sid);
    ck_assert_int_eq(r.m.u.chunk_fetch_success.chunk_index, idx);
    ck_assert_uint_eq(r.body_len, n);
    ck_assert_uint_eq(r.body_hash, hash_of(want, n));
    tc_resp_free(&r);
}

void expect_fetch_fail(int fd, int64_t sid, int32_t idx, const char *text)
{
    struct tc_resp r;
    ck_assert_msg(tc_recv(fd, &r) == 0, "recv: %s", tc_last_error());
    ck_assert_int_eq(r.m.type, PROTO_CHUNK_FETCH_FAILURE);
    ck_assert_int_eq(r.m.u.chunk_fetch_failure.stream_id, sid);
    ck_assert_int_eq(r.m.u.chunk_fetch_failure.chunk_index, idx);
    char got[600];
    snprintf(got, sizeof got, "%.*s", (int)r.m.u.chunk_fetch_failure.error.len,
             r.m.u.chunk_fetch_failure.error.data);
    ck_assert_msg(strstr(got, text) != NULL, "error '%s' lacks '%s'", got, text);
    tc_resp_free(&r);
}

void expect_stream_ok(int fd, const char *name, const void *want, size_t n)
{
    struct tc_resp r;
    ck_assert_msg(tc_recv(fd, &r) == 0, "recv: %s", tc_last_error());
    ck_assert_int_eq(r.m.type, PROTO_STREAM_RESPONSE);
    ck_assert_int_eq(r.m.u.stream_response.stream_id.len, strlen(name));
    ck_assert(memcmp(r.m.u.stream_response.stream_id.data, name, strlen(name)) == 0);
    ck_assert_uint_eq(r.body_len, n);
    ck_assert_uint_eq(r.body_hash, hash_of(want, n));
    tc_resp_free(&r);
}

void expect_stream_fail(int fd, const char *name, const char *text)
{
    struct tc_resp r;
    ck_assert_msg(tc_recv(fd, &r) == 0, "recv: %s", tc_last_error());
    ck_assert_int_eq(r.m.type, PROTO_STREAM_FAILURE);
    char got[600], id[200];
    snprintf(id, sizeof id, "%.*s", (int)r.m.u.stream_failure.stream_id.len,
             r.m.u.stream_failure.stream_id.data);
    snprintf(got, sizeof got, "%.*s", (int)r.m.u.stream_failure.error.len,
             r.m.u.stream_failure.error.data);
    ck_assert_str_eq(id, name);
    ck_assert_msg(strstr(got, text) != NULL, "error '%s' lacks '%s'", got, text);
    tc_resp_free(&r);
}

void expect_echo(int fd)
{
    uint8_t *out;
    size_t n;
    ck_assert_int_eq(tc_rpc(fd, "Ehello", 6, &out, &n), 0);
    ck_assert_uint_eq(n, 5);
    ck_assert(memcmp(out, "hello", 5) == 0);
    free(out);
}

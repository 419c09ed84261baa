/* SPDX-License-Identifier: Apache-2.0 */
/* Dir ownership with spark.authenticate (issue 15): with per-app secrets, app-2, correctly
 * authenticated as itself, cannot register app-1's dirs (Spark's own service accepts it and
 * then lets app-2 read and delete app-1's blocks); the same holds with a shared secret and
 * without auth; app-1 may register them again. */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth_fixture.h"
#include "tclient.h"

/* RegisterExecutor(app, "1", the dataset's dirs) on fd: 0 accepted, 1 refused (text in out). */
static int register_as(int fd, const char *app, char **out)
{
    struct blockmsg m = register_msg(app);
    *out = NULL;
    return rpc_msg(fd, &m, out);
}

/* app-1 registers the dataset's dirs, then app-2 tries them on the same daemon. */
static void second_app_refused(int port, const char *secret1, const char *secret2)
{
    char err[512], *out = NULL;
    int fd1 = tc_connect(port), fd2 = tc_connect(port);
    ck_assert(fd1 >= 0 && fd2 >= 0);
    if (secret1) {
        ck_assert_msg(java_auth(fd1, "app-1", secret1, err, sizeof err) == 0, "%s", err);
        ck_assert_msg(java_auth(fd2, "app-2", secret2, err, sizeof err) == 0, "%s", err);
    }
    ck_assert_msg(register_as(fd1, "app-1", &out) == 0, "%s", out ? out : "");
    free(out);
    ck_assert_int_eq(register_as(fd2, "app-2", &out), 1);
    ck_assert_msg(strstr(out, "java.lang.SecurityException: RegisterExecutor(appId=app-2") &&
                      strstr(out, "another application"),
                  "%s", out);
    free(out);
    ck_assert_msg(register_as(fd1, "app-1", &out) == 0, "the owner again: %s", out ? out : "");
    free(out);
    close(fd1);
    close(fd2);
}

START_TEST(per_app_secrets)
{
    second_app_refused(appd.port, "secret-one", "secret-two");
}
END_TEST

START_TEST(shared_secret)
{
    second_app_refused(authd.port, SECRET, SECRET);
}
END_TEST

START_TEST(without_auth)
{
    second_app_refused(plaind.port, NULL, NULL);
}
END_TEST

int main(void)
{
    return auth_fixture_main(
        &(struct check_case){.suite = "tenancy_auth", .name = "tenancy_auth", .timeout_s = 60},
        CHECK_TESTS(per_app_secrets, shared_secret, without_auth));
}

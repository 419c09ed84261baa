/* SPDX-License-Identifier: Apache-2.0 */
/* shuffled -T's dump parses back to the same configuration; the installed
 * conf/shuffled.system.json (generated with this build's state dir) is valid and holds the
 * defaults but for "listen", which serves every IPv4 address as shuffled.socket does; a SIGHUP
 * reload applies log_level and names every other changed key as needing a restart. */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/ops/config.h"
#include "server/ops/config_dump.h"
#include "server/ops/config_reload.h"
#include "../check_main.h"

static char *dump(const struct shuffled_config *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_int_eq(config_dump(c, f), 0);
    fclose(f);
    return text;
}

static void parse(const char *text, struct shuffled_config *c)
{
    char err[512];
    ck_assert_msg(config_parse(text, "test.json", c, err, sizeof(err)) == 0, "%s", err);
}

START_TEST(dump_round_trips)
{
    struct shuffled_config c;
    parse("{\"listen\": [\"127.0.0.1\", \"::1\"], \"port\": 0, \"max_chunks_in_flight\": 5000,"
          " \"allowed_local_dir_roots\": [\"/data/a\", \"/data/b\"], \"fetch_rdd_enabled\": true,"
          " \"log_level\": \"debug\", \"state_dir\": \"/tmp/st\", \"idle_timeout_ms\": 0,"
          " \"admin_listen\": \"::1\", \"admin_port\": 9000}",
          &c);
    char *a = dump(&c);
    ck_assert_ptr_nonnull(strstr(a, "\"max_chunks_in_flight\": 5000"));
    ck_assert_ptr_nonnull(strstr(a, "\"fetch_rdd_enabled\": true"));
    ck_assert_ptr_nonnull(strstr(a, "\"/data/b\""));
    ck_assert_ptr_nonnull(strstr(a, "\"admin_port\": 9000"));
    struct shuffled_config back;
    parse(a, &back);
    char *b = dump(&back);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    config_free(&c);
    config_free(&back);
}
END_TEST

START_TEST(system_config_is_the_defaults)
{
    const char *build = getenv("SHUFFLE_BUILDDIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/conf/shuffled.system.json", build && *build ? build : ".");
    struct shuffled_config sys, def;
    char err[512];
    ck_assert_msg(config_load(path, &sys, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(sys.listen_count, 1);
    ck_assert_str_eq(sys.listen[0], "0.0.0.0");
    ck_assert_int_eq(config_defaults(&def), 0);
    free(def.listen[0]); /* the daemon's own default stays loopback */
    def.listen[0] = strdup("0.0.0.0");
    char *a = dump(&sys), *b = dump(&def);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    config_free(&sys);
    config_free(&def);
}
END_TEST

START_TEST(reload_keeps_restart_only_keys)
{
    struct shuffled_config live, next;
    ck_assert_int_eq(config_defaults(&live), 0);
    parse("{\"log_level\": \"debug\"}", &next);
    char applied[256], restart[256];
    ck_assert_int_eq(
        config_reload_prepare(&live, &next, applied, sizeof(applied), restart, sizeof(restart)), 0);
    ck_assert_str_eq(restart, "");
    ck_assert_str_eq(applied, "log_level");
    ck_assert_str_eq(next.log_level, "debug");
    config_free(&next);

    parse("{\"log_level\": \"warn\", \"port\": 7447, \"listen\": [\"::1\"],"
          " \"allowed_local_dir_roots\": [\"/x\"], \"idle_timeout_ms\": 5,"
          " \"state_dir\": \"/elsewhere\", \"admin_port\": 9, \"max_connections\": 3,"
          " \"listen_backlog\": 10}",
          &next);
    ck_assert_int_eq(
        config_reload_prepare(&live, &next, applied, sizeof(applied), restart, sizeof(restart)), 5);
    ck_assert_str_eq(restart, "listen, port, listen_backlog, state_dir, admin_port");
    ck_assert_str_eq(applied,
                     "log_level, max_connections, idle_timeout_ms, allowed_local_dir_roots");
    /* restart-only keys keep the running values; live keys take the new ones */
    ck_assert_uint_eq(next.listen_count, 1);
    ck_assert_str_eq(next.listen[0], "127.0.0.1");
    ck_assert_int_eq(next.port, 7337);
    ck_assert_int_eq(next.listen_backlog, 4096);
    ck_assert_str_eq(next.state_dir, SHUFFLED_STATE_DIR);
    ck_assert_int_eq(next.admin_port, 7338);
    ck_assert_str_eq(next.log_level, "warn");
    ck_assert_uint_eq(next.idle_timeout_ms, 5);
    ck_assert_uint_eq(next.max_connections, 3);
    ck_assert_str_eq(next.allowed_local_dir_roots[0], "/x");
    ck_assert_str_eq(live.log_level, "info"); /* the running config is never written */
    config_free(&next);
    config_free(&live);
}
END_TEST

CHECK_MAIN((.suite = "config_ops", .name = "core"), dump_round_trips, system_config_is_the_defaults,
           reload_keeps_restart_only_keys)

/* SPDX-License-Identifier: Apache-2.0 */
/* Config parsing: defaults, every key, and errors that name file:line:column and the key. */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/ops/config.h"
#include "../check_main.h"

static struct shuffled_config cfg;
static char err[512];

static int parse(const char *text)
{
    return config_parse(text, "t.json", &cfg, err, sizeof err);
}

START_TEST(defaults)
{
    ck_assert_int_eq(parse("{}"), 0);
    ck_assert_uint_eq(cfg.listen_count, 1);
    ck_assert_str_eq(cfg.listen[0], "127.0.0.1");
    ck_assert_int_eq(cfg.port, 7337);
    ck_assert_uint_eq(cfg.idle_timeout_ms, 120000);
    ck_assert_uint_eq(cfg.index_cache_bytes, 104857600);
    ck_assert(!cfg.fetch_rdd_enabled);
    ck_assert_uint_eq(cfg.allowed_local_dir_roots_count, 0);
    ck_assert_str_eq(cfg.state_dir, SHUFFLED_STATE_DIR);
    ck_assert_int_eq(cfg.listen_backlog, 4096);
    ck_assert_int_eq(cfg.blocking_threads, 8);
    ck_assert_uint_eq(cfg.max_chunks_in_flight, 0);
    ck_assert_int_eq(cfg.io_threads, 0);
    config_free(&cfg);
}
END_TEST

START_TEST(every_key)
{
    ck_assert_msg(parse("{\"listen\": [\"127.0.0.1\", \"::1\"], \"port\": 0, \"io_threads\": 3,"
                        " \"max_connections\": 10, \"max_frame_bytes\": 4096,"
                        " \"max_chunks_in_flight\": 5, \"max_chunks_per_connection\": 7,"
                        " \"write_high_water_bytes\": 100, \"write_low_water_bytes\": 50,"
                        " \"idle_timeout_ms\": 0, \"shutdown_grace_ms\": 1,"
                        " \"log_level\": \"debug\", \"index_cache_bytes\": 1,"
                        " \"fetch_rdd_enabled\": true, \"allowed_local_dir_roots\": [\"/a\"],"
                        " \"state_dir\": \"build/state\", \"blocking_threads\": 2,"
                        " \"state_sync\": true, \"listen_backlog\": 77}") == 0,
                  "%s", err);
    ck_assert_uint_eq(cfg.listen_count, 2);
    ck_assert_str_eq(cfg.listen[1], "::1");
    ck_assert_int_eq(cfg.port, 0);
    ck_assert_int_eq(cfg.io_threads, 3);
    ck_assert_uint_eq(cfg.max_connections, 10);
    ck_assert_uint_eq(cfg.max_frame_bytes, 4096);
    ck_assert_uint_eq(cfg.max_chunks_in_flight, 5);
    ck_assert_uint_eq(cfg.max_chunks_per_connection, 7);
    ck_assert_uint_eq(cfg.write_high_water, 100);
    ck_assert_uint_eq(cfg.write_low_water, 50);
    ck_assert_uint_eq(cfg.idle_timeout_ms, 0);
    ck_assert_uint_eq(cfg.shutdown_grace_ms, 1);
    ck_assert_str_eq(cfg.log_level, "debug");
    ck_assert_uint_eq(cfg.index_cache_bytes, 1);
    ck_assert(cfg.fetch_rdd_enabled);
    ck_assert_str_eq(cfg.allowed_local_dir_roots[0], "/a");
    ck_assert_str_eq(cfg.state_dir, "build/state");
    ck_assert_int_eq(cfg.blocking_threads, 2);
    ck_assert(cfg.state_sync);
    ck_assert_int_eq(cfg.listen_backlog, 77);
    config_free(&cfg);
}
END_TEST

START_TEST(unknown_key_names_key_and_position)
{
    ck_assert_int_eq(parse("{\n  \"port\": 1,\n  \"prot\": 2\n}"), -1);
    ck_assert_str_eq(err, "t.json:3:3: key 'prot': unknown key");
}
END_TEST

/* json is refused with an error that mentions needle. */
static void expect_refused(const char *json, const char *needle)
{
    ck_assert_int_eq(parse(json), -1);
    ck_assert_msg(strstr(err, needle) != NULL, "%s", err);
}

START_TEST(bad_values)
{
    ck_assert_int_eq(parse("{\"port\": \"7337\"}"), -1);
    ck_assert_str_eq(err, "t.json:1:2: key 'port': expected an integer");
    ck_assert_int_eq(parse("{\n\"port\": 70000}"), -1);
    ck_assert_msg(strstr(err, "t.json:2:1: key 'port': 70000 is out of range") == err, "%s", err);
    expect_refused("{\"fetch_rdd_enabled\": 1}", "key 'fetch_rdd_enabled': expected true or false");
    expect_refused("{\"listen\": \"127.0.0.1\"}", "key 'listen': expected an array");
    expect_refused("{\"listen\": []}", "key 'listen': needs at least one address");
    expect_refused("{\"allowed_local_dir_roots\": [\"rel\"]}", "is not an absolute path");
    expect_refused("{\"write_high_water_bytes\": 10, \"write_low_water_bytes\": 20}",
                   "key 'write_low_water_bytes'");
    expect_refused("{\"log_level\": \"loud\"}", "key 'log_level': 'loud' is not one of");
    expect_refused("{\"max_frame_bytes\": -1}", "key 'max_frame_bytes'");
    expect_refused("{\"listen_backlog\": 0}", "key 'listen_backlog': 0 is out of range");
}
END_TEST

START_TEST(syntax_errors)
{
    ck_assert_int_eq(parse("{\n  \"port\": 1,,\n}"), -1);
    ck_assert_msg(strncmp(err, "t.json:2:", 9) == 0, "%s", err);
    expect_refused("[1]", "must be a JSON object");
    expect_refused("{\"port\": 1, \"port\": 2}", "duplicate");
}
END_TEST

/* Creates a file from the mkstemp template path (rewritten in place) holding text. */
static void write_temp(char *path, const char *text)
{
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
}

START_TEST(load_file)
{
    char path[] = "/tmp/test_config_XXXXXX";
    write_temp(path, "{\"port\": 9}\n");
    ck_assert_msg(config_load(path, &cfg, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(cfg.port, 9);
    config_free(&cfg);
    unlink(path);
    ck_assert_int_eq(config_load(path, &cfg, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "cannot open") != NULL, "%s", err);
}
END_TEST

START_TEST(every_error_is_reported)
{
    char path[] = "/tmp/test_config_XXXXXX";
    write_temp(path, "{\n  \"port\": \"x\",\n  \"nope\": 1,\n  \"io_threads\": 2,\n"
                     "  \"log_level\": \"loud\"\n}\n");
    ck_assert_int_eq(config_load(path, &cfg, err, sizeof err), -1);
    char want[1024];
    snprintf(want, sizeof want,
             "%s:2:3: key 'port': expected an integer\n"
             "%s:3:3: key 'nope': unknown key\n"
             "%s:5:3: key 'log_level': 'loud' is not one of error, warn, info, debug",
             path, path, path);
    ck_assert_str_eq(err, want);
    unlink(path);
}
END_TEST

/* sasl_encryption and crypto_cipher: their values, errors, and the deprecated boolean
 * auth_sasl_encryption, which applies only where sasl_encryption is not set. */
START_TEST(encryption_choices)
{
    static const struct {
        const char *json;
        int sasl, cipher;
    } cases[] = {
        {"{}", SASL_ENCRYPTION_ALLOWED, CRYPTO_CIPHER_AUTO},
        {"{\"sasl_encryption\": \"off\", \"crypto_cipher\": \"ctr\"}", SASL_ENCRYPTION_OFF,
         CRYPTO_CIPHER_CTR},
        {"{\"sasl_encryption\": \"required\", \"crypto_cipher\": \"gcm\"}",
         SASL_ENCRYPTION_REQUIRED, CRYPTO_CIPHER_GCM},
        {"{\"auth_sasl_encryption\": false}", SASL_ENCRYPTION_OFF, CRYPTO_CIPHER_AUTO},
        {"{\"auth_sasl_encryption\": true}", SASL_ENCRYPTION_ALLOWED, CRYPTO_CIPHER_AUTO},
        {"{\"auth_sasl_encryption\": false, \"sasl_encryption\": \"required\"}",
         SASL_ENCRYPTION_REQUIRED, CRYPTO_CIPHER_AUTO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ck_assert_msg(parse(cases[i].json) == 0, "%s: %s", cases[i].json, err);
        ck_assert_int_eq(cfg.sasl_encryption, cases[i].sasl);
        ck_assert_int_eq(cfg.crypto_cipher, cases[i].cipher);
        config_free(&cfg);
    }
    expect_refused("{\"sasl_encryption\": true}",
                   "key 'sasl_encryption': expected one of off, allowed, required");
    expect_refused("{\"crypto_cipher\": \"AES/GCM/NoPadding\"}",
                   "key 'crypto_cipher': expected one of auto, ctr, gcm");
}
END_TEST

/* The TLS keys (docs/tls.md): parsed, defaulted, and checked against each other. */
START_TEST(tls_keys)
{
    ck_assert_int_eq(parse("{}"), 0);
    ck_assert(!cfg.tls_enabled);
    ck_assert_int_eq(cfg.tls_port, 0);
    ck_assert_str_eq(cfg.tls_protocols, "TLSv1.2,TLSv1.3");
    ck_assert_str_eq(cfg.tls_cert_file, "");
    config_free(&cfg);
    ck_assert_msg(
        parse("{\"tls_port\": 7443, \"tls_cert_file\": \"/c.pem\","
              " \"tls_key_file\": \"/k.pem\", \"tls_key_password_file\": \"/p\","
              " \"tls_ca_file\": \"/ca.pem\", \"tls_require_client_cert\": true,"
              " \"tls_protocols\": \"TLSv1.3\", \"tls_ciphers\": \"TLS_AES_128_GCM_SHA256\"}") == 0,
        "%s", err);
    ck_assert_int_eq(cfg.tls_port, 7443);
    ck_assert_str_eq(cfg.tls_key_password_file, "/p");
    ck_assert(cfg.tls_require_client_cert);
    ck_assert_str_eq(cfg.tls_protocols, "TLSv1.3");
    ck_assert_str_eq(cfg.tls_ciphers, "TLS_AES_128_GCM_SHA256");
    config_free(&cfg);
    expect_refused("{\"tls_enabled\": true}",
                   "key 'tls_enabled': needs tls_cert_file and tls_key_file");
    expect_refused("{\"tls_port\": 7443, \"tls_cert_file\": \"/c.pem\"}", "key 'tls_port': needs");
    expect_refused("{\"tls_require_client_cert\": true}", "needs tls_ca_file");
    expect_refused("{\"tls_enabled\": true, \"tls_port\": 7443, \"tls_cert_file\": \"/c\","
                   " \"tls_key_file\": \"/k\"}",
                   "key 'tls_port': cannot be combined with tls_enabled");
    expect_refused("{\"tls_protocols\": \"TLSv1.1\"}", "'TLSv1.1' is not one of TLSv1.2, TLSv1.3");
    expect_refused("{\"tls_protocols\": \"\"}", "names no protocol");
}
END_TEST

CHECK_MAIN((.suite = "config", .name = "parse"), defaults, every_key,
           unknown_key_names_key_and_position, bad_values, syntax_errors, load_file,
           every_error_is_reported, encryption_choices, tls_keys)

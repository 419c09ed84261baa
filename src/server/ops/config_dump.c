/* SPDX-License-Identifier: Apache-2.0 */
/* shuffled -T; see config_dump.h. */
#include <config.h>

#include "server/ops/config_dump.h"

#include <jansson.h>

static json_t *strings(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_string(v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static int set(json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new(o, key, v) == 0 ? 0 : -1;
}

int config_dump(const struct shuffled_config *c, FILE *out)
{
    json_t *o = json_object();
    if (!o)
        return -1;
    int bad = 0;
    bad |= set(o, "listen", strings(c->listen, c->listen_count));
    bad |= set(o, "port", json_integer(c->port));
    bad |= set(o, "listen_backlog", json_integer(c->listen_backlog));
    bad |= set(o, "io_threads", json_integer(c->io_threads));
    bad |= set(o, "blocking_threads", json_integer(c->blocking_threads));
    bad |= set(o, "max_connections", json_integer(c->max_connections));
    bad |= set(o, "max_frame_bytes", json_integer((json_int_t)c->max_frame_bytes));
    bad |= set(o, "max_chunks_in_flight", json_integer((json_int_t)c->max_chunks_in_flight));
    bad |= set(o, "max_chunks_per_connection", json_integer(c->max_chunks_per_connection));
    bad |= set(o, "write_high_water_bytes", json_integer((json_int_t)c->write_high_water));
    bad |= set(o, "write_low_water_bytes", json_integer((json_int_t)c->write_low_water));
    bad |= set(o, "idle_timeout_ms", json_integer((json_int_t)c->idle_timeout_ms));
    bad |= set(o, "frame_timeout_ms", json_integer((json_int_t)c->frame_timeout_ms));
    bad |= set(o, "handshake_timeout_ms", json_integer((json_int_t)c->handshake_timeout_ms));
    bad |= set(o, "max_stream_bytes_per_connection",
               json_integer((json_int_t)c->max_stream_bytes_per_connection));
    bad |= set(o, "max_stream_bytes", json_integer((json_int_t)c->max_stream_bytes));
    bad |= set(o, "max_input_bytes", json_integer((json_int_t)c->max_input_bytes));
    bad |= set(o, "max_output_bytes", json_integer((json_int_t)c->max_output_bytes));
    bad |= set(o, "shutdown_grace_ms", json_integer((json_int_t)c->shutdown_grace_ms));
    bad |= set(o, "index_cache_bytes", json_integer((json_int_t)c->index_cache_bytes));
    bad |= set(o, "fetch_rdd_enabled", json_boolean(c->fetch_rdd_enabled));
    bad |= set(o, "allowed_local_dir_roots",
               strings(c->allowed_local_dir_roots, c->allowed_local_dir_roots_count));
    bad |= set(o, "state_dir", json_string(c->state_dir));
    bad |= set(o, "state_sync", json_boolean(c->state_sync));
    bad |= set(o, "max_executors_per_app", json_integer((json_int_t)c->max_executors_per_app));
    bad |= set(o, "max_executors", json_integer((json_int_t)c->max_executors));
    bad |= set(o, "log_level", json_string(c->log_level));
    bad |= set(o, "admin_listen", json_string(c->admin_listen));
    bad |= set(o, "admin_port", json_integer(c->admin_port));
    bad |= set(o, "admin_token_file", json_string(c->admin_token_file));
    bad |= set(o, "auth_enabled", json_boolean(c->auth_enabled));
    bad |= set(o, "crypto_enabled", json_boolean(c->crypto_enabled));
    bad |= set(o, "crypto_sasl_fallback", json_boolean(c->crypto_sasl_fallback));
    bad |= set(o, "auth_secret_file", json_string(c->auth_secret_file));
    bad |= set(o, "auth_app_secrets_dir", json_string(c->auth_app_secrets_dir));
    bad |= set(o, "app_ttl_ms", json_integer((json_int_t)c->app_ttl_ms));
    bad |= set(o, "app_ttl_cleanup_local_dirs", json_boolean(c->app_ttl_cleanup_local_dirs));
    static const char *const sasl_enc[] = {"off", "allowed", "required"};
    static const char *const cipher[] = {"auto", "ctr", "gcm"};
    bad |= set(o, "sasl_encryption", json_string(sasl_enc[c->sasl_encryption]));
    bad |= set(o, "crypto_cipher", json_string(cipher[c->crypto_cipher]));
    bad |= set(o, "push_enabled", json_boolean(c->push_enabled));
    bad |= set(o, "push_min_chunk_bytes", json_integer((json_int_t)c->push_min_chunk_bytes));
    bad |= set(o, "push_max_deferred_bytes", json_integer((json_int_t)c->push_max_deferred_bytes));
    bad |= set(o, "push_max_open_files", json_integer((json_int_t)c->push_max_open_files));
    bad |= set(o, "push_max_partitions", json_integer((json_int_t)c->push_max_partitions));
    bad |=
        set(o, "push_max_app_merge_bytes", json_integer((json_int_t)c->push_max_app_merge_bytes));
    bad |= set(o, "tls_enabled", json_boolean(c->tls_enabled));
    bad |= set(o, "tls_port", json_integer(c->tls_port));
    bad |= set(o, "tls_cert_file", json_string(c->tls_cert_file));
    bad |= set(o, "tls_key_file", json_string(c->tls_key_file));
    bad |= set(o, "tls_key_password_file", json_string(c->tls_key_password_file));
    bad |= set(o, "tls_ca_file", json_string(c->tls_ca_file));
    bad |= set(o, "tls_require_client_cert", json_boolean(c->tls_require_client_cert));
    bad |= set(o, "tls_protocols", json_string(c->tls_protocols));
    bad |= set(o, "tls_ciphers", json_string(c->tls_ciphers));
    bad |= set(o, "tls_max_handshakes_in_progress",
               json_integer((json_int_t)c->tls_max_handshakes_in_progress));
    bad |= set(o, "tls_max_handshakes_per_second",
               json_integer((json_int_t)c->tls_max_handshakes_per_second));
    if (bad || json_dumpf(o, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
        json_decref(o);
        return -1;
    }
    json_decref(o);
    fputc('\n', out);
    fflush(out);
    return ferror(out) ? -1 : 0;
}

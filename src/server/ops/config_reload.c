/* SPDX-License-Identifier: Apache-2.0 */
/* SIGHUP reload; see config_reload.h. */
#include <config.h>

#include "server/ops/config_reload.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool strings_differ(char *const *a, size_t na, char *const *b, size_t nb)
{
    if (na != nb)
        return true;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return true;
    return false;
}

static void note(char *out, size_t len, int *n, const char *key)
{
    size_t used = strlen(out);
    snprintf(out + used, len - used, "%s%s", *n ? ", " : "", key);
    (*n)++;
}

/* *dst (n_dst strings) becomes a copy of src; 0, or -1 out of memory (dst unchanged). */
static int copy_strings(char ***dst, size_t *n_dst, char *const *src, size_t n_src)
{
    char **v = calloc(n_src ? n_src : 1, sizeof(char *));
    for (size_t i = 0; v && i < n_src; i++) {
        v[i] = strdup(src[i]);
        if (!v[i]) {
            for (size_t k = 0; k < i; k++)
                free(v[k]);
            free(v);
            v = NULL;
        }
    }
    if (!v)
        return -1;
    for (size_t i = 0; i < *n_dst; i++)
        free((*dst)[i]);
    free(*dst);
    *dst = v;
    *n_dst = n_src;
    return 0;
}

static int copy_string(char **dst, const char *src)
{
    char *s = strdup(src);
    if (!s)
        return -1;
    free(*dst);
    *dst = s;
    return 0;
}

int config_reload_prepare(const struct shuffled_config *live, struct shuffled_config *next,
                          char *applied, size_t appliedlen, char *restart, size_t restartlen)
{
    applied[0] = '\0';
    restart[0] = '\0';
    int n = 0, n_live = 0, rc = 0;
#define KEEP(field, key)                                                                           \
    if (live->field != next->field) {                                                              \
        next->field = live->field;                                                                 \
        note(restart, restartlen, &n, key);                                                        \
    }
#define LIVE(field, key)                                                                           \
    if (live->field != next->field)                                                                \
    note(applied, appliedlen, &n_live, key)
    if (strings_differ(live->listen, live->listen_count, next->listen, next->listen_count)) {
        rc |= copy_strings(&next->listen, &next->listen_count, live->listen, live->listen_count);
        note(restart, restartlen, &n, "listen");
    }
    KEEP(port, "port");
    KEEP(listen_backlog, "listen_backlog");
    KEEP(io_threads, "io_threads");
    KEEP(blocking_threads, "blocking_threads");
    KEEP(index_cache_bytes, "index_cache_bytes");
    KEEP(fetch_rdd_enabled, "fetch_rdd_enabled");
    KEEP(state_sync, "state_sync");
    if (strcmp(live->state_dir, next->state_dir) != 0) {
        rc |= copy_string(&next->state_dir, live->state_dir);
        note(restart, restartlen, &n, "state_dir");
    }
    if (strcmp(live->admin_listen, next->admin_listen) != 0) {
        rc |= copy_string(&next->admin_listen, live->admin_listen);
        note(restart, restartlen, &n, "admin_listen");
    }
    KEEP(admin_port, "admin_port");
    if (strcmp(live->admin_token_file, next->admin_token_file) != 0) {
        rc |= copy_string(&next->admin_token_file, live->admin_token_file);
        note(restart, restartlen, &n, "admin_token_file");
    }
    KEEP(auth_enabled, "auth_enabled");
    if (strcmp(live->auth_secret_file, next->auth_secret_file) != 0) {
        rc |= copy_string(&next->auth_secret_file, live->auth_secret_file);
        note(restart, restartlen, &n, "auth_secret_file");
    }
    if (strcmp(live->auth_app_secrets_dir, next->auth_app_secrets_dir) != 0) {
        rc |= copy_string(&next->auth_app_secrets_dir, live->auth_app_secrets_dir);
        note(restart, restartlen, &n, "auth_app_secrets_dir");
    }
    KEEP(tls_enabled, "tls_enabled");
    KEEP(tls_port, "tls_port");

    if (strcmp(live->log_level, next->log_level) != 0)
        note(applied, appliedlen, &n_live, "log_level");
    LIVE(max_connections, "max_connections");
    LIVE(max_frame_bytes, "max_frame_bytes");
    LIVE(max_chunks_in_flight, "max_chunks_in_flight");
    LIVE(max_chunks_per_connection, "max_chunks_per_connection");
    LIVE(write_high_water, "write_high_water_bytes");
    LIVE(write_low_water, "write_low_water_bytes");
    LIVE(idle_timeout_ms, "idle_timeout_ms");
    LIVE(sasl_encryption, "sasl_encryption");
    LIVE(crypto_cipher, "crypto_cipher");
    LIVE(crypto_enabled, "crypto_enabled");
    LIVE(crypto_sasl_fallback, "crypto_sasl_fallback");
    LIVE(frame_timeout_ms, "frame_timeout_ms");
    LIVE(handshake_timeout_ms, "handshake_timeout_ms");
    LIVE(max_stream_bytes_per_connection, "max_stream_bytes_per_connection");
    LIVE(max_stream_bytes, "max_stream_bytes");
    LIVE(max_input_bytes, "max_input_bytes");
    LIVE(max_output_bytes, "max_output_bytes");
    LIVE(shutdown_grace_ms, "shutdown_grace_ms");
    LIVE(max_executors_per_app, "max_executors_per_app");
    LIVE(max_executors, "max_executors");
    if (strings_differ(live->allowed_local_dir_roots, live->allowed_local_dir_roots_count,
                       next->allowed_local_dir_roots, next->allowed_local_dir_roots_count))
        note(applied, appliedlen, &n_live, "allowed_local_dir_roots");
    LIVE(app_ttl_ms, "app_ttl_ms");
    LIVE(app_ttl_cleanup_local_dirs, "app_ttl_cleanup_local_dirs");
    KEEP(push_enabled, "push_enabled");
    KEEP(push_min_chunk_bytes, "push_min_chunk_bytes");
    KEEP(push_max_deferred_bytes, "push_max_deferred_bytes");
    KEEP(push_max_open_files, "push_max_open_files");
    KEEP(push_max_partitions, "push_max_partitions");
    KEEP(push_max_app_merge_bytes, "push_max_app_merge_bytes");
    LIVE(tls_require_client_cert, "tls_require_client_cert");
    LIVE(tls_max_handshakes_in_progress, "tls_max_handshakes_in_progress");
    LIVE(tls_max_handshakes_per_second, "tls_max_handshakes_per_second");
    const char *tls_live[][3] = {
        {"tls_cert_file", live->tls_cert_file, next->tls_cert_file},
        {"tls_key_file", live->tls_key_file, next->tls_key_file},
        {"tls_key_password_file", live->tls_key_password_file, next->tls_key_password_file},
        {"tls_ca_file", live->tls_ca_file, next->tls_ca_file},
        {"tls_protocols", live->tls_protocols, next->tls_protocols},
        {"tls_ciphers", live->tls_ciphers, next->tls_ciphers}};
    for (size_t i = 0; i < sizeof tls_live / sizeof *tls_live; i++)
        if (strcmp(tls_live[i][1], tls_live[i][2]) != 0)
            note(applied, appliedlen, &n_live, tls_live[i][0]);
#undef KEEP
#undef LIVE
    return rc ? -1 : n;
}

/* SIGHUP reload; see config_reload.h. */
#include "server/config_reload.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/log.h"

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

int config_reload_apply(struct shuffled_config *live, const struct shuffled_config *next,
                        char *restart, size_t restartlen)
{
    restart[0] = '\0';
    int n = 0;
#define SCALAR(field, key)                                                                         \
    if (live->field != next->field)                                                                \
    note(restart, restartlen, &n, key)
    if (strings_differ(live->listen, live->listen_count, next->listen, next->listen_count))
        note(restart, restartlen, &n, "listen");
    SCALAR(port, "port");
    SCALAR(io_threads, "io_threads");
    SCALAR(blocking_threads, "blocking_threads");
    SCALAR(max_connections, "max_connections");
    SCALAR(max_frame_bytes, "max_frame_bytes");
    SCALAR(max_chunks_in_flight, "max_chunks_in_flight");
    SCALAR(max_chunks_per_connection, "max_chunks_per_connection");
    SCALAR(write_high_water, "write_high_water_bytes");
    SCALAR(write_low_water, "write_low_water_bytes");
    SCALAR(idle_timeout_ms, "idle_timeout_ms");
    SCALAR(shutdown_grace_ms, "shutdown_grace_ms");
    SCALAR(index_cache_bytes, "index_cache_bytes");
    SCALAR(fetch_rdd_enabled, "fetch_rdd_enabled");
#undef SCALAR
    if (strings_differ(live->allowed_local_dir_roots, live->allowed_local_dir_roots_count,
                       next->allowed_local_dir_roots, next->allowed_local_dir_roots_count))
        note(restart, restartlen, &n, "allowed_local_dir_roots");
    if (strcmp(live->state_dir, next->state_dir) != 0)
        note(restart, restartlen, &n, "state_dir");
    if (strcmp(live->admin_listen, next->admin_listen) != 0)
        note(restart, restartlen, &n, "admin_listen");
    if (live->admin_port != next->admin_port)
        note(restart, restartlen, &n, "admin_port");

    if (strcmp(live->log_level, next->log_level) != 0) {
        char *level = strdup(next->log_level);
        if (!level)
            return -1;
        free(live->log_level);
        live->log_level = level;
        log_set_level_name(level);
    }
    return n;
}

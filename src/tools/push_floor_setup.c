/* SPDX-License-Identifier: Apache-2.0 */
/* push-floor's set-up: options, the workload from a gen-shuffle-data manifest (every
 * non-empty shuffle block, its file kept open and its pages read once so the client's preads
 * hit the page cache), the check of the server's files, and their removal. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/push_floor_setup.h"

static void usage(void)
{
    fprintf(
        stderr,
        "usage: push-floor -m MANIFEST [-d DIR=/tmp] [-c CONNS=4] [-i IN_FLIGHT=32]\n"
        "                  [-r REPEAT=5] [-n BLOCKS=all] [-M MODE,...] [--verify]\n"
        "                  [--from-memory] [--coalesce-acks] [--daemon-run US --client-run US]\n"
        "modes: recv+pwrite, splice, recv-only, overwrite (default: all)\n");
}

static int parse_modes(struct floor_opts *o, const char *list)
{
    char *copy = strdup(list), *save = NULL;
    memset(o->modes, 0, sizeof(o->modes));
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int m = 0;
        while (m < FLOOR_MODES && strcmp(t, floor_mode_name((enum floor_mode)m)) != 0)
            m++;
        if (m == FLOOR_MODES) {
            fprintf(stderr, "push-floor: unknown mode '%s'\n", t);
            free(copy);
            return -1;
        }
        o->modes[m] = 1;
    }
    free(copy);
    return 0;
}

int floor_parse_opts(struct floor_opts *o, int argc, char **argv)
{
    *o = (struct floor_opts){.dir = "/tmp", .conns = 4, .in_flight = 32, .repeat = 5};
    for (int m = 0; m < FLOOR_MODES; m++)
        o->modes[m] = 1;
    enum { OPT_VERIFY = 256, OPT_DAEMON, OPT_CLIENT, OPT_MEMORY, OPT_COALESCE };
    static const struct option longs[] = {{"verify", 0, 0, OPT_VERIFY},
                                          {"daemon-run", 1, 0, OPT_DAEMON},
                                          {"client-run", 1, 0, OPT_CLIENT},
                                          {"from-memory", 0, 0, OPT_MEMORY},
                                          {"coalesce-acks", 0, 0, OPT_COALESCE},
                                          {"help", 0, 0, 'h'},
                                          {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "m:d:c:i:r:n:M:h", longs, NULL)) != -1) {
        switch (c) {
        case 'm':
            o->manifest = optarg;
            break;
        case 'd':
            o->dir = optarg;
            break;
        case 'c':
            o->conns = atoi(optarg);
            break;
        case 'i':
            o->in_flight = atoi(optarg);
            break;
        case 'r':
            o->repeat = atoi(optarg);
            break;
        case 'n':
            o->max_blocks = strtoull(optarg, NULL, 10);
            break;
        case 'M':
            if (parse_modes(o, optarg) != 0)
                return -1;
            break;
        case OPT_VERIFY:
            o->verify = 1;
            break;
        case OPT_DAEMON:
            o->daemon_run = atof(optarg);
            break;
        case OPT_CLIENT:
            o->client_run = atof(optarg);
            break;
        case OPT_MEMORY:
            o->from_memory = 1;
            break;
        case OPT_COALESCE:
            o->coalesce_acks = 1;
            break;
        default:
            usage();
            return -1;
        }
    }
    if (!o->manifest || o->conns < 1 || o->in_flight < 1 || o->repeat < 1) {
        usage();
        return -1;
    }
    return 0;
}

static int file_index(struct floor_workload *w, const char *path)
{
    for (uint32_t i = 0; i < w->nfiles; i++)
        if (strcmp(w->paths[i], path) == 0)
            return (int)i;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "push-floor: %s: %s\n", path, strerror(errno));
        return -1;
    }
    w->files = realloc(w->files, (w->nfiles + 1) * sizeof(*w->files));
    w->paths = realloc(w->paths, (w->nfiles + 1) * sizeof(*w->paths));
    w->files[w->nfiles] = fd;
    w->paths[w->nfiles] = strdup(path);
    /* read once: the client's preads then find the pages cached, as the bench's do */
    char buf[65536];
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
    return (int)w->nfiles++;
}

static int add_block(struct floor_workload *w, const char *line, uint64_t *cap)
{
    char id[256], path[4096];
    unsigned long long size, off;
    unsigned shuffle, map, reduce;
    if (sscanf(line, "%255s %llu %*s %*s %4095s %llu", id, &size, path, &off) != 4 ||
        sscanf(id, "shuffle_%u_%u_%u", &shuffle, &map, &reduce) != 3 || size == 0)
        return 0; /* comments, other block kinds, empty blocks */
    if (size > FLOOR_MAX_BODY) {
        fprintf(stderr, "push-floor: %s is larger than %u bytes\n", id, FLOOR_MAX_BODY);
        return -1;
    }
    int f = file_index(w, path);
    if (f < 0)
        return -1;
    if (w->count == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        w->blocks = realloc(w->blocks, *cap * sizeof(*w->blocks));
    }
    w->blocks[w->count++] = (struct floor_block){
        .file = (uint32_t)f, .partition = reduce, .len = (uint32_t)size, .src_off = off};
    w->bytes += size;
    if (reduce + 1 > w->partitions)
        w->partitions = reduce + 1;
    return 0;
}

/* --from-memory: every block read once into its own buffer, as the bench's client holds them */
static int load_bodies(struct floor_workload *w)
{
    w->bodies = calloc(w->count, sizeof(*w->bodies));
    for (uint64_t i = 0; w->bodies && i < w->count; i++) {
        const struct floor_block *b = &w->blocks[i];
        w->bodies[i] = malloc(b->len);
        if (!w->bodies[i] ||
            pread(w->files[b->file], w->bodies[i], b->len, (off_t)b->src_off) != (ssize_t)b->len) {
            fprintf(stderr, "push-floor: reading block %" PRIu64 " into memory failed\n", i);
            return -1;
        }
    }
    return w->bodies ? 0 : -1;
}

int floor_load_workload(struct floor_workload *w, const struct floor_opts *o)
{
    *w = (struct floor_workload){0};
    FILE *f = fopen(o->manifest, "r");
    if (!f) {
        fprintf(stderr, "push-floor: %s: %s\n", o->manifest, strerror(errno));
        return -1;
    }
    char line[8192];
    uint64_t cap = 0;
    int rc = 0;
    while (rc == 0 && (!o->max_blocks || w->count < o->max_blocks) && fgets(line, sizeof(line), f))
        rc = add_block(w, line, &cap);
    fclose(f);
    if (rc == 0 && w->count == 0) {
        fprintf(stderr, "push-floor: no non-empty shuffle blocks in %s\n", o->manifest);
        rc = -1;
    }
    return rc == 0 && o->from_memory ? load_bodies(w) : rc;
}

void floor_free_workload(struct floor_workload *w)
{
    for (uint32_t i = 0; i < w->nfiles; i++) {
        close(w->files[i]);
        free(w->paths[i]);
    }
    for (uint64_t i = 0; w->bodies && i < w->count; i++)
        free(w->bodies[i]);
    free(w->bodies);
    free(w->files);
    free(w->paths);
    free(w->blocks);
}

static int verify_block(const struct floor_workload *w, uint64_t i, int dest_fd, uint8_t *want,
                        uint8_t *got)
{
    const struct floor_block *b = &w->blocks[i];
    if (pread(w->files[b->file], want, b->len, (off_t)b->src_off) != (ssize_t)b->len ||
        pread(dest_fd, got, b->len, (off_t)b->dest_off) != (ssize_t)b->len ||
        memcmp(want, got, b->len) != 0) {
        fprintf(stderr,
                "push-floor: block %" PRIu64 " (partition %u, %u bytes) differs at "
                "offset %" PRIu64 " of its partition file\n",
                i, b->partition, b->len, b->dest_off);
        return -1;
    }
    return 0;
}

int floor_verify(const struct floor_workload *w, const struct floor_opts *o, enum floor_mode m)
{
    if (m == FLOOR_RECV_ONLY)
        return 0; /* nothing kept; run_once already matched the block and byte counts */
    uint8_t *want = malloc(FLOOR_MAX_BODY), *got = malloc(FLOOR_MAX_BODY);
    uint64_t *sizes = calloc(w->partitions, sizeof(*sizes));
    int *fds = malloc(w->partitions * sizeof(*fds));
    int rc = want && got && sizes && fds ? 0 : -1;
    for (uint32_t p = 0; fds && p < w->partitions; p++) {
        char path[4096];
        floor_partition_path(path, sizeof(path), o->dir, p);
        fds[p] = open(path, O_RDONLY | O_CLOEXEC); /* absent: a partition without blocks */
    }
    for (uint64_t i = 0; rc == 0 && i < w->count; i++) {
        sizes[w->blocks[i].partition] += w->blocks[i].len;
        rc = verify_block(w, i, fds[w->blocks[i].partition], want, got);
    }
    for (uint32_t p = 0; rc == 0 && p < w->partitions; p++) {
        off_t end = fds[p] >= 0 ? lseek(fds[p], 0, SEEK_END) : 0;
        if ((uint64_t)end != sizes[p]) {
            fprintf(stderr,
                    "push-floor: partition %u's file holds %lld bytes, its blocks %" PRIu64 "\n", p,
                    (long long)end, sizes[p]);
            rc = -1;
        }
    }
    for (uint32_t p = 0; fds && p < w->partitions; p++)
        if (fds[p] >= 0)
            close(fds[p]);
    free(fds);
    free(sizes);
    free(want);
    free(got);
    return rc;
}

void floor_remove_files(const struct floor_workload *w, const struct floor_opts *o)
{
    for (uint32_t p = 0; p < w->partitions; p++) {
        char path[4096];
        floor_partition_path(path, sizeof(path), o->dir, p);
        unlink(path);
    }
}

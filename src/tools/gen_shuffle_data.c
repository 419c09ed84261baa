/* SPDX-License-Identifier: Apache-2.0 */
/* gen-shuffle-data: writes one executor's shuffle and rdd files in Spark's
 * exact on-disk layout (protocol.md 10.2-10.3) plus a manifest in the format of
 * ../shared/vectors/manifest.tsv (block id, size, crc32, sha256, file, offset).
 *
 *   gen-shuffle-data --root DIR [--dirs N] [--subdirs D] [--shuffle S] [--maps M]
 *                    [--reduces R] [--min-size A] [--max-size B] [--seed X]
 *                    [--map-id-base B] [--rdd-id I --rdd-splits K] [--manifest FILE]
 *                    [--checksum ADLER32|CRC32|CRC32C]
 *
 * Local dirs are DIR/blockmgr-0 .. DIR/blockmgr-(N-1); map ids are B .. B+M-1. With
 * --checksum, each map output also gets the checksum file a Spark writer with
 * spark.shuffle.checksum.algorithm leaves: shuffle_S_M_0.checksum.<ALGO>, one big-endian i64
 * per reduce, placed by its own name.
 * The same arguments always produce the same bytes. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/spark_checksum.h"
#include "common/version.h"
#include "server/block/blockid.h"
#include "server/block/placement.h"
#include "server/block/registry_store.h"
#include "tools/checksum.h"

struct opts {
    const char *root, *manifest, *checksum; /* checksum: an algorithm name, or NULL */
    long dirs, subdirs, shuffle, maps, reduces, rdd_id, rdd_splits;
    long long min_size, max_size, map_id_base;
    unsigned long long seed;
};

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t x = rng_state; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 2685821657736338717ull;
}

static int mkdir_p(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* Places name among the dirs, creates its subdir, returns the path. */
static int place(const struct opts *o, char **dirs, const char *name, char *path, size_t len)
{
    if (placement_path((const char *const *)dirs, (uint32_t)o->dirs, (int32_t)o->subdirs, name,
                       path, len) < 0)
        return -1;
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    *strrchr(dir, '/') = 0;
    return mkdir_p(dir);
}

static void random_block(uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = rng_next();
        for (size_t k = 0; k < 8 && i + k < n; k++)
            buf[i + k] = (uint8_t)(v >> (8 * k));
    }
}

static void manifest_line(FILE *mf, const char *id, const uint8_t *data, size_t n, const char *file,
                          uint64_t offset)
{
    struct sha256 s;
    uint8_t d[32];
    sha256_init(&s);
    sha256_update(&s, data, n);
    sha256_final(&s, d);
    fprintf(mf, "%s\t%zu\t%08x\t", id, n, crc32_update(0, data, n));
    for (int i = 0; i < 32; i++)
        fprintf(mf, "%02x", d[i]);
    fprintf(mf, "\t%s\t%" PRIu64 "\n", file, offset);
}

static long long block_size(const struct opts *o)
{
    uint64_t span = (uint64_t)(o->max_size - o->min_size) + 1;
    return o->min_size + (long long)(rng_next() % span);
}

/* The map output's checksum file: one big-endian i64 per reduce; 0 or -1. */
static int write_checksum_file(const struct opts *o, char **dirs, int64_t map_id,
                               const uint32_t *sums)
{
    char name[128], path[PATH_MAX];
    snprintf(name, sizeof(name), "shuffle_%ld_%" PRId64 "_0.checksum.%s", o->shuffle, map_id,
             o->checksum);
    if (place(o, dirs, name, path, sizeof(path)) < 0)
        return -1;
    FILE *f = fopen(path, "wb");
    int rc = f ? 0 : -1;
    for (long r = 0; rc == 0 && r < o->reduces; r++) {
        uint8_t be[8];
        for (int k = 0; k < 8; k++)
            be[k] = (uint8_t)((uint64_t)sums[r] >> (56 - 8 * k));
        if (fwrite(be, 1, 8, f) != 8)
            rc = -1;
    }
    if (f && fclose(f) != 0)
        rc = -1;
    if (rc < 0)
        fprintf(stderr, "gen-shuffle-data: cannot write %s: %s\n", path, strerror(errno));
    return rc;
}

static int write_map_output(const struct opts *o, char **dirs, int64_t map_id, FILE *mf)
{
    char name[96], data_path[PATH_MAX], index_path[PATH_MAX], id[128];
    block_data_file_name((int32_t)o->shuffle, map_id, name, sizeof(name));
    if (place(o, dirs, name, data_path, sizeof(data_path)) < 0)
        return -1;
    block_index_file_name((int32_t)o->shuffle, map_id, name, sizeof(name));
    if (place(o, dirs, name, index_path, sizeof(index_path)) < 0)
        return -1;
    FILE *df = fopen(data_path, "wb"), *xf = fopen(index_path, "wb");
    enum spark_checksum_algo algo =
        o->checksum ? spark_checksum_algo_of(o->checksum) : SPARK_CHECKSUM_UNSUPPORTED;
    uint32_t *sums = o->checksum ? calloc((size_t)o->reduces + 1, sizeof(*sums)) : NULL;
    int rc = df && xf && (sums || !o->checksum) ? 0 : -1;
    uint64_t off = 0;
    uint8_t be[8] = {0};
    if (rc == 0)
        fwrite(be, 1, 8, xf);
    for (long r = 0; rc == 0 && r < o->reduces; r++) {
        size_t n = (size_t)block_size(o);
        uint8_t *buf = malloc(n ? n : 1);
        if (!buf) {
            rc = -1;
            break;
        }
        random_block(buf, n);
        if (fwrite(buf, 1, n, df) != n)
            rc = -1;
        if (sums)
            sums[r] = spark_checksum_update(algo, spark_checksum_start(algo), buf, n);
        snprintf(id, sizeof(id), "shuffle_%ld_%" PRId64 "_%ld", o->shuffle, map_id, r);
        manifest_line(mf, id, buf, n, data_path, off);
        free(buf);
        off += n;
        for (int k = 0; k < 8; k++)
            be[k] = (uint8_t)(off >> (56 - 8 * k));
        fwrite(be, 1, 8, xf);
    }
    if (df && fclose(df) != 0)
        rc = -1;
    if (xf && fclose(xf) != 0)
        rc = -1;
    if (rc < 0)
        fprintf(stderr, "gen-shuffle-data: cannot write %s / %s: %s\n", data_path, index_path,
                strerror(errno));
    else if (sums)
        rc = write_checksum_file(o, dirs, map_id, sums);
    free(sums);
    return rc;
}

static int write_rdd_block(const struct opts *o, char **dirs, long split, FILE *mf)
{
    char name[64], path[PATH_MAX];
    block_rdd_file_name((int32_t)o->rdd_id, (int32_t)split, name, sizeof(name));
    if (place(o, dirs, name, path, sizeof(path)) < 0)
        return -1;
    size_t n = (size_t)block_size(o);
    uint8_t *buf = malloc(n ? n : 1);
    FILE *f = fopen(path, "wb");
    int rc = buf && f ? 0 : -1;
    if (rc == 0) {
        random_block(buf, n);
        if (fwrite(buf, 1, n, f) != n)
            rc = -1;
        manifest_line(mf, name, buf, n, path, 0);
    }
    if (f && fclose(f) != 0)
        rc = -1;
    free(buf);
    if (rc < 0)
        fprintf(stderr, "gen-shuffle-data: cannot write %s: %s\n", path, strerror(errno));
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: gen-shuffle-data --root DIR [--dirs N=2] [--subdirs D=64] [--shuffle S=0]\n"
               "         [--maps M=3] [--reduces R=4] [--min-size A=0] [--max-size B=200]\n"
               "         [--seed X=1] [--map-id-base B=0] [--rdd-id I --rdd-splits K]\n"
               "         [--manifest FILE=DIR/manifest.tsv] [--checksum ADLER32|CRC32|CRC32C]\n"
               "       gen-shuffle-data --help | --version\n"
               "Writes DIR/blockmgr-0..N-1 in Spark's layout and a manifest of every block.\n");
}

/* The numeric options: where each goes in struct opts, of which type, in what range. */
enum num_type { NUM_LONG, NUM_LLONG, NUM_ULLONG };
struct num_opt {
    const char *name;
    size_t offset;
    enum num_type type;
    long long min, max;
};

static const struct num_opt num_opts[] = {
    {"dirs", offsetof(struct opts, dirs), NUM_LONG, 1, 1024},
    {"subdirs", offsetof(struct opts, subdirs), NUM_LONG, 1, 4096},
    {"shuffle", offsetof(struct opts, shuffle), NUM_LONG, 0, INT32_MAX},
    {"maps", offsetof(struct opts, maps), NUM_LONG, 0, 1000000},
    {"reduces", offsetof(struct opts, reduces), NUM_LONG, 0, 1000000},
    {"min-size", offsetof(struct opts, min_size), NUM_LLONG, 0, 1LL << 32},
    {"max-size", offsetof(struct opts, max_size), NUM_LLONG, 0, 1LL << 32},
    {"seed", offsetof(struct opts, seed), NUM_ULLONG, 0, LLONG_MAX},
    {"map-id-base", offsetof(struct opts, map_id_base), NUM_LLONG, 0, LLONG_MAX / 2},
    {"rdd-id", offsetof(struct opts, rdd_id), NUM_LONG, 0, INT32_MAX},
    {"rdd-splits", offsetof(struct opts, rdd_splits), NUM_LONG, 0, 1000000},
};
#define NUM_OPTS (sizeof(num_opts) / sizeof(num_opts[0]))
enum {
    OPT_ROOT = 'r',
    OPT_MANIFEST = 'f',
    OPT_CHECKSUM = 'c',
    OPT_HELP = 'h',
    OPT_VERSION = 'V',
    OPT_NUM = 256
};

static int set_num(struct opts *o, const struct num_opt *n, const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < n->min || v > n->max)
        return -1;
    char *field = (char *)o + n->offset;
    if (n->type == NUM_LONG)
        *(long *)field = (long)v;
    else if (n->type == NUM_LLONG)
        *(long long *)field = v;
    else
        *(unsigned long long *)field = (unsigned long long)v;
    return 0;
}

/* 0 to go on, else the exit status (usage shown). */
static int parse_args(int argc, char **argv, struct opts *o)
{
    struct option longopts[NUM_OPTS + 6] = {{"root", 1, 0, OPT_ROOT},
                                            {"manifest", 1, 0, OPT_MANIFEST},
                                            {"checksum", 1, 0, OPT_CHECKSUM},
                                            {"help", 0, 0, OPT_HELP},
                                            {"version", 0, 0, OPT_VERSION}};
    for (size_t i = 0; i < NUM_OPTS; i++) /* value OPT_NUM + index */
        longopts[5 + i] = (struct option){num_opts[i].name, 1, 0, OPT_NUM + (int)i};
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == OPT_ROOT) {
            o->root = optarg;
        } else if (c == OPT_MANIFEST) {
            o->manifest = optarg;
        } else if (c == OPT_CHECKSUM) {
            if (spark_checksum_algo_of(optarg) == SPARK_CHECKSUM_UNSUPPORTED) {
                fprintf(stderr, "gen-shuffle-data: --checksum '%s': not ADLER32, CRC32 or CRC32C\n",
                        optarg);
                return 2;
            }
            o->checksum = optarg;
        } else if (c == OPT_HELP) {
            usage(stdout);
            return -1;
        } else if (c == OPT_VERSION) {
            print_version("gen-shuffle-data");
            return -1;
        } else if (c < OPT_NUM || c >= OPT_NUM + (int)NUM_OPTS) {
            usage(stderr);
            return 2;
        } else if (set_num(o, &num_opts[c - OPT_NUM], optarg) != 0) {
            fprintf(stderr, "gen-shuffle-data: bad value '%s' for --%s\n", optarg,
                    num_opts[c - OPT_NUM].name);
            usage(stderr);
            return 2;
        }
    }
    if (!o->root || optind != argc || o->min_size > o->max_size ||
        (o->rdd_splits > 0 && o->rdd_id < 0)) {
        usage(stderr);
        return 2;
    }
    return 0;
}

/* Creates DIR/blockmgr-0..N-1 into *dirs (freed with free_local_dirs even on failure);
 * 0 or -1. */
static int make_local_dirs(const struct opts *o, char ***dirs)
{
    *dirs = calloc((size_t)o->dirs, sizeof(char *));
    if (!*dirs || mkdir_p(o->root) != 0)
        return -1;
    for (long i = 0; i < o->dirs; i++)
        if (asprintf(&(*dirs)[i], "%s/blockmgr-%ld", o->root, i) < 0 || mkdir_p((*dirs)[i]) < 0)
            return -1;
    return 0;
}

static void free_local_dirs(const struct opts *o, char **dirs)
{
    for (long i = 0; dirs && i < o->dirs; i++)
        free(dirs[i]);
    free(dirs);
}

static void write_manifest_header(const struct opts *o, char **dirs, FILE *mf)
{
    fprintf(mf, "# shuffle-vectors manifest v1\n#localDirs\t");
    for (long i = 0; i < o->dirs; i++)
        fprintf(mf, "%s%s", i ? "," : "", dirs[i]);
    fprintf(mf, "\n#subDirsPerLocalDir\t%ld\n#seed\t%llu\n", o->subdirs, o->seed);
    fprintf(mf, "#blockId\tsize\tcrc32\tsha256\tfile\toffset\n");
}

/* The shuffle files of every map, then the rdd blocks; 0 or -1. */
static int write_dataset(const struct opts *o, char **dirs, FILE *mf)
{
    for (long m = 0; m < o->maps; m++)
        if (write_map_output(o, dirs, o->map_id_base + m, mf) < 0)
            return -1;
    for (long k = 0; o->rdd_id >= 0 && k < o->rdd_splits; k++)
        if (write_rdd_block(o, dirs, k, mf) < 0)
            return -1;
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = {.dirs = 2,
                     .subdirs = 64,
                     .maps = 3,
                     .reduces = 4,
                     .max_size = 200,
                     .seed = 1,
                     .rdd_id = -1};
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    rng_state = o.seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
    if (!rng_state)
        rng_state = 1;
    char mpath[PATH_MAX];
    snprintf(mpath, sizeof(mpath), "%s/manifest.tsv", o.root);
    if (!o.manifest)
        o.manifest = mpath;
    char **dirs;
    FILE *mf = make_local_dirs(&o, &dirs) == 0 ? fopen(o.manifest, "w") : NULL;
    if (!mf) {
        fprintf(stderr, "gen-shuffle-data: cannot create %s or %s: %s\n", o.root, o.manifest,
                strerror(errno));
        free_local_dirs(&o, dirs);
        return 1;
    }
    write_manifest_header(&o, dirs, mf);
    rc = write_dataset(&o, dirs, mf) == 0 ? 0 : 1;
    if (fclose(mf) != 0)
        rc = 1;
    free_local_dirs(&o, dirs);
    return rc;
}

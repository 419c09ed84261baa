/* SPDX-License-Identifier: Apache-2.0 */
/* shuffle-fetch's options: see fetch_cli.h. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/fetch_cli.h"
#include "tools/opt_table.h"

#define AT(field) offsetof(struct fetch_cli, field)
static const struct opt_spec opt_specs[] = {
    {"output", 'o', OPT_STR, AT(outdir), "DIR",
     "write each block to DIR/<block id> (default: stdout)"},
    {"verify", 'm', OPT_STR, AT(manifest), "MANIFEST",
     "check sizes and checksums against a manifest; with no\nblock ids, fetch every block it "
     "lists"},
    {"blocks-file", 'f', OPT_STR, AT(blocks_file), "FILE",
     "read block ids from FILE, one per line"},
    {"old-protocol", 0, OPT_FLAG, AT(o.use_old_fetch_protocol), NULL,
     "always use OpenBlocks (spark.shuffle.useOldFetchProtocol)"},
    {"batch", 0, OPT_FLAG, AT(batch), NULL, "merge runs of reduce ids of one map into batch ids"},
    OPT_CLIENT_ROWS(struct fetch_cli),
    {"to-file-threshold", 0, OPT_U64, AT(o.fetch_to_file_bytes), "BYTES",
     "blocks larger than this (size from the manifest)\nare streamed to a file (default: never)"},
    {"tmp-dir", 0, OPT_STR, AT(o.tmp_dir), "DIR", "where streamed blocks are written first"},
    {"max-blocks", 0, OPT_INT, AT(max_blocks), "N", "blocks per request (default 512)"},
    {"parallel", 0, OPT_INT, AT(parallel), "N", "requests in flight (default 4)"},
    {"connections", 0, OPT_INT, AT(o.connections_per_peer), "N",
     "connections to the server (default 1)"},
    OPT_SECURE_ROWS(struct fetch_cli),
    {"register", 0, OPT_FLAG, AT(reg), NULL,
     "register the executor first, with the manifest's\n#localDirs and #subDirsPerLocalDir"},
    {"diagnose", 0, OPT_STR, AT(diagnose), "ALGORITHM",
     "ask the server why a block failed --verify\n(DiagnoseCorruption; ADLER32, CRC32 or CRC32C, "
     "as\nspark.shuffle.checksum.algorithm)"},
    {"verbose", 'v', OPT_FLAG, AT(verbose), NULL, "one line per block"},
    {"quiet", 'q', OPT_FLAG, AT(quiet), NULL, "errors only"},
};
static const struct opt_table fetch_opts = {
    "shuffle-fetch",
    "usage: shuffle-fetch [options] HOST:PORT APP_ID EXEC_ID [BLOCK_ID...]\n"
    "       shuffle-fetch --help | --version\n",
    opt_specs, sizeof(opt_specs) / sizeof(opt_specs[0])};

int fetch_cli_parse(int argc, char **argv, struct fetch_cli *cli)
{
    int rc = opt_table_parse(&fetch_opts, argc, argv, cli);
    if (rc != 0)
        return rc;
    if (cli->max_blocks < 1 || cli->parallel < 1) {
        fprintf(stderr, "shuffle-fetch: --%s must be at least 1\n",
                cli->max_blocks < 1 ? "max-blocks" : "parallel");
        return 2;
    }
    if (argc - optind < 3) {
        fprintf(stderr, "shuffle-fetch: HOST:PORT, APP_ID and EXEC_ID are needed\n");
        opt_table_usage(&fetch_opts, stderr);
        return 2;
    }
    return 0;
}

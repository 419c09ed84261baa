/* SPDX-License-Identifier: Apache-2.0 */
/* shuffle-fetch's command line: one table of options (name, field, argument, help) from
 * which getopt's tables and the usage text are made. */
#ifndef SHUFFLE_TOOLS_FETCH_CLI_H
#define SHUFFLE_TOOLS_FETCH_CLI_H

#include <stdbool.h>

#include "shuffle/client.h"
#include "tools/secure_opts.h"

/* What the command line asks for. */
struct fetch_cli {
    struct shuffle_client_options o;
    const char *outdir, *manifest, *blocks_file;
    const char *diagnose; /* DiagnoseCorruption of blocks failing --verify, with this algorithm */
    bool batch, reg, verbose, quiet;
    struct secure_opts sec; /* --auth-secret-file, --crypto, ... */
    int max_blocks, parallel;
};

/* Fills cli from argv (cli holds the defaults). 0 to go on (argv[optind..] are the
 * operands), else the exit status (-1: exit 0 after --help). */
int fetch_cli_parse(int argc, char **argv, struct fetch_cli *cli);

#endif

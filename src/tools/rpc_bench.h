/* SPDX-License-Identifier: Apache-2.0 */
/* shuffle-rpc bench: one-way or ask load against a serving env's counter and echo endpoints. */
#ifndef SHUFFLE_TOOLS_RPC_BENCH_H
#define SHUFFLE_TOOLS_RPC_BENCH_H

/* argv[0] is "bench"; returns the exit status. */
int rpc_bench_main(int argc, char **argv);

#endif

# SPDX-License-Identifier: Apache-2.0
# tests/: unit tests (check), integration tests (real daemon + client on
# loopback), the harness they share, fuzz targets (run by scripts/fuzz, not by make check).
EXTRA_DIST += tests/unit/test_util.h tests/check_main.h

# A test program names only what differs from the defaults: its source tests/DIR/NAME.c
# (automake's default), AM_CFLAGS (with check's flags), and this LDADD (no other program uses
# it): the integration fixtures, the harness and every library the unit, block, ops and
# server tests link, of which each takes only the objects it needs.
LDADD = tests/integration/libfixtures.la $(HARNESS_LIBS) src/server/libblock.la \
	$(SHUFFLED_CORE_LIBS) src/proto/libproto.la $(CHECK_LIBS) $(PTHREAD_LIBS)

include tests/harness/harness.mk
include tests/unit/local.mk
include tests/unit/server.mk
include tests/integration/local.mk
include tests/fuzz/local.mk

# Without ../shared the vector suites skip instead of failing (issue 18).
dist_check_SCRIPTS += tests/unit/test_without_shared.sh
TESTS += tests/unit/test_without_shared.sh

# --version on every binary (issue 18).
dist_check_SCRIPTS += tests/integration/test_version.sh
TESTS += tests/integration/test_version.sh

# shuffle-fetch: tty refusal, fast failure on a closed port, option errors (issue 18).
dist_check_SCRIPTS += tests/integration/test_fetch_cli.sh
TESTS += tests/integration/test_fetch_cli.sh

# shuffle-bench: CSV, distinct errors with counts, -s as a deadline (issue 18).
dist_check_SCRIPTS += tests/integration/test_bench_cli.sh
TESTS += tests/integration/test_bench_cli.sh

# shuffledctl against the real daemon (issue 18).
dist_check_SCRIPTS += tests/integration/test_shuffledctl.sh
TESTS += tests/integration/test_shuffledctl.sh

# Every config.c key has a man page entry with its default and a line in a conf file.
dist_check_SCRIPTS += tests/integration/test_config_docs.sh
TESTS += tests/integration/test_config_docs.sh

# No circle between the modules of src/, by includes or by calls between this build's objects
# (scripts/check-layers, docs/architecture.md "The rule").
dist_check_SCRIPTS += tests/integration/test_layers.sh
TESTS += tests/integration/test_layers.sh

# tests/: unit tests (check), integration tests (real daemon + client on
# loopback), fuzz targets (run by scripts/fuzz, not by make check).
EXTRA_DIST += tests/unit/test_util.h tests/check_main.h

include tests/unit/local.mk
include tests/unit/server.mk
include tests/integration/local.mk

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

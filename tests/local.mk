# tests/: unit tests (check), integration tests (real daemon + client on
# loopback), the harness they share, fuzz targets (run by scripts/fuzz, not by make check).
EXTRA_DIST += tests/unit/test_util.h tests/check_main.h

include tests/harness/harness.mk
include tests/unit/local.mk
include tests/unit/server.mk
include tests/integration/local.mk
include tests/fuzz/local.mk

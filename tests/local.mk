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

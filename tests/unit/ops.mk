# SPDX-License-Identifier: Apache-2.0
# Unit tests of the operations side (src/server/ops/ops.mk, carried by the core). Sources and
# libraries: the defaults of tests/local.mk.
EXTRA_DIST += tests/unit/prom_parse.h tests/unit/http_client.h tests/unit/prom_scrape.h
OPS_UNIT_TESTS = tests/unit/test_sd tests/unit/test_metrics tests/unit/test_admin_http \
	tests/unit/test_loop_watchdog tests/unit/test_config_ops
check_PROGRAMS += $(OPS_UNIT_TESTS)
TESTS += $(OPS_UNIT_TESTS)

# The real daemon under a simulated systemd (tests/integration).
check_PROGRAMS += tests/integration/test_ops_daemon
TESTS += tests/integration/test_ops_daemon
EXTRA_tests_integration_test_ops_daemon_DEPENDENCIES = shuffled$(EXEEXT)

# The daemon with a test service whose RPC "S" blocks its worker loop (stuck-loop tests).
check_PROGRAMS += tests/integration/shuffled-stall
tests_integration_shuffled_stall_SOURCES = src/server/main.c tests/integration/service_stall.c
tests_integration_shuffled_stall_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
tests_integration_shuffled_stall_LDADD = $(SHUFFLED_CORE_LIBS)
EXTRA_tests_integration_test_ops_daemon_DEPENDENCIES += tests/integration/shuffled-stall$(EXEEXT)

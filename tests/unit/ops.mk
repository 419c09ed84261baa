# Unit tests of the operations side (src/server/ops/ops.mk).
OPS_TEST_CFLAGS = $(AM_CFLAGS) -D_GNU_SOURCE $(CHECK_CFLAGS) $(LIBEVENT_CFLAGS)
OPS_TEST_LIBS = $(HARNESS_LIBS) $(SHUFFLED_OPS_LIBS) $(SHUFFLED_CORE_LIBS) $(CHECK_LIBS) \
	$(PTHREAD_LIBS)

check_PROGRAMS += tests/unit/test_sd tests/unit/test_metrics tests/unit/test_admin_http \
	tests/unit/test_loop_watchdog tests/unit/test_config_ops
TESTS += tests/unit/test_sd tests/unit/test_metrics tests/unit/test_admin_http \
	tests/unit/test_loop_watchdog tests/unit/test_config_ops

tests_unit_test_sd_SOURCES = tests/unit/test_sd.c
tests_unit_test_sd_CFLAGS = $(OPS_TEST_CFLAGS)
tests_unit_test_sd_LDADD = $(OPS_TEST_LIBS)
tests_unit_test_metrics_SOURCES = tests/unit/test_metrics.c tests/unit/prom_parse.h
tests_unit_test_metrics_CFLAGS = $(OPS_TEST_CFLAGS)
tests_unit_test_metrics_LDADD = $(OPS_TEST_LIBS)
tests_unit_test_admin_http_SOURCES = tests/unit/test_admin_http.c tests/unit/prom_parse.h \
	tests/unit/http_client.h
tests_unit_test_admin_http_CFLAGS = $(OPS_TEST_CFLAGS)
tests_unit_test_admin_http_LDADD = $(OPS_TEST_LIBS)
tests_unit_test_loop_watchdog_SOURCES = tests/unit/test_loop_watchdog.c
tests_unit_test_loop_watchdog_CFLAGS = $(OPS_TEST_CFLAGS)
tests_unit_test_loop_watchdog_LDADD = $(OPS_TEST_LIBS)
tests_unit_test_config_ops_SOURCES = tests/unit/test_config_ops.c
tests_unit_test_config_ops_CFLAGS = $(OPS_TEST_CFLAGS)
tests_unit_test_config_ops_LDADD = $(OPS_TEST_LIBS)

# The real daemon under a simulated systemd (tests/integration).
check_PROGRAMS += tests/integration/test_ops_daemon
TESTS += tests/integration/test_ops_daemon
tests_integration_test_ops_daemon_SOURCES = tests/integration/test_ops_daemon.c \
	tests/unit/http_client.h tests/unit/prom_parse.h
tests_integration_test_ops_daemon_CFLAGS = $(OPS_TEST_CFLAGS)
tests_integration_test_ops_daemon_LDADD = $(OPS_TEST_LIBS)
EXTRA_tests_integration_test_ops_daemon_DEPENDENCIES = shuffled$(EXEEXT)

# The daemon with a test service whose RPC "S" blocks its worker loop (stuck-loop tests).
check_PROGRAMS += tests/integration/shuffled-stall
tests_integration_shuffled_stall_SOURCES = src/server/main.c tests/integration/service_stall.c
tests_integration_shuffled_stall_CFLAGS = $(AM_CFLAGS) -D_GNU_SOURCE $(LIBEVENT_CFLAGS)
tests_integration_shuffled_stall_LDADD = $(SHUFFLED_CORE_LIBS)
EXTRA_tests_integration_test_ops_daemon_DEPENDENCIES += tests/integration/shuffled-stall$(EXEEXT)

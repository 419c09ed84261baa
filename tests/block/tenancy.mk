# Registration limits, dir ownership, admin endpoint protection (issue 15, items 3-5).
check_PROGRAMS += tests/block/test_tenants
TESTS += tests/block/test_tenants
tests_block_test_tenants_SOURCES = tests/block/test_tenants.c
tests_block_test_tenants_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_block_test_tenants_LDADD = $(BLOCK_TEST_LIBS)

# The same against the real daemon, with small limits in its config.
check_PROGRAMS += tests/block/test_tenancy_daemon
TESTS += tests/block/test_tenancy_daemon
tests_block_test_tenancy_daemon_SOURCES = tests/block/test_tenancy_daemon.c
tests_block_test_tenancy_daemon_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_block_test_tenancy_daemon_LDADD = $(BLOCK_IT_LIBS)

# ... and with spark.authenticate (per-app secrets, a shared secret) and without.
check_PROGRAMS += tests/integration/test_tenancy_auth
TESTS += tests/integration/test_tenancy_auth
tests_integration_test_tenancy_auth_SOURCES = tests/integration/test_tenancy_auth.c \
	$(AUTH_TEST_SOURCES)
tests_integration_test_tenancy_auth_CFLAGS = $(CLIENT_TEST_CFLAGS) $(SASL_CFLAGS) -D_GNU_SOURCE
tests_integration_test_tenancy_auth_LDADD = $(CLIENT_TEST_LIBS) $(SASL_LIBS)

# The admin actions' guard (token, loopback), against admin_http alone.
check_PROGRAMS += tests/unit/test_admin_guard
TESTS += tests/unit/test_admin_guard
tests_unit_test_admin_guard_SOURCES = tests/unit/test_admin_guard.c tests/unit/http_client.h
tests_unit_test_admin_guard_CFLAGS = $(OPS_TEST_CFLAGS)
tests_unit_test_admin_guard_LDADD = $(OPS_TEST_LIBS)

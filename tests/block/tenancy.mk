# SPDX-License-Identifier: Apache-2.0
# Registration limits, dir ownership, admin endpoint protection (issue 15, items 3-5): below
# the daemon (test_tenants), against the real daemon with small limits in its config
# (test_tenancy_daemon), with spark.authenticate (per-app secrets, a shared secret) and without
# (test_tenancy_auth), the admin actions' guard against admin_http alone (test_admin_guard).
# Sources and libraries: the defaults of tests/local.mk.
TENANCY_TESTS = tests/block/test_tenants tests/block/test_tenancy_daemon \
	tests/integration/test_tenancy_auth tests/unit/test_admin_guard
check_PROGRAMS += $(TENANCY_TESTS)
TESTS += $(TENANCY_TESTS)
tests_integration_test_tenancy_auth_CFLAGS = $(AM_CFLAGS) $(SASL_CFLAGS)
tests_integration_test_tenancy_auth_LDADD = $(INTEGRATION_LIBS)

# app_ttl_ms, GET /admin/apps and the registration/removal log lines against the real daemon
# (issue 18, items 10-11).
check_PROGRAMS += tests/block/test_app_ttl tests/block/test_app_activity
TESTS += tests/block/test_app_ttl tests/block/test_app_activity

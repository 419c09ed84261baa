# Registration limits, dir ownership, admin endpoint protection (issue 15, items 3-5).
check_PROGRAMS += tests/block/test_tenants
TESTS += tests/block/test_tenants
tests_block_test_tenants_SOURCES = tests/block/test_tenants.c
tests_block_test_tenants_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_block_test_tenants_LDADD = $(BLOCK_TEST_LIBS)

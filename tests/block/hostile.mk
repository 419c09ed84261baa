# SPDX-License-Identifier: Apache-2.0
# Hostile-client integration test of the block service (review branch); applicationRemoved
# racing RegisterExecutor; opening files confined to allowed_local_dir_roots without following
# symlinks. Sources and libraries: the defaults of tests/local.mk.
HOSTILE_TESTS = tests/block/test_hostile tests/block/test_registry_race \
	tests/block/test_confined_open
check_PROGRAMS += $(HOSTILE_TESTS)
TESTS += $(HOSTILE_TESTS)

# registry_store with read() failing part-way (read is wrapped in this test only).
check_PROGRAMS += tests/block/test_registry_read_error
TESTS += tests/block/test_registry_read_error
tests_block_test_registry_read_error_LDFLAGS = -Wl,--wrap=read

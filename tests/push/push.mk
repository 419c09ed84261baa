# SPDX-License-Identifier: Apache-2.0
# Push-based shuffle tests (issue 17): the merged layout against Spark 3.5's recorded files.
PUSH_TESTS = tests/push/test_merged_layout
check_PROGRAMS += $(PUSH_TESTS)
TESTS += $(PUSH_TESTS)
tests_push_test_merged_layout_LDADD = src/server/libpush.la $(LDADD)
# The write side against Spark 3.5's recordings (the real daemon; push-write).
PUSH_WRITE_TESTS = tests/push/test_push_vectors
check_PROGRAMS += $(PUSH_WRITE_TESTS)
TESTS += $(PUSH_WRITE_TESTS)

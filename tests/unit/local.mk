# SPDX-License-Identifier: Apache-2.0
# Unit tests (check). Each binary is one concept. Sources and libraries: the defaults of
# tests/local.mk.
UNIT_TESTS = tests/unit/test_codec tests/unit/test_frame tests/unit/test_message \
	tests/unit/test_blockmsg tests/unit/test_blockmsg_table tests/unit/test_vectors
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
# Walks the message tables with samples built from the field kinds (the samples are shared
# with the fuzz targets, tests/fuzz/local.mk).
tests_unit_test_blockmsg_table_SOURCES = tests/unit/test_blockmsg_table.c \
	tests/unit/test_blockmsg_sample.c tests/unit/test_blockmsg_sample.h
include tests/unit/client.mk
# The push path's PushBlockStream decoder against the message table's (same fields, verdicts).
check_PROGRAMS += tests/unit/test_push_block_view
TESTS += tests/unit/test_push_block_view
tests_unit_test_push_block_view_SOURCES = tests/unit/test_push_block_view.c \
	tests/unit/push_block_view_same.h

# Unit tests (check). Each binary is one concept. Sources and libraries: the defaults of
# tests/local.mk.
UNIT_TESTS = tests/unit/test_codec tests/unit/test_frame tests/unit/test_message \
	tests/unit/test_blockmsg tests/unit/test_vectors
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
include tests/unit/client.mk

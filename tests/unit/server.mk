# SPDX-License-Identifier: Apache-2.0
# Unit tests of the daemon core (check): config parsing and drop-ins, stream table, page-cache
# warm-up, the reply queue. Sources and libraries: the defaults of tests/local.mk.
SERVER_UNIT_TESTS = tests/unit/test_config tests/unit/test_stream_table \
	tests/unit/test_page_cache tests/unit/test_config_dropin tests/unit/test_reply_queue
check_PROGRAMS += $(SERVER_UNIT_TESTS)
TESTS += $(SERVER_UNIT_TESTS)

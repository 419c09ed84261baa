# Unit tests of the daemon core (check): config parsing, stream table, page-cache warm-up.
check_PROGRAMS += tests/unit/test_config tests/unit/test_stream_table tests/unit/test_page_cache
TESTS += tests/unit/test_config tests/unit/test_stream_table tests/unit/test_page_cache

tests_unit_test_config_SOURCES = tests/unit/test_config.c
tests_unit_test_config_CFLAGS = $(AM_CFLAGS) -D_GNU_SOURCE $(CHECK_CFLAGS)
tests_unit_test_config_LDADD = $(SHUFFLED_CORE_LIBS) $(CHECK_LIBS)
tests_unit_test_stream_table_SOURCES = tests/unit/test_stream_table.c
tests_unit_test_stream_table_CFLAGS = $(AM_CFLAGS) -D_GNU_SOURCE $(CHECK_CFLAGS)
tests_unit_test_stream_table_LDADD = $(SHUFFLED_CORE_LIBS) $(CHECK_LIBS)
tests_unit_test_page_cache_SOURCES = tests/unit/test_page_cache.c
tests_unit_test_page_cache_CFLAGS = $(AM_CFLAGS) -D_GNU_SOURCE $(CHECK_CFLAGS)
tests_unit_test_page_cache_LDADD = $(SHUFFLED_CORE_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/test_config_dropin
TESTS += tests/unit/test_config_dropin
tests_unit_test_config_dropin_SOURCES = tests/unit/test_config_dropin.c
tests_unit_test_config_dropin_CFLAGS = $(AM_CFLAGS) -D_GNU_SOURCE $(CHECK_CFLAGS)
tests_unit_test_config_dropin_LDADD = $(SHUFFLED_CORE_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/test_reply_queue
TESTS += tests/unit/test_reply_queue
tests_unit_test_reply_queue_SOURCES = tests/unit/test_reply_queue.c
tests_unit_test_reply_queue_CFLAGS = $(AM_CFLAGS) -D_GNU_SOURCE $(CHECK_CFLAGS)
tests_unit_test_reply_queue_LDADD = $(SHUFFLED_CORE_LIBS) $(CHECK_LIBS)

# Unit tests (check). Each binary is one concept.
UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
UNIT_LIBS = src/proto/libproto.la $(CHECK_LIBS)

check_PROGRAMS += tests/unit/test_codec tests/unit/test_frame tests/unit/test_message \
	tests/unit/test_blockmsg tests/unit/test_blockmsg_table tests/unit/test_vectors
TESTS += tests/unit/test_codec tests/unit/test_frame tests/unit/test_message \
	tests/unit/test_blockmsg tests/unit/test_blockmsg_table tests/unit/test_vectors

tests_unit_test_codec_SOURCES = tests/unit/test_codec.c
tests_unit_test_codec_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_codec_LDADD = $(UNIT_LIBS)
tests_unit_test_frame_SOURCES = tests/unit/test_frame.c
tests_unit_test_frame_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_frame_LDADD = $(UNIT_LIBS)
tests_unit_test_message_SOURCES = tests/unit/test_message.c
tests_unit_test_message_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_message_LDADD = $(UNIT_LIBS)
tests_unit_test_blockmsg_SOURCES = tests/unit/test_blockmsg.c
tests_unit_test_blockmsg_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_blockmsg_LDADD = $(UNIT_LIBS)
# Walks the message tables with samples built from the field kinds.
tests_unit_test_blockmsg_table_SOURCES = tests/unit/test_blockmsg_table.c \
	tests/unit/test_blockmsg_sample.c tests/unit/test_blockmsg_sample.h
tests_unit_test_blockmsg_table_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_blockmsg_table_LDADD = $(UNIT_LIBS)
tests_unit_test_vectors_SOURCES = tests/unit/test_vectors.c
tests_unit_test_vectors_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_vectors_LDADD = $(UNIT_LIBS)
include tests/unit/client.mk

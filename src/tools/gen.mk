# SPDX-License-Identifier: Apache-2.0
# gen-shuffle-data (issue 4): test data in Spark's exact on-disk layout.
bin_PROGRAMS += gen-shuffle-data
gen_shuffle_data_SOURCES = src/tools/gen_shuffle_data.c \
	src/tools/checksum.c src/tools/checksum.h \
	src/common/spark_checksum.c src/common/spark_checksum.h
gen_shuffle_data_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(ZLIB_CFLAGS) $(ISAL_CFLAGS)
gen_shuffle_data_LDADD = src/server/libblock.la $(CRYPTO_LIBS) $(ZLIB_LIBS) $(ISAL_LIBS) \
	$(PTHREAD_LIBS)
dist_man_MANS += man/gen-shuffle-data.1

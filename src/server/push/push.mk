# SPDX-License-Identifier: Apache-2.0
# src/server/push: push-based shuffle (issue 17). The merged files' layout and the
# application attempts' merge dirs, a library so unit tests link the same objects.
noinst_LTLIBRARIES += src/server/libpush.la
src_server_libpush_la_SOURCES = \
	src/server/push/merged_layout.c src/server/push/merged_layout.h \
	src/server/push/merge_apps.c src/server/push/merge_apps.h
src_server_libpush_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
src_server_libpush_la_LIBADD = src/server/libblock.la $(JANSSON_LIBS) $(PTHREAD_LIBS)
shuffled_LDADD += src/server/libpush.la

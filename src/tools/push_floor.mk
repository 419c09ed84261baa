# SPDX-License-Identifier: Apache-2.0
# push-floor (issue 17): the least CPU per pushed block of any push server and client on this
# machine, for comparing the daemon with (scripts/push-floor). Not installed.
noinst_PROGRAMS += src/tools/push-floor
src_tools_push_floor_SOURCES = src/tools/push_floor.c src/tools/push_floor_server.c \
	src/tools/push_floor_server.h src/tools/push_floor_setup.c src/tools/push_floor_setup.h \
	src/tools/push_floor_report.c src/tools/push_floor_report.h
# every block read back from the floor server's files (--verify)
dist_check_SCRIPTS += tests/integration/test_push_floor.sh
TESTS += tests/integration/test_push_floor.sh

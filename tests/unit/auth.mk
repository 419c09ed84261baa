# SPDX-License-Identifier: Apache-2.0
# SaslMessage codec and Spark's SASL password (libsasl2 only for the test's MD5).
check_PROGRAMS += tests/unit/test_saslmsg
TESTS += tests/unit/test_saslmsg
EXTRA_DIST += tests/unit/sasl_digest.h
tests_unit_test_saslmsg_CFLAGS = $(AM_CFLAGS) $(SASL_CFLAGS)
tests_unit_test_saslmsg_LDADD = $(LDADD) $(SASL_LIBS)

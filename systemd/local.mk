# SPDX-License-Identifier: Apache-2.0
# systemd units. The service names the installed daemon and config paths, so it is
# generated from shuffled.service.in with this build's sbindir and sysconfdir.
systemdsystemunit_DATA = systemd/shuffled.service systemd/shuffled.socket
EXTRA_DIST += systemd/shuffled.service.in systemd/shuffled.socket
CLEANFILES += systemd/shuffled.service

systemd/shuffled.service: $(srcdir)/systemd/shuffled.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		$(srcdir)/systemd/shuffled.service.in > $@.tmp && mv $@.tmp $@

# Units are installed under the prefix in distcheck (it must not write to /lib).
AM_DISTCHECK_CONFIGURE_FLAGS += --with-systemdsystemunitdir='$${prefix}/lib/systemd/system'

dist_check_SCRIPTS += tests/integration/test_systemd_units.sh
TESTS += tests/integration/test_systemd_units.sh

# SPDX-License-Identifier: Apache-2.0
# systemd units, sysusers.d and tmpfiles.d snippets. The service names the installed daemon,
# config and state paths, so it is generated from shuffled.service.in with this build's
# sbindir, sysconfdir and state dir ($(shuffledstatedir)). systemd's StateDirectory= is
# always under /var/lib: a state dir elsewhere (a /usr/local prefix) is granted with
# ReadWritePaths= instead and created by the tmpfiles.d snippet.
systemdsystemunit_DATA = systemd/shuffled.service systemd/shuffled.socket
dist_sysusers_DATA = systemd/sysusers.d/shuffled.conf
tmpfiles_DATA = systemd/tmpfiles.d/shuffled.conf
EXTRA_DIST += systemd/shuffled.service.in systemd/shuffled.socket systemd/tmpfiles.conf.in
CLEANFILES += systemd/shuffled.service systemd/tmpfiles.d/shuffled.conf

# sed script substituting the install paths into the generated files
subst_paths = sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@shuffledstatedir[@]|$(shuffledstatedir)|g'

systemd/shuffled.service: $(srcdir)/systemd/shuffled.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && \
	case '$(shuffledstatedir)' in \
	  /var/lib/?*) d='$(shuffledstatedir)'; \
	    directive="StateDirectory=$${d#/var/lib/}\nStateDirectoryMode=0750" ;; \
	  *) directive='ReadWritePaths=$(shuffledstatedir)' ;; \
	esac && \
	$(subst_paths) -e "s|@statedirectory[@]|$$directive|" \
		$(srcdir)/systemd/shuffled.service.in > $@.tmp && mv $@.tmp $@

systemd/tmpfiles.d/shuffled.conf: $(srcdir)/systemd/tmpfiles.conf.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd/tmpfiles.d && $(subst_paths) $(srcdir)/systemd/tmpfiles.conf.in > $@.tmp && \
	mv $@.tmp $@

# Installed under the prefix in distcheck (it must not write to /lib or /usr/lib).
AM_DISTCHECK_CONFIGURE_FLAGS += --with-systemdsystemunitdir='$${prefix}/lib/systemd/system' \
	--with-sysusersdir='$${prefix}/lib/sysusers.d' --with-tmpfilesdir='$${prefix}/lib/tmpfiles.d'

dist_check_SCRIPTS += tests/integration/test_systemd_units.sh
TESTS += tests/integration/test_systemd_units.sh

# The Debian packages (scripts/package) unpacked into a scratch root. Once per `scripts/test`
# (not in the sanitizer build: the packages are built with Debian's own flags).
dist_check_SCRIPTS += tests/integration/test_packages.sh
if !SANITIZERS
TESTS += tests/integration/test_packages.sh
endif

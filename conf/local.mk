# SPDX-License-Identifier: Apache-2.0
# The system configuration: installed as $(sysconfdir)/shuffled/shuffled.json unless
# one exists (an admin's edits survive reinstalls); uninstall removes it only if unedited.
# conf/shuffled.json in the tree is the developer's config (scripts/run); this one
# holds every key at its default for a system service.
shuffledconfdir = $(sysconfdir)/shuffled
EXTRA_DIST += conf/shuffled.system.json.in
CLEANFILES += conf/shuffled.system.json
# state_dir follows configure's localstatedir, as the unit's
noinst_DATA = conf/shuffled.system.json
conf/shuffled.system.json: $(srcdir)/conf/shuffled.system.json.in Makefile
	$(AM_V_GEN)$(MKDIR_P) conf && $(subst_paths) $(srcdir)/conf/shuffled.system.json.in > $@.tmp && \
	mv $@.tmp $@

install-data-hook: install-shuffled-config
install-shuffled-config: conf/shuffled.system.json
uninstall-hook: uninstall-shuffled-config
.PHONY: install-shuffled-config uninstall-shuffled-config

install-shuffled-config:
	$(MKDIR_P) '$(DESTDIR)$(shuffledconfdir)'
	@if test -f '$(DESTDIR)$(shuffledconfdir)/shuffled.json'; then \
		echo "keeping existing $(DESTDIR)$(shuffledconfdir)/shuffled.json"; \
	else \
		echo " $(INSTALL_DATA) conf/shuffled.system.json '$(DESTDIR)$(shuffledconfdir)/shuffled.json'"; \
		$(INSTALL_DATA) conf/shuffled.system.json '$(DESTDIR)$(shuffledconfdir)/shuffled.json'; \
	fi
	$(MKDIR_P) '$(DESTDIR)$(shuffledconfdir)/conf.d'

uninstall-shuffled-config:
	@f='$(DESTDIR)$(shuffledconfdir)/shuffled.json'; \
	if test -f "$$f" && cmp -s "$$f" conf/shuffled.system.json; then \
		echo " rm -f $$f"; rm -f "$$f"; rmdir '$(DESTDIR)$(shuffledconfdir)' 2>/dev/null || :; \
	elif test -f "$$f"; then echo "keeping edited $$f"; fi

# Drop-ins ($(sysconfdir)/shuffled/conf.d/*.json) with the real daemon.
dist_check_SCRIPTS += tests/integration/test_confd.sh
TESTS += tests/integration/test_confd.sh

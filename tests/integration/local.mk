# integration tests: added by the daemon issue.
include tests/integration/client.mk

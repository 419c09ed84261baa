# integration tests: added by the daemon issue.

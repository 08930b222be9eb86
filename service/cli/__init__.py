"""The `vaultrag` command line: every command, and the mapping of errors to one line and an exit code."""

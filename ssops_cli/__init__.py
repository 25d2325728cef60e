"""The `ssops` command-line client (console script `ssops = ssops_cli.main:main`)."""

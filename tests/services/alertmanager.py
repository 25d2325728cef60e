"""Session-wide pytest fixtures for a real alertmanager (filled in by the issue that needs it)."""

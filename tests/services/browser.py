"""Session-wide pytest fixtures for a real browser (filled in by the issue that needs it)."""

"""Session-wide pytest fixtures for a real prometheus (filled in by the issue that needs it)."""

"""Session-wide pytest fixtures for a real celery_worker (filled in by the issue that needs it)."""

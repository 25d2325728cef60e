"""gunicorn configuration for bench/dashboards.py: every worker's clock held at SSOPS_BENCH_NOW.

The cached data set was built at that moment; the pages read "now" through
django.utils.timezone.now, so holding it there shows them as they were when the data was new,
however long ago it was built. Set in each worker before it imports the application.
"""

import os
from datetime import datetime
from unittest import mock


def post_fork(server, worker):
    moment = datetime.fromisoformat(os.environ["SSOPS_BENCH_NOW"])
    mock.patch("django.utils.timezone.now", return_value=moment).start()

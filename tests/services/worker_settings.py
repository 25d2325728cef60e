"""Settings of the drill worker (tests/services/celery_worker.py): the test settings with the
tight broker options the fixture passes in SSOPS_TEST_BROKER_OPTIONS."""

import json
import os

from tests.settings import *  # noqa: F403

CELERY_BROKER_TRANSPORT_OPTIONS = json.loads(os.environ["SSOPS_TEST_BROKER_OPTIONS"])

"""A real Celery worker on Redis, for the drills that prove the Celery semantics (acks_late,
redelivery after SIGKILL, retries): `.venv/bin/celery -A ssops_site worker` in its own process
group, on the pytest test database (PostgreSQL pass only: SQLite cannot be shared this way).

- `celery_workers(env=…)`: start a worker with extra environment (stopped at session end);
  `celery_worker`: the session's plain worker. While `worker.on_redis()` is active (the
  `celery_worker` fixture does it) this process sends to the same Redis, so `.delay()`
  reaches the worker instead of running eagerly.
- Workers meant to share one queue (scale-out) take the same `prefix` (`new_prefix()`), each
  its own `name`; `concurrency` and `args` (`-Q`, `--prefetch-multiplier`, …) set the rest.
- Keys carry a per-session prefix (kombu's `global_keyprefix`), so neither another test run nor
  the demo on the same Redis can take this worker's messages, or the other way round.
- The broker options are tight for the restart drill: a 4-second visibility timeout and an
  unacked-restore sweep every second, so a message held by a killed worker comes back in
  seconds (kombu's defaults take about 100 s; see FIELD-NOTES).

Use with `@pytest.mark.postgres` and `@pytest.mark.django_db(transaction=True)`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.helpers import stop_group

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")
REDIS_URL = os.environ.get("SSOPS_TEST_WORKER_REDIS_URL", "redis://127.0.0.1:6379/11")
VISIBILITY_TIMEOUT = 4
START_TIMEOUT = 60


def broker_options(prefix: str) -> dict:
    return {
        "global_keyprefix": prefix,
        "visibility_timeout": VISIBILITY_TIMEOUT,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }


def new_prefix() -> str:
    """A broker key prefix of its own (pass one to several workers to share their queues)."""
    return f"ssops-test-{uuid.uuid4().hex[:8]}:"


def database_url() -> str:
    """The URL of the database the tests use now (the test database, after set-up)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("postgresql"):
        raise RuntimeError("a real worker shares the test database: PostgreSQL only")
    return (
        f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


class CeleryWorker:
    def __init__(
        self,
        workdir: Path,
        *,
        env: dict[str, str] | None = None,
        name: str | None = None,
        prefix: str | None = None,
        concurrency: int = 2,
        args: tuple[str, ...] = (),
    ):
        self.workdir = workdir
        self.prefix = prefix or new_prefix()
        self.options = broker_options(self.prefix)
        self.extra_env = env or {}
        self.name = name
        self.concurrency = concurrency
        self.args = tuple(args)
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.log_path = workdir / "worker.log"

    def environment(self) -> dict[str, str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_MULTIPROC")}
        environ.update(
            DJANGO_SETTINGS_MODULE="tests.services.worker_settings",
            DATABASE_URL=database_url(),
            CELERY_BROKER_URL=REDIS_URL,
            SSOPS_CELERY_EAGER="0",
            SSOPS_TEST_BROKER_OPTIONS=json.dumps(self.options),
            SSOPS_PROVISION_RETRY_DELAY="1",
            PYTHONUNBUFFERED="1",
        )
        environ.update(self.extra_env)
        return environ

    def start(self) -> CeleryWorker:
        self.starts += 1
        self.workdir.mkdir(parents=True, exist_ok=True)
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                str(CELERY),
                "-A",
                "ssops_site",
                "worker",
                "--pool=prefork",
                f"--concurrency={self.concurrency}",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname={self.name or f'drill{self.starts}'}-{os.getpid()}@%h",
                *self.args,
            ],
            cwd=ROOT,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() takes the pool children too
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Celery worker exited; see {self.log_path}")
            if " ready." in self.log_path.read_text(errors="replace")[offset:]:
                return self
            time.sleep(0.2)
        raise RuntimeError(
            f"the Celery worker was not ready in {START_TIMEOUT} s; see {self.log_path}"
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def pids(self) -> set[int]:
        """The worker's processes (its process group: the main process and the pool's)."""
        if not self.running:
            return set()
        found = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                # pid (comm) state ppid pgrp …; comm may hold spaces, so split after ")"
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == self.process.pid:
                    found.add(int(stat.parent.name))
        return found

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once (no warm or cold shutdown)."""
        if self.running:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.running:
            stop_group(self.process)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @contextlib.contextmanager
    def on_redis(self):
        """Make this process send tasks to the worker's Redis instead of running them."""
        from ssops_site.celery import app

        keys = ("task_always_eager", "broker_url", "broker_transport_options")
        before = {key: app.conf[key] for key in keys}
        app.conf.update(
            task_always_eager=False, broker_url=REDIS_URL, broker_transport_options=self.options
        )
        _drop_connections(app)
        try:
            yield
        finally:
            _drop_connections(app)
            app.conf.update(before)


def _drop_connections(app) -> None:
    """Forget pooled broker connections (kombu keeps them in global pools, keyed by
    connection), so the next send uses the current settings."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(scope="session")
def celery_workers(django_db_setup, django_db_blocker, tmp_path_factory):
    """Make workers (`celery_workers(env={...}, name=…, prefix=…, concurrency=…, args=…)`,
    started); all are stopped at the end."""
    made: list[CeleryWorker] = []

    def make(env: dict[str, str] | None = None, **options) -> CeleryWorker:
        worker = CeleryWorker(tmp_path_factory.mktemp("celery-worker"), env=env, **options)
        made.append(worker)
        return worker.start()

    yield make
    for worker in made:
        worker.stop()


@pytest.fixture(scope="session")
def celery_worker_session(celery_workers):
    return celery_workers()


@pytest.fixture
def celery_worker(celery_worker_session):
    """The session's plain worker (restarted if a test killed it), with this process sending
    to it."""
    worker = celery_worker_session
    if not worker.running:
        worker.start()
    with worker.on_redis():
        yield worker

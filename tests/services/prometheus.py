"""A real Prometheus for the tests (Debian `prometheus` 2.42), over history backfilled with
`promtool tsdb create-blocks-from openmetrics` from a synthetic workload.

One backfilled Prometheus serves the whole session. The blocks are cached under
var/test/prometheus-blocks/<hash of the generator>/, so only a changed workload is backfilled
again. promtool reads its whole input once per 2-hour block, so the input is split into one file
per day (each read only for its own twelve blocks) and the days are backfilled in parallel.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import shutil
import socket
import subprocess
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
BLOCK_CACHE = ROOT / "var" / "test" / "prometheus-blocks"

# One sample: (metric family, "counter" or "gauge", series text with labels, unix seconds, value).
Sample = tuple[str, str, str, float, float]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_binary(path: str) -> None:
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: install the Debian package (./run test does)")


def _write_openmetrics(path: Path, samples: list[Sample]) -> None:
    by_family: dict[tuple[str, str], list[str]] = defaultdict(list)
    for family, kind, series, ts, value in samples:
        by_family[(family, kind)].append(f"{series} {value!r} {ts:.3f}")
    with path.open("w") as out:
        for (family, kind), lines in by_family.items():
            out.write(f"# TYPE {family} {kind}\n")
            out.write("\n".join(lines))
            out.write("\n")
        out.write("# EOF\n")


def backfill(samples: Iterable[Sample], out_dir: Path, workers: int = 2) -> None:
    """Write TSDB blocks for the samples into out_dir (one promtool run per UTC day).

    Samples of one series must come oldest first.
    """
    by_day: dict[int, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_day[int(sample[3] // 86400)].append(sample)
    staging = out_dir.with_name(out_dir.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)

    def one_day(day: int) -> None:
        source = staging / f"{day}.om"
        _write_openmetrics(source, by_day[day])
        target = staging / f"{day}.blocks"
        subprocess.run(
            [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", "-q", str(source), str(target)],
            check=True,
            capture_output=True,
        )
        source.unlink()

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one_day, sorted(by_day)))
    out_dir.mkdir(parents=True, exist_ok=True)
    for day_dir in staging.glob("*.blocks"):
        for block in day_dir.iterdir():
            block.rename(out_dir / block.name)
    shutil.rmtree(staging)


def cached_blocks(
    name: str, generate: Callable[[], Iterator[Sample]], cache: Path = BLOCK_CACHE
) -> Path:
    """Blocks for `generate()`, backfilled once per version of the generator's module."""
    require_binary(PROMTOOL)
    module_source = inspect.getsource(inspect.getmodule(generate))
    key = hashlib.sha256(f"{name}\n{module_source}".encode()).hexdigest()[:16]
    blocks = cache / f"{name}-{key}"
    if not (blocks / ".complete").exists():
        for stale in cache.glob(f"{name}-*"):  # older versions of this workload
            shutil.rmtree(stale, ignore_errors=True)
        backfill(generate(), blocks, workers=os.cpu_count() or 2)
        (blocks / ".complete").touch()
    return blocks


class PrometheusServer:
    """Prometheus on a free 127.0.0.1 port, its data in `workdir`, over a copy of `blocks`."""

    def __init__(self, workdir: Path, blocks: Path | None = None):
        self.workdir = workdir
        self.blocks = blocks
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> PrometheusServer:
        require_binary(PROMETHEUS)
        data = self.workdir / "data"
        if not data.exists():
            data.mkdir(parents=True)
            for block in self.blocks.iterdir() if self.blocks else ():
                if block.is_dir():
                    shutil.copytree(block, data / block.name)
        config = self.workdir / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1m\n  evaluation_interval: 1m\n")
        self.log = (self.workdir / "prometheus.log").open("ab")
        self.process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                "--storage.tsdb.retention.time=3650d",
                # Keep the backfilled 2h blocks as they are: no compaction while tests run.
                "--storage.tsdb.min-block-duration=2h",
                "--storage.tsdb.max-block-duration=2h",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()
        return self

    def _wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Prometheus exited; see {self.workdir / 'prometheus.log'}")
            try:
                if requests.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"Prometheus not ready after {seconds}s on {self.url}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def query(self, promql: str, at: float) -> list[dict]:
        """An instant query straight through the HTTP API (the tests' oracle)."""
        response = requests.post(
            f"{self.url}/api/v1/query", data={"query": promql, "time": at}, timeout=30
        )
        body = response.json()
        assert body["status"] == "success", (promql, body)
        return body["data"]["result"]

    def value(self, promql: str, at: float) -> float | None:
        """The single value of a query, or None when the result is empty."""
        result = self.query(promql, at)
        assert len(result) <= 1, (promql, result)
        return float(result[0]["value"][1]) if result else None


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory):
    """The session's backfilled Prometheus (workload: tests/slo/workload.py)."""
    from tests.slo import workload

    blocks = cached_blocks("slo-workload", workload.generate)
    server = PrometheusServer(tmp_path_factory.mktemp("prometheus"), blocks).start()
    yield server
    server.stop()


@pytest.fixture
def prometheus_factory(tmp_path):
    """Start extra Prometheus servers (over the session's blocks, or empty) for one test."""
    from tests.slo import workload

    servers = []

    def start(with_workload: bool = True) -> PrometheusServer:
        blocks = cached_blocks("slo-workload", workload.generate) if with_workload else None
        server = PrometheusServer(tmp_path / f"prometheus-{len(servers)}", blocks).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()

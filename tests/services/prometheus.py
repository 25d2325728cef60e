"""A real Prometheus for the tests (Debian `prometheus` 2.42), over history backfilled with
`promtool tsdb create-blocks-from openmetrics` from synthetic workloads.

One backfilled Prometheus serves the whole session. The blocks are cached under
var/test/prometheus-blocks/<hash of the generator>/, so only a changed workload is backfilled
again. promtool reads its whole input once per 2-hour block, so the input is split into one file
per day (each read only for its own twelve blocks) and the days are backfilled in parallel.

Native histograms: Prometheus 2.42 stores and queries them behind --enable-feature=
native-histograms, but promtool 2.42 cannot backfill them (its OpenMetrics input has no native
histograms). They are written through the remote-write receiver instead (`write_native`), which
takes samples newer than the backfilled blocks.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import shutil
import socket
import struct
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
    """Prometheus on a free 127.0.0.1 port, its data in `workdir`, over a copy of `blocks` (one
    directory of blocks or several)."""

    def __init__(self, workdir: Path, blocks: Path | list[Path] | None = None):
        self.workdir = workdir
        self.blocks = [blocks] if isinstance(blocks, Path) else list(blocks or [])
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> PrometheusServer:
        require_binary(PROMETHEUS)
        data = self.workdir / "data"
        if not data.exists():
            data.mkdir(parents=True)
            for blocks in self.blocks:
                for block in blocks.iterdir():
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
                "--enable-feature=native-histograms",
                "--web.enable-remote-write-receiver",
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

    def write_native(self, series: dict[tuple, list[tuple[int, dict[int, int]]]]) -> None:
        """Write native histograms (schema 0) through the remote-write API: per label set (a
        tuple of name/value pairs), (unix seconds, {bucket index: count so far}) samples."""
        request = b"".join(
            _field(1, _time_series(labels, samples)) for labels, samples in series.items()
        )
        response = requests.post(
            f"{self.url}/api/v1/write",
            data=_snappy_literals(request),
            headers={
                "Content-Encoding": "snappy",
                "Content-Type": "application/x-protobuf",
                "X-Prometheus-Remote-Write-Version": "0.1.0",
            },
            timeout=60,
        )
        assert response.status_code == 204, response.text


# -- the remote-write protocol (prompb WriteRequest), written out by hand -----------------------


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        byte, number = number & 0x7F, number >> 7
        out.append(byte | (0x80 if number else 0))
        if not number:
            return bytes(out)


def _zigzag(number: int) -> int:
    return (number << 1) ^ (number >> 63)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _uint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _double(number: int, value: float) -> bytes:
    return _varint(number << 3 | 1) + struct.pack("<d", value)


def _histogram(ts: int, buckets: dict[int, int]) -> bytes:
    """prompb.Histogram, schema 0, integer counts, one span over consecutive bucket indexes."""
    indexes = sorted(buckets)
    counts = [buckets[i] for i in indexes]
    deltas = [counts[0], *(b - a for a, b in zip(counts, counts[1:], strict=False))]
    total = sum(counts)
    span = _uint(1, _zigzag(indexes[0]) & 0xFFFFFFFF) + _uint(2, len(indexes))
    return (
        _uint(1, total)  # count_int
        + _double(3, total * 0.3)  # sum (unused by the SLIs)
        + _uint(4, 0)  # schema
        + _double(5, 0.0)  # zero_threshold
        + _uint(6, 0)  # zero_count_int
        + _field(11, span)  # positive_spans
        + _field(12, b"".join(_varint(_zigzag(d) & 0xFFFFFFFFFFFFFFFF) for d in deltas))
        + _uint(15, ts * 1000)  # timestamp, milliseconds
    )


def _time_series(labels: tuple, samples: list[tuple[int, dict[int, int]]]) -> bytes:
    body = b"".join(_field(1, _field(1, k.encode()) + _field(2, v.encode())) for k, v in labels)
    return body + b"".join(_field(4, _histogram(ts, buckets)) for ts, buckets in samples)


def _snappy_literals(data: bytes) -> bytes:
    """Snappy block format made of literal chunks only: valid (uncompressed) snappy."""
    out = bytearray(_varint(len(data)))
    for start in range(0, len(data), 65536):
        chunk = data[start : start + 65536]
        length = len(chunk) - 1
        out += bytes([length << 2]) if length < 60 else bytes([61 << 2]) + struct.pack("<H", length)
        out += chunk
    return bytes(out)


def workload_blocks() -> list[Path]:
    """The backfilled blocks of the SLO workloads (tests/slo/workload*.py)."""
    from tests.slo import workload, workload_shapes

    return [
        cached_blocks("slo-workload", workload.generate),
        cached_blocks("slo-shapes", workload_shapes.generate),
    ]


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory):
    """The session's backfilled Prometheus (workloads: tests/slo/workload.py and
    workload_shapes.py, whose native histograms are written once it runs)."""
    from tests.slo import workload_shapes

    server = PrometheusServer(tmp_path_factory.mktemp("prometheus"), workload_blocks()).start()
    server.write_native(
        {
            (("__name__", "shop_request_seconds"), ("job", "shop"), ("route", route)): [
                (sample.ts, sample.buckets) for sample in samples
            ]
            for route, samples in workload_shapes.native_series().items()
        }
    )
    yield server
    server.stop()


@pytest.fixture
def prometheus_factory(tmp_path):
    """Start extra Prometheus servers (over the session's blocks, or empty) for one test."""
    servers = []

    def start(with_workload: bool = True) -> PrometheusServer:
        blocks = workload_blocks() if with_workload else None
        server = PrometheusServer(tmp_path / f"prometheus-{len(servers)}", blocks).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()

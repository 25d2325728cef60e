"""The history behind bench/slo_eval.py, kept apart from it so that editing the benchmark does
not backfill the cached TSDB blocks again (they are keyed by this module's source).

METRICS counters `app<k>_http_requests_total{service, code}`, each counted by SERVICES services
(codes 200 and 500, 50-500 requests a minute, 0.01-0.1 % errors); one service in nine has an
outage (20 % errors) over the last three hours, one a slow burn (2 %) over the last three days,
and one a counter reset two days before the end. Samples every 30 minutes until a day before
END, every 5 minutes until an hour before, then every minute.
"""

from __future__ import annotations

import hashlib
import inspect
import random
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

END = 1_767_225_600  # 2026-01-01T00:00:00Z
MINUTE, HOUR, DAY = 60, 3600, 86400
DAYS = 31
RESOLUTION = "30m until 1d before the end, 5m until 1h before, then 1m"


def grid() -> list[int]:
    return [
        *range(END - DAYS * DAY, END - DAY, 30 * MINUTE),
        *range(END - DAY, END - HOUR, 5 * MINUTE),
        *range(END - HOUR, END + 1, MINUTE),
    ]


def metric_name(index: int) -> str:
    return f"app{index:04d}_http_requests_total"


def service_name(metric: int, slot: int, services: int) -> str:
    return f"svc-{metric * services + slot:05d}"


def cached_blocks(metrics: int, services: int, cache: Path) -> Path:
    """TSDB blocks of the workload, backfilled once per version of this module and size.

    One promtool run over the whole history with blocks of up to 31 days, as Prometheus's own
    compaction would have left a month of data (a month of 2-hour blocks makes every long-window
    query open hundreds of blocks, which no long-running Prometheus does).
    """
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.services.prometheus import PROMTOOL, _write_openmetrics, require_binary

    require_binary(PROMTOOL)
    name = f"bench-slo-{metrics}x{services}"
    source = inspect.getsource(sys.modules[__name__])
    blocks = cache / f"{name}-{hashlib.sha256(source.encode()).hexdigest()[:16]}"
    if (blocks / ".complete").exists():
        return blocks
    for stale in cache.glob(f"{name}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    blocks.mkdir(parents=True)
    source_file = blocks / "history.om"
    _write_openmetrics(source_file, list(samples(metrics, services)()))
    subprocess.run(
        [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", "-q"]
        + ["--max-block-duration=744h", str(source_file), str(blocks)],
        check=True,
        capture_output=True,
    )
    source_file.unlink()
    (blocks / ".complete").touch()
    return blocks


def samples(metrics: int, services: int) -> Callable[[], Iterator[tuple]]:
    """The generator of samples (family, kind, series, ts, value), each series oldest first."""

    def generate() -> Iterator[tuple]:
        times = grid()
        for metric in range(metrics):
            name = metric_name(metric)
            for slot in range(services):
                yield from _series(name, service_name(metric, slot, services), times)

    return generate


def _series(name: str, service: str, times: list[int]) -> Iterator[tuple]:
    rng = random.Random(service)
    per_minute = rng.uniform(50, 500)
    steady = rng.choice([0.0001, 0.0003, 0.001])
    trouble = rng.choice(["none"] * 6 + ["outage", "slow-burn", "reset"])
    good = bad = 0.0
    previous = times[0]
    for ts in times:
        minutes = (ts - previous) / 60
        share = steady
        if trouble == "outage" and ts > END - 3 * HOUR:
            share = 0.2
        elif trouble == "slow-burn" and ts > END - 3 * DAY:
            share = 0.02
        if trouble == "reset" and previous < END - 2 * DAY <= ts:
            good = bad = 0.0  # the process restarted
        total = per_minute * minutes * rng.uniform(0.8, 1.2)
        errors = total * share * rng.uniform(0.5, 1.5)
        good, bad = good + total - errors, bad + errors
        previous = ts
        for code, value in (("200", good), ("500", bad)):
            series = f'{name}{{service="{service}",code="{code}"}}'
            yield name.removesuffix("_total"), "counter", series, float(ts), round(value, 3)

"""A deterministic traffic model for the demo services (no Django imports).

Counters are integrals of a request rate with a daily rhythm and an error ratio that rises
during incidents. The history written for `promtool tsdb create-blocks-from openmetrics` and the
live exporter use the same integration, so the live counters continue the history without a
reset.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

DAY = 86_400.0
STEP = 15.0  # integration step (seconds): the exporter's and the history's resolution


@dataclass(frozen=True)
class Incident:
    start: float
    end: float
    error_ratio: float
    latency_p99: float | None = None

    def covers(self, t: float) -> bool:
        return self.start <= t < self.end


@dataclass
class Service:
    name: str
    rps: float
    error_ratio: float
    latency_p99: float
    phase: float = 0.0
    incidents: list[Incident] = field(default_factory=list)

    def rate(self, t: float) -> float:
        """Requests per second at t: a daily rhythm between 40% and 160% of the mean."""
        return self.rps * (1.0 + 0.6 * math.sin(2 * math.pi * (t / DAY + self.phase)))

    def errors(self, t: float) -> float:
        for incident in self.incidents:
            if incident.covers(t):
                return incident.error_ratio
        return self.error_ratio

    def p99(self, t: float) -> float:
        for incident in self.incidents:
            if incident.covers(t) and incident.latency_p99 is not None:
                return incident.latency_p99
        wobble = 0.1 * math.sin(2 * math.pi * (t / 3600.0 + self.phase))
        return self.latency_p99 * (1.0 + wobble)


def demo_services(start: float, now: float, outage_after: float = 60.0) -> list[Service]:
    """The demo's services: past incidents in the history, and a live checkout outage that
    starts `outage_after` seconds after `now` (the demo's start) and lasts twenty minutes; at
    half the requests failing, the page alert's 1h window crosses 14.4 within two minutes."""
    return [
        Service(
            "checkout",
            rps=40.0,
            error_ratio=0.0004,
            latency_p99=0.18,
            phase=0.1,
            incidents=[
                Incident(now - 9 * DAY, now - 9 * DAY + 5400, 0.03, 0.45),  # a bad deploy
                Incident(now + outage_after, now + outage_after + 1200, 0.5, 0.9),  # pages
            ],
        ),
        Service(
            "search",
            rps=25.0,
            error_ratio=0.002,
            latency_p99=0.25,
            phase=0.35,
            incidents=[Incident(now - 3 * DAY, now - 2 * DAY, 0.012)],  # a slow burn
        ),
    ]


@dataclass
class Counters:
    """Cumulative request and error counts per service, advanced in STEP increments."""

    services: list[Service]
    t: float
    total: dict[str, float] = field(default_factory=dict)
    bad: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for service in self.services:
            self.total.setdefault(service.name, 0.0)
            self.bad.setdefault(service.name, 0.0)

    def advance_to(self, until: float) -> None:
        while self.t + STEP <= until:
            middle = self.t + STEP / 2
            for service in self.services:
                count = service.rate(middle) * STEP
                self.total[service.name] += count
                self.bad[service.name] += count * service.errors(middle)
            self.t += STEP


def samples(services: list[Service], start: float, end: float) -> Iterator[tuple[float, Counters]]:
    """Counter states at sample times from start to end: every 5 minutes, then every minute
    for the last two days (coarse far back keeps the backfill quick)."""
    counters = Counters(services, start)
    t = start
    while t <= end:
        counters.advance_to(t)
        yield t, counters
        t += 60.0 if end - t <= 2 * DAY else 300.0


REQUESTS_HELP = "Requests served by a demo service."
LATENCY_HELP = "99th percentile latency of a demo service."


def _values(
    services: list[Service], counters: Counters, t: float
) -> Iterator[tuple[str, str, float]]:
    """(family, labels, value) for every series at t."""
    for service in services:
        bad = counters.bad[service.name]
        yield "requests", f'service="{service.name}",code="200"', counters.total[service.name] - bad
        yield "requests", f'service="{service.name}",code="500"', bad
        yield "latency", f'service="{service.name}"', service.p99(t)


def openmetrics(services: list[Service], start: float, end: float, labels: str = "") -> str:
    """The history as OpenMetrics text for promtool (families grouped, samples in time order).

    `labels` (e.g. 'job="demo-services",instance="127.0.0.1:9101"') are the ones Prometheus adds
    when it scrapes the live exporter, so history and live samples form the same series."""
    extra = f",{labels}" if labels else ""
    series: dict[tuple[str, str], list[str]] = {}
    for t, counters in samples(services, start, end):
        for family, names, value in _values(services, counters, t):
            series.setdefault((family, names), []).append(f"{value:.4f} {t:.0f}")
    lines = [f"# HELP http_requests {REQUESTS_HELP}", "# TYPE http_requests counter"]
    lines += [
        f"http_requests_total{{{names}{extra}}} {value}"
        for (family, names), values in series.items()
        if family == "requests"
        for value in values
    ]
    lines += [
        f"# HELP http_request_latency_p99_seconds {LATENCY_HELP}",
        "# TYPE http_request_latency_p99_seconds gauge",
    ]
    lines += [
        f"http_request_latency_p99_seconds{{{names}{extra}}} {value}"
        for (family, names), values in series.items()
        if family == "latency"
        for value in values
    ]
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def exposition(services: list[Service], counters: Counters, t: float) -> str:
    """The live /metrics text (Prometheus text format) at time t."""
    counters.advance_to(t)
    values = list(_values(services, counters, t))
    lines = [f"# HELP http_requests_total {REQUESTS_HELP}", "# TYPE http_requests_total counter"]
    lines += [f"http_requests_total{{{n}}} {v:.4f}" for f, n, v in values if f == "requests"]
    lines += [
        f"# HELP http_request_latency_p99_seconds {LATENCY_HELP}",
        "# TYPE http_request_latency_p99_seconds gauge",
    ]
    lines += [
        f"http_request_latency_p99_seconds{{{n}}} {v:.4f}" for f, n, v in values if f == "latency"
    ]
    return "\n".join(lines) + "\n"

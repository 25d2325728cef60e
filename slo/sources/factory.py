"""`sources_for_run()` gives the engine one source object per data source for one run."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings

from slo.definitions import SourceKey
from slo.sources.base import Source, SourceUnavailable
from slo.sources.platform import PlatformRecordsSource
from slo.sources.prometheus import PrometheusSource


def sources_for_run() -> Callable[[SourceKey], Source]:
    """A lookup that builds each source once per run (so a Prometheus found down stays down)."""
    built: dict[SourceKey, Source] = {}

    def source_for(key: SourceKey) -> Source:
        if key not in built:
            if key.kind == "platform":
                built[key] = PlatformRecordsSource()
            else:
                url = key.url or settings.PROMETHEUS_URL
                if not url:
                    raise SourceUnavailable(
                        "PROMETHEUS_URL is not set: point it at the Prometheus that scrapes "
                        "your services"
                    )
                built[key] = PrometheusSource(url, timeout=settings.PROMETHEUS_TIMEOUT)
        return built[key]

    return source_for

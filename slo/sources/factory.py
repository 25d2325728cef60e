"""`sources_for_run()` gives the engine one source object per data source for one run.

Prometheus is built in. Other kinds of source register a factory under their kind's name
(`register_source_kind`): the metrics app registers "platform", SSOps's own records, which the
SLOs of SSOps itself read."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings

from slo.definitions import SourceKey
from slo.sources.base import Source, SourceUnavailable
from slo.sources.prometheus import PrometheusSource

SOURCE_KINDS: dict[str, Callable[[SourceKey], Source]] = {}


def register_source_kind(kind: str, factory: Callable[[SourceKey], Source]) -> None:
    SOURCE_KINDS[kind] = factory


def _prometheus(key: SourceKey) -> Source:
    url = key.url or settings.PROMETHEUS_URL
    if not url:
        raise SourceUnavailable(
            "PROMETHEUS_URL is not set: point it at the Prometheus that scrapes your services"
        )
    return PrometheusSource(url, timeout=settings.PROMETHEUS_TIMEOUT)


def sources_for_run() -> Callable[[SourceKey], Source]:
    """A lookup that builds each source once per run (so a Prometheus found down stays down)."""
    built: dict[SourceKey, Source] = {}

    def source_for(key: SourceKey) -> Source:
        if key not in built:
            factory = SOURCE_KINDS.get(key.kind)
            if factory is None and key.kind not in ("", "prometheus"):
                raise SourceUnavailable(f"no source of kind {key.kind!r} is installed")
            built[key] = (factory or _prometheus)(key)
        return built[key]

    return source_for

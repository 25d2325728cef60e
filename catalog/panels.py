"""Panels that apps above the catalog add to a request's page: provisioning shows the run and
its steps (inside the live part, refreshed while anything moves), metrics offers the requester
a rating. Each app registers a function in its AppConfig.ready; the function gets the HTTP
request and the catalog request, and gives a Panel or None (nothing to show)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.safestring import SafeString


@dataclass(frozen=True)
class Panel:
    html: SafeString
    live: bool = False  # something is still moving: the page keeps refreshing


PanelFunction = Callable[..., "Panel | None"]
LIVE: list[PanelFunction] = []
STATIC: list[PanelFunction] = []


def register(function: PanelFunction, *, live: bool = False) -> None:
    (LIVE if live else STATIC).append(function)


def panels(http_request, item, *, live: bool) -> list[Panel]:
    shown = (function(http_request, item) for function in (LIVE if live else STATIC))
    return [panel for panel in shown if panel is not None]

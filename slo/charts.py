"""Plotly figures (as plain dicts, drawn by the Plotly JS that SSOps serves) for SLO pages."""

from __future__ import annotations

from datetime import datetime

from slo.models import SLO

LAYOUT = {
    "height": 280,
    "margin": {"l": 60, "r": 20, "t": 36, "b": 40},
    "hovermode": "x unified",
    "showlegend": True,
    "legend": {"orientation": "h", "y": -0.2},
}


def _figure(title: str, traces: list[dict], yaxis: dict) -> dict:
    return {"data": traces, "layout": {**LAYOUT, "title": {"text": title}, "yaxis": yaxis}}


def _line(name: str, x: list, y: list, **style) -> dict:
    # Plotly leaves a gap at None: missing data is never drawn as good.
    return {"type": "scatter", "mode": "lines", "name": name, "x": x, "y": y, **style}


def slo_charts(slo: SLO, history: list[tuple[datetime, float | None, float | None, str]]) -> dict:
    times = [at.isoformat() for at, *_ in history]
    sli = [value for _, value, _, _ in history]
    budget = [value for _, _, value, _ in history]
    target = [slo.objective] * len(times)
    window = slo.window_label()
    return {
        "sli": _figure(
            f"SLI over the {window} window",
            [
                _line("SLI", times, sli, connectgaps=False),
                _line("objective", times, target, line={"dash": "dash", "color": "#cf222e"}),
            ],
            {"tickformat": ".3%", "title": {"text": "good share"}},
        ),
        "budget": _figure(
            "Error budget remaining",
            [_line("budget remaining", times, budget, fill="tozeroy", connectgaps=False)],
            {"tickformat": ".0%", "zeroline": True, "title": {"text": "of the window's budget"}},
        ),
    }

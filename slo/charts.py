"""Plotly figures (as plain dicts, drawn by the Plotly JS that SSOps serves) for SLO pages."""

from __future__ import annotations

from datetime import UTC, datetime

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


def slo_charts(
    slo: SLO,
    history: list[tuple[datetime, float | None, float | None, str]],
    maintenance: list[tuple[datetime, datetime]] = (),
) -> dict:
    """The SLI and budget charts over the window; maintenance windows shaded grey."""
    times = [at.isoformat() for at, *_ in history]
    sli = [value for _, value, _, _ in history]
    budget = [value for _, _, value, _ in history]
    target = [slo.objective] * len(times)
    window = slo.window_label()
    charts = {
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
    if times and maintenance:
        first, last = history[0][0], history[-1][0]
        shown = [(a, b) for a, b in maintenance if a < last and b > first]
        for figure in charts.values():
            figure["layout"]["shapes"] = maintenance_shapes(shown)
    return charts


def backtest_chart(report) -> dict:
    """The budget left over a backtest, each alert that would have fired shaded (page red,
    ticket amber) and each maintenance window grey."""
    backtest = report.backtest
    times = [_iso(moment) for moment, _ in backtest.budget_left]
    values = [value for _, value in backtest.budget_left]
    shapes = [
        _band(_iso(e.start), _iso(e.end), "#cf222e" if e.severity == "page" else "#bf8700")
        for e in backtest.alerts
    ]
    shapes += [_band(_iso(a), _iso(b), "#8c959f") for a, b in backtest.maintenance]
    figure = _figure(
        f"Budget left over the last {round((backtest.end - backtest.start) / 86400)} days",
        [_line("budget left", times, values, fill="tozeroy", connectgaps=False)],
        {"tickformat": ".0%", "zeroline": True, "title": {"text": "of the window's budget"}},
    )
    figure["layout"]["shapes"] = shapes
    return figure


def maintenance_shapes(windows) -> list[dict]:
    """Grey bands for maintenance windows ((start, end) datetimes) on a time chart."""
    return [_band(start.isoformat(), end.isoformat(), "#8c959f") for start, end in windows]


def _band(start: str, end: str, colour: str) -> dict:
    return {
        "type": "rect",
        "xref": "x",
        "yref": "paper",
        "x0": start,
        "x1": end,
        "y0": 0,
        "y1": 1,
        "fillcolor": colour,
        "opacity": 0.18,
        "line": {"width": 0},
    }


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat()

"""Plotly figures of the dashboards, built in Python as plain dicts and drawn in the browser by
the Plotly JS that SSOps serves (static/dashboards/dashboards.js draws every one of them).

Each chart carries a text summary for screen readers and a name for its PNG file. Colours follow
the page's badges, and a series is always named too: colour is never the only signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

OK, WARN, BAD, ACCENT, MUTED = "#1a7f37", "#bf8700", "#cf222e", "#0b5cad", "#6e7781"
SERIES_COLOURS = {
    "made ready": OK,
    "denied": BAD,
    "allowed": OK,
    "errors": "#8250df",
}
LAYER_COLOURS = {
    "web": ACCENT,
    "policy": WARN,
    "Celery": OK,
    "backend": "#8250df",
    "database": MUTED,
    "other": "#afb8c1",
}
LAYOUT = {
    "height": 300,
    "margin": {"l": 56, "r": 24, "t": 40, "b": 48},
    "hovermode": "x unified",
    "legend": {"orientation": "h", "y": -0.22},
    "font": {"family": "system-ui, sans-serif", "size": 12},
}


@dataclass(frozen=True)
class Chart:
    name: str  # the element id and the PNG file name
    title: str
    figure: dict
    summary: str  # what the chart shows, in words (aria-label)
    height: int = 300

    @property
    def element_id(self) -> str:
        return f"chart-{self.name}"

    @property
    def data_id(self) -> str:
        return f"chart-{self.name}-data"


def figure(title: str, traces: list[dict], **layout) -> dict:
    return {"data": traces, "layout": {**LAYOUT, "title": {"text": title}, **layout}}


def _days(days: list[date]) -> list[str]:
    return [day.isoformat() for day in days]


def total(values) -> int:
    """The sum of the values present (None is a day without figures)."""
    return sum(v for v in values if v is not None)


def _summary_of_series(series: dict[str, list]) -> str:
    return "; ".join(f"{name}: {total(values):,} in all" for name, values in series.items())


def stacked_days(name: str, title: str, days: list[date], series: dict[str, list]) -> Chart:
    traces = [
        {
            "type": "bar",
            "name": group,
            "x": _days(days),
            "y": values,
            "marker": {"color": SERIES_COLOURS.get(group, MUTED)},
        }
        for group, values in series.items()
    ]
    fig = figure(title, traces, barmode="stack", yaxis={"title": {"text": "per day"}})
    return Chart(name, title, fig, f"{title}. {_summary_of_series(series) or 'nothing yet'}.")


def deny_chart(days: list[date], series: dict[str, list]) -> Chart:
    """Requests the policies decided on per day, stacked by outcome, with the deny rate (M5)
    on a second axis."""
    title = "Requests decided by policy per day and deny rate"
    chart = stacked_days("policy-denies", title, days, series)
    totals = [total(values[i] for values in series.values()) for i in range(len(days))]
    denied = series.get("denied", [None] * len(days))
    rate = [(denied[i] or 0) / totals[i] if totals[i] else None for i in range(len(days))]
    chart.figure["data"].append(
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "deny rate",
            "x": _days(days),
            "y": rate,
            "yaxis": "y2",
            "line": {"color": "#1b1f24", "dash": "dot"},
            "connectgaps": False,
        }
    )
    share_axis(chart.figure, "deny rate", ".0%")
    return chart


def share_axis(figure: dict, title: str, tickformat: str) -> None:
    """A right-hand axis for the figure's traces drawn on "y2" (a share, next to counts)."""
    figure["layout"]["yaxis2"] = {
        "overlaying": "y",
        "side": "right",
        "tickformat": tickformat,
        "rangemode": "tozero",
        "title": {"text": title},
    }
    figure["layout"]["margin"] = {**LAYOUT["margin"], "r": 72}


def sparkline(name: str, title: str, days: list[date], series: dict, target=None) -> Chart:
    """A small line per series over the days (gaps where nothing was stored), with the target."""
    x = _days(days)
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",  # a lone day still shows as a dot
            "name": label,
            "x": x,
            "y": values,
            "connectgaps": False,
            "line": {"width": 2},
            "marker": {"size": 3},
        }
        for label, values in series.items()
    ]
    if target is not None and not target.dimension and hasattr(target, "threshold"):
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"target {target.text}",
                "x": x,
                "y": [target.threshold] * len(x),
                "line": {"dash": "dash", "color": BAD, "width": 1},
            }
        )
    fig = {
        "data": traces,
        "layout": {
            "height": 70,
            "margin": {"l": 4, "r": 4, "t": 4, "b": 4},
            "showlegend": False,
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "hovermode": "x unified",
        },
    }
    points = sum(1 for values in series.values() for v in values if v is not None)
    summary = f"{title}: trend over {len(days)} days, {points} daily values stored"
    return Chart(name, title, fig, summary, height=70)


def bars(name: str, title: str, labels: list[str], values: list, colours: list[str], **layout):
    fig = figure(
        title,
        [
            {
                "type": "bar",
                "orientation": "h",
                "y": labels,
                "x": values,
                "marker": {"color": colours},
                "name": title,
                "hovertemplate": "%{y}: %{x}<extra></extra>",
            }
        ],
        showlegend=False,
        hovermode="closest",
        **layout,
    )
    summary = f"{title}: " + ", ".join(
        f"{lab} {val}" for lab, val in zip(labels, values, strict=True)
    )
    return Chart(name, title, fig, summary[:1000])


def cost_chart(teams: list[str], series: dict[str, list], currency: str) -> Chart:
    title = "Cost this month against budget, per team"
    colours = {"budget": MUTED, "reserved by requests": ACCENT, "billed (FOCUS)": WARN}
    traces = [
        {
            "type": "bar",
            "name": label,
            "x": teams,
            "y": values,
            "marker": {"color": colours.get(label, ACCENT)},
        }
        for label, values in series.items()
    ]
    fig = figure(title, traces, barmode="group", yaxis={"title": {"text": currency or "amount"}})
    parts = [
        f"{team}: " + ", ".join(f"{label} {values[i]}" for label, values in series.items())
        for i, team in enumerate(teams)
    ]
    return Chart("cost-burn", title, fig, f"{title}. " + "; ".join(parts))


def time_lines(name: str, title: str, times: list[datetime], series: dict, **layout) -> Chart:
    x = [t.isoformat() for t in times]
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": label,
            "x": x,
            "y": values,
            "connectgaps": False,
            **({"line": style} if style else {}),
        }
        for label, (values, style) in series.items()
    ]
    latest = ", ".join(
        f"{label} {next((v for v in reversed(values) if v is not None), 'none')}"
        for label, (values, _) in series.items()
    )
    return Chart(name, title, figure(title, traces, **layout), f"{title}; latest: {latest}")


def waterfall(spans) -> Chart:
    """The spans as a waterfall: one bar per span from its start to its end, indented by depth
    under its parent, coloured (and named in the legend) by layer."""
    title = "Trace waterfall"
    labels = [f"{'· ' * s.depth}{s.name} #{i + 1}" for i, s in enumerate(spans)]
    traces = []
    for layer in LAYER_COLOURS:
        members = [i for i, s in enumerate(spans) if s.layer == layer]
        if not members:
            continue
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": layer,
                "y": [labels[i] for i in members],
                "base": [spans[i].offset_ms for i in members],
                "x": [max(spans[i].duration_ms, 0.01) for i in members],
                "marker": {"color": LAYER_COLOURS[layer]},
                "customdata": [
                    [spans[i].status, f"{spans[i].duration_ms:.1f}", spans[i].source]
                    for i in members
                ],
                "hovertemplate": "%{y}<br>starts at %{base:.1f} ms, lasts %{customdata[1]} ms"
                "<br>status %{customdata[0]}, from %{customdata[2]}"
                "<extra>%{fullData.name}</extra>",
            }
        )
    height = max(240, 60 + 22 * len(spans))
    fig = figure(
        title,
        traces,
        barmode="overlay",
        height=height,
        hovermode="closest",
        margin={"l": 280, "r": 24, "t": 64, "b": 48},
        # Above the bars, right: below them it would sit on the axis title of a short chart.
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1, "yanchor": "bottom"},
        xaxis={"title": {"text": "ms from the first span"}, "rangemode": "tozero"},
        yaxis={
            "autorange": "reversed",
            "categoryorder": "array",
            "categoryarray": labels,
            "automargin": True,
        },
    )
    total = max((s.offset_ms + s.duration_ms for s in spans), default=0)
    summary = f"{title}: {len(spans)} spans over {total:.0f} ms"
    return Chart("trace-waterfall", title, fig, summary, height=height)


def timeline(name: str, title: str, phases: list[tuple[str, datetime, datetime, str]]) -> Chart:
    """Phases (label, start, end, colour) as bars on a time axis, in order, top to bottom."""
    labels = [f"{label} #{i + 1}" for i, (label, *_rest) in enumerate(phases)]
    trace = {
        "type": "bar",
        "orientation": "h",
        "y": labels,
        "base": [start.isoformat() for _, start, _, _ in phases],
        "x": [max((end - start).total_seconds() * 1000, 1) for _, start, end, _ in phases],
        "marker": {"color": [colour for *_rest, colour in phases]},
        "hovertemplate": "%{y}: %{base} for %{x:,.0f} ms<extra></extra>",
        "name": title,
    }
    height = max(200, 80 + 28 * len(phases))
    fig = figure(
        title,
        [trace],
        height=height,
        showlegend=False,
        hovermode="closest",
        margin={"l": 180, "r": 24, "t": 40, "b": 48},
        xaxis={"type": "date"},
        yaxis={"autorange": "reversed", "automargin": True},
    )
    summary = f"{title}: " + ", ".join(
        f"{label} from {start:%H:%M:%S} for {(end - start).total_seconds():.1f} s"
        for label, start, end, _ in phases
    )
    return Chart(name, title, fig, summary[:1000], height=height)

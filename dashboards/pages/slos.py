"""An SLO's dashboard page, linked from the executive and on-call dashboards: SLI and budget
left over the window, burn rates per window (now and over time, against the alert thresholds)
and the alert history."""

from __future__ import annotations

from dashboards import charts
from dashboards.formatting import burn, percent
from dashboards.pages.base import Page
from dashboards.selectors.slos import slo_window_history
from dashboards.tables import Table, cell, when
from slo import maths
from slo.charts import maintenance_shapes, slo_charts
from slo.models import SLO
from slo.selectors import slo_alert_events, slo_maintenance
from slo.views import burn_rows, status_message

CHARTED_WINDOWS = ("5m", "1h", "6h", "1d", "3d")


def slo_page(*, slo: SLO) -> Page:
    page = Page(slo.display_name or slo.name, f"slo-{slo.name}")
    history = slo_window_history(slo=slo)
    latest = slo.snapshots.order_by("-at").first()
    page.context.update(slo=slo, latest=latest, message=status_message(slo))
    if history:
        windows = slo_maintenance(slo=slo, since=history[0][0], until=history[-1][0])
        figures = slo_charts(slo, [row[:4] for row in history], maintenance=windows)
        window = slo.window_label()
        page.add_chart(
            charts.Chart(
                "sli",
                figures["sli"]["layout"]["title"]["text"],
                figures["sli"],
                f"SLI over the {window} window against the objective {percent(slo.objective)}",
            )
        )
        page.add_chart(
            charts.Chart(
                "budget",
                "Error budget remaining",
                figures["budget"],
                f"Error budget remaining over the {window} window; "
                f"now {percent(history[-1][2], 1)}",
            )
        )
        series = {
            window_name: ([row[4].get(window_name) for row in history], None)
            for window_name in CHARTED_WINDOWS
        }
        chart = page.add_chart(
            charts.time_lines(
                "burn-history",
                "Burn rates over the window",
                [row[0] for row in history],
                series,
                yaxis={"title": {"text": "burn rate (×)"}, "rangemode": "tozero"},
            )
        )
        for threshold in {
            a.burn_rate_threshold for a in maths.alert_thresholds(slo.window().period_seconds)
        }:
            chart.figure["layout"].setdefault("shapes", maintenance_shapes(windows)).append(
                {
                    "type": "line",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "y0": threshold,
                    "y1": threshold,
                    "line": {"dash": "dash", "color": charts.BAD, "width": 1},
                }
            )
    _burn_table(page, slo, latest)
    _alert_table(page, slo)
    history_table = page.add_table(
        Table(
            "history",
            "Snapshots over the window (hourly beyond two days)",
            ["at", "SLI", "budget left", "data status", *(f"burn {w}" for w in maths.BURN_WINDOWS)],
            empty="No history yet: the beat job stores an evaluation each minute.",
            shown=False,
        )
    )
    history_table.rows = [
        [
            when(at),
            cell(sli, percent(sli)),
            cell(budget, percent(budget, 1)),
            cell(status),
            *(cell(rates.get(w), burn(rates.get(w))) for w in maths.BURN_WINDOWS),
        ]
        for at, sli, budget, status, rates in history
    ]
    return page


def _burn_table(page: Page, slo: SLO, latest) -> None:
    table = page.add_table(
        Table(
            "burn-rates",
            f"Burn rate per window now, against each alert's threshold (scaled to the "
            f"{slo.window_label()} window); a pair fires when both its windows are above",
            ["window", "burn rate", "thresholds"],
        )
    )
    for row in burn_rows(slo, latest.burn_rates if latest else {}):
        above = [name for name, _, is_above in row.checks if is_above]
        checks = ", ".join(f"{name} > {threshold:.4g}" for name, threshold, _ in row.checks)
        table.rows.append(
            [
                cell(row.window),
                cell(row.rate, burn(row.rate), badge="bad" if above else ""),
                cell(
                    checks or None,
                    (checks + (" (above: " + ", ".join(above) + ")" if above else "")) or "—",
                ),
            ]
        )


def _alert_table(page: Page, slo: SLO) -> None:
    table = page.add_table(
        Table(
            "alert-history",
            "Alert history, newest first",
            ["at", "severity", "what", "windows", "why"],
            empty="No alert has fired for this SLO.",
        )
    )
    for event in slo_alert_events(slo=slo):
        table.rows.append(
            [
                when(event.at),
                cell(event.severity, badge="bad" if event.severity == "page" else "warn"),
                cell(event.kind, badge="ok" if event.kind == "resolved" else "bad"),
                cell(", ".join(event.windows)),
                cell(event.reason or None),
            ]
        )

"""The executive dashboard: are reliability, cost and self-service adoption on track?"""

from __future__ import annotations

from django.urls import reverse

from dashboards import charts
from dashboards.formatting import burn, duration, metric_text, money, optional_url, percent
from dashboards.pages import guardrails
from dashboards.pages.base import Page, request_cell
from dashboards.selectors import common, executive
from dashboards.selectors.slos import source_problems
from dashboards.tables import Table, cell, when

WORST_SHOWN = 25


def executive_page(*, user, span: common.TimeRange) -> Page:
    scope = common.scope_of(user)
    page = Page("Executive dashboard", f"executive-{span.days}d")
    days = span.day_list()
    page.context.update(scope=scope, span=span, ranges=common.RANGES)
    _slo_health(page, executive.slo_health(user=user))
    page.context["source_problems"] = source_problems(user=user)
    found = executive.metric_days(scope=scope, span=span)
    _metrics(page, found.tiles, days)
    volume = executive.provisioning_volume(found)
    page.add_chart(
        charts.stacked_days("provisioning-volume", "Requests made ready per day", days, volume)
    )
    page.add_table(
        _per_day_table(
            "provisioning-volume", "Requests made ready per day (M2's count)", days, volume
        )
    )
    page.context["provisioned"] = charts.total(volume["made ready"])
    denies = executive.deny_trend(found)
    page.add_chart(charts.deny_chart(days, denies))
    page.add_table(
        _per_day_table(
            "policy-denies",
            "Catalog requests the policies decided on per day, by outcome (M5's counts)",
            days,
            denies,
        )
    )
    _freezes(page, days, executive.freeze_holds(scope=scope, span=span))
    _cost(page, *executive.cost_burn(scope=scope))
    _approvals(page, executive.outstanding_approvals(scope=scope))
    guardrails.executive_count(page, user=user)
    _incidents(page, executive.incident_weeks(scope=scope, span=span))
    return page


def _incidents(page: Page, weeks) -> None:
    resolved = [w for w in weeks if w.mttr is not None]
    page.context["mttr_latest"] = duration(resolved[-1].mttr) if resolved else None
    acked = [w for w in weeks if w.mtta is not None]
    page.context["mtta_latest"] = duration(acked[-1].mtta) if acked else None
    table = page.add_table(
        Table(
            "incidents",
            "Incidents per ISO week: MTTA (opened → acknowledged, over those acknowledged that "
            "week) and MTTR (impact began → resolved, over those resolved that week)",
            ["week", "opened", "acknowledged", "resolved", "MTTA", "MTTR"],
            empty="No incident in these weeks.",
        )
    )
    for week in weeks:
        if not (week.opened or week.acknowledged or week.resolved):
            continue
        table.rows.append(
            [
                cell(week.start.date().isoformat(), f"{week.start:%G-W%V}"),
                cell(week.opened),
                cell(week.acknowledged),
                cell(week.resolved),
                cell(week.mtta, duration(week.mtta)),
                cell(week.mttr, duration(week.mttr)),
            ]
        )


def _slo_health(page: Page, health: executive.SloHealth) -> None:
    page.context["health"] = health
    page.context["states"] = [(s, health.counts[s.key]) for s in executive.STATES]
    page.add_chart(
        charts.bars(
            "slo-states",
            "SLOs by state",
            [s.label for s in executive.STATES],
            [health.counts[s.key] for s in executive.STATES],
            [s.colour for s in executive.STATES],
            yaxis={"autorange": "reversed", "automargin": True},
            height=260,
        )
    )
    worst = [(slo, state) for slo, state in health.slos if slo.latest_budget is not None][
        :WORST_SHOWN
    ]
    page.add_chart(
        charts.bars(
            "slo-budgets",
            f"Error budget left, the {len(worst)} lowest",
            [slo.name for slo, _ in worst],
            [round(slo.latest_budget, 4) for slo, _ in worst],
            [state.colour for _, state in worst],
            yaxis={"autorange": "reversed", "automargin": True},
            xaxis={"tickformat": ".0%", "title": {"text": "of the window's budget"}},
            height=max(260, 60 + 20 * len(worst)),
        )
    )
    table = page.add_table(
        Table(
            "slo-health",
            "Every SLO, worst first: the budget left in its window and its state",
            [
                "SLO",
                "team",
                "objective",
                "window",
                "SLI",
                "budget left",
                "burn 1h",
                "time to exhaustion",
                "alert",
                "state",
            ],
            empty="No SLOs yet. Import OpenSLO or Sloth files with python manage.py slo_import "
            "FILE --team TEAM, or create them through POST /api/slos/.",
        )
    )
    for slo, state in health.slos:
        rates = slo.latest_burn_rates or {}
        table.rows.append(
            [
                cell(slo.name, href=reverse("dashboards:slo", args=[slo.name])),
                cell(slo.team.slug),
                cell(slo.objective, percent(slo.objective)),
                cell(slo.window_duration, slo.window_label()),
                cell(slo.latest_sli, percent(slo.latest_sli)),
                cell(slo.latest_budget, percent(slo.latest_budget, 1), badge=state.badge),
                cell(rates.get("1h"), burn(rates.get("1h"))),
                cell(slo.latest_exhaustion, duration(slo.latest_exhaustion)),
                cell(
                    slo.firing_severity or "",
                    slo.firing_severity or "—",
                    badge="bad"
                    if slo.firing_severity == "page"
                    else ("warn" if slo.firing_severity else ""),
                ),
                cell(state.key, state.label, badge=state.badge),
            ]
        )


def _freezes(page: Page, days, holds: executive.FreezeHolds) -> None:
    page.context["freezes"] = holds
    series = {"held by a freeze": holds.held, "let through (fix, break-glass)": holds.let_through}
    page.add_chart(
        charts.stacked_days(
            "freeze-holds", "Changes held by error-budget freezes per day", days, series
        )
    )
    page.add_table(_freeze_table(days, series))
    table = page.add_table(
        Table(
            "freeze-overrides",
            "Freezes lifted by a platform admin, running now",
            ["service", "until", "by", "reason"],
            empty="No freeze is lifted: every frozen service holds its risky production changes.",
        )
    )
    for override in holds.overrides:
        table.rows.append(
            [
                cell(override.service.name, badge="flag"),
                when(override.until),
                cell(override.created_by.get_username()),
                cell(override.reason),
            ]
        )


def _freeze_table(days, series: dict[str, list]) -> Table:
    table = Table(
        "freeze-holds",
        "Changes held by error-budget freezes per day (policy error-budget-freeze)",
        ["day", *series.keys()],
        collapsed=True,
        empty="No change met a freeze in this range.",
    )
    for i, day in enumerate(days):
        values = [series[name][i] for name in series]
        if any(values):
            table.rows.append([cell(day.isoformat()), *(cell(v) for v in values)])
    return table


def _metrics(page: Page, tiles: list[executive.MetricTile], days) -> None:
    table = page.add_table(
        Table(
            "platform-metrics",
            "M1–M12: the newest daily figure of each, with its target",
            [
                "metric",
                "title",
                "day",
                "for",
                "value",
                "target or trend",
                "judged figure",
                "target met",
                "definition since",
                "data status",
            ],
            collapsed=True,
        )
    )
    shown = []
    for tile in tiles:
        metric, latest = tile.metric, tile.latest
        chart = charts.sparkline(
            f"metric-{metric.key.lower()}",
            f"{metric.key} {metric.title}",
            days,
            tile.series,
            metric.target,
        )
        met = tile.met
        met_text = {True: "met", False: "missed", None: "—"}[met]
        met_badge = {True: "ok", False: "bad", None: ""}[met]
        value = metric_text(latest["value"], metric, latest["extras"]) if latest else "—"
        dimension = metric.target.dimension if metric.target else ""
        judged = (
            f"{dimension}: {metric_text(tile.judged_value, metric)}"
            if dimension and tile.judged_value is not None
            else ""
        )
        definition = tile.definition
        shown.append(
            {
                "tile": tile,
                "chart": page.add_chart(chart) if tile.series else None,
                "value": value,
                "judged": judged,
                "met_text": met_text,
                "met_badge": met_badge,
                "href": optional_url("metrics:metric-detail", metric.key),
                "rows_href": optional_url("metrics:metric-rows", metric.key),
            }
        )
        table.rows.append(
            [
                cell(metric.key),
                cell(metric.title),
                cell(latest["period_start"].date().isoformat() if latest else None),
                cell(latest["label"] if latest else None),
                cell(latest["value"] if latest else None, value),
                cell(metric.target.text if metric.target else None),
                cell(judged or None),
                cell(met_text if met is not None else None, met_text, badge=met_badge),
                cell(definition.since.date().isoformat() if definition else None),
                cell(
                    latest["data_status"] if latest else "not computed",
                    badge="" if not latest or latest["data_status"] == "ok" else "warn",
                ),
            ]
        )
    page.context["tiles"] = shown
    page.context["metrics_computed"] = any(tile.latest for tile in tiles)


def _per_day_table(name: str, caption: str, days, series: dict[str, list]) -> Table:
    """One row per day that has figures (a day not computed yet has none)."""
    table = Table(
        name,
        caption,
        ["day", *series.keys(), "total"],
        collapsed=True,
        empty="Not computed for these days yet: the platform metrics job stores these counts "
        "every 10 minutes (now: python manage.py platform_metrics).",
    )
    for i, day in enumerate(days):
        values = [series[group][i] for group in series]
        if all(v is None for v in values):
            continue
        table.rows.append(
            [cell(day.isoformat()), *(cell(v) for v in values), cell(charts.total(values))]
        )
    return table


def _cost(page: Page, month, costs: list[executive.TeamCost]) -> None:
    page.context["month"] = month
    page.context["budget_alerts"] = sum(1 for c in costs if c.firing)
    page.context["billing_seen"] = any(c.billed is not None for c in costs)
    table = page.add_table(
        Table(
            "cost-burn",
            f"Cost per team in {month:%B %Y} against its monthly budget",
            [
                "team",
                "currency",
                "budget",
                "reserved by requests",
                "billed (FOCUS)",
                "budgeted so far",
                "burn rate",
                "alert",
                "billing data until",
            ],
            empty="No team has a budget or costs this month. Platform admins set budgets per team "
            "(admin or PUT /api/teams/<team>/budget/); bills come from python manage.py "
            "billing_import FILE.",
        )
    )
    for cost in costs:
        table.rows.append(
            [
                cell(cost.team),
                cell(cost.currency),
                cell(cost.limit, money(cost.limit)),
                cell(cost.reserved, money(cost.reserved)),
                cell(cost.billed, money(cost.billed)),
                cell(cost.budgeted_so_far, money(cost.budgeted_so_far)),
                cell(cost.burn_rate, burn(cost.burn_rate)),
                cell(
                    "firing" if cost.firing else "",
                    "firing" if cost.firing else "—",
                    badge="bad" if cost.firing else "",
                ),
                when(cost.covered_until),
            ]
        )
    if costs:
        series: dict[str, list] = {
            "budget": [float(c.limit) if c.limit is not None else None for c in costs],
            "reserved by requests": [float(c.reserved) for c in costs],
        }
        if page.context["billing_seen"]:
            series["billed (FOCUS)"] = [
                float(c.billed) if c.billed is not None else None for c in costs
            ]
        currencies = {c.currency for c in costs if c.currency}
        page.add_chart(
            charts.cost_chart([c.team for c in costs], series, "/".join(sorted(currencies)))
        )


def _approvals(page: Page, approvals: executive.Approvals) -> None:
    page.context["approvals"] = approvals
    table = page.add_table(
        Table(
            "approvals",
            f"Requests waiting for an approver, longest first ({approvals.waiting} in all, "
            f"{approvals.overdue} past their due time)",
            ["request", "template", "team", "requester", "risk tier", "filed", "due"],
            empty="Nothing waits for an approver.",
        )
    )
    for item in approvals.oldest_requests:
        table.rows.append(
            [
                request_cell(item.uuid, "catalog:request-detail"),
                cell(item.template_version.template.slug),
                cell(item.team.slug),
                cell(item.requester.get_username()),
                cell(item.risk_tier),
                when(item.created_at),
                when(item.approval_due_at),
            ]
        )

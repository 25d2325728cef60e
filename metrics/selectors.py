"""Reads of the platform metrics for pages, the API and the dashboards, scoped to the caller.

Figures come from the stored snapshots only (a few indexed queries, nothing computed while a page
renders). Who sees what: everyone sees the platform-wide metrics (M1, M3, M9); for the others,
developers see their teams' figures and executives, on-call and platform admins also see the
totals over all teams. The rows a figure came from (`metric_rows`) are read from the same records
the metric was computed from, with the same scope.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import reduce
from operator import or_
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from metrics import calculations as calc
from metrics import catalogue, records
from metrics.catalogue import PLATFORM, Metric
from metrics.models import (
    AuditGap,
    BillingImport,
    BillingRow,
    BudgetAlert,
    Incident,
    MetricDefinition,
    MetricSnapshot,
    OncallAction,
    ProbeResult,
    SatisfactionRating,
    SurveyAnswer,
    UnexpectedActor,
)
from metrics.periods import Period
from teams import permissions

HISTORY = 12


def sees_totals(user) -> bool:
    """Executives, on-call and platform admins see every team and the totals."""
    return permissions.sees_everything(user) or permissions.is_oncall(user)


def _scope(queryset: QuerySet, user, team_field: str = "team_id") -> QuerySet:
    if sees_totals(user):
        return queryset
    return queryset.filter(**{f"{team_field}__in": permissions.team_ids(user)})


def snapshots_visible(*, user) -> QuerySet[MetricSnapshot]:
    """The stored figures the caller may see, of each metric's current definition only."""
    snapshots = MetricSnapshot.objects.current().select_related("team")
    if sees_totals(user):
        return snapshots
    platform = [m.key for m in catalogue.METRICS if m.scope == PLATFORM]
    return snapshots.filter(Q(metric__in=platform) | Q(team_id__in=permissions.team_ids(user)))


def judged_dimensions() -> dict[str, str]:
    """metric -> the dimension of the figure its target or trend judges ("" = overall)."""
    return {m.key: m.target.dimension for m in catalogue.METRICS if m.target}


def headline_scope(*, user) -> Q:
    """The figures a caller's overview shows: the overall ones (all teams) for those who see
    totals, else each of their teams' (and the platform-wide metrics); with the figures that
    targets judge (M4's low-risk one)."""
    dimensions = {"", *judged_dimensions().values()}
    if sees_totals(user):
        return Q(team=None, dimension__in=dimensions)
    platform = [m.key for m in catalogue.METRICS if m.scope == PLATFORM]
    return Q(dimension__in=dimensions) & (
        Q(metric__in=platform, team=None) | Q(team_id__in=permissions.team_ids(user))
    )


@dataclass
class MetricView:
    """One metric as the overview shows it: definition, this period's figures, history, and
    whether its target or trend is met (by the figure it judges, against the history)."""

    metric: Metric
    figures: list[MetricSnapshot] = field(default_factory=list)
    history: list[tuple[Period, float | None]] = field(default_factory=list)
    judged: MetricSnapshot | None = None
    judged_history: list[float | None] = field(default_factory=list)
    definition: MetricDefinition | None = None

    @property
    def headline(self) -> MetricSnapshot | None:
        return self.figures[0] if self.figures else None

    @property
    def verdict(self) -> bool | None:
        if self.judged is None:
            return None
        return self.metric.verdict(self.judged.value, self.judged_history)


def metrics_overview(*, user, period: Period, history: int = HISTORY) -> list[MetricView]:
    """Every metric with its headline figures for `period` and the headline value of the
    `history` periods up to it (two queries in all)."""
    first = period
    for _ in range(history - 1):
        first = first.previous()
    rows = (
        snapshots_visible(user=user)
        .filter(headline_scope(user=user))
        .filter(
            period_kind=period.kind, period_start__gte=first.start, period_start__lte=period.start
        )
        .order_by("period_start", "team__slug")
    )
    by_metric: dict[str, list[MetricSnapshot]] = defaultdict(list)
    for row in rows:
        by_metric[row.metric].append(row)
    judged_dimension = judged_dimensions()
    definitions = {d.metric: d for d in metric_definitions()}
    views = []
    for metric in catalogue.METRICS:
        found = by_metric.get(metric.key, [])
        current = sorted(
            (r for r in found if r.period_start == period.start and not r.dimension),
            key=lambda r: (r.team_id is not None, r.team.slug if r.team else ""),
        )
        # The history follows the first figure shown (the total, or the caller's first team).
        team_id = current[0].team_id if current else None
        series = {
            r.period_start: r.value for r in found if r.team_id == team_id and not r.dimension
        }
        walk, past = first, []
        while walk.start <= period.start:
            past.append((walk, series.get(walk.start)))
            walk = walk.next()
        view = MetricView(metric, current, past, definition=definitions.get(metric.key))
        if metric.key in judged_dimension:
            judged = {
                r.period_start: r
                for r in found
                if r.team_id == team_id and r.dimension == judged_dimension[metric.key]
            }
            view.judged = judged.get(period.start)
            view.judged_history = [
                judged[p.start].value if p.start in judged else None for p, _ in past[:-1]
            ]
        views.append(view)
    return views


def metric_definitions():
    """The current definition of every metric whose definition changed (version > 1): since
    when it holds and when the history was recomputed under it."""
    changed = [m for m in catalogue.METRICS if m.version > 1]
    if not changed:
        return MetricDefinition.objects.none()
    return MetricDefinition.objects.filter(
        reduce(or_, (Q(metric=m.key, version=m.version) for m in changed))
    )


def metric_figures(*, user, metric: Metric, period: Period) -> list[MetricSnapshot]:
    """Every figure of one metric for one period that the caller may see: totals first, then
    each team's; overall before the dimensions."""
    rows = snapshots_visible(user=user).filter(
        metric=metric.key, period_kind=period.kind, period_start=period.start
    )
    return sorted(
        rows, key=lambda r: (r.team_id is not None, r.team.slug if r.team else "", r.dimension)
    )


def metric_history(
    *,
    user,
    metric: Metric,
    kind: str,
    team_id: int | None = None,
    dimension: str = "",
    until: datetime | None = None,
    limit: int = 60,
) -> list[MetricSnapshot]:
    """One figure of a metric over the periods up to `until`, oldest first."""
    rows = snapshots_visible(user=user).filter(
        metric=metric.key, period_kind=kind, dimension=dimension
    )
    rows = rows.filter(team_id=team_id) if team_id is not None else rows.filter(team=None)
    if until is not None:
        rows = rows.filter(period_start__lte=until)
    return list(rows.order_by("-period_start")[:limit])[::-1]


# --- the rows each metric came from ---------------------------------------------------------------


def _audit_link(action: str, period: Period) -> str:
    query = urlencode(
        {"action": action, "since": period.start.isoformat(), "until": period.end.isoformat()}
    )
    return f"{reverse('audit:event-list')}?{query}"


def source_links(metric: Metric, period: Period) -> list[tuple[str, str]]:
    """(label, URL) of the pages where the records behind a metric can be browsed."""
    query = f"?{urlencode({'period': period.kind, 'at': period.label})}"
    rows = reverse("api:platform-metric-rows", args=[metric.key]) + query
    links = [
        ("the rows behind the figures", reverse("metrics:metric-rows", args=[metric.key]) + query),
        ("source rows (API)", rows),
        ("source rows (CSV)", f"{rows}&format=csv"),
    ]
    audit = {
        "M2": ("audit events of requests made ready", "request.ready"),
        "M4": ("audit events of requests", "request."),
        "M9": ("audit events of logged on-call actions", "incident.action_logged"),
        "M8": ("audit events of billing imports", "billing.imported"),
        "M10": ("audit events of billing imports", "billing.imported"),
        "M11": ("audit events naming gaps", "audit.gap_found"),
        "M12": ("audit events of ratings", "request.rated"),
    }.get(metric.key)
    if audit:
        links.append((audit[0], _audit_link(audit[1], period)))
    if metric.key == "M7":
        links.append(("SLO pages", reverse("slo:slo-list")))
    if metric.key == "M5":
        links.append(("policy decisions (API)", reverse("api:policy-decision-list")))
    return links


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _request_link(uuid: str) -> str:
    return reverse("catalog:request-detail", args=[uuid]) if uuid else ""


def _visible(user, rows: list[dict]) -> list[dict]:
    if sees_totals(user):
        return rows
    teams = permissions.team_ids(user)
    return [
        row for row in rows if row.get("team_id") in teams or teams & set(row.get("team_ids", ()))
    ]


def _team_slugs() -> dict[int, str]:
    from teams.models import Team

    return dict(Team.objects.values_list("id", "slug"))


def metric_rows(*, user, metric: Metric, period: Period) -> list[dict]:
    """The records a metric's figures for `period` were computed from, as plain rows (those the
    caller may see)."""
    start, end = period.start, period.end
    slugs = _team_slugs()
    if metric.key == "M10":
        rows = _m10_rows(start, end, period.elapsed_end(timezone.now()))
    else:
        rows = ROWS[metric.key](start, end)
    for row in rows:
        if "team_id" in row:
            row["team"] = slugs.get(row["team_id"])
    if metric.scope == PLATFORM:
        return rows
    return _visible(user, rows)


def _m1_rows(start, end) -> list[dict]:
    from core.models import ApiRequestCount

    rows = ApiRequestCount.objects.filter(
        minute__gte=start.timestamp(), minute__lt=end.timestamp()
    ).order_by("minute", "view", "method", "status")
    return [
        {
            "minute": _iso(datetime.fromtimestamp(r.minute, start.tzinfo)),
            "seconds": r.span,
            "view": r.view,
            "method": r.method,
            "status": r.status,
            "count": r.count,
        }
        for r in rows
    ]


def _m2_rows(start, end) -> list[dict]:
    return [
        {
            "request": p.request,
            "link": _request_link(p.request),
            "team_id": p.team_id,
            "template": p.template,
            "submitted_at": _iso(p.submitted_at),
            "ready_at": _iso(p.ready_at),
            "approval_wait_seconds": p.approval_wait,
            "latency_seconds": p.latency,
        }
        for p in records.provisions(start, end)
    ]


def _m3_rows(start, end) -> list[dict]:
    rows = ProbeResult.objects.filter(at__gte=start, at__lt=end).order_by("at")
    return [
        {
            "minute": _iso(r.at),
            "ok": r.ok,
            "status_code": r.status_code,
            "latency_ms": r.latency_ms,
            "error": r.error,
            "synthetic": r.synthetic,
        }
        for r in rows
    ]


def _m4_rows(start, end) -> list[dict]:
    """Every approval stage that ended; those approved automatically are marked and are no
    wait (M4 leaves them out of its figures)."""
    return [
        {
            "request": s.request,
            "link": _request_link(s.request),
            "team_id": s.team_id,
            "risk_tier": s.risk_tier,
            "waited_for_a_person": not s.automatic,
            "pending_seconds": None if s.automatic else s.pending_seconds,
            "outcome": s.outcome,
        }
        for s in records.approval_stages(start, end)
    ]


def _m5_rows(start, end) -> list[dict]:
    """Every policy decision on a catalog request, each marked with whether its request was
    denied by an enforcing policy (what M5 counts, once per request)."""
    from catalog.models import PolicyDecision

    denied = {r.request for r in calc.requests_decided(records.decisions(start, end)) if r.denied}
    rows = (
        PolicyDecision.objects.filter(
            created_at__gte=start, created_at__lt=end, request__isnull=False
        )
        .order_by("id")
        .values(
            "id",
            "created_at",
            "policy_version__policy__slug",
            "policy_version__number",
            "mode",
            "outcome",
            "request__uuid",
            "request__team_id",
        )
    )
    return [
        {
            "decision": r["id"],
            "at": _iso(r["created_at"]),
            "policy": r["policy_version__policy__slug"],
            "version": r["policy_version__number"],
            "mode": r["mode"],
            "outcome": r["outcome"],
            "request": str(r["request__uuid"] or ""),
            "request_denied_by_policy": str(r["request__uuid"]) in denied,
            "link": _request_link(str(r["request__uuid"] or "")),
            "team_id": r["request__team_id"],
        }
        for r in rows
    ]


def _runbook_rows(start, end, runs=records.runbook_runs) -> list[dict]:
    return [
        {
            "run": r.run,
            "team_id": r.team_id,
            "runbook": r.runbook,
            "succeeded": r.succeeded,
            "by_oncall": r.by_oncall,
        }
        for r in runs(start, end)
    ]


def _m7_rows(start, end) -> list[dict]:
    rows = MetricSnapshot.objects.filter(
        metric="M7", period_start=start, period_end=end, team__isnull=False
    ).exclude(dimension="")
    return [
        {
            "slo": r.dimension,
            "link": reverse("slo:slo-detail", args=[r.dimension]),
            "team_id": r.team_id,
            "burn": r.value,
            "budget_remaining": r.extras.get("budget_remaining"),
            "data_status": r.extras.get("data_status"),
        }
        for r in rows.order_by("dimension")
    ]


def _billing_rows(start, end) -> list[dict]:
    owners = records.Owners()
    found = []
    rows = BillingRow.objects.filter(charge_period_start__gte=start, charge_period_start__lt=end)
    for row in rows.select_related("billing_import").order_by("charge_period_start", "id"):
        who = owners.of(row.resource_id, row.owner, row.cost_center)
        found.append(
            {
                "billing_row": row.pk,
                "import": str(row.billing_import.uuid),
                "file_row": row.row,
                "charge_period_start": _iso(row.charge_period_start),
                "resource_id": row.resource_id,
                "service": row.service_name,
                "effective_cost": str(row.effective_cost),
                "currency": row.billing_currency,
                "tags": row.tags,
                "team_id": who.team_id,
                "template": who.template,
                "joined_by": who.joined_by,
            }
        )
    return found


def _m8_rows(start, end) -> list[dict]:
    return _billing_rows(start, end) + [{**row, "provision": True} for row in _m2_rows(start, end)]


def _m9_rows(start, end) -> list[dict]:
    rows = OncallAction.objects.filter(performed_at__gte=start, performed_at__lt=end)
    manual = [
        {
            "kind": "manual action",
            "action": str(a.uuid),
            "incident": a.incident.title,
            "by": a.actor.get_username(),
            "at": _iso(a.performed_at),
            "description": a.description,
            "by_oncall": a.by_oncall,
        }
        for a in rows.select_related("incident", "actor").order_by("performed_at")
    ]
    runs = _runbook_rows(start, end, records.oncall_runbook_runs)
    return manual + [{**r, "kind": "runbook run"} for r in runs]


def _m10_rows(start, end, at) -> list[dict]:
    """What M10 counted at `at`: resources past their expiry, orphan findings and billed
    resources nobody owns, aged, with their age (one row per resource and billing row)."""
    return [
        {
            "source": o.source,
            "resource_id": o.resource_id,
            "team_id": o.team_id,
            "age_days": round(o.age_seconds / calc.DAY_SECONDS, 2),
            "effective_cost": str(o.cost) if o.currency else None,
            "currency": o.currency or None,
        }
        for o in records.orphans(start, end, at)
    ]


def _m11_rows(start, end) -> list[dict]:
    checks, _ = records.transition_checks(start, end)
    return [
        {
            "kind": c.kind,
            "record": c.record,
            "team_id": c.team_id,
            "audited": c.audited,
            "problem": c.problem,
        }
        for c in checks
    ]


def _m12_rows(start, end) -> list[dict]:
    """The survey's answers (0–10, who is named by their teams only) and the request ratings
    (1–5) given in the period."""
    answers = SurveyAnswer.objects.filter(
        answered_at__gte=start, answered_at__lt=end, score__isnull=False
    ).prefetch_related("teams")
    survey = [
        {
            "kind": "survey answer",
            "score": a.score,
            "answer": "promoter" if a.score >= 9 else ("passive" if a.score >= 7 else "detractor"),
            "teams": sorted(t.slug for t in a.teams.all()),
            "team_ids": sorted(t.pk for t in a.teams.all()),
            "at": _iso(a.answered_at),
        }
        for a in answers.order_by("answered_at")
    ]
    rows = SatisfactionRating.objects.filter(created_at__gte=start, created_at__lt=end)
    return survey + [
        {
            "kind": "request rating",
            "request": str(r.request.uuid),
            "link": _request_link(str(r.request.uuid)),
            "team_id": r.team_id,
            "score": r.score,
            "comment": r.comment,
            "at": _iso(r.created_at),
        }
        for r in rows.select_related("request").order_by("created_at")
    ]


ROWS: dict[str, Callable[[datetime, datetime], list[dict]]] = {
    "M1": _m1_rows,
    "M2": _m2_rows,
    "M3": _m3_rows,
    "M4": _m4_rows,
    "M5": _m5_rows,
    "M6": _runbook_rows,
    "M7": _m7_rows,
    "M8": _m8_rows,
    "M9": _m9_rows,
    "M11": _m11_rows,
    "M12": _m12_rows,
}


# --- reports ---------------------------------------------------------------------------------


def billing_imports_visible(*, user) -> QuerySet[BillingImport]:
    imports = BillingImport.objects.select_related("imported_by")
    return imports if sees_totals(user) else imports.none()


def billing_rows_visible(*, user) -> QuerySet[BillingRow]:
    rows = BillingRow.objects.select_related("billing_import")
    return rows if sees_totals(user) else rows.none()


def budget_alerts_visible(*, user) -> QuerySet[BudgetAlert]:
    return _scope(BudgetAlert.objects.select_related("team"), user)


def audit_gaps_visible(*, user) -> QuerySet[AuditGap]:
    return _scope(AuditGap.objects.select_related("team"), user)


def unexpected_actors_visible(*, user) -> QuerySet[UnexpectedActor]:
    """Unexpected actors (F3), newest first: of the caller's teams; on-call, executives and
    platform admins see all, including those that name no team."""
    return _scope(UnexpectedActor.objects.select_related("team"), user).order_by(
        "-occurred_at", "-id"
    )


def ratings_visible(*, user) -> QuerySet[SatisfactionRating]:
    ratings = SatisfactionRating.objects.select_related("request", "team", "user")
    if sees_totals(user):
        return ratings
    return permissions.of_teams_or_own(ratings, user, own="user")


def incidents_visible(*, user) -> QuerySet[Incident]:
    incidents = Incident.objects.select_related(
        "team", "owner", "opened_by", "acknowledged_by", "resolved_by"
    ).prefetch_related("slos", "requests__template_version__template", "requests__team")
    if sees_totals(user):
        return incidents
    return incidents.filter(team_id__in=permissions.team_ids(user))


# Audit actions that change what SSOps offers or measures: the changes an incident checklist asks
# about ("template or policy changes deployed recently").
CHANGE_ACTIONS = (
    "template.published",
    "template.deprecated",
    "policy.created",
    "policy.updated",
    "slo.slo.created",
    "slo.slo.updated",
    "slo.slo.deleted",
)
CHANGE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Change:
    """A template, policy or SLO change from the audit store, and how to undo it."""

    at: datetime
    actor: str
    action: str
    subject: str
    seq: int
    undo: str = ""  # what the rollback does ("" when there is none to offer)
    undo_url: str = ""  # where to POST it
    link: str = ""  # the page of what changed


def _undo(event) -> tuple[str, str, str]:
    """(what the rollback does, where to POST it, the page of what changed)."""
    payload = event.payload
    if event.action == "template.published":
        slug, version = payload.get("template", ""), payload.get("version", "")
        return (
            f"deprecate {slug} {version}",
            reverse("catalog:template-version-deprecate", args=[slug, version]),
            reverse("catalog:template-detail", args=[slug]),
        )
    if event.action in ("policy.created", "policy.updated"):
        slug, version = payload.get("policy", ""), payload.get("version") or 0
        if payload.get("new_version") and version > 1:
            return (
                f"restore {slug} v{version - 1}",
                reverse("catalog:policy-restore", args=[slug, version - 1]),
                "",
            )
        return "", "", ""
    if event.action.startswith("slo.slo.") and event.action != "slo.slo.deleted":
        name = payload.get("name", "")
        return "", "", reverse("slo:slo-detail", args=[name]) if name else ""
    return "", "", ""


def _subject(event) -> str:
    payload = event.payload
    if event.action.startswith("template."):
        return f"template {payload.get('template', event.object_id)} {payload.get('version', '')}"
    if event.action.startswith("policy."):
        return f"policy {payload.get('policy', event.object_id)} v{payload.get('version', '?')}"
    return f"SLO {payload.get('name', event.object_id)}"


def incident_changes(*, incident: Incident) -> list[Change]:
    """Template, policy and SLO changes of the 24 hours before the incident's impact began,
    newest first, from the audit store, each with its rollback where there is one."""
    from audit.models import AuditEvent
    from audit.selectors import ts_text

    events = AuditEvent.objects.filter(
        action__in=CHANGE_ACTIONS,
        ts__gte=ts_text(incident.started_at - CHANGE_WINDOW),
        ts__lte=ts_text(incident.started_at),
    ).order_by("-seq")
    changes = []
    for event in events[:200]:
        undo, undo_url, link = _undo(event)
        changes.append(
            Change(
                event.ts,
                event.actor_name,
                event.action,
                _subject(event),
                event.seq,
                undo,
                undo_url,
                link,
            )
        )
    return changes


def probes_recent(*, since: datetime | None = None, limit: int = 1440) -> QuerySet[ProbeResult]:
    probes = ProbeResult.objects.order_by("-at")
    return probes.filter(at__gte=since) if since else probes[:limit]

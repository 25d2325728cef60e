"""Writes of the platform metrics. Each state change is atomic and audited in the same
transaction, and takes the acting user as `actor=` (None for the system's beat jobs).

- `billing_import`: a FOCUS file, whole or not at all; a billing account's period is replaced.
- `metric_snapshots_record`: the figures of every metric for one period (beat job).
- `rating_submit`: a requester's 1–5 rating of a finished request (M12).
- `survey_answer`, `survey_dismiss`: the quarterly 0–10 survey of each active user (M12).
- `metric_history_recompute`: stored history computed again under changed definitions.
- `incident_open`, `incident_acknowledge`, `incident_resolve`, `oncall_action_log`: incidents
  (MTTA, MTTR) and on-call's manual actions (M9).
- `budget_burn_evaluate`: each team's cost burn rate this month, alerting above 2×.
- `audit_gaps_reconcile`: name every transition without its audit event (M11).
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import reduce
from operator import or_

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from audit.services import audit_record
from catalog.choices import RequestState
from catalog.models import Budget, Request
from metrics import catalogue, focus, records
from metrics.calculations import Figure
from metrics.choices import IncidentSeverity
from metrics.compute import metric_compute
from metrics.models import (
    AuditGap,
    BillingImport,
    BillingRow,
    BudgetAlert,
    Incident,
    MetricDefinition,
    MetricSnapshot,
    OncallAction,
    SatisfactionRating,
    SurveyAnswer,
)
from metrics.periods import Period, quarter_of
from slo.models import SLO
from teams import permissions
from teams.models import Team

logger = logging.getLogger(__name__)


class PlatformInvalid(Exception):
    """What was given is wrong; `errors` maps each field to its messages. Nothing was written."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


# --- FOCUS billing -------------------------------------------------------------------------------


def _hashing(lines: Iterable[str], digest) -> Iterator[str]:
    for line in lines:
        digest.update(line.encode())
        yield line


def _billing_row(record: BillingImport, row: focus.FocusRow) -> BillingRow:
    return BillingRow(
        billing_import=record,
        row=row.row,
        billing_account_id=row.billing_account_id,
        billing_account_name=row.billing_account_name,
        billing_period_start=row.billing_period_start,
        billing_period_end=row.billing_period_end,
        charge_period_start=row.charge_period_start,
        charge_period_end=row.charge_period_end,
        charge_category=row.charge_category,
        charge_class=row.charge_class,
        charge_description=row.charge_description,
        billed_cost=row.billed_cost,
        effective_cost=row.effective_cost,
        list_cost=row.list_cost,
        contracted_cost=row.contracted_cost,
        billing_currency=row.billing_currency,
        service_name=row.service_name,
        service_category=row.service_category,
        provider_name=row.provider_name,
        publisher_name=row.publisher_name,
        resource_id=row.resource_id,
        resource_name=row.resource_name,
        resource_type=row.resource_type,
        tags=row.tags,
        owner=row.owner,
        cost_center=row.cost_center,
        extra=row.extra,
    )


def billing_import(*, actor, lines: Iterable[str], file_name: str) -> BillingImport:
    """Import a FOCUS CSV (any iterable of text lines). The whole file is checked first; a
    problem anywhere refuses it whole (`focus.FocusRefused`, naming row and column) and nothing
    changes. Then, in one transaction, the rows SSOps holds for each billing account and billing
    period in the file are replaced by the file's — importing a period again never doubles it."""
    digest = hashlib.sha256()
    parsed = focus.read_focus(_hashing(lines, digest))
    per_period: dict[tuple[str, datetime], int] = defaultdict(int)
    costs: dict[str, Decimal] = defaultdict(Decimal)
    for row in parsed.rows:
        per_period[row.billing_account_id, row.billing_period_start] += 1
        costs[row.billing_currency] += row.effective_cost
    periods = [
        {"billing_account_id": account, "billing_period_start": start.isoformat(), "rows": n}
        for (account, start), n in sorted(per_period.items())
    ]
    same_periods = reduce(
        or_,
        (Q(billing_account_id=a, billing_period_start=s) for a, s in per_period),
    )
    with transaction.atomic():
        replaced = BillingRow.objects.filter(same_periods).delete()[0]
        record = BillingImport.objects.create(
            file_name=file_name[:255],
            sha256=digest.hexdigest(),
            focus_version=parsed.version,
            row_count=len(parsed.rows),
            replaced_rows=replaced,
            periods=periods,
            effective_cost={currency: str(total) for currency, total in costs.items()},
            imported_by=actor if actor is not None and actor.is_authenticated else None,
        )
        BillingRow.objects.bulk_create(
            (_billing_row(record, row) for row in parsed.rows), batch_size=1000
        )
        audit_record(
            action="billing.imported",
            actor=actor,
            obj=record,
            payload={
                "file": record.file_name,
                "sha256": record.sha256,
                "focus_version": record.focus_version,
                "rows": record.row_count,
                "replaced_rows": replaced,
                "periods": periods,
                "effective_cost": record.effective_cost,
            },
        )
    return record


# --- metric snapshots ----------------------------------------------------------------------------


def metric_snapshots_record(
    *, period: Period, now: datetime, metrics: Sequence[str] | None = None
) -> dict[str, str]:
    """Compute every metric (or those named) for `period` as far as `now` and store the figures,
    replacing what was stored for that period. Returns each metric's data status.

    Derived values only (the records they come from are audited), so this is not audited itself;
    the beat job's run is recorded (JobRun)."""
    keys = list(metrics or catalogue.BY_KEY)
    outcomes = {key: metric_compute(key, period, now) for key in keys}  # I/O outside the txn
    complete = now >= period.end
    with transaction.atomic():
        _definitions_note(keys)
        MetricSnapshot.objects.filter(
            metric__in=keys, period_kind=period.kind, period_start=period.start
        ).delete()
        rows = []
        for key, outcome in outcomes.items():
            figures = outcome.figures or [Figure(None, "", None, {})]
            rows += [
                MetricSnapshot(
                    metric=key,
                    period_kind=period.kind,
                    period_start=period.start,
                    period_end=period.end,
                    team_id=figure.team_id,
                    dimension=figure.dimension[:300],
                    value=figure.value,
                    extras=figure.extras,
                    data_status=outcome.status,
                    detail=outcome.detail,
                    complete=complete,
                    computed_at=now,
                    definition=catalogue.BY_KEY[key].version,
                )
                for figure in figures
            ]
        MetricSnapshot.objects.bulk_create(rows)
    return {key: outcome.status for key, outcome in outcomes.items()}


def _definitions_note(keys: Sequence[str]) -> None:
    """Record when each metric's current definition was first used (what its pages say it
    holds since)."""
    known = set(MetricDefinition.objects.filter(metric__in=keys).values_list("metric", "version"))
    for key in keys:
        version = catalogue.BY_KEY[key].version
        if (key, version) not in known:
            MetricDefinition.objects.get_or_create(
                metric=key, version=version, defaults={"since": timezone.now()}
            )


def periods_due(*, now: datetime) -> list[Period]:
    """What the beat job computes: the current day, week and month, and the previous ones
    until they have been computed once after their end (so each is final exactly once)."""
    from metrics.periods import KINDS, period_containing

    due = []
    for kind in KINDS:
        current = period_containing(kind, now)
        previous = current.previous()
        final = (
            MetricSnapshot.objects.filter(
                period_kind=kind, period_start=previous.start, complete=True
            )
            .current()
            .values("metric")
            .distinct()
            .count()
        )
        if final < len(catalogue.METRICS):
            due.append(previous)
        due.append(current)
    return due


@dataclass(frozen=True)
class Recomputed:
    metric: str
    version: int
    periods: list[str]


def metric_history_recompute(*, actor, now: datetime) -> list[Recomputed]:
    """Compute again, from the records, every stored period of each metric whose figures were
    computed under an older definition, so that no history mixes definitions; record when
    (MetricDefinition) and audit it. Periods whose records are gone (e.g. M1 past Prometheus's
    retention) come out as what the records still say. Idempotent: nothing older, nothing
    done."""
    from metrics.periods import Period

    done = []
    for metric in catalogue.METRICS:
        stale = (
            MetricSnapshot.objects.filter(metric=metric.key, definition__lt=metric.version)
            .values_list("period_kind", "period_start")
            .distinct()
            .order_by("period_kind", "period_start")
        )
        periods = [Period(kind, start) for kind, start in stale]
        for period in periods:
            metric_snapshots_record(period=period, now=now, metrics=[metric.key])
        if not periods:
            continue
        with transaction.atomic():
            MetricDefinition.objects.filter(metric=metric.key, version=metric.version).update(
                recomputed_at=timezone.now(), periods_recomputed=len(periods)
            )
            audit_record(
                action="metrics.history_recomputed",
                actor=actor,
                object_type="metrics.metricdefinition",
                object_id=f"{metric.key}-v{metric.version}",
                payload={
                    "metric": metric.key,
                    "version": metric.version,
                    "changed": metric.changed,
                    "periods": len(periods),
                },
            )
        done.append(Recomputed(metric.key, metric.version, [p.label for p in periods]))
    return done


# --- M12 satisfaction ratings --------------------------------------------------------------------

IN_FLIGHT = frozenset(
    {
        RequestState.SUBMITTED,
        RequestState.PENDING_APPROVAL,
        RequestState.APPROVED,
        RequestState.PROVISIONING,
    }
)
MAX_COMMENT = 2000


def rating_offered(*, request: Request, user) -> bool:
    """A rating is offered to the requester once the request has finished."""
    return (
        user.is_authenticated
        and user.pk == request.requester_id
        and (request.state not in IN_FLIGHT)
    )


def rating_submit(*, actor, request: Request, score, comment: str = "") -> SatisfactionRating:
    """The requester rates their finished request 1–5 (a second rating replaces the first)."""
    if not actor.is_authenticated or actor.pk != request.requester_id:
        raise PermissionDenied("Only the requester rates a request.")
    errors: dict[str, list[str]] = {}
    if request.state in IN_FLIGHT:
        errors["request"] = ["Rate the request once it has finished."]
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        errors["score"] = ["Give a whole number from 1 (poor) to 5 (excellent)."]
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        errors["comment"] = [f"Keep the comment under {MAX_COMMENT} characters."]
    if errors:
        raise PlatformInvalid(errors)
    with transaction.atomic():
        rating, created = SatisfactionRating.objects.select_for_update().get_or_create(
            request=request,
            defaults={
                "user": actor,
                "team_id": request.team_id,
                "score": score,
                "comment": comment,
            },
        )
        previous = None if created else rating.score
        if not created:
            rating.score, rating.comment = score, comment
            rating.save(update_fields=["score", "comment", "updated_at"])
        audit_record(
            action="request.rated",
            actor=actor,
            obj=request,
            team=request.team_id,
            payload={"score": score, "comment": comment, "previous_score": previous},
        )
    return rating


# --- M12 the quarterly survey -------------------------------------------------------------------


def survey_due(*, user, now: datetime | None = None) -> bool:
    """Whether the survey is to be asked of this user: an active user signed in, who has
    neither answered nor dismissed it this quarter."""
    if not (user.is_authenticated and user.is_active):
        return False
    quarter = quarter_of(now or timezone.now())
    return not SurveyAnswer.objects.filter(user=user, quarter=quarter).exists()


def survey_answer(*, actor, score, now: datetime | None = None) -> SurveyAnswer:
    """The user's answer (0–10) to this quarter's survey, with their teams as they are now;
    once a quarter (a second answer is refused, as is one after dismissing it)."""
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = -1
    if not 0 <= score <= 10:
        raise PlatformInvalid({"score": ["Choose a whole number from 0 (not at all) to 10."]})
    return _survey_record(actor=actor, score=score, now=now or timezone.now())


def survey_dismiss(*, actor, now: datetime | None = None) -> SurveyAnswer:
    """The user declines this quarter's survey: it is not asked again before next quarter."""
    return _survey_record(actor=actor, score=None, now=now or timezone.now())


def _survey_record(*, actor, score: int | None, now: datetime) -> SurveyAnswer:
    if not actor.is_authenticated:
        raise PermissionDenied("Sign in to answer the survey.")
    quarter = quarter_of(now)
    with transaction.atomic():
        answer, created = SurveyAnswer.objects.get_or_create(
            user=actor, quarter=quarter, defaults={"score": score, "answered_at": now}
        )
        if not created:
            raise PlatformInvalid(
                {"score": [f"You have already answered or dismissed the {quarter} survey."]}
            )
        teams = list(Team.objects.filter(memberships__user=actor))
        answer.teams.set(teams)
        audit_record(
            action="survey.dismissed" if score is None else "survey.answered",
            actor=actor,
            obj=answer,
            payload={"quarter": quarter, "score": score, "teams": [t.slug for t in teams]},
        )
    return answer


# --- incidents and manual on-call actions (M9) ---------------------------------------------------


def _require_oncall(actor) -> None:
    if not permissions.is_oncall(actor):
        raise PermissionDenied("Incidents and on-call actions are for on-call and platform admins.")


def incident_open(
    *,
    actor,
    title: str,
    team: Team | None = None,
    slos: Sequence[SLO] = (),
    requests: Sequence[Request] = (),
    severity: str = IncidentSeverity.SEV2,
    started_at: datetime | None = None,
) -> Incident:
    """On-call opens an incident: what is wrong, how severe, when the impact began (default
    now), the team (default the first linked SLO's), and the SLOs and requests it concerns."""
    _require_oncall(actor)
    now = timezone.now()
    title = (title or "").strip()
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = ["Say what is wrong."]
    limit = Incident._meta.get_field("title").max_length
    if len(title) > limit:
        errors["title"] = [f"Keep it to {limit} characters (this is {len(title)})."]
    if severity not in IncidentSeverity.values:
        errors["severity"] = [f"Use one of {', '.join(IncidentSeverity.values)}."]
    started_at = started_at or now
    if started_at > now + timedelta(minutes=5):
        errors["started_at"] = ["The impact began before the incident is opened, not after."]
    if errors:
        raise PlatformInvalid(errors)
    slos, requests = list(slos), list(requests)
    with transaction.atomic():
        incident = Incident.objects.create(
            title=title,
            severity=severity,
            team=team or (slos[0].team if slos else None),
            started_at=started_at,
            opened_by=actor,
        )
        incident.slos.set(slos)
        incident.requests.set(requests)
        audit_record(
            action="incident.opened",
            actor=actor,
            obj=incident,
            team=incident.team_id,
            payload={
                "title": incident.title,
                "severity": severity,
                "started_at": started_at,
                "slos": [slo.name for slo in slos],
                "requests": [str(r.uuid) for r in requests],
            },
        )
    return incident


def incident_acknowledge(*, actor, incident: Incident) -> Incident:
    """On-call takes the incident: acknowledged now (once; MTTA ends here), and owned by them
    unless someone owns it already."""
    _require_oncall(actor)
    with transaction.atomic():
        moved = Incident.objects.filter(
            pk=incident.pk, acknowledged_at=None, resolved_at=None
        ).update(acknowledged_at=timezone.now(), acknowledged_by=actor)
        if not moved:
            raise PlatformInvalid({"incident": ["The incident is already acknowledged."]})
        Incident.objects.filter(pk=incident.pk, owner=None).update(owner=actor)
        incident.refresh_from_db()
        audit_record(
            action="incident.acknowledged",
            actor=actor,
            obj=incident,
            team=incident.team_id,
            payload={"owner": incident.owner.get_username()},
        )
    return incident


def incident_resolve(*, actor, incident: Incident) -> Incident:
    """On-call resolves the incident (acknowledging it too if nobody had); the provisioning
    failures of the requests it names are resolved with it."""
    from provisioning.alerts import provisioning_failure_resolve

    _require_oncall(actor)
    now = timezone.now()
    with transaction.atomic():
        moved = Incident.objects.filter(pk=incident.pk, resolved_at=None).update(
            resolved_at=now, resolved_by=actor
        )
        if not moved:
            raise PlatformInvalid({"incident": ["The incident is already resolved."]})
        Incident.objects.filter(pk=incident.pk, acknowledged_at=None).update(
            acknowledged_at=now, acknowledged_by=actor
        )
        incident.refresh_from_db()
        audit_record(action="incident.resolved", actor=actor, obj=incident, team=incident.team_id)
        for uuid in incident.requests.values_list("uuid", flat=True):
            provisioning_failure_resolve(
                request_uuid=uuid, reason=f"incident {incident.uuid} was resolved"
            )
    return incident


def oncall_action_log(
    *, actor, incident: Incident, description: str, performed_at: datetime | None = None
) -> OncallAction:
    """On-call logs something done by hand (outside SSOps) for an incident."""
    _require_oncall(actor)
    description = (description or "").strip()
    now = timezone.now()
    performed_at = performed_at or now
    errors: dict[str, list[str]] = {}
    if not description:
        errors["description"] = ["Say what was done."]
    if performed_at > now + timedelta(minutes=5):
        errors["performed_at"] = ["An action is logged once it has been done, not before."]
    if errors:
        raise PlatformInvalid(errors)
    with transaction.atomic():
        action = OncallAction.objects.create(
            incident=incident,
            actor=actor,
            description=description,
            performed_at=performed_at,
            by_oncall=True,
        )
        audit_record(
            action="incident.action_logged",
            actor=actor,
            obj=incident,
            team=incident.team_id,
            payload={"action": str(action.uuid), "description": description, "at": performed_at},
        )
    return action


# --- team budgets: cost burn rate ----------------------------------------------------------------

BURN_ALERT = 2.0
MONEY_PLACES = Decimal("0.0000000001")  # what BillingRow and BudgetAlert store


def _month_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start, end


@dataclass(frozen=True)
class BudgetBurn:
    team_id: int
    spend: Decimal
    budgeted_so_far: Decimal
    burn_rate: float | None
    covered_until: datetime | None


def budget_burns(*, now: datetime) -> tuple[list[BudgetBurn], dict[int, Budget]]:
    """Each budgeted team's spend this month (EffectiveCost in the budget's currency, joined as
    M8 joins it) against what its monthly limit allows up to where the billing data reaches."""
    start, end = _month_bounds(now)
    month_rows = BillingRow.objects.filter(
        charge_period_start__gte=start, charge_period_start__lt=end
    )
    covered = month_rows.aggregate(until=Max("charge_period_end"))["until"]
    covered = min(covered, now, end) if covered else None
    budgets = {b.team_id: b for b in Budget.objects.all()}
    spend: dict[int, Decimal] = defaultdict(Decimal)
    for charge in records.charges(start, end):
        budget = budgets.get(charge.team_id) if charge.team_id is not None else None
        if budget is not None and charge.currency == budget.currency:
            spend[budget.team_id] += charge.cost
    burns = []
    for team_id, budget in budgets.items():
        elapsed = int((covered - start).total_seconds()) if covered and covered > start else 0
        month = int((end - start).total_seconds())
        allowed = (budget.monthly_limit * elapsed / month).quantize(MONEY_PLACES)
        rate = float(spend[team_id] / allowed) if allowed > 0 else None
        burns.append(BudgetBurn(team_id, spend[team_id], allowed, rate, covered))
    return burns, budgets


def budget_burn_evaluate(*, now: datetime | None = None) -> list[BudgetAlert]:
    """Record each budgeted team's burn rate this month; fire an alert (audited, and sent to
    Alertmanager when configured) when spend runs at more than twice the budgeted pace, and
    resolve it when it falls back. Idempotent: a state only changes when the burn crosses 2×."""
    from metrics.budget_alerts import budget_alert_send

    now = now or timezone.now()
    month = _month_bounds(now)[0].date()
    burns, budgets = budget_burns(now=now)
    alerts = []
    for burn in burns:
        budget = budgets[burn.team_id]
        firing = burn.burn_rate is not None and burn.burn_rate > BURN_ALERT
        with transaction.atomic():
            alert, _ = BudgetAlert.objects.select_for_update().get_or_create(
                team_id=burn.team_id,
                month=month,
                defaults={
                    "spend": 0,
                    "budgeted_so_far": 0,
                    "monthly_limit": budget.monthly_limit,
                    "currency": budget.currency,
                    "evaluated_at": now,
                },
            )
            changed = firing != alert.firing
            alert.burn_rate, alert.spend = burn.burn_rate, burn.spend
            alert.budgeted_so_far, alert.covered_until = burn.budgeted_so_far, burn.covered_until
            alert.monthly_limit, alert.currency = budget.monthly_limit, budget.currency
            alert.evaluated_at = now
            if changed:
                alert.firing = firing
                alert.since = now if firing else alert.since
                alert.resolved_at = None if firing else now
                audit_record(
                    action=f"budget.burn_alert.{'fired' if firing else 'resolved'}",
                    obj=budget.team,
                    team=burn.team_id,
                    payload={
                        "month": month.isoformat(),
                        "burn_rate": burn.burn_rate,
                        "spend": str(burn.spend),
                        "budgeted_so_far": str(burn.budgeted_so_far),
                        "monthly_limit": str(budget.monthly_limit),
                        "currency": budget.currency,
                    },
                )
            alert.save()
        if alert.firing or changed:
            budget_alert_send(alert=alert, now=now)
        alerts.append(alert)
    return alerts


# --- audit completeness (M11) --------------------------------------------------------------------


def audit_gaps_reconcile(*, start: datetime, end: datetime, now: datetime) -> list[AuditGap]:
    """Check every transition made in [start, end) against the audit store; record (and audit)
    each gap not recorded before. Returns the new gaps."""
    _, gaps = records.transition_checks(start, end)
    if not gaps:
        return []
    known = set(
        AuditGap.objects.filter(kind__in={g.kind for g in gaps}).values_list("kind", "record")
    )
    new = [g for g in gaps if (g.kind, g.record) not in known]
    created: list[AuditGap] = []
    with transaction.atomic():
        for gap in new:
            created.append(
                AuditGap.objects.create(
                    kind=gap.kind,
                    record=gap.record,
                    team_id=gap.team_id,
                    object_id=gap.object_id,
                    occurred_at=gap.occurred_at,
                    expected=gap.expected,
                    problem=gap.problem,
                    found_at=now,
                )
            )
            audit_record(
                action="audit.gap_found",
                object_type=f"catalog.{gap.kind}",
                object_id=gap.record,
                team=gap.team_id,
                payload={"expected": gap.expected, "problem": gap.problem, "object": gap.object_id},
            )
    for found in created:
        logger.warning("audit gap: %s", found.problem)
    return created


# --- housekeeping --------------------------------------------------------------------------------


def platform_records_prune(*, now: datetime) -> dict[str, int]:
    """Fold old per-minute API request counts into hours and drop job runs older than 30 days."""
    from core.jobs import job_runs_prune
    from core.request_counts import request_counts_compact

    return {
        "api_count_minutes_folded": request_counts_compact(now=now),
        "job_runs_deleted": job_runs_prune(now=now),
    }


# --- SSOps's own SLOs ---------------------------------------------------------------------------


def ssops_slo_documents(*, prometheus: bool) -> list[tuple[str, str]]:
    """(file name, YAML) of SSOps's own SLOs. Without a Prometheus, what the files read from
    Prometheus (ssops_* metrics SSOps exports) is read from SSOps's own records instead."""
    from importlib.resources import files

    found = []
    # By name: api-availability.yaml, which defines the service, comes first.
    for path in sorted(files("metrics.slos").iterdir(), key=lambda p: p.name):
        if path.name.endswith(".yaml"):
            text = path.read_text()
            if not prometheus:
                text = text.replace("type: Prometheus", "type: SSOps")
            found.append((path.name, text))
    return found


def ssops_slos_import(*, actor, team: Team, prometheus: bool) -> list:
    """Import (upsert) SSOps's own SLOs for `team`; returns one import report per file."""
    from slo.services import slo_import_text

    return [
        slo_import_text(actor=actor, text=text, name=f"metrics/slos/{name}", default_team=team)
        for name, text in ssops_slo_documents(prometheus=prometheus)
    ]

"""Backtests of SLOs, saved or not: the definition with its maintenance windows, the history
from its source, and for a saved SLO the alerts it really raised, side by side. Nothing is
written (a file is imported in a transaction that is rolled back)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction

from slo.backtest import STEP, Backtest, BacktestError, compare, rfc3339, run_backtest
from slo.choices import AlertEventKind
from slo.definitions import UNAVAILABLE, SLODefinition
from slo.importers import plan_file
from slo.models import SLO, AlertEvent, Service
from slo.selectors import maintenance_windows, service_maintenance_windows
from slo.services.definitions import import_planned
from slo.sources.base import SourceUnavailable
from slo.sources.factory import sources_for_run
from teams.models import Team

DEFAULT_DAYS = 30


@dataclass
class BacktestReport:
    backtest: Backtest
    # For a saved SLO: the alerts it really raised in the same time, as (severity, start, end),
    # and each backtest alert marked with whether a real one overlapped it.
    real_alerts: list[tuple[str, float, float]] = field(default_factory=list)
    compared: list[dict] = field(default_factory=list)
    saved: bool = False

    def as_dict(self) -> dict:
        """The API's view: the contract's figures and what the contract leaves out (held
        alerts, budget spent, the real alerts, maintenance windows)."""
        backtest = self.backtest
        return {
            "slo": backtest.slo,
            "evaluation": backtest.evaluation,
            "from_": rfc3339(backtest.start),
            "to": rfc3339(backtest.end),
            "step_seconds": backtest.step,
            "budget_step_seconds": backtest.budget_step,
            "data_status": backtest.data_status,
            "detail": backtest.detail,
            "alerts": self.compared if self.saved else [e.as_dict() for e in backtest.alerts],
            "held": [episode.as_dict() for episode in backtest.held],
            "real_alerts": [
                {"severity": severity, "start": rfc3339(start), "end": rfc3339(end)}
                for severity, start, end in self.real_alerts
            ],
            "budget_left": [
                {"at": rfc3339(moment), "value": value} for moment, value in backtest.budget_left
            ],
            "maintenance": [[rfc3339(a), rfc3339(b)] for a, b in backtest.maintenance],
        }


def _definition(slo: SLO, start: datetime, end: datetime) -> SLODefinition:
    """The SLO's definition with the maintenance windows over the backtest and the SLO window
    before it (an SLO not saved yet takes its service's windows for every SLO)."""
    since = start - timedelta(seconds=slo.window().period_seconds + 86400)
    if slo.pk is not None:
        excluded = maintenance_windows(slos=[slo], since=since, until=end).get(slo.pk, ())
    elif slo.service.pk is not None:
        excluded = service_maintenance_windows(service_id=slo.service.pk, since=since, until=end)
    else:
        excluded = ()
    return slo.definition(excluded)


def real_alerts(slo: SLO, start: datetime, end: datetime) -> list[tuple[str, float, float]]:
    """The alerts the SLO (or its groups) really raised that overlap [start, end]: (severity,
    fired, resolved or `end` while still firing)."""
    events = AlertEvent.objects.filter(slo__in=[slo, *slo.groups.all()], at__lte=end).order_by(
        "at", "id"
    )
    open_since: dict[tuple[int, str], datetime] = {}
    found = []
    for event in events:
        key = (event.slo_id, event.severity)
        if event.kind == AlertEventKind.FIRED:
            open_since.setdefault(key, event.at)
        elif key in open_since:
            fired = open_since.pop(key)
            if event.at >= start:
                found.append((event.severity, fired.timestamp(), event.at.timestamp()))
    found += [(key[1], at.timestamp(), end.timestamp()) for key, at in open_since.items()]
    return sorted(found, key=lambda item: item[1])


def _replay(definition: SLODefinition, days: float, at: datetime) -> Backtest:
    """The backtest of one definition; a source that cannot be built makes it unavailable."""
    try:
        source = sources_for_run()(definition.source)
    except SourceUnavailable as exc:
        begin = (at - timedelta(days=days)).timestamp()
        return Backtest(
            definition.name,
            definition.evaluation,
            begin,
            at.timestamp(),
            data_status=UNAVAILABLE,
            detail=str(exc),
        )
    return run_backtest(
        definition,
        source,
        end=at.timestamp(),
        days=days,
        step=STEP,
        max_groups=settings.SLO_MAX_GROUPS,
    )


def slo_backtest_run(*, slo: SLO, days: float = DEFAULT_DAYS, at: datetime) -> BacktestReport:
    """Replay `slo`'s alerts over the `days` before `at` (BacktestError when it cannot). A
    group of a grouped SLO is replayed with its definition (every group, each on its own)."""
    if slo.is_group:
        slo = slo.parent
    start = at - timedelta(days=days)
    definition = _definition(slo, start, at)
    backtest = _replay(definition, days, at)
    report = BacktestReport(backtest, saved=slo.pk is not None)
    if slo.pk is not None:
        report.real_alerts = real_alerts(slo, start, at)
    report.compared = compare(backtest.alerts, report.real_alerts)
    return report


def slo_backtest_draft(
    *, slo: SLO, service_name: str, days: float = DEFAULT_DAYS, at: datetime
) -> BacktestReport:
    """Backtest an SLO as edited, before it is saved: checked as saving would check it
    (ValidationError with the fields at fault), then replayed."""
    service = Service.objects.filter(name=service_name).first()
    slo.service = service or Service(name=service_name, team=slo.team)
    if slo.indicator_id:
        slo.copy_indicator_from(slo.indicator)
    excluded = ["service", "team", "indicator", "data_source", "name"]
    slo.full_clean(exclude=excluded, validate_unique=False)
    return slo_backtest_run(slo=slo, days=days, at=at)


def slo_backtest_file(
    *, path: Path, team: Team | None, days: float, at: datetime, sloth_period: str | None = None
) -> list[BacktestReport]:
    """Backtest every SLO of an SLO file (any format slo_import reads) without keeping it: the
    file is imported in a transaction that is rolled back once the definitions are read."""
    planned = plan_file(path, sloth_period=sloth_period)
    names = [item.name for item in planned if item.kind == "SLO"]
    if not names:
        raise BacktestError(f"{path} defines no SLO")
    start = at - timedelta(days=days)
    with transaction.atomic():
        import_planned(actor=None, planned=planned, name=str(path), default_team=team)
        slos = list(
            SLO.objects.filter(name__in=names).select_related("service", "team", "data_source")
        )
        definitions = [_definition(slo, start, at) for slo in slos]
        transaction.set_rollback(True)
    reports = []
    for definition in sorted(definitions, key=lambda d: d.name):
        backtest = _replay(definition, days, at)
        reports.append(BacktestReport(backtest, compared=compare(backtest.alerts, [])))
    return reports

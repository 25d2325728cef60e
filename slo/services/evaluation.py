"""Evaluate SLOs and record the outcome: snapshots, data status, alert transitions, outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from audit.services import audit_record
from slo import engine
from slo.choices import AlertEventKind, DataStatus, Severity
from slo.definitions import MEASURED, Evaluation
from slo.models import SLO, AlertDelivery, AlertEvent, AlertState, Snapshot
from slo.selectors import maintenance_windows
from slo.services.alerts import alert_payload
from slo.sources.factory import sources_for_run

KEEP_EVERY_MINUTE = timedelta(days=2)
KEEP_HOURLY = timedelta(days=400)
KEEP_DELIVERED = timedelta(days=7)


class UnknownSLO(LookupError):
    pass


def slos_for_evaluation(names: Sequence[str] | None = None) -> list[SLO]:
    """Every SLO (or those named, each of which must exist), by name, ready for definition().
    The groups of a grouped SLO are measured through their definition, so they are not listed."""
    slos = SLO.objects.filter(parent=None).select_related("service", "team", "data_source")
    slos = slos.order_by("name")
    found = list(slos.filter(name__in=names) if names else slos)
    missing = sorted(set(names or ()) - {slo.name for slo in found})
    if missing:
        raise UnknownSLO(f"no SLO named {', '.join(missing)}")
    return found


def slo_evaluate(*, slos: Sequence[SLO], at: datetime) -> list[Evaluation]:
    """Evaluate without recording anything (slo_evaluate's code path)."""
    return engine.evaluate(
        slo_definitions(slos=slos, since=at - MAINTENANCE_LOOKBACK, until=at),
        at,
        sources_for_run(),
        max_groups=settings.SLO_MAX_GROUPS,
    )


# Maintenance windows are read this far back: the longest SLO window SSOps allows.
MAINTENANCE_LOOKBACK = timedelta(days=400)


def slo_definitions(*, slos: Sequence[SLO], since: datetime, until: datetime) -> list:
    """The engine's definitions of the SLOs, each with its maintenance windows between `since`
    and `until` (its own and its service's)."""
    excluded = maintenance_windows(slos=slos, since=since, until=until)
    return [slo.definition(excluded.get(slo.pk, ())) for slo in slos]


def slo_batches(*, size: int) -> list[list[int]]:
    """Every SLO's id in batches of at most `size`, SLOs of one data source and service
    together, so that a batch still shares its Prometheus queries."""
    definitions = SLO.objects.filter(parent=None)
    ids = list(
        definitions.order_by("data_source_id", "service_id", "name").values_list("pk", flat=True)
    )
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def snapshot_of(slo: SLO, at: datetime, ev: Evaluation, *, detail: str | None = None) -> Snapshot:
    """The (unsaved) snapshot that records one evaluation of an SLO."""
    return Snapshot(
        slo=slo,
        at=at,
        data_status=ev.data_status,
        sli=ev.sli,
        error_budget_remaining=ev.error_budget_remaining,
        burn_rates=ev.burn_rates,
        alerts=[alert.as_dict() for alert in ev.alerts],
        held=[held.as_dict() for held in ev.held],
        time_to_exhaustion=ev.time_to_exhaustion,
        detail=ev.detail if detail is None else detail,
    )


def slo_evaluation_record(
    *, at: datetime, slo_ids: Sequence[int] | None = None
) -> list[Evaluation]:
    """Evaluate every SLO (or those with `slo_ids`) at `at` and record it. Safe to repeat for
    the same `at`: an SLO that already has its snapshot for `at` is not evaluated again (a
    batch delivered twice costs nothing), and transitions only happen when a state changes."""
    slos = slos_for_evaluation()
    if slo_ids is not None:
        wanted = set(slo_ids) - set(
            Snapshot.objects.filter(slo_id__in=slo_ids, at=at).values_list("slo_id", flat=True)
        )
        slos = [slo for slo in slos if slo.pk in wanted]
    if not slos:
        return []
    evaluations = slo_evaluate(slos=slos, at=at)  # network I/O, outside the transaction
    with transaction.atomic():
        if slo_ids is not None:
            # The same batch delivered twice at once (two workers): lock its SLOs, then record
            # only those still without their snapshot, so the second copy records nothing.
            ids = [slo.pk for slo in slos]
            list(SLO.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))
            recorded = Snapshot.objects.filter(slo_id__in=ids, at=at)
            done = set(recorded.values_list("slo_id", flat=True))
            kept = [(s, ev) for s, ev in zip(slos, evaluations, strict=True) if s.pk not in done]
            slos, evaluations = [s for s, _ in kept], [ev for _, ev in kept]
        recorded = [*zip(slos, evaluations, strict=True), *_groups(slos, evaluations)]
        Snapshot.objects.bulk_create(
            [snapshot_of(slo, at, ev) for slo, ev in recorded], ignore_conflicts=True
        )
        states = {
            (state.slo_id, state.severity): state
            for state in AlertState.objects.select_for_update().filter(
                slo__in=[slo for slo, _ in recorded]
            )
        }
        for slo, ev in recorded:
            _record_data_status(slo, ev)
            if slo.is_grouped:
                continue  # its groups alert, each on its own
            for severity in Severity.values:
                state = states.get((slo.pk, severity)) or AlertState(slo=slo, severity=severity)
                _record_alert(slo, state, ev)
        SLO.objects.filter(pk__in=[s.pk for s, _ in recorded]).update(evaluated_at=at)
        if AlertDelivery.objects.filter(delivered_at=None).exists():
            transaction.on_commit(_deliver_soon)  # one delivery run for the whole evaluation
    return evaluations


def _group_key(labels: dict[str, str]) -> tuple:
    return tuple(sorted(labels.items()))


def _groups(slos: Sequence[SLO], evaluations: Sequence[Evaluation]) -> list[tuple[SLO, Evaluation]]:
    """The group rows of the grouped SLOs with their evaluations. A group seen for the first
    time gets its row (audited); one no longer measured is recorded without data (or
    unavailable, with its definition)."""
    grouped = [(slo, ev) for slo, ev in zip(slos, evaluations, strict=True) if slo.is_grouped]
    if not grouped:
        return []
    rows: dict[int, dict[tuple, SLO]] = {slo.pk: {} for slo, _ in grouped}
    existing = SLO.objects.filter(parent__in=[slo for slo, _ in grouped])
    for row in existing.select_related("service", "team", "parent"):
        rows[row.parent_id][_group_key(row.group_labels)] = row
    found = []
    for slo, ev in grouped:
        own = rows[slo.pk]
        for group in ev.groups or []:
            key = _group_key(group.group)
            if key not in own:
                own[key] = row = slo.group_row(group.group, group.name)
                row.save()
                audit_record(
                    action="slo.group.created",
                    obj=row,
                    team=row.team_id,
                    payload={"definition": slo.name, "group": group.group},
                )
            found.append((own[key], group))
        measured = {_group_key(group.group) for group in ev.groups or []}
        for key, row in own.items():
            if key in measured:
                continue
            gone = DataStatus.UNAVAILABLE if ev.data_status == DataStatus.UNAVAILABLE else ""
            found.append(
                (
                    row,
                    Evaluation(
                        name=row.display_name,
                        service=ev.service,
                        objective=ev.objective,
                        window=ev.window,
                        at=ev.at,
                        data_status=gone or DataStatus.NO_DATA,
                        detail=ev.detail if gone else "no series of this group in any window",
                        evaluation=ev.evaluation,
                        group=row.group_labels,
                    ),
                )
            )
    return found


def _record_data_status(slo: SLO, ev: Evaluation) -> None:
    if slo.data_status == ev.data_status and slo.data_status_detail == ev.detail:
        return
    changed = slo.data_status != ev.data_status
    previous = slo.data_status
    slo.data_status, slo.data_status_detail = ev.data_status, ev.detail
    if changed:
        slo.data_status_since = ev.at
    SLO.objects.filter(pk=slo.pk).update(
        data_status=slo.data_status,
        data_status_detail=slo.data_status_detail,
        data_status_since=slo.data_status_since,
    )
    if changed:
        audit_record(
            action="slo.data_status.changed",
            obj=slo,
            team=slo.team_id,
            payload={"from": previous, "to": ev.data_status, "detail": ev.detail, "at": ev.at},
        )


def _record_alert(slo: SLO, state: AlertState, ev: Evaluation) -> None:
    """Move the alert state on what the data says. Without data nothing moves: no alert fires,
    a firing one is neither refreshed (Alertmanager lets it lapse after its resolve_timeout)
    nor declared resolved on no evidence; it resolves or goes on once data is back."""
    if ev.data_status not in MEASURED:
        return
    enabled = slo.page_alerts if state.severity == Severity.PAGE else slo.ticket_alerts
    pairs = [f"{a.long_window}/{a.short_window}" for a in ev.alerts if a.severity == state.severity]
    firing = enabled and bool(pairs)
    if not firing and not state.firing:
        return
    if firing and state.firing:
        if state.windows != pairs:
            state.windows = pairs
            state.save(update_fields=["windows"])
        _enqueue(slo, state, ev, event=None)  # refresh, so Alertmanager keeps it active
        return
    kind = AlertEventKind.FIRED if firing else AlertEventKind.RESOLVED
    state.firing = firing
    state.windows = pairs if firing else []
    if firing:
        state.since = ev.at
    state.save()
    event = AlertEvent.objects.create(
        slo=slo,
        severity=state.severity,
        kind=kind,
        at=ev.at,
        windows=pairs,
        burn_rates=ev.burn_rates,
        reason="" if firing else "burn rates back under their thresholds",
    )
    audit_record(
        action=f"slo.alert.{kind}",
        obj=slo,
        team=slo.team_id,
        payload={"severity": state.severity, "windows": pairs, "at": ev.at, "reason": event.reason},
    )
    _enqueue(slo, state, ev, event=event)


def _enqueue(slo: SLO, state: AlertState, ev: Evaluation, event: AlertEvent | None) -> None:
    payload = alert_payload(slo=slo, state=state, evaluation=ev)
    kind = AlertEventKind.FIRED if state.firing else AlertEventKind.RESOLVED
    if event is None:
        # A refresh replaces a refresh still waiting in the outbox instead of piling up.
        waiting = AlertDelivery.objects.filter(
            state=state, kind=kind, event=None, delivered_at=None
        ).update(payload=payload)
        if waiting:
            return
    AlertDelivery.objects.create(state=state, event=event, kind=kind, payload=payload)


def _deliver_soon() -> None:
    from slo.tasks import deliver_alerts

    deliver_alerts.apply_async(expires=55)


def slo_history_prune(*, now: datetime) -> int:
    """Keep every snapshot of the last two days and one an hour up to the longest window SSOps
    allows (400 days); drop delivered outbox rows after a week. Returns the rows deleted."""
    minutely = Snapshot.objects.filter(at__lt=now - KEEP_EVERY_MINUTE, at__minute__gt=0)
    deleted = minutely.delete()[0]
    deleted += Snapshot.objects.filter(at__lt=now - KEEP_HOURLY).delete()[0]
    deleted += AlertDelivery.objects.filter(delivered_at__lt=now - KEEP_DELIVERED).delete()[0]
    if deleted:
        audit_record(action="slo.history.pruned", payload={"rows": deleted, "at": now})
    return deleted

"""Alerts to Alertmanager through its v2 API, from an outbox that never drops a message.

A firing alert is posted without endsAt (Alertmanager keeps it for its resolve_timeout) and
refreshed every evaluation; a resolved one is posted with endsAt. Messages go out oldest first,
each alert's in order; a failure leaves the row pending with its error, retried with backoff.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_record
from slo.definitions import Evaluation
from slo.models import SLO, AlertDelivery, AlertState

ALERT_NAME = "SLOErrorBudgetBurn"
CLAIM = timedelta(seconds=60)
MAX_BACKOFF = 300
REQUIRED_LABELS = ("slo", "service", "team", "severity")

logger = logging.getLogger(__name__)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def slo_page_url(slo: SLO) -> str:
    base = settings.SSOPS_BASE_URL
    return f"{base}/slos/{slo.name}/"


def group_alert_labels(group_labels: dict[str, str]) -> dict[str, str]:
    """A group's labels as alert labels; one that SSOps sets itself is renamed exported_<name>,
    as Prometheus renames a scraped label that collides."""
    reserved = {"alertname", *REQUIRED_LABELS}
    return {
        (f"exported_{name}" if name in reserved else name): value
        for name, value in group_labels.items()
    }


def alert_payload(*, slo: SLO, state: AlertState, evaluation: Evaluation) -> dict:
    """One alert as Alertmanager's POST /api/v2/alerts takes it. The alerts of a grouped SLO's
    groups carry the definition's name as `slo` and the group's labels, so that Alertmanager
    grouping by slo puts one definition's pages in one notification."""
    extra = slo.alert_labels or {}
    labels = {
        "alertname": ALERT_NAME,
        **extra.get("*", {}),
        **extra.get(state.severity, {}),
        **group_alert_labels(slo.group_labels or {}),
        "slo": slo.parent.name if slo.is_group else slo.name,
        "service": slo.service.name,
        "team": slo.team.slug,
        "severity": state.severity,
    }
    involved = {window for pair in state.windows or [] for window in pair.split("/")}
    burns = ", ".join(
        f"{window} {rate:.2f}x"
        for window, rate in evaluation.burn_rates.items()
        if rate is not None and window in involved
    )
    page = slo_page_url(slo)
    annotations = {
        **(slo.alert_annotations or {}),
        **(slo.severity_annotations or {}).get(state.severity, {}),
        "summary": f"SLO {slo.display_name if slo.is_group else slo.name} of "
        f"{slo.service.name} is burning its error budget",
        "description": (
            f"Objective {slo.objective:.4%} over {slo.window_label()}; windows above threshold: "
            f"{', '.join(state.windows) or 'none'}; burn rates: {burns or 'n/a'}."
        ),
        "dashboard_url": slo.dashboard_url or page,
    }
    if slo.runbook_url:
        annotations["runbook_url"] = slo.runbook_url
    payload = {
        "labels": labels,
        "annotations": annotations,
        "startsAt": _iso(state.since or evaluation.at),
        "generatorURL": page,
    }
    if not state.firing:
        payload["endsAt"] = _iso(evaluation.at)
    return payload


class DeliveryFailed(Exception):
    pass


def alertmanager_post(url: str, payload: dict) -> None:
    """POST one alert to Alertmanager's v2 API; DeliveryFailed when it does not take it."""
    try:
        response = requests.post(
            f"{url.rstrip('/')}/api/v2/alerts", json=[payload], timeout=settings.PROMETHEUS_TIMEOUT
        )
    except requests.RequestException as exc:
        raise DeliveryFailed(f"Alertmanager at {url} is unreachable: {exc}") from None
    if response.status_code != 200:
        raise DeliveryFailed(f"Alertmanager answered {response.status_code}: {response.text[:300]}")


def alert_send(payload: dict, *, what: str) -> bool:
    """Post one alert to ALERTMANAGER_URL when it is set, for callers that send again rather
    than keep an outbox; False (and a warning naming `what`) when it did not arrive."""
    url = settings.ALERTMANAGER_URL
    if not url:
        return False
    try:
        alertmanager_post(url, payload)
    except DeliveryFailed as exc:
        logger.warning("%s not delivered: %s", what, exc)
        return False
    return True


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    waiting: int = 0


def alert_deliveries_send(*, now: datetime | None = None, limit: int = 500) -> DeliveryReport:
    """Post pending outbox rows to ALERTMANAGER_URL; safe to run concurrently and repeatedly."""
    now = now or timezone.now()
    report = DeliveryReport()
    url = settings.ALERTMANAGER_URL
    blocked: set[str] = set()
    pending = AlertDelivery.objects.filter(delivered_at=None).select_related("event", "alert")
    for row in pending.order_by("id")[:limit]:
        if row.stream in blocked or (row.next_attempt_at and row.next_attempt_at > now):
            blocked.add(row.stream)  # later messages of this alert wait for this one
            report.waiting += 1
            continue
        claimed = (
            AlertDelivery.objects.filter(pk=row.pk, delivered_at=None)
            .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
            .update(claimed_until=now + CLAIM)
        )
        if not claimed:
            blocked.add(row.stream)
            continue
        row.attempts += 1
        try:
            if not url:
                raise DeliveryFailed("ALERTMANAGER_URL is not set; the alert waits in the outbox")
            alertmanager_post(url, row.payload)
        except DeliveryFailed as exc:
            row.last_error = str(exc)
            row.next_attempt_at = now + timedelta(seconds=min(MAX_BACKOFF, 5 * 2**row.attempts))
            row.claimed_until = None
            row.save(update_fields=["attempts", "last_error", "next_attempt_at", "claimed_until"])
            blocked.add(row.stream)
            report.failed += 1
            labels = row.payload["labels"]
            logger.warning(
                "%s %s alert %s kept in the outbox (attempt %s, next after %s): %s",
                labels["severity"],
                row.kind,
                _named(labels),
                row.attempts,
                _iso(row.next_attempt_at),
                exc,
            )
            continue
        with transaction.atomic():
            row.delivered_at = timezone.now()
            row.last_error = ""
            row.save(update_fields=["attempts", "delivered_at", "last_error"])
            _audit_delivered(row)
        report.delivered += 1
    return report


def _named(labels: dict) -> str:
    if "slo" in labels:
        return f"of SLO {labels['slo']}"
    return f"{labels['alertname']} ({labels.get('request') or labels.get('policy') or ''})"


def _audit_delivered(row: AlertDelivery) -> None:
    """A transition's message is audited when Alertmanager took it (refreshes are not)."""
    if row.alert is not None:
        audit_record(
            action="alert.delivered",
            obj=row.alert,
            payload={"alertname": row.alert.alertname, "kind": row.kind, "attempts": row.attempts},
        )
    elif row.event is not None:
        audit_record(
            action="slo.alert.delivered",
            object_type="slo.slo",
            object_id=row.payload["labels"]["slo"],
            payload={"severity": row.event.severity, "kind": row.kind, "attempts": row.attempts},
        )

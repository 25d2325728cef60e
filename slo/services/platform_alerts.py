"""SSOps's alerts about its own operations, to Alertmanager through the same outbox as the SLO
alerts: a provisioning run that failed (provisioning), a spike of policy denies (metrics), an
approval past its due time (catalog). The app that sees the cause raises and resolves the alert;
this module keeps one alert per cause, audits each transition in the caller's transaction and
queues its message.

Labels: `alertname`, `team` (who acts on it; Alertmanager routes on it), `service` (the part of
SSOps), `severity` (`page` or `ticket`), and `request` when one request is the cause (or
another label naming the cause, such as `policy`). Annotations carry the summary, the
description and `dashboard_url`, the page that explains the alert. While an alert fires the
delivery job posts it again every minute (Alertmanager would otherwise let it lapse after its
resolve_timeout); its resolution is sent with `endsAt`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from slo.choices import AlertEventKind, Severity
from slo.models import AlertDelivery, PlatformAlert
from slo.services.alerts import DeliveryFailed, alertmanager_post

logger = logging.getLogger(__name__)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def absolute_url(path: str) -> str:
    return path if "://" in path else f"{settings.SSOPS_BASE_URL}{path}"


def platform_alert_payload(alert: PlatformAlert) -> dict:
    """The alert as Alertmanager's POST /api/v2/alerts takes it."""
    payload = {
        "labels": dict(alert.labels),
        "annotations": {
            "summary": alert.summary,
            "description": alert.description,
            "dashboard_url": alert.url,
        },
        "startsAt": _iso(alert.since),
        "generatorURL": alert.url,
    }
    if not alert.firing and alert.resolved_at is not None:
        payload["endsAt"] = _iso(alert.resolved_at)
    return payload


def _deliver_soon() -> None:
    from slo.tasks import deliver_alerts

    deliver_alerts.apply_async(expires=55)


def _enqueue(alert: PlatformAlert, kind: str) -> None:
    AlertDelivery.objects.create(alert=alert, kind=kind, payload=platform_alert_payload(alert))
    transaction.on_commit(_deliver_soon, robust=True)


def platform_alert_raise(
    *,
    key: str,
    alertname: str,
    severity: str,
    team: str,
    service: str,
    summary: str,
    url: str,
    description: str = "",
    labels: dict[str, str] | None = None,
    at: datetime | None = None,
) -> PlatformAlert | None:
    """Fire the alert of one cause, once: returns it when it fired now, None when it already
    fires (nothing changes then). Audited (`alert.fired`) in the caller's transaction."""
    if severity not in Severity.values:
        raise ValueError(f"severity {severity!r}: use page or ticket")
    at = at or timezone.now()
    full_labels = {
        **(labels or {}),
        "alertname": alertname,
        "team": team,
        "service": service,
        "severity": severity,
    }
    fields = {
        "alertname": alertname,
        "severity": severity,
        "labels": full_labels,
        "summary": summary[:300],
        "description": description,
        "url": absolute_url(url),
        "firing": True,
        "since": at,
        "resolved_at": None,
        "resolution": "",
    }
    with transaction.atomic():
        alert = PlatformAlert.objects.select_for_update().filter(key=key).first()
        if alert is not None and alert.firing:
            return None
        if alert is None:
            alert = PlatformAlert.objects.create(key=key, **fields)
        else:
            for name, value in fields.items():
                setattr(alert, name, value)
            alert.save()
        audit_record(
            action="alert.fired",
            obj=alert,
            payload={"key": key, "labels": full_labels, "summary": alert.summary, "url": alert.url},
        )
        _enqueue(alert, AlertEventKind.FIRED)
    return alert


def platform_alert_resolve(*, key: str, reason: str, at: datetime | None = None) -> bool:
    """Resolve the firing alert of one cause; False when none fires. Audited (`alert.resolved`)
    in the caller's transaction."""
    at = at or timezone.now()
    with transaction.atomic():
        moved = PlatformAlert.objects.filter(key=key, firing=True).update(
            firing=False, resolved_at=at, resolution=reason[:300]
        )
        if not moved:
            return False
        alert = PlatformAlert.objects.get(key=key)
        audit_record(
            action="alert.resolved",
            obj=alert,
            payload={"key": key, "labels": alert.labels, "reason": reason},
        )
        _enqueue(alert, AlertEventKind.RESOLVED)
    return True


def platform_alerts_firing(*, alertname: str, **labels: str):
    """The firing alerts of one name whose labels include these (e.g. team=…)."""
    alerts = PlatformAlert.objects.filter(alertname=alertname, firing=True)
    for name, value in labels.items():
        alerts = alerts.filter(**{f"labels__{name}": value})
    return alerts


def platform_alerts_refresh() -> int:
    """Post every firing alert again whose announcement Alertmanager already took, so that it
    stays active there. No outbox row and no audit event: a refresh that fails is made good by
    the next one. Returns the alerts posted."""
    url = settings.ALERTMANAGER_URL
    if not url:
        return 0
    waiting = AlertDelivery.objects.filter(alert__isnull=False, delivered_at=None).values("alert")
    sent = 0
    for alert in PlatformAlert.objects.filter(firing=True).exclude(pk__in=waiting):
        try:
            alertmanager_post(url, platform_alert_payload(alert))
        except DeliveryFailed as exc:
            logger.warning("refresh of %s not delivered: %s", alert, exc)
            return sent
        sent += 1
    return sent

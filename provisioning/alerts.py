"""The alert when provisioning fails: a request's provision run failed, so what was asked for
was not made. It pages when that blocks a high-risk or production request, and opens a ticket
otherwise; it goes to the request's team, names the request, and links to the request's page
(its run, the step that failed and why). It resolves when a later request of the same template
for the same team is made ready — the change went through after all — or when an incident that
names the request is resolved.
"""

from __future__ import annotations

from django.urls import reverse

from catalog.choices import RiskTier
from catalog.models import Request
from slo.choices import Severity
from slo.services import platform_alert_raise, platform_alert_resolve, platform_alerts_firing

ALERT_NAME = "ProvisioningFailed"
SERVICE = "ssops-provisioning"
PRODUCTION = frozenset({"prod", "production"})


def failure_key(request_uuid) -> str:
    return f"provisioning-failed:{request_uuid}"


def is_production(request: Request) -> bool:
    environment = str((request.parameters or {}).get("environment", "")).strip().lower()
    return environment in PRODUCTION


def failure_severity(request: Request) -> str:
    """page for a high-risk or production request, ticket for any other."""
    if request.risk_tier == RiskTier.HIGH or is_production(request):
        return Severity.PAGE
    return Severity.TICKET


def provisioning_failure_alert(*, request: Request, error: str) -> None:
    """Raise the alert of a request whose provision run failed (once per request)."""
    template = request.template_version.template.slug
    severity = failure_severity(request)
    why = []
    if request.risk_tier == RiskTier.HIGH:
        why.append("high risk")
    if is_production(request):
        why.append("production")
    platform_alert_raise(
        key=failure_key(request.uuid),
        alertname=ALERT_NAME,
        severity=severity,
        team=request.team.slug,
        service=SERVICE,
        labels={"request": str(request.uuid), "template": template},
        summary=f"Provisioning {template} {request.template_version.version} for "
        f"{request.team.slug} failed"
        + (f" ({' and '.join(why)}: the change is blocked)" if why else ""),
        description=error[:1000],
        url=reverse("catalog:request-detail", args=[request.uuid]),
    )


def provisioning_failures_resolve(*, request: Request) -> int:
    """A request was made ready: the failures of earlier requests of its template for its team
    are resolved. Returns how many."""
    template = request.template_version.template.slug
    earlier = platform_alerts_firing(
        alertname=ALERT_NAME, team=request.team.slug, template=template
    )
    resolved = 0
    for key in earlier.values_list("key", flat=True):
        resolved += platform_alert_resolve(
            key=key, reason=f"request {request.uuid} of {template} was made ready since"
        )
    return resolved


def provisioning_failure_resolve(*, request_uuid, reason: str) -> bool:
    return platform_alert_resolve(key=failure_key(request_uuid), reason=reason)

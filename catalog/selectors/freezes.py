"""The service a request changes and its change freeze, as the policy input and the request
form see it (the SLO state comes from the slo app)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from catalog.models import TemplateVersion
from slo.models import Service
from slo.selectors import Freeze, service_freeze


@dataclass
class RequestTarget:
    """The service (and environment) a request changes, and its freeze when SSOps knows the
    service (None: no SLOs of that name, so no freeze applies)."""

    name: str
    environment: str
    freeze: Freeze | None

    @property
    def frozen(self) -> bool:
        return self.freeze is not None and self.freeze.frozen

    def policy_input(self) -> dict:
        """The policy input's `service` (docs/catalog.md)."""
        freeze = self.freeze
        override = freeze.override if freeze else None
        return {
            "name": self.name,
            "environment": self.environment,
            "known": freeze is not None,
            "frozen": self.frozen,
            "held_by_slos": bool(freeze and freeze.held_by_slos),
            "reasons": freeze.reasons if freeze else [],
            "warnings": freeze.warnings if freeze else [],
            "slos": [standing.as_dict() for standing in freeze.slos] if freeze else [],
            "override": None
            if override is None
            else {
                "until": override.until.isoformat(),
                "by": override.created_by.get_username(),
                "reason": override.reason,
            },
        }


def request_target(
    *, version: TemplateVersion, parameters: dict, now: datetime | None = None
) -> RequestTarget | None:
    """What a request with these parameters would change; None when the template names no
    service (or the parameter naming it is not filled in yet)."""
    name, environment = version.target_of(parameters)
    if not name:
        return None
    service = Service.objects.filter(name=name).first()
    freeze = service_freeze(service=service, now=now or timezone.now()) if service else None
    return RequestTarget(name, environment, freeze)

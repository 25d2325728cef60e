"""Choice classes of the platform metrics (with the badge colours of incident severities)."""

from django.db import models

from core import badges as core_badges
from slo import definitions


class PeriodKind(models.TextChoices):
    DAY = "day", "Day"
    WEEK = "week", "Week (ISO, Monday to Sunday)"
    MONTH = "month", "Month"


class MetricStatus(models.TextChoices):
    """Whether a platform metric could be computed for a period, and if not, why."""

    OK = definitions.OK, "OK"
    NO_DATA = definitions.NO_DATA, "No data"
    UNAVAILABLE = definitions.UNAVAILABLE, "Source unavailable"

    @classmethod
    def colour(cls, value: str) -> str:
        return {cls.OK: "ok", cls.NO_DATA: "warn", cls.UNAVAILABLE: "bad"}.get(value, "")


class GapKind(models.TextChoices):
    REQUEST = "request", "Request transition"
    APPROVAL = "approval", "Approval"
    RUN = "run", "Provisioning run (or step) transition"
    RESOURCE = "resource", "Resource transition"
    RUNBOOK_RUN = "runbook_run", "Runbook run transition"
    RUNBOOK_APPROVAL = "runbook_approval", "Runbook run approval"


class ActorRule(models.TextChoices):
    """The kinds of unexpected actor the audit trail is watched for (failure mode F3)."""

    NO_ROLE = "no_role", "Wrote to a team it has no role in"
    TOKEN_AFTER_LEAVING = "token_after_leaving", "Token used after its owner left a team"
    ADMIN_OUTSIDE_PLATFORM = "admin_outside_platform", "Admin-site change outside platform-admin"
    BREAK_GLASS_OUTSIDE_INCIDENT = (
        "break_glass_no_incident",
        "Break-glass with no declared incident",
    )


class IncidentSeverity(models.TextChoices):
    SEV1 = "sev1", "SEV1 — critical: a service is down or data at risk"
    SEV2 = "sev2", "SEV2 — major: a service degraded for many"
    SEV3 = "sev3", "SEV3 — minor: degraded for a few, a workaround exists"

    @property
    def short(self) -> str:
        return self.value.upper()


core_badges.register(
    {IncidentSeverity.SEV1: "bad", IncidentSeverity.SEV2: "warn", IncidentSeverity.SEV3: ""}
)

"""Records of the platform metrics: FOCUS billing rows and their imports, stored metric values
per period, catalog probe results, incidents and on-call actions, satisfaction ratings and
survey answers, cost burn-rate alerts of team budgets, the audit gaps the reconciliation job
found, and the unexpected actors the audit trail's watch found."""

from __future__ import annotations

import uuid
from functools import reduce
from operator import or_

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from metrics import catalogue
from metrics.choices import ActorRule, GapKind, IncidentSeverity, MetricStatus, PeriodKind


def money(**options) -> models.DecimalField:
    """An amount as FOCUS gives it (up to 14 digits before the point, 10 after)."""
    return models.DecimalField(max_digits=24, decimal_places=10, **options)


class BillingImport(models.Model):
    """One FOCUS file imported by billing_import (kept after its rows are replaced)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    focus_version = models.CharField(max_length=8)
    row_count = models.PositiveIntegerField()
    replaced_rows = models.PositiveIntegerField(default=0)
    periods = models.JSONField(
        default=list, help_text="[{billing_account_id, billing_period_start, rows}]"
    )
    effective_cost = models.JSONField(default=dict, help_text="EffectiveCost per currency")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "slo_billingimport"
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.row_count} rows, FOCUS {self.focus_version})"


class BillingRow(models.Model):
    """One FOCUS row. A billing account's billing period is held whole by the latest import
    that had it: importing it again replaces its rows."""

    billing_import = models.ForeignKey(
        BillingImport, on_delete=models.CASCADE, related_name="billing_rows"
    )
    row = models.PositiveIntegerField(help_text="row number in the imported file")
    billing_account_id = models.CharField(max_length=200)
    billing_account_name = models.CharField(max_length=200, blank=True)
    billing_period_start = models.DateTimeField()
    billing_period_end = models.DateTimeField()
    charge_period_start = models.DateTimeField()
    charge_period_end = models.DateTimeField()
    charge_category = models.CharField(max_length=16)
    charge_class = models.CharField(max_length=16, blank=True)
    charge_description = models.TextField(blank=True)
    billed_cost = money()
    effective_cost = money()
    list_cost = money()
    contracted_cost = money()
    billing_currency = models.CharField(max_length=3)
    service_name = models.CharField(max_length=200)
    service_category = models.CharField(max_length=100)
    provider_name = models.CharField(max_length=200)
    publisher_name = models.CharField(max_length=200, blank=True)
    resource_id = models.CharField(max_length=500, blank=True)
    resource_name = models.CharField(max_length=500, blank=True)
    resource_type = models.CharField(max_length=200, blank=True)
    tags = models.JSONField(default=dict)
    owner = models.CharField(max_length=200, blank=True, help_text="owner (or team) tag")
    cost_center = models.CharField(max_length=200, blank=True, help_text="cost-center tag")
    extra = models.JSONField(default=dict, help_text="columns SSOps does not model")

    class Meta:
        db_table = "slo_billingrow"
        ordering = ["charge_period_start", "id"]
        indexes = [
            models.Index(
                fields=["billing_account_id", "billing_period_start"], name="billing_period_idx"
            ),
            models.Index(fields=["charge_period_start"], name="billing_charge_idx"),
            models.Index(fields=["resource_id"], name="billing_resource_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.service_name} {self.effective_cost} {self.billing_currency}"


class MetricSnapshotQuerySet(models.QuerySet):
    def current(self) -> MetricSnapshotQuerySet:
        """The figures computed under each metric's current definition: pages show only these,
        so that no history mixes definitions (older ones are recomputed, never shown)."""
        return self.filter(
            reduce(or_, (Q(metric=m.key, definition=m.version) for m in catalogue.METRICS))
        )


class MetricSnapshot(models.Model):
    """The value of one platform metric for one period, team (None: all teams) and dimension
    ("" = overall), as the beat job computed it from the records. Pages and the API read these."""

    metric = models.CharField(max_length=4)
    period_kind = models.CharField(max_length=8, choices=PeriodKind.choices)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    team = models.ForeignKey(
        "teams.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    dimension = models.CharField(max_length=300, blank=True)
    value = models.FloatField(null=True)
    extras = models.JSONField(default=dict)
    data_status = models.CharField(max_length=16, choices=MetricStatus.choices)
    detail = models.TextField(blank=True)
    complete = models.BooleanField(help_text="computed after the period had ended")
    computed_at = models.DateTimeField()
    definition = models.PositiveSmallIntegerField(
        default=1, help_text="the version of the metric's definition it was computed under"
    )

    objects = MetricSnapshotQuerySet.as_manager()

    class Meta:
        db_table = "slo_metricsnapshot"
        ordering = ["metric", "-period_start", "team_id", "dimension"]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "period_kind", "period_start", "team", "dimension"],
                condition=Q(team__isnull=False),
                name="metricsnapshot_team_once",
            ),
            models.UniqueConstraint(
                fields=["metric", "period_kind", "period_start", "dimension"],
                condition=Q(team__isnull=True),
                name="metricsnapshot_all_once",
            ),
        ]
        indexes = [
            models.Index(
                fields=["period_kind", "metric", "-period_start"], name="metricsnapshot_history"
            )
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.period_kind} {self.period_start:%Y-%m-%d}: {self.value}"


class MetricDefinition(models.Model):
    """When a version of a metric's definition began to hold (first computed under it), and
    when the stored history was recomputed under it (`platform_metrics --recompute`): pages
    show only figures of the current version, never a mix."""

    metric = models.CharField(max_length=4)
    version = models.PositiveSmallIntegerField()
    since = models.DateTimeField()
    recomputed_at = models.DateTimeField(null=True, blank=True)
    periods_recomputed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["metric", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["metric", "version"], name="metric_definition_once")
        ]

    def __str__(self) -> str:
        return f"{self.metric} v{self.version} since {self.since:%Y-%m-%d}"


class ProbeResult(models.Model):
    """One minute's synthetic probe of the catalog API (M3)."""

    at = models.DateTimeField(unique=True, help_text="the minute probed")
    ok = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    synthetic = models.BooleanField(default=False, help_text="demo history made by seed_demo")

    class Meta:
        db_table = "slo_proberesult"
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"probe {self.at:%Y-%m-%d %H:%M}: {'ok' if self.ok else 'failed'}"


class Incident(models.Model):
    """Something on-call handles: when its impact began (`started_at`), when it was opened,
    acknowledged (MTTA: opened → acknowledged) and resolved (MTTR: began → resolved), how severe
    it is, who owns it, and the SLOs and requests it concerns."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(max_length=200)
    severity = models.CharField(
        max_length=4, choices=IncidentSeverity.choices, default=IncidentSeverity.SEV2
    )
    team = models.ForeignKey(
        "teams.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="incidents"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    slos = models.ManyToManyField("slo.SLO", blank=True, related_name="incidents")
    requests = models.ManyToManyField("catalog.Request", blank=True, related_name="incidents")
    started_at = models.DateTimeField(help_text="when the impact began (at most when opened)")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        db_table = "slo_incident"
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["resolved_at"], name="incident_resolved")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class OncallAction(models.Model):
    """Something on-call did by hand (outside SSOps) for an incident, logged so that M9 can
    compare it with the runbook runs done through SSOps."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="actions")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    description = models.TextField()
    performed_at = models.DateTimeField()
    logged_at = models.DateTimeField(auto_now_add=True)
    by_oncall = models.BooleanField(help_text="the actor was on-call (or a platform admin)")

    class Meta:
        db_table = "slo_oncallaction"
        ordering = ["-performed_at", "-id"]
        indexes = [models.Index(fields=["performed_at"], name="oncallaction_performed")]

    def __str__(self) -> str:
        return f"{self.actor} on {self.incident}: {self.description[:40]}"


class SatisfactionRating(models.Model):
    """A requester's 1–5 rating of a finished request (one per request; changing it updates)."""

    request = models.OneToOneField(
        "catalog.Request", on_delete=models.CASCADE, related_name="rating"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "slo_satisfactionrating"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_at"], name="rating_created")]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=5), name="rating_score_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.score}/5 for {self.request_id}"


class SurveyAnswer(models.Model):
    """A user's answer to the quarterly survey (M12): how likely they are to recommend SSOps to
    a colleague, 0–10 — or that they dismissed it (`score` empty). Asked once a quarter: one
    row per user and quarter."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    quarter = models.CharField(max_length=7, help_text="e.g. 2026-Q1")
    score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(10)], help_text="empty: dismissed"
    )
    teams = models.ManyToManyField(
        "teams.Team", blank=True, related_name="+", help_text="the person's teams then"
    )
    answered_at = models.DateTimeField()

    class Meta:
        ordering = ["-answered_at", "-id"]
        indexes = [models.Index(fields=["answered_at"], name="survey_answered")]
        constraints = [
            models.UniqueConstraint(fields=["user", "quarter"], name="survey_once_a_quarter"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__lte=10), name="survey_score_0_to_10"
            ),
        ]

    def __str__(self) -> str:
        answer = "dismissed" if self.score is None else f"{self.score}/10"
        return f"{self.user} {self.quarter}: {answer}"

    @property
    def dismissed(self) -> bool:
        return self.score is None


class BudgetAlert(models.Model):
    """A team's cost burn rate in one month: spend so far ÷ what the budget allows so far. It
    fires above BURN_ALERT (twice the budgeted pace) and resolves below it."""

    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="first day of the month")
    firing = models.BooleanField(default=False)
    since = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    burn_rate = models.FloatField(null=True)
    spend = money()
    budgeted_so_far = money()
    monthly_limit = money()
    currency = models.CharField(max_length=3)
    covered_until = models.DateTimeField(null=True, help_text="end of the billing data so far")
    evaluated_at = models.DateTimeField()

    class Meta:
        db_table = "slo_budgetalert"
        ordering = ["-month", "team__slug"]
        constraints = [models.UniqueConstraint(fields=["team", "month"], name="budgetalert_once")]

    def __str__(self) -> str:
        return f"{self.team} {self.month:%Y-%m}: burn {self.burn_rate}"


class AuditGap(models.Model):
    """A state transition whose audit event is missing or wrong, named by the reconciliation
    job (M11)."""

    kind = models.CharField(max_length=16, choices=GapKind.choices)
    record = models.CharField(max_length=64, help_text="id of the transition or approval row")
    team = models.ForeignKey(
        "teams.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    object_id = models.CharField(max_length=64, blank=True, help_text="the request's UUID…")
    occurred_at = models.DateTimeField()
    expected = models.CharField(max_length=200, help_text="the audit event that should exist")
    problem = models.TextField()
    found_at = models.DateTimeField()

    class Meta:
        db_table = "slo_auditgap"
        ordering = ["-occurred_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["kind", "record"], name="auditgap_once")]

    def __str__(self) -> str:
        return self.problem


class UnexpectedActor(models.Model):
    """Someone (or some token) who should not have done what the audit trail shows (F3): found
    once per rule and `key` (the event's seq, or a token and when its owner left a team)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    rule = models.CharField(max_length=32, choices=ActorRule.choices)
    key = models.CharField(max_length=100)
    event_seq = models.BigIntegerField(null=True, blank=True, help_text="the audit event")
    actor = models.CharField(max_length=150)
    actor_id = models.BigIntegerField(null=True, blank=True)
    team = models.ForeignKey(
        "teams.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=100, blank=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    occurred_at = models.DateTimeField()
    detail = models.TextField()
    found_at = models.DateTimeField()
    alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["rule", "key"], name="unexpectedactor_once")]
        indexes = [models.Index(fields=["occurred_at"], name="unexpectedactor_when_idx")]

    def __str__(self) -> str:
        return self.detail


class AuditWatch(models.Model):
    """How far a watch over the audit trail has read (the last event's seq), so that each run
    reads only what was appended since."""

    name = models.CharField(max_length=100, unique=True)
    seq = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} at #{self.seq}"

"""Site-wide records: stored trace spans (for the debug dashboard), beat job runs and their
locks, and per-minute counts of API requests."""

from __future__ import annotations

from django.db import models


class TraceSpan(models.Model):
    """One OpenTelemetry span, stored when OTEL_TRACES_EXPORTER=db."""

    trace_id = models.CharField(max_length=32, db_index=True)
    span_id = models.CharField(max_length=16)
    parent_id = models.CharField(max_length=16, blank=True)
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=16)
    service = models.CharField(max_length=64, default="ssops")
    start = models.DateTimeField()
    end = models.DateTimeField()
    duration_ms = models.FloatField()
    status = models.CharField(max_length=16, default="UNSET")
    attributes = models.JSONField(default=dict)

    class Meta:
        db_table = "ssops_site_tracespan"
        ordering = ["start"]
        constraints = [
            models.UniqueConstraint(fields=["trace_id", "span_id"], name="tracespan_unique_span")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.duration_ms:.1f} ms)"


class JobOutcome(models.TextChoices):
    OK = "ok", "OK"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped (another run held the lock)"


class JobRun(models.Model):
    """One run of a beat job: when, how long, and how it ended (the on-call page reads these)."""

    name = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    duration_ms = models.FloatField()
    outcome = models.CharField(max_length=8, choices=JobOutcome.choices)
    error = models.TextField(blank=True)
    result = models.JSONField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="host and process id")

    class Meta:
        db_table = "ssops_site_jobrun"
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["name", "-started_at"], name="jobrun_name_started")]

    def __str__(self) -> str:
        return f"{self.name} at {self.started_at:%Y-%m-%d %H:%M:%S}: {self.outcome}"


class JobLock(models.Model):
    """A lease per beat job: the run that holds it until `locked_until` is the only one that
    runs (a second beat, or an overlapping run, is skipped and recorded as such)."""

    name = models.CharField(max_length=200, primary_key=True)
    holder = models.CharField(max_length=64, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    acquired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "ssops_site_joblock"

    def __str__(self) -> str:
        return f"{self.name} held until {self.locked_until}" if self.holder else self.name


class ApiRequestCount(models.Model):
    """API requests served in one minute (or one hour, once compacted), by view, method and
    status: SSOps's own record of ssops_http_requests_total, for when no Prometheus is set.
    Each web process adds its counts at most once a minute (see core.request_counts).

    With them, how many of the requests were timed and how many were answered within each of
    a few durations: SSOps's own record of ssops_http_request_duration_seconds_bucket (rows
    written before durations were kept have `timed` 0 and count for no latency)."""

    minute = models.BigIntegerField(help_text="unix seconds of the minute's (or hour's) start")
    span = models.PositiveIntegerField(default=60, help_text="seconds the row covers")
    view = models.CharField(max_length=200)
    method = models.CharField(max_length=8)
    status = models.CharField(max_length=3)
    count = models.BigIntegerField(default=0)
    timed = models.BigIntegerField(default=0, help_text="requests whose duration was measured")
    within_100ms = models.BigIntegerField(default=0)
    within_250ms = models.BigIntegerField(default=0)
    within_500ms = models.BigIntegerField(default=0)
    within_1s = models.BigIntegerField(default=0)
    within_2500ms = models.BigIntegerField(default=0)

    class Meta:
        db_table = "ssops_site_apirequestcount"
        ordering = ["minute"]
        constraints = [
            models.UniqueConstraint(
                fields=["minute", "view", "method", "status"], name="apirequestcount_once"
            )
        ]
        indexes = [models.Index(fields=["minute"], name="apirequestcount_minute")]

    def __str__(self) -> str:
        return f"{self.minute} {self.method} {self.view} {self.status}: {self.count}"

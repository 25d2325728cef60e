"""Site-wide records: stored trace spans (for the debug dashboard) and beat job runs."""

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
        ordering = ["start"]
        constraints = [
            models.UniqueConstraint(fields=["trace_id", "span_id"], name="tracespan_unique_span")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.duration_ms:.1f} ms)"

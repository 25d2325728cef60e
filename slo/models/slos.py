"""SLOs and their indicators (OpenSLO SLI).

`clean()` is the one place where an SLO is checked: the admin, the API and `slo_import` all go
through it, so a query or window that the engine cannot evaluate is refused at the door.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from slo import promql, windows
from slo.choices import (
    BudgetingMethod,
    DataSourceKind,
    DataStatus,
    IndicatorType,
    NumeratorKind,
    Origin,
    ThresholdOp,
    WindowKind,
)
from slo.definitions import RatioIndicator, SLODefinition, SourceKey, ThresholdIndicator, Window
from slo.models.openslo import AlertPolicy, DataSource, OpenSLOObject, Service, web_address

MIN_SLICE, MAX_SLICE = 10, 3600


class IndicatorFields(models.Model):
    """What an SLI measures: a ratio of two counters, or a metric against a threshold."""

    indicator_type = models.CharField(
        max_length=16, choices=IndicatorType.choices, default=IndicatorType.RATIO
    )
    numerator_kind = models.CharField(
        max_length=8, choices=NumeratorKind.choices, default=NumeratorKind.BAD, blank=True
    )
    numerator_query = models.TextField(
        blank=True, help_text='Counter selector of good or bad events, e.g. x_total{code=~"5.."}'
    )
    total_query = models.TextField(blank=True, help_text="Counter selector of all events")
    threshold_query = models.TextField(blank=True, help_text="PromQL giving one value per slice")
    data_source = models.ForeignKey(
        DataSource,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text="Empty: the Prometheus at PROMETHEUS_URL",
    )

    INDICATOR_FIELDS = (
        "indicator_type",
        "numerator_kind",
        "numerator_query",
        "total_query",
        "threshold_query",
        "data_source",
    )

    class Meta:
        abstract = True

    def indicator_errors(self) -> dict[str, str]:
        """Check (and write in canonical form) the indicator fields; return errors by field."""
        errors = {}
        if self.indicator_type == IndicatorType.RATIO:
            if self.numerator_kind not in NumeratorKind.values:
                errors["numerator_kind"] = "choose good or bad"
            for field in ("numerator_query", "total_query"):
                try:
                    setattr(self, field, str(promql.parse_counter(getattr(self, field) or "")))
                except promql.QueryError as exc:
                    errors[field] = str(exc)
        else:
            try:
                self.threshold_query = promql.check_expression(self.threshold_query or "")
            except promql.QueryError as exc:
                errors["threshold_query"] = str(exc)
            if self.data_source and self.data_source.kind != DataSourceKind.PROMETHEUS:
                errors["data_source"] = "threshold metrics are read from Prometheus"
        return errors

    def copy_indicator_from(self, other: IndicatorFields) -> None:
        for field in self.INDICATOR_FIELDS:
            setattr(self, field, getattr(other, field))


class Indicator(IndicatorFields, OpenSLOObject):
    """A named, reusable SLI (OpenSLO kind SLI), referred to by SLOs with `indicatorRef`."""

    class Meta(OpenSLOObject.Meta):
        pass

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = self.indicator_errors()
        if errors:
            raise ValidationError(errors)


class SLO(IndicatorFields, OpenSLOObject):
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="slos")
    team = models.ForeignKey("teams.Team", on_delete=models.PROTECT, related_name="slos")
    objective = models.FloatField(help_text="Share of good events (or slices), e.g. 0.999")
    objective_name = models.CharField(max_length=200, blank=True)
    threshold_op = models.CharField(
        max_length=4, choices=ThresholdOp.choices, blank=True, help_text="threshold metrics only"
    )
    threshold_value = models.FloatField(null=True, blank=True, help_text="threshold metrics only")
    window_kind = models.CharField(
        max_length=16, choices=WindowKind.choices, default=WindowKind.ROLLING
    )
    window_duration = models.CharField(max_length=8, default="30d", help_text="e.g. 30d, 4w, 1M")
    calendar_start = models.DateTimeField(null=True, blank=True)
    calendar_tz = models.CharField(max_length=64, blank=True, default="UTC")
    budgeting_method = models.CharField(
        max_length=16, choices=BudgetingMethod.choices, default=BudgetingMethod.OCCURRENCES
    )
    timeslice_target = models.FloatField(null=True, blank=True)
    timeslice_window = models.CharField(max_length=8, blank=True, help_text="e.g. 1m, 5m")
    indicator_name = models.CharField(max_length=200, blank=True)
    indicator = models.ForeignKey(
        Indicator,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="slos",
        help_text="Set when the SLO refers to a named SLI; its fields are copied here.",
    )
    alert_policies = models.ManyToManyField(AlertPolicy, related_name="slos", blank=True)
    page_alerts = models.BooleanField(default=True)
    ticket_alerts = models.BooleanField(default=True)
    alert_labels = models.JSONField(
        default=dict,
        blank=True,
        help_text='Extra Alertmanager labels: {"*": {...}, "page": {...}, "ticket": {...}}',
    )
    alert_annotations = models.JSONField(default=dict, blank=True)
    runbook_url = models.CharField(max_length=500, blank=True, validators=[web_address])
    dashboard_url = models.CharField(max_length=500, blank=True, validators=[web_address])
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.API)

    # The latest evaluation (written by the beat job with update(), so updated_at stays put).
    data_status = models.CharField(max_length=16, choices=DataStatus.choices, blank=True)
    data_status_since = models.DateTimeField(null=True, blank=True)
    data_status_detail = models.TextField(blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)

    class Meta(OpenSLOObject.Meta):
        verbose_name = "SLO"

    def __str__(self) -> str:
        return self.name

    @property
    def slug(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = self.indicator_errors()
        if self.indicator_type == IndicatorType.THRESHOLD:
            if self.threshold_op not in ThresholdOp.values:
                errors["threshold_op"] = "use one of lt, lte, gt, gte"
            if self.threshold_value is None:
                errors["threshold_value"] = "give the threshold the metric is compared with"
        if self.objective is None or not 0 < self.objective < 1:
            errors["objective"] = "the objective is a share between 0 and 1, e.g. 0.999"
        try:
            self.window()
        except windows.WindowError as exc:
            field = "calendar_tz" if "time zone" in str(exc) else "window_duration"
            errors[field] = str(exc)
        if self.window_kind == WindowKind.CALENDAR and self.calendar_start is None:
            errors["calendar_start"] = "a calendar window needs its start"
        errors.update(self._budgeting_errors())
        if errors:
            raise ValidationError(errors)

    def _budgeting_errors(self) -> dict[str, str]:
        errors = {}
        if self.budgeting_method == BudgetingMethod.OCCURRENCES:
            if self.indicator_type == IndicatorType.THRESHOLD:
                errors["budgeting_method"] = "a threshold metric is budgeted in Timeslices"
            return errors
        if self.indicator_type == IndicatorType.THRESHOLD:
            if self.budgeting_method != BudgetingMethod.TIMESLICES:
                errors["budgeting_method"] = "a threshold metric is budgeted in Timeslices"
        elif self.budgeting_method == BudgetingMethod.TIMESLICES and not (
            self.timeslice_target is not None and 0 < self.timeslice_target <= 1
        ):
            errors["timeslice_target"] = "Timeslices needs the share a slice must reach (0–1]"
        try:
            seconds = self.timeslice_seconds()
        except windows.WindowError as exc:
            errors["timeslice_window"] = str(exc)
        else:
            if not MIN_SLICE <= seconds <= MAX_SLICE or 86400 % seconds:
                errors["timeslice_window"] = (
                    "a time slice lasts from 10s to 1h and divides a day evenly (e.g. 1m, 5m)"
                )
        return errors

    def timeslice_seconds(self) -> int | None:
        if self.budgeting_method == BudgetingMethod.OCCURRENCES:
            return None
        text = (self.timeslice_window or "").strip()
        if text.endswith("s") and text[:-1].isdigit():
            return int(text[:-1])
        duration = windows.parse_duration(text)
        if duration.unit not in ("m", "h"):
            raise windows.WindowError(f"{text}: give a time slice in s, m or h")
        return duration.nominal_seconds

    def window(self) -> Window:
        if self.window_kind == WindowKind.CALENDAR:
            windows.time_zone(self.calendar_tz or "UTC")
            return Window(
                windows.calendar_duration(self.window_duration),
                self.calendar_start,
                self.calendar_tz or "UTC",
            )
        return Window(windows.rolling_duration(self.window_duration))

    def window_label(self) -> str:
        try:
            return self.window().label
        except windows.WindowError:
            return self.window_duration

    def source_key(self) -> SourceKey:
        return self.data_source.source_key() if self.data_source else SourceKey("prometheus")

    def indicator_definition(self) -> RatioIndicator | ThresholdIndicator:
        if self.indicator_type == IndicatorType.RATIO:
            return RatioIndicator(
                promql.parse_counter(self.numerator_query),
                promql.parse_counter(self.total_query),
                self.numerator_kind == NumeratorKind.GOOD,
            )
        return ThresholdIndicator(self.threshold_query, self.threshold_op, self.threshold_value)

    def definition(self) -> SLODefinition:
        """The engine's view of this SLO (needs service, team and data_source loaded)."""
        return SLODefinition(
            name=self.name,
            service=self.service.name,
            team=self.team.slug,
            objective=self.objective,
            window=self.window(),
            indicator=self.indicator_definition(),
            budgeting=self.budgeting_method,
            timeslice_target=self.timeslice_target,
            timeslice_seconds=self.timeslice_seconds(),
            source=self.source_key(),
        )

"""SLOs and their indicators (OpenSLO SLI).

`clean()` is the one place where an SLO is checked: the admin, the API and `slo_import` all go
through it, so a query or window that the engine cannot evaluate is refused at the door, and the
evaluation path of the SLI (exact or promql, slo/expressions.py) is chosen there.

A grouped SLO (its SLI grouped by labels) is one definition row, measured as one SLO per group:
each group is a row of its own (`parent` set, `group_labels` its labels' values) that the
evaluation creates when the group first shows up, so that a group has its snapshots, alert
states and page like any SLO. A group row follows its definition's settings (`follow_definition`)
and is never changed on its own.
"""

from __future__ import annotations

import hashlib
import json
import re

from django.core.exceptions import ValidationError
from django.db import models

from slo import expressions, promql, windows
from slo.choices import (
    BudgetingMethod,
    DataSourceKind,
    DataStatus,
    EvaluationPath,
    IndicatorType,
    NumeratorKind,
    Origin,
    ThresholdOp,
    WindowKind,
)
from slo.definitions import (
    QueryIndicator,
    RatioIndicator,
    SLODefinition,
    SourceKey,
    ThresholdIndicator,
    Window,
)
from slo.models.openslo import AlertPolicy, DataSource, OpenSLOObject, Service, web_address

MIN_SLICE, MAX_SLICE = 10, 3600
QUERY_FIELDS = {"numerator": "numerator_query", "total": "total_query", "ratio": "ratio_query"}


class IndicatorFields(models.Model):
    """What an SLI measures: good or bad events over all events, a ratio query, or a metric
    against a threshold; and whether SSOps counts the events itself (exact) or Prometheus
    evaluates the expressions (promql)."""

    indicator_type = models.CharField(
        max_length=16, choices=IndicatorType.choices, default=IndicatorType.RATIO
    )
    numerator_kind = models.CharField(
        max_length=8, choices=NumeratorKind.choices, default=NumeratorKind.BAD, blank=True
    )
    numerator_query = models.TextField(
        blank=True,
        help_text='Good or bad events: counter selectors (x_total{code=~"5.."}), or any PromQL '
        "with {{.window}} where the window goes",
    )
    total_query = models.TextField(
        blank=True, help_text="All events, written like the good or bad events"
    )
    ratio_query = models.TextField(
        blank=True,
        help_text="Raw SLIs: PromQL with {{.window}} giving the ratio (good share, or error "
        "ratio when the numerator kind is bad)",
    )
    threshold_query = models.TextField(blank=True, help_text="PromQL giving one value per slice")
    group_by = models.JSONField(
        default=list,
        blank=True,
        help_text="Labels the SLI is grouped by: one SLO per value (from the queries' by (...) "
        "when empty)",
    )
    evaluation = models.CharField(
        max_length=8,
        choices=EvaluationPath.choices,
        default=EvaluationPath.EXACT,
        editable=False,
        help_text="Chosen from the queries when the SLI is saved",
    )
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
        "ratio_query",
        "threshold_query",
        "group_by",
        "evaluation",
        "data_source",
    )

    class Meta:
        abstract = True

    def indicator_errors(self) -> dict[str, str]:
        """Check (and write in canonical form) the indicator fields, and choose the evaluation
        path; return errors by field."""
        if self.indicator_type == IndicatorType.THRESHOLD:
            return self._threshold_errors()
        errors = {}
        if self.numerator_kind not in NumeratorKind.values:
            errors["numerator_kind"] = "choose good or bad"
        # The kind of SLI says which queries it uses; the others are cleared (an SLO that changes
        # kind on upsert keeps no stale query).
        used = (
            {"ratio_query"}
            if self.indicator_type == IndicatorType.RAW
            else {"numerator_query", "total_query"}
        )
        for field in {"numerator_query", "total_query", "ratio_query", "threshold_query"} - used:
            setattr(self, field, "")
        if not isinstance(self.group_by, list) or not all(
            isinstance(label, str) and promql.LABEL_NAME.match(label) for label in self.group_by
        ):
            errors["group_by"] = 'give a list of label names, e.g. ["route"]'
        if errors:
            return errors
        try:
            found = self.sli_queries()
        except expressions.SLIError as exc:
            return {QUERY_FIELDS.get(role, role): message for role, message in exc.errors.items()}
        for role, text in found.texts.items():
            setattr(self, QUERY_FIELDS[role], text)
        self.group_by = list(found.group_by)
        self.evaluation = found.path
        platform = self.data_source and self.data_source.kind == DataSourceKind.PLATFORM
        if platform and found.path == EvaluationPath.PROMQL:
            errors["data_source"] = (
                "SSOps's own records answer counter selectors only; an SLI that Prometheus "
                "evaluates is read from Prometheus"
            )
        return errors

    def _threshold_errors(self) -> dict[str, str]:
        errors = {}
        self.numerator_kind = self.numerator_query = self.total_query = self.ratio_query = ""
        try:
            self.threshold_query = promql.check_expression(self.threshold_query or "")
        except promql.QueryError as exc:
            errors["threshold_query"] = str(exc)
        if self.data_source and self.data_source.kind != DataSourceKind.PROMETHEUS:
            errors["data_source"] = "threshold metrics are read from Prometheus"
        if self.group_by:
            errors["group_by"] = "a threshold metric is one series: it is not grouped"
        self.evaluation = EvaluationPath.PROMQL
        return errors

    def sli_queries(self) -> expressions.SLIQueries:
        group_by = tuple(self.group_by or ())
        if self.indicator_type == IndicatorType.RAW:
            return expressions.raw_sli(self.ratio_query, group_by)
        return expressions.ratio_sli(self.numerator_query, self.total_query, group_by)

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
    min_events = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Low-traffic guard: the fewest events an alert's long window needs before the "
        "alert may fire. Empty: each alert's default (one bad event alone never fires it); "
        "0: no guard.",
    )
    page_alerts = models.BooleanField(default=True)
    ticket_alerts = models.BooleanField(default=True)
    alert_labels = models.JSONField(
        default=dict,
        blank=True,
        help_text='Extra Alertmanager labels: {"*": {...}, "page": {...}, "ticket": {...}}',
    )
    alert_annotations = models.JSONField(default=dict, blank=True)
    severity_annotations = models.JSONField(
        default=dict,
        blank=True,
        help_text='Annotations of one severity\'s alerts: {"page": {...}, "ticket": {...}}',
    )
    runbook_url = models.CharField(max_length=500, blank=True, validators=[web_address])
    dashboard_url = models.CharField(max_length=500, blank=True, validators=[web_address])
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.API)
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        editable=False,
        related_name="groups",
        help_text="Set on one group of a grouped SLO: its definition",
    )
    group_labels = models.JSONField(default=dict, blank=True, editable=False)

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
        """What addresses the SLO in URLs (a group's name holds a hash, its UUID reads as well)."""
        return self.name

    @property
    def is_group(self) -> bool:
        return self.parent_id is not None

    @property
    def is_grouped(self) -> bool:
        """A definition measured as one SLO per group."""
        return bool(self.group_by) and not self.is_group

    def clean(self) -> None:
        if self.is_group:
            raise ValidationError(
                f"{self.name} is one group of the grouped SLO {self.parent.name}: change the "
                "definition, and every group follows"
            )
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
        if self.indicator_type == IndicatorType.RAW or (
            self.indicator_type == IndicatorType.RATIO and self.evaluation == EvaluationPath.PROMQL
        ):
            errors["budgeting_method"] = (
                "time slices are counted from counters SSOps can count or from a threshold "
                "metric; an SLI that Prometheus evaluates per window is budgeted in Occurrences"
            )
        if self.group_by:
            errors["group_by"] = "a grouped SLO is budgeted in Occurrences"
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

    def indicator_definition(self) -> RatioIndicator | QueryIndicator | ThresholdIndicator:
        good = self.numerator_kind == NumeratorKind.GOOD
        if self.indicator_type == IndicatorType.THRESHOLD:
            return ThresholdIndicator(self.threshold_query, self.threshold_op, self.threshold_value)
        if self.indicator_type == IndicatorType.RAW:
            return QueryIndicator(ratio=self.ratio_query, numerator_is_good=good)
        found = self.sli_queries()
        if found.path == EvaluationPath.EXACT:
            return RatioIndicator(found.counters["numerator"], found.counters["total"], good)
        return QueryIndicator(self.numerator_query, self.total_query, numerator_is_good=good)

    def definition(self, excluded: tuple[tuple[float, float], ...] = ()) -> SLODefinition:
        """The engine's view of this SLO (needs service, team and data_source loaded), with
        the maintenance windows to cut out (`excluded`, unix seconds)."""
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
            group_by=tuple(self.group_by or ()),
            min_events=self.min_events,
            excluded=excluded,
        )

    # -- groups of a grouped SLO --------------------------------------------------------------

    # What a group row holds of its own; every other field it takes from its definition.
    GROUP_OWN_FIELDS = frozenset(
        {
            "id",
            "uuid",
            "name",
            "display_name",
            "created_at",
            "updated_at",
            "parent",
            "group_labels",
            "kept_fields",
            "data_status",
            "data_status_since",
            "data_status_detail",
            "evaluated_at",
        }
    )

    @classmethod
    def followed_fields(cls) -> list[str]:
        return [f.attname for f in cls._meta.concrete_fields if f.name not in cls.GROUP_OWN_FIELDS]

    @staticmethod
    def group_row_name(definition: str, labels: dict[str, str]) -> str:
        """A valid, unique and stable name for a group's row: the definition's, a dot, the
        label values made name-safe, and a hash of the labels (which keeps two groups apart
        whose values read alike); its page shows `definition{label="value"}`."""
        values = "-".join(labels[key] for key in sorted(labels)).lower()
        readable = re.sub(r"[^a-z0-9]+", "-", values).strip("-")[:40].strip("-")
        digest = hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:8]
        tail = f"{readable}.{digest}" if readable else digest
        return f"{definition[: 199 - len(tail)]}.{tail}"

    def group_row(self, labels: dict[str, str], display: str) -> SLO:
        """A new (unsaved) group row of this definition."""
        row = SLO(
            name=self.group_row_name(self.name, labels),
            display_name=display[:200],
            parent=self,
            group_labels=labels,
        )
        for attname in self.followed_fields():
            setattr(row, attname, getattr(self, attname))
        return row

    def follow_definition(self) -> list[str]:
        """Bring this definition's group rows in line with it (in the caller's transaction):
        every followed field copied; groups under labels it no longer groups by removed (their
        names are returned)."""
        groups = SLO.objects.filter(parent=self)
        stale = {
            g.pk: g.display_name
            for g in groups.only("group_labels", "display_name")
            if set(g.group_labels) != set(self.group_by)
        }
        if stale:
            SLO.objects.filter(pk__in=stale).delete()
        groups.update(**{attname: getattr(self, attname) for attname in self.followed_fields()})
        return sorted(stale.values())

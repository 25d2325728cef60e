from django.db import models

from slo import definitions, expressions


class WindowKind(models.TextChoices):
    ROLLING = "rolling", "Rolling"
    CALENDAR = "calendar", "Calendar"


class BudgetingMethod(models.TextChoices):
    OCCURRENCES = definitions.OCCURRENCES, "Occurrences (good events / all events)"
    TIMESLICES = definitions.TIMESLICES, "Timeslices (good slices / all slices)"
    RATIO_TIMESLICES = definitions.RATIO_TIMESLICES, "RatioTimeslices (mean ratio of slices)"


class IndicatorType(models.TextChoices):
    RATIO = "ratio", "Good or bad events over all events"
    RAW = "raw", "Ratio query (computed whole by Prometheus)"
    THRESHOLD = "threshold", "Threshold metric (Timeslices)"


class EvaluationPath(models.TextChoices):
    EXACT = expressions.EXACT, "exact: SSOps counts the counters' increases"
    PROMQL = expressions.PROMQL, "promql: Prometheus evaluates the SLI's own expressions"


class NumeratorKind(models.TextChoices):
    GOOD = "good", "good / total"
    BAD = "bad", "bad / total"


class ThresholdOp(models.TextChoices):
    LT = "lt", "<"
    LTE = "lte", "<="
    GT = "gt", ">"
    GTE = "gte", ">="


class DataSourceKind(models.TextChoices):
    PROMETHEUS = "prometheus", "Prometheus"
    PLATFORM = "platform", "SSOps platform records"


class DataStatus(models.TextChoices):
    OK = definitions.OK, "OK"
    LOW_TRAFFIC = definitions.LOW_TRAFFIC, "Low traffic"
    NO_DATA = definitions.NO_DATA, "No data"
    UNAVAILABLE = definitions.UNAVAILABLE, "Source unavailable"

    @classmethod
    def colour(cls, value: str) -> str:
        colours = {cls.OK: "ok", cls.LOW_TRAFFIC: "warn", cls.NO_DATA: "warn"}
        return colours.get(value, "bad" if value == cls.UNAVAILABLE else "")


class Severity(models.TextChoices):
    PAGE = "page", "Page"
    TICKET = "ticket", "Ticket"


class AlertEventKind(models.TextChoices):
    FIRED = "fired", "Fired"
    RESOLVED = "resolved", "Resolved"


class HeldReason(models.TextChoices):
    """Why an alert whose burn-rate condition holds does not fire."""

    LOW_TRAFFIC = definitions.HELD_LOW_TRAFFIC, "too few events (low-traffic guard)"
    MAINTENANCE = definitions.HELD_MAINTENANCE, "planned maintenance"


class Origin(models.TextChoices):
    """What an SLO was first written in; slo_export writes it back in the same format."""

    OPENSLO = "openslo", "OpenSLO import"
    SLOTH = "sloth", "Sloth import"
    SLOTH_K8S = "sloth_k8s", "Sloth PrometheusServiceLevel import"
    PYRRA = "pyrra", "Pyrra import"
    API = "api", "API"
    ADMIN = "admin", "Admin"
    DEMO = "demo", "Demo"

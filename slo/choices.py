from django.db import models

from slo import definitions


class WindowKind(models.TextChoices):
    ROLLING = "rolling", "Rolling"
    CALENDAR = "calendar", "Calendar"


class BudgetingMethod(models.TextChoices):
    OCCURRENCES = definitions.OCCURRENCES, "Occurrences (good events / all events)"
    TIMESLICES = definitions.TIMESLICES, "Timeslices (good slices / all slices)"
    RATIO_TIMESLICES = definitions.RATIO_TIMESLICES, "RatioTimeslices (mean ratio of slices)"


class IndicatorType(models.TextChoices):
    RATIO = "ratio", "Ratio of counters"
    THRESHOLD = "threshold", "Threshold metric (Timeslices)"


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
    NO_DATA = definitions.NO_DATA, "No data"
    UNAVAILABLE = definitions.UNAVAILABLE, "Source unavailable"

    @classmethod
    def colour(cls, value: str) -> str:
        return {cls.OK: "ok", cls.NO_DATA: "warn", cls.UNAVAILABLE: "bad"}.get(value, "")


class Severity(models.TextChoices):
    PAGE = "page", "Page"
    TICKET = "ticket", "Ticket"


class AlertEventKind(models.TextChoices):
    FIRED = "fired", "Fired"
    RESOLVED = "resolved", "Resolved"


class Origin(models.TextChoices):
    OPENSLO = "openslo", "OpenSLO import"
    SLOTH = "sloth", "Sloth import"
    API = "api", "API"
    ADMIN = "admin", "Admin"
    DEMO = "demo", "Demo"

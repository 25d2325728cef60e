"""seed_demo's platform-metrics data: real records computed by the real jobs (the probe history
alone is synthetic, and marked so); running it again changes nothing."""

import io

import pytest
from django.utils import timezone

from demo import metrics as demo
from metrics.models import (
    BillingRow,
    BudgetAlert,
    Incident,
    MetricSnapshot,
    OncallAction,
    ProbeResult,
    SatisfactionRating,
    SurveyAnswer,
)
from metrics.periods import MONTH, periods_ending

pytestmark = pytest.mark.django_db


def counts() -> tuple:
    return (
        BillingRow.objects.count(),
        ProbeResult.objects.count(),
        Incident.objects.count(),
        OncallAction.objects.count(),
        SatisfactionRating.objects.count(),
        SurveyAnswer.objects.count(),
    )


def test_the_demo_has_billing_probes_incidents_ratings_and_metrics(settings):
    from demo import catalog as catalog_demo
    from demo import slos as slo_demo

    settings.PROMETHEUS_URL = None
    catalog_demo.seed()
    slo_demo.seed()
    demo.seed(stdout=(out := io.StringIO()))
    assert "platform metrics: SSOps SLOs imported" in out.getvalue()
    first = counts()
    assert first[0] > 0 and first[2:4] == (2, 2)  # a resolved incident and an open one
    resolved = Incident.objects.get(resolved_at__isnull=False)
    assert (resolved.acknowledged_at - resolved.opened_at).total_seconds() == 5 * 60  # MTTA
    assert (resolved.resolved_at - resolved.started_at).total_seconds() == 90 * 60  # MTTR
    assert sorted(SurveyAnswer.objects.values_list("score", flat=True)) == [7, 9, 10]
    assert ProbeResult.objects.filter(synthetic=False).count() == 0
    assert BudgetAlert.objects.get(team__slug="search").firing  # 38 EUR a day on 500 a month
    assert not BudgetAlert.objects.get(team__slug="payments").firing
    last_month = periods_ending(MONTH, timezone.now(), 2)[0]
    m10 = MetricSnapshot.objects.get(
        metric="M10", period_kind="month", period_start=last_month.start, team=None, dimension=""
    )
    assert m10.value == 2  # the two resources nobody owns, billed since last month began
    assert MetricSnapshot.objects.filter(metric="M3", period_kind="day", value__gt=0.99).exists()
    demo.seed()
    again = counts()
    # The probe history runs up to the minute it is seeded in: a second seed a minute later adds
    # that minute, nothing else.
    assert again[1] - first[1] in (0, 1, 2)
    assert again[:1] + again[2:] == first[:1] + first[2:]

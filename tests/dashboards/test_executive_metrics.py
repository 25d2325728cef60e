"""The executive tiles of M1–M12, judged as the guide means them: each shows its formula, its
target or trend rule met or missed (M4 by its low-risk figure, M9 against the days before), the
rows one click away, and since when a changed definition holds; a figure of an older definition
is never drawn beside the new ones."""

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from metrics import catalogue
from metrics.models import MetricDefinition, MetricSnapshot

pytestmark = pytest.mark.django_db
URL = "/dashboards/executive/"


def store(metric: str, values: dict[int, float], *, dimension: str = "", definition=None):
    """Daily totals of one metric: days ago → value."""
    today = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    version = definition or catalogue.BY_KEY[metric].version
    MetricSnapshot.objects.bulk_create(
        MetricSnapshot(
            metric=metric,
            period_kind="day",
            period_start=today - timedelta(days=ago),
            period_end=today - timedelta(days=ago - 1),
            dimension=dimension,
            value=value,
            data_status="ok",
            complete=ago > 0,
            computed_at=timezone.now(),
            definition=version,
        )
        for ago, value in values.items()
    )


def verdict(page: str, key: str) -> str:
    start = page.index(f'data-verdict="{key}">') + len(f'data-verdict="{key}">')
    return page[start : page.index("<", start)]


def test_m4_is_judged_by_its_low_risk_figure(client, executive):
    store("M4", {1: 3600.0, 0: 3000.0})  # the mean over every tier: not what the target judges
    store("M4", {1: 2400.0, 0: 1200.0}, dimension="low")
    client.force_login(executive)
    page = client.get(URL).content.decode()
    assert verdict(page, "M4") == "met" and "(low: 20 m)" in page
    MetricSnapshot.objects.filter(metric="M4", dimension="low").update(value=2400.0)
    assert verdict(client.get(URL).content.decode(), "M4") == "missed"


def test_m9_is_judged_by_its_trend_against_the_days_before(client, executive):
    store("M9", {4: 0.4, 3: 0.5, 2: 0.6, 1: 0.7, 0: 0.5})  # the four before average 0.55
    client.force_login(executive)
    page = client.get(URL).content.decode()
    assert verdict(page, "M9") == "missed"
    assert "rising: at least the mean of the 4 periods before" in page
    MetricSnapshot.objects.filter(metric="M9", complete=False).update(value=0.6)
    assert verdict(client.get(URL).content.decode(), "M9") == "met"


def test_each_tile_gives_its_formula_and_the_rows(client, executive):
    store("M12", {0: 40.0})
    client.force_login(executive)
    page = client.get(URL).content.decode()
    for metric in catalogue.METRICS:
        assert metric.formula.replace("'", "&#x27;") in page
        assert f'href="/platform-metrics/{metric.key}/rows/?period=day"' in page
    assert verdict(page, "M12") == "met" and "<strong>+40</strong>" in page


def test_a_changed_definition_says_since_when_and_hides_older_figures(client, executive):
    store("M5", {2: 0.5}, definition=1)  # computed per decision, before the change
    store("M5", {1: 0.02, 0: 0.04})
    MetricDefinition.objects.create(metric="M5", version=2, since=timezone.now())
    client.force_login(executive)
    page = client.get(URL).content.decode()
    since = f"Definition v2 since {timezone.now():%Y-%m-%d}: per request, not per policy decision"
    assert since in page
    assert "days before it show no figure until <code>platform_metrics --recompute</code>" in page
    rows = client.get(f"{URL}?format=csv&table=platform-metrics").content.decode()
    m5 = next(line for line in rows.splitlines() if line.startswith("M5,"))
    assert ",0.04," in m5 and "0.5" not in m5
    chart = page[page.index('id="chart-metric-m5"') :]
    assert "0.5," not in chart[: chart.index("</script>")]  # the old figure is not drawn

"""The beat job computes the current periods (and finalises the previous ones once); any past
period can be computed again with `platform_metrics`."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from core.models import JobRun
from metrics import tasks
from metrics.models import MetricSnapshot
from metrics.periods import period_containing
from metrics.services import metric_snapshots_record, periods_due
from tests.metrics.conftest import DAY

pytestmark = pytest.mark.django_db


def labels(periods) -> list[str]:
    return [f"{p.kind} {p.label}" for p in periods]


def test_the_previous_periods_are_due_until_computed_after_their_end(db):
    now = DAY + timedelta(hours=1)  # Wednesday 7 January 2026, 01:00
    expected = [
        "day 2026-01-06",
        "day 2026-01-07",
        "week 2026-W01",
        "week 2026-W02",
        "month 2025-12",
        "month 2026-01",
    ]
    assert labels(periods_due(now=now)) == expected
    for period in periods_due(now=now):
        metric_snapshots_record(period=period, now=now)
    assert labels(periods_due(now=now)) == ["day 2026-01-07", "week 2026-W02", "month 2026-01"]
    tomorrow = now + timedelta(days=1)
    assert labels(periods_due(now=tomorrow))[:2] == ["day 2026-01-07", "day 2026-01-08"]


def test_the_beat_task_stores_the_current_periods_and_records_its_run(db):
    result = tasks.platform_metrics()
    assert len(result) == 6 and all(len(statuses) == 12 for statuses in result.values())
    run = JobRun.objects.get(name="metrics.tasks.platform_metrics")
    assert run.outcome == "ok" and run.result == result
    assert MetricSnapshot.objects.filter(metric="M6", data_status="no_data").exists()


def test_the_command_computes_any_past_period_again(scenario):
    out = io.StringIO()
    call_command(
        "platform_metrics", "--period", "day", "--at", "2026-01-07", "--metric", "M2", stdout=out
    )
    lines = out.getvalue().splitlines()
    assert "2026-01-07  M2 all teams: 85.5" in lines
    assert "2026-01-07  M2 payments [gadget]: 60" in lines
    as_json = io.StringIO()
    call_command(
        "platform_metrics",
        "--period",
        "day",
        "--at",
        "2026-01-08",
        "--back",
        "2",
        "--metric",
        "m4",
        "--json",
        stdout=as_json,
    )
    printed = json.loads(as_json.getvalue())
    assert {row["period"] for row in printed} == {"2026-01-07", "2026-01-08"}
    medium = next(r for r in printed if r["period"] == "2026-01-07" and r["dimension"] == "medium")
    assert medium["team"] is None and medium["value"] == 1800
    stored = MetricSnapshot.objects.filter(
        metric="M4", period_start=period_containing("day", DAY).start
    )
    assert stored.filter(team=None, dimension="medium").get().value == 1800


def test_the_command_refuses_what_it_cannot_read(db):
    with pytest.raises(CommandError, match="2026-W02"):
        call_command("platform_metrics", "--period", "week", "--at", "soon")
    with pytest.raises(CommandError, match="use M1 to M12"):
        call_command("platform_metrics", "--metric", "M13")
    with pytest.raises(CommandError, match="has not started"):
        call_command("platform_metrics", "--period", "day", "--at", "2099-01-01")

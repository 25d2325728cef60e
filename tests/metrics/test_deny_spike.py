"""A spike of policy denies opens one ticket in the real Alertmanager (a policy's deny rate over
the last hour above a multiple of its 7-day baseline, with a minimum count), never for a
dry-run policy, and resolves when the hour is back to usual."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from catalog.models import PolicyDecision
from metrics.calculations import DenyCounts, deny_spike
from metrics.deny_spikes import deny_counts, policy_deny_spikes_evaluate
from slo.models import PlatformAlert
from slo.services import alert_deliveries_send
from tests.catalog.conftest import make_policy  # noqa: F401, F811 (fixture)

pytestmark = pytest.mark.django_db

ALLOW_ALL = 'deny contains "never" if false'


@pytest.mark.parametrize(
    ("hour", "baseline", "spikes"),
    [
        ((6, 10), (2, 100), True),  # 60 % against 2 %: far above 3 x
        ((4, 4), (0, 100), False),  # 100 %, but only 4 denies (the minimum is 5)
        ((5, 10), (20, 100), False),  # 50 % against 20 %: 2.5 x, under 3 x
        ((7, 10), (20, 100), True),  # 70 % against 20 %: 3.5 x
        ((5, 5), (0, 0), True),  # a new policy: no baseline counts as 0 %
    ],
)
def test_the_rule_on_hand_worked_counts(hour, baseline, spikes):
    counts = DenyCounts("p", hour[1], hour[0], baseline[1], baseline[0])
    assert deny_spike(counts, factor=3, minimum=5) is spikes


def decisions(version, *, denies: int, allows: int, ago: timedelta, now) -> None:
    rows = [
        PolicyDecision(
            policy_version=version,
            mode=version.mode,
            outcome=outcome,
            enforced=version.mode == "enforce",
            input_digest="0" * 64,
            latency_ms=1.0,
        )
        for outcome in ["deny"] * denies + ["allow"] * allows
    ]
    created = PolicyDecision.objects.bulk_create(rows)
    PolicyDecision.objects.filter(pk__in=[r.pk for r in created]).update(created_at=now - ago)


@pytest.fixture
def policies(make_policy):  # noqa: F811
    enforcing = make_policy("quota-guard", ALLOW_ALL)
    dry = make_policy("naming", ALLOW_ALL, mode="dry_run")
    return enforcing.current_version, dry.current_version


def test_a_spike_opens_one_ticket_for_the_platform_team_and_resolves(
    policies, settings, alertmanager
):
    settings.ALERTMANAGER_URL = alertmanager.url
    now = timezone.now()
    for version in policies:  # the same story for both: 2 % for a week, then 60 % in an hour
        decisions(version, denies=2, allows=98, ago=timedelta(days=3), now=now)
        decisions(version, denies=6, allows=4, ago=timedelta(minutes=20), now=now)
    counts = {c.policy: c for c in deny_counts(now=now)}
    assert set(counts) == {"quota-guard"}  # dry-run decisions never count
    assert (counts["quota-guard"].denies_hour, counts["quota-guard"].decisions_baseline) == (6, 100)

    assert policy_deny_spikes_evaluate(now=now) == {"quota-guard": True}
    policy_deny_spikes_evaluate(now=now)  # the next run: nothing new
    alert_deliveries_send()  # the delivery job (beat, every minute)
    held = alertmanager.active_alerts(alertname="PolicyDenySpike")
    assert [a["labels"] for a in held] == [
        {
            "alertname": "PolicyDenySpike",
            "team": "platform",
            "service": "ssops-policy",
            "severity": "ticket",
            "policy": "quota-guard",
        }
    ]
    assert (
        "6 of 10 decisions denied in the last hour (60.0%)" in held[0]["annotations"]["description"]
    )
    assert held[0]["annotations"]["dashboard_url"].endswith("/platform-metrics/M5/?period=day")
    assert PlatformAlert.objects.filter(alertname="PolicyDenySpike").count() == 1

    # The denies are two hours old (as if two hours had passed): the hour is quiet, resolved.
    PolicyDecision.objects.update(created_at=F("created_at") - timedelta(hours=2))
    assert policy_deny_spikes_evaluate(now=timezone.now()) == {"quota-guard": False}
    alert_deliveries_send()
    assert not PlatformAlert.objects.get(alertname="PolicyDenySpike").firing
    assert alertmanager.active_alerts(alertname="PolicyDenySpike") == []

"""The beat schedule, history pruning, SSOps's own records as a source, the demo seed and the
admin — each going through the same audited services."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from audit.services import audit_record
from demo import slos as demo
from slo import tasks
from slo.models import SLO, AlertDelivery, AlertEvent, Snapshot
from slo.services import slo_evaluate, slo_history_prune
from ssops_site.celery import app

pytestmark = pytest.mark.django_db


def test_beat_evaluates_every_minute_and_each_job_expires_before_its_next_run():
    jobs = {entry["task"]: entry for entry in app.conf.beat_schedule.values()}
    evaluate = jobs["slo.tasks.evaluate"]
    assert evaluate["schedule"].minute == set(range(60))
    assert evaluate["options"]["expires"] < 60
    assert jobs["slo.tasks.deliver_alerts"]["options"]["expires"] < 60
    assert "slo.tasks.prune_history" in jobs


def test_history_keeps_minutes_for_two_days_then_one_snapshot_an_hour(workload_slos):
    slo = SLO.objects.get(name="checkout-availability")
    now = datetime(2026, 1, 10, tzinfo=UTC)
    for minutes in (0, 30, 60 * 47, 60 * 49, 60 * 49 + 30, 60 * 24 * 401):
        Snapshot.objects.create(slo=slo, at=now - timedelta(minutes=minutes), data_status="ok")
    assert slo_history_prune(now=now) == 2
    kept = sorted(int((now - s.at).total_seconds() // 60) for s in Snapshot.objects.all())
    assert kept == [0, 30, 60 * 47, 60 * 49]
    assert AuditEvent.objects.filter(action="slo.history.pruned").exists()


PLATFORM = """
apiVersion: openslo/v1
kind: SLO
metadata: {name: ssops-logins, annotations: {ssops.io/team: payments}}
spec:
  service: ssops
  indicator:
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: SSOps
            spec: {query: 'ssops_audit_events_total{action="auth.login"}'}
        total:
          metricSource:
            type: SSOps
            spec: {query: 'ssops_audit_events_total{action=~"auth[.]login(_failed)?"}'}
  timeWindow: [{duration: 1d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.9}]
"""


def test_ssops_records_are_a_source_counted_exactly(slo_import, team, settings):
    settings.PROMETHEUS_URL = None  # not needed: the records are SSOps's own
    slo_import(PLATFORM)
    (slo,) = SLO.objects.all()
    assert slo.data_source.kind == "platform"
    (before,) = slo_evaluate(slos=[slo], at=datetime.now(UTC))
    assert before.data_status == "no_data"  # no login yet: nothing to measure, not 100 %
    for action in ["auth.login"] * 3 + ["auth.login_failed", "auth.logout"]:
        audit_record(action=action, object_type="auth.user", object_id="x")
    (after,) = slo_evaluate(slos=[slo], at=datetime.now(UTC) + timedelta(seconds=1))
    # Four logins are too few to alert on: one failure burns 25 % (the low-traffic guard).
    assert after.data_status == "low_traffic" and after.sli == 0.75
    assert after.burn_rates["5m"] == pytest.approx(0.25 / 0.1)
    assert after.alerts == [] and {h.alert.severity for h in after.held} == {"page", "ticket"}


def test_the_demo_seed_is_idempotent_and_its_history_is_marked_synthetic(db):
    from demo import catalog as catalog_demo

    catalog_demo.seed()
    demo.seed(stdout=io.StringIO())
    counts = (SLO.objects.count(), Snapshot.objects.count(), AlertEvent.objects.count())
    demo.seed(stdout=(out := io.StringIO()))
    assert (SLO.objects.count(), Snapshot.objects.count(), AlertEvent.objects.count()) == counts
    assert "0 created" in out.getvalue()
    assert {s.team.slug for s in SLO.objects.all()} == {"payments", "search", "platform"}
    assert set(Snapshot.objects.values_list("detail", flat=True)) == {demo.SYNTHETIC}
    assert SLO.objects.get(name="ssops-logins").data_source.kind == "platform"


def test_the_task_without_a_time_evaluates_the_current_minute(workload_slos, settings):
    settings.PROMETHEUS_URL = None
    settings.ALERTMANAGER_URL = ""
    assert tasks.evaluate() == SLO.objects.count()
    (at,) = set(Snapshot.objects.values_list("at", flat=True))
    assert at.second == 0 and at.microsecond == 0
    assert {s.data_status for s in Snapshot.objects.all()} == {"unavailable"}
    assert not AlertDelivery.objects.exists()
    assert tasks.deliver_alerts() == 0


def test_an_admin_edit_is_validated_and_audited(client, django_user_model, workload_slos):
    admin = django_user_model.objects.create_superuser("root", "root@example.test", "pw")
    client.force_login(admin)
    slo = SLO.objects.get(name="ghost-availability")
    url = f"/admin/slo/slo/{slo.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "alert_policies"}
    data.update(
        objective="0.995",
        labels="{}",
        alert_labels="{}",
        alert_annotations="{}",
        service=slo.service_id,
        team=slo.team_id,
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert SLO.objects.get(pk=slo.pk).objective == 0.995
    event = AuditEvent.objects.filter(action="slo.slo.updated", actor_name="root").get()
    assert event.payload["changes"]["objective"] == [0.999, 0.995]
    data["total_query"] = "rate(ghost_requests_total[5m])"
    refused = client.post(url, data)
    assert refused.status_code == 200 and "{{.window}}" in refused.content.decode()


def test_slo_rules_and_export_name_unknown_slos(workload_slos):
    from django.core.management.base import CommandError

    for command in ("slo_rules", "slo_export", "slo_evaluate"):
        with pytest.raises(CommandError, match="no SLO named nope"):
            call_command(command, "--slo", "nope", stdout=io.StringIO())


def test_a_long_window_history_is_hourly_and_ends_with_the_newest_snapshot(workload_slos):
    from slo.selectors import slo_history

    slo = SLO.objects.get(name="checkout-availability")  # a 30-day window
    newest = datetime(2026, 1, 10, 10, 7, tzinfo=UTC)
    for minutes in (0, 7, 37, 67, 60 * 24 * 5 + 7):
        Snapshot.objects.create(slo=slo, at=newest - timedelta(minutes=minutes), data_status="ok")
    shown = [at for at, *_ in slo_history(slo=slo)]
    assert shown == [
        datetime(2026, 1, 5, 10, 0, tzinfo=UTC),
        datetime(2026, 1, 10, 9, 0, tzinfo=UTC),
        datetime(2026, 1, 10, 10, 0, tzinfo=UTC),
        newest,
    ]

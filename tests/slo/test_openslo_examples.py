"""Every document of the published OpenSLO examples imports, or its file is refused with a
message naming the file, the document and the field.

The examples are the OpenSLO project's own (tests/slo/data/openslo-examples, Apache 2.0).
"""

import io
import re
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditEvent
from slo.importers.documents import load_documents
from slo.models import SLO, AlertCondition, AlertNotificationTarget

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = Path(__file__).parent / "data" / "openslo-examples"
FILES = sorted(p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*.yaml"))

# What each known file gives: the objects it imports, or the document and field it is refused
# for (a file not listed here is held to the general rule only).
IMPORTED = {
    "go-sdk-v1/alert_conditions.yaml": {"AlertCondition": ["cpu-usage-breach", "latency-too-high"]},
    "go-sdk-v1/alert_notification_targets.yaml": {
        "AlertNotificationTarget": ["devs-email-notification", "pd-on-call-notification"]
    },
    "go-sdk-v1/slos.yaml": {"SLO": ["web-availability"]},
}
REFUSED = {
    "go-sdk-v1/alert_policies.yaml": (
        "document 1 (AlertPolicy low-priority)",
        "spec.conditions[0].conditionRef",
        "AlertCondition 'cpu-usage-breach' does not resolve",
    ),
    "go-sdk-v1/data_sources.yaml": ("document 2 (DataSource datadog)", "spec.type", "Datadog"),
    "go-sdk-v1/services.yaml": (
        "document 2 (Service example-service)",
        "metadata.name",
        "already defined differently by document 1",
    ),
    "go-sdk-v1/slis.yaml": (
        "document 1 (SLI search-availability)",
        "spec.ratioMetric.good.metricSource.type",
        "Datadog",
    ),
    "spec/budgeting-method/occurences-slo.yaml": (
        "document 1 (SLO search-slo)",
        "spec.indicator.spec.thresholdMetric.metricSource.type",
        "'Any'",
    ),
    "spec/budgeting-method/ratio-timeslices.yaml": (
        "document 1 (SLO main-page)",
        "spec.indicator.spec.ratioMetric.good.metricSource.type",
        "'Any'",
    ),
    "spec/budgeting-method/timeslices-slo.yaml": (
        "document 1 (SLO service-availability)",
        "spec.indicator.spec.ratioMetric.good.metricSource.type",
        "'Any'",
    ),
    "spec/treat-low-traffic-as-equally-important/timeslices-slo.yaml": (
        "document 1 (SLO service-availability)",
        "spec.indicator.spec.ratioMetric.good.metricSource.type",
        "'Any'",
    ),
}
MODELS = {"SLO": SLO, "AlertCondition": AlertCondition}
MODELS["AlertNotificationTarget"] = AlertNotificationTarget
REFUSAL = re.compile(
    r"^refused (?P<file>\S+): document (?P<n>\d+) \((?P<what>[^)]*)\): (?P<field>[\w.\[\]]+): .+"
)


def import_example(relative: str) -> str:
    """Import one example (unknown team labels fall back to --team); returns stderr."""
    err = io.StringIO()
    call_command(
        "slo_import",
        str(EXAMPLES / relative),
        "--team",
        "payments",
        stdout=io.StringIO(),
        stderr=err,
    )
    return err.getvalue()


def test_the_examples_are_there():
    assert len(FILES) >= 10 and set(IMPORTED) | set(REFUSED) <= set(FILES)


@pytest.mark.django_db
@pytest.mark.parametrize("relative", FILES)
def test_each_example_imports_or_is_refused_naming_document_and_field(team, relative):
    events_before = AuditEvent.objects.count()
    err = io.StringIO()
    try:
        call_command(
            "slo_import",
            str(EXAMPLES / relative),
            "--team",
            "payments",
            stdout=io.StringIO(),
            stderr=err,
        )
    except CommandError:
        match = REFUSAL.match(err.getvalue().strip())
        assert match, err.getvalue()
        documents = load_documents((EXAMPLES / relative).read_text(), relative)
        document = documents[int(match["n"]) - 1]
        assert match["what"] == f"{document['kind']} {document['metadata']['name']}"
        assert relative not in IMPORTED, err.getvalue()
        assert AuditEvent.objects.count() == events_before  # nothing of the file was kept
        if relative in REFUSED:
            label, field, reason = REFUSED[relative]
            assert f": {label}: {field}: " in err.getvalue() and reason in err.getvalue()
        return
    assert relative not in REFUSED, f"{relative} should have been refused"
    every = yaml.safe_load((EXAMPLES / relative).read_text())
    documents = every if isinstance(every, list) else [every]
    for document in documents:
        if document["kind"] in MODELS:
            assert (
                MODELS[document["kind"]].objects.filter(name=document["metadata"]["name"]).exists()
            )
    for kind, names in IMPORTED.get(relative, {}).items():
        assert sorted(MODELS[kind].objects.values_list("name", flat=True)) == names


@pytest.mark.django_db
def test_the_go_sdk_slo_imports_as_written(team):
    import_example("go-sdk-v1/slos.yaml")
    slo = SLO.objects.get(name="web-availability")
    assert slo.team == team  # its labels name team-a and team-b, which SSOps does not have
    assert slo.numerator_kind == "good"
    assert (
        slo.numerator_query == 'http_requests{k8s_cluster="prod",component="web",code=~"2xx|4xx"}'
    )
    assert slo.total_query == 'http_requests{k8s_cluster="prod",component="web"}'
    assert (slo.budgeting_method, slo.timeslice_target, slo.timeslice_window) == (
        "Timeslices",
        0.95,
        "1m",
    )
    assert (slo.window_kind, slo.window_duration, slo.calendar_tz) == (
        "calendar",
        "1w",
        "America/New_York",
    )
    assert slo.calendar_start.isoformat() == "2022-01-01T17:00:00+00:00"


@pytest.mark.django_db
def test_an_alert_policy_imports_once_its_conditions_and_targets_exist(team, tmp_path):
    import_example("go-sdk-v1/alert_conditions.yaml")
    import_example("go-sdk-v1/alert_notification_targets.yaml")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "slo_import",
            str(EXAMPLES / "go-sdk-v1/alert_policies.yaml"),
            stderr=err,
            stdout=io.StringIO(),
        )
    assert "spec.notificationTargets[0].targetRef: AlertNotificationTarget " in err.getvalue()
    assert "'on-call-mail-notification' does not resolve" in err.getvalue()
    text = (EXAMPLES / "go-sdk-v1/alert_policies.yaml").read_text()
    fixed = text.replace("on-call-mail-notification", "devs-email-notification").replace(
        "on-call-pd-notification", "pd-on-call-notification"
    )
    (tmp_path / "policies.yaml").write_text(fixed)
    call_command("slo_import", str(tmp_path / "policies.yaml"), stdout=io.StringIO())
    from slo.models import AlertPolicy

    high = AlertPolicy.objects.get(name="high-priority")
    assert [c.name for c in high.conditions.all()] == ["memory-usage-breach"]  # inline
    assert [t.name for t in high.notification_targets.all()] == ["pd-on-call-notification"]
    medium = AlertPolicy.objects.get(name="medium-priority")
    assert [t.target for t in medium.notification_targets.all()] == ["slack"]  # inline

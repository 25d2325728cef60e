"""`catalog_import`: lint everything, publish all or nothing, never change a published
version; `catalog_deprecate` stops new requests on an old version."""

import pytest
import yaml
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from catalog.choices import VersionStatus
from catalog.models import ImmutableVersionError, Policy, Template, TemplateVersion
from tests.catalog.conftest import template_document
from tests.helpers import definitions_copy

pytestmark = pytest.mark.django_db


@pytest.fixture
def folder(tmp_path):
    target = tmp_path / "definitions"
    return definitions_copy(target)


def run(*args):
    call_command("catalog_import", *[str(a) for a in args])


def test_it_imports_the_shipped_definitions_and_is_idempotent(capsys):
    run()
    assert set(Template.objects.values_list("slug", flat=True)) == {
        "kubernetes-namespace",
        "postgres-database",
        "elevated-access",
        "restart-deployment",
    }
    assert Template.objects.get(slug="postgres-database").latest_version.version == "1.0.0"
    assert Policy.objects.count() == 5
    assert Template.objects.get(slug="restart-deployment").latest_version.version == "1.1.0"
    assert {t.risk_tier for t in Template.objects.all()} == {"low", "medium", "high"}
    published = AuditEvent.objects.filter(action="template.published").count()
    assert published == 6
    run()
    assert (
        "0 template version(s) published, 0 polic(ies) saved, 0 runbook(s) published, "
        "15 unchanged" in capsys.readouterr().out
    )
    assert AuditEvent.objects.filter(action="template.published").count() == published


def test_a_published_version_cannot_change(folder):
    run(folder)
    path = folder / "templates" / "kubernetes-namespace-1.0.0.yaml"
    document = yaml.safe_load(path.read_text())
    document["spec"]["cost"]["monthly"] = 1
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(CommandError, match="nothing was imported"):
        run(folder)
    version = TemplateVersion.objects.get(template__slug="kubernetes-namespace")
    assert str(version.cost_monthly) == "40.00"
    version.description = "changed"
    with pytest.raises(ImmutableVersionError):
        version.save()
    with pytest.raises(ImmutableVersionError):
        version.delete()


def test_a_bad_file_rejects_the_whole_import_with_file_and_field(folder, capsys):
    bad = template_document("broken", version="one")
    bad["spec"]["steps"][0]["action"] = "terraform.apply"
    (folder / "templates" / "broken.yaml").write_text(yaml.safe_dump(bad))
    with pytest.raises(CommandError):
        run(folder)
    err = capsys.readouterr().err
    assert "broken.yaml: spec.version: 'one' is not a semantic version" in err
    assert "broken.yaml: spec.steps[0].action: unknown action 'terraform.apply'" in err
    assert Template.objects.count() == 0 and Policy.objects.count() == 0


def test_failing_policy_examples_reject_the_import(folder, capsys):
    path = folder / "policies" / "budget-guard.yaml"
    document = yaml.safe_load(path.read_text())
    document["spec"]["examples"][1]["expect"]["warn"] = ["something else"]
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(CommandError):
        run(folder)
    err = capsys.readouterr().err
    assert "budget-guard.yaml: spec.module: example 'past 80 percent': expected warn" in err
    assert Policy.objects.count() == 0


def test_check_only_lints(capsys):
    run("--check")
    assert "all definitions are valid" in capsys.readouterr().out
    assert Template.objects.count() == 0


def test_an_old_version_can_be_deprecated_and_the_latest_moves(capsys):
    run()
    call_command("catalog_deprecate", "postgres-database", "1.0.0", "--reason", "use 2.0")
    template = Template.objects.get(slug="postgres-database")
    assert template.latest_version.version == "0.9.0"
    old = TemplateVersion.objects.get(template=template, version="1.0.0")
    assert old.status == VersionStatus.DEPRECATED and old.deprecation_reason == "use 2.0"
    call_command("catalog_deprecate", "postgres-database", "1.0.0")
    assert "already deprecated" in capsys.readouterr().out
    assert AuditEvent.objects.filter(action="template.deprecated").count() == 1

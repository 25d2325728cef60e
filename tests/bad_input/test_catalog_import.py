"""catalog_import: templates, policies and runbooks."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.bad_input.common import (
    RUNBOOK,
    changes_nothing,
    command_error,
)
from tests.catalog.conftest import template_document
from tests.helpers import definitions_copy

pytestmark = pytest.mark.django_db


# --- catalog_import: templates, policies, runbooks ----------------------------------------------

TEMPLATE = "templates/kubernetes-namespace-1.0.0.yaml"
POLICY = "policies/budget-guard.yaml"
RULES = "policies/budget-guard.rego"


def _yaml_edit(change):
    def edit(raw: bytes) -> bytes:
        document = yaml.safe_load(raw)
        change(document)
        return yaml.safe_dump(document, sort_keys=False).encode()

    return edit


def _text_edit(old: str, new: str):
    def edit(raw: bytes) -> bytes:
        assert old.encode() in raw
        return raw.replace(old.encode(), new.encode(), 1)

    return edit


CATALOG_FILES = [
    # (case, file changed, how, what the message must say)
    (
        "truncated",
        TEMPLATE,
        lambda raw: raw[: len(raw) // 2] + b"\nttl: {default: [1d",
        "cannot read YAML",
    ),
    (
        "not utf-8",
        TEMPLATE,
        lambda raw: raw.replace(b"namespace", b"name\xffspace", 1),
        "cannot read YAML: 'utf-8' codec",
    ),
    (
        "raw NUL",
        TEMPLATE,
        lambda raw: raw.replace(b"title:", b"title: \x00", 1),
        "cannot read YAML",
    ),
    ("escaped NUL", TEMPLATE, _yaml_edit(lambda d: d["metadata"].update(title="a\0b")), "NUL"),
    (
        "duplicate key",
        TEMPLATE,
        _text_edit("spec:\n", "spec:\n  owner: mallory\n"),
        "the key 'owner' is given twice",
    ),
    (
        "python tag",
        TEMPLATE,
        lambda raw: b"!!python/object/apply:os.system [id]\n",
        "cannot read YAML",
    ),
    (
        "a list",
        TEMPLATE,
        lambda raw: b"- kind: Template\n",
        "kind: must be Template, Policy or Runbook",
    ),
    (
        "wrong type",
        TEMPLATE,
        _yaml_edit(lambda d: d["spec"].update(riskTier=["low"])),
        "spec.riskTier: must be one of",
    ),
    (
        "unknown field",
        TEMPLATE,
        _yaml_edit(lambda d: d["spec"].update(aprovals={"required": 2})),
        "spec.aprovals: unknown field",
    ),
    (
        "unknown top field",
        TEMPLATE,
        _yaml_edit(lambda d: d.update(specs={})),
        "specs: unknown field",
    ),
    (
        "huge duration",
        TEMPLATE,
        _yaml_edit(lambda d: d["spec"]["ttl"].update(maximum="99999999999w")),
        "spec.ttl.maximum: '99999999999w' is longer than",
    ),
    (
        "huge cost",
        TEMPLATE,
        _yaml_edit(lambda d: d["spec"]["cost"].update(monthly=10**30)),
        "spec.cost.monthly: must be less than",
    ),
    (
        "huge count",
        TEMPLATE,
        _yaml_edit(lambda d: d["spec"]["resources"].update(count=10**20)),
        "spec.resources.count: must be at most",
    ),
    (
        "long title",
        TEMPLATE,
        _yaml_edit(lambda d: d["metadata"].update(title="t" * 201)),
        "metadata.title: is 201 characters long; at most 200",
    ),
    (
        "long version",
        TEMPLATE,
        _yaml_edit(lambda d: d["spec"].update(version="1.0.0-" + "a" * 80)),
        "spec.version: is 86 characters long",
    ),
    (
        "traversal in name",
        TEMPLATE,
        _yaml_edit(lambda d: d["metadata"].update(name="../../etc")),
        "metadata.name: use lower-case letters",
    ),
    (
        "module outside",
        POLICY,
        _yaml_edit(lambda d: d["spec"].update(module="../../../../etc/passwd")),
        "spec.module: cannot read '../../../../etc/passwd': ../../../../etc/passwd is outside",
    ),
    (
        "module absolute",
        POLICY,
        _yaml_edit(lambda d: d["spec"].update(module="/etc/passwd")),
        "spec.module: cannot read '/etc/passwd'",
    ),
    (
        "module not utf-8",
        RULES,
        lambda raw: raw.replace(b"budget", b"b\xffudget", 1),
        "spec.module: cannot read 'budget-guard.rego': budget-guard.rego is not UTF-8",
    ),
    (
        "module truncated",
        RULES,
        lambda raw: raw[: len(raw) // 2],
        "spec.module: budget-guard does not compile: this is unclosed at budget-guard.rego:",
    ),
    (
        "policy unknown field",
        POLICY,
        _yaml_edit(lambda d: d["spec"].update(moduel="x.rego")),
        "spec.moduel: unknown field",
    ),
    (
        "runbook wrong type",
        RUNBOOK,
        _yaml_edit(lambda d: d["spec"].update(steps={"id": "x"})),
        "spec.steps",
    ),
    (
        "runbook unknown field",
        RUNBOOK,
        _yaml_edit(lambda d: d["spec"].update(verfy={})),
        "spec.verfy: unknown field",
    ),
    (
        "runbook long title",
        RUNBOOK,
        _yaml_edit(lambda d: d["metadata"].update(title="t" * 300)),
        "metadata.title: is 300 characters long",
    ),
]


@pytest.mark.parametrize(
    ("changed", "edit", "message"),
    [c[1:] for c in CATALOG_FILES],
    ids=[c[0] for c in CATALOG_FILES],
)
def test_catalog_import_refuses_a_hostile_file_naming_it_and_changes_nothing(
    shipped, tmp_path, changed, edit, message
):
    folder = tmp_path / "definitions"
    definitions_copy(folder)
    path = folder / changed
    path.write_bytes(edit(path.read_bytes()))
    # A good new version next to the bad file: all or nothing, so it is not published either.
    neighbour = template_document("good-neighbour")
    (folder / "templates" / "good-neighbour.yaml").write_text(yaml.safe_dump(neighbour))
    with changes_nothing():
        refused = command_error("catalog_import", folder)
    reported = Path(POLICY).name if changed == RULES else path.name  # the policy names its module
    assert "nothing was imported" in refused
    assert f"/{reported}: " in refused and message in refused

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from catalog.services import template_publish
from catalog.template_spec import lint_template
from tests.bad_input.common import FREE


@pytest.fixture
def shipped(db):
    """The shipped catalog definitions, imported: the state a bad import must leave alone."""
    call_command("catalog_import", stdout=io.StringIO())


@pytest.fixture
def free_text(db):
    spec, errors = lint_template(FREE)
    assert errors == []
    return template_publish(actor=None, spec=spec)[0]

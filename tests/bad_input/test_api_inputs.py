"""Over-long text is refused, not cut, and a misspelt field is refused on every API input."""

from __future__ import annotations

import copy

import pytest

from catalog.services import (
    request_submit,
    template_publish,
)
from catalog.template_spec import lint_template
from tests.bad_input.common import (
    FREE,
    changes_nothing,
)

pytestmark = pytest.mark.django_db


def test_an_over_long_decision_comment_decides_nothing(client, team, bob, carol):
    document = copy.deepcopy(FREE)
    document["spec"].update(riskTier="medium", approvals={"required": 1, "timeout": "24h"})
    template_publish(actor=None, spec=lint_template(document)[0])
    waiting = request_submit(
        actor=bob, template="free-text", team=team, parameters={"name": "fine"}
    )
    assert waiting.state == "pending_approval"
    client.force_login(carol)
    for verb in ("approve", "reject"):
        with changes_nothing():
            response = client.post(
                f"/requests/{waiting.uuid}/{verb}/", {"comment": "c" * 2001}, follow=True
            )
        assert "at most 2000 characters" in response.content.decode()


def test_an_over_long_incident_title_is_refused_not_cut(client, oncall):
    client.force_login(oncall)
    with changes_nothing():
        response = client.post("/incidents/open/", {"title": "t" * 201}, follow=True)
    assert "Keep it to 200 characters (this is 201)" in response.content.decode()


def test_a_misspelt_field_is_refused_on_every_api_input(api_as, team, bob, carol, oncall):
    """Every input serializer refuses fields it does not know (core.serializers): a
    misspelt field would otherwise be dropped and the call go ahead without it."""
    from catalog.api import serializers as catalog_api
    from core.serializers import StrictInput
    from metrics.api import serializers as platform_api
    from provisioning.api import views as provisioning_api
    from slo.api import serializers as slo_api

    document = copy.deepcopy(FREE)
    document["spec"].update(riskTier="medium", approvals={"required": 1, "timeout": "24h"})
    template_publish(actor=None, spec=lint_template(document)[0])
    waiting = request_submit(
        actor=bob, template="free-text", team=team, parameters={"name": "fine"}
    )
    calls = [
        (carol, f"/api/requests/{waiting.uuid}/approve/", {"comemnt": "fine by me"}, "comemnt"),
        (oncall, "/api/incidents/", {"title": "checkout down", "severty": "high"}, "severty"),
    ]
    for user, url, body, field in calls:
        with changes_nothing():
            response = api_as(user).post(url, body, format="json")
        assert response.status_code == 400, (url, response.content)
        assert "Unknown field" in response.json()[field][0]
    # Every serializer the API reads input with is strict.
    inputs = {
        catalog_api.DeprecateSerializer,
        catalog_api.RequestCreateSerializer,
        catalog_api.DecisionSerializer,
        catalog_api.BreakGlassSerializer,
        catalog_api.PolicySerializer,
        catalog_api.PolicyTestSerializer,
        catalog_api.QuotaSerializer,
        catalog_api.BudgetSerializer,
        provisioning_api.ExtendSerializer,
        provisioning_api.RunbookRunCreateSerializer,
        provisioning_api.CommentSerializer,
        platform_api.BillingUploadSerializer,
        platform_api.OncallActionSerializer,
        platform_api.IncidentSerializer,
        platform_api.RatingInputSerializer,
        slo_api.SLOSerializer,
    }
    assert [s.__name__ for s in inputs if not issubclass(s, StrictInput)] == []
